"""Re-authentication before sensitive actions: stale means redirected and nothing changed.

Each action: signed in more than REAUTH_MINUTES ago, the POST is not performed and goes to
/reauth with the form's GET page as ``next``; after the password or a code, it works.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import ApiToken, AuditEvent, PayPeriod, PayRate, RecoveryCode, User
from portal.timeutil import local_today
from tests.factories import PASSWORD, email_for, totp_code
from tests.test_admin import form_of, new_person
from tests.test_fair_pay import setup_org
from tests.test_pay import seed_previous_period

REAUTH_PROMPT = "For your security, confirm it&#39;s you before you "


def body(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def location(response) -> str:
    """The path (and query) a redirect points to."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def reauth_next(response) -> str:
    """The ``next`` of a redirect to /reauth (asserting that is where it goes)."""
    assert response.status_code == 302, body(response)
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/reauth"
    return parse_qs(parts.query)["next"][0]


def count(app, model, *where) -> int:
    """Rows of a model (matching ``where``)."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def audit_rows(app, action: str) -> list[tuple]:
    """(outcome, subject_id) of each audit event with this action."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(AuditEvent.outcome, AuditEvent.subject_id)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        ]


def confirm(client, next_url: str, **data):
    """Post the re-authentication form."""
    return client.post("/reauth", data={"next": next_url, **data})


@pytest.fixture
def stale(frozen_clock):
    """Move the clock past REAUTH_MINUTES (5) but within every idle time (30)."""
    return lambda: frozen_clock.advance(minutes=5, seconds=1)


# --- closing a pay period ----------------------------------------------------------------------


def test_closing_a_period_needs_a_recent_sign_in(app, client, world, auth, stale):
    """Stale: not closed, sent to confirm, then back to the periods page; then it closes."""
    previous, _ = seed_previous_period(app, world)
    auth.as_role("hr")
    stale()
    data = {"period_start": previous.start.isoformat()}
    response = client.post("/hr/periods/close", data=data)
    assert reauth_next(response) == "/hr/periods"
    assert count(app, PayPeriod) == 0
    page = body(client.get(location(response)))
    assert REAUTH_PROMPT + "close a pay period." in page
    assert "<h1>Confirm it's you</h1>" in page
    response = confirm(client, "/hr/periods", password=PASSWORD)
    assert response.status_code == 302 and location(response) == "/hr/periods"
    response = client.post("/hr/periods/close", data=data)
    assert response.status_code == 302 and location(response).startswith("/hr/periods/")
    assert count(app, PayPeriod) == 1


def test_within_the_reauth_time_nothing_is_asked(app, client, world, auth, frozen_clock):
    """Five minutes after signing in the action still runs at once."""
    previous, _ = seed_previous_period(app, world)
    auth.as_role("hr")
    frozen_clock.advance(minutes=5)
    response = client.post("/hr/periods/close", data={"period_start": previous.start.isoformat()})
    assert location(response).startswith("/hr/periods/")
    assert count(app, PayPeriod) == 1


def test_pages_are_never_blocked(app, client, world, auth, stale):
    """Only the actions ask: the pages with their forms open as usual."""
    auth.as_role("hr")
    stale()
    for url in ("/hr/periods", "/hr/fair-pay/what-if?scenario=to_target"):
        assert client.get(url).status_code == 200, url


# --- applying a what-if ------------------------------------------------------------------------


def test_applying_a_what_if_needs_a_recent_sign_in(app, client, world, auth, stale):
    """Stale: no rate saved; after a code the what-if comes back filled in and applies."""
    setup_org(app, world)
    auth.as_role("hr")
    stale()
    with app.app_context():
        start = (local_today() + timedelta(days=20)).isoformat()
    data = {"scenario": "to_target", "effective_from": start, "reason": "Raise to the median"}
    response = client.post("/hr/fair-pay/what-if", data=data)
    back = reauth_next(response)
    assert urlsplit(back).path == "/hr/fair-pay/what-if"
    assert parse_qs(urlsplit(back).query) == {k: [v] for k, v in data.items()}
    assert count(app, PayRate) == 3
    assert REAUTH_PROMPT + "apply raises." in body(client.get(location(response)))
    response = confirm(client, back, code=totp_code())
    assert response.status_code == 302 and location(response) == back
    page = body(client.get(back))
    assert "1 worker would change" in page and "Raise to the median" in page
    response = client.post("/hr/fair-pay/what-if", data=data, follow_redirects=True)
    assert "Scheduled 1 rate change" in body(response)
    assert count(app, PayRate) == 4


# --- changing roles ----------------------------------------------------------------------------


def test_changing_roles_needs_a_recent_sign_in(app, client, world, auth, stale):
    """Stale: the roles stay as they were; after the password the change is saved."""
    uid = world["user"]["worker2"]
    auth.as_role("admin")
    stale()
    data = form_of(app, uid, roles=["worker", "supervisor"])
    assert client.get(f"/admin/users/{uid}").status_code == 200  # the page opens
    response = client.post(f"/admin/users/{uid}", data=data)
    assert reauth_next(response) == f"/admin/users/{uid}"
    with app.app_context():
        assert db.session.get(User, uid).roles == {"worker"}
    confirm(client, f"/admin/users/{uid}", password=PASSWORD)
    response = client.post(f"/admin/users/{uid}", data=data)
    assert response.status_code == 302 and location(response) == f"/admin/users/{uid}"
    with app.app_context():
        assert db.session.get(User, uid).roles == {"worker", "supervisor"}


def test_creating_an_account_needs_a_recent_sign_in(app, client, world, auth, stale):
    """Stale: nobody is created (a new account is given roles too)."""
    auth.as_role("admin")
    stale()
    before = count(app, User)
    response = client.post("/admin/users/new", data=new_person(world))
    assert reauth_next(response) == "/admin/users/new"
    assert count(app, User) == before


# --- issuing API tokens ------------------------------------------------------------------------


def test_issuing_an_api_token_needs_a_recent_sign_in(app, client, world, auth, stale):
    """Stale: no token; sent back to the account's tokens page after confirming."""
    leader = world["user"]["leader"]
    auth.as_role("admin")
    stale()
    response = client.post(f"/admin/users/{leader}/tokens", data={"name": "Quarterly report"})
    assert reauth_next(response) == f"/admin/users/{leader}/tokens"
    assert count(app, ApiToken) == 0
    confirm(client, f"/admin/users/{leader}/tokens", code=totp_code())
    response = client.post(f"/admin/users/{leader}/tokens", data={"name": "Quarterly report"})
    assert response.status_code == 200
    assert count(app, ApiToken) == 1


# --- new recovery codes ------------------------------------------------------------------------


def test_new_recovery_codes_need_a_recent_sign_in(app, client, world, auth, stale):
    """Stale: the codes stay as they were."""
    from portal.auth import twofactor

    hr = world["user"]["hr"]
    with app.app_context():
        twofactor.new_recovery_codes(db.session.get(User, hr))
        db.session.commit()
        before = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    auth.as_role("hr")
    stale()
    response = client.post("/account/two-factor/recovery-codes")
    assert reauth_next(response) == "/account"
    with app.app_context():
        assert set(db.session.scalars(sa.select(RecoveryCode.code_hash))) == before


# --- the /reauth page --------------------------------------------------------------------------


def test_reauth_page_asks_for_a_code_only_when_two_factor_is_on(client, world, auth):
    """HR may give a password or a code; a worker without two-factor, the password."""
    auth.as_role("hr")
    page = body(client.get("/reauth?next=/hr/periods"))
    assert '<label for="password">Password</label>' in page
    assert '<label for="code">Or a 6-digit code from your authenticator app</label>' in page
    assert 'name="next" type="hidden" value="/hr/periods"' in page
    auth.logout()
    auth.as_role("worker")
    page = body(client.get("/reauth"))
    assert '<label for="password">Password</label>' in page
    assert 'for="code"' not in page


def test_a_wrong_password_or_code_is_refused(app, client, world, auth, stale):
    """Refused: the form again with a message, an audit event, and the action still stale."""
    previous, _ = seed_previous_period(app, world)
    auth.as_role("hr")
    stale()
    response = confirm(client, "/hr/periods", password="not the password at all")
    assert response.status_code == 200
    assert "That password or code is not right." in body(response)
    assert 'role="alert"' in body(response)
    response = confirm(client, "/hr/periods", code=f"{(int(totp_code()) + 1) % 10**6:06d}")
    assert response.status_code == 200
    assert "That code doesn&#39;t match" in body(response)
    response = confirm(client, "/hr/periods")
    assert response.status_code == 200
    assert "Enter your password, or a code from your app." in body(response)
    hr = world["user"]["hr"]
    assert audit_rows(app, "auth.reauth") == [("failed", hr)] * 3
    response = client.post("/hr/periods/close", data={"period_start": previous.start.isoformat()})
    assert reauth_next(response) == "/hr/periods"
    assert count(app, PayPeriod) == 0


def test_a_code_used_to_sign_in_cannot_confirm_again(app, client, world, auth, frozen_clock):
    """Re-authentication spends a time step like sign-in does."""
    auth.login(email_for("hr"), second_step=False)
    code = totp_code()
    assert client.post("/login/two-factor", data={"code": code}).status_code == 302
    frozen_clock.advance(minutes=5, seconds=1)  # a later step, but "code" is an old one
    response = confirm(client, "/", code=code)
    assert response.status_code == 200
    assert "doesn&#39;t match" in body(response) or "already been used" in body(response)
    assert confirm(client, "/", code=totp_code()).status_code == 302
    assert confirm(client, "/", code=totp_code()).status_code == 200  # the same step again


def test_confirming_is_audited_and_goes_only_to_local_pages(app, client, world, auth):
    """Success is audited; an address on another site is replaced by the home page."""
    auth.as_role("worker")
    response = confirm(client, "https://evil.example/", password=PASSWORD)
    assert response.status_code == 302 and location(response) == "/"
    response = confirm(client, "/\\evil.example", password=PASSWORD)
    assert location(response) == "/"
    assert audit_rows(app, "auth.reauth") == [("ok", world["user"]["worker"])] * 2


def test_reauth_is_throttled_per_account(app, client, world, auth):
    """Five wrong passwords, then 429 even for the right one."""
    auth.as_role("worker")
    for _ in range(5):
        assert confirm(client, "/", password="wrong password again").status_code == 200
    response = confirm(client, "/", password=PASSWORD)
    assert response.status_code == 429
    assert "Too many wrong codes or passwords" in body(response)
    # Someone else is not affected.
    other = app.test_client()
    other.post("/login", data={"email": email_for("worker2"), "password": PASSWORD})
    assert other.post("/reauth", data={"password": PASSWORD}).status_code == 302


def test_reauth_needs_a_sign_in(client, world):
    """Anonymous visitors are sent to sign in."""
    response = client.get("/reauth?next=/hr/periods")
    assert response.status_code == 302
    assert unquote(location(response)).startswith("/login?next=/reauth")
