"""The exposure form: a few taps on a phone, no JavaScript needed."""

from __future__ import annotations

from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.forms import ServiceForm, choices
from portal.models import EXPOSURE_CATEGORIES, SEVERITY_WORDS
from portal.shifts.forms import LocalDateField, LocalTimeField
from portal.wellbeing.exposure_service import NOTE_MAX, ExposureInput, shift_label

NO_SHIFT = 0


class PlainRadioField(RadioField):
    """A radio group whose refusals say what to do instead of "Not a valid choice"."""

    def __init__(self, label, *, choose: str, **kwargs):
        super().__init__(label, validators=[InputRequired(choose)], **kwargs)
        self.choose = choose

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.choose) from exc

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(self.choose) from exc


def _shift_choice(value) -> int | None:
    """The shift select's value: 0 for "No shift", -1 for anything that is not a number."""
    if value is None or value == "":
        return NO_SHIFT
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _severity_label(level: int, words: str) -> str:
    return f"{level} – {words}"


class ExposureForm(ServiceForm):
    """Log an exposure: what happened, how heavy, when, on which shift, a private note."""

    category = PlainRadioField(
        "What happened?",
        choose="Choose what happened.",
        choices=choices(EXPOSURE_CATEGORIES.items()),
    )
    severity = PlainRadioField(
        "How heavy was it?",
        choose="Choose how heavy it was, from 1 to 5.",
        coerce=int,
        choices=choices((k, _severity_label(k, v)) for k, v in SEVERITY_WORDS.items()),
    )
    day = LocalDateField("Date", validators=[InputRequired("Enter the date it happened.")])
    clock = LocalTimeField("Time", validators=[InputRequired("Enter the time it happened.")])
    shift_id = SelectField(
        "On which shift?",
        coerce=_shift_choice,
        validate_choice=False,  # the service checks the shift is the worker's own
        description="Optional. Your shifts of the last three days.",
    )
    note = TextAreaField(
        "Private note",
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message="Keep the note under 2,000 characters."),
        ],
        description="Optional. Only you can read it.",
        render_kw={"rows": 4, "maxlength": NOTE_MAX},
    )

    def __init__(self, *args, shifts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.shift_id.choices = choices(
            [(NO_SHIFT, "No shift")] + [(s.id, shift_label(s)) for s in shifts]
        )

    def to_input(self) -> ExposureInput:
        """The typed values for the service."""
        shift_id = self.shift_id.data
        return ExposureInput(
            category=self.category.data,
            severity=self.severity.data,
            day=self.day.data,
            clock=self.clock.data,
            shift_id=None if shift_id in (None, NO_SHIFT) else shift_id,
            note=self.note.data or "",
        )
