"""Training forms: a course, a requirement, a session held and who attended."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import ServiceForm, record_id
from portal.hr.forms import NumberField
from portal.shifts.forms import LocalDateField, LocalTimeField


def optional_id(value):
    """A chosen record id, or None for the placeholder (the service says what is missing)."""
    if value in (None, ""):
        return None
    return record_id(value)


class WholeNumberField(IntegerField):
    """A whole number, blank for none; a typo gets a message that says what to type."""

    def __init__(self, label=None, validators=None, example="12", **kwargs):
        render_kw = {"inputmode": "numeric", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.example = example

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        text = valuelist[0].strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 6):
            raise ValueError(f"Enter a whole number, like {self.example}.")
        self.data = int(text)


class CourseForm(ServiceForm):
    """A course: its name, the hours that complete it, how often it is renewed."""

    name = StringField(
        "Course name",
        validators=[Length(max=120, message="Keep the name under 120 characters.")],
        render_kw={"required": True, "autocomplete": "off"},
    )
    hours = NumberField(
        "Hours to complete", money=False, example="8",
        description="The hours of sessions that complete it; they can be spread over several "
        "sessions (e.g. 40 for foundations).",
    )  # fmt: skip
    renewal_months = WholeNumberField(
        "Renew every (months)",
        description="12 for yearly, 24 for every two years. Leave blank for a course taken once.",
    )
    description = TextAreaField("Description", description="Optional.", render_kw={"rows": 2})
    active = BooleanField("Active (required and offered)", default=True)
    submit = SubmitField("Save course")


class RequirementForm(ServiceForm):
    """Require a course of a job title, or of everyone."""

    job_title = StringField(
        "Job title",
        description="Leave blank to require it of everyone. Must match the job title HR gives "
        "each worker.",
        render_kw={"list": "job-titles", "autocomplete": "off"},
    )
    due_within_days = WholeNumberField(
        "New staff take it within (days of hire)",
        example="90",
        description="Optional: e.g. 90 for foundations in a new worker's first three months.",
    )
    submit = SubmitField("Add requirement")


class AttendeesForm(ServiceForm):
    """Who attended (checkboxes)."""

    worker_ids = SelectMultipleField(
        "Who attended",
        coerce=record_id,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    submit = SubmitField("Add attendees")


class SessionForm(AttendeesForm):
    """A session held: course, site, date and times, trainer, and who attended."""

    course_id = SelectField("Course", coerce=optional_id, validate_choice=False)
    site_id = SelectField("Site", coerce=optional_id, validate_choice=False)
    day = LocalDateField("Date", validators=[InputRequired("Enter the session's date.")])
    start_time = LocalTimeField("Start", validators=[InputRequired("Enter the start time.")])
    end_time = LocalTimeField("End", validators=[InputRequired("Enter the end time.")])
    break_minutes = WholeNumberField("Unpaid break (minutes)", example="30", default=0)
    trainer = StringField(
        "Trainer", validators=[Length(max=120, message="Keep it under 120 characters.")],
        render_kw={"required": True},
    )  # fmt: skip
    submit = SubmitField("Record session")
