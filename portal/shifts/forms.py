"""The shift form and the supervisor's return form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import ServiceForm, choices
from portal.models import SHIFT_TYPES
from portal.shifts.service import ShiftInput


class LocalDateField(DateField):
    """A date input whose parse error says what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("Enter a date like 2026-11-26.") from exc


class LocalTimeField(TimeField):
    """A 24-hour time input whose parse error says what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("Enter a time like 21:30.") from exc


ZERO_OR_MORE = NumberRange(min=0, max=10_000, message="Enter a whole number, zero or more.")


def _count(label: str, description: str = "") -> IntegerField:
    return IntegerField(
        label,
        default=0,
        validators=[Optional(), ZERO_OR_MORE],
        description=description,
        render_kw={"inputmode": "numeric", "min": 0},
    )


class ShiftForm(ServiceForm):
    """Log or change a shift: a phone-friendly form that works without JavaScript."""

    day = LocalDateField(
        "Date", validators=[InputRequired(message="Enter the date the shift started.")]
    )
    start_time = LocalTimeField(
        "Start", validators=[InputRequired(message="Enter the start time.")]
    )
    end_time = LocalTimeField(
        "End",
        validators=[InputRequired(message="Enter the end time.")],
        render_kw={"aria-describedby": "overnight-help"},
    )
    site_id = SelectField("Site", coerce=int, validators=[DataRequired(message="Choose a site.")])
    shift_type = SelectField(
        "Type", choices=choices(SHIFT_TYPES.items()), validators=[DataRequired("Choose a type.")]
    )
    call_back = BooleanField(
        "Call-back while I was on call",
        description="Work you were called out for during a published on-call period: always "
        "paid as hours worked.",
    )
    break_minutes = IntegerField(
        "Unpaid break (minutes)",
        default=0,
        validators=[Optional(), ZERO_OR_MORE],
        render_kw={"inputmode": "numeric", "min": 0, "step": 5},
    )
    conflicts_interrupted = _count("Conflicts interrupted")
    individuals_engaged = _count("Individuals engaged")
    referrals = _count("Referrals made")
    note = TextAreaField(
        "Note",
        validators=[Optional(), Length(max=2000, message="Keep the note under 2,000 characters.")],
        description="Optional. Programme notes only; no names.",
        render_kw={"rows": 3},
    )
    submit = SubmitField("Save shift")

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.site_id.choices = choices((s.id, s.name) for s in sites)

    def to_input(self) -> ShiftInput:
        """The typed values for the service."""
        return ShiftInput(
            site_id=self.site_id.data,
            shift_type=self.shift_type.data,
            day=self.day.data,
            start=self.start_time.data,
            end=self.end_time.data,
            break_minutes=self.break_minutes.data or 0,
            conflicts_interrupted=self.conflicts_interrupted.data or 0,
            individuals_engaged=self.individuals_engaged.data or 0,
            referrals=self.referrals.data or 0,
            note=self.note.data or "",
            call_back=bool(self.call_back.data),
        )


class ReturnForm(FlaskForm):
    """Why a supervisor sends a shift back."""

    reason = TextAreaField(
        "Reason for returning",
        validators=[
            DataRequired(message="Say why, so the worker knows what to fix."),
            Length(max=1000, message="Keep the reason under 1,000 characters."),
        ],
        render_kw={"rows": 2},
    )
    submit = SubmitField("Return")
