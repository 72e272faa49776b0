"""Views: /login/two-factor (the second sign-in step) and /reauth (prove it's you again).

Both are throttled like the password: per account and per client address, counting failures
only, and checked before any code or password is verified.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from portal import audit
from portal.auth import bp, reauth, sessions, twofactor
from portal.auth.account_forms import ReauthForm, TwoFactorForm
from portal.auth.routes import _minutes_until_reset
from portal.auth.service import is_safe_next
from portal.extensions import db, limiter

REAUTH_FAILED = "That password or code is not right. Try again."


def failed(response) -> bool:
    """Only refused attempts count toward the throttle."""
    return response.status_code != 302


def _pending_key() -> str:
    """Throttle key of the second step: the account half-way through signing in."""
    data = session.get(sessions.PENDING)
    uid = data.get("uid") if isinstance(data, dict) else None
    return f"login-2fa:{uid}"


def account_key() -> str:
    """Throttle key of checks by a signed-in person (re-authentication, turning 2FA off)."""
    return f"account:{current_user.get_id() if current_user.is_authenticated else '-'}"


def _per_ip():
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def per_account():
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(_per_ip, methods=["POST"], deduct_when=failed)
@limiter.limit(per_account, methods=["POST"], key_func=_pending_key, deduct_when=failed)
def two_factor():
    """The second sign-in step: a code from the app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    user, expired = sessions.pending_user()
    if user is None:
        if expired:
            flash("Signing in took more than 5 minutes. Please start again.", "warning")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        try:
            used_recovery = twofactor.verify_code_or_recovery(user, form.code.data)
        except twofactor.TwoFactorError as exc:
            audit.record("2fa.failed_code", "users", user.id, subject_id=user.id,
                         outcome="failed", actor=None)  # fmt: skip
            db.session.commit()
            form.add_errors({"code": [exc.message]})
            return render_template("auth/two_factor.html", form=form), 200
        target = sessions.pending_next()
        sessions.start(user)
        if used_recovery:
            left = twofactor.recovery_codes_left(user)
            flash(f"You signed in with a recovery code. You have {left} left; make new ones "
                  "on your Account page if you are running low.", "warning")  # fmt: skip
        db.session.commit()
        return redirect(target if is_safe_next(target) else url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/two_factor.html", form=form), status


@bp.route("/reauth", methods=["GET", "POST"], endpoint="reauth")
@limiter.limit(_per_ip, methods=["POST"], deduct_when=failed)
@limiter.limit(per_account, methods=["POST"], key_func=account_key, deduct_when=failed)
@login_required
def reauth_page():
    """Ask for the password (or a code) again before a sensitive action, then go back."""
    form = ReauthForm(next=request.args.get("next", ""))
    has_code = twofactor.is_enabled(current_user)
    if form.validate_on_submit():
        if _confirm(form, has_code):
            reauth.mark_recent()
            audit.record("auth.reauth", "users", current_user.id, subject_id=current_user.id)
            db.session.commit()
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("main.home"))
        audit.record("auth.reauth", "users", current_user.id, subject_id=current_user.id,
                     outcome="failed")  # fmt: skip
        db.session.commit()
        return render_template("auth/reauth.html", form=form, has_code=has_code), 200
    status = 422 if request.method == "POST" else 200
    return render_template("auth/reauth.html", form=form, has_code=has_code), status


def _confirm(form: ReauthForm, has_code: bool) -> bool:
    """Check the code (when given and two-factor is on) or else the password."""
    user = current_user._get_current_object()
    if has_code and form.code.data:
        try:
            twofactor.verify_code(user, form.code.data)
        except twofactor.TwoFactorError as exc:
            form.add_errors({"code": [exc.message]})
            return False
        return True
    if not form.password.data:
        form.add_errors({"password": ["Enter your password" + (
            ", or a code from your app." if has_code else ".")]})  # fmt: skip
        return False
    if user.check_password(form.password.data):
        return True
    form.add_errors({"password": [REAUTH_FAILED]})
    return False


def throttled_page(_error):
    """The second step or /reauth with a clear message, status 429 (from the 429 handler)."""
    message = "Too many wrong codes or passwords. Wait a few minutes, then try again."
    minutes = _minutes_until_reset()
    if minutes:
        message += f" (about {minutes} min)"
    if request.endpoint == "auth.reauth":
        form = ReauthForm(formdata=None, next=request.form.get("next", ""))
        form.add_errors({"": [message]})
        has_code = current_user.is_authenticated and twofactor.is_enabled(current_user)
        return render_template("auth/reauth.html", form=form, has_code=has_code), 429
    form = TwoFactorForm(formdata=None)
    form.add_errors({"": [message]})
    return render_template("auth/two_factor.html", form=form), 429
