"""Safety forms: start a check-in, end it (with a code when set), settings, closing an alarm.

Values are taken as typed (strings) and checked by the service, which says what is wrong in
words a worker on a phone understands; the fields only carry labels and sizes.
"""

from __future__ import annotations

from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from portal.forms import ServiceForm, choices
from portal.safety import service as svc

_CODE = {"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*",
         "maxlength": svc.CODE_MAX, "size": 8}  # fmt: skip


class StartForm(ServiceForm):
    """Where, for how long, with whom."""

    place = StringField("Where are you going?", description="A street corner, a building, a "
                        "block: enough for someone to find you.",
                        render_kw={"maxlength": svc.MAX_PLACE, "autocomplete": "off"})  # fmt: skip
    minutes = RadioField(
        "Back in", choices=choices((str(m), f"{m} min") for m in svc.QUICK_MINUTES),
        validate_choice=False, default="30",
    )  # fmt: skip
    other_minutes = StringField(
        "Or type the minutes", description=f"{svc.MIN_CHECKIN_MINUTES} to "
        f"{svc.MAX_CHECKIN_MINUTES} (12 hours).",
        render_kw={"inputmode": "numeric", "size": 5, "autocomplete": "off"},
    )  # fmt: skip
    buddy_id = SelectField("Buddy (optional)", validate_choice=False,
                           description="A colleague alerted after your supervisor if you miss "
                           "the check-in.")  # fmt: skip
    submit = SubmitField("Start check-in")

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.buddy_id.choices = choices([("", "No buddy")]
                                        + [(str(u.id), u.name) for u in colleagues])

    def to_input(self) -> svc.StartInput:
        return svc.StartInput(self.place.data, self.minutes.data, self.other_minutes.data,
                              self.buddy_id.data)  # fmt: skip


class SafeForm(ServiceForm):
    """ "I'm safe" (the code field is shown only when the worker set codes)."""

    code = PasswordField("Your safe code", render_kw=_CODE)
    submit = SubmitField("I'm safe")


class ExtendForm(ServiceForm):
    """More time: the button pressed names the minutes."""

    minutes = StringField("Minutes")


class SettingsForm(ServiceForm):
    """Codes, emergency contact, location."""

    safe_code = PasswordField("Safe code", render_kw=_CODE,
                              description=f"{svc.CODE_MIN} to {svc.CODE_MAX} digits. Ends a "
                              "check-in.")  # fmt: skip
    safe_code_confirm = PasswordField("Safe code again", render_kw=_CODE)
    duress_code = PasswordField("Duress code", render_kw=_CODE,
                                description="Different digits. Looks exactly like the safe "
                                "code on your screen, but raises the alarm.")  # fmt: skip
    duress_code_confirm = PasswordField("Duress code again", render_kw=_CODE)
    remove_codes = BooleanField("Remove my codes (\"I'm safe\" becomes a plain button)")
    contact_name = StringField("Emergency contact's name", render_kw={"maxlength": 120})
    contact_phone = StringField("Their phone", render_kw={"inputmode": "tel", "maxlength": 30},
                                description="For a text message, e.g. (314) 555-0142.")  # fmt: skip
    contact_email = StringField("Their e-mail", render_kw={"inputmode": "email",
                                                           "maxlength": 254})  # fmt: skip
    share_location = BooleanField(
        "Share my location while a check-in runs",
        description="Off unless you turn it on. Your phone sends where it is, only while a "
        "check-in runs; your supervisor sees it only if an alarm is raised. Kept 24 hours.",
    )
    submit = SubmitField("Save safety settings")

    def to_input(self) -> svc.SettingsInput:
        return svc.SettingsInput(**{name: getattr(self, name).data for name in (
            "safe_code", "safe_code_confirm", "duress_code", "duress_code_confirm",
            "remove_codes", "contact_name", "contact_phone", "contact_email", "share_location",
        )})  # fmt: skip


class CloseForm(ServiceForm):
    """Close an alarm with how the worker was reached."""

    note = TextAreaField("How was the worker reached?", render_kw={"rows": 3},
                         description="Required, e.g. \"Reached by phone, safe.\"")  # fmt: skip
    submit = SubmitField("Close the alarm")
