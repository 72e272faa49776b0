"""Views: /admin/users (list, new, edit, activate, deactivate, send link, reset two-factor)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import audit
from portal.admin import bp
from portal.admin import service as svc
from portal.admin.forms import DeactivateForm, UserForm
from portal.auth import twofactor
from portal.auth.reauth import recent_auth_required
from portal.extensions import db
from portal.forms import ActionForm, requested_page
from portal.mail import send_mail
from portal.models import User
from portal.permissions import role_required


def _form(user: User | None = None) -> UserForm:
    kwargs = {}
    if user is not None and request.method == "GET":
        kwargs = {
            "obj": user,
            "roles": sorted(user.roles),
            "site_id": user.site_id or 0,
        }
    return UserForm(organisations=svc.organisations(), sites=svc.all_sites(), **kwargs)


@bp.route("/")
@role_required("admin")
def index():
    """Administration home: straight to the people list."""
    return redirect(url_for("admin.users"))


@bp.route("/users")
@role_required("admin")
def users():
    """Everyone with an account, filterable by organisation, status and name."""
    org = request.args.get("organisation", type=int)
    status = request.args.get("status", "")
    q = request.args.get("q", "")
    page = db.paginate(svc.users_select(org, status, q), page=requested_page(), per_page=50,
                       error_out=False)  # fmt: skip
    return render_template(
        "admin/users.html",
        page=page,
        organisations=svc.organisations(),
        filters={"organisation": org, "status": status, "q": q},
    )


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
@recent_auth_required("give an account its roles")
def new_user():
    """Create an account and e-mail the person a link to set their password."""
    form = _form()
    if form.validate_on_submit():
        try:
            user = svc.create_user(
                form.name.data,
                form.email.data,
                set(form.roles.data),
                form.organisation_id.data,
                form.site_id.data,
                form.started_on.data,
            )
        except svc.AccountError as exc:
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            if _send_invite(user):
                flash(
                    f"Account created. {user.email} has been sent a link to set a password.",
                    "success",
                )
            return redirect(url_for("admin.edit_user", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
@recent_auth_required("change an account")
def edit_user(user_id: int):
    """Change an account's details and roles."""
    user = db.get_or_404(User, user_id)
    form = _form(user)
    if form.validate_on_submit():
        try:
            svc.update_user(
                current_user,
                user,
                form.name.data,
                form.email.data,
                set(form.roles.data),
                form.organisation_id.data,
                form.site_id.data,
            )
        except svc.AccountError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Account saved.", "success")
            if not current_user.has_role("admin"):  # an admin who just stepped down
                return redirect(url_for("main.home"))
            return redirect(url_for("admin.edit_user", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return (
        render_template("admin/user_form.html", form=form, user=user,
                        deactivate_form=DeactivateForm(formdata=None),
                        engagements=svc.engagements(user),
                        two_factor_on=twofactor.is_enabled(user),
                        two_factor_required=twofactor.is_required(user)),
        status,
    )  # fmt: skip


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@role_required("admin")
def deactivate_user(user_id: int):
    """Deactivate an account: it can no longer sign in and its sessions end."""
    return _set_active(user_id, False)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@role_required("admin")
def reactivate_user(user_id: int):
    """Reactivate an account."""
    return _set_active(user_id, True)


def _send_invite(user: User) -> bool:
    """E-mail a password link; on a mail failure tell the admin instead of failing the page."""
    try:
        svc.send_invite(user)
    except OSError:  # smtplib errors are OSErrors too
        current_app.logger.exception("Could not send the password link to %s", user.email)
        flash(
            f"The e-mail to {user.email} could not be sent. The account is saved: try "
            '"Send a new password link" later, or check the mail settings.',
            "warning",
        )
        return False
    audit.record("user.password_link_sent", "users", user.id, subject_id=user.id)
    db.session.commit()
    return True


def _set_active(user_id: int, active: bool):
    user = db.get_or_404(User, user_id)
    form = DeactivateForm() if not active else ActionForm()
    if not form.validate_on_submit():
        for messages in form.errors.values():
            flash(" ".join(messages), "warning")
    else:
        try:
            if active:
                svc.set_active(current_user, user, True)
            else:
                svc.set_active(current_user, user, False, form.last_day.data, form.reason.data)
        except svc.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "warning")
        else:
            db.session.commit()
            flash(f"{user.name} is {'active again' if active else 'deactivated'}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/send-link", methods=["POST"])
@role_required("admin")
def send_link(user_id: int):
    """E-mail a fresh one-time link to set a password."""
    user = db.get_or_404(User, user_id)
    if ActionForm().validate_on_submit():
        if not user.active:
            flash("Reactivate the account before sending a link.", "warning")
        elif _send_invite(user):
            flash(f"A link to set a password has been sent to {user.email}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-two-factor", methods=["POST"])
@role_required("admin")
@recent_auth_required("reset someone's two-factor sign-in", back="admin.edit_user")
def reset_two_factor(user_id: int):
    """Turn off someone's two-factor sign-in (lost phone, no recovery codes): they set it up
    again at their next sign-in."""
    user = db.get_or_404(User, user_id)
    if ActionForm().validate_on_submit():
        try:
            twofactor.reset_by_admin(current_user, user)
        except twofactor.TwoFactorError as exc:
            flash(exc.message, "warning")
        else:
            db.session.commit()
            _tell_two_factor_reset(user)
            flash(
                f"{user.name}'s two-factor sign-in is reset and they are signed out everywhere. "
                "At their next sign-in with their password they set up their new phone.",
                "success",
            )
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _tell_two_factor_reset(user: User) -> None:
    """E-mail the person, so a reset they did not ask for does not go unnoticed."""
    try:
        send_mail(
            user.email,
            "Your FairShift two-factor sign-in was reset",
            f"Hello {user.name},\n\n"
            f"An administrator ({current_user.name}) has reset your two-factor sign-in and "
            "signed you out everywhere. The next time you sign in with your password, FairShift "
            "asks you to set up your authenticator app again.\n\n"
            "If you did not ask for this, tell your administrator straight away.\n",
        )
    except OSError:  # smtplib errors are OSErrors too
        current_app.logger.exception("Could not tell %s about their two-factor reset", user.email)
        flash(f"The e-mail telling {user.email} about it could not be sent.", "warning")
