"""`flask training-reminders` (daily from cron): each worker is mailed about a required course
that expires within 30 days or is overdue, once per worker, course and due date; each
organisation's HR gets a summary of the reminders that run sent.

A reminder is claimed by inserting its TrainingReminder row (unique per worker, course and due
date) in the transaction that sends it: a second run, even at the same moment, finds the row
(PostgreSQL makes it wait for the first run's commit, SQLite writers queue) and sends nothing.
A failed send rolls its claim back, so the next run tries again. "Never done" with no deadline
is on HR's list but is not mailed: it has no date to remind about.
"""

from __future__ import annotations

from datetime import date

import click
import sqlalchemy as sa
from flask import current_app

from portal import mail
from portal.extensions import db
from portal.links import public_url
from portal.models import Organisation, TrainingReminder, User, UserRole
from portal.timeutil import local_today
from portal.training import service

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
REMIND = ("due_soon", "overdue")


def _claim(worker_id: int, course_id: int, due_on: date, status: str) -> bool:
    """Insert the reminder's row; False when another run already has it."""
    try:
        with db.session.begin_nested():
            db.session.add(TrainingReminder(worker_id=worker_id, course_id=course_id,
                                            due_on=due_on, status=status))  # fmt: skip
            db.session.flush()
    except sa.exc.IntegrityError:
        return False
    return True


def _worker_mail(worker: User, line: service.Line, link: str):
    first = (worker.name or "").split(" ")[0] or "there"
    s = line.standing
    when = service.day_text(s.due_on)
    if s.status == "overdue":
        subject = f"Training overdue: {line.course.name}"
        news = f"your {line.course.name} training was due on {when} and is now overdue."
    else:
        subject = f"Training due by {when}: {line.course.name}"
        news = f"your {line.course.name} training is due by {when}."
    body = (
        f"Hi {first},\n\nA reminder: {news}\n\n"
        f"It takes {line.course.hours:g} hours; you have {line.hours_so_far:g} towards it. "
        "Training sessions are paid time: ask your supervisor or HR for the next session.\n\n"
        f"Your training: {link}\n"
    )
    return mail.send_mail(worker.email, subject, body)


def _hr_summary(org: Organisation, sent: list[tuple[User, service.Line]], link: str) -> int:
    hr = db.session.scalars(
        sa.select(User)
        .join(UserRole, sa.and_(UserRole.user_id == User.id, UserRole.role == "hr"))
        .where(User.organisation_id == org.id, User.active.is_(True))
    ).all()
    lines = "\n".join(
        f"- {w.name}: {line.course.name}, {line.standing.label.lower()} "
        f"(due {service.day_text(line.standing.due_on)})"
        for w, line in sent
    )
    body = (
        f"Training reminders were sent today to these workers of {org.name}:\n\n{lines}\n\n"
        f"Who is due: {link}\n"
    )
    for person in hr:
        mail.send_mail(person.email, f"Training reminders sent: {len(sent)}", body)
    return len(hr)


def send_training_reminders(base_url: str | None = None,
                            today: date | None = None) -> tuple[int, int]:  # fmt: skip
    """Send the reminders due today; returns (sent, failed)."""
    today = today or local_today()
    sent = failed = 0
    orgs = db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == "provider").order_by(Organisation.id)
    ).all()
    for org in orgs:
        due = [
            (ws.worker, line)
            for ws in service.standings(org.id, today)
            for line in ws.lines
            if line.standing.status in REMIND and line.standing.due_on is not None
        ]
        db.session.commit()
        done_here = []
        mine = public_url("training.index", base_url)
        for worker, line in due:
            s = line.standing
            try:
                if not _claim(worker.id, line.course.id, s.due_on, s.status):
                    db.session.rollback()
                    continue
                _worker_mail(worker, line, mine)
            except Exception:  # noqa: BLE001 - one bad address must not stop the others
                db.session.rollback()  # not claimed: the next run tries again
                current_app.logger.exception("Training reminder for user %s failed", worker.id)
                failed += 1
                continue
            db.session.commit()
            sent += 1
            done_here.append((worker, line))
        if done_here:
            try:
                _hr_summary(org, done_here, public_url("training.hr_due", base_url))
            except Exception:  # noqa: BLE001 - the workers' reminders are sent already
                current_app.logger.exception("Training summary for HR of %s failed", org.id)
                failed += 1
    return sent, failed


def register_training_cli(app) -> None:
    """Register `flask training-reminders` (run it daily, e.g. from cron)."""

    @app.cli.command("training-reminders")
    @click.option("--base-url", default=None,
                  help="Public address of the portal for the links (default: PUBLIC_URL).")
    def training_reminders_command(base_url: str | None) -> None:
        """E-mail workers about training expiring within 30 days or overdue; never twice."""
        base_url = base_url or current_app.config.get("PUBLIC_URL")
        if not base_url and current_app.config.get("FAIRSHIFT_ENV") == "production":
            raise click.ClickException(
                "Set FAIRSHIFT_PUBLIC_URL (or --base-url) so the links in reminders work."
            )
        try:
            sent, failed = send_training_reminders(base_url or DEFAULT_PUBLIC_URL)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Training reminders sent: {sent}.")
        if failed:
            raise click.ClickException(f"{failed} reminder(s) could not be sent; see the log.")
