"""Views: /forgot-password (ask for a link by e-mail) and /forgot-password/sent.

The answer is the same whether or not the e-mail has an account, so the form cannot be used to
find out who works where. Requests are throttled per address and per e-mail typed (Flask-Limiter,
shared storage in production), which also caps the mail one person can be sent. The link leads
to /set-password/<token> (auth/routes.py): single use, PASSWORD_RESET_MINUTES long.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from portal.auth import bp
from portal.auth.forms import ForgotPasswordForm
from portal.auth.service import normalise_email, request_password_reset, send_password_reset
from portal.extensions import db, limiter

THROTTLED = "Too many requests for a link. Wait a while, then try again, or ask your administrator."


def _email_key() -> str:
    """Throttle key for one e-mail as typed (whether or not it has an account)."""
    return "reset-email:" + normalise_email(request.form.get("email", ""))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_EMAIL"],
    methods=["POST"],
    key_func=_email_key,
)
def forgot_password():
    """Ask for a link to choose a new password."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = request_password_reset(form.email.data)
        db.session.commit()  # the audit event, whatever happens to the mail
        if user is not None:
            try:
                send_password_reset(user)
            except OSError:  # smtplib errors are OSErrors; the answer must not change
                current_app.logger.exception("Could not send a password reset to user %s", user.id)
        return redirect(url_for("auth.forgot_password_sent"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/forgot-password/sent")
def forgot_password_sent():
    """The one answer to every request, account or not."""
    return render_template(
        "auth/forgot_password_sent.html", minutes=current_app.config["PASSWORD_RESET_MINUTES"]
    )


def throttled_reset_page(_error):
    """The form again with a clear message, status 429 (called by the 429 error handler)."""
    form = ForgotPasswordForm(formdata=None, email=request.form.get("email", ""))
    form.email.errors = [THROTTLED]  # an unvalidated form's errors are a tuple: replace
    return render_template("auth/forgot_password.html", form=form), 429
