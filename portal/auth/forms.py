"""Sign-in and password forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.auth import passwords
from portal.forms import ServiceForm

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(message="Enter your e-mail.")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
    next = HiddenField()
    submit = SubmitField("Sign in")


class SetPasswordForm(ServiceForm):
    """A new password, typed twice; the rules (length, common, e-mail) are the service's."""

    password = PasswordField(
        "New password",
        validators=[DataRequired(message="Choose a password.")],
        description=passwords.HELP,
    )
    confirm = PasswordField(
        "Type it again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("password", message="The two passwords differ."),
        ],
    )
    submit = SubmitField("Set password")


class ForgotPasswordForm(FlaskForm):
    """The e-mail of the account whose password is forgotten."""

    email = EmailField(
        "E-mail",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(message="Enter the e-mail you sign in with."),
            Email("Enter a valid e-mail address.", check_deliverability=False),
            Length(max=254, message="Enter a valid e-mail address."),
        ],
    )
    submit = SubmitField("Send me a link")
