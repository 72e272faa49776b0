"""Views: /account (two-factor status, sign out everywhere) and /account/two-factor/...

Recovery codes are rendered on the answer to the POST that made them and nowhere else: not
flashed, not kept in the session (a signed, unencrypted cookie), and sent with
``Cache-Control: no-store``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from portal import audit
from portal.auth import bp, reauth, twofactor
from portal.auth.account_forms import ConfirmCodeForm
from portal.auth.signin import account_key, failed, per_account
from portal.extensions import db, limiter
from portal.forms import ActionForm

ENROL_NONCE = "totp_enrol"


def _account_page(disable_form: ConfirmCodeForm | None = None, status: int = 200):
    user = current_user._get_current_object()
    enabled = twofactor.is_enabled(user)
    return render_template(
        "auth/account.html",
        enabled=enabled,
        required=twofactor.is_required(user),
        codes_left=twofactor.recovery_codes_left(user) if enabled else 0,
        signed_in_at=_instant(session.get("signed_in_at")),
        disable_form=disable_form or ConfirmCodeForm(formdata=None),
    ), status


def _instant(seconds) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if isinstance(seconds, int) else None


def _codes_page(codes: list[str], first_time: bool):
    response = make_response(
        render_template("auth/recovery_codes.html", codes=codes, first_time=first_time)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account")
@login_required
def account():
    """Two-factor sign-in and sessions for the signed-in person."""
    return _account_page()


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Set up two-factor (or move it to a new phone): scan, confirm a code, get recovery codes."""
    user = current_user._get_current_object()
    replacing = twofactor.is_enabled(user)
    nonce = session.get(ENROL_NONCE) or twofactor.new_enrolment_nonce()
    session[ENROL_NONCE] = nonce
    secret = twofactor.pending_secret(user, nonce)
    form = ConfirmCodeForm()
    if form.validate_on_submit():
        if replacing and not reauth.is_recent():
            return reauth.ask(url_for("auth.two_factor_setup"), "move two-factor to a new phone")
        try:
            codes = twofactor.enable(user, secret, form.code.data)
        except twofactor.TwoFactorError as exc:
            form.add_errors({"code": [exc.message]})
        else:
            session.pop(ENROL_NONCE, None)
            db.session.commit()
            return _codes_page(codes, first_time=True)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        replacing=replacing,
        qr=twofactor.qr_svg(twofactor.provisioning_uri(user, secret)),
        secret=twofactor.grouped(secret),
    ), (422 if request.method == "POST" else 200)


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
@reauth.recent_auth_required("make new recovery codes", back="auth.account")
def recovery_codes():
    """Replace the recovery codes (the old ones stop working) and show the new ones once."""
    user = current_user._get_current_object()
    if not twofactor.is_enabled(user):
        flash("Set up two-factor sign-in first.", "warning")
        return redirect(url_for("auth.account"))
    codes = twofactor.new_recovery_codes(user)
    audit.record("2fa.recovery_codes_replaced", "users", user.id, subject_id=user.id)
    db.session.commit()
    return _codes_page(codes, first_time=False)


@bp.route("/account/two-factor/disable", methods=["POST"])
@limiter.limit(per_account, key_func=account_key, deduct_when=failed)
@login_required
def two_factor_disable():
    """Turn two-factor off (roles where it is optional), after a current code."""
    form = ConfirmCodeForm()
    if not form.validate_on_submit():
        return _account_page(form, 422)
    user = current_user._get_current_object()
    try:
        twofactor.disable(user, form.code.data)
    except twofactor.TwoFactorError as exc:
        db.session.rollback()
        if isinstance(exc, twofactor.WrongCode):
            audit.record("2fa.failed_code", "users", user.id, subject_id=user.id, outcome="failed")
            db.session.commit()
        form.add_errors({"code": [exc.message]})
        return _account_page(form, 422)
    db.session.commit()
    flash("Two-factor sign-in is off. Your password alone now signs you in.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of this account, on every device, this one included."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("auth.account"))
    user = current_user._get_current_object()
    user.session_version += 1
    audit.record("auth.sign_out_everywhere", "users", user.id, subject_id=user.id)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out on every device. Sign in again to continue.", "info")
    return redirect(url_for("auth.login"))
