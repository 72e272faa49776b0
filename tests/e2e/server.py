"""The real portal on a loopback port, and Debian's Chromium: shared by the e2e tests and the
screenshot script (``python -m tests.e2e.screenshots``).

Nothing here downloads a browser: Playwright drives the Chromium the system package installed
(``apt-get install chromium``). The server is werkzeug's threaded development server in a daemon
thread of the test process, so the tests can look at the database directly when they need to
set something up.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyotp
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from portal import create_app
from portal.database import normalise_database_url
from portal.extensions import db
from portal.models import User
from portal.seed import DEMO_PASSWORD, seed_demo
from tests.conftest import per_worker

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MISSING_CHROMIUM = (
    "Chromium not found: the browser tests in tests/e2e cannot run "
    "(install Debian's chromium package, or set E2E_CHROMIUM to its path)."
)
# The SPEC §6 demo accounts by role (hr, counselor, admin and funder sign in with a TOTP code).
DEMO_ACCOUNTS = {
    "worker": "worker@example.org",
    "supervisor": "supervisor@example.org",
    "counselor": "counselor@example.org",
    "hr": "hr@example.org",
    "leader": "leader@example.org",
    "funder": "funder@example.org",
    "admin": "admin@example.org",
}


def chromium_path() -> str | None:
    """Debian's Chromium (or E2E_CHROMIUM), never a browser Playwright downloaded."""
    explicit = os.environ.get("E2E_CHROMIUM", "").strip()
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def launch_browser(playwright):
    """Headless Chromium with the flags a container needs."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(MISSING_CHROMIUM)
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


# --- the database -------------------------------------------------------------------------------


def e2e_database_url(tmp_dir: Path) -> str:
    """A database of the e2e run's own, never the suite's.

    SQLite: a file in ``tmp_dir``. With TEST_DATABASE_URL set: a PostgreSQL database on the same
    server named like that one plus ``_e2e``, dropped and created afresh.
    """
    suite_url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not suite_url:
        return "sqlite:///" + str(tmp_dir / "e2e.db")
    url = sa.make_url(normalise_database_url(suite_url))
    name = per_worker(f"{url.database}_e2e")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_e2e_database(url: str) -> None:
    """Drop the PostgreSQL database ``e2e_database_url`` created (SQLite files go with tmp)."""
    parsed = sa.make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        admin.dispose()


# --- the application ----------------------------------------------------------------------------


@dataclass
class LiveServer:
    """The running portal: its address, the app (for set-up through the database) and facts
    about the demo data the tests rely on."""

    app: Flask
    url: str
    server: BaseWSGIServer
    thread: threading.Thread
    today: date
    facts: dict = field(default_factory=dict)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def build_app(database_url: str, mail_dir: Path, **overrides) -> Flask:
    """The testing config with CSRF on, as a browser meets it."""
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        WTF_CSRF_ENABLED=True,
        MAIL_DIR=str(mail_dir),
        SERVER_NAME=None,
        **overrides,
    )


def start_server(database_url: str, tmp_dir: Path, *, ended_period: bool = True) -> LiveServer:
    """Migrate and seed a fresh database, then serve it on 127.0.0.1 (a free port).

    ``ended_period``: the demo data stop at yesterday's end and pay periods count from today,
    so the demo programme's latest period has just ended and HR can close it (the seed is told
    to close every period that ended before its "now"). Otherwise the data end now, as with
    `make run`.
    """
    zone = ZoneInfo(os.environ.get("FAIRSHIFT_TIMEZONE", "America/Chicago"))
    today = datetime.now(UTC).astimezone(zone).date()
    overrides: dict = {}
    seed_now = None
    if ended_period:
        overrides["PAY_PERIOD_ANCHOR"] = today.isoformat()
        midnight = datetime.combine(today, time(0), tzinfo=zone).astimezone(UTC)
        seed_now = midnight - timedelta(minutes=1)
    app = build_app(database_url, tmp_dir / "mail", **overrides)
    with app.app_context():
        upgrade()
        seed_demo(now=seed_now, left_open=0 if ended_period else 1)
        facts = _facts()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    return LiveServer(
        app=app,
        url=f"http://127.0.0.1:{server.server_port}",
        server=server,
        thread=thread,
        today=today,
        facts=facts,
    )


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (a test run makes thousands); errors still print."""

    def log_request(self, code="-", size="-") -> None:
        pass


def _facts() -> dict:
    """What the tests need to know about the seeded programme: ids and other workers."""
    from portal.models import UserRole

    demo = db.session.scalar(sa.select(User).where(User.email == DEMO_ACCOUNTS["worker"]))
    colleagues = list(
        db.session.execute(
            sa.select(User.email, User.name)
            .join(UserRole)
            .where(
                UserRole.role == "worker",
                User.active.is_(True),
                User.site_id == demo.site_id,
                User.id != demo.id,
            )
            .order_by(User.id)
        )
    )
    return {
        "demo_worker_id": demo.id,
        "organisation_id": demo.organisation_id,
        # Other active workers at the demo worker's site, (e-mail, name): each journey that
        # needs a worker of its own takes a different one, so no journey depends on another.
        "colleagues": [tuple(row) for row in colleagues],
    }


# --- signing in ---------------------------------------------------------------------------------


def forget_last_code(app: Flask, email: str) -> None:
    """Let an account use the current 30-second code again: each code is accepted once, and
    the tests sign the same person in more often than that (the suite's conftest does the same)."""
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(totp_last_step=None))
        db.session.commit()
        db.session.remove()


def totp_secret_of(app: Flask, email: str) -> str | None:
    """The account's enrolled secret (the seeded one, normally)."""
    with app.app_context():
        secret = db.session.scalar(sa.select(User.totp_secret).where(User.email == email))
        db.session.remove()
    return secret


def sign_in(page, live: LiveServer, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real form; answer the two-factor step when it is asked.

    Ends on the page the portal lands on (the role's home); fails if it stays on a sign-in page.
    """
    page.goto(live.url + "/login")
    if not page.url.removeprefix(live.url).startswith("/login"):  # still signed in: sign out
        with page.expect_navigation():
            page.get_by_role("button", name="Sign out").click()
        page.goto(live.url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    path = page.url.removeprefix(live.url).split("?")[0]
    if path == "/login/two-factor":
        secret = totp_secret_of(live.app, email)  # seed-demo's DEMO_TOTP_SECRET
        assert secret, f"{email} is asked for a code but has no TOTP secret"
        forget_last_code(live.app, email)
        page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).now())
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        path = page.url.removeprefix(live.url).split("?")[0]
    assert path not in ("/login", "/login/two-factor", "/account/two-factor"), (
        f"signing in as {email} stopped at {path}: "
        + (page.locator("[role=alert]").all_inner_texts() or [page.title()])[0]
    )


def confirm_identity_if_asked(page, live: LiveServer, password: str = DEMO_PASSWORD) -> bool:
    """On /reauth (a sensitive action after a while), give the password; True when asked.

    Call it once the page the action led to has loaded (after an ``expect_navigation``)."""
    if not page.url.removeprefix(live.url).startswith("/reauth"):
        return False
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    return True


# --- set-up a journey needs, straight in the database --------------------------------------------


def submitted_shift(live: LiveServer, email: str, start: time, hours: int) -> dict:
    """A shift the worker logged today (local), waiting for approval, through the shift service.

    The seeded shifts all end before today, so today is free for every worker.
    """
    from portal.shifts.service import ShiftInput, create_shift

    with live.app.app_context():
        worker = db.session.scalar(sa.select(User).where(User.email == email))
        end = (datetime.combine(live.today, start) + timedelta(hours=hours)).time()
        shift = create_shift(
            worker,
            ShiftInput(
                site_id=worker.site_id,
                shift_type="street_outreach",
                day=live.today,
                start=start,
                end=end,
                break_minutes=0,
                conflicts_interrupted=1,
                individuals_engaged=3,
                referrals=0,
                note="",
            ),
        )
        db.session.commit()
        found = {"id": shift.id, "worker": worker.name, "start": start, "end": end}
        db.session.remove()
    return found


def approve_ended_period(live: LiveServer) -> int:
    """What the supervisors do before HR closes a period: approve every shift still waiting in
    the demo provider's period that ended yesterday. Returns how many were approved."""
    from portal.models import Shift

    zone = ZoneInfo(live.app.config["TIMEZONE"])
    lo = datetime.combine(live.today - timedelta(days=14), time(0), tzinfo=zone).astimezone(UTC)
    hi = datetime.combine(live.today, time(0), tzinfo=zone).astimezone(UTC)
    with live.app.app_context():
        supervisor = db.session.scalar(
            sa.select(User.id).where(User.email == DEMO_ACCOUNTS["supervisor"])
        )
        waiting = db.session.scalars(
            sa.select(Shift).where(
                Shift.organisation_id == live.facts["organisation_id"],
                Shift.status == "submitted",
                Shift.start_at >= lo,
                Shift.start_at < hi,
            )
        ).all()
        for shift in waiting:  # through the session, so the daily totals follow
            shift.status = "approved"
            shift.reviewed_by_id = supervisor
            shift.reviewed_at = datetime.now(UTC)
        db.session.commit()
        db.session.remove()
    return len(waiting)


def age_session(context, live: LiveServer, minutes: int) -> None:
    """Make the browser's session look as if its owner last proved who they are ``minutes``
    ago (they walked away from the screen): the next sensitive action asks again."""
    serializer = live.app.session_interface.get_signing_serializer(live.app)
    name = live.app.config["SESSION_COOKIE_NAME"]
    cookie = next(c for c in context.cookies(live.url) if c["name"] == name)
    data = serializer.loads(cookie["value"])
    data["auth_at"] = int(data["auth_at"]) - minutes * 60
    context.add_cookies([{**cookie, "value": serializer.dumps(data)}])
