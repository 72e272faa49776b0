"""Two-factor sign-in: setting it up, the second sign-in step, replay, recovery codes, the gate."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from portal.extensions import db
from portal.models import AuditEvent, RecoveryCode, User
from tests import factories
from tests.conftest import AuthActions
from tests.factories import PASSWORD, TOTP_SECRET, email_for, make_user, totp_code
from tests.test_admin import mails

SECRET_ON_PAGE = re.compile(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>')
RECOVERY_ON_PAGE = re.compile(r"<li><code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>")


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


def user_row(app, email: str) -> User:
    """A user read afresh (detached, attributes loaded)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def audit_rows(app, action: str) -> list[tuple]:
    """(outcome, subject_id, actor_id) of each audit event with this action, oldest first."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(AuditEvent.outcome, AuditEvent.subject_id, AuditEvent.actor_id)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        ]


def other_code(code: str) -> str:
    """A six-digit code that is not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def enrol(client) -> tuple[str, list[str], object]:
    """Set up two-factor through the pages; returns the secret, recovery codes and last answer."""
    page = body(client.get("/account/two-factor"))
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    response = client.post("/account/two-factor", data={"code": totp_code(secret)})
    return secret, RECOVERY_ON_PAGE.findall(body(response)), response


def password_step(auth, key: str = "hr", org: str = "a"):
    """Only the password step of signing in; must ask for the code."""
    response = auth.login(email_for(key, org), second_step=False)
    assert response.status_code == 302
    assert location(response) == "/login/two-factor"
    return response


# --- setting it up ----------------------------------------------------------------------------


def test_setup_page_shows_a_qr_code_as_inline_svg_without_inline_style(client, world, auth):
    """The QR code is SVG in the page (no image, no data: URL) and nothing has a style attribute."""
    auth.as_role("worker")
    response = client.get("/account/two-factor")
    assert response.status_code == 200
    page = body(response)
    assert '<svg role="img"' in page and 'class="qr-code"' in page
    assert "<title>QR code to scan with your authenticator app</title>" in page
    assert "<path" in page
    assert "style=" not in page  # CSP style-src 'self' would refuse inline styles
    assert "data:" not in page
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    assert len(secret) == 32  # 160 bits, base32
    assert '<label for="code">6-digit code from the app</label>' in page
    assert 'autocomplete="one-time-code"' in page


def test_the_qr_code_holds_the_secret_shown_as_text(app, client, world, auth):
    """The key shown for typing is the one in the otpauth:// address the QR code carries."""
    from portal.auth import twofactor

    auth.as_role("worker")
    page = body(client.get("/account/two-factor"))
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    with app.test_request_context():
        user = db.session.get(User, world["user"]["worker"])
        uri = twofactor.provisioning_uri(user, secret)
        assert str(twofactor.qr_svg(uri)) in page
    assert uri.startswith("otpauth://totp/FairShift:worker%40a.example.org?secret=" + secret)


def test_the_pending_secret_is_not_in_the_session_cookie(app, client, world, auth):
    """Flask's cookie is signed, not encrypted: only a nonce travels in it, never the secret."""
    auth.as_role("worker")
    page = body(client.get("/account/two-factor"))
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert secret not in repr(data)
    assert "totp_enrol" in data
    # The same page again offers the same secret until it is confirmed.
    assert secret in body(client.get("/account/two-factor")).replace(" ", "")


def test_a_wrong_code_is_refused_with_a_clear_message(app, client, world, auth):
    """A code that does not match is refused (422), nothing is switched on, the QR stays."""
    auth.as_role("worker")
    page = body(client.get("/account/two-factor"))
    secret = SECRET_ON_PAGE.search(page).group(1).replace(" ", "")
    response = client.post("/account/two-factor", data={"code": other_code(totp_code(secret))})
    assert response.status_code == 422
    page = body(response)
    assert 'role="alert"' in page
    assert "That code doesn&#39;t match. Enter the 6-digit code your app shows now." in page
    assert '<svg role="img"' in page
    user = user_row(app, email_for("worker"))
    assert user.totp_secret is None and user.totp_enabled_at is None
    for empty in ("", "abc"):
        response = client.post("/account/two-factor", data={"code": empty})
        assert response.status_code == 422
        assert 'role="alert"' in body(response)


def test_confirming_turns_it_on_and_shows_ten_recovery_codes_once(app, client, world, auth):
    """A right code switches two-factor on and shows 10 recovery codes, stored only as SHA-256."""
    auth.as_role("worker")
    secret, codes, response = enrol(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Two-factor sign-in is on." in body(response)
    assert "they will not be shown again" in body(response)
    assert len(codes) == 10 == len(set(codes))
    user = user_row(app, email_for("worker"))
    assert user.totp_secret == secret and user.totp_enabled_at is not None
    with app.app_context():
        stored = db.session.scalars(
            sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
        ).all()
    digests = {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert set(stored) == digests
    assert audit_rows(app, "2fa.enrolled") == [("ok", user.id, user.id)]
    # The account page now says so; the codes are not shown there.
    page = body(client.get("/account"))
    assert "since" in page and "10 unused recovery codes" in page
    assert codes[0] not in page


def test_after_setting_up_signing_in_asks_for_the_code(app, client, world, auth, frozen_clock):
    """Once it is on, the password alone no longer signs in."""
    auth.as_role("worker")
    secret, _codes, _ = enrol(client)
    auth.logout()
    response = auth.login(email_for("worker"), second_step=False)
    assert location(response) == "/login/two-factor"
    assert not signed_in(client)
    frozen_clock.advance(seconds=30)  # the set-up code's step is spent
    response = client.post("/login/two-factor", data={"code": totp_code(secret)})
    assert response.status_code == 302 and location(response) == "/"
    assert signed_in(client)


# --- the second sign-in step ------------------------------------------------------------------


def test_second_step_page_has_a_labelled_code_field(client, world, auth):
    """The code page explains itself and labels its one field."""
    password_step(auth)
    response = client.get("/login/two-factor")
    assert response.status_code == 200
    page = body(response)
    assert "<h1>Enter your code</h1>" in page
    assert '<label for="code">Code</label>' in page
    assert "recovery code" in page


def test_password_alone_does_not_sign_in(client, world, auth):
    """Between the two steps nothing but the code page is reachable."""
    password_step(auth)
    assert not signed_in(client)
    assert client.get("/hr/periods").status_code == 302


def test_wrong_code_is_refused_and_audited(app, client, world, auth, frozen_clock):
    """A wrong code: the page again with a message, an audit event, still not signed in."""
    password_step(auth)
    response = client.post("/login/two-factor", data={"code": other_code(totp_code())})
    assert response.status_code == 200
    assert "That code doesn&#39;t match" in body(response)
    assert 'role="alert"' in body(response)
    assert not signed_in(client)
    hr = world["user"]["hr"]
    assert audit_rows(app, "2fa.failed_code") == [("failed", hr, None)]
    response = client.post("/login/two-factor", data={"code": totp_code()})
    assert response.status_code == 302
    assert signed_in(client)
    assert ("ok", hr, hr) in audit_rows(app, "auth.sign_in")


def test_codes_one_step_either_side_are_accepted(app, client, world, auth, frozen_clock):
    """Phones drift: the previous and next 30-second codes work, two steps away does not."""
    for steps, accepted in ((2, False), (-2, False), (1, True)):
        password_step(auth)
        response = client.post("/login/two-factor", data={"code": totp_code(steps_ahead=steps)})
        assert (response.status_code == 302) is accepted, steps
        auth.logout()
    frozen_clock.advance(seconds=90)  # three steps on: the step before now is unused
    password_step(auth)
    response = client.post("/login/two-factor", data={"code": totp_code(steps_ahead=-1)})
    assert response.status_code == 302


def test_a_code_cannot_be_used_twice(app, client, world, auth, frozen_clock):
    """The same code (the same step) is refused the second time, with a clear message."""
    code = totp_code()
    password_step(auth)
    assert client.post("/login/two-factor", data={"code": code}).status_code == 302
    auth.logout()
    password_step(auth)
    response = client.post("/login/two-factor", data={"code": code})
    assert response.status_code == 200
    assert "That code has already been used. Wait for the next code" in body(response)
    assert not signed_in(client)
    # An older step than the last one used is refused too (no going back).
    response = client.post("/login/two-factor", data={"code": totp_code(steps_ahead=-1)})
    assert response.status_code == 200
    # The next step's code works.
    frozen_clock.advance(seconds=30)
    assert client.post("/login/two-factor", data={"code": totp_code()}).status_code == 302


def test_the_step_is_claimed_atomically(app, world):
    """Two checks of one code racing: the conditional UPDATE lets only one through."""
    from portal.auth import twofactor

    code = totp_code()
    with app.test_request_context():
        first = db.session.get(User, world["user"]["hr"])
        twofactor.verify_code(first, code)
        db.session.commit()
    with app.test_request_context():
        stale = db.session.get(User, world["user"]["hr"])
        # What a request that read the row before the first one wrote sees:
        set_committed_value(stale, "totp_last_step", None)
        with pytest.raises(twofactor.TwoFactorError, match="already been used"):
            twofactor.verify_code(stale, code)
        db.session.rollback()


def test_a_recovery_code_works_once(app, client, world, auth):
    """A recovery code signs in instead of a code, once; the audit says one was used."""
    from portal.auth import twofactor

    with app.app_context():
        codes = twofactor.new_recovery_codes(db.session.get(User, world["user"]["hr"]))
        db.session.commit()
    password_step(auth)
    response = client.post("/login/two-factor", data={"code": codes[3].upper()})
    assert response.status_code == 302
    page = body(client.get("/"))
    assert "You signed in with a recovery code. You have 9 left" in page
    hr = world["user"]["hr"]
    assert audit_rows(app, "2fa.recovery_code_used") == [("ok", hr, hr)]
    auth.logout()
    password_step(auth)
    response = client.post("/login/two-factor", data={"code": codes[3]})
    assert response.status_code == 200
    assert "one of your unused recovery codes" in body(response)
    assert not signed_in(client)
    # Written without dashes, another one works.
    response = client.post("/login/two-factor", data={"code": codes[4].replace("-", " ")})
    assert response.status_code == 302


def test_the_half_signed_in_state_expires_after_five_minutes(client, world, auth, frozen_clock):
    """A password typed more than 5 minutes ago is no longer half a sign-in."""
    password_step(auth)
    frozen_clock.advance(minutes=5, seconds=1)
    response = client.post("/login/two-factor", data={"code": totp_code()})
    assert response.status_code == 302
    assert location(response) == "/login"
    assert "Signing in took more than 5 minutes. Please start again." in body(client.get("/login"))
    assert not signed_in(client)
    assert client.get("/login/two-factor").status_code == 302


def test_second_step_keeps_the_next_address(client, world, auth):
    """The page asked for before signing in is reached after the code."""
    response = auth.login(email_for("hr"), next="/hr/periods")
    assert response.status_code == 302
    assert location(response) == "/hr/periods"


def test_the_second_step_is_throttled_per_account(app, client, world, auth):
    """After 5 wrong codes for one account, even the right one gets 429 for a while."""
    password_step(auth)
    for _ in range(5):
        response = client.post("/login/two-factor", data={"code": other_code(totp_code())})
        assert response.status_code == 200
    response = client.post("/login/two-factor", data={"code": totp_code()})
    assert response.status_code == 429
    assert "Too many wrong codes" in body(response)
    assert 'role="alert"' in body(response)
    assert not signed_in(client)
    # Another account is not affected.
    other = app.test_client()
    other.post("/login", data={"email": email_for("admin"), "password": PASSWORD})
    assert other.post("/login/two-factor", data={"code": totp_code()}).status_code == 302


def test_the_session_changes_between_the_steps(app, client, world, auth):
    """Nothing planted before the password survives, and the code step starts a new session."""
    with client.session_transaction() as sess:
        sess["planted"] = "x"
    password_step(auth)
    with client.session_transaction() as sess:
        assert "planted" not in sess and "_user_id" not in sess
        half = dict(sess)
    client.post("/login/two-factor", data={"code": totp_code()})
    with client.session_transaction() as sess:
        assert "pending_2fa" not in sess
        assert sess["_user_id"].startswith(f"{world['user']['hr']}:")
        assert "pending_2fa" in half


# --- roles that require it --------------------------------------------------------------------


@pytest.fixture
def hr_without_2fa(app, world) -> str:
    """An HR account that has not set up two-factor yet; returns its e-mail."""
    with app.app_context():
        make_user("New Hr", "newhr@a.example.org", {"hr"}, world["org"]["a"], two_factor=False)
        db.session.commit()
    return "newhr@a.example.org"


def test_privileged_user_without_2fa_can_only_set_it_up(app, client, world, auth, hr_without_2fa):
    """HR without two-factor reaches only the set-up page, sign-out and static files."""
    response = auth.login(hr_without_2fa)
    assert response.status_code == 302
    for url in ("/", "/hr/periods", "/account", "/reauth", "/my-data"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert location(response) == "/account/two-factor", url
    page = body(client.get("/account/two-factor"))
    assert "Your role needs two-factor sign-in. Set it up below" in page
    assert client.post("/hr/periods/close", data={}).status_code == 302
    assert client.get("/static/css/site.css").status_code == 200
    secret, codes, response = enrol(client)
    assert response.status_code == 200 and len(codes) == 10
    assert client.get("/hr/periods").status_code == 200


def test_privileged_user_without_2fa_can_sign_out(client, world, auth, hr_without_2fa):
    """Sign-out is reachable before setting up."""
    auth.login(hr_without_2fa)
    response = auth.logout()
    assert response.status_code == 302 and location(response) == "/login"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", ["counselor", "hr", "admin", "funder"])
def test_each_required_role_is_gated(app, client, world, auth, role):
    """Every role that requires two-factor is held at the set-up page without it."""
    with app.app_context():
        make_user("Fresh", "fresh@a.example.org", {role}, world["org"]["a"], two_factor=False)
        db.session.commit()
    auth.login("fresh@a.example.org")
    assert location(client.get("/")) == "/account/two-factor"


@pytest.mark.parametrize("role", ["worker", "supervisor", "leader"])
def test_other_roles_may_go_without(client, world, auth, role):
    """Two-factor is optional for the other roles; the menu links to the Account page."""
    auth.as_role(role)
    page = body(client.get("/"))
    assert '<a href="/account"' in page and ">Account</a>" in page
    assert client.get("/account").status_code == 200
    assert "Set up two-factor sign-in" in body(client.get("/account"))


# --- turning it off, new recovery codes --------------------------------------------------------


def test_an_optional_user_turns_it_off_with_a_current_code(app, client, world, auth, frozen_clock):
    """Turning off asks for a current code; a wrong one is refused."""
    auth.as_role("worker")
    secret, _codes, _ = enrol(client)
    frozen_clock.advance(seconds=30)
    code = totp_code(secret)
    response = client.post("/account/two-factor/disable", data={"code": other_code(code)})
    assert response.status_code == 422
    assert "That code doesn&#39;t match" in body(response)
    assert user_row(app, email_for("worker")).totp_secret == secret
    response = client.post("/account/two-factor/disable", data={"code": code})
    assert response.status_code == 302
    assert "Two-factor sign-in is off." in body(client.get("/account"))
    user = user_row(app, email_for("worker"))
    assert user.totp_secret is None and user.totp_enabled_at is None
    with app.app_context():
        left = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id)
        )
    assert left == 0
    assert len(audit_rows(app, "2fa.disabled")) == 1
    assert len(audit_rows(app, "2fa.failed_code")) == 1


def test_a_required_role_cannot_turn_it_off(app, client, world, auth, frozen_clock):
    """HR is told why and two-factor stays on."""
    auth.as_role("hr")
    assert "cannot be turned off" in body(client.get("/account"))
    frozen_clock.advance(seconds=30)
    response = client.post("/account/two-factor/disable", data={"code": totp_code()})
    assert response.status_code == 422
    assert "Your role needs two-factor sign-in, so it cannot be turned off." in body(response)
    assert user_row(app, email_for("hr")).totp_secret == TOTP_SECRET


def test_new_recovery_codes_replace_the_old_ones(app, client, world, auth):
    """Making new codes shows ten new ones once; the old ones stop working."""
    auth.as_role("worker")
    _secret, old_codes, _ = enrol(client)
    response = client.post("/account/two-factor/recovery-codes")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new_codes = RECOVERY_ON_PAGE.findall(body(response))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert "The old ones no longer work." in body(response)
    auth.logout()
    auth.login(email_for("worker"), second_step=False)
    assert client.post("/login/two-factor", data={"code": old_codes[0]}).status_code == 200
    assert client.post("/login/two-factor", data={"code": new_codes[0]}).status_code == 302
    assert len(audit_rows(app, "2fa.recovery_codes_replaced")) == 1


def test_moving_to_a_new_phone_replaces_the_secret(app, client, world, auth, frozen_clock):
    """With two-factor on, the set-up page offers a new secret; the old one works until then."""
    auth.as_role("hr")
    page = body(client.get("/account/two-factor"))
    assert "Move two-factor sign-in to a new phone" in page
    secret, codes, response = enrol(client)
    assert response.status_code == 200 and len(codes) == 10
    assert secret != TOTP_SECRET
    assert user_row(app, email_for("hr")).totp_secret == secret
    assert len(audit_rows(app, "2fa.replaced")) == 1


def test_audit_events_never_hold_codes(app, client, world, auth):
    """No audit column carries a code or a recovery code."""
    auth.as_role("worker")
    secret, codes, _ = enrol(client)
    auth.logout()
    auth.login(email_for("worker"), second_step=False)
    client.post("/login/two-factor", data={"code": codes[0]})
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent)).scalars().all()
        text = " ".join(
            f"{r.action} {r.record_type} {r.record_id} {r.outcome} {r.actor_role} {r.ip}"
            for r in rows
        )
    assert secret not in text
    assert not any(c in text or c.replace("-", "") in text for c in codes)
    assert factories.PASSWORD not in text


# --- an administrator resets someone's two-factor (lost phone, no recovery codes) ---------------


def test_an_admin_resets_two_factor_and_the_person_sets_up_a_new_phone(app, client, world, auth):
    """The HR officer lost their phone and their codes: the admin resets it; the HR officer's
    open session ends, their codes are gone, they are told by e-mail, and at their next sign-in
    the password alone leads to setting up the new phone (their role needs it)."""
    hr_email = email_for("hr")
    hr_id = world["user"]["hr"]
    hr_client = app.test_client()
    AuthActions(hr_client).as_role("hr")
    assert signed_in(hr_client)

    auth.as_role("admin")
    page = body(client.get(f"/admin/users/{hr_id}"))
    assert "Two-factor sign-in" in page and "On since" in page
    response = client.post(f"/admin/users/{hr_id}/reset-two-factor")
    assert location(response) == f"/admin/users/{hr_id}"
    page = body(client.get(f"/admin/users/{hr_id}"))
    assert "two-factor sign-in is reset and they are signed out everywhere" in page
    assert "Off. Their role needs it" in page

    hr = user_row(app, hr_email)
    assert hr.totp_secret is None and hr.totp_enabled_at is None
    with app.app_context():
        left = db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(RecoveryCode.user_id == hr_id)
        )
    assert left == 0
    assert audit_rows(app, "2fa.reset") == [("ok", hr_id, world["user"]["admin"])]
    told = [m for m in mails(app) if m["To"] == hr_email]
    assert told and "was reset" in told[-1]["Subject"]
    assert "tell your administrator" in told[-1].get_body().get_content()

    assert not signed_in(hr_client)  # the session the lost phone's owner had is over
    response = AuthActions(hr_client).login(hr_email)
    assert response.status_code == 302 and location(response) == "/"
    assert location(hr_client.get("/")) == "/account/two-factor"
    secret, codes, response = enrol(hr_client)
    assert response.status_code == 200 and len(codes) == 10 and secret != TOTP_SECRET


def test_resetting_two_factor_needs_a_recent_sign_in(app, client, world, auth, frozen_clock):
    hr_id = world["user"]["hr"]
    auth.as_role("admin")
    frozen_clock.advance(minutes=5, seconds=1)
    response = client.post(f"/admin/users/{hr_id}/reset-two-factor")
    assert urlsplit(response.headers["Location"]).path == "/reauth"
    assert user_row(app, email_for("hr")).totp_enabled_at is not None
    assert audit_rows(app, "2fa.reset") == []


def test_there_is_nothing_to_reset_without_two_factor_or_on_ones_own_account(
    app, client, world, auth
):
    auth.as_role("admin")
    worker = world["user"]["worker"]  # a worker who never set it up
    assert "Off." in body(client.get(f"/admin/users/{worker}"))
    response = client.post(f"/admin/users/{worker}/reset-two-factor", follow_redirects=True)
    assert "Worker A has no two-factor sign-in to reset." in body(response)

    own = world["user"]["admin"]
    page = body(client.get(f"/admin/users/{own}"))
    assert "Reset two-factor sign-in" not in page and "your account page" in page
    response = client.post(f"/admin/users/{own}/reset-two-factor", follow_redirects=True)
    assert "To move your own two-factor sign-in to a new phone" in body(response)
    assert user_row(app, email_for("admin")).totp_enabled_at is not None
    assert audit_rows(app, "2fa.reset") == []


def test_only_admins_may_reset_two_factor(app, client, world, auth):
    hr_id = world["user"]["hr"]
    for role in ("worker", "supervisor", "hr", "leader", "counselor", "funder"):
        auth.as_role(role)
        assert client.post(f"/admin/users/{hr_id}/reset-two-factor").status_code == 404, role
        auth.logout()
    assert user_row(app, email_for("hr")).totp_enabled_at is not None


def test_a_reset_stands_when_the_email_cannot_be_sent(app, client, world, auth, monkeypatch):
    """The reset is done and audited; the admin is told the person was not e-mailed."""
    import portal.admin.routes as admin_routes

    def broken(*_args, **_kwargs):
        raise OSError("mail server unreachable")

    monkeypatch.setattr(admin_routes, "send_mail", broken)
    hr_id = world["user"]["hr"]
    auth.as_role("admin")
    page = body(client.post(f"/admin/users/{hr_id}/reset-two-factor", follow_redirects=True))
    assert f"The e-mail telling {email_for('hr')} about it could not be sent." in page
    assert "two-factor sign-in is reset" in page
    assert user_row(app, email_for("hr")).totp_enabled_at is None
    assert audit_rows(app, "2fa.reset") == [("ok", hr_id, world["user"]["admin"])]
