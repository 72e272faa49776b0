"""Views: /login, /logout, /set-password/<token>."""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal.auth import bp
from portal.auth.forms import LoginForm, SetPasswordForm
from portal.auth.service import (
    authenticate,
    is_safe_next,
    normalise_email,
    user_for_password_token,
)
from portal.extensions import db, limiter

LOGIN_FAILED = "That e-mail and password don't match an active account."


def _account_key() -> str:
    """Throttle key for one account: the e-mail typed (whether or not it exists)."""
    return "login-account:" + normalise_email(request.form.get("email", ""))


def _failed(response) -> bool:
    """Only failed sign-ins count toward the throttle."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_failed,
)
def login():
    """Sign in with e-mail and password."""
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # nothing from before sign-in carries over
            login_user(user)
            session.permanent = True
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("main.home"))
        form.password.errors.append(LOGIN_FAILED)
        return render_template("auth/login.html", form=form), 200
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def throttled_login_page(error):
    """The sign-in page with a clear message, status 429 (called by the 429 error handler)."""
    form = LoginForm(
        formdata=None,
        email=request.form.get("email", ""),
        next=request.form.get("next") or request.args.get("next", ""),
    )
    message = "Too many failed sign-ins. Wait a few minutes, then try again."
    minutes = _minutes_until_reset()
    if minutes:
        message += f" (about {minutes} min)"
    # An unvalidated form's errors are an immutable tuple: replace, don't append.
    form.password.errors = [message]
    return render_template("auth/login.html", form=form), 429


def _minutes_until_reset() -> int | None:
    """Whole minutes until the breached limit lets this caller try again, if known."""
    try:
        reset_at = limiter.current_limit.reset_at if limiter.current_limit else None
    except Exception:  # noqa: BLE001 - the storage may be unreachable; the page still renders
        return None
    if not reset_at:
        return None
    return max(1, round((reset_at - time.time()) / 60))


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST only, with a CSRF token)."""
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Choose a password from a one-time link (a new account, or a reset sent by an admin)."""
    user = user_for_password_token(token, current_app.config["INVITE_TOKEN_HOURS"])
    if user is None:
        return render_template("auth/link_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        db.session.commit()
        session.clear()
        login_user(user)
        session.permanent = True
        flash("Your password is set. Welcome to FairShift.", "success")
        return redirect(url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user), status
