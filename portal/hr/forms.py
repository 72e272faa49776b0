"""HR forms: a rate change, the pay policy, a differential, the stipends."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import TextInput

from portal.forms import ServiceForm, choices
from portal.models import CLASSIFICATIONS, SHIFT_TYPES, WEEKDAYS
from portal.shifts.forms import LocalDateField, LocalTimeField

# "1,234.50" is a thousands separator; "18,50" is a decimal comma and would be read 100x too big.
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?$")


class NumberField(Field):
    """A number typed as text: "$18.50", "52,000" and " 40 " are read; "18,50" is refused.

    Kept as a Decimal (never a float). Blank means None; whether that is allowed is the
    service's call, so the message can say what is missing.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, money=True, example="18.50", **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.money = money
        self.example = example

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        if self.money:
            return f"{self.data:.2f}"
        return format(Decimal(self.data).normalize(), "f")

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        text = valuelist[0].strip().replace("$", "").replace(" ", "")
        if not text:
            return
        if "," in text:
            if not _THOUSANDS.match(text):
                raise ValueError(f"Use a dot for cents, like {self.example}.")
            text = text.replace(",", "")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"Enter a number like {self.example}.") from exc
        if not value.is_finite():
            raise ValueError(f"Enter a number like {self.example}.")
        self.data = value


class RateForm(ServiceForm):
    """A change of classification or rate from a date on."""

    effective_from = LocalDateField(
        "Takes effect on",
        validators=[InputRequired("Enter the date the change takes effect.")],
        description="A future date schedules the change (e.g. a raise).",
    )
    classification = RadioField(
        "Classification",
        choices=choices(CLASSIFICATIONS.items()),
        validators=[InputRequired("Choose a classification.")],
    )
    hourly_rate = NumberField(
        "Hourly rate ($ an hour)",
        description="For non-exempt employees and contractors. Leave blank for exempt staff.",
    )
    annual_salary = NumberField(
        "Annual salary ($ a year)",
        example="52,000.00",
        description="For exempt (salaried) employees only. Leave blank otherwise.",
    )
    # Required, with the message the service words (a back-dated change says why it asks).
    reason = TextAreaField(
        "Reason",
        validators=[Length(max=500, message="Keep the reason under 500 characters.")],
        description="Required. For a back-dated change, say why it reaches back, e.g. a "
        "starting rate that was never entered.",
        render_kw={"rows": 2, "required": True},
    )
    submit = SubmitField("Add change")

    @property
    def exempt(self) -> bool:
        return self.classification.data == "employee_exempt"

    @property
    def amount_field(self) -> NumberField:
        """The field whose amount the classification asks for."""
        return self.annual_salary if self.exempt else self.hourly_rate

    @property
    def amount(self) -> Decimal | None:
        return self.amount_field.data

    def validate(self, extra_validators=None) -> bool:
        """The amount must be in the field that matches the classification, and only there."""
        ok = super().validate(extra_validators)
        if self.classification.errors or self.classification.data not in CLASSIFICATIONS:
            return ok
        other = self.hourly_rate if self.exempt else self.annual_salary
        if other.errors:
            return False
        if other.data is not None:
            if self.exempt:
                message = "Exempt staff are paid an annual salary: leave the hourly rate blank."
            else:
                message = (
                    "Hourly staff and contractors have an hourly rate: leave the annual "
                    "salary blank, or choose the exempt classification."
                )
            other.errors = list(other.errors) + [message]
            return False
        return ok

    def add_errors(self, errors, aliases=None):
        super().add_errors(errors, {"amount": self.amount_field.name})


# Sunday first, as on a US calendar; values are date.weekday() (0 Monday ... 6 Sunday).
WEEKDAY_CHOICES = [(6, WEEKDAYS[6])] + [(i, WEEKDAYS[i]) for i in range(6)]


class PolicyForm(ServiceForm):
    """An organisation's workweek, pay periods and overtime."""

    workweek_start = SelectField(
        "Workweek starts on",
        coerce=int,
        choices=choices(WEEKDAY_CHOICES),
        description="At 00:00 local time. Overtime is counted per workweek.",
    )
    period_days = RadioField(
        "Pay period",
        coerce=int,
        choices=choices([(14, "Every two weeks (biweekly)"), (7, "Every week")]),
        validators=[InputRequired("Choose how often pay periods run.")],
    )
    period_anchor = LocalDateField(
        "Periods count from",
        validators=[InputRequired("Enter the date pay periods count from.")],
        description="The first day of any one pay period. It must be the workweek's first day.",
    )
    overtime_threshold = NumberField(
        "Overtime after (hours a week)",
        money=False,
        example="40",
        description="For non-exempt employees. The law allows 40 or fewer.",
    )
    overtime_multiplier = NumberField(
        "Overtime pay multiplier",
        money=False,
        example="1.5",
        description="1.5 is time and a half, the legal minimum.",
    )
    submit = SubmitField("Save pay policy")


ON_CALL_MODES = {
    "stipend": "Not restrictive: the worker may be at home or reachable by phone. Each on-call "
    "period earns the stipend below; call-backs are paid as hours worked.",
    "restrictive": "Restrictive: the worker must stay on the premises or so close they cannot "
    "use the time for themselves. All on-call time is hours worked (and counts for overtime).",
}


class OnCallForm(ServiceForm):
    """How on-call time is paid (29 CFR 785.17)."""

    on_call_mode = RadioField(
        "On-call time is",
        choices=choices(ON_CALL_MODES.items()),
        validators=[InputRequired("Choose how on-call time is paid.")],
    )
    on_call_stipend = NumberField(
        "Stipend per on-call period ($)",
        example="40.00",
        description="Not restrictive only: a fixed amount for each published on-call period, "
        "whatever its length. Blank for none.",
    )
    submit = SubmitField("Save on-call pay")


class DifferentialForm(ServiceForm):
    """Extra pay per hour inside a daily time window."""

    name = StringField(
        "Name",
        validators=[Length(max=80, message="Keep the name under 80 characters.")],
        description="What workers see on their statement, e.g. Nights.",
    )
    start_time = LocalTimeField("From", validators=[InputRequired("Enter the time it starts.")])
    end_time = LocalTimeField(
        "Until",
        validators=[InputRequired("Enter the time it ends.")],
        render_kw={"aria-describedby": "window-help"},
    )
    per_hour = NumberField("Extra per hour ($)", example="2.00")
    submit = SubmitField("Add differential")


class StipendForm(ServiceForm):
    """A stipend per shift of each type; blank or 0 means none."""

    submit = SubmitField("Save stipends")

    @property
    def amount_fields(self) -> list[NumberField]:
        return [self[key] for key in SHIFT_TYPES]

    def amounts(self) -> dict[str, Decimal | None]:
        return {key: self[key].data for key in SHIFT_TYPES}


for _key, _label in SHIFT_TYPES.items():
    setattr(StipendForm, _key, NumberField(f"{_label} ($ a shift)", example="40.00"))


class StandardForm(ServiceForm):
    """Choose a benchmark as the organisation's floor, or as a job title's target."""

    job_title = StringField(
        "Job title",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[Length(max=80, message="Keep the job title under 80 characters.")],
        render_kw={"list": "job-titles", "autocomplete": "off"},
    )
    benchmark_name = SelectField("Benchmark", validators=[DataRequired("Choose a benchmark.")])
    effective_from = LocalDateField(
        "From", validators=[InputRequired(message="Enter the date it applies from.")]
    )
    reason = TextAreaField(
        "Why this standard",
        validators=[Length(max=500, message="Keep the reason under 500 characters.")],
        render_kw={"rows": 2},
    )
    submit = SubmitField("Save")

    def __init__(self, *args, benchmarks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.benchmark_name.choices = choices(
            [("", "Choose…")] + [(b.name, f"{b.name}: ${b.hourly_usd}/h") for b in benchmarks]
        )


class JobTitleForm(FlaskForm):
    """A worker's job title (targets are chosen per job title)."""

    job_title = StringField(
        "Job title",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[Length(max=80, message="Keep the job title under 80 characters.")],
        render_kw={"list": "job-titles", "autocomplete": "off"},
    )
    submit = SubmitField("Save job title")


class HoldForm(ServiceForm):
    """Hold an approved shift back from pay, with the reason the worker will see."""

    reason = TextAreaField(
        "Why it is held",
        validators=[
            DataRequired("Say why the shift is held; the worker sees the reason."),
            Length(max=500, message="Keep the reason under 500 characters."),
        ],
        description="The worker sees this on their pay page, e.g. hours being checked with the "
        "supervisor.",
        render_kw={"rows": 2},
    )
    submit = SubmitField("Hold from pay")
