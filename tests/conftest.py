"""Fixtures shaped like flaskr's: app, client, runner, auth; one database schema per run.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set. The schema
is built once per run through the real migrations; each test starts from empty tables.
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.database import normalise_database_url
from portal.extensions import db, limiter
from portal.models import User
from tests import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
# Under pytest-xdist (make test) each worker process has a database of its own: SQLite files are
# per worker already (tmp_path_factory), PostgreSQL gets "<test database>_<worker>" beside the
# one named, created when missing.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def pytest_collection_modifyitems(config, items):
    """The browser tests share one server and one Chromium: under xdist they run on one worker."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.xdist_group("browser"))


def per_worker(database: str) -> str:
    """A PostgreSQL database name of this xdist worker's own (the name itself without xdist)."""
    return f"{database}_{XDIST_WORKER}" if XDIST_WORKER else database


def suite_postgres_url() -> str:
    """TEST_DATABASE_URL as this process uses it (its worker's own database under xdist)."""
    url = normalise_database_url(TEST_DATABASE_URL)
    if not XDIST_WORKER:
        return url
    parsed = sa.make_url(url)
    name = per_worker(parsed.database)
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    finally:
        admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The test database, migrated from scratch once for the whole run."""
    if TEST_DATABASE_URL:
        url = suite_postgres_url()
        engine = sa.create_engine(url)
        with engine.begin() as conn:  # unreachable in CI means fail, not skip
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in conn.execute(table.select())]
                if rows:
                    _MIGRATED_ROWS[table.name] = rows
        db.engine.dispose()
    return url


# Reference data the migrations load (benchmark figures): restored after every test.
_MIGRATED_ROWS: dict[str, list[dict]] = {}


def _empty_tables() -> None:
    """Back to the freshly migrated state: no rows but the migrations' reference data."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # TRUNCATE skips the row triggers that keep audit_events append-only.
            names = ", ".join(t.name for t in db.metadata.sorted_tables)
            conn.exec_driver_sql(f"TRUNCATE TABLE {names} CASCADE")
        else:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        for table in db.metadata.sorted_tables:
            if table.name in _MIGRATED_ROWS:
                conn.execute(table.insert(), _MIGRATED_ROWS[table.name])


@pytest.fixture
def app(database_url, tmp_path):
    """A fresh application on the shared test schema, tables emptied after the test."""
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        MAIL_DIR=str(tmp_path / "mail"),
        SMS_DIR=str(tmp_path / "sms"),
    )
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def _push_request_context():
    """Override pytest-flask's autouse request context: each request gets its own session."""
    yield


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def world(app):
    """A small programme: two providers with sites and people in every role.

    Returns a dict of ids (fixtures return ids, not ORM objects).
    """
    with app.app_context():
        ids = factories.build_world()
        db.session.commit()
    return ids


class AuthActions:
    """Sign in and out through the real forms (both steps when the account has two-factor)."""

    def __init__(self, client):
        self._client = client

    def login(
        self, email: str, password: str = factories.PASSWORD, second_step: bool = True, **kwargs
    ):
        """Post the sign-in form; when it asks for a code, post a fresh one (unless told not to)
        and return that answer instead."""
        response = self._client.post(
            "/login", data={"email": email, "password": password, **kwargs}
        )
        location = urlsplit(response.headers.get("Location", "")).path
        if second_step and response.status_code == 302 and location == "/login/two-factor":
            response = self._client.post("/login/two-factor", data={"code": self.code_for(email)})
        return response

    def code_for(self, email: str) -> str:
        """A code the account will accept now: its last used step is forgotten first, so that
        signing in twice within 30 seconds is not refused as a replay."""
        app = self._client.application
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
            user.totp_last_step = None
            db.session.commit()
            return factories.totp_code(user.totp_secret)

    def as_role(self, role: str, org: str | None = None):
        """Sign in as the world fixture's person for a role ("worker", "supervisor"...)."""
        if org is None:
            org = next(o for key, _roles, o, _site in factories.PEOPLE if key == role)
        response = self.login(factories.email_for(role, org))
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    """Sign in as anyone, or as a role of the world fixture."""
    return AuthActions(client)


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside a block: ``with count_queries() as n: ...; n()``."""
    from contextlib import contextmanager

    @contextmanager
    def counter():
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield lambda: len(statements)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return counter


class FrozenClock:
    """The sign-in clock stopped at one instant, moved on only by ``advance``."""

    def __init__(self):
        # One second into a 30-second TOTP step, so a test knows which step a code belongs to.
        self.t = float(int(time.time()) // 30 * 30 + 1)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float = 0, minutes: float = 0, hours: float = 0) -> None:
        self.t += seconds + 60 * minutes + 3600 * hours


@pytest.fixture
def frozen_clock(monkeypatch):
    """Stop portal.auth.clock (session ages, re-authentication, TOTP steps) instead of sleeping."""
    from portal.auth import clock

    frozen = FrozenClock()
    monkeypatch.setattr(clock, "now", frozen)
    return frozen
