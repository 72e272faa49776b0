"""Forms of the second sign-in step, re-authentication and the account page."""

from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.forms import ServiceForm

CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "autocapitalize": "none",
    "spellcheck": "false",
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class TwoFactorForm(ServiceForm):
    """The second sign-in step: a code from the app, or a recovery code."""

    code = StringField(
        "Code",
        filters=[_strip],
        validators=[
            DataRequired("Enter the 6-digit code from your app, or a recovery code."),
            Length(max=40),
        ],
        description="The 6-digit code your authenticator app shows now, or one of your "
        "recovery codes (like 1a2b-3c4d-5e6f-7a8b).",
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none"},
    )


class ConfirmCodeForm(ServiceForm):
    """A current code from the authenticator app (set-up, turning off)."""

    code = StringField(
        "6-digit code from the app",
        filters=[_strip],
        validators=[
            DataRequired("Enter the 6-digit code from your authenticator app."),
            Length(max=20),
        ],
        render_kw=CODE_ATTRS,
    )


class ReauthForm(ServiceForm):
    """The password again, or a code from the app."""

    password = PasswordField("Password", validators=[Length(max=200)])
    code = StringField(
        "Or a 6-digit code from your authenticator app",
        filters=[_strip],
        validators=[Length(max=20)],
        render_kw=CODE_ATTRS,
    )
    next = HiddenField()
