"""Load test: gunicorn (2 sync workers, 127.0.0.1) on the seed-bench data, 16 users at once.

    make load                                                # city size, SQLite
    BENCH_NATIONAL=1 BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/load.py                       # city and national, both databases

The data is bench/dashboard.py's (same BENCH_DIR, same PostgreSQL schemas bench_city and
bench_national, same build records): an existing build is reused (BENCH_REUSE defaults to 1
here), a missing one is built. For each size and database gunicorn is started with the
production config (``--workers 2 --worker-class sync``, LOAD_WORKERS to change), the bench
worker (the first active worker of provider p001), hr@p001, leader@p001 and the funder sign in
through the real forms (two-factor codes from the published bench secret), and Debian's ``wrk``
drives LOAD_USERS (16) connections for LOAD_SECONDS (15) per page after a LOAD_WARMUP (2 s)
warm-up, each connection sending the next request as soon as the last is answered (closed loop,
no think time). /healthz (one ``SELECT 1``) is the ceiling: what this server, on this machine,
answers when a page costs nothing.

Afterwards the same pages are fetched in-process with the same session cookies (the test client,
the server's secret key) and their SQL statements counted, as bench/dashboard.py does.

Targets (issues 9 and 14): worker pages (/, /pay, /shifts) at least 30 % of the ceiling's
requests per second and p95 under 100 ms; the leader's dashboard p95 under 300 ms, the funder's
under 500 ms; judged at national size on PostgreSQL (the other rows show the same test for
comparison). LOAD_PAGES=dashboard (part of the labels) and LOAD_DATABASES=postgresql narrow a run.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

os.environ.setdefault("BENCH_REUSE", "1")  # before dashboard reads it: never rebuild by default
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dashboard  # noqa: E402  (bench/dashboard.py: sizes, databases, builds)
from live import Browser, Server, process_cpu  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import User, UserRole  # noqa: E402
from portal.seedbench import BENCH_PASSWORD, BENCH_TOTP_SECRET, DOMAIN, FUNDER_EMAIL  # noqa: E402

USERS = int(os.environ.get("LOAD_USERS", "16"))
SECONDS = min(int(os.environ.get("LOAD_SECONDS", "15")), 120)
WARMUP = min(int(os.environ.get("LOAD_WARMUP", "2")), 30)
WORKERS = int(os.environ.get("LOAD_WORKERS", "2"))
WRK = shutil.which("wrk")
HR_EMAIL = f"hr@p001.{DOMAIN}"

# (label, path, who, kind): kind decides the target.
PAGES = [
    ("healthz", "/healthz", None, "ceiling"),
    ("worker /", "/", "worker", "worker"),
    ("worker /pay", "/pay", "worker", "worker"),
    ("worker /shifts", "/shifts", "worker", "worker"),
    ("hr /hr/fair-pay", "/hr/fair-pay", "hr", "other"),
    ("leader /dashboard", "/dashboard", "leader", "dashboard"),
    ("funder /dashboard", "/dashboard", "funder", "dashboard"),
]
# LOAD_PAGES: a comma-separated part of the labels to run (/healthz, the ceiling, always runs).
_ONLY = [part.strip() for part in os.environ.get("LOAD_PAGES", "").split(",") if part.strip()]
if _ONLY:
    PAGES = [p for p in PAGES if p[3] == "ceiling" or any(part in p[0] for part in _ONLY)]
# LOAD_DATABASES: "sqlite" or "postgresql" to run one of them only.
DATABASES = os.environ.get("LOAD_DATABASES", "").lower()
TARGET_RATIO, TARGET_WORKER_P95 = 0.30, 100.0
TARGET_DASHBOARD_P95 = {"leader /dashboard": 300.0, "funder /dashboard": 500.0}  # issue 14

# wrk calls done() once at the end: requests, microseconds, latency percentiles, errors.
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FAIRSHIFT %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""
RESULT = re.compile(r"^FAIRSHIFT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", re.M)


def accounts(url: str) -> dict[str, str]:
    """E-mail of each role signed in: the worker is p001's first active worker."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        leader = db.session.scalar(sa.select(User).where(User.email == dashboard.LEADER_EMAIL))
        worker = db.session.scalar(
            sa.select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role == "worker",
                User.active.is_(True),
                User.organisation_id == leader.organisation_id,
            )
            .order_by(User.id)
            .limit(1)
        )
        db.engine.dispose()
    return {"worker": worker, "hr": HR_EMAIL, "leader": dashboard.LEADER_EMAIL,
            "funder": FUNDER_EMAIL}  # fmt: skip


def wrk(
    port: int, path: str, cookie: str | None, seconds: int, script: Path, users: int = USERS
) -> dict:
    args = [
        WRK,
        f"-t{min(2, users)}",
        f"-c{users}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run(  # noqa: S603 - wrk from PATH, our own arguments
        [*args, f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )  # fmt: skip
    found = RESULT.search(done.stdout)
    if not found:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    requests, micros, p50, p95, p99, bad_status, socket_errors = map(int, found.groups())
    return {
        "requests": requests,
        "rps": requests / (micros / 1e6),
        "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000,
        "errors": bad_status + socket_errors,
    }  # fmt: skip


class DatabaseCPU:
    """CPU seconds of the PostgreSQL backends serving the server (found by application_name;
    the database runs on this machine). SQLite runs inside the workers: nothing to add."""

    def __init__(self, url: str):
        self.name = f"fairshift-load-{os.getpid()}"
        self.engine = None
        self.server_url = url
        if url.startswith("postgresql"):
            self.engine = sa.create_engine(url)
            joiner = "&" if "?" in url else "?"
            self.server_url = f"{url}{joiner}application_name={self.name}"

    def seconds(self) -> float:
        if self.engine is None:
            return 0.0
        with self.engine.connect() as conn:
            pids = conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": self.name},
            ).scalars()
            return sum(process_cpu(pid) for pid in pids)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def settle(server: Server, database_cpu: DatabaseCPU, limit: float = 180) -> None:
    """Wait until the server is idle: wrk stops with up to LOAD_USERS requests queued or being
    answered, which gunicorn still works through (a slow page: many seconds)."""
    deadline = time.monotonic() + limit
    last = server.cpu_seconds() + database_cpu.seconds()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = server.cpu_seconds() + database_cpu.seconds()
        if now - last < 0.03:
            return
        last = now


def count_statements(url: str, secret_key: str, cookies: dict[str, str]) -> dict[str, int]:
    """SQL statements of each page, in-process, with the session the server gave each person."""
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=secret_key, RATELIMIT_ENABLED=False
    )
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    out = {}
    for label, path, who, _kind in PAGES:
        client = app.test_client()
        if who:
            client.set_cookie("session", cookies[who])
        assert client.get(path).status_code == 200, (label, "warm-up")
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200, (label, response.status_code)
        out[label] = len(statements)
    with app.app_context():
        db.engine.dispose()
    return out


def run(size: str, label: str, url: str, work: Path, script: Path) -> list[dict]:
    emails = accounts(url)
    rows = []
    database_cpu = DatabaseCPU(url)
    log = work / f"gunicorn-{size}-{label.lower()}.log"
    with Server(database_cpu.server_url, WORKERS, log) as server:
        people = {}
        for who, email in emails.items():
            person = Browser(server.port)
            person.sign_in(email, BENCH_PASSWORD, BENCH_TOTP_SECRET)
            people[who] = person
        for page, path, who, kind in PAGES:
            cookie = None
            if who:  # the page answers 200 to this person (not a redirect to sign in)
                person = people[who]
                status, _body = person.get(path)
                if status != 200:
                    raise RuntimeError(f"{page}: {status} -> {person.location}")
                cookie = person.cookie_header()
                person.close()
            print(f"   {page:<18} {SECONDS} s x {USERS} users...", flush=True)
            load = os.getloadavg()[0]
            if WARMUP:  # one connection per worker: nothing much is left queued after it
                wrk(server.port, path, cookie, WARMUP, script, users=WORKERS)
                settle(server, database_cpu)
            cpu = server.cpu_seconds() + database_cpu.seconds()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            figures = wrk(server.port, path, cookie, SECONDS, script)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = server.cpu_seconds() + database_cpu.seconds() - cpu
            settle(server, database_cpu)  # answers wrk left behind do not count on the next page
            figures["cpu_ms"] = cpu * 1000 / max(figures["requests"], 1)
            figures["wrk_cpu"] = (
                after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            ) / SECONDS
            if who:
                status, _body = people[who].get(path)  # still signed in after the run
                if status != 200:
                    raise RuntimeError(f"{page}: after the run {status}")
            rows.append({"size": size, "database": label, "page": page, "kind": kind,
                         "load": load, **figures})  # fmt: skip
        cookies = {who: p.cookies["session"] for who, p in people.items()}
    database_cpu.close()
    statements = count_statements(url, server.secret_key, cookies)
    log_text = log.read_text()
    problems = [line for line in log_text.splitlines() if "Traceback" in line or "ERROR" in line]
    if problems:
        print(f"   server log {log}: {len(problems)} error lines", flush=True)
    ceiling = rows[0]["rps"]
    for row in rows:
        row["ratio"] = row["rps"] / ceiling
        row["cpu_ratio"] = rows[0]["cpu_ms"] / row["cpu_ms"] if row["cpu_ms"] else 0.0
        row["sql"] = statements[row["page"]]
        row["target"] = verdict(row)
    return rows


def verdict(row: dict) -> str:
    if row["kind"] != "ceiling" and not row["requests"]:
        return "no (none answered)"
    if row["kind"] == "worker":
        missed = []
        if row["ratio"] < TARGET_RATIO:
            missed.append("ratio")
        if row["p95"] >= TARGET_WORKER_P95:
            missed.append("p95")
        return "no (" + ", ".join(missed) + ")" if missed else "yes"
    if row["kind"] == "dashboard":
        return "yes" if row["p95"] < TARGET_DASHBOARD_P95[row["page"]] else "no (p95)"
    return "-"


def main() -> None:
    if not WRK:
        sys.exit("wrk not found: apt-get install wrk (Debian's package)")
    sizes = ["city", "national"] if os.environ.get("BENCH_NATIONAL") == "1" else ["city"]
    if os.environ.get("LOAD_SIZES"):  # e.g. LOAD_SIZES=national with BENCH_NATIONAL=1
        sizes = [s for s in sizes if s in os.environ["LOAD_SIZES"].split(",")]
    work = Path(tempfile.mkdtemp(prefix="fairshift-load-"))
    script = work / "report.lua"
    script.write_text(LUA)
    rows = []
    for size in sizes:
        for label, url, schema in dashboard.databases(size):
            if DATABASES and DATABASES not in label.lower():
                continue
            print(f"== {size} on {label}", flush=True)
            dashboard.prepare(size, label, url, schema)
            rows += run(size, label, url, work, script)
    print()
    print(f"gunicorn {WORKERS} sync workers, {USERS} users (wrk -c{USERS}, no think time), "
          f"{SECONDS} s per page after {WARMUP} s warm-up; {os.cpu_count()} cores")  # fmt: skip
    print(f"{'size':<9} {'database':<11} {'page':<18} {'req/s':>7} {'n':>6} {'ratio':>6} "
          f"{'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7} {'SQL':>4} {'CPU ms':>7} {'CPU ratio':>9} {'errors':>6} "
          f"{'load':>5} {'wrk':>5}  target")  # fmt: skip
    for r in rows:
        print(f"{r['size']:<9} {r['database']:<11} {r['page']:<18} {r['rps']:>7.1f} "
              f"{r['requests']:>6} {r['ratio']:>6.0%} {r['p50']:>7.1f} {r['p95']:>7.1f} "
              f"{r['p99']:>7.1f} "
              f"{r['sql']:>4} {r['cpu_ms']:>7.2f} {r['cpu_ratio']:>9.0%} {r['errors']:>6} "
              f"{r['load']:>5.1f} {r['wrk_cpu']:>5.0%}  {r['target']}")  # fmt: skip
    print("n: requests answered within the run (wrk leaves out those still open at its end). "
          "ratio: req/s against /healthz on the same server. CPU ms: CPU time per request of "
          "gunicorn's workers plus, on PostgreSQL, their database backends; CPU ratio: /healthz's "
          "CPU ms over the page's (the ratio on an otherwise idle machine). load: 1-minute load "
          "average before the run; wrk: the load generator's CPU, share of one core. Targets "
          "(worker pages: ratio >= 30 % and p95 < 100 ms; dashboards: p95 < 300 ms for a leader, "
          "< 500 ms for the funder) are judged "
          "at national size on PostgreSQL.")  # fmt: skip
    print(f"gunicorn logs: {work}")


if __name__ == "__main__":
    main()
