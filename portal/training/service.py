"""The training ledger's rules: courses and requirements, sessions and who attended (each a paid
training shift), and where every worker stands (portal.training.ledger has the arithmetic).

Plain arguments in, model objects out, TrainingError for refusals. Services never commit; the
view or CLI command that called them does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload, selectinload

from portal import audit
from portal.extensions import db
from portal.forms import FieldErrors, Refusals
from portal.models import (
    EVERYONE,
    MAX_SHIFT_HOURS,
    Engagement,
    PayPeriod,
    Shift,
    Site,
    TrainingAttendance,
    TrainingCourse,
    TrainingRequirement,
    TrainingSession,
    User,
    UserRole,
)
from portal.shifts.service import in_closed_period
from portal.timeutil import (
    NonexistentLocalTime,
    local_span_to_utc,
    local_today,
    local_zone,
    to_local,
    utcnow,
)
from portal.training import ledger

MAX_COURSE_HOURS = Decimal("1000")
MAX_RENEWAL_MONTHS = 120
MAX_DUE_DAYS = 730
MAX_FUTURE = timedelta(days=1)


class TrainingError(FieldErrors):
    """A refused change: messages by form field ("" for the form as a whole)."""


def _Errors() -> Refusals:  # noqa: N802 - used as the class it stood for
    return Refusals(TrainingError)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


# --- guards -----------------------------------------------------------------------------------


def course_or_404(actor: User, course_id: int) -> TrainingCourse:
    """A course of the actor's organisation, or 404."""
    course = db.session.scalar(
        sa.select(TrainingCourse)
        .options(selectinload(TrainingCourse.requirements))
        .where(TrainingCourse.id == course_id,
               TrainingCourse.organisation_id == actor.organisation_id)
    )  # fmt: skip
    if course is None:
        abort(404)
    return course


def session_or_404(actor: User, session_id: int) -> TrainingSession:
    """A session of the actor's organisation (with its course, site and attendees), or 404."""
    session = db.session.scalar(
        sa.select(TrainingSession)
        .options(
            joinedload(TrainingSession.course),
            joinedload(TrainingSession.site),
            selectinload(TrainingSession.attendances).joinedload(TrainingAttendance.worker),
            selectinload(TrainingSession.attendances).joinedload(TrainingAttendance.shift),
        )
        .where(TrainingSession.id == session_id,
               TrainingSession.organisation_id == actor.organisation_id)
    )  # fmt: skip
    if session is None:
        abort(404)
    return session


def attendance_or_404(actor: User, attendance_id: int) -> TrainingAttendance:
    """An attendance at a session of the actor's organisation, or 404."""
    attendance = db.session.scalar(
        sa.select(TrainingAttendance)
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .options(joinedload(TrainingAttendance.worker), joinedload(TrainingAttendance.shift),
                 joinedload(TrainingAttendance.session).joinedload(TrainingSession.course))
        .where(TrainingAttendance.id == attendance_id,
               TrainingSession.organisation_id == actor.organisation_id)
    )  # fmt: skip
    if attendance is None:
        abort(404)
    return attendance


# --- courses and requirements -----------------------------------------------------------------


def org_courses(organisation_id: int) -> list[TrainingCourse]:
    """The organisation's courses (active first, by name) with their requirements."""
    return list(
        db.session.scalars(
            sa.select(TrainingCourse)
            .options(selectinload(TrainingCourse.requirements))
            .where(TrainingCourse.organisation_id == organisation_id)
            .order_by(TrainingCourse.active.desc(), TrainingCourse.name)
        )
    )


@dataclass
class CourseInput:
    """What HR types for a course."""

    name: str
    hours: Decimal | None
    renewal_months: int | None
    description: str = ""
    active: bool = True


def save_course(actor: User, data: CourseInput, course: TrainingCourse | None = None):
    """Add a course (``course`` None) or change one; names are unique in an organisation."""
    errors = _Errors()
    name = _clean(data.name)
    if not name:
        errors.add("name", "Enter the course's name.")
    elif len(name) > 120:
        errors.add("name", "Keep the name under 120 characters.")
    else:
        same = db.session.scalar(
            sa.select(TrainingCourse.id).where(
                TrainingCourse.organisation_id == actor.organisation_id,
                sa.func.lower(TrainingCourse.name) == name.lower(),
                TrainingCourse.id != (course.id if course else 0),
            )
        )
        if same is not None:
            errors.add("name", f"There is already a course named “{name}”. Choose another name.")
    hours = data.hours
    if hours is None:
        errors.add("hours", "Enter the hours it takes to complete, like 8 or 40.")
    elif hours <= 0:
        errors.add("hours", "Hours must be more than 0.")
    elif hours > MAX_COURSE_HOURS:
        errors.add("hours", f"At most {MAX_COURSE_HOURS:,} hours: is it a whole programme?")
    elif hours != hours.quantize(Decimal("0.25")):
        errors.add("hours", "Give hours in quarter hours, like 7.5 or 7.75.")
    months = data.renewal_months
    if months is not None and not 1 <= months <= MAX_RENEWAL_MONTHS:
        errors.add(
            "renewal_months",
            f"Renew every 1 to {MAX_RENEWAL_MONTHS} months, or leave it blank for a course "
            "taken once.",
        )
    description = (data.description or "").strip()
    if len(description) > 2000:
        errors.add("description", "Keep the description under 2,000 characters.")
    errors.raise_if_any()
    new = course is None
    if new:
        course = TrainingCourse(organisation_id=actor.organisation_id)
        db.session.add(course)
    course.name = name
    course.hours = hours
    course.renewal_months = months
    course.description = description
    course.active = data.active
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # the same name saved at the same moment
        raise TrainingError(
            {"name": [f"There is already a course named “{name}”. Choose another name."]}
        ) from exc
    audit.record("training.course_added" if new else "training.course_changed",
                 "training_courses", course.id, actor=actor)  # fmt: skip
    return course


def add_requirement(
    actor: User, course: TrainingCourse, job_title: str, due_within_days: int | None
) -> TrainingRequirement:
    """Require a course of a job title ("" for everyone), optionally within N days of hire."""
    errors = _Errors()
    title = _clean(job_title)
    if len(title) > 80:
        errors.add("job_title", "Keep the job title under 80 characters.")
    if due_within_days is not None and not 1 <= due_within_days <= MAX_DUE_DAYS:
        errors.add(
            "due_within_days",
            f"New staff take it within 1 to {MAX_DUE_DAYS} days of hire, or leave it blank.",
        )
    taken = {r.job_title.lower() for r in course.requirements}
    if title.lower() in taken:
        who = f"of every “{title}”" if title else "of everyone"
        errors.add("job_title", f"This course is already required {who}.")
    errors.raise_if_any()
    requirement = TrainingRequirement(course_id=course.id, job_title=title,
                                      due_within_days=due_within_days)  # fmt: skip
    try:
        with db.session.begin_nested():
            db.session.add(requirement)
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise TrainingError({"job_title": ["This course is already required of them."]}) from exc
    audit.record("training.requirement_added", "training_requirements", requirement.id,
                 actor=actor)  # fmt: skip
    return requirement


def remove_requirement(actor: User, course: TrainingCourse, requirement_id: int) -> bool:
    """Stop requiring a course of a job title; False when it was not there (any more)."""
    requirement = next((r for r in course.requirements if r.id == requirement_id), None)
    if requirement is None:
        return False
    db.session.delete(requirement)
    db.session.flush()
    audit.record("training.requirement_removed", "training_requirements", requirement_id,
                 actor=actor)  # fmt: skip
    return True


# --- workers ----------------------------------------------------------------------------------


def org_workers(organisation_id: int) -> list[User]:
    """The organisation's active workers, by name, with their sites."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, sa.and_(UserRole.user_id == User.id, UserRole.role == "worker"))
            .options(joinedload(User.site))
            .where(User.organisation_id == organisation_id, User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def org_sites(organisation_id: int, active_only: bool = True) -> list[Site]:
    """The organisation's sites by name (active ones only, unless asked)."""
    query = sa.select(Site).where(Site.organisation_id == organisation_id)
    if active_only:
        query = query.where(Site.active.is_(True))
    return list(db.session.scalars(query.order_by(Site.name)))


# --- sessions and attendance ------------------------------------------------------------------


@dataclass
class SessionInput:
    """What HR types for a session held: local date and times, and who attended."""

    course_id: int | None
    site_id: int | None
    day: date | None
    start: time | None
    end: time | None
    break_minutes: int | None = 0
    trainer: str = ""
    worker_ids: list[int] = field(default_factory=list)


@dataclass
class Outcome:
    """What recording attendance did: who was added, and each refusal in words."""

    added: list[User] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    late: bool = False  # the session is in a closed pay period: paid as an adjustment


def record_session(actor: User, data: SessionInput) -> tuple[TrainingSession, Outcome]:
    """Record a session held and its attendees; an attendee who cannot be added (an
    overlapping shift) is refused in words and the rest are kept."""
    errors = _Errors()
    org = actor.organisation_id
    course = db.session.get(TrainingCourse, data.course_id) if data.course_id else None
    if course is None or course.organisation_id != org or not course.active:
        errors.add("course_id", "Choose one of your organisation's courses.")
    site = db.session.get(Site, data.site_id) if data.site_id else None
    if site is None or site.organisation_id != org or not site.active:
        errors.add("site_id", "Choose one of your organisation's sites.")
    trainer = _clean(data.trainer)
    if not trainer:
        errors.add("trainer", "Enter who led the session.")
    elif len(trainer) > 120:
        errors.add("trainer", "Keep the trainer's name under 120 characters.")
    breaks = data.break_minutes or 0
    if breaks < 0:
        errors.add("break_minutes", "Enter zero or more.")
    start = end = None
    if data.day and data.start and data.end:
        try:
            start, end = local_span_to_utc(data.day, data.start, data.end, local_zone())
        except NonexistentLocalTime as exc:
            errors.add("start_time", f"{exc}: the clocks skip that hour.")
    if start is not None and end is not None:
        length = end - start
        if length <= timedelta(0):
            errors.add("end_time", "The end must be after the start.")
        elif length > timedelta(hours=MAX_SHIFT_HOURS):
            errors.add("end_time", f"A session is paid as one shift, at most {MAX_SHIFT_HOURS} "
                                   "hours: record a longer course day by day.")  # fmt: skip
        elif breaks >= length.total_seconds() / 60:
            errors.add("break_minutes", "The break must be shorter than the session.")
        if start > utcnow() + MAX_FUTURE:
            errors.add("day", "Record a session once it is held (at most a day ahead).")
    errors.raise_if_any()
    session = TrainingSession(organisation_id=org, course_id=course.id, site_id=site.id,
                              start_at=start, end_at=end, break_minutes=breaks, trainer=trainer,
                              recorded_by_id=actor.id)  # fmt: skip
    db.session.add(session)
    db.session.flush()
    audit.record("training.session_recorded", "training_sessions", session.id, actor=actor)
    return session, add_attendees(actor, session, data.worker_ids)


def add_attendees(actor: User, session: TrainingSession, worker_ids: list[int],
                  now: datetime | None = None) -> Outcome:  # fmt: skip
    """Add workers to a session, each with an approved training shift; refuse (in words) those
    who cannot be added and keep the rest. ``now``: when (the demo data pins it)."""
    outcome = Outcome()
    if not worker_ids:
        return outcome
    workers = {w.id: w for w in org_workers(session.organisation_id)}
    present = set(db.session.scalars(
        sa.select(TrainingAttendance.worker_id).where(TrainingAttendance.session_id == session.id)
    ))  # fmt: skip
    zone = local_zone()
    for worker_id in dict.fromkeys(worker_ids):
        worker = workers.get(worker_id)
        if worker is None:
            outcome.refused.append("One of the people chosen is not an active worker here.")
            continue
        if worker_id in present:
            outcome.refused.append(f"{worker.name} is already on this session.")
            continue
        # serialise this worker's shift writes (PostgreSQL; SQLite writers queue already)
        db.session.execute(sa.select(User.id).where(User.id == worker.id).with_for_update())
        clash = db.session.scalar(
            sa.select(Shift).where(Shift.worker_id == worker.id,
                                   Shift.start_at < session.end_at,
                                   Shift.end_at > session.start_at).limit(1)
        )  # fmt: skip
        if clash is not None:
            outcome.refused.append(
                f"{worker.name} was not added: they already have a shift "
                f"{to_local(clash.start_at, zone):%a %b %-d %H:%M}–"
                f"{to_local(clash.end_at, zone):%H:%M} ({clash.type_label}) that overlaps "
                "this session. Change or remove that shift, then add them here again."
            )
            continue
        at = now or utcnow()  # approved as it is made: reviewed at the moment it is created
        shift = Shift(
            worker_id=worker.id, organisation_id=session.organisation_id,
            site_id=session.site_id, shift_type="training", start_at=session.start_at,
            end_at=session.end_at, break_minutes=session.break_minutes,
            worked_minutes=session.minutes, status="approved", reviewed_by_id=actor.id,
            created_at=at, updated_at=at, reviewed_at=at,
            note=f"Training: {session.course.name}"[:2000],
        )  # fmt: skip
        db.session.add(shift)
        db.session.flush()
        attendance = TrainingAttendance(session_id=session.id, worker_id=worker.id,
                                        shift_id=shift.id)  # fmt: skip
        db.session.add(attendance)
        db.session.flush()
        present.add(worker.id)
        outcome.added.append(worker)
        audit.record("training.attendance_added", "training_attendances", attendance.id,
                     subject_id=worker.id, actor=actor)  # fmt: skip
        if not outcome.late:
            outcome.late = in_closed_period(shift)
    return outcome


def remove_attendance(actor: User, attendance: TrainingAttendance) -> None:
    """Take a worker off a session and remove its shift, while that shift is unpaid."""
    db.session.execute(sa.select(Shift.id).where(Shift.id == attendance.shift_id).with_for_update())
    shift = attendance.shift
    db.session.refresh(shift)
    if shift.paid_in_period_id is not None:
        period = db.session.get(PayPeriod, shift.paid_in_period_id)
        raise TrainingError({"": [
            f"{attendance.worker.name}'s training shift is already paid, on the statement of "
            f"{period.start_date:%b %-d}–{period.end_date - timedelta(days=1):%b %-d, %Y}, so "
            "the attendance stays. If they were not there, correct their pay with an "
            "adjustment."
        ]})  # fmt: skip
    worker_id, attendance_id = attendance.worker_id, attendance.id
    db.session.delete(attendance)
    db.session.flush()
    db.session.delete(shift)
    db.session.flush()
    audit.record("training.attendance_removed", "training_attendances", attendance_id,
                 subject_id=worker_id, actor=actor)  # fmt: skip


def recent_sessions(organisation_id: int, limit: int = 20) -> list[tuple[TrainingSession, int]]:
    """The latest sessions with their number of attendees (one query)."""
    count = (
        sa.select(sa.func.count(TrainingAttendance.id))
        .where(TrainingAttendance.session_id == TrainingSession.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(TrainingSession, count)
        .options(joinedload(TrainingSession.course), joinedload(TrainingSession.site))
        .where(TrainingSession.organisation_id == organisation_id)
        .order_by(TrainingSession.start_at.desc(), TrainingSession.id.desc())
        .limit(limit)
    ).all()
    return [(s, n) for s, n in rows]


# --- where everyone stands --------------------------------------------------------------------


@dataclass
class Line:
    """One required course for one worker, and where they stand on it."""

    course: TrainingCourse
    requirement: TrainingRequirement
    standing: ledger.Standing

    @property
    def hours_so_far(self) -> Decimal:
        return (Decimal(self.standing.progress.minutes_towards_next) / 60).quantize(Decimal("0.01"))


@dataclass
class WorkerStanding:
    """A worker, their hire date, and each course required of them."""

    worker: User
    hired_on: date | None
    lines: list[Line]


def _requirements_for(title: str | None, reqs: list[TrainingRequirement]):
    """The requirements that apply to a job title, one per course: the title's own over the
    one for everyone."""
    chosen: dict[int, TrainingRequirement] = {}
    wanted = (title or "").strip().lower()
    for r in reqs:
        if r.job_title == EVERYONE:
            chosen.setdefault(r.course_id, r)
        elif wanted and r.job_title.lower() == wanted:
            chosen[r.course_id] = r
    return chosen


def standings(organisation_id: int, today: date | None = None,
              worker_id: int | None = None) -> list[WorkerStanding]:  # fmt: skip
    """Every active worker's (or one worker's) standing on each course required of them, in
    four queries whatever the number of workers or sessions."""
    today = today or local_today()
    zone = local_zone()
    reqs = list(db.session.scalars(
        sa.select(TrainingRequirement)
        .join(TrainingCourse, TrainingCourse.id == TrainingRequirement.course_id)
        .options(joinedload(TrainingRequirement.course))
        .where(TrainingCourse.organisation_id == organisation_id, TrainingCourse.active.is_(True))
        .order_by(TrainingCourse.name)
    ))  # fmt: skip
    hired = (
        sa.select(Engagement.user_id, sa.func.max(Engagement.started_on).label("started_on"))
        .where(Engagement.organisation_id == organisation_id)
        .group_by(Engagement.user_id)
        .subquery()
    )
    query = (
        sa.select(User, hired.c.started_on)
        .join(UserRole, sa.and_(UserRole.user_id == User.id, UserRole.role == "worker"))
        .outerjoin(hired, hired.c.user_id == User.id)
        .options(joinedload(User.site))
        .where(User.organisation_id == organisation_id, User.active.is_(True))
        .order_by(User.name, User.id)
    )
    if worker_id is not None:
        query = query.where(User.id == worker_id)
    workers = db.session.execute(query).all()
    attended: dict[tuple[int, int], list[tuple[date, int]]] = {}
    if reqs and workers:
        rows = db.session.execute(
            sa.select(TrainingAttendance.worker_id, TrainingSession.course_id,
                      TrainingSession.start_at, TrainingSession.end_at,
                      TrainingSession.break_minutes)
            .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
            .where(TrainingSession.organisation_id == organisation_id,
                   *([TrainingAttendance.worker_id == worker_id] if worker_id else []))
        )  # fmt: skip
        for w, c, start, end, breaks in rows:
            minutes = int((end - start).total_seconds() // 60) - breaks
            attended.setdefault((w, c), []).append((to_local(start, zone).date(), minutes))
    result = []
    for worker, hired_on in workers:
        lines = []
        for req in sorted(_requirements_for(worker.job_title, reqs).values(),
                          key=lambda r: r.course.name.lower()):  # fmt: skip
            course = req.course
            p = ledger.progress(attended.get((worker.id, course.id), []), course.minutes,
                                course.renewal_months, today)  # fmt: skip
            lines.append(Line(course, req, ledger.standing(p, hired_on, req.due_within_days,
                                                           today)))  # fmt: skip
        result.append(WorkerStanding(worker, hired_on, lines))
    return result


@dataclass
class HistoryRow:
    """A session a worker attended, and how its shift stands in pay."""

    attendance: TrainingAttendance

    @property
    def session(self) -> TrainingSession:
        return self.attendance.session

    @property
    def pay_status(self) -> str:
        shift = self.attendance.shift
        if shift.paid_in_period_id is not None:
            return "Paid"
        if shift.is_held:
            return "Held by HR"
        return "Approved, paid with the next close"


def history(worker_id: int) -> list[HistoryRow]:
    """The sessions a worker attended, newest first (one query)."""
    rows = db.session.scalars(
        sa.select(TrainingAttendance)
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .options(
            joinedload(TrainingAttendance.session).joinedload(TrainingSession.course),
            joinedload(TrainingAttendance.session).joinedload(TrainingSession.site),
            joinedload(TrainingAttendance.shift),
        )
        .where(TrainingAttendance.worker_id == worker_id)
        .order_by(TrainingSession.start_at.desc(), TrainingAttendance.id.desc())
    )
    return [HistoryRow(a) for a in rows]


# --- HR's list of who is due ------------------------------------------------------------------


@dataclass
class DueRow:
    worker: User
    line: Line


@dataclass
class DueList:
    rows: list[DueRow]
    counts: dict[str, int]
    sites: list[Site]
    titles: list[str]


STATUS_ORDER = {"overdue": 0, "due_soon": 1, "never_done": 2, "done": 3}


def due_list(organisation_id: int, site_id: int | None = None, job_title: str | None = None,
             status: str | None = None, today: date | None = None) -> DueList:  # fmt: skip
    """Each worker's required courses, most urgent first, filtered by site, job title and
    status (unknown filter values filter nothing out but what they name)."""
    everyone = standings(organisation_id, today)
    titles = sorted({ws.worker.job_title for ws in everyone if ws.worker.job_title})
    rows, counts = [], dict.fromkeys(ledger.STATUSES, 0)
    for ws in everyone:
        if site_id is not None and ws.worker.site_id != site_id:
            continue
        if job_title and (ws.worker.job_title or "") != job_title:
            continue
        for line in ws.lines:
            counts[line.standing.status] += 1
            if status and line.standing.status != status:
                continue
            rows.append(DueRow(ws.worker, line))
    rows.sort(key=lambda r: (STATUS_ORDER[r.line.standing.status],
                             r.line.standing.due_on or date.max, r.worker.name.lower(),
                             r.line.course.name.lower()))  # fmt: skip
    return DueList(rows, counts, org_sites(organisation_id, active_only=False), titles)


CSV_COLUMNS = ["worker_id", "worker", "site", "job_title", "course", "status", "due_on",
               "completed_on", "expires_on", "hours_so_far", "course_hours"]  # fmt: skip


def _text_cell(text: str) -> str:
    """A free-text CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def due_csv(due: DueList) -> str:
    """The due list as CSV, one line per worker and course."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in due.rows:
        s = row.line.standing
        writer.writerow([
            row.worker.id, _text_cell(row.worker.name),
            _text_cell(row.worker.site.name if row.worker.site else ""),
            _text_cell(row.worker.job_title or ""), _text_cell(row.line.course.name),
            s.status, s.due_on.isoformat() if s.due_on else "",
            s.progress.completed_on.isoformat() if s.progress.completed_on else "",
            s.progress.expires_on.isoformat() if s.progress.expires_on else "",
            row.line.hours_so_far, row.line.course.hours,
        ])  # fmt: skip
    return out.getvalue()


def day_text(day: date | None) -> str:
    """ "Jan 5, 2027", or "" for none."""
    return f"{day:%b %-d, %Y}" if day else ""


def when_text(moment: datetime) -> str:
    return f"{to_local(moment):%a %b %-d, %Y %H:%M}"
