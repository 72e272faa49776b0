"""Views: /admin/users/<id>/tokens: an account's API tokens, issue one (shown once), revoke.

A new token is rendered on the answer to the POST that made it and nowhere else: not flashed and
not kept in the session (Flask's session cookie is signed, not encrypted), and the page is sent
with ``Cache-Control: no-store`` so the browser does not keep it either.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.admin import bp
from portal.api import service
from portal.auth.reauth import recent_auth_required
from portal.extensions import db
from portal.forms import ActionForm, ServiceForm
from portal.models import User
from portal.permissions import role_required


class TokenForm(ServiceForm):
    """The name of a new token: what will use it, so it can be recognised and revoked later."""

    name = StringField(
        "Token name",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        description='What will use it, e.g. "Quarterly report workbook".',
        validators=[
            DataRequired("Give the token a name, e.g. the report or tool that will use it."),
            Length(
                max=service.NAME_MAX,
                message=f"Keep the name to {service.NAME_MAX} characters or fewer.",
            ),
        ],
    )


def _list_page(user: User, form: TokenForm, status: int = 200):
    return render_template(
        "admin/tokens.html",
        user=user,
        tokens=service.tokens_of(user.id),
        eligible=user.active and service.may_use_api(user),
        form=form,
    ), status


@bp.get("/users/<int:user_id>/tokens")
@role_required("admin")
def tokens(user_id: int):
    """An account's API tokens, with Revoke buttons and the form to issue one."""
    return _list_page(db.get_or_404(User, user_id), TokenForm())


@bp.post("/users/<int:user_id>/tokens")
@role_required("admin")
@recent_auth_required("issue an API token", back="admin.tokens")
def issue_token(user_id: int):
    """Issue a token and show it this once (leader and funder accounts only)."""
    user = db.get_or_404(User, user_id)
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, plain = service.issue(user, form.name.data, current_user)
        except service.TokenError as exc:
            form.add_errors({exc.field: [str(exc)]})
        else:
            db.session.commit()
            page = render_template("admin/tokens_issued.html", user=user, token=token, plain=plain)
            response = make_response(page)
            response.headers["Cache-Control"] = "no-store"
            return response
    return _list_page(user, form, 422)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@role_required("admin")
def revoke_token(user_id: int, token_id: int):
    """Revoke one of the account's tokens: it stops working at once."""
    token = service.token_of(user_id, token_id)
    if token is None:
        abort(404)
    if ActionForm().validate_on_submit():
        label = f"“{token.name}” ({token.prefix}…)"
        if service.revoke(token, current_user):
            db.session.commit()
            flash(f"The token {label} is revoked: it no longer opens the API.", "success")
        else:
            flash(f"The token {label} was already revoked.", "info")
    return redirect(url_for("admin.tokens", user_id=user_id))
