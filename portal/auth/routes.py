"""Views: /login, /logout, /set-password/<token>."""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import audit
from portal.auth import bp, sessions
from portal.auth.forms import LoginForm, SetPasswordForm
from portal.auth.service import (
    INVITE,
    PasswordError,
    authenticate,
    change_password,
    normalise_email,
    password_link,
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
            # A new session (nothing from before carries over), or the second step first.
            response = sessions.begin_sign_in(user, form.next.data)
            db.session.commit()
            return response
        audit.record(
            "auth.sign_in",
            "users",
            outcome="failed",
            subject_id=sessions.account_id(form.email.data),
            actor=None,
        )
        db.session.commit()
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
        # With several windows breached (5 minutes, then the hour), the longest one decides.
        breached = [lim for lim in limiter.current_limits if lim.breached]
        if not breached and limiter.current_limit:
            breached = [limiter.current_limit]
        reset_at = max((lim.reset_at for lim in breached), default=None)
    except Exception:  # noqa: BLE001 - the storage may be unreachable; the page still renders
        return None
    if not reset_at:
        return None
    return max(1, round((reset_at - time.time()) / 60))


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST only, with a CSRF token); a copy of the session cookie dies with it."""
    sessions.end("auth.sign_out")
    db.session.commit()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Choose a password from a one-time link (an invitation, or a reset the person asked for).

    Then the person is signed in as at sign-in (the second factor asked first when they have
    one: the e-mailed link alone is not enough), on a new session; every other session has
    ended with the version bump.
    """
    user, purpose = password_link(token)
    if user is None:
        return render_template("auth/link_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            change_password(user, form.password.data)
        except PasswordError as exc:
            form.add_errors(exc.errors)
        else:
            response = sessions.begin_sign_in(user, "")
            db.session.commit()
            flash(
                "Your password is set. Welcome to FairShift."
                if purpose == INVITE
                else "Your new password is set. Every other session has been signed out.",
                "success",
            )
            return response
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/set_password.html", form=form, user=user, purpose=purpose
    ), status
