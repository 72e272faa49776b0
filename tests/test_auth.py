"""Signing in and out, throttling, sessions, and the one-time links that set a password."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from portal import create_app
from portal.auth.routes import LOGIN_FAILED
from portal.auth.service import is_safe_next, make_password_token
from portal.extensions import db, limiter
from portal.models import User
from tests import factories
from tests.factories import PASSWORD, email_for

NEW_PASSWORD = "a brand new long passphrase"
LINK_GONE = "This link no longer works"


def body(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def location(response) -> str:
    """The path (and query) a redirect points to."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def user_by_email(app, email: str) -> User | None:
    """Read a user afresh from the database (detached, attributes loaded)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def bump_session_version(app, user_id: int) -> None:
    """What setting a password or deactivating does to every existing session."""
    with app.app_context():
        user = db.session.get(User, user_id)
        user.session_version += 1
        db.session.commit()


def mails(app) -> list:
    """Every message written to the mail folder, oldest first."""
    folder = Path(app.config["MAIL_DIR"])
    if not folder.exists():
        return []
    return [
        message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(folder.glob("*.eml"))
    ]


def set_password_path(message) -> str:
    """The /set-password/<token> path in a message."""
    match = re.search(r"https?://[^/\s]+(/set-password/[A-Za-z0-9_.\-]+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def signed_in_name(client) -> str | None:
    """Whose home page the client gets, or None when it is sent to sign in."""
    response = client.get("/")
    if response.status_code == 302:
        assert location(response).startswith("/login")
        return None
    assert response.status_code == 200
    match = re.search(r"Signed in as ([^(]+) \(", body(response))
    assert match, body(response)
    return match.group(1).strip()


# --- the sign-in page --------------------------------------------------------------------------


def test_login_page_has_labelled_fields(client):
    """The form labels both fields and says what its button does."""
    response = client.get("/login")
    assert response.status_code == 200
    page = body(response)
    assert "<h1>Sign in</h1>" in page
    assert re.search(r'<label for="email">E-mail</label>', page)
    assert re.search(r'<label for="password">Password</label>', page)
    assert re.search(r'<input[^>]*id="email"[^>]*type="email"', page)
    assert re.search(r'<input[^>]*id="password"[^>]*type="password"', page)
    assert 'autocomplete="current-password"' in page
    assert '<button type="submit" class="button primary wide">Sign in</button>' in page
    assert 'role="alert"' not in page


def test_good_credentials_sign_in_and_go_home(client, world, auth):
    """The right e-mail and password lead to the home page, signed in."""
    response = auth.login(email_for("worker"))
    assert response.status_code == 302
    assert location(response) == "/"
    assert signed_in_name(client) == "Worker A"


def test_signed_in_visitor_of_login_page_goes_home(client, world, auth):
    """Someone already signed in who opens /login is sent home."""
    auth.as_role("worker")
    response = client.get("/login")
    assert response.status_code == 302
    assert location(response) == "/"


def test_wrong_password_and_unknown_email_answer_the_same(client, world, auth):
    """Nobody can learn from the answer whether an e-mail has an account."""
    wrong_password = auth.login(email_for("worker"), "not the password at all")
    unknown_email = auth.login("nobody@a.example.org", "not the password at all")
    assert wrong_password.status_code == unknown_email.status_code == 200
    for response in (wrong_password, unknown_email):
        page = body(response)
        assert LOGIN_FAILED.replace("'", "&#39;") in page
        assert 'role="alert"' in page
    # The pages differ only in the e-mail typed back into the form.
    assert body(wrong_password).replace(email_for("worker"), "X") == body(unknown_email).replace(
        "nobody@a.example.org", "X"
    )
    assert signed_in_name(client) is None


def test_email_is_case_insensitive_and_trimmed(client, world, auth):
    """People type their address however their phone capitalises it."""
    response = auth.login("  WORKER@A.Example.ORG \t")
    assert response.status_code == 302
    assert signed_in_name(client) == "Worker A"


def test_deactivated_user_cannot_sign_in(app, client, world, auth):
    """A deactivated account gets the same answer as a wrong password."""
    with app.app_context():
        factories.make_user(
            "Gone Worker", "gone@a.example.org", {"worker"}, world["org"]["a"], active=False
        )
        db.session.commit()
    response = auth.login("gone@a.example.org")
    assert response.status_code == 200
    assert LOGIN_FAILED.replace("'", "&#39;") in body(response)
    assert signed_in_name(client) is None


def test_user_without_password_cannot_sign_in(app, client, world, auth):
    """An invited person who has not set a password yet cannot sign in with any password."""
    with app.app_context():
        factories.make_user(
            "New Worker", "new@a.example.org", {"worker"}, world["org"]["a"], password=None
        )
        db.session.commit()
    for attempt in (PASSWORD, "anything at all", " "):
        response = auth.login("new@a.example.org", attempt)
        assert response.status_code in (200, 422)
        assert signed_in_name(client) is None
    response = auth.login("new@a.example.org", PASSWORD)
    assert LOGIN_FAILED.replace("'", "&#39;") in body(response)


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ({"email": "worker@a.example.org", "password": ""}, ["Enter your password."]),
        ({"email": "", "password": PASSWORD}, ["Enter your e-mail."]),
        ({}, ["Enter your e-mail.", "Enter your password."]),
    ],
)
def test_missing_fields_are_refused_with_a_summary(client, world, data, messages):
    """An incomplete form comes back 422 with an error summary and the typed e-mail kept."""
    response = client.post("/login", data=data)
    assert response.status_code == 422
    page = body(response)
    summary = re.search(r'<div class="alert alert-error" role="alert".*?</div>', page, re.S)
    assert summary, page
    for message in messages:
        assert message in summary.group(0)
    if data.get("email"):
        assert f'value="{data["email"]}"' in page
    assert 'aria-invalid="true"' in page
    assert signed_in_name(client) is None


def test_password_is_never_echoed_back(client, world, auth):
    """A refused sign-in does not put the typed password into the page."""
    response = auth.login(email_for("worker"), "my-secret-guess-123")
    assert "my-secret-guess-123" not in body(response)


def test_password_hashes_are_argon2id(app, world):
    """Passwords are stored as argon2id hashes, never in clear."""
    with app.app_context():
        hashes = db.session.scalars(sa.select(User.password_hash)).all()
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)


# --- where sign-in leads -----------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/shifts", "/shifts?month=2026-01", "/admin/users?q=a%20b"])
def test_safe_next_is_followed(client, world, auth, target):
    """After sign-in the person lands on the page they asked for."""
    response = auth.login(email_for("worker"), next=target)
    assert response.status_code == 302
    assert location(response) == target


UNSAFE_NEXT = [
    "",
    "//evil.example",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://evil.example/x",
    "http://localhost/x",
    "javascript:alert(1)",
    "/%5Cevil.example",
    "/%2F%2Fevil.example",
    "/%5c%5cevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "shifts",
    " /shifts",
    "///evil.example",
]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_unsafe_next_goes_home(client, world, auth, target):
    """Anything but a plain local path is ignored: the person goes home instead."""
    response = auth.login(email_for("worker"), next=target)
    assert response.status_code == 302
    assert location(response) == "/"
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_next_from_the_address_is_carried_through_the_form(client, world):
    """/login?next=... puts the target in the form, so sign-in leads there."""
    response = client.get("/shifts")
    assert response.status_code == 302
    login_url = location(response)
    assert login_url == "/login?next=%2Fshifts"
    page = body(client.get(login_url))
    assert re.search(r'<input[^>]*name="next"[^>]*value="/shifts"', page)
    response = client.post(
        login_url, data={"email": email_for("worker"), "password": PASSWORD, "next": "/shifts"}
    )
    assert location(response) == "/shifts"


def test_next_in_the_address_alone_is_honoured_when_safe(client, world):
    """A form posted to /login?next=... without the hidden field still goes to a safe target."""
    response = client.post(
        "/login?next=%2Fshifts", data={"email": email_for("worker"), "password": PASSWORD}
    )
    assert location(response) == "/shifts"
    client.post("/logout")
    response = client.post(
        "/login?next=%2F%2Fevil.example", data={"email": email_for("worker"), "password": PASSWORD}
    )
    assert location(response) == "/"


@pytest.mark.parametrize(
    "target", ["/", "/shifts", "/shifts/12", "/shifts?month=2026-01#top", "/a/b%20c", "/x?next=//y"]
)
def test_is_safe_next_accepts_local_paths(target):
    """Plain local paths are safe."""
    assert is_safe_next(target) is True


@pytest.mark.parametrize("target", [None, *UNSAFE_NEXT, "/\x00", "/\x7fx", "ftp://x/y", "//"])
def test_is_safe_next_refuses_everything_else(target):
    """No scheme, no host, no backslash (raw or encoded), no control characters."""
    assert is_safe_next(target) is False


# --- signing out, anonymous visitors -----------------------------------------------------------


def test_anonymous_home_redirects_to_login(client):
    """Without a session the home page asks the visitor to sign in."""
    response = client.get("/")
    assert response.status_code == 302
    assert location(response) == "/login?next=%2F"
    page = body(client.get(location(response)))
    assert "Please sign in to see that page." in page


def test_logout_is_post_only(client, world, auth):
    """Signing out is a state change: GET is refused and the person stays signed in."""
    auth.as_role("worker")
    response = client.get("/logout")
    assert response.status_code == 405
    assert signed_in_name(client) == "Worker A"


def test_logout_ends_the_session(client, world, auth):
    """After signing out, the home page asks to sign in again."""
    auth.as_role("worker")
    response = auth.logout()
    assert response.status_code == 302
    assert location(response) == "/login"
    assert "You are signed out." in body(client.get("/login"))
    response = client.get("/")
    assert response.status_code == 302
    assert unquote(location(response)) == "/login?next=/"


def test_home_page_offers_a_sign_out_button(client, world, auth):
    """The sign-out control is a POST form with a button that says what it does."""
    auth.as_role("worker")
    page = body(client.get("/"))
    assert re.search(r'<form class="signout" method="post" action="/logout">', page)
    assert ">Sign out</button>" in page


# --- throttling --------------------------------------------------------------------------------


def test_default_limits(app):
    """The documented defaults: per account 5 failures in 5 minutes, 10 in an hour, 20 in a
    day; per address 20 in 5 minutes and 100 in a day."""
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per 5 minutes; 10 per hour; 20 per day"
    assert app.config["LOGIN_LIMIT_PER_IP"] == "20 per 5 minutes; 100 per day"


def test_the_wait_grows_with_the_failures(client, world, auth, monkeypatch):
    """Five failures: a few minutes' wait. Five more once it is over: most of an hour."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])  # the throttle's clock
    email = email_for("worker")
    for _ in range(5):
        assert auth.login(email, "wrong password here").status_code == 200
    first = auth.login(email, PASSWORD)
    assert first.status_code == 429
    assert re.search(r"\(about [1-5] min\)", body(first))
    now[0] += 6 * 60  # the 5-minute window is over: a few more tries, then the hour's limit
    answers = [auth.login(email, "wrong password here").status_code for _ in range(5)]
    assert answers[0] == 200 and 429 in answers
    second = auth.login(email, PASSWORD)
    assert second.status_code == 429
    minutes = int(re.search(r"\(about (\d+) min\)", body(second)).group(1))
    assert 40 <= minutes <= 60


def test_sixth_failure_for_one_account_is_throttled(client, world, auth):
    """After five failures even the right password is answered 429 with a clear message."""
    email = email_for("worker")
    for _ in range(5):
        assert auth.login(email, "wrong password here").status_code == 200
    response = auth.login(email, PASSWORD)
    assert response.status_code == 429
    page = body(response)
    assert "<h1>Sign in</h1>" in page
    assert "Too many failed sign-ins. Wait a few minutes, then try again." in page
    assert re.search(r"\(about [1-5] min\)", page)
    assert 'role="alert"' in page
    assert f'value="{email}"' in page
    assert "Retry-After" in response.headers
    assert signed_in_name(client) is None
    # The account is throttled whatever its address looks like.
    assert auth.login("  Worker@A.example.org", PASSWORD).status_code == 429


def test_throttle_is_per_account(client, world, auth):
    """One throttled account does not lock out others signing in from the same place."""
    for _ in range(6):
        auth.login(email_for("worker"), "wrong password here")
    assert auth.login(email_for("worker"), PASSWORD).status_code == 429
    assert auth.login(email_for("worker2")).status_code == 302


def test_successful_sign_ins_do_not_count(client, world, auth):
    """Signing in and out many times never throttles."""
    for _ in range(6):
        assert auth.login(email_for("worker")).status_code == 302
        auth.logout()
    for _ in range(4):
        assert auth.login(email_for("worker"), "wrong password here").status_code == 200
    assert auth.login(email_for("worker")).status_code == 302


def test_throttled_page_keeps_next(client, world, auth):
    """The 429 sign-in page still carries where the person was going."""
    for _ in range(5):
        auth.login(email_for("worker"), "wrong password here", next="/shifts")
    response = auth.login(email_for("worker"), next="/shifts")
    assert response.status_code == 429
    assert re.search(r'<input[^>]*name="next"[^>]*value="/shifts"', body(response))


@pytest.fixture
def low_ip_limit_app(app, database_url, tmp_path):
    """A second app on the same database, allowing only three failed sign-ins per address."""
    other = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        MAIL_DIR=str(tmp_path / "mail-ip"),
        LOGIN_LIMIT_PER_IP="3 per minute",
    )
    with other.app_context():
        limiter.reset()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_per_address_limit(low_ip_limit_app, world):
    """Failures across many e-mails from one address are throttled too."""
    client = low_ip_limit_app.test_client()
    for n in range(3):
        response = client.post("/login", data={"email": f"guess{n}@x.org", "password": "nope"})
        assert response.status_code == 200
    response = client.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in body(response)
    # Another address is not affected.
    response = client.post(
        "/login",
        data={"email": email_for("worker"), "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302


def test_get_login_is_never_throttled(client, world, auth):
    """Looking at the sign-in page does not count against anyone."""
    for _ in range(6):
        auth.login(email_for("worker"), "wrong password here")
    for _ in range(25):
        assert client.get("/login").status_code == 200


# --- sessions ----------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client, world, auth):
    """The session cookie cannot be read by scripts nor sent on cross-site posts."""
    response = auth.login(email_for("worker"))
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies
    assert "HttpOnly" in cookies[-1]
    assert "SameSite=Lax" in cookies[-1]
    assert "Expires=" in cookies[-1]  # a permanent session with a lifetime, not forever


def test_production_cookies_are_secure(database_url, tmp_path):
    """In production the session cookie is only sent over HTTPS."""
    prod = create_app(
        "production",
        SECRET_KEY="x" * 40,
        SQLALCHEMY_DATABASE_URI=database_url,
        MAIL_DIR=str(tmp_path / "mail"),
    )
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod.config.get("WTF_CSRF_ENABLED", True) is True
    # The sign-in page stores a CSRF token in the session: its cookie says Secure.
    response = prod.test_client().get("/login", base_url="https://localhost")
    assert response.status_code == 200
    cookies = response.headers.getlist("Set-Cookie")
    cookie = next(c for c in cookies if c.startswith("__Host-session="))  # docs/security.md
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Domain=" not in cookie and "Path=/;" in cookie + ";"
    with prod.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("key", [None, "", "dev-only-not-secret"])
def test_production_refuses_to_start_without_secret_key(database_url, key):
    """A production app with no (or the development) SECRET_KEY does not start."""
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=key, SQLALCHEMY_DATABASE_URI=database_url)


def test_bumped_session_version_signs_the_person_out(app, client, world, auth):
    """Whatever bumps the version (password set, deactivation) ends existing sessions."""
    auth.as_role("worker")
    assert signed_in_name(client) == "Worker A"
    bump_session_version(app, world["user"]["worker"])
    assert signed_in_name(client) is None
    # Signing in again works and gives a session with the new version.
    auth.as_role("worker")
    assert signed_in_name(client) == "Worker A"


def test_other_people_stay_signed_in_when_one_is_signed_out(app, world):
    """Bumping one person's version leaves everyone else's session alone."""
    one, two = app.test_client(), app.test_client()
    one.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    two.post("/login", data={"email": email_for("worker2"), "password": PASSWORD})
    bump_session_version(app, world["user"]["worker"])
    assert signed_in_name(one) is None
    assert signed_in_name(two) == "Worker2 A"


def test_a_forged_session_id_is_refused(app, client, world):
    """A session naming a user without the right version loads nobody."""
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{world['user']['admin']}:999"
    assert signed_in_name(client) is None
    with client.session_transaction() as sess:
        sess["_user_id"] = str(world["user"]["admin"])  # the old plain-id form
    assert signed_in_name(client) is None


def test_nothing_from_before_sign_in_survives(client, world, auth):
    """Signing in starts a fresh session (no fixation of values set before)."""
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    auth.as_role("worker")
    with client.session_transaction() as sess:
        assert "planted" not in sess


# --- one-time links to set a password ----------------------------------------------------------


@pytest.fixture
def invited(app, client, world, auth):
    """An admin creates an account; returns (email, link path) from the e-mail sent."""
    auth.as_role("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Nia Newcomer",
            "email": "Nia.Newcomer@A.example.org",
            "roles": ["worker"],
            "organisation_id": world["org"]["a"],
            "site_id": world["site"]["a1"],
        },
    )
    assert response.status_code == 302, body(response)
    auth.logout()
    sent = mails(app)
    assert len(sent) == 1
    return "nia.newcomer@a.example.org", set_password_path(sent[0])


def test_new_account_gets_a_set_password_link(app, invited):
    """The e-mail goes to the new person and holds a one-time link."""
    email, path = invited
    message = mails(app)[0]
    assert message["To"] == email
    assert message["Subject"] == "Set your FairShift password"
    assert "Hello Nia Newcomer" in message.get_content()
    assert "expires in 72 hours" in message.get_content()
    assert path.startswith("/set-password/")


def test_link_shows_the_form(client, invited):
    """Following the link shows who the password is for, with labelled fields."""
    email, path = invited
    response = client.get(path)
    assert response.status_code == 200
    page = body(response)
    assert "<h1>Set your password</h1>" in page
    assert "Welcome, Nia Newcomer" in page
    assert email in page
    assert '<label for="password">New password</label>' in page
    assert '<label for="confirm">Type it again</label>' in page
    assert "At least 12 characters" in page


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short pass1", "short pass1", "Use at least 12 characters."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords differ."),
        ("", "", "Choose a password."),
        (NEW_PASSWORD, "", "Type the password again."),
    ],
)
def test_bad_new_password_is_refused(app, client, invited, password, confirm, message):
    """A short or mistyped password is refused, nothing changes, the link still works."""
    email, path = invited
    response = client.post(path, data={"password": password, "confirm": confirm})
    assert response.status_code == 422
    page = body(response)
    assert 'role="alert"' in page
    assert message in page
    assert user_by_email(app, email).password_hash is None
    assert client.get(path).status_code == 200
    assert signed_in_name(client) is None


def test_good_password_signs_in_and_link_then_dies(app, client, invited, auth):
    """Setting the password signs the person in; the link cannot be used a second time."""
    email, path = invited
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert location(response) == "/"
    page = body(client.get("/"))
    assert "Your password is set. Welcome to FairShift." in page
    assert signed_in_name(client) == "Nia Newcomer"
    user = user_by_email(app, email)
    assert user.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in user.password_hash

    for method in (client.get, client.post):
        again = method(path, data={"password": "another long password", "confirm": "x"})
        assert again.status_code == 404
        assert LINK_GONE in body(again)
    assert user_by_email(app, email).password_hash == user.password_hash

    auth.logout()
    assert auth.login(email, NEW_PASSWORD).status_code == 302


def test_expired_link_is_refused(app, client, invited, monkeypatch):
    """After INVITE_TOKEN_HOURS the link no longer works."""
    _email, path = invited
    hours = app.config["INVITE_TOKEN_HOURS"]
    real = TimestampSigner.get_timestamp

    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: real(self) + hours * 3600 - 60
    )
    assert client.get(path).status_code == 200  # a minute before it expires
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: real(self) + hours * 3600 + 60
    )
    response = client.get(path)
    assert response.status_code == 404
    assert LINK_GONE in body(response)
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "x" + t,  # payload changed
        lambda t: t.split(".")[0],  # signature removed
        lambda t: "not-a-token",
    ],
)
def test_tampered_link_is_refused(client, invited, mangle):
    """A link that was altered in any way does not work."""
    _email, path = invited
    token = path.rsplit("/", 1)[1]
    response = client.get(f"/set-password/{mangle(token)}")
    assert response.status_code == 404
    assert LINK_GONE in body(response)


def test_link_signed_with_another_key_is_refused(app, client, world):
    """A token made by another installation (other SECRET_KEY) does not work here."""
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    other.config["SECRET_KEY"] = "some-other-key"
    with other.app_context():
        user = db.session.get(User, world["user"]["worker"])
        token = make_password_token(user)
        db.session.remove()
        db.engine.dispose()
    assert client.get(f"/set-password/{token}").status_code == 404


def test_link_of_a_deactivated_account_is_refused(app, client, world, invited, auth):
    """Deactivating an account kills the links already sent."""
    email, path = invited
    user_id = user_by_email(app, email).id
    auth.as_role("admin")
    assert client.post(f"/admin/users/{user_id}/deactivate").status_code == 302
    auth.logout()
    response = client.get(path)
    assert response.status_code == 404
    assert LINK_GONE in body(response)


def test_setting_a_password_signs_out_other_sessions(app, world, auth, client):
    """A reset link used on one device ends the sessions on every other device."""
    other_device = app.test_client()
    other_device.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    assert signed_in_name(other_device) == "Worker A"

    auth.as_role("admin")
    response = client.post(f"/admin/users/{world['user']['worker']}/send-link")
    assert response.status_code == 302
    path = set_password_path(mails(app)[-1])
    auth.logout()

    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in_name(client) == "Worker A"
    assert signed_in_name(other_device) is None
    # The old password no longer works, the new one does.
    assert auth.login(email_for("worker"), PASSWORD).status_code == 200
    assert auth.login(email_for("worker"), NEW_PASSWORD).status_code == 302


def test_link_signs_out_whoever_was_signed_in_before(client, world, auth, invited):
    """Using a link on a shared phone does not mix two people's sessions."""
    _email, path = invited
    auth.as_role("worker")
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert signed_in_name(client) == "Nia Newcomer"
