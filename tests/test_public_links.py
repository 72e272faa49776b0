"""Links that leave the portal (invitations, booking mail, calendar files) are built on its public
address (FAIRSHIFT_PUBLIC_URL), never on the Host header of the request that caused them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.links import public_url
from portal.models import User
from tests.conftest import AuthActions
from tests.factories import email_for, make_slot
from tests.test_admin import mails

PUBLIC = "https://fairshift.example.org"
FORGED = "evil.example.com"  # the host every request below claims (a forged Host header)


@pytest.fixture
def public_app(database_url, tmp_path, world):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, MAIL_DIR=str(tmp_path),
                     PUBLIC_URL=PUBLIC + "/", SERVER_NAME=FORGED)  # fmt: skip
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def only_public_links(text: str) -> None:
    assert PUBLIC + "/" in text
    assert FORGED not in text


def test_an_invitation_links_to_the_public_address(public_app, world):
    client = public_app.test_client()
    AuthActions(client).as_role("admin")
    uid = world["user"]["worker2"]
    with public_app.app_context():
        db.session.get(User, uid).password_hash = None  # invited, not yet signed in
        db.session.commit()
    client.post(f"/admin/users/{uid}/send-link")
    [message] = [m for m in mails(public_app) if m["To"] == email_for("worker2")]
    only_public_links(message.get_content())
    assert f"{PUBLIC}/set-password/" in message.get_content()


def test_booking_mail_and_calendar_file_link_to_the_public_address(public_app, world):
    with public_app.app_context():
        slot = make_slot(world["user"]["counselor"])
        db.session.commit()
    client = public_app.test_client()
    AuthActions(client).as_role("worker")
    response = client.post(f"/counseling/slots/{slot}/book")
    assert response.status_code == 302
    [message] = [m for m in mails(public_app) if m["To"] == email_for("worker")]
    texts = [part.get_content() for part in message.walk() if not part.is_multipart()]
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode()
        assert FORGED not in text
    assert any(f"{PUBLIC}/bookings/" in str(t) for t in texts)
    with public_app.app_context():
        booking = db.session.scalar(sa.text("SELECT id FROM bookings"))
    ics = client.get(f"/bookings/{booking}/session.ics").get_data(as_text=True)
    only_public_links(ics.replace("\r\n ", ""))  # unfold the calendar's long lines


def test_without_a_public_address_development_links_follow_the_request(app):
    """Development (no FAIRSHIFT_PUBLIC_URL): inside a request the request's host; outside one
    (a CLI run) it refuses instead of guessing."""
    with app.test_request_context("/", base_url="http://127.0.0.1:5000"):
        assert public_url("auth.login") == "http://127.0.0.1:5000/login"
    with app.app_context(), pytest.raises(RuntimeError, match="FAIRSHIFT_PUBLIC_URL"):
        public_url("auth.login")
    with app.app_context(), pytest.raises(ValueError, match="http"):
        public_url("auth.login", "ftp://example.org")
