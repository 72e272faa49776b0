"""The application as a whole: configuration, health, database settings, error pages."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import create_app
from portal.database import normalise_database_url
from portal.extensions import db
from portal.models import Shift, User
from tests import factories


def test_production_refuses_to_start_without_secret_key(database_url, monkeypatch):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app("production", SECRET_KEY=None, SQLALCHEMY_DATABASE_URI=database_url)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app(
            "production", SECRET_KEY="dev-only-not-secret", SQLALCHEMY_DATABASE_URI=database_url
        )
    app = create_app(
        "production", SECRET_KEY="s3cret-for-test", SQLALCHEMY_DATABASE_URI=database_url
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(url, expected):
    assert normalise_database_url(url) == expected


def test_healthz_answers_200_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_without_the_database(tmp_path):
    missing = tmp_path / "no-such-dir" / "db.sqlite"  # SQLite cannot create it: unreachable
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_pages_answer_a_friendly_503_without_the_database(tmp_path):
    missing = tmp_path / "no-such-dir" / "db.sqlite"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    response = app.test_client().post(
        "/login", data={"email": "worker@example.org", "password": "whatever-it-is"}
    )
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "briefly unavailable" in page
    assert "Traceback" not in page and "sqlite" not in page.lower()


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert "988" in response.get_data(as_text=True)  # help stays in reach on every page


def test_every_page_shows_help_now(client, world, auth):
    for response in (client.get("/login"), auth.as_role("worker") and client.get("/")):
        page = response.get_data(as_text=True)
        assert 'href="tel:988"' in page
        assert "(314) 555-0142" in page  # the on-call number setting's default


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_models_and_migrations_agree(app):
    """The committed migrations build exactly the schema the models describe."""
    with app.app_context():
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_database_connections_are_configured(app):
    """SQLite: WAL, foreign keys, a busy timeout. PostgreSQL: connections checked before use."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            assert db.engine.pool._pre_ping is True
            return
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_concurrent_writers_all_succeed(app, world):
    """16 workers save shifts at the same moment: no "database is locked", nothing lost."""
    with app.app_context():
        org, site = world["org"]["a"], world["site"]["a1"]
        emails = []
        for n in range(16):
            email = f"busy{n}@a.example.org"
            factories.make_user(f"Busy {n}", email, {"worker"}, org, site)
            emails.append(email)
        db.session.commit()

    errors: list[str] = []
    barrier = threading.Barrier(len(emails))

    def log_shifts(email: str) -> None:
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": factories.PASSWORD})
        if response.status_code != 302:
            errors.append(f"{email} login {response.status_code}")
            return
        barrier.wait()
        for days in (1, 2, 3):
            response = client.post(
                "/shifts/new",
                data={
                    "day": factories.recent_start(days)
                    .astimezone(factories.CHICAGO)
                    .date()
                    .isoformat(),
                    "start_time": "09:00",
                    "end_time": "17:00",
                    "site_id": str(site),
                    "shift_type": "street_outreach",
                    "break_minutes": "0",
                },
            )
            if response.status_code != 302:
                errors.append(f"{email} shift {response.status_code}")

    threads = [threading.Thread(target=log_shifts, args=(e,)) for e in emails]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with app.app_context():
        saved = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Shift)
            .join(User, Shift.worker_id == User.id)
            .where(User.email.like("busy%"))
        )
    assert saved == 16 * 3


def test_overlapping_saves_racing_for_one_worker_keep_one(app, world):
    """Two saves of the same hours by one worker at once: exactly one is kept."""
    results: list[int] = []
    barrier = threading.Barrier(4)

    def save():
        client = app.test_client()
        client.post(
            "/login", data={"email": factories.email_for("worker"), "password": factories.PASSWORD}
        )
        barrier.wait()
        response = client.post(
            "/shifts/new",
            data={
                "day": factories.recent_start(1).astimezone(factories.CHICAGO).date().isoformat(),
                "start_time": "09:00",
                "end_time": "17:00",
                "site_id": str(world["site"]["a1"]),
                "shift_type": "street_outreach",
                "break_minutes": "0",
            },
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [302, 422, 422, 422]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 1


def test_a_worker_s_home_puts_help_first(client, auth, world):
    auth.as_role("worker")
    page = client.get("/").get_data(as_text=True)
    quick = page.index('aria-label="Help and support"')
    assert quick < page.index("Your shifts"), "help comes before the shifts on the home page"
    strip = page[quick:page.index("</nav>", quick)]
    assert [label in strip for label in ("Need help now", "Log something hard",
                                         "Ask for support")] == [True, True, True]  # fmt: skip
    assert 'href="/help"' in strip


@pytest.mark.parametrize("role", [None, "worker", "hr"])
def test_need_help_now_opens_for_anyone_and_reaches_a_person(client, auth, world, role):
    if role:
        auth.as_role(role)
    response = client.get("/help")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="tel:988"' in page and 'href="sms:988"' in page and 'href="tel:911"' in page
    assert 'href="tel:3145550142"' in page  # the provider's on-call line
    # only a worker is offered the support form (counsellors are told at once)
    assert ("/support/new?kind=after_incident" in page) == (role == "worker")
