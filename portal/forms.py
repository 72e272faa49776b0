"""Form pieces shared across features."""

from flask import request
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice


class ActionForm(FlaskForm):
    """A form with nothing but a CSRF token, for one-button actions (approve, delete...)."""


MAX_ID = 2**31 - 1  # ids are 32-bit integer columns (PostgreSQL's integer)


def record_id(value) -> int:
    """A record id from a form field (a choice's coerce): ASCII digits within the id columns'
    range, else ValueError, which the form reports like any bad choice. int() alone accepts
    "²"-like digits and ids no column holds (SQLite then raises OverflowError)."""
    text = value.strip() if isinstance(value, str) else str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID):
        raise ValueError("Not a record id.")
    return int(text)


def record_ids(values) -> list[int]:
    """The record ids among ticked values (checkboxes); anything else is no record."""
    ids = []
    for value in values:
        try:
            ids.append(record_id(value))
        except ValueError:
            continue
    return ids


MAX_PAGE = 100_000


def requested_page() -> int:
    """The ?page= of a paged list, from 1 to MAX_PAGE (anything else: the nearest of those, or
    1). A bare int() of a 20-digit page overflows the database's OFFSET (a 500 before)."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class ServiceForm(FlaskForm):
    """A form that shows a service's refusal (messages by field) where it belongs.

    ``errors`` maps field names to messages; "" (or a name that is not a field) goes to the top
    of the form, in ``form_errors_extra``; ``aliases`` renames a service's field for this form.
    """

    form_errors_extra: list[str] | tuple = ()  # a list once add_errors has run

    def add_errors(
        self, errors: dict[str, list[str]], aliases: dict[str, str] | None = None
    ) -> None:
        extra = list(self.form_errors_extra)
        for name, messages in errors.items():
            name = (aliases or {}).get(name, name)
            field = self._fields.get(name) if name else None
            if isinstance(field, Field):
                field.errors = list(field.errors) + list(messages)
            else:
                extra.extend(messages)
        self.form_errors_extra = extra


class FieldErrors(Exception):
    """A refused change: messages by form field ("" for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


class Refusals(dict):
    """Messages gathered by field while checking a change, raised together as ``error``."""

    def __init__(self, error: type[FieldErrors]):
        super().__init__()
        self.error = error

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise self.error(dict(self))
