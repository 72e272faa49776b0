"""Sessions: a new one at sign-in, idle and absolute limits, and copies of the cookie that die.

Time is moved by the ``frozen_clock`` fixture (portal.auth.clock), never by sleeping.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, User
from tests.factories import PASSWORD, email_for


def body(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def location(response) -> str:
    """The path (and query) a redirect points to."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def signed_in(client) -> bool:
    """Whether the client's session reaches the home page."""
    return client.get("/").status_code == 200


def cookie(app, client) -> str:
    """The session cookie's value."""
    found = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return found.value if found else ""


def replay(app, value: str):
    """A fresh client (another browser) holding a copy of a session cookie."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


def audit_rows(app, action: str) -> list[tuple]:
    """(outcome, subject_id, actor_id, record_type) of each audit event with this action."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(
                    AuditEvent.outcome,
                    AuditEvent.subject_id,
                    AuditEvent.actor_id,
                    AuditEvent.record_type,
                )
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        ]


# --- a new session at sign-in ------------------------------------------------------------------


def test_the_session_changes_at_sign_in(app, client, world, auth):
    """The cookie value after signing in differs from before, and so does the session's id."""
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    before = cookie(app, client)
    assert before
    auth.as_role("worker")
    after = cookie(app, client)
    assert after and after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        first_sid = sess["sid"]
    auth.logout()
    auth.as_role("worker")
    with client.session_transaction() as sess:
        assert sess["sid"] != first_sid


def test_the_session_records_when(app, client, world, auth, frozen_clock):
    """Signed in at, last seen and last proof of identity are kept in the session."""
    auth.as_role("worker")
    with client.session_transaction() as sess:
        now = int(frozen_clock.t)
        assert sess["signed_in_at"] == sess["last_seen"] == sess["auth_at"] == now
        assert sess.permanent
    frozen_clock.advance(minutes=10)
    assert signed_in(client)
    with client.session_transaction() as sess:
        assert sess["last_seen"] == now + 600
        assert sess["signed_in_at"] == sess["auth_at"] == now


def test_sign_in_and_failed_sign_ins_are_audited(app, client, world, auth):
    """Success, a wrong password for a known e-mail, and an unknown e-mail: no password kept."""
    auth.as_role("worker")
    auth.logout()
    auth.login(email_for("worker"), "a wrong password here")
    auth.login("nobody@a.example.org", "another wrong one")
    worker = world["user"]["worker"]
    assert audit_rows(app, "auth.sign_in") == [
        ("ok", worker, worker, "users"),
        ("failed", worker, None, "users"),
        ("failed", None, None, "users"),
    ]
    assert audit_rows(app, "auth.sign_out") == [("ok", worker, worker, "session")]


# --- idle and absolute limits ------------------------------------------------------------------


IDLE = [("worker", 120), ("leader", 120), ("hr", 30), ("counselor", 30), ("admin", 30),
        ("funder", 30)]  # fmt: skip


@pytest.mark.parametrize(("role", "minutes"), IDLE)
def test_idle_sessions_end(app, client, world, auth, frozen_clock, role, minutes):
    """Without a request for longer than the role's idle time, the person is signed out."""
    auth.as_role(role)
    frozen_clock.advance(minutes=minutes - 1)
    assert signed_in(client)  # activity: the idle time starts again
    frozen_clock.advance(minutes=minutes - 1)
    assert signed_in(client)
    frozen_clock.advance(minutes=minutes, seconds=1)
    response = client.get("/pay")
    assert response.status_code == 302
    assert unquote(location(response)) == "/login?next=/pay"
    page = body(client.get(location(response)))
    assert f"You were signed out after {minutes} minutes without activity." in page
    assert 'role="alert"' in page
    assert not signed_in(client)
    user = world["user"].get(role) or world["user"][f"{role}_city"]
    assert audit_rows(app, "auth.session_expired") == [("idle", user, user, "session")]


def test_idle_times_are_settings(app, client, world, auth, frozen_clock):
    """IDLE_TIMEOUT_MINUTES and IDLE_TIMEOUT_MINUTES_PRIVILEGED are read on each request."""
    app.config.update(IDLE_TIMEOUT_MINUTES=10, IDLE_TIMEOUT_MINUTES_PRIVILEGED=3)
    auth.as_role("worker")
    frozen_clock.advance(minutes=9)
    assert signed_in(client)
    frozen_clock.advance(minutes=11)
    assert not signed_in(client)
    auth.as_role("hr")
    frozen_clock.advance(minutes=4)
    assert not signed_in(client)


def test_a_session_ends_after_the_absolute_limit_however_active(app, client, world, auth,
                                                                frozen_clock):  # fmt: skip
    """SESSION_MAX_HOURS after signing in, even an active session ends."""
    auth.as_role("worker")
    for _ in range(12):
        frozen_clock.advance(minutes=59)
        assert signed_in(client)
    frozen_clock.advance(minutes=13)  # 12 h 1 min after signing in
    response = client.get("/shifts")
    assert response.status_code == 302
    assert location(response).startswith("/login")
    assert "sessions last at most 12 hours" in body(client.get("/login"))
    worker = world["user"]["worker"]
    assert audit_rows(app, "auth.session_expired") == [("limit", worker, worker, "session")]
    auth.as_role("worker")  # signing in again starts a new 12 hours
    assert signed_in(client)


def test_an_expired_post_is_not_performed(app, client, world, auth, frozen_clock):
    """A form sent after the session ran out changes nothing and goes to the sign-in page."""
    auth.as_role("worker")
    frozen_clock.advance(hours=3)
    response = client.post("/checkins/reminders", data={"on": "y"})
    assert response.status_code == 302
    assert location(response) == "/login"
    with app.app_context():
        assert not db.session.get(User, world["user"]["worker"]).checkin_reminders


# --- copies of the cookie ----------------------------------------------------------------------


def test_a_copied_cookie_is_dead_after_sign_out(app, client, world, auth):
    """Signing out ends the session for every copy of its cookie, not only this browser's."""
    auth.as_role("worker")
    copied = cookie(app, client)
    assert signed_in(replay(app, copied))
    auth.logout()
    assert not signed_in(replay(app, copied))
    assert not signed_in(client)


def test_signing_out_one_browser_leaves_the_others_signed_in(app, world):
    """Sign-out is per session: another browser signed in on its own stays signed in."""
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        device.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    phone.post("/logout")
    assert not signed_in(phone)
    assert signed_in(laptop)


def test_sign_out_everywhere(app, client, world, auth):
    """The button ends every session of the account (copies included); others are untouched."""
    phone = app.test_client()
    phone.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    someone_else = app.test_client()
    someone_else.post("/login", data={"email": email_for("worker2"), "password": PASSWORD})
    auth.as_role("worker")
    copied = cookie(app, client)
    page = body(client.get("/account"))
    assert 'action="/account/sign-out-everywhere"' in page
    assert ">Sign out everywhere</button>" in page
    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and location(response) == "/login"
    assert "You are signed out on every device." in body(client.get("/login"))
    assert not signed_in(client)
    assert not signed_in(phone)
    assert not signed_in(replay(app, copied))
    assert signed_in(someone_else)
    worker = world["user"]["worker"]
    assert audit_rows(app, "auth.sign_out_everywhere") == [("ok", worker, worker, "users")]
    assert auth.login(email_for("worker")).status_code == 302  # signing in again works


def test_sign_out_everywhere_is_post_only(client, world, auth):
    """A link cannot sign anyone out."""
    auth.as_role("worker")
    assert client.get("/account/sign-out-everywhere").status_code == 405
    assert signed_in(client)


def test_a_copied_cookie_is_dead_after_a_password_change(app, client, world, auth):
    """Choosing a new password ends every session, copies included."""
    auth.as_role("worker")
    copied = cookie(app, client)
    with app.app_context():
        db.session.get(User, world["user"]["worker"]).set_password("a completely new passphrase")
        db.session.commit()
    assert not signed_in(replay(app, copied))
    assert not signed_in(client)


def test_a_copied_cookie_is_dead_after_deactivation(app, client, world, auth):
    """A deactivated account's sessions and their copies stop working at once."""
    auth.as_role("worker")
    copied = cookie(app, client)
    with app.app_context():
        db.session.get(User, world["user"]["worker"]).active = False
        db.session.commit()
    assert not signed_in(replay(app, copied))
    assert not signed_in(client)


def test_a_copied_cookie_is_dead_after_the_session_expired(app, client, world, auth,
                                                          frozen_clock):  # fmt: skip
    """A copy kept busy does not outlive the original's idle expiry."""
    auth.as_role("worker")
    thief = replay(app, cookie(app, client))
    frozen_clock.advance(minutes=100)
    assert signed_in(thief)  # the copy's own last-seen time moves on
    frozen_clock.advance(minutes=21)
    assert not signed_in(client)  # idle: recorded as the end of that session
    frozen_clock.advance(minutes=60)
    assert not signed_in(thief)  # only 81 minutes idle, but its session has ended


def test_a_session_without_its_id_is_refused(app, client, world, auth):
    """A session cookie that was not made by signing in (no session id) signs nobody in."""
    auth.as_role("worker")
    with client.session_transaction() as sess:
        del sess["sid"]
    assert not signed_in(client)
