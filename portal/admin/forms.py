"""The account form."""

from __future__ import annotations

from datetime import date

from wtforms import (
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import ServiceForm, choices
from portal.models import ROLE_LABELS, SEPARATION_REASONS


def _strip(value):
    """Surrounding spaces (a pasted address, a phone keyboard) are never meant."""
    return value.strip() if isinstance(value, str) else value


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes (rendered in a fieldset with a legend)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(ServiceForm):
    """Name, e-mail, roles, organisation and home site of an account."""

    name = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired("Enter the person's name."), Length(max=120)],
    )
    email = EmailField(
        "E-mail",
        filters=[_strip],
        validators=[
            DataRequired("Enter an e-mail address."),
            Email("Enter a valid e-mail address.", check_deliverability=False),
            Length(max=254),
        ],
    )
    roles = CheckboxesField("Roles", choices=choices(ROLE_LABELS.items()))
    organisation_id = SelectField("Organisation", coerce=int)
    site_id = SelectField(
        "Home site", coerce=int, description="Workers log shifts here by default."
    )
    started_on = DateField(
        "Start date",
        validators=[Optional()],
        description="For workers: the first day of work (today when left empty).",
    )
    submit = SubmitField("Save")

    def validate_started_on(self, field):
        if field.data and not date(1990, 1, 1) <= field.data <= date(2100, 1, 1):
            raise ValidationError("Enter a start date between 1990 and 2100.")

    def __init__(self, *args, organisations=(), sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = choices((o.id, o.name) for o in organisations)
        self.site_id.choices = choices(
            [(0, "No site")]
            + [
                (s.id, f"{s.name} ({s.organisation.name}){'' if s.active else ' - closed'}")
                for s in sites
            ]
        )


class DeactivateForm(ServiceForm):
    """Deactivating an account; for a worker, the separation's last day and reason."""

    last_day = DateField(
        "Last day worked",
        validators=[Optional()],
        description="For workers: today when left empty.",
    )
    reason = SelectField(
        "Reason for leaving", choices=choices(SEPARATION_REASONS.items()), default="resigned"
    )
    submit = SubmitField("Deactivate")


class OrganisationForm(ServiceForm):
    """An organisation's name, its kind (on creation) and, for a provider, its funder."""

    name = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired("Enter the organisation's name."), Length(max=120)],
    )
    kind = SelectField(
        "Kind",
        choices=choices([("provider", "Provider (runs the programme; has sites and workers)"),
                         ("funder", "Funder (sees the statistics of the providers it funds)")]),
    )  # fmt: skip
    funded_by_id = SelectField(
        "Funded by",
        coerce=int,
        description="The funder whose dashboard includes this provider's figures.",
    )
    submit = SubmitField("Save")

    def __init__(self, *args, funders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.funded_by_id.choices = choices([(0, "No funder")] + [(f.id, f.name) for f in funders])


class SiteForm(ServiceForm):
    """A new site of a provider."""

    name = StringField(
        "Site name",
        filters=[_strip],
        validators=[DataRequired("Enter the site's name."), Length(max=120)],
        description="A neighbourhood or area the programme serves.",
    )
    submit = SubmitField("Add site")
