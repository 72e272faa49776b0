"""Every state change needs the CSRF token: tested on an app that keeps CSRF protection on."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db, limiter
from portal.models import Shift, User
from tests.conftest import AuthActions
from tests.factories import PASSWORD, email_for

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture
def csrf_app(app, database_url, tmp_path):
    """The test app's database (and clean-up), but with CSRF protection switched on."""
    protected = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        WTF_CSRF_ENABLED=True,
        MAIL_DIR=str(tmp_path / "mail-csrf"),
    )
    assert protected.config["WTF_CSRF_ENABLED"] is True
    with protected.app_context():
        limiter.reset()
    yield protected
    with protected.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(csrf_app):
    """A client of the CSRF-protected app (shadows the suite's unprotected one)."""
    return csrf_app.test_client()


def token_from(client, url: str) -> str:
    """The CSRF token printed in a page's form."""
    response = client.get(url)
    assert response.status_code == 200, url
    match = TOKEN.search(response.get_data(as_text=True))
    assert match, f"no csrf_token on {url}"
    return match.group(1) or match.group(2)


def sign_in(client, email: str) -> None:
    """Sign in through the real form, token included."""
    token = token_from(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    if response.headers["Location"].endswith("/login/two-factor"):  # the account has 2FA
        token = token_from(client, "/login/two-factor")
        code = AuthActions(client).code_for(email)
        response = client.post("/login/two-factor", data={"code": code, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)


def signed_in(client) -> bool:
    """Whether the client's session signs it in."""
    return client.get("/").status_code == 200


def count(csrf_app, model) -> int:
    """Rows of a model."""
    with csrf_app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_login_without_token_is_refused(client, world):
    """A sign-in posted from elsewhere (no token) gets 400 and no session."""
    response = client.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert not signed_in(client)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_login_with_a_wrong_token_is_refused(client, world):
    """A made-up token is no better than none."""
    token_from(client, "/login")  # the session now holds a real token
    response = client.post(
        "/login",
        data={"email": email_for("worker"), "password": PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 400
    assert not signed_in(client)


def test_login_with_a_token_from_another_session_is_refused(csrf_app, client, world):
    """A token scraped by an attacker from their own session does not work in the victim's."""
    attacker = csrf_app.test_client()
    token = token_from(attacker, "/login")
    token_from(client, "/login")
    response = client.post(
        "/login", data={"email": email_for("worker"), "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 400


def test_login_with_token_works(client, world):
    """The real form, token included, signs in."""
    sign_in(client, email_for("worker"))
    assert signed_in(client)


def test_logout_without_token_is_refused(client, world):
    """A forged sign-out request does nothing: still signed in."""
    sign_in(client, email_for("worker"))
    response = client.post("/logout")
    assert response.status_code == 400
    assert signed_in(client)


def test_logout_with_token_from_the_page_works(client, world):
    """The sign-out button on every page carries the token."""
    sign_in(client, email_for("worker"))
    token = token_from(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert not signed_in(client)


def test_new_shift_without_token_is_refused(csrf_app, client, world):
    """A shift cannot be logged by a forged request."""
    sign_in(client, email_for("worker"))
    before = count(csrf_app, Shift)
    response = client.post(
        "/shifts/new",
        data={
            "day": "2026-01-05",
            "start_time": "09:00",
            "end_time": "17:00",
            "site_id": world["site"]["a1"],
            "shift_type": "street_outreach",
            "break_minutes": "0",
        },
    )
    assert response.status_code == 400
    assert count(csrf_app, Shift) == before
    assert signed_in(client)


def test_new_user_without_token_is_refused(csrf_app, client, world):
    """An account cannot be created by a forged request; no mail goes out."""
    sign_in(client, email_for("admin"))
    before = count(csrf_app, User)
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Mallory",
            "email": "mallory@evil.example",
            "roles": ["admin"],
            "organisation_id": world["org"]["a"],
            "site_id": 0,
        },
    )
    assert response.status_code == 400
    assert count(csrf_app, User) == before
    with csrf_app.app_context():
        assert (
            db.session.scalar(sa.select(User).where(User.email == "mallory@evil.example")) is None
        )


def test_new_user_with_token_works(csrf_app, client, world):
    """The same request from the real form succeeds."""
    sign_in(client, email_for("admin"))
    token = token_from(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Dana Doe",
            "email": "dana@a.example.org",
            "roles": ["worker"],
            "organisation_id": world["org"]["a"],
            "site_id": world["site"]["a1"],
            "csrf_token": token,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with csrf_app.app_context():
        assert db.session.scalar(sa.select(User.id).where(User.email == "dana@a.example.org"))


@pytest.mark.parametrize("action", ["deactivate", "send-link", "reset-two-factor"])
def test_admin_buttons_without_token_are_refused(csrf_app, client, world, action):
    """One-button actions are forms with a token too; without it nothing happens."""
    sign_in(client, email_for("admin"))
    uid = world["user"]["worker"]
    response = client.post(f"/admin/users/{uid}/{action}")
    assert response.status_code == 400
    with csrf_app.app_context():
        assert db.session.get(User, uid).active is True


def test_admin_buttons_carry_the_token(csrf_app, client, world):
    """The Deactivate button on the edit page works with the token it prints."""
    sign_in(client, email_for("admin"))
    uid = world["user"]["worker"]
    token = token_from(client, f"/admin/users/{uid}")
    response = client.post(f"/admin/users/{uid}/deactivate", data={"csrf_token": token})
    assert response.status_code == 302
    with csrf_app.app_context():
        assert db.session.get(User, uid).active is False


def test_set_password_without_token_is_refused(csrf_app, client, world):
    """A password link's form needs its token as well."""
    from portal.auth.service import make_password_token

    with csrf_app.app_context(), csrf_app.test_request_context():
        token = make_password_token(db.session.get(User, world["user"]["worker"]))
    response = client.post(
        f"/set-password/{token}",
        data={"password": "a long enough password", "confirm": "a long enough password"},
    )
    assert response.status_code == 400
    with csrf_app.app_context():
        user = db.session.get(User, world["user"]["worker"])
        assert user.check_password(PASSWORD)
