"""Benchmark: the leader and funder dashboards on `flask seed-bench` data, city and national size.

    .venv/bin/python bench/dashboard.py                      # SQLite, city size
    BENCH_NATIONAL=1 .venv/bin/python bench/dashboard.py     # and national size (minutes)
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/dashboard.py                  # PostgreSQL as well
    BENCH_REUSE=1 ...                                        # keep the data an earlier run built

Sizes: "city" is 40 worker positions over 3 years (two providers), "national" 5,000 positions over
3 years (125 providers, about 3.75 million shifts). SQLite files go to BENCH_DIR (default
/tmp/fairshift-bench); on PostgreSQL each size gets its own schema (bench_city, bench_national)
in the BENCH_DATABASE_URL database, so the other benchmarks, which rebuild ``public``, leave them
alone. With BENCH_REUSE=1 an existing build is used again, brought up to the latest migration
(its build time is read from the record the build left beside it).

For each size and database: the leader of the first provider and the funder each sign in, fetch
/dashboard once to warm up, then BENCH_REPEATS times (default 5); the median is printed, with the
median of viewer_tables() alone (the SQL and arithmetic without the page) and the number of SQL
statements per page, which must not grow with the data; "kept ms" is the page while its figures
are kept (DASHBOARD_KEEP_SECONDS, portal/dashboard/kept.py): every view but the first in 5 min.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import pyotp
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from portal import create_app  # noqa: E402
from portal.dashboard import service  # noqa: E402
from portal.database import normalise_database_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Shift, User  # noqa: E402
from portal.seedbench import (  # noqa: E402
    BENCH_PASSWORD,
    BENCH_TOTP_SECRET,
    DOMAIN,
    FUNDER_EMAIL,
    seed_bench,
)
from portal.timeutil import local_today  # noqa: E402

SIZES = {"city": (40, 3), "national": (5000, 3)}
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/fairshift-bench"))  # noqa: S108
LEADER_EMAIL = f"leader@p001.{DOMAIN}"


def databases(size: str) -> list[tuple[str, str, str | None]]:
    """(label, URL, PostgreSQL schema) of each database the size is measured on."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    out = [("SQLite", f"sqlite:///{BENCH_DIR / f'{size}.db'}", None)]
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        schema = f"bench_{size}"
        url = normalise_database_url(url)
        joiner = "&" if "?" in url else "?"
        out.append(("PostgreSQL", f"{url}{joiner}options=-csearch_path%3D{schema}", schema))
    return out


def record_path(size: str, label: str) -> Path:
    return BENCH_DIR / f"{size}-{label.lower()}.json"


def prepare(size: str, label: str, url: str, schema: str | None) -> dict:
    """Build the size's data (or reuse it with BENCH_REUSE=1); returns the build record."""
    workers, years = SIZES[size]
    record = record_path(size, label)
    if os.environ.get("BENCH_REUSE") == "1" and record.exists():
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            try:
                found = db.session.scalar(sa.select(sa.func.count()).select_from(User))
            except sa.exc.DatabaseError:
                found = 0
            db.session.remove()
            if found:
                started = time.perf_counter()
                upgrade()  # migrations added since the build (e.g. new indexes) apply to it too
                took = time.perf_counter() - started
                print(f"   brought up to the latest migration in {took:.1f} s", flush=True)
            db.engine.dispose()
        if found:
            print("   reusing the data built earlier", flush=True)
            return {**json.loads(record.read_text()), "reused": True}
    print(f"   building {workers:,} workers x {years} years with seed-bench...", flush=True)
    if schema:
        engine = sa.create_engine(url.split("?")[0])
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        engine.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        summary = seed_bench(workers, years)
        db.engine.dispose()
    built = {
        "seconds": round(summary["seconds"], 1),
        "shifts": summary["counts"].get("shifts", 0),
        "counts": summary["counts"],
        "built_on": summary["last_day"].isoformat(),
    }
    record.write_text(json.dumps(built, indent=1))
    if schema:  # what autovacuum does soon after a load: the visibility map, fresh statistics
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        engine.dispose()
    return {**built, "reused": False}


def sign_in(client, app, email: str) -> None:
    """The real sign-in form, and the two-factor step when the account has one."""
    response = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})
    if response.headers.get("Location", "").endswith("/login/two-factor"):
        with app.app_context():  # a code may be used once: forget the last one
            db.session.execute(
                sa.update(User).where(User.email == email).values(totp_last_step=None)
            )
            db.session.commit()
        response = client.post(
            "/login/two-factor", data={"code": pyotp.TOTP(BENCH_TOTP_SECRET).now()}
        )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def measure(app, email: str) -> dict:
    """Median milliseconds of /dashboard and of viewer_tables(), and SQL statements per page."""
    engine_holder = {}
    with app.app_context():
        engine_holder["engine"] = db.engine
    engine = engine_holder["engine"]
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    client = app.test_client()
    sign_in(client, app, email)
    assert client.get("/dashboard").status_code == 200  # warm up caches and the planner
    pages, counts = [], []
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(REPEATS):
            statements.clear()
            started = time.perf_counter()
            response = client.get("/dashboard")
            pages.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            counts.append(len(statements))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    tables = []
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        today = local_today()
        for _ in range(REPEATS):
            started = time.perf_counter()
            service.viewer_tables(user, {}, today)
            tables.append((time.perf_counter() - started) * 1000)
    return {
        "page_ms": statistics.median(pages),
        "tables_ms": statistics.median(tables),
        "statements": max(counts),
        "steady": min(counts) == max(counts),
    }


def measure_kept(app, email: str) -> float:
    """Median milliseconds of /dashboard while its figures are kept (DASHBOARD_KEEP_SECONDS on):
    what every view but the first costs in the keeping time."""
    client = app.test_client()
    sign_in(client, app, email)
    assert client.get("/dashboard").status_code == 200  # works the figures out and keeps them
    pages = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        assert client.get("/dashboard").status_code == 200
        pages.append((time.perf_counter() - started) * 1000)
    return statistics.median(pages)


def main() -> None:
    sizes = ["city", "national"] if os.environ.get("BENCH_NATIONAL") == "1" else ["city"]
    rows = []
    for size in sizes:
        for label, url, schema in databases(size):
            print(f"== {size} on {label}", flush=True)
            built = prepare(size, label, url, schema)
            app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
            kept = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False,
                              DASHBOARD_KEEP_SECONDS=300)  # fmt: skip
            with app.app_context():
                shifts = db.session.scalar(sa.select(sa.func.count()).select_from(Shift))
            for page, email in (("leader", LEADER_EMAIL), ("funder", FUNDER_EMAIL)):
                figures = measure(app, email)
                figures["kept_ms"] = measure_kept(kept, email)
                rows.append((size, label, SIZES[size][0], shifts, built, page, figures))
            for each in (app, kept):
                with each.app_context():
                    db.engine.dispose()
    print()
    print(f"Dashboards (median of {REPEATS} after a warm-up; build = flask seed-bench)")
    print(f"{'size':<9} {'database':<11} {'workers':>7} {'shifts':>10} {'build s':>8} "
          f"{'page':<7} {'page ms':>8} {'tables ms':>9} {'SQL':>4} {'kept ms':>8}")  # fmt: skip
    for size, label, workers, shifts, built, page, f in rows:
        build = f"{built['seconds']:.1f}" + ("*" if built["reused"] else "")
        sql = f"{f['statements']}" + ("" if f["steady"] else "~")
        print(f"{size:<9} {label:<11} {workers:>7,} {shifts:>10,} {build:>8} {page:<7} "
              f"{f['page_ms']:>8.1f} {f['tables_ms']:>9.1f} {sql:>4} "
              f"{f['kept_ms']:>8.1f}")  # fmt: skip
    if any(r[4]["reused"] for r in rows):
        print("* reused (BENCH_REUSE=1): the time the build took when it was made")


if __name__ == "__main__":
    main()
