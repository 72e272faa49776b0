"""Soak test: gunicorn (4 sync workers, 127.0.0.1) on a fresh small database, 50 workers writing
through the real forms at once for 60 s, then every write checked against the database.

    make soak                                              # SQLite
    SOAK_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_hh_soak make soak
                                                           # and PostgreSQL

The database is made for the run: a new SQLite file in SOAK_DIR (default /tmp/fairshift-soak), or
the PostgreSQL database SOAK_DATABASE_URL names, dropped and created again (its name must contain
"soak", so that no other database can be emptied by mistake). It gets the migrations and
``seed-bench`` with SOAK_POSITIONS (60) worker positions over one year: two providers, a
counsellor each, their open counselling slots, and 60 active worker accounts.

Each of SOAK_USERS (50) threads is one worker with a browser of their own (cookies, CSRF tokens
from the forms, no JavaScript): sign in, then until SOAK_SECONDS (60, at most 600) have passed,
at random: log a shift (the form, then POST), check in (WHO-5, sometimes asking for outreach),
book one of the three soonest open counselling slots of their provider more than a day ahead
(every worker of a provider races for the same few), or cancel the session they hold, read a
page; every 25 actions sign out and in again. Every shift and check-in carries a unique note.

Then against the database: no 5xx answers; no "database is locked" (nor any traceback) in
gunicorn's log; no lost write (every shift and check-in whose POST was answered 2xx/3xx is
stored, once); every booking answered 302 is stored for that worker and slot, cancelled when
its cancellation was answered 302 and holding the slot otherwise, and no slot holds more than
one; one outreach request per check-in that asked for one; one audit row per sign-in and per
sign-out. The exit status is 1 when anything is wrong.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask_migrate import upgrade  # noqa: E402
from live import Browser, Server  # noqa: E402

from portal import create_app  # noqa: E402
from portal.database import normalise_database_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    AuditEvent,
    Booking,
    CheckIn,
    CounselingSlot,
    Shift,
    SupportRequest,
    User,
    UserRole,
)
from portal.seedbench import BENCH_PASSWORD, seed_bench  # noqa: E402
from portal.timeutil import utcnow  # noqa: E402

USERS = int(os.environ.get("SOAK_USERS", "50"))
SECONDS = min(int(os.environ.get("SOAK_SECONDS", "60")), 600)
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))
POSITIONS = int(os.environ.get("SOAK_POSITIONS", "60"))
SOAK_DIR = Path(os.environ.get("SOAK_DIR", "/tmp/fairshift-soak"))  # noqa: S108
RESIGN_EVERY = 25
ACTIONS = (("shift", "checkin", "booking", "read"), (35, 25, 30, 10))
ALERT = re.compile(r'class="alert alert-error"[^>]*><p>([^<]*)</p>')
SLOT_LINK = re.compile(r"/counseling/slots/(\d+)/book")
FIRST_DAY = date(2015, 1, 5)  # shifts go years before the seeded history: no overlaps


def databases() -> list[tuple[str, str]]:
    SOAK_DIR.mkdir(parents=True, exist_ok=True)
    out = [("SQLite", f"sqlite:///{SOAK_DIR / 'soak.db'}")]
    url = os.environ.get("SOAK_DATABASE_URL")
    if url:
        out.append(("PostgreSQL", normalise_database_url(url)))
    return out


def fresh_database(label: str, url: str) -> None:
    """An empty database at the latest migration, then seed-bench's small programme."""
    if label == "SQLite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        name = sa.engine.make_url(url).database or ""
        if "soak" not in name or not re.fullmatch(r"[a-z0-9_]+", name):
            sys.exit(f"SOAK_DATABASE_URL: the database name must contain 'soak' ({name!r})")
        admin = sa.create_engine(
            sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        seed_bench(POSITIONS, 1)
        db.engine.dispose()


class Person(threading.Thread):
    """One worker at a browser, until the deadline."""

    def __init__(self, index, port, run, email, site_id, race, deadline, seed):
        super().__init__(daemon=True)
        self.index, self.port, self.run_id = index, port, run
        self.email, self.site_id, self.race = email, site_id, race
        self.deadline = deadline
        self.rng = random.Random(seed)  # noqa: S311 - a load pattern, not a secret
        self.browser = Browser(port)
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.shifts: list[str] = []  # notes of shifts answered 302
        self.checkins: list[str] = []
        self.outreach: list[str] = []  # notes of check-ins that asked for outreach
        self.bookings: dict[int, int] = {}  # booking id -> slot id, answered 302
        self.cancelled: set[int] = set()
        self.held: int | None = None  # the booking this person holds now
        self.lost_races = 0
        self.sign_ins = self.sign_outs = 0
        self.client_errors: list[str] = []
        self.refusals: Counter[str] = Counter()
        self.n = 0

    # requests, counted

    def call(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        started = time.perf_counter()
        if method == "GET":
            status, body = self.browser.get(path)
        else:
            status, body = self.browser.post(path, form or {})
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.statuses[status] += 1
        return status, body

    def sign_in(self) -> None:
        self.call("GET", "/login")
        status, _ = self.call(
            "POST", "/login", {"email": self.email, "password": BENCH_PASSWORD, "next": ""}
        )
        if status != 302 or "/login" in self.browser.location:
            raise RuntimeError(f"sign-in: {status} -> {self.browser.location}")
        self.sign_ins += 1

    def sign_out(self) -> None:
        self.call("GET", "/")
        status, _ = self.call("POST", "/logout", {})
        if status != 302:
            raise RuntimeError(f"sign-out: {status}")
        self.sign_outs += 1

    # what a worker does

    def shift(self) -> None:
        self.n += 1
        day = FIRST_DAY + timedelta(days=self.n)
        note = f"soak {self.run_id} u{self.index} shift {self.n}"
        self.call("GET", "/shifts/new")
        status, body = self.call("POST", "/shifts/new", {
            "day": day.isoformat(), "start_time": "09:00", "end_time": "10:30",
            "site_id": self.site_id, "shift_type": "street_outreach", "break_minutes": 0,
            "conflicts_interrupted": self.rng.randint(0, 3), "individuals_engaged": 2,
            "referrals": 0, "note": note,
        })  # fmt: skip
        if status == 302:
            self.shifts.append(note)
        else:
            self.refusals[f"shift {status}"] += 1

    def checkin(self) -> None:
        self.n += 1
        note = f"soak {self.run_id} u{self.index} checkin {self.n}"
        form = {f"item{i}": self.rng.randint(0, 5) for i in range(1, 6)}
        form["note"] = note
        outreach = self.rng.random() < 0.1
        if outreach:
            form["wants_outreach"] = "y"
        self.call("GET", "/checkins/new")
        status, _ = self.call("POST", "/checkins/new", form)
        if status == 302:
            self.checkins.append(note)
            if outreach:
                self.outreach.append(note)
        else:
            self.refusals[f"checkin {status}"] += 1

    def booking(self) -> None:
        if self.held is not None:
            booking_id, self.held = self.held, None
            self.call("GET", f"/bookings/{booking_id}")
            status, _ = self.call("POST", f"/bookings/{booking_id}/cancel", {})
            if status == 302:
                self.cancelled.add(booking_id)
            else:
                self.refusals[f"cancel {status}"] += 1
            return
        status, body = self.call("GET", "/counseling")
        offered = [int(s) for s in SLOT_LINK.findall(body) if int(s) in self.race][:3]
        if not offered:
            self.refusals["no open slot"] += 1
            return
        slot = self.rng.choice(offered)
        status, body = self.call("POST", f"/counseling/slots/{slot}/book", {})
        if status == 302:
            found = re.search(r"/bookings/(\d+)", self.browser.location)
            booking_id = int(found.group(1))
            self.bookings[booking_id] = slot
            self.held = booking_id
        elif status == 409:
            self.lost_races += 1
        else:
            found = ALERT.search(body)
            self.refusals[f"booking {status}: {found.group(1) if found else '?'}"] += 1

    def read(self) -> None:
        self.call("GET", self.rng.choice(("/", "/pay", "/shifts", "/checkins", "/counseling")))

    def run(self) -> None:
        actions = {"shift": self.shift, "checkin": self.checkin, "booking": self.booking,
                   "read": self.read}  # fmt: skip
        try:
            self.sign_in()
        except Exception as exc:  # noqa: BLE001 - counted and reported
            self.client_errors.append(f"sign-in: {exc!r}")
            return
        done = 0
        while time.monotonic() < self.deadline:
            try:
                if done and done % RESIGN_EVERY == 0:
                    self.sign_out()
                    self.sign_in()
                actions[self.rng.choices(*ACTIONS)[0]]()
            except Exception as exc:  # noqa: BLE001 - counted and reported
                self.client_errors.append(repr(exc)[:200])
                self.browser.close()
            done += 1
        self.browser.close()


def audit_counts() -> dict[str, int]:
    """Successful audit events by action (a baseline before the run, the total after)."""
    query = (
        sa.select(AuditEvent.action, sa.func.count())
        .where(AuditEvent.outcome == "ok")
        .group_by(AuditEvent.action)
    )
    return dict(db.session.execute(query).all())


def plan(url: str) -> tuple[list[tuple[str, int]], dict[int, set[int]], dict[str, int]]:
    """The workers who take part (email, site), each provider's race slots, audit baseline."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        workers = db.session.execute(
            sa.select(User.email, User.site_id, User.organisation_id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "worker", User.active.is_(True))
            .order_by(User.id)
        ).all()
        if len(workers) < USERS:
            sys.exit(f"{len(workers)} active workers for {USERS} users: raise SOAK_POSITIONS")
        now = utcnow()
        held = sa.select(Booking.active_slot_id).where(Booking.active_slot_id.is_not(None))
        slots = db.session.execute(
            sa.select(CounselingSlot.id, CounselingSlot.organisation_id).where(
                CounselingSlot.withdrawn.is_(False),
                CounselingSlot.start_at > now + timedelta(hours=26),  # cancellable all run long
                CounselingSlot.start_at < now + timedelta(days=13),
                CounselingSlot.id.not_in(held),
            )
        ).all()
        race: dict[int, set[int]] = defaultdict(set)
        for slot_id, org in slots:
            race[org].add(slot_id)
        baseline = audit_counts()
        db.engine.dispose()
    chosen = workers[:USERS]
    return [(e, s) for e, s, _ in chosen], {o: race[o] for _, _, o in chosen}, baseline


def verify(url: str, people: list[Person], baseline: dict[str, int]) -> dict:
    """Every acknowledged write against the database."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    out: dict = {}
    with app.app_context():
        prefix = f"soak {people[0].run_id} %"
        stored_shifts = Counter(
            db.session.scalars(sa.select(Shift.note).where(Shift.note.like(prefix)))
        )
        stored_checkins = Counter(
            db.session.scalars(sa.select(CheckIn.note).where(CheckIn.note.like(prefix)))
        )
        acked_shifts = {n for p in people for n in p.shifts}
        acked_checkins = {n for p in people for n in p.checkins}
        out["shifts"] = (len(acked_shifts), sum(stored_shifts.values()))
        out["checkins"] = (len(acked_checkins), sum(stored_checkins.values()))
        lost = [n for n in acked_shifts | acked_checkins
                if stored_shifts[n] + stored_checkins[n] != 1]  # fmt: skip
        unacked = (set(stored_shifts) - acked_shifts) | (set(stored_checkins) - acked_checkins)
        # outreach: one peer-support request per check-in that asked for it
        outreach = {n for p in people for n in p.outreach}
        requests = Counter(
            db.session.scalars(
                sa.select(CheckIn.note)
                .join(SupportRequest, SupportRequest.checkin_id == CheckIn.id)
                .where(CheckIn.note.like(prefix))
            )
        )
        bad_outreach = [n for n in outreach if requests[n] != 1] + [
            n for n in requests if n not in outreach
        ]
        # bookings
        emails = {p.email: p for p in people}
        ids = {u.id: emails[u.email] for u in db.session.scalars(
            sa.select(User).where(User.email.in_(emails)))}  # fmt: skip
        by_person = {p.email: uid for uid, p in ids.items()}
        acked = {bid: (p, slot) for p in people for bid, slot in p.bookings.items()}
        rows = {b.id: b for b in db.session.scalars(sa.select(Booking).where(
            Booking.id.in_(acked)))} if acked else {}  # fmt: skip
        bad_bookings = []
        for bid, (person, slot) in acked.items():
            row = rows.get(bid)
            wanted_cancelled = bid in person.cancelled
            if (
                row is None
                or row.worker_id != by_person[person.email]
                or row.slot_id != slot
                or (wanted_cancelled and (row.status != "cancelled" or row.active_slot_id))
                or (not wanted_cancelled and (row.status != "booked" or row.active_slot_id != slot))
            ):
                bad_bookings.append(bid)
        race = set().union(*(p.race for p in people))
        holders = Counter(
            db.session.scalars(
                sa.select(Booking.active_slot_id).where(Booking.active_slot_id.in_(race))
            )
        )
        holding = {slot for bid, (p, slot) in acked.items() if bid not in p.cancelled}
        out["double"] = sum(1 for n in holders.values() if n > 1)
        out["slots_wrong"] = len(set(holders) ^ holding) + out["double"]
        out["slots_held"] = len(holding)
        audit = audit_counts()
        db.engine.dispose()
    for key, action in (("sign_ins", "auth.sign_in"), ("sign_outs", "auth.sign_out")):
        done = sum(getattr(p, key) for p in people)
        out[key] = (done, audit.get(action, 0) - baseline.get(action, 0))
    out["lost"] = len(lost) + len(bad_bookings)
    out["unacked"] = len(unacked)
    out["bad_outreach"] = len(bad_outreach)
    out["bookings"] = len(acked)
    out["cancels"] = sum(len(p.cancelled) for p in people)
    out["races_lost"] = sum(p.lost_races for p in people)
    return out


def soak(label: str, url: str) -> dict:
    print(f"== {label}: a fresh database, seed-bench {POSITIONS} positions x 1 year", flush=True)
    fresh_database(label, url)
    accounts, race, baseline = plan(url)
    run = f"{int(time.time())}"
    log = SOAK_DIR / f"gunicorn-{label.lower()}.log"
    print(f"   gunicorn {WORKERS} workers, {USERS} users for {SECONDS} s "
          f"(log: {log})", flush=True)  # fmt: skip
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        orgs = dict(db.session.execute(sa.select(User.email, User.organisation_id)).all())
        db.engine.dispose()
    shutil.rmtree(SOAK_DIR / "mail", ignore_errors=True)  # confirmations of the last run
    with Server(url, WORKERS, log, mail_dir=SOAK_DIR / "mail") as server:
        started = time.monotonic()
        deadline = started + SECONDS
        people = [
            Person(i, server.port, run, email, site, race[orgs[email]], deadline, seed=i)
            for i, (email, site) in enumerate(accounts)
        ]
        memory = [server.memory_mb()]
        for person in people:
            person.start()
        for person in people:
            person.join(timeout=SECONDS + 120)
        elapsed = time.monotonic() - started
        memory.append(server.memory_mb())
    text = log.read_text()
    statuses = sum((p.statuses for p in people), Counter())
    latencies = [ms for p in people for ms in p.latencies]
    result = verify(url, people, baseline)
    result.update(
        database=label,
        seconds=elapsed,
        requests=sum(statuses.values()),
        statuses=statuses,
        errors_5xx=sum(n for s, n in statuses.items() if s >= 500),
        locked=text.count("database is locked"),
        tracebacks=text.count("Traceback"),
        client_errors=[e for p in people for e in p.client_errors],
        refusals=sum((p.refusals for p in people), Counter()),
        p50=statistics.median(latencies) if latencies else 0,
        p95=statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else 0,
        alive=sum(p.is_alive() for p in people),
        memory=memory,
    )
    return result


def ok(r: dict) -> bool:
    return (
        r["errors_5xx"] == 0 and r["locked"] == 0 and r["tracebacks"] == 0 and r["lost"] == 0
        and r["unacked"] == 0 and r["bad_outreach"] == 0 and r["slots_wrong"] == 0
        and r["sign_ins"][0] == r["sign_ins"][1] and r["sign_outs"][0] == r["sign_outs"][1]
        and not r["client_errors"] and r["alive"] == 0
    )  # fmt: skip


def main() -> None:
    results = [soak(label, url) for label, url in databases()]
    print()
    print(f"Soak: gunicorn {WORKERS} sync workers, {USERS} workers at once for {SECONDS} s, "
          f"writing through the forms ({os.cpu_count()} cores)")  # fmt: skip
    rows = [
        ("requests (req/s)", lambda r: f"{r['requests']:,} ({r['requests'] / r['seconds']:.0f})"),
        ("latency p50 / p95 ms", lambda r: f"{r['p50']:.0f} / {r['p95']:.0f}"),
        ("workers' memory MB start/end", lambda r: "{:.0f} / {:.0f}".format(*r["memory"])),
        ("answers", lambda r: " ".join(f"{s}:{n}" for s, n in sorted(r["statuses"].items()))),
        ("5xx", lambda r: r["errors_5xx"]),
        ('"database is locked" in log', lambda r: r["locked"]),
        ("tracebacks in log", lambda r: r["tracebacks"]),
        ("client errors", lambda r: len(r["client_errors"])),
        ("shifts saved / stored", lambda r: "{} / {}".format(*r["shifts"])),
        ("check-ins saved / stored", lambda r: "{} / {}".format(*r["checkins"])),
        ("lost writes", lambda r: r["lost"]),
        ("stored without a 2xx/3xx", lambda r: r["unacked"]),
        ("outreach requests wrong", lambda r: r["bad_outreach"]),
        ("bookings won / races lost (409)", lambda r: f"{r['bookings']} / {r['races_lost']}"),
        ("cancellations", lambda r: r["cancels"]),
        ("slots held at the end / wrong", lambda r: f"{r['slots_held']} / {r['slots_wrong']}"),
        ("slots with 2+ active bookings", lambda r: r["double"]),
        ("sign-ins / audit rows", lambda r: "{} / {}".format(*r["sign_ins"])),
        ("sign-outs / audit rows", lambda r: "{} / {}".format(*r["sign_outs"])),
        ("verdict", lambda r: "OK" if ok(r) else "FAILED"),
    ]  # fmt: skip
    print(f"{'':<32}" + "".join(f"{r['database']:<36}" for r in results))
    for name, value in rows:
        print(f"{name:<32}" + "".join(f"{value(r)!s:<36}" for r in results))
    for r in results:
        for refusal, n in sorted(r["refusals"].items()):
            print(f"   {r['database']} refused (expected): {refusal} x {n}")
    for r in results:
        for error in r["client_errors"][:5]:
            print(f"   {r['database']} client error: {error}")
    if not all(ok(r) for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
