"""Benchmark: what one request of each main page costs, in CPU and SQL statements, in-process.

    .venv/bin/python bench/pages.py                        # SQLite, the demo programme
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages \\
        .venv/bin/python bench/pages.py                    # PostgreSQL (public schema rebuilt)

The demo programme (`flask seed-demo`: about 30 workers, 12 months) is loaded into a fresh
database; each demo account signs in through the real form and fetches its pages with the test
client. A page is fetched PAGES_WARMUP (20) times, then PAGES_ROUNDS (5) rounds of
PAGES_REQUESTS (100) requests; the figure is the median round's CPU time per request
(time.process_time: this process only, so other work on the machine moves it less than wall
time; on PostgreSQL the server's own CPU is not in it). "ratio" is /healthz's CPU against the
page's: the share of /healthz's requests a second the page could answer on the same cores.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyotp
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from portal import create_app  # noqa: E402
from portal.database import normalise_database_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo  # noqa: E402

WARMUP = int(os.environ.get("PAGES_WARMUP", "20"))
ROUNDS = int(os.environ.get("PAGES_ROUNDS", "5"))
REQUESTS = int(os.environ.get("PAGES_REQUESTS", "100"))

# (who, path); who is a demo account's role (None: not signed in).
PAGES = [
    (None, "/healthz"),
    ("worker", "/"),
    ("worker", "/shifts"),
    ("worker", "/pay"),
    ("worker", "/counseling"),
    ("worker", "/account"),
    ("supervisor", "/"),
    ("supervisor", "/shifts/review"),
    ("counselor", "/"),
    ("counselor", "/support/queue"),
    ("hr", "/hr/"),
    ("hr", "/hr/fair-pay"),
    ("leader", "/"),
    ("leader", "/dashboard"),
    ("funder", "/dashboard"),
    ("admin", "/admin/users"),
]


def database_url() -> str:
    """A fresh database: BENCH_DATABASE_URL's public schema rebuilt, or a new SQLite file."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return "sqlite:///" + os.path.join(tempfile.mkdtemp(), "pages.db")
    url = normalise_database_url(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def sign_in(app, role: str):
    """A test client signed in as the demo account of a role (with its two-factor code)."""
    client = app.test_client()
    response = client.post(
        "/login", data={"email": f"{role}@example.org", "password": DEMO_PASSWORD}
    )
    if response.headers.get("Location", "").endswith("/login/two-factor"):
        code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
        response = client.post("/login/two-factor", data={"code": code})
    assert response.status_code == 302, (role, response.status_code)
    return client


def measure(client, path: str, statements: list) -> tuple[float, float]:
    """(median CPU ms per request, statements per request) of one page."""
    for _ in range(WARMUP):
        assert client.get(path).status_code == 200, path
    rounds = []
    statements.clear()
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(REQUESTS):
            client.get(path)
        rounds.append((time.process_time() - started) * 1000 / REQUESTS)
    return statistics.median(rounds), len(statements) / (ROUNDS * REQUESTS)


def main() -> None:
    url = database_url()
    app = create_app(
        "development",
        SQLALCHEMY_DATABASE_URI=url,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
        MAIL_DIR=tempfile.mkdtemp(),
    )
    statements: list = []
    with app.app_context():
        upgrade()
        seed_demo()
        backend = db.engine.dialect.name
        sa.event.listen(db.engine, "before_cursor_execute", lambda *_a: statements.append(1))
    clients: dict = {None: app.test_client()}
    print(f"CPU per request, in-process ({backend}; median of {ROUNDS} x {REQUESTS} requests)")
    print(f"{'who':<11} {'page':<16} {'CPU ms':>7} {'ratio':>6} {'SQL':>5}")
    ceiling = None
    for who, path in PAGES:
        if who not in clients:
            clients[who] = sign_in(app, who)
        ms, per_request = measure(clients[who], path, statements)
        ceiling = ceiling or ms
        print(f"{who or '-':<11} {path:<16} {ms:>7.2f} {ceiling / ms:>6.0%} {per_request:>5.1f}")


if __name__ == "__main__":
    main()
