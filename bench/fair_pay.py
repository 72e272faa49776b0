"""Benchmark: the fair-pay page for many workers; print the time and the SQL statement count.

    .venv/bin/python bench/fair_pay.py              # SQLite, 500 and 5,000 workers
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/fair_pay.py

Each worker has a job title with a target, a rate, and three approved shifts a week over the
12-week look-back. The page is fetched through the app as HR; its statement count must not grow.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from portal import create_app  # noqa: E402
from portal.database import normalise_database_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Organisation,
    PayRate,
    Shift,
    Site,
    User,
    UserRole,
    WageStandard,
)
from portal.timeutil import local_today  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_WORKERS", "500,5000").split(",")]
PASSWORD = "bench-password-long"  # noqa: S105
TITLES = ["Violence interrupter", "Outreach worker", "Hospital responder"]
TARGET = "BLS OEWS median Community Health Workers (SOC 21-1094)"


def build(n: int) -> tuple[int, str]:
    """An organisation of n workers and one HR account; returns its id and HR's e-mail."""
    org = Organisation(name=f"Fair {n} {time.time_ns()}", kind="provider")
    db.session.add(org)
    db.session.flush()
    site = Site(organisation_id=org.id, name="Site")
    db.session.add(site)
    db.session.flush()
    hr = User(email=f"hr-{org.id}@bench.example", name="HR", organisation_id=org.id)
    hr.roles = {"hr"}
    hr.set_password(PASSWORD)
    db.session.add(hr)
    for title in TITLES:
        db.session.add(
            WageStandard(
                organisation_id=org.id,
                role="target",
                job_title=title,
                benchmark_name=TARGET,
                effective_from=date(2020, 1, 1),
            )
        )
    now = datetime.now(UTC)
    db.session.execute(sa.insert(User), [
        {"email": f"w{i}-{org.id}@bench.example", "name": f"Worker {i:05d}",
         "organisation_id": org.id, "site_id": site.id, "job_title": TITLES[i % 3],
         "active": True, "session_version": 1, "created_at": now}
        for i in range(n)
    ])  # fmt: skip
    ids = db.session.scalars(
        sa.select(User.id).where(User.organisation_id == org.id, User.id != hr.id)
    ).all()
    db.session.execute(sa.insert(UserRole), [{"user_id": i, "role": "worker"} for i in ids])
    db.session.execute(sa.insert(PayRate), [
        {"worker_id": i, "organisation_id": org.id, "effective_from": date(2020, 1, 1),
         "classification": "contractor" if k % 10 == 0 else "employee_nonexempt",
         "hourly_rate": Decimal("16.50") + Decimal(k % 12), "reason": "bench",
         "benchmarks_in_force": [], "created_at": now}
        for k, i in enumerate(ids)
    ])  # fmt: skip
    today = local_today()
    rows = []
    for i in ids:
        for d in range(0, 84, 2):  # every other day for 12 weeks
            start = datetime.combine(today - timedelta(days=d + 1), datetime.min.time(),
                                     UTC).replace(hour=15)  # fmt: skip
            rows.append({
                "worker_id": i, "organisation_id": org.id, "site_id": site.id,
                "shift_type": "street_outreach", "start_at": start,
                "end_at": start + timedelta(hours=7), "break_minutes": 0, "worked_minutes": 420,
                "conflicts_interrupted": 0, "individuals_engaged": 1, "referrals": 0, "note": "",
                "status": "approved", "created_at": now, "updated_at": now,
            })  # fmt: skip
    for k in range(0, len(rows), 5000):
        db.session.execute(sa.insert(Shift), rows[k : k + 5000])
    db.session.commit()
    return org.id, hr.email


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
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
        print(f"Fair-pay page ({db.engine.dialect.name}, 42 shifts per worker in 12 weeks)")
        print(f"{'workers':>8} {'shifts':>8} {'build s':>8} {'page s':>8} {'SQL':>5} {'status':>6}")
    for n in SIZES:
        with app.app_context():
            started = time.perf_counter()
            _org, email = build(n)
            built = time.perf_counter() - started
            engine = db.engine
        client = app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        statements: list[str] = []

        def record(_c, _cur, statement, *_a, _s=statements):
            _s.append(statement)

        sa.event.listen(engine, "before_cursor_execute", record)
        started = time.perf_counter()
        response = client.get("/hr/fair-pay")
        page = time.perf_counter() - started
        sa.event.remove(engine, "before_cursor_execute", record)
        print(f"{n:>8} {n * 42:>8} {built:>8.1f} {page:>8.2f} {len(statements):>5} "
              f"{response.status_code:>6}")  # fmt: skip


if __name__ == "__main__":
    main()
