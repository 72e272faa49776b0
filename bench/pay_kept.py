"""Benchmark: what keeping the open period's pricing saves /pay, with a full period of shifts.

    .venv/bin/python bench/pay_kept.py

The demo programme in a fresh SQLite file; the demo worker is given 12 more approved shifts in
the open period (9 h from 16:00, so nights, overtime and hospital-response stipends). Then
``worker_pay`` (everything /pay reads and works out) runs PAY_ROUNDS (7) rounds of 200 calls with
the kept result, and again with the cache emptied before each call (priced every time, as before
issue 14); the median round's CPU time per call of this process.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import User  # noqa: E402
from portal.pay import service as svc  # noqa: E402
from portal.seed import seed_demo  # noqa: E402
from portal.timeutil import local_today  # noqa: E402
from tests.factories import local, make_shift  # noqa: E402

ROUNDS = int(os.environ.get("PAY_ROUNDS", "7"))
CALLS = 200


def per_call(worker: User, *, kept: bool) -> float:
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(CALLS):
            if not kept:
                svc.priced_current_period.cache_clear()
            svc.worker_pay(worker)
        rounds.append((time.process_time() - started) * 1000 / CALLS)
    return statistics.median(rounds)


def main() -> None:
    url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "pay.db")
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, MAIL_DIR=tempfile.mkdtemp())
    with app.app_context():
        upgrade()
        seed_demo()
        worker = db.session.scalar(sa.select(User).where(User.email == "worker@example.org"))
        period = svc.load_policy(worker.organisation_id).period_of(local_today())
        for day in range(12):
            kind = "hospital_response" if day % 3 == 0 else "street_outreach"
            start = local(period.start + timedelta(days=day), "16:00")
            make_shift(worker.id, start, hours=9, status="approved", shift_type=kind)
        db.session.commit()
        shifts = len(svc.worker_pay(worker).priced.shifts)
        fresh = per_call(worker, kept=False)
        kept = per_call(worker, kept=True)
    print(f"/pay's worker_pay, {shifts} approved shifts in the open period (CPU ms per call)")
    print(f"  priced every time  {fresh:6.2f}")
    print(f"  kept               {kept:6.2f}   ({(1 - kept / fresh) * 100:.0f} % less)")


if __name__ == "__main__":
    main()
