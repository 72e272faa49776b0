"""The audit log as an admin reads it: filtered, newest first, a page at a time or as CSV.

Read only: nothing here (nor any route) changes an event; PostgreSQL refuses it anyway (trigger).

Admins see no wellbeing detail (SPEC §2), and the log must not become a back door to it:
- an event a worker made on their own wellbeing record (deleting a check-in, an exposure, a
  booking) is left out: that it exists would tell the admin the worker had one;
- a staff member's read of a wellbeing record shows who read which kind of record and when,
  never whose record it was nor its id. The worker sees those reads in full on /my-data.
The rows stay complete in the database, for an investigation that has the right to them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import AuditEvent, User
from portal.timeutil import local_to_utc, local_zone, to_local

PER_PAGE = 50
CSV_BATCH = 500
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
WELLBEING_RECORD_TYPES = ("exposures", "checkins", "support_requests", "support_notes", "bookings")
WELLBEING_ACTIONS = ("wellbeing.", "exposure.", "checkin.", "support.", "booking.")
HIDDEN = "hidden (wellbeing record)"
CSV_COLUMNS = (
    "time_local", "actor_name", "actor_email", "actor_role", "action", "record_type",
    "record_id", "subject_name", "subject_email", "ip", "outcome",
)  # fmt: skip

_ACTION = re.compile(r"[a-z0-9_.]*")
_OUTCOME = re.compile(r"[a-z0-9_]*")
DATE_HELP = "Enter the date as YYYY-MM-DD, e.g. 2026-03-01."


class FilterError(Exception):
    """Filters that cannot be applied: messages by field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


@dataclass(frozen=True)
class Filters:
    """What the admin asked for; every part optional."""

    action: str = ""
    actor: str = ""
    outcome: str = ""
    start: date | None = None
    end: date | None = None

    def args(self) -> dict[str, str]:
        """As query-string arguments (for the pager and the CSV link), empty ones left out."""
        values = asdict(self).items()
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in values if v}


@dataclass
class Page:
    """One page of events, shaped like Flask-SQLAlchemy's Pagination for the pager macro."""

    rows: list[dict]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Filters from a query string, or FilterError saying what to fix (never a 500)."""
    errors: dict[str, list[str]] = {}
    action = (args.get("action") or "").strip().lower()
    if len(action) > 60 or not _ACTION.fullmatch(action):
        errors["action"] = ["Enter the start of an action, e.g. user. or export.csv"]
    actor = (args.get("actor") or "").strip().lower()
    if len(actor) > 254:
        errors["actor"] = ["Enter at most 254 characters of a name or e-mail."]
    outcome = (args.get("outcome") or "").strip().lower()
    if len(outcome) > 20 or not _OUTCOME.fullmatch(outcome):
        errors["outcome"] = ["Enter one outcome, e.g. ok or failed."]
    start = _date(args.get("start"), "start", errors)
    end = _date(args.get("end"), "end", errors)
    if start and end and end < start:
        errors["end"] = ["The end date is before the start date."]
    if errors:
        raise FilterError(errors)
    return Filters(action, actor, outcome, start, end)


def _date(value: str | None, name: str, errors: dict[str, list[str]]) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[name] = [DATE_HELP]
        return None
    if not EARLIEST <= day <= LATEST:
        errors[name] = [f"Enter a date between {EARLIEST.year} and {LATEST.year}."]
        return None
    return day


def is_wellbeing(action: str, record_type: str) -> bool:
    """Whether an event is about a wellbeing record (Python twin of _wellbeing_sql)."""
    return record_type in WELLBEING_RECORD_TYPES or action.startswith(WELLBEING_ACTIONS)


def _wellbeing_sql() -> sa.ColumnElement[bool]:
    return sa.or_(
        AuditEvent.record_type.in_(WELLBEING_RECORD_TYPES),
        *(AuditEvent.action.startswith(prefix) for prefix in WELLBEING_ACTIONS),
    )


def _select(filters: Filters) -> tuple[sa.Select, sa.Select]:
    """(rows, count) statements: one query each, whatever the number of events or people."""
    actor = aliased(User, name="actor")
    subject = aliased(User, name="subject")
    own_wellbeing = sa.and_(
        _wellbeing_sql(),
        AuditEvent.actor_id.is_not(None),
        AuditEvent.subject_id.is_not(None),
        AuditEvent.actor_id == AuditEvent.subject_id,
    )
    conditions: list[sa.ColumnElement[bool]] = [sa.not_(own_wellbeing)]
    if filters.action:
        conditions.append(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.outcome:
        conditions.append(AuditEvent.outcome == filters.outcome)
    if filters.actor:
        conditions.append(
            sa.or_(
                sa.func.lower(actor.email).contains(filters.actor, autoescape=True),
                sa.func.lower(actor.name).contains(filters.actor, autoescape=True),
            )
        )
    zone = local_zone()
    if filters.start:
        conditions.append(AuditEvent.at >= local_to_utc(filters.start, time(0), zone))
    if filters.end:
        next_day = filters.end + timedelta(days=1)
        conditions.append(AuditEvent.at < local_to_utc(next_day, time(0), zone))

    rows = (
        sa.select(
            AuditEvent.id, AuditEvent.at, AuditEvent.actor_role, AuditEvent.action,
            AuditEvent.record_type, AuditEvent.record_id, AuditEvent.ip, AuditEvent.outcome,
            AuditEvent.actor_id, AuditEvent.subject_id,
            actor.name.label("actor_name"), actor.email.label("actor_email"),
            subject.name.label("subject_name"), subject.email.label("subject_email"),
        )  # fmt: skip
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(subject, subject.id == AuditEvent.subject_id)
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    count = (
        sa.select(sa.func.count(AuditEvent.id))
        .select_from(AuditEvent)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(*conditions)
    )
    return rows, count


def _shown(row) -> dict:
    """An event as an admin may see it (wellbeing subjects and record ids hidden)."""
    event = dict(row._mapping)
    event["at_local"] = to_local(event["at"]) if event["at"] else None
    event["hidden"] = is_wellbeing(event["action"], event["record_type"])
    if event["hidden"]:
        event.update(record_id=None, subject_id=None, subject_name=None, subject_email=None)
    return event


def page_of(filters: Filters, number: int | None) -> Page:
    """One page of matching events, newest first (a page past the end shows the last one)."""
    rows_stmt, count_stmt = _select(filters)
    total = db.session.scalar(count_stmt) or 0
    pages = max(1, -(-total // PER_PAGE))
    number = min(max(1, number or 1), pages)
    rows = db.session.execute(rows_stmt.limit(PER_PAGE).offset((number - 1) * PER_PAGE))
    return Page(rows=[_shown(r) for r in rows], page=number, pages=pages, total=total)


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(filters: Filters) -> Iterator[str]:
    """Every matching event as CSV, header first, produced in batches (any size of log)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows_stmt, _count = _select(filters)
    result = db.session.execute(rows_stmt.execution_options(yield_per=CSV_BATCH))
    for batch in result.partitions():
        for row in batch:
            event = _shown(row)
            at: datetime | None = event["at_local"]
            writer.writerow(
                [
                    at.isoformat(timespec="seconds") if at else "",
                    *(
                        _cell(event[k])
                        for k in ("actor_name", "actor_email", "actor_role", "action",
                                  "record_type", "record_id")
                    ),  # fmt: skip
                    HIDDEN if event["hidden"] else _cell(event["subject_name"]),
                    "" if event["hidden"] else _cell(event["subject_email"]),
                    _cell(event["ip"]),
                    _cell(event["outcome"]),
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    result.close()
    if out.getvalue():
        yield out.getvalue()
