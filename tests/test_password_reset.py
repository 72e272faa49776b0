"""Forgot your password: one answer for every e-mail, a single-use 30-minute link, throttled."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from portal import create_app
from portal.auth.service import RESET, make_password_token
from portal.extensions import db
from portal.models import AuditEvent, User
from tests.factories import PASSWORD, email_for

NEW_PASSWORD = "violet lantern okra"
LINK_GONE = "This link no longer works"
SENT = "If the address you entered belongs to a FairShift account"


def body(response) -> str:
    return response.get_data(as_text=True)


def mails(app) -> list:
    """Every message written to the mail folder, oldest first."""
    folder = Path(app.config["MAIL_DIR"])
    return [
        message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(folder.glob("*.eml"))
    ] if folder.exists() else []  # fmt: skip


def link_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/set-password/[A-Za-z0-9_.\-]+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def signed_in_name(client) -> str | None:
    response = client.get("/")
    if response.status_code == 302:
        return None
    match = re.search(r"Signed in as ([^(]+) \(", body(response))
    return match.group(1).strip() if match else None


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(
            db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )
        for event in found:
            db.session.expunge(event)
        return found


def ask(client, email: str):
    return client.post("/forgot-password", data={"email": email})


@pytest.fixture
def reset_link(app, client, world):
    """The worker asks for a link; returns its path."""
    response = ask(client, email_for("worker"))
    assert response.status_code == 302
    return link_path(mails(app)[-1])


# --- asking ------------------------------------------------------------------------------------


def test_login_page_links_to_the_form(client):
    page = body(client.get("/login"))
    assert 'href="/forgot-password"' in page
    assert "Forgot your password?" in page


def test_form_is_labelled(client):
    response = client.get("/forgot-password")
    assert response.status_code == 200
    assert '<label for="email">E-mail</label>' in body(response)


def test_known_and_unknown_emails_get_the_same_answer(app, client, world):
    """Same redirect, same page; only the real account gets mail. Nobody learns who exists."""
    known = ask(client, email_for("worker"))
    unknown = ask(client, "nobody@a.example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/forgot-password/sent"
    assert body(client.get(known.headers["Location"])) == body(
        client.get(unknown.headers["Location"])
    )
    assert SENT in body(client.get("/forgot-password/sent"))
    sent = mails(app)
    assert [m["To"] for m in sent] == [email_for("worker")]
    assert sent[0]["Subject"] == "Reset your FairShift password"
    assert "expires in 30 minutes" in sent[0].get_content()


def test_deactivated_account_gets_no_mail_but_the_same_answer(app, client, world):
    with app.app_context():
        db.session.get(User, world["user"]["worker"]).active = False
        db.session.commit()
    response = ask(client, email_for("worker"))
    assert response.headers["Location"] == "/forgot-password/sent"
    assert mails(app) == []


def test_email_is_matched_case_insensitively(app, client, world):
    ask(client, "  " + email_for("worker").upper() + " ")
    assert [m["To"] for m in mails(app)] == [email_for("worker")]


@pytest.mark.parametrize("email", ["", "not-an-email", "a@" + "b" * 260 + ".org"])
def test_bad_email_is_refused_on_the_form(app, client, world, email):
    response = ask(client, email)
    assert response.status_code == 422
    assert 'role="alert"' in body(response)
    assert mails(app) == []


def test_requests_are_audited_with_the_subject_when_known(app, client, world):
    ask(client, email_for("worker"))
    ask(client, "nobody@a.example.org")
    known, unknown = events(app, "password.reset_requested")
    assert (known.subject_id, known.record_id, known.outcome) == (
        world["user"]["worker"], world["user"]["worker"], "ok",
    )  # fmt: skip
    assert (unknown.subject_id, unknown.record_id, unknown.outcome) == (None, None, "no_account")
    assert known.actor_id is None and unknown.actor_id is None
    assert known.ip == "127.0.0.1"


def test_mail_failure_gives_the_same_answer(app, client, world, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OSError("SMTP is down")

    monkeypatch.setattr("portal.auth.service.send_mail", broken)
    response = ask(client, email_for("worker"))
    assert response.headers["Location"] == "/forgot-password/sent"


# --- using the link ----------------------------------------------------------------------------


def test_link_sets_a_new_password_once(app, client, world, auth, reset_link):
    page = body(client.get(reset_link))
    assert "Choose a new password" in page
    response = client.post(reset_link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert "Every other session has been signed out" in body(client.get("/"))
    assert signed_in_name(client) == "Worker A"
    for method in (client.get, client.post):
        again = method(reset_link, data={"password": "another fine phrase", "confirm": "x"})
        assert again.status_code == 404
        assert LINK_GONE in body(again)
    auth.logout()
    assert auth.login(email_for("worker"), PASSWORD).status_code == 200  # the old one is dead
    assert auth.login(email_for("worker"), NEW_PASSWORD).status_code == 302
    [changed] = events(app, "password.changed")
    assert changed.subject_id == changed.actor_id == world["user"]["worker"]


def test_new_password_follows_the_rules(app, client, world, reset_link):
    response = client.post(reset_link, data={"password": "password2026", "confirm": "password2026"})
    assert response.status_code == 422
    assert "common password" in body(response)
    assert client.get(reset_link).status_code == 200  # still usable


def test_setting_it_ends_every_other_session(app, client, world, reset_link):
    other_device = app.test_client()
    other_device.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    assert signed_in_name(other_device) == "Worker A"
    client.post(reset_link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert signed_in_name(other_device) is None
    assert signed_in_name(client) == "Worker A"


def test_a_later_link_kills_the_earlier_once_used(app, client, world):
    ask(client, email_for("worker"))
    ask(client, email_for("worker"))
    first, second = (link_path(m) for m in mails(app))
    assert client.get(first).status_code == client.get(second).status_code == 200
    client.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get(first).status_code == 404


def _clock(monkeypatch, seconds_ahead: int) -> None:
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + seconds_ahead)


def test_link_expires_after_30_minutes(app, client, world, reset_link, monkeypatch):
    assert app.config["PASSWORD_RESET_MINUTES"] == 30
    _clock(monkeypatch, 29 * 60)
    assert client.get(reset_link).status_code == 200
    _clock(monkeypatch, 31 * 60)
    response = client.get(reset_link)
    assert response.status_code == 404
    assert LINK_GONE in body(response)
    response = client.post(reset_link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 404


def test_invitation_links_keep_their_own_lifetime(app, client, world, monkeypatch):
    """An admin's invitation still lasts INVITE_TOKEN_HOURS; a reset token is not one."""
    with app.app_context():
        user = db.session.get(User, world["user"]["worker"])
        invite, reset = make_password_token(user), make_password_token(user, RESET)
    assert invite != reset
    _clock(monkeypatch, 2 * 3600)
    assert client.get(f"/set-password/{invite}").status_code == 200
    assert client.get(f"/set-password/{reset}").status_code == 404


def test_a_two_factor_account_still_needs_its_code(app, client, world, reset_link):
    """The e-mailed link is one factor: it does not sign in past the second."""
    with app.app_context():
        user = db.session.get(User, world["user"]["worker"])
        user.totp_secret = "JBSWY3DPEHPK3PXP"
        user.totp_enabled_at = datetime.now(UTC)
        db.session.commit()
    response = client.post(reset_link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] != "/"
    assert signed_in_name(client) is None


def test_links_signed_with_a_retired_key_work_during_rotation(app, world, tmp_path):
    """SECRET_KEY_FALLBACKS: links e-mailed before a key change still work until they expire."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    old = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, SECRET_KEY="old-key")
    with old.app_context():
        token = make_password_token(db.session.get(User, world["user"]["worker"]), RESET)
        db.session.remove()
    new = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=uri, SECRET_KEY="new-key",
        SECRET_KEY_FALLBACKS=["old-key"], MAIL_DIR=str(tmp_path),
    )  # fmt: skip
    assert new.test_client().get(f"/set-password/{token}").status_code == 200
    retired = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, SECRET_KEY="new-key")
    assert retired.test_client().get(f"/set-password/{token}").status_code == 404
    for each in (new, retired):
        with each.app_context():
            db.engine.dispose()


def test_secret_key_fallbacks_are_read_from_the_environment(monkeypatch):
    """Comma-separated, spaces and empty items ignored."""
    import importlib

    import config

    monkeypatch.setenv("SECRET_KEY_FALLBACKS", " first-old , second-old,, ")
    try:
        reloaded = importlib.reload(config)
        assert reloaded.ProductionConfig.SECRET_KEY_FALLBACKS == ["first-old", "second-old"]
    finally:
        monkeypatch.delenv("SECRET_KEY_FALLBACKS")
        importlib.reload(config)


# --- throttling --------------------------------------------------------------------------------


def test_one_email_is_throttled_after_five_requests_an_hour(app, client, world):
    for _ in range(5):
        assert ask(client, email_for("worker")).status_code == 302
    response = ask(client, email_for("worker"))
    assert response.status_code == 429
    page = body(response)
    assert "Too many requests for a link" in page
    assert 'role="alert"' in page
    assert len(mails(app)) == 5
    # Another e-mail from the same place is not blocked by that one's limit.
    assert ask(client, email_for("worker2")).status_code == 302


def test_throttle_does_not_tell_known_from_unknown(app, client, world):
    for email in (email_for("worker"), "nobody@a.example.org"):
        for _ in range(5):
            ask(client, email)
    known, unknown = ask(client, email_for("worker")), ask(client, "nobody@a.example.org")
    assert known.status_code == unknown.status_code == 429


def test_one_address_is_throttled_across_emails(database_url, tmp_path, world):
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, MAIL_DIR=str(tmp_path),
        PASSWORD_RESET_LIMIT_PER_IP="3 per hour",
    )  # fmt: skip
    client = app.test_client()
    for n in range(3):
        assert ask(client, f"person{n}@a.example.org").status_code == 302
    assert ask(client, "person9@a.example.org").status_code == 429
    assert client.get("/forgot-password").status_code == 200  # reading the form is never limited
    with app.app_context():
        db.engine.dispose()


# --- where the link points ---------------------------------------------------------------------


def test_the_link_uses_the_public_address_not_the_request_host(database_url, tmp_path, world):
    """A forged Host header cannot send someone's token to another site (reset poisoning)."""
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, MAIL_DIR=str(tmp_path),
        PUBLIC_URL="https://fairshift.example.org/",
    )  # fmt: skip
    app.test_client().post(
        "/forgot-password", data={"email": email_for("worker")},
        headers={"Host": "evil.example.com"},
    )  # fmt: skip
    [message] = mails(app)
    assert "https://fairshift.example.org/set-password/" in message.get_content()
    assert "evil.example.com" not in message.get_content()
    with app.app_context():
        db.engine.dispose()


def test_trusted_hosts_refuse_other_host_names(database_url, tmp_path, world):
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, MAIL_DIR=str(tmp_path),
        TRUSTED_HOSTS=["fairshift.example.org"],
    )  # fmt: skip
    client = app.test_client()
    assert client.get("/login", headers={"Host": "fairshift.example.org"}).status_code == 200
    assert client.get("/login", headers={"Host": "evil.example.com"}).status_code == 400
    with app.app_context():
        db.engine.dispose()
