"""WHO-5 check-ins: saving, history and its chart, deleting, and the weekly reminder.

Services never commit: the view or the CLI command does. Nothing here writes wellbeing content
anywhere but the check-in itself (no audit detail, no e-mail content, no log line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal import audit
from portal.extensions import db
from portal.links import public_url
from portal.mail import send_mail
from portal.models import CheckIn, SupportRequest, User, UserRole
from portal.timeutil import local_midnight_utc, local_today, local_zone, to_local, utcnow
from portal.wellbeing import who5
from portal.wellbeing.access import audit_reads, checkin_visible_to_counsellors
from portal.wellbeing.requests import create_request

SHARED_DAYS = 90  # how far back the counsellors' list of shared check-ins reaches
SHARED_PAGE = 50
HISTORY_LIMIT = 52  # a year of weekly check-ins on the history page; the rest is in "my data"
REMINDER_DAYS = 7
DELETED_ACTION = "checkin.deleted"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


# --- Saving and reading -----------------------------------------------------------------------


def last_share_choice(worker: User) -> bool:
    """Whether the worker let counsellors read their last check-in (the form's default)."""
    return bool(
        db.session.scalar(
            sa.select(CheckIn.share_with_counsellors)
            .where(CheckIn.worker_id == worker.id)
            .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
            .limit(1)
        )
    )


def create_checkin(
    worker: User,
    answers: list[int],
    note: str = "",
    *,
    wants_outreach: bool = False,
    share_with_counsellors: bool = False,
) -> tuple[CheckIn, SupportRequest | None]:
    """Save a check-in; when the worker asks for outreach, open one peer-support request."""
    items = who5.check_answers(answers)
    checkin = CheckIn(
        worker_id=worker.id,
        organisation_id=worker.organisation_id,
        item1=items[0],
        item2=items[1],
        item3=items[2],
        item4=items[3],
        item5=items[4],
        score=who5.score(items),
        note=(note or "").strip(),
        wants_outreach=wants_outreach,
        share_with_counsellors=share_with_counsellors,
    )
    db.session.add(checkin)
    db.session.flush()
    request = None
    if wants_outreach:
        request = create_request(
            worker,
            "peer_support",
            urgency="urgent" if checkin.score <= who5.STRONG_SIGNAL else "soon",
            source="checkin",
            checkin_id=checkin.id,
        )
    return checkin, request


@dataclass
class HistoryRow:
    """One line of the history: the check-in, and what its score suggests."""

    checkin: CheckIn
    reading: who5.Reading


def history(worker: User, limit: int = HISTORY_LIMIT) -> tuple[list[HistoryRow], int]:
    """The worker's latest check-ins, newest first, and how many there are in all (2 queries)."""
    rows = db.session.scalars(
        sa.select(CheckIn)
        .where(CheckIn.worker_id == worker.id)
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
        .limit(limit)
    ).all()
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(CheckIn).where(CheckIn.worker_id == worker.id)
    )
    return [HistoryRow(c, who5.reading(c.items)) for c in rows], total


def delete_checkin(checkin: CheckIn) -> None:
    """Really delete a check-in; the audit trail keeps that it happened, never what it said.

    A support request it led to stays with the counsellors, unlinked (ON DELETE SET NULL).
    """
    record_id, worker_id = checkin.id, checkin.worker_id
    db.session.delete(checkin)
    db.session.flush()
    audit.record(DELETED_ACTION, "checkins", record_id, subject_id=worker_id)


def set_reminders(worker: User, on: bool) -> None:
    """Switch the worker's weekly check-in reminder on or off."""
    worker.checkin_reminders = on


# --- The trend chart (pure geometry, drawn as inline SVG by the template) -----------------------


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str  # the date, local
    score: int


@dataclass(frozen=True)
class GridLine:
    y: float
    value: int


@dataclass(frozen=True)
class TrendChart:
    """An SVG line chart of scores 0-100, oldest on the left."""

    width: int
    height: int
    left: int
    right: float
    points: list[ChartPoint]
    grid: list[GridLine]
    aria_label: str

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def baseline(self) -> float:
        return self.grid[0].y


def trend_chart(
    scores: list[tuple[str, int]], width: int = 340, height: int = 190
) -> TrendChart | None:
    """Chart geometry for (date label, score) pairs, oldest first; None when there are none."""
    if not scores:
        return None
    left, right, top, bottom = 34, 10, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom

    def y_of(value: int) -> float:
        return top + (100 - value) / 100 * plot_h

    n = len(scores)
    step = plot_w / (n - 1) if n > 1 else 0
    points = [
        ChartPoint(left + (i * step if n > 1 else plot_w / 2), y_of(s), label, s)
        for i, (label, s) in enumerate(scores)
    ]
    values = [s for _, s in scores]
    first, last = scores[0][0], scores[-1][0]
    span = f"on {first}" if n == 1 else f"from {first} to {last}"
    summary = (
        f"Your check-in scores over time, out of 100: {n} check-in{'s' if n != 1 else ''} {span}."
    )
    if n > 1:
        summary += f" Lowest {min(values)}, highest {max(values)}, latest {values[-1]}."
    else:
        summary += f" Score {values[0]}."
    summary += " The table below lists each one."
    return TrendChart(
        width=width,
        height=height,
        left=left,
        right=width - right,
        points=points,
        grid=[GridLine(y_of(v), v) for v in (0, 25, 50, 75, 100)],
        aria_label=summary,
    )


def history_chart(rows: list[HistoryRow]) -> TrendChart | None:
    """The chart of the history rows (given newest first), dates on the local calendar."""
    return trend_chart(
        [(f"{to_local(r.checkin.created_at):%b %-d, %Y}", r.checkin.score) for r in reversed(rows)]
    )


# --- The weekly reminder ----------------------------------------------------------------------


def _cutoff(today: date) -> datetime:
    """Start of the local day six days before today: anything earlier is 7 or more days old."""
    return local_midnight_utc(today - timedelta(days=REMINDER_DAYS - 1), local_zone())


def reminders_due(today: date | None = None) -> list[User]:
    """Active workers with reminders on, last check-in 7+ days ago (or none), not reminded in
    the last 7 days. One query.

    The date of the last reminder is kept on the user (not in the audit log, which admins read:
    a reminder pattern says something about how often a person checks in).
    """
    today = today or local_today()
    cutoff = _cutoff(today)
    last = (
        sa.select(CheckIn.worker_id, sa.func.max(CheckIn.created_at).label("last_at"))
        .group_by(CheckIn.worker_id)
        .subquery()
    )
    reminded = sa.and_(
        User.checkin_reminder_sent_on.is_not(None),
        User.checkin_reminder_sent_on > today - timedelta(days=REMINDER_DAYS),
    )
    is_worker = (
        sa.select(UserRole.user_id)
        .where(UserRole.user_id == User.id, UserRole.role == "worker")
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(User)
            .outerjoin(last, last.c.worker_id == User.id)
            .where(
                User.active.is_(True),
                User.checkin_reminders.is_(True),
                is_worker,
                sa.or_(last.c.last_at.is_(None), last.c.last_at < cutoff),
                ~reminded,
            )
            .order_by(User.id)
        )
    )


def checkin_link(base_url: str) -> str:
    """The absolute address of the check-in form (built without a request)."""
    return public_url("wellbeing.checkin_new", base_url)


def reminder_body(user: User, link: str) -> str:
    """A short, kind reminder. No score, no history, nothing about how the person is doing."""
    first = user.name.split(" ")[0] if user.name else "there"
    return (
        f"Hi {first},\n\n"
        "This is your weekly reminder from FairShift. When you have a quiet minute, you can "
        f"check in here:\n\n{link}\n\n"
        "It takes about a minute, and it is private to you.\n\n"
        "You can switch these reminders off on your check-ins page at any time.\n\n"
        "If you need someone now, call or text 988.\n"
    )


REMINDER_SUBJECT = "Your weekly FairShift reminder"


def send_reminders(base_url: str, today: date | None = None) -> tuple[int, int]:
    """E-mail every worker due a reminder; commit after each, so a failure resends nothing.

    Returns (sent, failed).
    """
    link = checkin_link(base_url)
    sent = failed = 0
    for user in reminders_due(today):
        try:
            send_mail(user.email, REMINDER_SUBJECT, reminder_body(user, link))
        except Exception:  # noqa: BLE001 - one bad address must not stop the others
            current_app.logger.exception("Check-in reminder to user %s failed", user.id)
            failed += 1
            continue
        user.checkin_reminder_sent_on = today or local_today()
        db.session.commit()
        sent += 1
    return sent, failed


def register_checkin_cli(app) -> None:
    """Register `flask send-checkin-reminders` (run it daily, e.g. from cron)."""

    @app.cli.command("send-checkin-reminders")
    @click.option(
        "--base-url",
        default=None,
        help="Public address of the portal for the link, e.g. https://fairshift.example.org "
        "(default: the PUBLIC_URL setting, FAIRSHIFT_PUBLIC_URL).",
    )
    def send_checkin_reminders_command(base_url: str | None) -> None:
        """E-mail the weekly check-in reminder to workers who switched it on and are due one."""
        base_url = base_url or current_app.config.get("PUBLIC_URL")
        if not base_url:
            if current_app.config.get("FAIRSHIFT_ENV") == "production":
                raise click.ClickException(
                    "Set FAIRSHIFT_PUBLIC_URL (or --base-url) so the reminder links work."
                )
            base_url = DEFAULT_PUBLIC_URL
        try:
            sent, failed = send_reminders(base_url)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Check-in reminders sent: {sent}.")
        if failed:
            raise click.ClickException(f"{failed} reminder(s) could not be sent; see the log.")


def shared_with_counsellors(counselor: User, page: int = 1, now: datetime | None = None):
    """Check-ins of the counsellor's organisation from the last SHARED_DAYS days whose worker
    asked for outreach or chose to share them, newest first, SHARED_PAGE a page (``page``,
    from 1). Showing one is reading it: each listed check-in is audited, so its worker sees
    who looked. Returns the Pagination and each check-in's reading; three statements whatever
    the number (count, page, audit rows)."""
    since = (now or utcnow()) - timedelta(days=SHARED_DAYS)
    query = (
        sa.select(CheckIn)
        .where(
            CheckIn.organisation_id == counselor.organisation_id,
            CheckIn.worker_id != counselor.id,
            CheckIn.created_at >= since,
            checkin_visible_to_counsellors(),
        )
        .options(joinedload(CheckIn.worker))
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
    )
    page = db.paginate(query, page=page, per_page=SHARED_PAGE, error_out=False)
    audit_reads(counselor, page.items)
    return page, {c.id: who5.reading(c.items) for c in page.items}
