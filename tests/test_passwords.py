"""The password rules: length, the shipped common-password list, the e-mail, on every form."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.admin.service import send_invite
from portal.auth import passwords
from portal.auth.passwords import password_problems
from portal.extensions import db
from portal.models import AuditEvent, User

EMAIL = "nia.newcomer@a.example.org"


# --- the rules, without the client -------------------------------------------------------------


def test_the_list_ships_and_loads_once():
    """10,000 passwords, lower-cased, read from the package (no network), cached."""
    listed = passwords.common_passwords()
    assert len(listed) > 9_000
    assert {"password", "123456", "qwerty123456", "iloveyou"} <= listed
    assert passwords.common_passwords() is listed
    assert (passwords.COMMON_LIST.parent / "SOURCE.md").exists()


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "a brand new long passphrase",
        "Violet-Lantern-Okra-91",
        "seven bridges over the river",
        "ñandú café señal 2026",
    ],
)
def test_good_passwords_pass(password):
    assert password_problems(password, EMAIL) == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass1", passwords.TOO_SHORT),
        ("", passwords.TOO_SHORT),
        ("x" * 129, passwords.TOO_LONG),
        # On the list, whatever the letter case.
        ("qwerty123456", passwords.COMMON),
        ("QWERTY123456", passwords.COMMON),
        ("1q2w3e4r5t6y", passwords.COMMON),
        ("password", passwords.COMMON),  # short and common: both said
        # A listed password with digits or symbols around it.
        ("Password2026!", passwords.COMMON_WITH_EXTRAS),
        ("!!sunshine1234", passwords.COMMON_WITH_EXTRAS),
        # Repeats and runs.
        ("aaaaaaaaaaaa", passwords.PREDICTABLE),
        ("abcabcabcabc", passwords.PREDICTABLE),
        ("123456789012", passwords.PREDICTABLE),
        ("qwertyuiopas", passwords.PREDICTABLE),
        ("zyxwvutsrqpo", passwords.PREDICTABLE),
        # The e-mail, or a piece of it; the site's name.
        ("nia.newcomer@a.example.org", passwords.HAS_EMAIL),
        ("my name is Newcomer!", passwords.HAS_EMAIL),
        ("NIA.NEWCOMER-2026", passwords.HAS_EMAIL),
        ("love my FairShift job", passwords.HAS_SITE),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, message):
    assert message in password_problems(password, EMAIL)


def test_every_problem_is_said_at_once():
    problems = password_problems("newcomer", EMAIL)
    assert passwords.TOO_SHORT in problems and passwords.HAS_EMAIL in problems


def test_short_email_pieces_do_not_refuse_ordinary_words():
    """A three-letter local part ("ana@") must not refuse every password holding "ana"."""
    assert password_problems("banana split sundae", "ana@example.org") == []
    assert password_problems("the ana project", "ana.li@example.org") == []


def test_exactly_the_limits_are_accepted():
    assert password_problems("q7 violet ok", EMAIL) == []  # 12 characters
    assert password_problems("q7 violet ok " + "v" * 115, EMAIL) == []  # 128 characters


# --- on the set-password page ------------------------------------------------------------------


@pytest.fixture
def link(app, world):
    """A new account's invitation link path."""
    with app.test_request_context():
        user = db.session.get(User, world["user"]["worker2"])
        user.email = EMAIL
        link = send_invite(user)
        db.session.commit()
    return re.sub(r"^https?://[^/]+", "", link)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass1", "Use at least 12 characters."),
        ("qwerty123456", "on a list of common passwords"),
        ("Sunshine2026!", "common password with numbers or symbols added"),
        ("newcomer rocks hard", "Don&#39;t use your e-mail address"),
        ("x" * 129, "Use at most 128 characters."),
    ],
)
def test_set_password_form_refuses_with_clear_messages(app, client, link, password, message):
    """The refusal is shown on the form (422, role=alert); nothing is saved, the link works."""
    before = _hash(app, EMAIL)
    response = client.post(link, data={"password": password, "confirm": password})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert message in page
    assert _hash(app, EMAIL) == before
    assert client.get(link).status_code == 200
    with app.app_context():
        assert not db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "password.changed")
        )


def test_form_tells_the_rules_before_typing(client, link):
    page = client.get(link).get_data(as_text=True)
    assert "not a common password and not your e-mail" in page


def test_a_good_password_is_saved_and_audited(app, client, link, world):
    new = "violet lantern okra"
    response = client.post(link, data={"password": new, "confirm": new})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "password.changed")
        )
        assert event.subject_id == world["user"]["worker2"]
        assert event.actor_id == world["user"]["worker2"]
        assert event.record_type == "users"


def _hash(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(User.password_hash).where(User.email == email))
