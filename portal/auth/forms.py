"""Sign-in and password forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

MIN_PASSWORD_LENGTH = 12


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(message="Enter your e-mail.")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
    next = HiddenField()
    submit = SubmitField("Sign in")


class SetPasswordForm(FlaskForm):
    """A new password, typed twice."""

    password = PasswordField(
        "New password",
        validators=[
            DataRequired(message="Choose a password."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters.",
            ),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words work well.",
    )
    confirm = PasswordField(
        "Type it again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("password", message="The two passwords differ."),
        ],
    )
    submit = SubmitField("Set password")
