"""The worker's counselling forms: the slot filter, cancelling, choosing a new time."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField
from wtforms.validators import ValidationError

from portal.forms import choices, record_id
from portal.models import MODES


class SlotFilterForm(FlaskForm):
    """Filter open slots by counsellor and mode (a GET form: no CSRF, nothing changes)."""

    class Meta:
        csrf = False

    counselor = SelectField("Counsellor", choices=[], validate_choice=False)
    mode = SelectField("How", choices=[], validate_choice=False)

    def __init__(self, *args, counsellors: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.counselor.choices = choices(
            [("", "Any counsellor")] + [(str(uid), name) for uid, name in counsellors]
        )
        self.mode.choices = choices([("", "Any way")] + list(MODES.items()))
        self._counsellor_ids = {uid for uid, _name in counsellors}

    def counselor_id(self) -> int | None:
        """The chosen counsellor's id, or None (any, or a value that is not a choice)."""
        value = self.counselor.data or ""
        return int(value) if value.isdigit() and int(value) in self._counsellor_ids else None

    def mode_value(self) -> str | None:
        """The chosen mode, or None (any, or a value that is not a mode)."""
        return self.mode.data if self.mode.data in MODES else None

    def args(self) -> dict:
        """The filter as query arguments (kept across links)."""
        return {
            k: v
            for k, v in (("counselor", self.counselor_id()), ("mode", self.mode_value()))
            if v is not None
        }


class CancelForm(FlaskForm):
    """Cancel a session; inside the free window, say you were called to an incident."""

    called_to_incident = BooleanField(
        "I was called to an incident",
        description="Late cancellations for an incident carry no penalty and do not count.",
    )


class RescheduleForm(FlaskForm):
    """Pick another open time for a session.

    The choice is not checked against the list shown: a time taken since the page loaded gets
    the service's clear "just taken" message instead of a generic one.
    """

    slot_id = RadioField("Choose a new time", coerce=record_id, choices=[], validate_choice=False)

    def __init__(self, *args, slots: list, label, **kwargs):
        super().__init__(*args, **kwargs)
        self.slot_id.choices = [(slot.id, label(slot)) for slot in slots]

    def validate_slot_id(self, field) -> None:
        """A time must be chosen."""
        if field.data is None:
            raise ValidationError("Choose one of the open times.")
