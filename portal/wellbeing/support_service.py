"""The rules of support requests: asking, the counsellors' queue, status moves, time off.

Visible to the worker who asked and to the counsellors of their organisation only (SPEC §2).
Plain arguments in, model objects out; SupportError (by form field) or MoveError (one message
for a flash) for refusals. Services never commit; the view that called them does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal import phone
from portal.extensions import db
from portal.models import (
    CONTACT_METHODS,
    SUPPORT_KINDS,
    URGENCIES,
    CheckIn,
    SupportNote,
    SupportRequest,
    User,
)
from portal.timeutil import NonexistentLocalTime, local_to_utc, local_today, to_local, utcnow
from portal.wellbeing.access import checkin_visible_to_counsellors
from portal.wellbeing.requests import contact_window, create_request

NOTE_MAX = 2000
CONTACT_TIME_MAX = 120
WELLNESS_DAY_AHEAD = 60  # days: a wellness day is asked for today or within the next 60 days
SCHEDULE_AHEAD = timedelta(days=366)
PER_PAGE = 50
CONTACT_TIME_MISSING = "Say when suits you, for example “evenings after 6” or “any time”."
AS_SOON_AS_POSSIBLE = "As soon as possible"  # the contact time of an urgent request left blank
VOICE_METHODS = ("phone", "text")  # the contact methods a counsellor needs the number for
# Sources a link may set (?source=...); the rest are set by code (incident offers, check-ins).
QUERY_SOURCES = ("worker", "care_offer")
ACTIVE_STATUSES = ("open", "acknowledged", "scheduled")
URGENCY_ORDER = {"urgent": 0, "soon": 1, "whenever": 2}
CONTACT_PHRASES = {
    "phone": "by phone",
    "text": "by text message",
    "email": "by e-mail",
    "in_person": "in person",
}


class SupportError(Exception):
    """A refused request form: messages by form field ("" for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


class MoveError(Exception):
    """A refused status move or action (shown as a flash message)."""


@dataclass
class SupportInput:
    """What a worker chooses and types on the request form."""

    kind: str | None
    urgency: str | None
    contact_method: str | None
    contact_time: str = ""
    note: str = ""
    wellness_date: date | None = None
    # A private number typed on the form (saved on the account); None leaves the saved one.
    contact_phone: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


# --- query arguments --------------------------------------------------------------------------


def query_kind(value: str | None) -> str | None:
    """A kind from a link (?kind=...) when it is one we know, else nothing preselected."""
    return value if value in SUPPORT_KINDS else None


def query_source(value: str | None) -> str:
    """The source a link may record: a care offer, or (anything else) the worker themselves."""
    return value if value in QUERY_SOURCES else "worker"


# --- asking -----------------------------------------------------------------------------------


def check_input(data: SupportInput, today: date) -> None:
    """Refuse what the form cannot: unknown choices, lengths, the wellness day's date."""
    if data.kind not in SUPPORT_KINDS:
        data.refuse("kind", "Choose what kind of support you would like.")
    if data.urgency not in URGENCIES:
        data.refuse("urgency", "Choose how soon you would like to hear from someone.")
    if data.contact_method not in CONTACT_METHODS:
        data.refuse("contact_method", "Choose how you would like to be contacted.")
    data.contact_time = (data.contact_time or "").strip()
    if not data.contact_time and data.urgency == "urgent":
        data.contact_time = AS_SOON_AS_POSSIBLE  # "today, as soon as possible" asks nothing more
    elif not data.contact_time:
        data.refuse("contact_time", CONTACT_TIME_MISSING)
    elif len(data.contact_time) > CONTACT_TIME_MAX:
        data.refuse("contact_time", f"Keep this under {CONTACT_TIME_MAX} characters.")
    data.note = (data.note or "").strip()
    if len(data.note) > NOTE_MAX:
        data.refuse("note", "Keep the note under 2,000 characters.")
    if data.kind == "wellness_day":
        check_wellness_date(data, today)
    else:
        data.wellness_date = None  # only a wellness day has a date
    if data.contact_phone is not None:
        try:
            data.contact_phone = phone.normalise(data.contact_phone) or ""
        except phone.PhoneError as exc:
            data.refuse("contact_phone", str(exc))


def check_wellness_date(data: SupportInput, today: date) -> None:
    """A wellness day needs a date: today, or a day within the next 60."""
    last = today + timedelta(days=WELLNESS_DAY_AHEAD)
    if data.wellness_date is None:
        data.refuse("wellness_date", "Choose the day you would like off.")
    elif data.wellness_date < today:
        data.refuse("wellness_date", "Choose today or a day after today.")
    elif data.wellness_date > last:
        data.refuse(
            "wellness_date",
            f"Choose a day within the next {WELLNESS_DAY_AHEAD} days (up to {last:%b %-d, %Y}).",
        )


def ask(
    worker: User, data: SupportInput, source: str = "worker", today: date | None = None
) -> SupportRequest:
    """A worker asks for support: validated, then created through the one door (or joined)."""
    return ask_or_join(worker, data, source, today)[0]


def ask_or_join(
    worker: User,
    data: SupportInput,
    source: str = "worker",
    today: date | None = None,
    now: datetime | None = None,
) -> tuple[SupportRequest, bool]:
    """Ask for support; (the request, True) when an urgent one joined the worker's open urgent
    request of the last few minutes (SUPPORT_URGENT_JOIN_MINUTES) instead of making another.

    A number typed on the form is kept on the worker's account (blank keeps the saved one).
    """
    now = now or utcnow()
    check_input(data, today or local_today())
    if data.errors:
        raise SupportError(data.errors)
    if data.contact_phone:
        worker.contact_phone = data.contact_phone
    if data.urgency == "urgent" and data.kind != "wellness_day":
        _lock_worker(worker)  # a double tap on two connections joins as well (PostgreSQL)
        recent = urgent_to_join(worker, now)
        if recent is not None:
            join(recent, data, now)
            return recent, True
    req = create_request(
        worker,
        data.kind,
        urgency=data.urgency,
        contact_method=data.contact_method,
        contact_time=data.contact_time,
        note=data.note,
        source=query_source(source),
        wellness_date=data.wellness_date,
        now=now,
    )
    return req, False


def _lock_worker(worker: User) -> None:
    """Serialise one worker's urgent requests (PostgreSQL row lock; SQLite writers queue)."""
    db.session.execute(sa.select(User.id).where(User.id == worker.id).with_for_update())


def join_window() -> timedelta:
    """How recent an open urgent request must be for a new urgent one to join it."""
    return timedelta(minutes=current_app.config.get("SUPPORT_URGENT_JOIN_MINUTES", 15))


def urgent_to_join(worker: User, now: datetime) -> SupportRequest | None:
    """The worker's newest urgent request still in progress, asked within the join window."""
    return db.session.scalar(
        sa.select(SupportRequest)
        .where(
            SupportRequest.worker_id == worker.id,
            SupportRequest.urgency == "urgent",
            SupportRequest.kind != "wellness_day",
            SupportRequest.status.in_(ACTIVE_STATUSES),
            SupportRequest.created_at >= now - join_window(),
        )
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
        .limit(1)
    )


def join(req: SupportRequest, data: SupportInput, now: datetime) -> None:
    """Add a second ask to an open request: nothing typed is lost, the newest way to reach the
    worker wins, and the promise (and the one alert) stay the first request's."""
    said = [f"Added {to_local(now):%H:%M}"]
    if data.kind != req.kind:
        said.append(f"asked for: {SUPPORT_KINDS.get(data.kind, data.kind)}")
    if (data.contact_method, data.contact_time) != (req.contact_method, req.contact_time):
        said.append(f"contact: {CONTACT_METHODS.get(data.contact_method)}, {data.contact_time}")
        req.contact_method, req.contact_time = data.contact_method, data.contact_time
    line = " · ".join(said) + (f": {data.note}" if data.note else "")
    req.note = f"{req.note}\n\n{line}" if req.note else line


# --- listing ----------------------------------------------------------------------------------


def worker_requests_select(worker: User) -> sa.Select:
    """The worker's own requests, newest first, with the counsellor who has each."""
    return (
        sa.select(SupportRequest)
        .where(SupportRequest.worker_id == worker.id)
        .options(joinedload(SupportRequest.counselor))
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
    )


def urgency_rank() -> sa.ColumnElement[int]:
    """Urgent before soon before whenever, in SQL."""
    return sa.case(URGENCY_ORDER, value=SupportRequest.urgency, else_=len(URGENCY_ORDER))


def queue_select(counsellor: User, closed: bool = False) -> sa.Select:
    """The counsellor's organisation's requests (never their own).

    Open, acknowledged and scheduled ones urgent first, then oldest first; or (closed=True) the
    closed ones, most recently closed first. Rows only: no note of a request, exposure or check-in
    is needed for the list, so none is loaded beyond the request row itself.
    """
    query = (
        sa.select(SupportRequest)
        .where(
            SupportRequest.organisation_id == counsellor.organisation_id,
            SupportRequest.worker_id != counsellor.id,
        )
        .options(joinedload(SupportRequest.worker), joinedload(SupportRequest.counselor))
    )
    if closed:
        return query.where(SupportRequest.status == "closed").order_by(
            SupportRequest.closed_at.desc(), SupportRequest.id.desc()
        )
    return query.where(SupportRequest.status.in_(ACTIVE_STATUSES)).order_by(
        urgency_rank(), SupportRequest.created_at, SupportRequest.id
    )


def time_since(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, at a glance: "just now", "12 min ago", "3 h ago", "4 days ago"."""
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    minutes = seconds // 60
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    days = hours // 24
    return f"{days} days ago"


def notes_of(req: SupportRequest) -> list[SupportNote]:
    """A request's notes, oldest first, with their authors (one query)."""
    return list(
        db.session.scalars(
            sa.select(SupportNote)
            .where(SupportNote.request_id == req.id)
            .options(joinedload(SupportNote.author))
            .order_by(SupportNote.created_at, SupportNote.id)
        )
    )


def linked_checkin_id(req: SupportRequest, viewer: User) -> int | None:
    """The check-in a request came from, if this viewer may open it.

    The owner always; a counsellor only where the worker asked for outreach or consented.
    """
    if req.checkin_id is None:
        return None
    query = sa.select(CheckIn.id).where(
        CheckIn.id == req.checkin_id, CheckIn.worker_id == req.worker_id
    )
    if viewer.id != req.worker_id:
        query = query.where(
            CheckIn.organisation_id == viewer.organisation_id, checkin_visible_to_counsellors()
        )
    return db.session.scalar(query)


# --- words ------------------------------------------------------------------------------------


def first_name(user: User | None) -> str:
    """The first word of a person's name (what a worker sees of a counsellor)."""
    if user is None:
        return ""
    return (user.name or "").split(" ")[0]


def is_cancelled(req: SupportRequest) -> bool:
    """Closed by the worker before any counsellor took it (counsellors set counselor_id)."""
    return req.status == "closed" and req.counselor_id is None


def cancelled_clause() -> sa.ColumnElement[bool]:
    """is_cancelled in SQL."""
    return sa.and_(SupportRequest.status == "closed", SupportRequest.counselor_id.is_(None))


def status_words(req: SupportRequest) -> str:
    """The status in plain words ("Cancelled" for a request the worker withdrew)."""
    return "Cancelled" if is_cancelled(req) else req.status_label


def source_words(req: SupportRequest) -> str:
    """Where a request came from, without any detail of the record behind it."""
    if req.checkin_id is not None or req.source == "checkin":
        return "From a check-in: they asked for someone to reach out"
    if req.exposure_id is not None or (req.kind == "after_incident" and req.source != "worker"):
        return "Accepted the offer of a talk after a critical incident"
    if req.source == "care_offer":
        return "Accepted a care offer"
    return "Asked on the support page"


def when_text(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """A scheduled instant on the local wall clock: "Thu Mar 5 at 14:30"."""
    local = to_local(moment, zone)
    return f"{local:%a %b %-d} at {local:%H:%M}"


def due_at(req: SupportRequest) -> datetime:
    """When contact was promised by (worked out for requests older than the promise column)."""
    return req.contact_due_at or req.created_at + contact_window(req.urgency)


def is_overdue(req: SupportRequest, now: datetime | None = None) -> bool:
    """Still waiting for a counsellor to take it after the contact time it promised."""
    return req.status == "open" and (now or utcnow()) > due_at(req)


def promise_words(
    due: datetime, window: timedelta, now: datetime | None = None, zone: ZoneInfo | None = None
) -> str:
    """The promise as a worker reads it: "today, by 14:00", "by 02:00 tomorrow", or "within 72
    hours, by Sun Dec 6 at 11:46" (windows of a day or more)."""
    local, today = to_local(due, zone), to_local(now or utcnow(), zone).date()
    if window < timedelta(days=1):
        if local.date() == today:
            return f"today, by {local:%H:%M}"
        if local.date() == today + timedelta(days=1):
            return f"by {local:%H:%M} tomorrow"
        return f"by {when_text(due, zone)}"
    hours = int(window.total_seconds() // 3600)
    span = f"{hours // 24} days" if hours % 24 == 0 and hours > 72 else f"{hours} hours"
    return f"within {span}, by {when_text(due, zone)}"


def promise_text(req: SupportRequest, now: datetime | None = None) -> str:
    """The contact this request promised, in the worker's words (see promise_words)."""
    return promise_words(due_at(req), due_at(req) - req.created_at, now)


def offer_promise(urgency: str, now: datetime | None = None) -> str:
    """What a yes to an offer made now would promise (the same words the request will show)."""
    now = now or utcnow()
    return promise_words(now + contact_window(urgency), contact_window(urgency), now)


def overdue_words(req: SupportRequest, now: datetime | None = None) -> str:
    """How far past its promise a request is: "Overdue by 25 min", "Overdue by 3 h"."""
    late = time_since(due_at(req), now)
    return "Overdue by " + late.removesuffix(" ago") if late != "just now" else "Overdue"


def contact_number_for(req: SupportRequest, viewer: User) -> str | None:
    """The worker's private number, for a counsellor of their organisation (never their own
    request) and only where the worker chose a call or a text; None for everyone else."""
    if (
        req.contact_method not in VOICE_METHODS
        or viewer.id == req.worker_id
        or not viewer.has_role("counselor")
        or viewer.organisation_id != req.organisation_id
    ):
        return None
    return req.worker.contact_phone or None


def next_step(req: SupportRequest, now: datetime | None = None) -> str:
    """What happens next, said to the worker who asked."""
    how = CONTACT_PHRASES.get(req.contact_method, "")
    who = first_name(req.counselor) or "A counsellor"
    if is_cancelled(req):
        return "You cancelled this request. You can ask again any time."
    if req.status == "closed":
        return "This request is closed. If you need more support, you can ask again any time."
    if req.status == "scheduled" and req.scheduled_for is not None:
        return f"{who} will be in touch {how} on {when_text(req.scheduled_for)}."
    if req.status in ("acknowledged", "scheduled"):
        return f"{who} has your request and will contact you {how} to arrange a time."
    promise = promise_text(req, now)
    if req.kind == "wellness_day":
        return (
            f"A counsellor will pick this up and contact you {how} about your day off, {promise}."
        )
    if req.urgency == "urgent":
        return (
            f"Urgent requests are picked up first. A counsellor will contact you {how}, "
            f"{promise}. If you need someone right now, call or text 988."
        )
    return f"A counsellor will pick this up and contact you {how}, {promise}."


# --- the worker's move ------------------------------------------------------------------------


def cancel(worker: User, req: SupportRequest, now: datetime | None = None) -> None:
    """The worker withdraws their own request while no counsellor has taken it yet."""
    if req.worker_id != worker.id:
        raise MoveError("Only the person who asked can cancel a request.")
    if req.status != "open":
        raise MoveError(
            "A counsellor already has this request, so it can no longer be cancelled here. "
            "Tell them you no longer need it and they will close it."
            if req.status != "closed"
            else "This request is already closed."
        )
    req.status = "closed"
    req.closed_at = now or utcnow()


# --- the counsellor's moves -------------------------------------------------------------------


def _counsellor_may_act(counsellor: User, req: SupportRequest) -> None:
    """A counsellor of the request's organisation, and not on their own request."""
    if not counsellor.has_role("counselor") or counsellor.organisation_id != req.organisation_id:
        raise MoveError("Only a counsellor of this organisation can do that.")
    if req.worker_id == counsellor.id:
        raise MoveError("This is your own request: another counsellor will take it.")


def acknowledge(counsellor: User, req: SupportRequest, now: datetime | None = None) -> None:
    """open -> acknowledged: this counsellor has it."""
    _counsellor_may_act(counsellor, req)
    if req.status != "open":
        raise MoveError(
            {
                "acknowledged": "A counsellor already has this request.",
                "scheduled": "This request is already scheduled.",
            }.get(req.status, "This request is closed: it cannot be acknowledged.")
        )
    req.status = "acknowledged"
    req.counselor_id = counsellor.id
    req.acknowledged_at = now or utcnow()


def add_note(counsellor: User, req: SupportRequest, body: str) -> SupportNote:
    """Record contact made or a plan: seen by the worker and the organisation's counsellors."""
    _counsellor_may_act(counsellor, req)
    text = (body or "").strip()
    if not text:
        raise SupportError({"body": ["Write what happened, for example “Called, no answer.”"]})
    if len(text) > NOTE_MAX:
        raise SupportError({"body": ["Keep the note under 2,000 characters."]})
    note = SupportNote(request_id=req.id, author_id=counsellor.id, body=text)
    db.session.add(note)
    db.session.flush()
    return note


def check_schedulable(req: SupportRequest) -> None:
    """MoveError unless the request is acknowledged or scheduled (a time can be set or moved)."""
    if req.status == "open":
        raise MoveError("Acknowledge the request first, then schedule it.")
    if req.status == "closed":
        raise MoveError("This request is closed: it cannot be scheduled.")


def schedule(
    counsellor: User,
    req: SupportRequest,
    day: date,
    clock: time,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> None:
    """acknowledged -> scheduled at a local date and time (a scheduled one can be moved)."""
    _counsellor_may_act(counsellor, req)
    check_schedulable(req)
    now = now or utcnow()
    try:
        when = local_to_utc(day, clock, zone)
    except NonexistentLocalTime as exc:
        raise SupportError(
            {"time": [f"{exc}: the clocks skip that hour. Choose another time."]}
        ) from exc
    if when < now - timedelta(minutes=5):
        raise SupportError({"day": ["Choose a date and time from now on."]})
    if when > now + SCHEDULE_AHEAD:
        raise SupportError({"day": ["Choose a date within the next year."]})
    req.status = "scheduled"
    req.scheduled_for = when
    if req.counselor_id is None:
        req.counselor_id = counsellor.id


def close(counsellor: User, req: SupportRequest, now: datetime | None = None) -> None:
    """Any status -> closed (done, or no longer needed)."""
    _counsellor_may_act(counsellor, req)
    if req.status == "closed":
        raise MoveError("This request is already closed.")
    req.status = "closed"
    req.closed_at = now or utcnow()
    if req.counselor_id is None:
        req.counselor_id = counsellor.id  # closed by a counsellor, not cancelled by the worker


# --- what supervisors and HR see --------------------------------------------------------------


def wellness_days_off(
    organisation_id: int, site_id: int | None = None, since: date | None = None
) -> list[tuple[str, date]]:
    """Wellness days asked for from `since` (default today) on, as time off: name and date only.

    Requests the worker cancelled are left out. Nothing else of the request (kind aside, its
    note, urgency, status, why it was asked) leaves this function.
    """
    since = since or local_today()
    query = (
        sa.select(User.name, SupportRequest.wellness_date)
        .join(User, User.id == SupportRequest.worker_id)
        .where(
            SupportRequest.organisation_id == organisation_id,
            SupportRequest.kind == "wellness_day",
            SupportRequest.wellness_date.is_not(None),
            SupportRequest.wellness_date >= since,
            sa.not_(cancelled_clause()),
        )
        .order_by(SupportRequest.wellness_date, User.name)
        .distinct()
    )
    if site_id is not None:
        query = query.where(User.site_id == site_id)
    return [(name, day) for name, day in db.session.execute(query)]
