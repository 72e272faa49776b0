"""Benchmark: close a pay period for many workers; print the time and the SQL statement count.

    .venv/bin/python bench/close_period.py                 # SQLite, 50 and 500 workers
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/close_period.py             # PostgreSQL (schema is rebuilt)

Each worker has a rate and 10 approved shifts (8 h, some at night) in the period. The statement
count must be the same for every size: closing runs no per-worker query.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from portal import create_app  # noqa: E402
from portal.database import normalise_database_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Organisation,
    PayDifferential,
    PayRate,
    Shift,
    Site,
    User,
    UserRole,
)
from portal.pay import service  # noqa: E402

CHICAGO = ZoneInfo("America/Chicago")
SIZES = [int(n) for n in os.environ.get("BENCH_WORKERS", "50,500").split(",")]
SHIFTS_PER_WORKER = 10


def build(n_workers: int, period_start: date) -> int:
    """An organisation with n workers, each with a rate and 10 approved shifts; returns its id."""
    org = Organisation(name=f"Bench {n_workers} {time.time_ns()}", kind="provider")
    db.session.add(org)
    db.session.flush()
    site = Site(organisation_id=org.id, name="Bench site")
    db.session.add(site)
    db.session.add(
        PayDifferential(
            organisation_id=org.id,
            name="Nights",
            start_time=datetime.min.time().replace(hour=22),
            end_time=datetime.min.time().replace(hour=6),
            per_hour=Decimal("2.00"),
        )
    )
    db.session.flush()
    users = [
        {
            "email": f"w{i}-{org.id}@bench.example",
            "name": f"Worker {i}",
            "organisation_id": org.id,
            "site_id": site.id,
            "active": True,
            "session_version": 1,
            "created_at": datetime.now(UTC),
        }
        for i in range(n_workers)
    ]
    db.session.execute(sa.insert(User), users)
    ids = db.session.scalars(sa.select(User.id).where(User.organisation_id == org.id)).all()
    db.session.execute(sa.insert(UserRole), [{"user_id": i, "role": "worker"} for i in ids])
    db.session.execute(
        sa.insert(PayRate),
        [
            {
                "worker_id": i,
                "organisation_id": org.id,
                "effective_from": date(2020, 1, 1),
                "classification": "employee_nonexempt",
                "hourly_rate": Decimal("18.50"),
                "reason": "bench",
                "created_at": datetime.now(UTC),
            }
            for i in ids
        ],
    )
    rows = []
    now = datetime.now(UTC)
    for i in ids:
        for d in range(SHIFTS_PER_WORKER):
            hour = 22 if d % 3 == 0 else 9
            start = (
                datetime.combine(period_start + timedelta(days=d), datetime.min.time(), CHICAGO)
                .replace(hour=hour)
                .astimezone(UTC)
            )
            rows.append(
                {
                    "worker_id": i,
                    "organisation_id": org.id,
                    "site_id": site.id,
                    "shift_type": "street_outreach",
                    "start_at": start,
                    "end_at": start + timedelta(hours=8, minutes=30),
                    "break_minutes": 30,
                    "worked_minutes": 480,
                    "conflicts_interrupted": 1,
                    "individuals_engaged": 3,
                    "referrals": 0,
                    "note": "",
                    "status": "approved",
                    "created_at": now,
                    "updated_at": now,
                }
            )
    for k in range(0, len(rows), 2000):
        db.session.execute(sa.insert(Shift), rows[k : k + 2000])
    db.session.commit()
    return org.id


def measure(n_workers: int) -> tuple[float, int, int]:
    """Close one period for n workers: seconds, SQL statements, statements written."""
    start_day = date(2026, 1, 4)
    org_id = build(n_workers, start_day)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    started = time.perf_counter()
    closed = service.close_period(org_id, None)
    db.session.commit()
    elapsed = time.perf_counter() - started
    sa.event.remove(db.engine, "before_cursor_execute", record)
    written = db.session.scalar(
        sa.text("SELECT count(*) FROM pay_statements WHERE period_id = :p"), {"p": closed.id}
    )
    return elapsed, len(statements), written


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    else:
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        backend = db.engine.dialect.name
        print(f"Closing a pay period ({backend}, {SHIFTS_PER_WORKER} shifts per worker)")
        print(f"{'workers':>8} {'shifts':>8} {'seconds':>8} {'SQL statements':>15} {'written':>8}")
        for n in SIZES:
            seconds, count, written = measure(n)
            print(f"{n:>8} {n * SHIFTS_PER_WORKER:>8} {seconds:>8.2f} {count:>15} {written:>8}")


if __name__ == "__main__":
    main()
