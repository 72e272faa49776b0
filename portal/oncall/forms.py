"""On-call forms: a rota period, a swap request, a note with a decision, a reason to stop."""

from __future__ import annotations

from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import ServiceForm, choices, record_id
from portal.oncall.service import MAX_REASON, PeriodInput
from portal.shifts.forms import LocalDateField, LocalTimeField

_NOTE_LENGTH = Length(max=MAX_REASON, message=f"Keep the note under {MAX_REASON} characters.")


class PeriodForm(ServiceForm):
    """Put a worker on call from a local date and time to another."""

    worker_id = SelectField("Worker", coerce=record_id,
                            validators=[InputRequired("Choose a worker.")])  # fmt: skip
    start_day = LocalDateField("Starts on", validators=[InputRequired("Enter the start date.")])
    start_time = LocalTimeField("Start time", validators=[InputRequired("Enter the start time.")])
    end_day = LocalDateField("Ends on", validators=[InputRequired("Enter the end date.")])
    end_time = LocalTimeField("End time", validators=[InputRequired("Enter the end time.")])
    submit = SubmitField("Add to the rota")

    def __init__(self, *args, workers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.worker_id.choices = choices((w.id, w.name) for w in workers)

    def to_input(self) -> PeriodInput:
        return PeriodInput(
            self.worker_id.data, self.start_day.data, self.start_time.data,
            self.end_day.data, self.end_time.data,
        )  # fmt: skip


class SwapForm(ServiceForm):
    """Ask a colleague to take a period."""

    to_worker_id = SelectField("Colleague", coerce=record_id,
                               validators=[InputRequired("Choose a colleague.")])  # fmt: skip
    reason = TextAreaField(
        "Note for your colleague",
        validators=[Optional(), _NOTE_LENGTH],
        description="Optional, e.g. a family event.",
        render_kw={"rows": 2},
    )
    submit = SubmitField("Ask to swap")

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.to_worker_id.choices = choices((u.id, u.name) for u in colleagues)


class NoteForm(ServiceForm):
    """An optional note with a yes or no (declining a swap)."""

    reason = TextAreaField("Note (optional)", validators=[Optional(), _NOTE_LENGTH],
                           render_kw={"rows": 2})  # fmt: skip


class StopForm(ServiceForm):
    """A supervisor's required reason to cancel a published period or end one under way.

    Prefixed with the period's id, so each row of the rota has a form of its own (ids, labels).
    """

    reason = TextAreaField(
        "Reason",
        validators=[InputRequired("Say why: its worker reads it in the mail."),
                    Length(max=MAX_REASON,
                           message=f"Keep the reason under {MAX_REASON} characters.")],
        description="Its worker reads it, e.g. site closed for the holiday.",
        render_kw={"rows": 2},
    )  # fmt: skip

    @classmethod
    def for_period(cls, period_id: int, **kwargs) -> StopForm:
        return cls(prefix=f"period-{period_id}", **kwargs)
