"""The worker's side of counselling: open slots, booking, cancelling, rescheduling, allowance.

One slot holds one booking because the database says so (bookings.active_slot_id is UNIQUE): the
check before the insert only gives a friendlier message in the common case, the constraint decides
the race. Plain arguments in, model objects out, BookingError (one message, for a flash or an
alert) for refusals. Services never commit; the view or CLI command that called them does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from portal.extensions import db
from portal.models import ACTIVE_BOOKING, Booking, CounselingSlot, User
from portal.timeutil import local_midnight_utc, local_zone, to_local, utcnow

TAKEN = "That time was just taken by someone else — pick another."
GONE = "That time is no longer offered — pick another."
PAST = "That time has already started or passed — pick another."
NOT_YOURS = "That time is not offered to you — pick another."


class BookingError(Exception):
    """A refused booking, cancellation or move: one message for the person."""


class SlotTaken(BookingError):
    """Someone else holds the slot (found by the check, or by the unique constraint)."""

    def __init__(self, message: str = TAKEN):
        super().__init__(message)


@dataclass(frozen=True)
class Allowance:
    """Sessions used and left in a calendar year (cancelled ones never count)."""

    year: int
    total: int
    used: int

    @property
    def remaining(self) -> int:
        return max(self.total - self.used, 0)


def when_text(moment: datetime) -> str:
    """A slot's start on the local wall clock: "Tue Mar 10 at 14:30"."""
    local = to_local(moment)
    return f"{local:%a %b %-d} at {local:%H:%M}"


def cancel_hours() -> int:
    """How long before a session it can still be cancelled or moved freely (a setting)."""
    return int(current_app.config["COUNSELING_CANCEL_HOURS"])


# --- finding slots ----------------------------------------------------------------------------


def _held() -> sa.ColumnElement[bool]:
    """The slot is held by a booking (booked, completed or missed)."""
    return sa.exists().where(Booking.active_slot_id == CounselingSlot.id)


def _overlaps_worker(worker: User, ignore_booking_id: int | None = None):
    """The slot overlaps one of the worker's booked sessions (optionally but one)."""
    mine = aliased(CounselingSlot)
    query = (
        sa.select(Booking.id)
        .join(mine, mine.id == Booking.slot_id)
        .where(
            Booking.worker_id == worker.id,
            Booking.status == "booked",
            mine.start_at < CounselingSlot.end_at,
            mine.end_at > CounselingSlot.start_at,
        )
    )
    if ignore_booking_id is not None:
        query = query.where(Booking.id != ignore_booking_id)
    return query.exists()


def open_slots_select(
    worker: User,
    days: int | None = None,
    counselor_id: int | None = None,
    mode: str | None = None,
    now: datetime | None = None,
    ignore_booking_id: int | None = None,
) -> sa.Select:
    """The query behind open_slots (soonest first, counsellors loaded in the same query)."""
    now = now or utcnow()
    days = current_app.config["COUNSELING_DAYS_AHEAD"] if days is None else days
    query = (
        sa.select(CounselingSlot)
        .where(
            CounselingSlot.organisation_id == worker.organisation_id,
            CounselingSlot.counselor_id != worker.id,
            CounselingSlot.withdrawn.is_(False),
            CounselingSlot.start_at > now,
            CounselingSlot.start_at < now + timedelta(days=days),
            ~_held(),
            ~_overlaps_worker(worker, ignore_booking_id),
        )
        .options(joinedload(CounselingSlot.counselor))
        .order_by(CounselingSlot.start_at, CounselingSlot.id)
    )
    if counselor_id is not None:
        query = query.where(CounselingSlot.counselor_id == counselor_id)
    if mode is not None:
        query = query.where(CounselingSlot.mode == mode)
    return query


def open_slots(
    worker: User,
    days: int | None = None,
    counselor_id: int | None = None,
    mode: str | None = None,
    now: datetime | None = None,
    ignore_booking_id: int | None = None,
) -> list[CounselingSlot]:
    """Slots the worker may book: their organisation's, from now for `days` days (default the
    COUNSELING_DAYS_AHEAD setting), not withdrawn, not held, not overlapping their bookings."""
    return list(
        db.session.scalars(
            open_slots_select(worker, days, counselor_id, mode, now, ignore_booking_id)
        )
    )


def slots_by_day(slots: list[CounselingSlot]) -> list[tuple[date, list[CounselingSlot]]]:
    """Slots grouped by their local date, in order."""
    groups: dict[date, list[CounselingSlot]] = {}
    for slot in slots:
        groups.setdefault(to_local(slot.start_at).date(), []).append(slot)
    return list(groups.items())


def counsellors_with_slots(worker: User, now: datetime | None = None) -> list[tuple[int, str]]:
    """(id, name) of the counsellors with open slots for this worker (the filter's choices)."""
    now = now or utcnow()
    days = current_app.config["COUNSELING_DAYS_AHEAD"]
    rows = db.session.execute(
        sa.select(User.id, User.name)
        .join(CounselingSlot, CounselingSlot.counselor_id == User.id)
        .where(
            CounselingSlot.organisation_id == worker.organisation_id,
            CounselingSlot.counselor_id != worker.id,
            CounselingSlot.withdrawn.is_(False),
            CounselingSlot.start_at > now,
            CounselingSlot.start_at < now + timedelta(days=days),
        )
        .distinct()
        .order_by(User.name, User.id)
    )
    return [(uid, name) for uid, name in rows]


def slot_for_worker_or_none(worker: User, slot_id: int) -> CounselingSlot | None:
    """A slot of the worker's organisation (others' slots do not exist for them)."""
    return db.session.scalar(
        sa.select(CounselingSlot).where(
            CounselingSlot.id == slot_id,
            CounselingSlot.organisation_id == worker.organisation_id,
        )
    )


def upcoming_bookings(worker: User, now: datetime | None = None) -> list[Booking]:
    """The worker's booked sessions that have not ended, soonest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Booking)
            .join(CounselingSlot, CounselingSlot.id == Booking.slot_id)
            .where(
                Booking.worker_id == worker.id,
                Booking.status == "booked",
                CounselingSlot.end_at > now,
            )
            .options(joinedload(Booking.slot).joinedload(CounselingSlot.counselor))
            .order_by(CounselingSlot.start_at)
        )
    )


# --- allowance --------------------------------------------------------------------------------


def _used_in_year(worker: User, year: int) -> int:
    """Sessions booked, completed or missed with a start in the local calendar year."""
    zone = local_zone()
    start = local_midnight_utc(date(year, 1, 1), zone)
    end = local_midnight_utc(date(year + 1, 1, 1), zone)
    return db.session.scalar(
        sa.select(sa.func.count(Booking.id))
        .join(CounselingSlot, CounselingSlot.id == Booking.slot_id)
        .where(
            Booking.worker_id == worker.id,
            Booking.status.in_(ACTIVE_BOOKING),
            CounselingSlot.start_at >= start,
            CounselingSlot.start_at < end,
        )
    )


def allowance(worker: User, year: int | None = None, now: datetime | None = None) -> Allowance:
    """Sessions used and remaining in a calendar year (default: this one, local time)."""
    year = year or to_local(now or utcnow()).year
    total = int(current_app.config["COUNSELING_YEARLY_ALLOWANCE"])
    return Allowance(year=year, total=total, used=_used_in_year(worker, year))


# --- booking, cancelling, moving --------------------------------------------------------------


def _lock_worker(worker: User) -> None:
    """Serialise one worker's bookings (PostgreSQL row lock; SQLite writers already queue).

    The slot itself is protected by the unique constraint; this lock makes the worker's own
    rules (no overlap, yearly allowance) hold when they book two slots at once in two tabs.
    """
    db.session.execute(sa.select(User.id).where(User.id == worker.id).with_for_update())


def book(
    worker: User,
    slot: CounselingSlot,
    support_request_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book a slot for the worker, or raise BookingError (SlotTaken when someone holds it)."""
    now = now or utcnow()
    if slot.organisation_id != worker.organisation_id or slot.counselor_id == worker.id:
        raise BookingError(NOT_YOURS)
    # Lock the slot (PostgreSQL) so a counsellor withdrawing it at this instant waits for us,
    # and read its state afresh. SQLite writers already hold the database lock.
    withdrawn = db.session.scalar(
        sa.select(CounselingSlot.withdrawn).where(CounselingSlot.id == slot.id).with_for_update()
    )
    if withdrawn:
        raise BookingError(GONE)
    if slot.start_at <= now:
        raise BookingError(PAST)
    _lock_worker(worker)
    if slot_held(slot.id):
        raise SlotTaken()
    clash = db.session.scalar(
        sa.select(CounselingSlot)
        .where(CounselingSlot.id == slot.id, _overlaps_worker(worker))
        .limit(1)
    )
    if clash is not None:
        raise BookingError(
            "You already have a session at an overlapping time. Cancel or move that one first."
        )
    used = allowance(worker, year=to_local(slot.start_at).year)
    if used.remaining <= 0:
        raise BookingError(
            f"You have used all {used.total} sessions of your {used.year} allowance. "
            "A counsellor can still talk with you: ask on the support page."
        )
    booking = Booking(
        slot_id=slot.id,
        active_slot_id=slot.id,
        worker_id=worker.id,
        organisation_id=worker.organisation_id,
        status="booked",
        support_request_id=support_request_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(booking)
    except IntegrityError as exc:
        # Another transaction inserted a booking for this slot after our check.
        raise SlotTaken() from exc
    return booking


def slot_held(slot_id: int) -> bool:
    """Whether a booking holds the slot now (a courtesy check: the constraint decides)."""
    return bool(db.session.scalar(sa.select(sa.exists().where(Booking.active_slot_id == slot_id))))


def late_for_free_change(booking: Booking, now: datetime | None = None) -> bool:
    """Inside the window where cancelling needs a reason and moving is no longer possible."""
    now = now or utcnow()
    return now > booking.slot.start_at - timedelta(hours=cancel_hours())


def _check_own_and_booked(worker: User, booking: Booking, now: datetime) -> None:
    """The worker's own booking, still booked, not yet started."""
    if booking.worker_id != worker.id:
        raise BookingError("Only the person who booked can change this session.")
    if booking.status != "booked":
        raise BookingError(f"This session is already {booking.status_label.lower()}.")
    if booking.slot.start_at <= now:
        raise BookingError("This session has already started.")


def cancel(
    worker: User,
    booking: Booking,
    called_to_incident: bool = False,
    now: datetime | None = None,
) -> None:
    """Cancel a session: freely up to COUNSELING_CANCEL_HOURS before, later only when called to
    an incident (no penalty: cancelled bookings never count). The slot is free at once."""
    now = now or utcnow()
    _check_own_and_booked(worker, booking, now)
    late = late_for_free_change(booking, now)
    if late and not called_to_incident:
        raise BookingError(
            f"Sessions can be cancelled up to {cancel_hours()} hours before. If you were "
            "called to an incident, tick “I was called to an incident” and cancel: "
            "there is no penalty."
        )
    booking.status = "cancelled"
    booking.active_slot_id = None
    booking.cancelled_at = now
    booking.cancelled_by = "worker"
    booking.called_to_incident = late and called_to_incident
    db.session.flush()


def reschedule(
    worker: User, booking: Booking, new_slot: CounselingSlot, now: datetime | None = None
) -> Booking:
    """Move a session to another slot in one step: the old one is cancelled and the new one
    booked together, or (any refusal) nothing changes. Returns the new booking."""
    now = now or utcnow()
    _check_own_and_booked(worker, booking, now)
    if new_slot.id == booking.slot_id:
        raise BookingError("That is the time you already have — pick another.")
    if late_for_free_change(booking, now):
        raise BookingError(
            f"Sessions can be moved up to {cancel_hours()} hours before. You can still cancel "
            "this one if you were called to an incident."
        )
    try:
        with db.session.begin_nested():
            cancel(worker, booking, now=now)
            moved = book(worker, new_slot, booking.support_request_id, now=now)
    except BookingError:
        db.session.refresh(booking)  # the savepoint's rollback undid the cancellation
        raise
    return moved
