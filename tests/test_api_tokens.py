"""Admin pages for API tokens: list, issue (shown once, stored hashed), revoke, who may."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import ApiToken, AuditEvent, User

TOKEN = re.compile(r"fs_[A-Za-z0-9_-]{43}")


def body(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def tokens_url(user_id: int) -> str:
    return f"/admin/users/{user_id}/tokens"


def issue(client, user_id: int, name: str = "Quarterly report"):
    """Post the issue form for an account."""
    return client.post(tokens_url(user_id), data={"name": name})


def token_rows(app, user_id: int) -> list[ApiToken]:
    """An account's tokens, read afresh (detached)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user_id)).all()
        db.session.expunge_all()
        return list(rows)


def audit(app, action: str) -> list[tuple]:
    """(actor_id, record_id, subject_id) of every audit event with ``action``."""
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                sa.select(AuditEvent.actor_id, AuditEvent.record_id, AuditEvent.subject_id)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        ]


def test_the_account_page_links_to_its_tokens(client, auth, world):
    auth.as_role("admin")
    leader = world["user"]["leader"]
    page = body(client.get(f"/admin/users/{leader}"))
    assert f'href="{tokens_url(leader)}"' in page and "API tokens" in page
    response = client.get(tokens_url(leader))
    assert response.status_code == 200
    assert "No tokens yet." in body(response)
    assert "Issue token" in body(response)


@pytest.mark.parametrize("key", ["leader", "funder_city"])
def test_issue_shows_the_token_once(client, app, auth, world, key):
    auth.as_role("admin")
    uid = world["user"][key]
    response = issue(client, uid)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = body(response)
    found = TOKEN.findall(page)
    assert len(set(found)) == 1
    plain = found[0]
    assert "will not be shown again" in page
    # Not flashed, not in the session: the list page and the cookie never carry it.
    with client.session_transaction() as sess:
        assert plain not in repr(dict(sess))
    listing = body(client.get(tokens_url(uid)))
    assert plain not in listing
    assert "Quarterly report" in listing and plain[:8] in listing
    assert "Revoke" in listing
    # ... and it opens the API.
    api = client.get("/api/v1/stats/programme", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 200
    (row,) = token_rows(app, uid)
    assert row.prefix == plain[:8]
    assert row.created_by_id == world["user"]["admin"]
    assert audit(app, "api_token.issued") == [(world["user"]["admin"], row.id, uid)]


def test_the_token_is_stored_only_as_its_digest(client, app, auth, world):
    auth.as_role("admin")
    plain = TOKEN.search(body(issue(client, world["user"]["leader"]))).group(0)
    (row,) = token_rows(app, world["user"]["leader"])
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    secret = plain[8:]  # the part that is not the displayed prefix
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for record in conn.execute(table.select()):
                text = repr(tuple(record))
                assert plain not in text and secret not in text, table.name


@pytest.mark.parametrize("key", ["worker", "hr", "supervisor", "admin"])
def test_other_roles_cannot_get_a_token(client, app, auth, world, key):
    auth.as_role("admin")
    uid = world["user"][key]
    page = body(client.get(tokens_url(uid)))
    assert "only for leader and funder accounts" in page
    assert "Issue token" not in page
    response = issue(client, uid)
    assert response.status_code == 422
    assert "Only leader and funder accounts" in body(response)
    assert 'role="alert"' in body(response)
    assert TOKEN.search(body(response)) is None
    assert token_rows(app, uid) == []
    assert audit(app, "api_token.issued") == []


def test_a_deactivated_account_cannot_get_a_token(client, app, auth, world):
    with app.app_context():
        db.session.get(User, world["user"]["leader"]).active = False
        db.session.commit()
    auth.as_role("admin")
    response = issue(client, world["user"]["leader"])
    assert response.status_code == 422
    assert "reactivate it" in body(response)
    assert token_rows(app, world["user"]["leader"]) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_a_token_needs_a_short_name(client, app, auth, world, name):
    auth.as_role("admin")
    response = issue(client, world["user"]["leader"], name)
    assert response.status_code == 422
    page = body(response)
    assert 'role="alert"' in page
    assert "Give the token a name" in page or "Keep the name to 80 characters" in page
    assert TOKEN.search(page) is None
    assert token_rows(app, world["user"]["leader"]) == []


def test_revoke(client, app, auth, world):
    auth.as_role("admin")
    uid = world["user"]["leader"]
    plain = TOKEN.search(body(issue(client, uid))).group(0)
    (row,) = token_rows(app, uid)
    response = client.post(f"{tokens_url(uid)}/{row.id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(tokens_url(uid))
    page = body(client.get(tokens_url(uid)))
    assert "is revoked" in page
    assert f"{tokens_url(uid)}/{row.id}/revoke" not in page  # no button for a revoked token
    (row,) = token_rows(app, uid)
    assert row.revoked_at is not None
    assert audit(app, "api_token.revoked") == [(world["user"]["admin"], row.id, uid)]
    api = client.get("/api/v1/stats/programme", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 401
    # Twice is harmless, and audited once.
    client.post(f"{tokens_url(uid)}/{row.id}/revoke")
    assert "already revoked" in body(client.get(tokens_url(uid)))
    assert len(audit(app, "api_token.revoked")) == 1


def test_a_token_is_revoked_only_through_its_own_account(client, app, auth, world):
    auth.as_role("admin")
    issue(client, world["user"]["leader"])
    (row,) = token_rows(app, world["user"]["leader"])
    other = world["user"]["funder_city"]
    assert client.post(f"{tokens_url(other)}/{row.id}/revoke").status_code == 404
    assert token_rows(app, world["user"]["leader"])[0].revoked_at is None


def test_unknown_account_is_404(client, auth, world):
    auth.as_role("admin")
    assert client.get(tokens_url(999999)).status_code == 404
    assert issue(client, 999999).status_code == 404
    assert client.post(f"{tokens_url(999999)}/1/revoke").status_code == 404


@pytest.mark.parametrize("role", ["worker", "supervisor", "counselor", "hr", "leader", "funder"])
def test_only_admins_manage_tokens(client, app, auth, world, role):
    auth.as_role(role)
    uid = world["user"]["leader"]
    assert client.get(tokens_url(uid)).status_code == 404
    assert issue(client, uid).status_code == 404
    assert token_rows(app, uid) == []


def test_issue_and_revoke_need_the_csrf_token(app, database_url, world, tmp_path):
    from portal import create_app
    from tests.test_csrf import sign_in, token_from

    protected = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                           WTF_CSRF_ENABLED=True, MAIL_DIR=str(tmp_path / "mail"))  # fmt: skip
    client = protected.test_client()
    sign_in(client, "admin@a.example.org")
    uid = world["user"]["leader"]
    assert client.post(tokens_url(uid), data={"name": "Forged"}).status_code == 400
    assert token_rows(app, uid) == []
    csrf = token_from(client, tokens_url(uid))
    response = client.post(tokens_url(uid), data={"name": "Real", "csrf_token": csrf})
    assert response.status_code == 200 and TOKEN.search(body(response))
    (row,) = token_rows(app, uid)
    assert client.post(f"{tokens_url(uid)}/{row.id}/revoke").status_code == 400
    assert token_rows(app, uid)[0].revoked_at is None
    csrf = token_from(client, tokens_url(uid))
    response = client.post(f"{tokens_url(uid)}/{row.id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 302
    assert token_rows(app, uid)[0].revoked_at is not None
    with protected.app_context():
        db.session.remove()
        db.engine.dispose()
