"""The counsellor's forms: weekly hours, a one-off slot, time off, cancelling, booking a request.

Several forms share the availability page, so each has a prefix (unique ids and names).
"""

from __future__ import annotations

from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from portal.counseling import availability as svc
from portal.forms import ServiceForm, choices, record_id
from portal.models import MODES
from portal.shifts.forms import LocalDateField, LocalTimeField

LENGTH = NumberRange(
    min=svc.MIN_MINUTES,
    max=svc.MAX_MINUTES,
    message=f"Choose a length between {svc.MIN_MINUTES} and {svc.MAX_MINUTES} minutes.",
)
MODE_MISSING = "Choose in person, phone or video."


class OptionalDateField(LocalDateField):
    """A date input that may be left blank (browsers send an empty string, not nothing)."""

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


def _mode_field() -> RadioField:
    return RadioField(
        "How you meet", choices=choices(MODES.items()), invalid_choice_message=MODE_MISSING
    )


def _location_field() -> StringField:
    return StringField(
        "Location (in person)",
        validators=[Length(max=svc.LOCATION_MAX)],
        description="Where you meet, e.g. “Room 2, 3500 Gravois Ave”.",
        render_kw={"maxlength": svc.LOCATION_MAX},
    )


def _link_field() -> StringField:
    return StringField(
        "Video link (video)",
        validators=[Length(max=svc.LINK_MAX)],
        description="The link the worker opens, starting with https://.",
        render_kw={"maxlength": svc.LINK_MAX, "inputmode": "url"},
    )


class RuleForm(ServiceForm):
    """Weekly hours, cut into slots."""

    weekday = SelectField(
        "Day of the week",
        coerce=int,
        choices=choices(enumerate(svc.WEEKDAY_NAMES)),
        validate_choice=False,
    )
    start_time = LocalTimeField("From", validators=[InputRequired("Enter the time you start.")])
    end_time = LocalTimeField("Until", validators=[InputRequired("Enter the time you finish.")])
    slot_minutes = IntegerField(
        "Session length (minutes)",
        default=50,
        validators=[InputRequired("Enter the session length in minutes."), LENGTH],
        render_kw={"inputmode": "numeric", "min": svc.MIN_MINUTES, "max": svc.MAX_MINUTES},
    )
    mode = _mode_field()
    location = _location_field()
    video_link = _link_field()
    valid_from = OptionalDateField("First day", description="Blank: from today.")
    valid_until = OptionalDateField("Last day", description="Optional. Blank: until you remove it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="rule", **kwargs)


class OneOffForm(ServiceForm):
    """A single slot at a local date and time."""

    day = LocalDateField("Date", validators=[InputRequired("Enter the date.")])
    time = LocalTimeField("Time", validators=[InputRequired("Enter the time.")])
    minutes = IntegerField(
        "Length (minutes)",
        default=50,
        validators=[InputRequired("Enter the length in minutes."), LENGTH],
        render_kw={"inputmode": "numeric", "min": svc.MIN_MINUTES, "max": svc.MAX_MINUTES},
    )
    mode = _mode_field()
    location = _location_field()
    video_link = _link_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="slot", **kwargs)


class TimeOffForm(ServiceForm):
    """Blocked time: from a local date and time until another."""

    start_day = LocalDateField("From date", validators=[InputRequired("Enter the first day.")])
    start_time = LocalTimeField(
        "From time", validators=[InputRequired("Enter the time it starts.")]
    )
    end_day = LocalDateField("Until date", validators=[InputRequired("Enter the last day.")])
    end_time = LocalTimeField("Until time", validators=[InputRequired("Enter the time it ends.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="off", **kwargs)


class CancelForm(ServiceForm):
    """The counsellor cancels a session with a message the worker receives by e-mail."""

    message = TextAreaField(
        "Message to the worker",
        validators=[
            InputRequired("Write a message to the worker: why, and what happens next."),
            Length(max=svc.MESSAGE_MAX, message="Keep the message under 1,000 characters."),
        ],
        description="Sent by e-mail with the session's time.",
        render_kw={"rows": 3},
    )
    withdraw = BooleanField(
        "Stop offering this time",
        description="Leave unticked to let another worker book the time.",
    )

    def __init__(self, *args, booking_id: int, **kwargs):
        super().__init__(*args, prefix=f"cancel-{booking_id}", **kwargs)


class BookForRequestForm(ServiceForm):
    """One of the counsellor's open slots for a support request's worker."""

    slot_id = RadioField(
        "Your open slots",
        coerce=record_id,
        validate_choice=False,  # the service says whether it is still open, or just taken
        validators=[InputRequired("Choose one of your open slots.")],
    )

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.slot_id.choices = choices(
            (s.id, f"{svc.span_text(s.start_at, s.end_at)} · {s.mode_label}") for s in slots
        )
