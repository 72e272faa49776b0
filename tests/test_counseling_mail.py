"""Booking mail through a real SMTP server on loopback (aiosmtpd), not a mock: the confirmation's
.ics parses with icalendar and holds the slot's UTC instant; reminders arrive once each."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from icalendar import Calendar

from portal.counseling import reminders
from portal.extensions import db
from portal.models import Booking, CounselingSlot, User
from tests.factories import CHICAGO, email_for


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server, _session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox(app):
    """A real SMTP server on 127.0.0.1, and the app configured to send through it."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    yield handler
    controller.stop()


def make_slot(counselor_id: int, start: datetime, mode: str = "video") -> int:
    counselor = db.session.get(User, counselor_id)
    slot = CounselingSlot(
        counselor_id=counselor_id,
        organisation_id=counselor.organisation_id,
        start_at=start,
        end_at=start + timedelta(minutes=50),
        mode=mode,
        video_link="https://video.example.org/r/xyz" if mode == "video" else "",
        location="Room 2" if mode == "in_person" else "",
    )
    db.session.add(slot)
    db.session.flush()
    return slot.id


def calendars(message: EmailMessage) -> list[Calendar]:
    """The .ics attachments of a message, parsed."""
    return [
        Calendar.from_ical(part.get_payload(decode=True))
        for part in message.iter_attachments()
        if part.get_content_type() == "text/calendar"
    ]


def whole_minute(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def test_confirmation_carries_an_ics_with_the_right_instant(client, auth, app, world, inbox):
    start = whole_minute(72)
    with app.app_context():
        slot_id = make_slot(world["user"]["counselor"], start)
        db.session.commit()
    auth.as_role("worker")
    response = client.post(f"/counseling/slots/{slot_id}/book")
    assert response.status_code == 302
    [message] = inbox.messages
    assert message["To"] == email_for("worker")
    assert message["Subject"].startswith("Session booked:")
    body = message.get_body(("plain",)).get_content()
    assert "https://video.example.org/r/xyz" in body
    assert f"{start.astimezone(CHICAGO):%H:%M}" in body
    [cal] = calendars(message)
    assert str(cal["METHOD"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == start + timedelta(minutes=50)
    assert str(event["SUMMARY"]) == "Counselling session"
    assert str(event["LOCATION"]) == "https://video.example.org/r/xyz"
    uid = str(event["UID"])

    # Cancelling sends the same UID with METHOD:CANCEL.
    booking_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.post(f"/bookings/{booking_id}/cancel").status_code == 302
    cancelled = inbox.messages[-1]
    [cal] = calendars(cancelled)
    [event] = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "CANCEL" and str(event["UID"]) == uid
    assert event.decoded("DTSTART") == start


def test_reschedule_mail_cancels_the_old_time_and_invites_to_the_new(
    client, auth, app, world, inbox
):
    old_start, new_start = whole_minute(72), whole_minute(96)
    with app.app_context():
        old_slot = make_slot(world["user"]["counselor"], old_start)
        new_slot = make_slot(world["user"]["counselor"], new_start, mode="phone")
        db.session.commit()
    auth.as_role("worker")
    booked = client.post(f"/counseling/slots/{old_slot}/book")
    booking_id = int(booked.headers["Location"].rsplit("/", 1)[1])
    moved = client.post(f"/bookings/{booking_id}/reschedule", data={"slot_id": new_slot})
    assert moved.status_code == 302
    message = inbox.messages[-1]
    assert message["Subject"].startswith("Session moved to")
    by_method = {str(c["METHOD"]): c.walk("VEVENT")[0] for c in calendars(message)}
    assert by_method["REQUEST"].decoded("DTSTART") == new_start
    assert str(by_method["REQUEST"]["LOCATION"]) == "Phone call"
    assert by_method["CANCEL"].decoded("DTSTART") == old_start
    assert str(by_method["CANCEL"]["UID"]) != str(by_method["REQUEST"]["UID"])


def test_reminders_24h_and_1h_arrive_once_each(app, world, runner, inbox):
    if "send-reminders" not in app.cli.commands:  # until create_app registers it
        reminders.register_reminder_cli(app)
    with app.app_context():
        tomorrow = make_slot(world["user"]["counselor"], whole_minute(20), mode="in_person")
        within_hour = make_slot(world["user"]["counselor"], whole_minute(0.5))
        later = make_slot(world["user"]["counselor"], whole_minute(50))
        cancelled = make_slot(world["user"]["counselor"], whole_minute(10))
        for worker, slot_id, status in [
            ("worker", tomorrow, "booked"),
            ("worker2", within_hour, "booked"),
            ("worker3", later, "booked"),
            ("worker", cancelled, "cancelled"),
        ]:
            user = db.session.get(User, world["user"][worker])
            db.session.add(
                Booking(
                    slot_id=slot_id,
                    active_slot_id=None if status == "cancelled" else slot_id,
                    worker_id=user.id,
                    organisation_id=user.organisation_id,
                    status=status,
                )
            )
        db.session.commit()

    first = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 0, first.output
    assert "sent: 2" in first.output
    second = runner.invoke(args=["send-reminders"])
    assert second.exit_code == 0 and "sent: 0" in second.output

    received = sorted((m["To"], m["Subject"]) for m in inbox.messages)
    assert sorted(to for to, _ in received) == sorted([email_for("worker"), email_for("worker2")])
    assert all(subject.startswith("Reminder:") for _, subject in received)
    for message in inbox.messages:
        body = message.get_body(("plain",)).get_content()
        assert "/bookings/" in body
        assert "incident" not in body.lower() and "support" not in body.lower()
    tomorrow_mail = next(m for m in inbox.messages if m["To"] == email_for("worker"))
    assert "Room 2" in tomorrow_mail.get_body(("plain",)).get_content()

    with app.app_context():
        rows = {b.slot_id: b for b in db.session.scalars(sa.select(Booking).order_by(Booking.id))}
        assert rows[tomorrow].reminded_24h_at is not None and rows[tomorrow].reminded_1h_at is None
        # Booked inside the last hour: one reminder, and never a "24 h" one after it.
        assert rows[within_hour].reminded_1h_at is not None
        assert rows[within_hour].reminded_24h_at is not None
        assert rows[later].reminded_24h_at is None and rows[cancelled].reminded_24h_at is None

        # 19.5 hours on, the first booking is within its hour: its 1 h reminder, once.
        later_now = datetime.now(UTC) + timedelta(hours=19, minutes=30)
        assert reminders.send_reminders("http://127.0.0.1:5000", now=later_now) == (1, 0)
        assert reminders.send_reminders("http://127.0.0.1:5000", now=later_now) == (0, 0)
    assert len(inbox.messages) == 3
    assert inbox.messages[-1]["To"] == email_for("worker")
    assert "about an hour" in inbox.messages[-1].get_body(("plain",)).get_content()


def test_a_mail_server_that_is_down_never_loses_the_booking(client, auth, app, world):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_USE_TLS=False)
    with app.app_context():
        slot_id = make_slot(world["user"]["counselor"], whole_minute(72))
        db.session.commit()
    auth.as_role("worker")
    response = client.post(f"/counseling/slots/{slot_id}/book", follow_redirects=True)
    assert response.status_code == 200
    assert "could not send the e-mail" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 1
