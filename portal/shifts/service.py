"""The rules of shifts: validation, ownership and review scope, approval.

Plain arguments in, model objects out, ShiftError for refusals. Services never commit; the view
or CLI command that called them does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import EDITABLE_STATUSES, MAX_SHIFT_HOURS, SHIFT_TYPES, Shift, Site, User
from portal.pay.periods import Period, period_containing
from portal.timeutil import (
    NonexistentLocalTime,
    local_midnight_utc,
    local_span_to_utc,
    local_today,
    local_zone,
    month_bounds_utc,
    to_local,
    utcnow,
)

MAX_FUTURE = timedelta(days=1)


class ShiftError(Exception):
    """A refused shift: messages by form field ("" for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


@dataclass
class ShiftInput:
    """What a worker types: local date, start and end times, and the rest of the form."""

    site_id: int
    shift_type: str
    day: date
    start: time
    end: time
    break_minutes: int = 0
    conflicts_interrupted: int = 0
    individuals_engaged: int = 0
    referrals: int = 0
    note: str = ""
    call_back: bool = False
    on_call_period_id: int | None = None  # found by the service for a call-back
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


# --- queries and guards ---------------------------------------------------------------------


def org_sites(organisation_id: int) -> list[Site]:
    """The active sites of an organisation, by name."""
    return list(
        db.session.scalars(
            sa.select(Site)
            .where(Site.organisation_id == organisation_id, Site.active.is_(True))
            .order_by(Site.name)
        )
    )


def own_shift_or_404(worker: User, shift_id: int) -> Shift:
    """A shift of this worker, or 404 (whether it does not exist or is someone else's)."""
    shift = db.session.scalar(
        sa.select(Shift).where(Shift.id == shift_id, Shift.worker_id == worker.id)
    )
    if shift is None:
        abort(404)
    return shift


def review_scope(supervisor: User) -> list[sa.ColumnElement[bool]]:
    """Conditions for the shifts a supervisor reviews.

    Their organisation's workers at their site (all of the organisation's sites when the
    supervisor has none), never their own shifts.
    """
    conditions: list[sa.ColumnElement[bool]] = [
        Shift.organisation_id == supervisor.organisation_id,
        Shift.worker_id != supervisor.id,
    ]
    if supervisor.site_id is not None:
        conditions.append(
            Shift.worker_id.in_(sa.select(User.id).where(User.site_id == supervisor.site_id))
        )
    return conditions


def visible_shift_or_404(user: User, shift_id: int) -> Shift:
    """A shift the user may see: their own, or one in their review scope; otherwise 404."""
    visible = Shift.worker_id == user.id
    if user.has_role("supervisor"):
        visible = sa.or_(visible, sa.and_(*review_scope(user)))
    shift = db.session.scalar(sa.select(Shift).where(Shift.id == shift_id, visible))
    if shift is None:
        abort(404)
    return shift


def can_review(user: User, shift: Shift) -> bool:
    """Whether this user may approve or return this shift now."""
    if not user.has_role("supervisor") or shift.status != "submitted":
        return False
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Shift)
            .where(Shift.id == shift.id, *review_scope(user))
        )
        == 1
    )


def parse_month(value: str | None) -> tuple[int, int] | None:
    """ "2026-11" as (2026, 11); None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = datetime.strptime(value, "%Y-%m")
    except ValueError:
        return None
    return parsed.year, parsed.month


def worker_shifts_select(worker: User, month: tuple[int, int] | None = None) -> sa.Select:
    """A worker's shifts, newest first, optionally those starting in one local month."""
    query = sa.select(Shift).where(Shift.worker_id == worker.id)
    if month:
        start, end = month_bounds_utc(*month, local_zone())
        query = query.where(Shift.start_at >= start, Shift.start_at < end)
    return query.order_by(Shift.start_at.desc(), Shift.id.desc())


def pending_review_select(supervisor: User) -> sa.Select:
    """Submitted shifts awaiting this supervisor, oldest first."""
    return (
        sa.select(Shift)
        .where(Shift.status == "submitted", *review_scope(supervisor))
        .options(joinedload(Shift.worker), joinedload(Shift.site))
        .order_by(Shift.start_at, Shift.id)
    )


def current_period(organisation_id: int) -> Period:
    """The pay period holding today, under the organisation's pay policy (one query)."""
    from portal.pay.rates import policy_for

    policy = policy_for(organisation_id)
    return period_containing(local_today(), policy.period_anchor, policy.period_days)


@dataclass
class WorkerHome:
    """What a worker's home page shows."""

    period: Period
    approved_minutes: int
    pending_minutes: int
    returned_count: int
    recent: list[Shift]


def worker_home(worker: User) -> WorkerHome:
    """This period's hours (approved and pending) and recent shifts, in two queries."""
    zone = local_zone()
    period = current_period(worker.organisation_id)
    start = local_midnight_utc(period.start, zone)
    end = local_midnight_utc(period.end, zone)
    totals = db.session.execute(
        sa.select(
            sa.func.coalesce(
                sa.func.sum(sa.case((Shift.status == "approved", Shift.worked_minutes))), 0
            ),
            sa.func.coalesce(
                sa.func.sum(sa.case((Shift.status == "submitted", Shift.worked_minutes))), 0
            ),
            sa.func.count(sa.case((Shift.status == "returned", 1))),
        ).where(Shift.worker_id == worker.id, Shift.start_at >= start, Shift.start_at < end)
    ).one()
    recent = list(
        db.session.scalars(worker_shifts_select(worker).options(joinedload(Shift.site)).limit(5))
    )
    return WorkerHome(period, int(totals[0]), int(totals[1]), int(totals[2]), recent)


@dataclass
class ReviewSummary:
    """What a supervisor's home page shows."""

    waiting: int
    first: list[Shift]


def review_summary(supervisor: User) -> ReviewSummary:
    """How many shifts wait for this supervisor, and the oldest few."""
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Shift)
        .where(Shift.status == "submitted", *review_scope(supervisor))
    )
    first = list(db.session.scalars(pending_review_select(supervisor).limit(5)))
    return ReviewSummary(waiting or 0, first)


# --- validation and changes -----------------------------------------------------------------


def _check(worker: User, data: ShiftInput, exclude_id: int | None) -> tuple[datetime, datetime]:
    """Validate a shift; return its UTC start and end or raise ShiftError with every problem."""
    zone = local_zone()
    start = end = None
    try:
        start, end = local_span_to_utc(data.day, data.start, data.end, zone)
    except NonexistentLocalTime as exc:
        data.refuse(
            "start_time",
            f"{exc}: the clocks skip that hour. Enter the time the clock showed after the change.",
        )

    if data.shift_type not in SHIFT_TYPES:
        data.refuse("shift_type", "Choose a shift type.")
    site = db.session.get(Site, data.site_id) if data.site_id else None
    if site is None or site.organisation_id != worker.organisation_id or not site.active:
        data.refuse("site_id", "Choose one of your organisation's sites.")
    for name in ("break_minutes", "conflicts_interrupted", "individuals_engaged", "referrals"):
        if getattr(data, name) is None or getattr(data, name) < 0:
            data.refuse(name, "Enter zero or more.")

    if start is not None and end is not None:
        length = end - start
        if length <= timedelta(0):
            data.refuse("end_time", "The end must be after the start.")
        elif length > timedelta(hours=MAX_SHIFT_HOURS):
            data.refuse(
                "end_time",
                f"A shift can last at most {MAX_SHIFT_HOURS} hours; this one is "
                f"{length.total_seconds() / 3600:.2f}. Log a long day as two shifts.",
            )
        elif (data.break_minutes or 0) >= length.total_seconds() / 60:
            data.refuse("break_minutes", "The break must be shorter than the shift.")
        if start > utcnow() + MAX_FUTURE:
            data.refuse("day", "A shift can start at most one day from now.")

    if start is not None and end is not None and end > start and not data.errors:
        _lock_worker(worker)
        clash = db.session.scalar(
            sa.select(Shift)
            .where(
                Shift.worker_id == worker.id,
                Shift.start_at < end,
                Shift.end_at > start,
                Shift.id != (exclude_id or 0),
            )
            .limit(1)
        )
        if clash is not None:
            data.refuse(
                "",
                "This overlaps your shift of "
                f"{to_local(clash.start_at, zone):%a %b %-d %H:%M}-"
                f"{to_local(clash.end_at, zone):%H:%M}. Change the times or edit that shift.",
            )

    if data.call_back and not data.errors:
        data.on_call_period_id = _call_back_period(worker, data, start, end)
    if data.errors:
        raise ShiftError(data.errors)
    return start, end  # type: ignore[return-value]


def _call_back_period(worker: User, data: ShiftInput, start: datetime, end: datetime):
    """The published on-call period a call-back starts in (refused when there is none, or when
    a close already paid that time as restrictive hours worked: it would be paid twice)."""
    from portal.oncall.service import period_for_call_back
    from portal.pay.rates import policy_for

    period = period_for_call_back(worker, start, end)
    if period is None:
        data.refuse(
            "call_back",
            "You were not on call when this shift started (no published on-call period of "
            "yours holds it). Untick call-back, or ask your supervisor to check the rota.",
        )
        return None
    if (
        period.paid_in_period_id is not None
        and policy_for(worker.organisation_id).on_call_restrictive
    ):
        data.refuse(
            "call_back",
            "That on-call period is already paid as hours worked (on-call time is restrictive): "
            "its call-backs are paid in it. Ask HR if something is missing.",
        )
        return None
    return period.id


def _lock_worker(worker: User) -> None:
    """Serialise a worker's shift writes so two overlapping saves cannot both pass the check.

    PostgreSQL: a row lock on the worker. SQLite: writers already hold the database write lock
    (BEGIN IMMEDIATE), so this is a no-op there.
    """
    db.session.execute(sa.select(User.id).where(User.id == worker.id).with_for_update())


def _apply(shift: Shift, data: ShiftInput, start: datetime, end: datetime) -> None:
    shift.site_id = data.site_id
    shift.shift_type = data.shift_type
    shift.start_at = start
    shift.end_at = end
    shift.break_minutes = data.break_minutes or 0
    shift.worked_minutes = int((end - start).total_seconds() // 60) - shift.break_minutes
    shift.conflicts_interrupted = data.conflicts_interrupted or 0
    shift.individuals_engaged = data.individuals_engaged or 0
    shift.referrals = data.referrals or 0
    shift.note = (data.note or "").strip()
    shift.call_back = bool(data.call_back)
    shift.on_call_period_id = data.on_call_period_id if data.call_back else None


def create_shift(worker: User, data: ShiftInput) -> Shift:
    """Log a new shift for a worker, status submitted."""
    start, end = _check(worker, data, exclude_id=None)
    shift = Shift(worker_id=worker.id, organisation_id=worker.organisation_id, status="submitted")
    _apply(shift, data, start, end)
    db.session.add(shift)
    db.session.flush()
    return shift


def update_shift(shift: Shift, data: ShiftInput) -> Shift:
    """Change a shift that is still open; a returned shift goes back for approval."""
    if shift.status not in EDITABLE_STATUSES:
        raise ShiftError({"": ["This shift is approved and can no longer be changed."]})
    start, end = _check(shift.worker, data, exclude_id=shift.id)
    _apply(shift, data, start, end)
    shift.status = "submitted"
    return shift


def delete_shift(shift: Shift) -> None:
    """Delete a shift that is not yet approved."""
    if shift.status not in EDITABLE_STATUSES:
        raise ShiftError({"": ["This shift is approved and can no longer be deleted."]})
    db.session.delete(shift)


def approve_shifts(supervisor: User, shift_ids: list[int]) -> int:
    """Approve the submitted shifts among ``shift_ids`` that are in scope; return how many."""
    if not shift_ids:
        return 0
    shifts = db.session.scalars(
        sa.select(Shift).where(
            Shift.id.in_(shift_ids), Shift.status == "submitted", *review_scope(supervisor)
        )
    ).all()
    now = utcnow()
    for shift in shifts:
        shift.status = "approved"
        shift.return_reason = None
        shift.reviewed_by_id = supervisor.id
        shift.reviewed_at = now
    return len(shifts)


def return_shift(supervisor: User, shift: Shift, reason: str) -> None:
    """Send a submitted shift back to its worker with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ShiftError({"reason": ["Say why, so the worker knows what to fix."]})
    if not can_review(supervisor, shift):
        raise ShiftError({"": ["This shift is no longer waiting for approval."]})
    shift.status = "returned"
    shift.return_reason = reason
    shift.reviewed_by_id = supervisor.id
    shift.reviewed_at = utcnow()


def in_closed_period(shift: Shift) -> bool:
    """Whether a shift starts inside a pay period its organisation has already closed."""
    from portal.models import PayPeriod

    day = to_local(shift.start_at, local_zone()).date()
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(PayPeriod)
            .where(
                PayPeriod.organisation_id == shift.organisation_id,
                PayPeriod.start_date <= day,
                PayPeriod.end_date > day,
            )
        )
        > 0
    )


def default_times(now_local: datetime) -> tuple[date, time, time]:
    """Form defaults: an eight-hour shift ending now, on the quarter hour."""
    end = now_local.replace(
        minute=now_local.minute - now_local.minute % 15, second=0, microsecond=0
    )
    start = end - timedelta(hours=8)
    return start.date(), start.time(), end.time()
