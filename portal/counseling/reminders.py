"""Booking mail: confirmations, cancellations and moves with an .ics file, and the reminders
`flask send-reminders` sends 24 h and 1 h before each session (run it from cron, e.g. every 10
minutes).

Mail says when, how (mode) and where (place or link) only: never why a session was booked, nor
anything else of the person's wellbeing records.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

import click
import sqlalchemy as sa
from flask import current_app

from portal import mail
from portal.counseling.ics import booking_ics, where
from portal.extensions import db
from portal.links import base_parts, public_url
from portal.models import Booking, CounselingSlot
from portal.timeutil import to_local, utcnow

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
HELP_NOW = "If you need someone right now, call or text 988."

# --- sending ----------------------------------------------------------------------------------


def send_with_attachments(
    to: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]]
) -> EmailMessage:
    """Send a plain-text message with .ics attachments given as (filename, data, METHOD)."""
    return mail.send_mail(
        to,
        subject,
        body,
        [(name, f"text/calendar; method={method}; charset=utf-8", data)
         for name, data, method in attachments],
    )  # fmt: skip


# --- words ------------------------------------------------------------------------------------


def booking_link(booking: Booking, base_url: str | None = None) -> str:
    """The absolute address of the booking's page (portal.links.public_url)."""
    return public_url("counseling.booking", base_url, booking_id=booking.id)


def when_line(booking: Booking) -> str:
    """ "Tue Mar 10, 2026, 10:00–10:50 (Central time)"."""
    start, end = to_local(booking.slot.start_at), to_local(booking.slot.end_at)
    zone = current_app.config["TIMEZONE"].split("/")[-1].replace("_", " ")
    return f"{start:%a %b %-d, %Y}, {start:%H:%M}–{end:%H:%M} ({zone} time)"


def short_when(booking: Booking) -> str:
    """ "Tue Mar 10 at 10:00"."""
    start = to_local(booking.slot.start_at)
    return f"{start:%a %b %-d} at {start:%H:%M}"


def how_line(booking: Booking) -> str:
    """How the session happens, in words."""
    slot = booking.slot
    if slot.mode == "in_person":
        return f"In person, at {where(slot)}"
    if slot.mode == "video":
        return f"Video: {where(slot)}"
    return "Phone: your counsellor will call you"


def _first_name(booking: Booking) -> str:
    return (booking.worker.name or "").split(" ")[0] or "there"


def _details(booking: Booking, link: str) -> str:
    return f"When: {when_line(booking)}\nHow: {how_line(booking)}\nDetails: {link}\n"


def _policy() -> str:
    hours = current_app.config["COUNSELING_CANCEL_HOURS"]
    return (
        f"You can cancel or move it up to {hours} hours before. If you are called to an "
        "incident, you can still cancel later, with no penalty.\n"
    )


# --- the messages -----------------------------------------------------------------------------


def send_confirmation(booking: Booking, base_url: str | None = None) -> EmailMessage:
    """Booked: the time, mode and place, with the invitation (.ics)."""
    link = booking_link(booking, base_url)
    body = (
        f"Hi {_first_name(booking)},\n\nYour session is booked.\n\n{_details(booking, link)}\n"
        f"The calendar file attached adds it to your calendar.\n{_policy()}\n{HELP_NOW}\n"
    )
    return send_with_attachments(
        booking.worker.email,
        f"Session booked: {short_when(booking)}",
        body,
        [("session.ics", booking_ics(booking, "REQUEST", link), "REQUEST")],
    )


def send_cancellation(booking: Booking, base_url: str | None = None) -> EmailMessage:
    """Cancelled: the time that is no longer yours, and the .ics that removes it."""
    link = booking_link(booking, base_url)
    body = (
        f"Hi {_first_name(booking)},\n\nYour session on {when_line(booking)} is cancelled. "
        "The calendar file attached removes it from your calendar.\n\n"
        f"You can book another time whenever you like.\n\n{HELP_NOW}\n"
    )
    return send_with_attachments(
        booking.worker.email,
        f"Session cancelled: {short_when(booking)}",
        body,
        [("cancelled.ics", booking_ics(booking, "CANCEL", link), "CANCEL")],
    )


def send_move(old: Booking, new: Booking, base_url: str | None = None) -> EmailMessage:
    """Moved: the new time with its invitation, and the old time's cancellation."""
    link = booking_link(new, base_url)
    body = (
        f"Hi {_first_name(new)},\n\nYour session has moved.\n\n{_details(new, link)}\n"
        f"It was on {when_line(old)}. The calendar files attached remove the old time and add "
        f"the new one.\n{_policy()}\n{HELP_NOW}\n"
    )
    return send_with_attachments(
        new.worker.email,
        f"Session moved to {short_when(new)}",
        body,
        [
            ("session.ics", booking_ics(new, "REQUEST", link), "REQUEST"),
            ("cancelled.ics", booking_ics(old, "CANCEL", booking_link(old, base_url)), "CANCEL"),
        ],
    )


def send_reminder(booking: Booking, which: str, base_url: str | None = None) -> EmailMessage:
    """A reminder 24 h ("24h") or 1 h ("1h") before: when, how and where only."""
    link = booking_link(booking, base_url)
    soon = "in about an hour" if which == "1h" else "coming up"
    body = (
        f"Hi {_first_name(booking)},\n\nA reminder: your session is {soon}.\n\n"
        f"{_details(booking, link)}\n{HELP_NOW}\n"
    )
    return send_with_attachments(
        booking.worker.email, f"Reminder: your session {short_when(booking)}", body, []
    )


# --- reminders --------------------------------------------------------------------------------


def _due(column, now: datetime, earliest: timedelta, latest: timedelta) -> list[int]:
    """Booked sessions starting in (now + earliest, now + latest] not yet reminded."""
    return list(
        db.session.scalars(
            sa.select(Booking.id)
            .join(CounselingSlot, CounselingSlot.id == Booking.slot_id)
            .where(
                Booking.status == "booked",
                column.is_(None),
                CounselingSlot.start_at > now + earliest,
                CounselingSlot.start_at <= now + latest,
            )
            .order_by(CounselingSlot.start_at, Booking.id)
        )
    )


def _claim(booking_id: int, which: str, now: datetime) -> bool:
    """Mark the reminder sent, in the transaction that sends it; False if another run has.

    The UPDATE's WHERE re-checks the timestamp, so two runs at once cannot both claim it
    (PostgreSQL re-reads the row after the other's commit; SQLite writers queue).
    """
    values = {"reminded_1h_at": now} if which == "1h" else {"reminded_24h_at": now}
    column = Booking.reminded_1h_at if which == "1h" else Booking.reminded_24h_at
    if which == "1h":  # a session booked late gets one reminder, never a "24 h" one after it
        values["reminded_24h_at"] = sa.func.coalesce(Booking.reminded_24h_at, now)
    result = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking_id, Booking.status == "booked", column.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def send_reminders(base_url: str | None = None, now: datetime | None = None) -> tuple[int, int]:
    """Send the reminders due now; each one's timestamp commits with its send, so a second
    run (or a run at the same time) sends nothing twice. Returns (sent, failed)."""
    now = now or utcnow()
    if base_url is not None:
        base_parts(base_url)  # a wrong address stops the run before anything is claimed
    due = [("1h", i) for i in _due(Booking.reminded_1h_at, now, timedelta(0), timedelta(hours=1))]
    due += [
        ("24h", i)
        for i in _due(Booking.reminded_24h_at, now, timedelta(hours=1), timedelta(hours=24))
    ]
    db.session.commit()
    sent = failed = 0
    for which, booking_id in due:
        try:
            if not _claim(booking_id, which, now):
                db.session.rollback()
                continue
            booking = db.session.get(Booking, booking_id)
            send_reminder(booking, which, base_url)
        except Exception:  # noqa: BLE001 - one bad address must not stop the others
            db.session.rollback()  # not marked: the next run tries again
            current_app.logger.exception("Session reminder for booking %s failed", booking_id)
            failed += 1
            continue
        db.session.commit()
        sent += 1
    return sent, failed


def register_reminder_cli(app) -> None:
    """Register `flask send-reminders` (run it every few minutes, e.g. from cron)."""

    @app.cli.command("send-reminders")
    @click.option(
        "--base-url",
        default=None,
        help="Public address of the portal for the links, e.g. https://fairshift.example.org "
        "(default: the PUBLIC_URL setting, FAIRSHIFT_PUBLIC_URL).",
    )
    def send_reminders_command(base_url: str | None) -> None:
        """E-mail counselling sessions' reminders 24 h and 1 h before; never twice."""
        base_url = base_url or current_app.config.get("PUBLIC_URL")
        if not base_url and current_app.config.get("FAIRSHIFT_ENV") == "production":
            raise click.ClickException(
                "Set FAIRSHIFT_PUBLIC_URL (or --base-url) so the links in reminders work."
            )
        try:
            sent, failed = send_reminders(base_url or DEFAULT_PUBLIC_URL)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Session reminders sent: {sent}.")
        if failed:
            raise click.ClickException(f"{failed} reminder(s) could not be sent; see the log.")
