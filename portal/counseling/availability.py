"""The counsellor's side of counselling: weekly hours, one-off slots, time off, their sessions.

Plain arguments in, model objects out; AvailabilityError (messages by form field) or ActionError
(one message for a flash) for refusals. Services never commit; the view or CLI command does.
Times are entered on the local wall clock (America/Chicago) and stored in UTC; every record is
reached through a guard scoped to the counsellor's own slots (404 otherwise).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask import abort, current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit
from portal.counseling import booking_service
from portal.extensions import db
from portal.mail import send_mail
from portal.models import (
    MODES,
    AvailabilityRule,
    Booking,
    CounselingSlot,
    SupportRequest,
    TimeOff,
    User,
    UserRole,
)
from portal.timeutil import (
    NonexistentLocalTime,
    local_to_utc,
    local_today,
    local_zone,
    to_local,
    utcnow,
)

MIN_MINUTES, MAX_MINUTES = 15, 180
LOCATION_MAX, LINK_MAX, MESSAGE_MAX = 200, 500, 1000
ONE_OFF_AHEAD = timedelta(days=366)
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
OUTCOMES = {"completed": "completed", "missed": "missed"}
WHEN_FORMAT = "%a %b %-d, %Y at %H:%M"


class AvailabilityError(Exception):
    """A refused form: messages by form field ("" for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


class ActionError(Exception):
    """A refused one-button action (shown as a flash message)."""


def _refuse(name: str, message: str):
    raise AvailabilityError({name: [message]})


def when_text(moment: datetime) -> str:
    """An instant in words on the local wall clock, e.g. 'Tue Mar 10, 2026 at 09:00'."""
    return to_local(moment).strftime(WHEN_FORMAT)


def span_text(start: datetime, end: datetime) -> str:
    """A slot's time in words, e.g. 'Tue Mar 10, 2026 09:00-09:50'."""
    return f"{to_local(start):%a %b %-d, %Y %H:%M}-{to_local(end):%H:%M}"


def horizon(today: date | None = None) -> date:
    """The last day slots are generated for: the booking window plus two weeks."""
    return (today or local_today()) + timedelta(
        days=current_app.config["COUNSELING_DAYS_AHEAD"] + 14
    )


# --- guards: the counsellor's own records, or 404 ---------------------------------------------


def _counselors_own_or_404(model, record_id: int, counselor: User):
    """A rule, slot or time off of this counsellor's, or 404 (missing or someone else's)."""
    found = db.session.scalar(
        sa.select(model).where(model.id == record_id, model.counselor_id == counselor.id)
    )
    if found is None:
        abort(404)
    return found


def rule_or_404(counselor: User, rule_id: int) -> AvailabilityRule:
    """One of the counsellor's weekly rules."""
    return _counselors_own_or_404(AvailabilityRule, rule_id, counselor)


def slot_or_404(counselor: User, slot_id: int) -> CounselingSlot:
    """One of the counsellor's slots."""
    return _counselors_own_or_404(CounselingSlot, slot_id, counselor)


def booking_or_404(counselor: User, booking_id: int) -> Booking:
    """A booking of one of the counsellor's slots (its read by the counsellor is audited)."""
    booking = db.session.scalar(
        sa.select(Booking)
        .join(CounselingSlot, CounselingSlot.id == Booking.slot_id)
        .where(Booking.id == booking_id, CounselingSlot.counselor_id == counselor.id)
        .options(joinedload(Booking.slot), joinedload(Booking.worker))
    )
    if booking is None:
        abort(404)
    if booking.worker_id != counselor.id:
        audit.record(
            "wellbeing.read", "bookings", booking.id, subject_id=booking.worker_id, actor=counselor
        )
    return booking


# --- checks shared by rules and one-off slots ---------------------------------------------------


def _check_place(errors: dict, mode: str | None, location: str, video_link: str) -> None:
    """A mode we know; a location for in person, a link for video."""
    if mode not in MODES:
        errors.setdefault("mode", []).append("Choose in person, phone or video.")
    if len(location) > LOCATION_MAX:
        errors.setdefault("location", []).append(
            f"Keep the location under {LOCATION_MAX} characters."
        )
    elif mode == "in_person" and not location:
        errors.setdefault("location", []).append("Say where you will meet, e.g. the room.")
    if len(video_link) > LINK_MAX:
        errors.setdefault("video_link", []).append(f"Keep the link under {LINK_MAX} characters.")
    elif mode == "video" and not video_link:
        errors.setdefault("video_link", []).append("Add the video link the worker will use.")
    elif video_link and not video_link.lower().startswith(("https://", "http://")):
        errors.setdefault("video_link", []).append("Enter a link starting with https://.")


def _check_minutes(errors: dict, name: str, minutes: int | None) -> None:
    if minutes is None or not MIN_MINUTES <= minutes <= MAX_MINUTES:
        errors.setdefault(name, []).append(
            f"Choose a length between {MIN_MINUTES} and {MAX_MINUTES} minutes."
        )


def _overlaps(start_col, end_col, start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(start_col < end, end_col > start)


def _active_slot_overlapping(
    counselor_id: int, start: datetime, end: datetime
) -> CounselingSlot | None:
    """The counsellor's first offered (not withdrawn) slot overlapping [start, end)."""
    return db.session.scalar(
        sa.select(CounselingSlot)
        .where(
            CounselingSlot.counselor_id == counselor_id,
            CounselingSlot.withdrawn.is_(False),
            _overlaps(CounselingSlot.start_at, CounselingSlot.end_at, start, end),
        )
        .order_by(CounselingSlot.start_at)
        .limit(1)
    )


def _time_off_overlapping(counselor_id: int, start: datetime, end: datetime) -> TimeOff | None:
    return db.session.scalar(
        sa.select(TimeOff)
        .where(
            TimeOff.counselor_id == counselor_id,
            _overlaps(TimeOff.start_at, TimeOff.end_at, start, end),
        )
        .limit(1)
    )


def local_instant(day: date | None, clock: time | None, field_name: str = "time") -> datetime:
    """A local date and time as a UTC instant; a time the clocks skip is refused by field."""
    if day is None or clock is None:
        _refuse(field_name, "Enter the date and time.")
    try:
        return local_to_utc(day, clock, local_zone())
    except NonexistentLocalTime as exc:
        _refuse(field_name, f"{exc}: the clocks skip that hour. Choose another time.")


# --- weekly hours -------------------------------------------------------------------------------


def add_rule(
    counselor: User,
    weekday: int | None,
    start: time | None,
    end: time | None,
    slot_minutes: int | None,
    mode: str | None,
    location: str = "",
    video_link: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
    today: date | None = None,
) -> AvailabilityRule:
    """Weekly hours, e.g. Tuesdays 09:00-12:00 in 50-minute slots, from a date (until a date)."""
    today = today or local_today()
    location, video_link = (location or "").strip(), (video_link or "").strip()
    valid_from = valid_from or today
    errors: dict[str, list[str]] = {}
    if weekday not in range(7):
        errors.setdefault("weekday", []).append("Choose a day of the week.")
    _check_minutes(errors, "slot_minutes", slot_minutes)
    if start is None:
        errors.setdefault("start_time", []).append("Enter the time you start.")
    if end is None:
        errors.setdefault("end_time", []).append("Enter the time you finish.")
    elif start is not None:
        if end <= start:
            errors.setdefault("end_time", []).append("Finish after you start (same day).")
        elif slot_minutes and not errors.get("slot_minutes"):
            span = (datetime.combine(today, end) - datetime.combine(today, start)).seconds // 60
            if span < slot_minutes:
                errors.setdefault("end_time", []).append(
                    f"These hours are shorter than one {slot_minutes}-minute slot."
                )
    _check_place(errors, mode, location, video_link)
    if valid_until is not None and valid_until < valid_from:
        errors.setdefault("valid_until", []).append("The last day must be on or after the first.")
    if valid_until is not None and valid_until < today:
        errors.setdefault("valid_until", []).append("The last day must be today or later.")
    if not errors:
        clash = _rule_overlapping(counselor.id, weekday, start, end, valid_from, valid_until)
        if clash is not None:
            errors.setdefault("start_time", []).append(
                f"These hours overlap your {WEEKDAY_NAMES[clash.weekday]} hours "
                f"{clash.start_time:%H:%M}-{clash.end_time:%H:%M}. Remove those first."
            )
    if errors:
        raise AvailabilityError(errors)
    rule = AvailabilityRule(
        counselor_id=counselor.id,
        organisation_id=counselor.organisation_id,
        weekday=weekday,
        start_time=start,
        end_time=end,
        slot_minutes=slot_minutes,
        mode=mode,
        location=location if mode == "in_person" else "",
        video_link=video_link if mode == "video" else "",
        valid_from=valid_from,
        valid_until=valid_until,
    )
    db.session.add(rule)
    db.session.flush()
    return rule


def _rule_overlapping(
    counselor_id: int, weekday: int, start: time, end: time, first: date, last: date | None
) -> AvailabilityRule | None:
    """Another weekly rule of the counsellor on the same weekday, overlapping hours and dates."""
    query = sa.select(AvailabilityRule).where(
        AvailabilityRule.counselor_id == counselor_id,
        AvailabilityRule.weekday == weekday,
        AvailabilityRule.start_time < end,
        AvailabilityRule.end_time > start,
        sa.or_(AvailabilityRule.valid_until.is_(None), AvailabilityRule.valid_until >= first),
    )
    if last is not None:
        query = query.where(AvailabilityRule.valid_from <= last)
    return db.session.scalar(query.limit(1))


def rules_of(counselor: User) -> list[AvailabilityRule]:
    """The counsellor's weekly rules that still apply (not ended before today)."""
    today = local_today()
    return list(
        db.session.scalars(
            sa.select(AvailabilityRule)
            .where(
                AvailabilityRule.counselor_id == counselor.id,
                sa.or_(
                    AvailabilityRule.valid_until.is_(None), AvailabilityRule.valid_until >= today
                ),
            )
            .order_by(AvailabilityRule.weekday, AvailabilityRule.start_time)
        )
    )


def _has_booking_history(slot_id: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(Booking.slot_id == slot_id)))


def _has_active_booking(slot_id: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(Booking.active_slot_id == slot_id)))


def remove_rule(counselor: User, rule: AvailabilityRule, now: datetime | None = None) -> int:
    """Remove a weekly rule and stop offering its future unbooked slots; returns how many.

    Slots nobody ever booked are deleted (so adding the same hours again offers them again);
    slots with a cancelled booking in their history are kept, withdrawn. Booked ones stay.
    """
    now = now or utcnow()
    slots = db.session.scalars(
        sa.select(CounselingSlot)
        .where(CounselingSlot.rule_id == rule.id, CounselingSlot.start_at > now)
        .with_for_update()
    ).all()
    removed = 0
    for slot in slots:
        slot.rule_id = None
        if _has_active_booking(slot.id):
            continue
        if not slot.withdrawn:
            removed += 1
        if _has_booking_history(slot.id):
            slot.withdrawn = True
            continue
        try:
            with db.session.begin_nested():
                db.session.delete(slot)
        except IntegrityError:  # booked at this very moment: it stays, booked
            removed -= 1
    db.session.execute(
        sa.update(CounselingSlot).where(CounselingSlot.rule_id == rule.id).values(rule_id=None)
    )
    db.session.delete(rule)
    db.session.flush()
    return removed


def generate_slots(counselor_id: int, until_date: date, now: datetime | None = None) -> int:
    """Materialise the counsellor's weekly rules into slots up to `until_date`; returns how many.

    Idempotent: a start that already has a slot (offered, booked or withdrawn) is left alone, and
    the unique (counselor_id, start_at) constraint is the backstop. Skipped: starts in the past,
    times inside time off, times overlapping another of the counsellor's offered slots, and
    wall-clock times the clocks skip (DST). Local times are converted to UTC day by day, so a
    Tuesday 09:00 slot is at 09:00 on the wall clock on both sides of a DST change.
    """
    now = now or utcnow()
    zone = local_zone()
    first_day = to_local(now, zone).date()
    if until_date < first_day:
        return 0
    rules = db.session.scalars(
        sa.select(AvailabilityRule).where(
            AvailabilityRule.counselor_id == counselor_id,
            AvailabilityRule.valid_from <= until_date,
            sa.or_(
                AvailabilityRule.valid_until.is_(None),
                AvailabilityRule.valid_until >= first_day,
            ),
        )
    ).all()
    if not rules:
        return 0
    window_start = now - timedelta(days=1)
    window_end = local_to_utc(until_date + timedelta(days=2), time(0), zone)
    existing = db.session.execute(
        sa.select(CounselingSlot.start_at, CounselingSlot.end_at, CounselingSlot.withdrawn).where(
            CounselingSlot.counselor_id == counselor_id,
            CounselingSlot.end_at > window_start,
            CounselingSlot.start_at < window_end,
        )
    ).all()
    taken_starts = {row.start_at for row in existing}
    offered = [(row.start_at, row.end_at) for row in existing if not row.withdrawn]
    time_off = db.session.execute(
        sa.select(TimeOff.start_at, TimeOff.end_at).where(
            TimeOff.counselor_id == counselor_id,
            TimeOff.end_at > window_start,
            TimeOff.start_at < window_end,
        )
    ).all()
    organisation_id = db.session.get(User, counselor_id).organisation_id
    created = 0
    for rule in sorted(rules, key=lambda r: (r.weekday, r.start_time, r.id)):
        for start, end in _rule_instants(rule, first_day, until_date, zone):
            if start < now or start in taken_starts:
                continue
            if any(s < end and e > start for s, e in time_off):
                continue
            if any(s < end and e > start for s, e in offered):
                continue
            slot = CounselingSlot(
                counselor_id=counselor_id,
                organisation_id=organisation_id,
                start_at=start,
                end_at=end,
                mode=rule.mode,
                location=rule.location,
                video_link=rule.video_link,
                rule_id=rule.id,
            )
            try:
                with db.session.begin_nested():  # another run made it meanwhile: keep theirs
                    db.session.add(slot)
            except IntegrityError:
                continue
            taken_starts.add(start)
            offered.append((start, end))
            created += 1
    return created


def _rule_instants(rule: AvailabilityRule, first_day: date, last_day: date, zone: ZoneInfo):
    """(start, end) UTC instants of a rule's slots on the dates it applies, in order."""
    day = max(first_day, rule.valid_from)
    last = min(last_day, rule.valid_until) if rule.valid_until else last_day
    day += timedelta(days=(rule.weekday - day.weekday()) % 7)
    length = timedelta(minutes=rule.slot_minutes)
    while day <= last:
        clock = datetime.combine(day, rule.start_time)
        close = datetime.combine(day, rule.end_time)
        while clock + length <= close:
            try:
                start = local_to_utc(day, clock.time(), zone)
            except NonexistentLocalTime:
                clock += length
                continue
            yield start, start + length
            clock += length
        day += timedelta(days=7)


def counselor_ids() -> list[int]:
    """Every active counsellor."""
    return list(
        db.session.scalars(
            sa.select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "counselor", User.active.is_(True))
            .order_by(User.id)
        )
    )


# --- one-off slots, time off, withdrawing -------------------------------------------------------


def add_one_off(
    counselor: User,
    start: datetime,
    minutes: int | None,
    mode: str | None,
    location: str = "",
    video_link: str = "",
    now: datetime | None = None,
) -> CounselingSlot:
    """A single slot at an aware instant: not in the past, not overlapping another offered slot."""
    now = now or utcnow()
    location, video_link = (location or "").strip(), (video_link or "").strip()
    errors: dict[str, list[str]] = {}
    _check_minutes(errors, "minutes", minutes)
    _check_place(errors, mode, location, video_link)
    if start < now:
        errors.setdefault("day", []).append("Choose a date and time from now on.")
    elif start > now + ONE_OFF_AHEAD:
        errors.setdefault("day", []).append("Choose a date within the next year.")
    if errors:
        raise AvailabilityError(errors)
    end = start + timedelta(minutes=minutes)
    clash = _active_slot_overlapping(counselor.id, start, end)
    if clash is not None:
        _refuse(
            "time",
            f"This overlaps your slot {span_text(clash.start_at, clash.end_at)}. "
            "Choose another time.",
        )
    off = _time_off_overlapping(counselor.id, start, end)
    if off is not None:
        _refuse(
            "time",
            f"This falls in your time off ({when_text(off.start_at)} to {when_text(off.end_at)}).",
        )
    # A withdrawn slot at the same start is offered again (one row per start and counsellor).
    slot = db.session.scalar(
        sa.select(CounselingSlot).where(
            CounselingSlot.counselor_id == counselor.id, CounselingSlot.start_at == start
        )
    )
    if slot is None:
        slot = CounselingSlot(counselor_id=counselor.id, organisation_id=counselor.organisation_id)
        db.session.add(slot)
    slot.start_at, slot.end_at, slot.mode = start, end, mode
    slot.location = location if mode == "in_person" else ""
    slot.video_link = video_link if mode == "video" else ""
    slot.withdrawn, slot.rule_id = False, None
    db.session.flush()
    return slot


@dataclass
class TimeOffResult:
    """What blocking time off did: slots withdrawn, and booked sessions left for the counsellor."""

    time_off: TimeOff
    withdrawn: int = 0
    booked: list[Booking] = field(default_factory=list)

    def message(self) -> str:
        """A flash message: what was withdrawn and which sessions still need cancelling."""
        words = f"Time off saved. {self.withdrawn} open slot{'s' if self.withdrawn != 1 else ''}"
        words += " withdrawn."
        if self.booked:
            listed = "; ".join(
                f"{span_text(b.slot.start_at, b.slot.end_at)} with {b.worker.name}"
                for b in self.booked
            )
            words += (
                f" These sessions are booked inside it: {listed}. They were not cancelled; "
                "cancel them on your sessions page with a message to the worker."
            )
        return words


def add_time_off(
    counselor: User, start: datetime, end: datetime, now: datetime | None = None
) -> TimeOffResult:
    """Block time off: open slots inside it are withdrawn, booked ones listed (never cancelled)."""
    now = now or utcnow()
    if end <= start:
        _refuse("end_day", "The end must be after the start.")
    if end <= now:
        _refuse("end_day", "The end must be in the future.")
    if end - start > timedelta(days=366):
        _refuse("end_day", "Block at most a year at a time.")
    time_off = TimeOff(counselor_id=counselor.id, start_at=start, end_at=end)
    db.session.add(time_off)
    db.session.flush()  # its id, for the slots it withdraws
    slots = db.session.scalars(
        sa.select(CounselingSlot)
        .where(
            CounselingSlot.counselor_id == counselor.id,
            CounselingSlot.withdrawn.is_(False),
            CounselingSlot.end_at > now,
            _overlaps(CounselingSlot.start_at, CounselingSlot.end_at, start, end),
        )
        .order_by(CounselingSlot.start_at)
        .with_for_update()
    ).all()
    result = TimeOffResult(time_off=time_off)
    booked = {
        b.active_slot_id: b
        for b in db.session.scalars(
            sa.select(Booking)
            .where(Booking.active_slot_id.in_([s.id for s in slots]))
            .options(joinedload(Booking.worker), joinedload(Booking.slot))
        )
    }
    for slot in slots:
        if slot.id in booked:
            result.booked.append(booked[slot.id])
        else:
            slot.withdrawn = True
            slot.time_off_id = time_off.id
            result.withdrawn += 1
    db.session.flush()
    return result


def time_off_or_404(counselor: User, time_off_id: int) -> TimeOff:
    """One of the counsellor's blocks of time off."""
    return _counselors_own_or_404(TimeOff, time_off_id, counselor)


def remove_time_off(counselor: User, time_off: TimeOff, now: datetime | None = None) -> int:
    """Remove time off. The open slots it withdrew that are still ahead are offered again,
    unless other time off covers them (then they stay withdrawn, under that one); slots the
    counsellor withdrew by hand stay withdrawn. Returns how many are offered again."""
    now = now or utcnow()
    slots = db.session.scalars(
        sa.select(CounselingSlot)
        .where(CounselingSlot.time_off_id == time_off.id, CounselingSlot.withdrawn.is_(True))
        .with_for_update()
    ).all()
    others = db.session.scalars(
        sa.select(TimeOff).where(
            TimeOff.counselor_id == counselor.id, TimeOff.id != time_off.id,
            TimeOff.end_at > now, _overlaps(TimeOff.start_at, TimeOff.end_at, time_off.start_at,
                                            time_off.end_at),
        )
    ).all()  # fmt: skip
    offered = 0
    for slot in slots:
        cover = next((o for o in others if o.start_at < slot.end_at and o.end_at > slot.start_at),
                     None)  # fmt: skip
        slot.time_off_id = cover.id if cover else None
        if cover is None and slot.start_at > now:
            slot.withdrawn = False
            offered += 1
    db.session.delete(time_off)
    db.session.flush()
    return offered


def time_off_of(counselor: User, now: datetime | None = None) -> list[TimeOff]:
    """The counsellor's time off that has not ended yet."""
    return list(
        db.session.scalars(
            sa.select(TimeOff)
            .where(TimeOff.counselor_id == counselor.id, TimeOff.end_at > (now or utcnow()))
            .order_by(TimeOff.start_at)
        )
    )


def withdraw_slot(counselor: User, slot: CounselingSlot, now: datetime | None = None) -> None:
    """Stop offering one unbooked future slot (a rule does not bring it back)."""
    if slot.counselor_id != counselor.id:
        abort(404)
    db.session.refresh(slot, with_for_update=True)  # a booking made meanwhile is seen below
    if slot.withdrawn:
        raise ActionError("This slot is already withdrawn.")
    if slot.start_at <= (now or utcnow()):
        raise ActionError("This slot has already started.")
    if _has_active_booking(slot.id):
        raise ActionError(
            "This slot is booked. Cancel the session with a message to the worker instead."
        )
    slot.withdrawn = True


# --- listing ------------------------------------------------------------------------------------


@dataclass
class SlotRow:
    """A slot on the availability page, with its booking (if any)."""

    slot: CounselingSlot
    booking: Booking | None


def upcoming_slots(counselor: User, now: datetime | None = None) -> list[SlotRow]:
    """The counsellor's offered slots for the booking window (COUNSELING_DAYS_AHEAD), with bookings.

    Two queries whatever the number of slots.
    """
    now = now or utcnow()
    until = now + timedelta(days=current_app.config["COUNSELING_DAYS_AHEAD"])
    slots = db.session.scalars(
        sa.select(CounselingSlot)
        .where(
            CounselingSlot.counselor_id == counselor.id,
            CounselingSlot.withdrawn.is_(False),
            CounselingSlot.end_at > now,
            CounselingSlot.start_at < until,
        )
        .order_by(CounselingSlot.start_at)
    ).all()
    bookings = {
        b.active_slot_id: b
        for b in db.session.scalars(
            sa.select(Booking)
            .where(Booking.active_slot_id.in_([s.id for s in slots]))
            .options(joinedload(Booking.worker))
        )
    }
    return [SlotRow(slot, bookings.get(slot.id)) for slot in slots]


def open_slots(counselor: User, now: datetime | None = None) -> list[CounselingSlot]:
    """The counsellor's future slots nobody holds: what a support request can be booked into."""
    now = now or utcnow()
    return [row.slot for row in upcoming_slots(counselor, now) if row.booking is None]


def sessions_of(
    counselor: User, now: datetime | None = None, recent_days: int = 30
) -> tuple[list[Booking], list[Booking]]:
    """The counsellor's bookings: upcoming (soonest first) and recent (latest first).

    Cancelled bookings are shown too (with who cancelled); one query.
    """
    now = now or utcnow()
    rows = db.session.scalars(
        sa.select(Booking)
        .join(CounselingSlot, CounselingSlot.id == Booking.slot_id)
        .where(
            CounselingSlot.counselor_id == counselor.id,
            CounselingSlot.start_at > now - timedelta(days=recent_days),
        )
        .options(joinedload(Booking.slot), joinedload(Booking.worker))
        .order_by(CounselingSlot.start_at, Booking.id)
    ).all()
    upcoming = [b for b in rows if b.slot.end_at > now]
    recent = [b for b in reversed(rows) if b.slot.end_at <= now]
    return upcoming, recent


# --- the counsellor's moves on a booking ----------------------------------------------------------


def _own_booking(counselor: User, booking: Booking) -> None:
    if booking.slot.counselor_id != counselor.id:
        abort(404)


def cancel_booking(
    counselor: User,
    booking: Booking,
    message: str,
    withdraw: bool = False,
    now: datetime | None = None,
) -> bool:
    """Cancel a session with a message to the worker; the slot is free at once (or withdrawn).

    Returns whether the e-mail to the worker went out (the cancellation stands either way).
    """
    _own_booking(counselor, booking)
    now = now or utcnow()
    if booking.status == "cancelled":
        raise ActionError("This session is already cancelled.")
    if booking.status != "booked" or booking.slot.start_at <= now:
        raise ActionError("This session has started: mark it completed or missed instead.")
    message = (message or "").strip()
    if not message:
        _refuse("message", "Write a message to the worker: why, and what happens next.")
    if len(message) > MESSAGE_MAX:
        _refuse("message", f"Keep the message under {MESSAGE_MAX:,} characters.")
    booking.status = "cancelled"
    booking.active_slot_id = None
    booking.cancelled_at = now
    booking.cancelled_by = "counselor"
    booking.cancel_message = message
    if withdraw:
        booking.slot.withdrawn = True
    db.session.flush()
    return _mail_cancellation(counselor, booking, message)


def _mail_cancellation(counselor: User, booking: Booking, message: str) -> bool:
    """Tell the worker, with the session's local time and the counsellor's message."""
    when = when_text(booking.slot.start_at)
    body = (
        f"Hello {booking.worker.name.split()[0]},\n\n"
        f"{counselor.name} had to cancel your counselling session on {when} "
        f"({current_app.config['TIMEZONE'].replace('_', ' ')} time).\n\n"
        f"Their message:\n{message}\n\n"
        "You can book another time in FairShift under Counselling. This does not count "
        "against your yearly sessions.\n\n"
        "If you need someone right now, call or text 988.\n"
    )
    try:
        send_mail(booking.worker.email, f"Your counselling session on {when} is cancelled", body)
    except (smtplib.SMTPException, OSError):
        current_app.logger.exception("Could not send the cancellation of booking %s", booking.id)
        return False
    return True


def mark(counselor: User, booking: Booking, outcome: str, now: datetime | None = None) -> None:
    """Record that a session that has started was completed or missed (either can be corrected)."""
    _own_booking(counselor, booking)
    if outcome not in OUTCOMES:
        raise ActionError("Choose completed or missed.")
    if booking.status == "cancelled":
        raise ActionError("This session was cancelled.")
    if booking.slot.start_at > (now or utcnow()):
        raise ActionError("This session has not started yet.")
    if booking.status == outcome:
        raise ActionError(f"This session is already marked {outcome}.")
    booking.status = outcome


# --- a support request turned into a booking -----------------------------------------------------


def book_for_request(
    counselor: User, req: SupportRequest, slot_id: int | None, now: datetime | None = None
) -> Booking:
    """Book one of the counsellor's open slots for the request's worker, and schedule the request.

    The one-slot-one-booking rule is the database's: the insert holds active_slot_id unique.
    """
    now = now or utcnow()
    if counselor.organisation_id != req.organisation_id:
        abort(404)
    if req.worker_id == counselor.id:
        raise ActionError("This is your own request: another counsellor will take it.")
    if req.status == "closed":
        raise ActionError("This request is closed: it cannot be booked.")
    slot = db.session.scalar(
        sa.select(CounselingSlot).where(
            CounselingSlot.id == slot_id, CounselingSlot.counselor_id == counselor.id
        )
    )
    if slot is None:
        _refuse("slot_id", "Choose one of your open slots.")
    if slot.withdrawn or slot.start_at <= now:
        _refuse("slot_id", "That slot is no longer offered. Choose another one.")
    held = db.session.scalar(
        sa.select(Booking)
        .where(Booking.support_request_id == req.id, Booking.status == "booked")
        .options(joinedload(Booking.slot))
    )
    if held is not None and held.slot.start_at > now:
        raise ActionError(
            f"This request already has a session on {when_text(held.slot.start_at)}. "
            "Cancel that one first to book another."
        )
    try:
        booking = booking_service.book(req.worker, slot, support_request_id=req.id, now=now)
    except booking_service.BookingError as exc:  # SlotTaken: the unique constraint decided
        _refuse("slot_id", str(exc))
    req.status = "scheduled"
    req.scheduled_for = slot.start_at
    if req.counselor_id is None:
        req.counselor_id = counselor.id
    if req.acknowledged_at is None:
        req.acknowledged_at = now
    return booking


# --- command line -------------------------------------------------------------------------------


def register_counseling_cli(app) -> None:
    """Register `flask generate-slots` (run it daily, e.g. from cron)."""

    @app.cli.command("generate-slots")
    def generate_slots_command() -> None:
        """Turn every counsellor's weekly hours into slots for the coming weeks."""
        until = horizon()
        total = 0
        for counselor_id in counselor_ids():
            total += generate_slots(counselor_id, until)
        db.session.commit()
        click.echo(f"Counselling slots created: {total} (up to {until:%b %-d, %Y}).")
