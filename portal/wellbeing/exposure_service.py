"""The rules of trauma exposures: logging, the after-incident offer, history, deletion.

Plain arguments in, model objects out, ExposureError for refusals. Services never commit; the
view that called them does. Nothing here writes wellbeing content anywhere but the exposure row
(audit events name the record, never what it says).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal import audit
from portal.extensions import db
from portal.models import EXPOSURE_CATEGORIES, SEVERITY_WORDS, Exposure, Shift, SupportRequest, User
from portal.timeutil import (
    NonexistentLocalTime,
    local_to_utc,
    local_today,
    local_zone,
    month_bounds_utc,
    to_local,
    utcnow,
)
from portal.wellbeing.requests import after_incident_urgency, create_request

# A phone's clock and the server's may disagree a little; further ahead is a typing slip.
FUTURE_SLACK = timedelta(minutes=15)
# Which shifts the form offers to link: those of the last three days.
SHIFT_WINDOW = timedelta(days=3)
EARLIEST_YEAR = 2000
NOTE_MAX = 2000
MONTHS_SHOWN = 12


class ExposureError(Exception):
    """A refused exposure: messages by form field ("" for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


@dataclass
class ExposureInput:
    """What a worker enters: category, severity, local date and time, shift, note."""

    category: str | None
    severity: int | None
    day: date | None
    clock: time | None
    shift_id: int | None = None
    note: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


# --- queries ----------------------------------------------------------------------------------


def recent_shifts(worker: User, now: datetime | None = None) -> list[Shift]:
    """The worker's shifts of the last three days (still running ones too), newest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Shift)
            .where(
                Shift.worker_id == worker.id,
                Shift.end_at >= now - SHIFT_WINDOW,
                Shift.start_at <= now + FUTURE_SLACK,
            )
            .options(joinedload(Shift.site))
            .order_by(Shift.start_at.desc(), Shift.id.desc())
        )
    )


def shift_label(shift: Shift) -> str:
    """How a shift reads in the form's list: "Tue Nov 24, 09:00-17:00 · Dutchtown"."""
    start, end = to_local(shift.start_at), to_local(shift.end_at)
    return f"{start:%a %b %-d, %H:%M}–{end:%H:%M} · {shift.site.name}"


def history_select(worker: User) -> sa.Select:
    """The worker's own exposures, newest first."""
    return (
        sa.select(Exposure)
        .where(Exposure.worker_id == worker.id)
        .order_by(Exposure.occurred_at.desc(), Exposure.id.desc())
    )


@dataclass
class MonthCount:
    """One local calendar month of the history table."""

    year: int
    month: int
    count: int

    @property
    def label(self) -> str:
        return date(self.year, self.month, 1).strftime("%B %Y")


def _last_months(today: date, months: int) -> list[tuple[int, int]]:
    """(year, month) of the current local month and the ones before it, oldest first."""
    index = today.year * 12 + today.month - 1
    return [divmod(i, 12) for i in range(index - months + 1, index + 1)]


def monthly_counts(
    worker: User, months: int = MONTHS_SHOWN, now: datetime | None = None
) -> list[MonthCount]:
    """How many exposures the worker logged in each of the last local months, oldest first.

    One query, grouped in SQL. Local month boundaries (daylight saving included) are computed in
    Python as UTC instants and compared in a CASE, which reads the same on SQLite and PostgreSQL.
    """
    zone = local_zone()
    spans = [
        (y, m + 1, *month_bounds_utc(y, m + 1, zone))
        for y, m in _last_months(to_local(now or utcnow(), zone).date(), months)
    ]
    bucket = sa.case(
        *[(Exposure.occurred_at < end, i) for i, (_y, _m, _start, end) in enumerate(spans)],
        else_=len(spans) - 1,
    ).label("bucket")
    rows = db.session.execute(
        sa.select(bucket, sa.func.count())
        .where(
            Exposure.worker_id == worker.id,
            Exposure.occurred_at >= spans[0][2],
            Exposure.occurred_at < spans[-1][3],
        )
        .group_by(bucket)
    ).all()
    counts = {int(b): int(n) for b, n in rows}
    return [MonthCount(y, m, counts.get(i, 0)) for i, (y, m, _s, _e) in enumerate(spans)]


# --- changes ----------------------------------------------------------------------------------


def _check(worker: User, data: ExposureInput) -> datetime | None:
    """Validate an exposure; return its UTC instant or raise ExposureError with every problem."""
    if data.category not in EXPOSURE_CATEGORIES:
        data.refuse("category", "Choose what happened.")
    if data.severity not in SEVERITY_WORDS:
        data.refuse("severity", "Choose how heavy it was, from 1 to 5.")
    if len(data.note) > NOTE_MAX:
        data.refuse("note", "Keep the note under 2,000 characters.")

    occurred = None
    future = "That time is still to come. Enter when it happened."
    if data.day is None:
        data.refuse("day", "Enter the date it happened.")
    elif data.clock is None:
        data.refuse("clock", "Enter the time it happened.")
    elif data.day.year < EARLIEST_YEAR:
        data.refuse("day", "Enter the date it happened, like 2026-11-26.")
    elif data.day > local_today() + timedelta(days=1):
        data.refuse("day", future)
    else:
        try:
            occurred = local_to_utc(data.day, data.clock, local_zone())
        except NonexistentLocalTime as exc:
            data.refuse(
                "clock",
                f"{exc}: the clocks skip that hour. "
                "Enter the time the clock showed after the change.",
            )
        except OverflowError:
            data.refuse("day", "Enter the date it happened, like 2026-11-26.")
    if occurred is not None and occurred > utcnow() + FUTURE_SLACK:
        data.refuse("clock", future)
        occurred = None

    if data.shift_id is not None:
        # Scoped in the query: someone else's shift and no shift at all read the same.
        allowed = {s.id for s in recent_shifts(worker)}
        if data.shift_id not in allowed:
            data.refuse(
                "shift_id", "Choose one of your own shifts from the last three days, or No shift."
            )

    if data.errors:
        raise ExposureError(data.errors)
    return occurred


def log_exposure(worker: User, data: ExposureInput) -> Exposure:
    """Save an exposure; a critical one gets the after-incident offer (SPEC §3, §4)."""
    data.note = (data.note or "").replace("\x00", "").strip()
    occurred = _check(worker, data)
    exposure = Exposure(
        worker_id=worker.id,
        organisation_id=worker.organisation_id,
        occurred_at=occurred,
        shift_id=data.shift_id,
        category=data.category,
        severity=data.severity,
        note=data.note,
    )
    if exposure.is_critical:
        exposure.offer_status = "offered"
    db.session.add(exposure)
    db.session.flush()
    return exposure


def _claim_offer(exposure: Exposure, from_statuses: tuple[str, ...], to_status: str) -> bool:
    """Move the offer between states in one conditional UPDATE (a double tap changes it once)."""
    result = db.session.execute(
        sa.update(Exposure)
        .where(Exposure.id == exposure.id, Exposure.offer_status.in_(from_statuses))
        .values(offer_status=to_status)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(exposure)
    return result.rowcount == 1


def accept_offer(worker: User, exposure: Exposure) -> SupportRequest | None:
    """Yes to a talk: an after-incident support request, once; the request if one was made.

    Severity 5 makes it urgent (contact the same day); other critical incidents promise contact
    within the soon window (72 hours). A worker who said "Not now" and changes their mind (an
    old page's button) is still heard.
    """
    if not _claim_offer(exposure, ("offered", "declined"), "accepted"):
        return None
    return create_request(
        worker,
        "after_incident",
        urgency=after_incident_urgency(exposure.severity),
        source="after_incident",
        exposure_id=exposure.id,
    )


def offer_request(worker: User, exposure: Exposure) -> SupportRequest | None:
    """The request the worker's yes to this incident's offer made (None if it is gone)."""
    return db.session.scalar(
        sa.select(SupportRequest)
        .where(SupportRequest.exposure_id == exposure.id, SupportRequest.worker_id == worker.id)
        .order_by(SupportRequest.id)
        .limit(1)
    )


def decline_offer(exposure: Exposure) -> bool:
    """Not now: the offer is not shown again for this incident. True if it changed."""
    return _claim_offer(exposure, ("offered",), "declined")


def delete_exposure(worker: User, exposure: Exposure) -> None:
    """Really delete; the audit trail says that a record went, never what it said."""
    exposure_id = exposure.id
    db.session.delete(exposure)
    db.session.flush()
    audit.record("exposure.deleted", "exposures", exposure_id, subject_id=worker.id, actor=worker)
