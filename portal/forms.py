"""Form pieces shared across features."""

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


class ActionForm(FlaskForm):
    """A form with nothing but a CSRF token, for one-button actions (approve, delete...)."""


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]
