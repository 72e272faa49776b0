"""The WHO-5 check-in form and the weekly-reminder switch."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional, StopValidation

from portal.forms import choices
from portal.wellbeing import who5

CHOOSE_ANSWER = "Choose an answer for this statement."
NOTE_MAX = 2000


class AnswerField(RadioField):
    """One WHO-5 item: six answers, one required, with a single clear message when missing."""

    def __init__(self, label: str, **kwargs):
        super().__init__(
            label,
            choices=choices(who5.ANSWER_CHOICES),
            coerce=int,
            invalid_value_message=CHOOSE_ANSWER,
            invalid_choice_message=CHOOSE_ANSWER,
            **kwargs,
        )

    def pre_validate(self, form):
        if not self.raw_data or self.raw_data[0] in ("", None):
            raise StopValidation(CHOOSE_ANSWER)
        super().pre_validate(form)


class CheckInForm(FlaskForm):
    """Five WHO-5 items, an optional note, and two choices the worker makes freely."""

    item1 = AnswerField(who5.ITEMS[0])
    item2 = AnswerField(who5.ITEMS[1])
    item3 = AnswerField(who5.ITEMS[2])
    item4 = AnswerField(who5.ITEMS[3])
    item5 = AnswerField(who5.ITEMS[4])
    note = TextAreaField(
        "Anything you want to add",
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message="Keep the note under 2,000 characters."),
        ],
        description="Optional. Private to you, and to counsellors only if you let them in below.",
        render_kw={"rows": 4, "maxlength": NOTE_MAX},
    )
    wants_outreach = BooleanField(
        "I'd like someone to reach out",
        description="A counsellor or peer from the support team will contact you. "
        "Your employer is not told.",
    )
    share_with_counsellors = BooleanField(
        "Counsellors may read my check-ins",
        description="Without this, only you can read them (unless you ask someone to reach out). "
        "Your employer, supervisor and HR never can.",
    )

    @property
    def item_fields(self) -> list[AnswerField]:
        """The five WHO-5 items, in order."""
        return [self.item1, self.item2, self.item3, self.item4, self.item5]

    @property
    def answers(self) -> list[int]:
        """The five answers as ints (after validation)."""
        return [f.data for f in self.item_fields]


class ReminderForm(FlaskForm):
    """Switch the weekly check-in reminder on or off (the button says which)."""

    reminders = HiddenField(validators=[AnyOf(("on", "off"))])
