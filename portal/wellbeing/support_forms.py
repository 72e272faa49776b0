"""Support forms: the worker's request, and the counsellor's note and schedule."""

from __future__ import annotations

from datetime import date, timedelta

from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from portal import phone
from portal.forms import ServiceForm, choices
from portal.models import CONTACT_METHODS, SUPPORT_KINDS, URGENCIES
from portal.shifts.forms import LocalDateField, LocalTimeField
from portal.wellbeing import support_service as svc


class OptionalDateField(LocalDateField):
    """A date input that may be left blank (browsers send an empty string, not nothing)."""

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class SupportForm(ServiceForm):
    """Ask for support: a few taps on a phone, and a date only for a wellness day."""

    kind = RadioField(
        "What would help?",
        choices=choices(SUPPORT_KINDS.items()),
        invalid_choice_message="Choose what kind of support you would like.",
    )
    urgency = RadioField(
        "How soon?",
        choices=choices(URGENCIES.items()),
        invalid_choice_message="Choose how soon you would like to hear from someone.",
    )
    contact_method = RadioField(
        "How should someone contact you?",
        choices=choices(CONTACT_METHODS.items()),
        invalid_choice_message="Choose how you would like to be contacted.",
    )
    contact_time = StringField(
        "When is a good time?",
        validators=[
            Length(
                max=svc.CONTACT_TIME_MAX,
                message=f"Keep this under {svc.CONTACT_TIME_MAX} characters.",
            ),
        ],
        description="For example: evenings after 6, or any time. Not needed for today, as soon "
        "as possible.",
        render_kw={"autocomplete": "off", "maxlength": svc.CONTACT_TIME_MAX},
    )
    contact_phone = StringField(
        "Your number for a call or a text",
        validators=[Length(max=phone.PHONE_MAX, message=phone.PHONE_INVALID)],
        description="Optional, kept on your account. Only the counsellors see it, and only on "
        "a request where you choose a phone call or a text message.",
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": phone.PHONE_MAX},
    )
    wellness_date = OptionalDateField(
        "Day off (for a wellness day)",
        description=(
            f"Today or within the next {svc.WELLNESS_DAY_AHEAD} days. Your supervisor and HR "
            "see only that you are off that day, never why."
        ),
    )
    note = TextAreaField(
        "Anything you would like them to know",
        validators=[Length(max=svc.NOTE_MAX, message="Keep the note under 2,000 characters.")],
        description="Optional. Only you and the counsellors see this.",
        render_kw={"rows": 4},
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.wellness_date.render_kw = {
            "min": today.isoformat(),
            "max": (today + timedelta(days=svc.WELLNESS_DAY_AHEAD)).isoformat(),
        }

    def validate_contact_time(self, field) -> None:
        """Required, except for "today, as soon as possible" (which asks for nothing more)."""
        if self.urgency.data != "urgent" and not (field.data or "").strip():
            raise ValidationError(svc.CONTACT_TIME_MISSING)

    def validate_contact_phone(self, field) -> None:
        """A blank number keeps the saved one; anything typed must be a phone number."""
        try:
            phone.normalise(field.data)
        except phone.PhoneError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_wellness_date(self, field) -> None:
        """Required for a wellness day, today or later within the window; ignored otherwise."""
        if field.process_errors or self.kind.data != "wellness_day":
            return
        probe = svc.SupportInput(
            kind="wellness_day", urgency=None, contact_method=None, wellness_date=field.data
        )
        svc.check_wellness_date(probe, self.today)
        if probe.errors.get("wellness_date"):
            raise ValidationError(probe.errors["wellness_date"][0])

    def to_input(self) -> svc.SupportInput:
        """The chosen and typed values for the service."""
        return svc.SupportInput(
            kind=self.kind.data,
            urgency=self.urgency.data,
            contact_method=self.contact_method.data,
            contact_time=self.contact_time.data or "",
            note=self.note.data or "",
            wellness_date=self.wellness_date.data,
            contact_phone=(self.contact_phone.data or "").strip() or None,
        )


class ContactNumberForm(ServiceForm):
    """A private number: a worker's for counsellors to call or text, a counsellor's for alerts."""

    contact_phone = StringField(
        "Phone number",
        validators=[Length(max=phone.PHONE_MAX, message=phone.PHONE_INVALID)],
        description="For example (314) 555-0142. Leave it blank to remove the number.",
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": phone.PHONE_MAX},
    )

    def validate_contact_phone(self, field) -> None:
        """Blank (removes the number) or a phone number."""
        try:
            phone.normalise(field.data)
        except phone.PhoneError as exc:
            raise ValidationError(str(exc)) from exc


class NoteForm(ServiceForm):
    """A counsellor records contact made, or the plan."""

    body = TextAreaField(
        "Record contact",
        validators=[
            InputRequired(message="Write what happened, for example “Called, no answer.”"),
            Length(max=svc.NOTE_MAX, message="Keep the note under 2,000 characters."),
        ],
        description="The worker sees this note, with your first name and the time.",
        render_kw={"rows": 3},
    )


class ScheduleForm(ServiceForm):
    """When the counsellor and the worker will talk or meet (local date and time)."""

    day = LocalDateField("Date", validators=[InputRequired(message="Enter the date.")])
    time = LocalTimeField("Time", validators=[InputRequired(message="Enter the time.")])
