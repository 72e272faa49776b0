"""Session lifetime: starting a session at sign-in, ending it, and the checks on every request.

The session (Flask's signed cookie) carries, besides Flask-Login's user id:
- ``sid``: a random number naming this session. Signing out writes an audit event about it
  (record type "session"), and the user loader refuses a session whose ``sid`` has such an
  event, so a copy of the cookie taken before sign-out stops working too. Nothing is kept in
  process memory, so this holds across workers and hosts.
- ``signed_in_at``, ``last_seen``, ``auth_at``: epoch seconds of signing in, of the last request
  (refreshed at most once a minute, in the cookie: no database write per request), and of the
  last time the person proved who they are (sign-in or /reauth).

Before each request the session is ended when it has been idle too long (shorter for the roles
that see pay or people's records) or is older than SESSION_MAX_HOURS; and people whose roles
require two-factor sign-in but have not set it up can only reach the set-up page.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal import audit
from portal.auth import bp, clock, twofactor
from portal.auth.service import is_safe_next, normalise_email
from portal.extensions import db
from portal.models import User

PENDING = "pending_2fa"  # the half-signed-in state between the password and the code
PENDING_SECONDS = 5 * 60
LAST_SEEN_RESOLUTION = 60  # seconds: last_seen is rewritten at most this often
PRIVILEGED_ROLES = twofactor.REQUIRED_ROLES  # the same roles get the shorter idle time
SESSION_RECORD = "session"  # audit record type of "this session has ended" events

# Reachable by someone whose roles require two-factor but who has not set it up yet.
ENROLMENT_ENDPOINTS = {"auth.two_factor_setup", "auth.logout", "static", "main.healthz"}


def start(user: User) -> None:
    """Sign ``user`` in on a brand-new session (nothing from before carries over)."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = int(clock.now())
    session.update(
        sid=secrets.randbelow(2**31 - 2) + 1,
        signed_in_at=now,
        last_seen=now,
        auth_at=now,
    )
    audit.record("auth.sign_in", "users", user.id, subject_id=user.id, actor=user)


def account_id(email: str) -> int | None:
    """The id of the account an e-mail belongs to (for the audit of a failed sign-in)."""
    return db.session.scalar(sa.select(User.id).where(User.email == normalise_email(email)))


def begin_sign_in(user: User, target: str | None):
    """After a correct password: sign in, or ask for the second factor first.

    Returns the redirect to follow. The caller commits (the audit event).
    """
    target = target if is_safe_next(target) else ""
    if twofactor.is_enabled(user):
        session.clear()
        session[PENDING] = {
            "uid": user.id,
            "v": user.session_version,
            "at": int(clock.now()),
            "next": target,
        }
        return redirect(url_for("auth.two_factor"))
    start(user)
    return redirect(target or url_for("main.home"))


def pending_user() -> tuple[User | None, bool]:
    """The person half-way through signing in, and whether their time ran out."""
    data = session.get(PENDING)
    if not isinstance(data, dict):
        return None, False
    if clock.now() - data.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None, True
    user = db.session.get(User, data.get("uid"))
    if (
        user is None
        or not user.active
        or user.session_version != data.get("v")
        or not twofactor.is_enabled(user)
    ):
        session.pop(PENDING, None)
        return None, False
    return user, False


def pending_next() -> str:
    """Where the person asked to go before the second step."""
    data = session.get(PENDING)
    return data.get("next", "") if isinstance(data, dict) else ""


def end(action: str, outcome: str = "ok") -> None:
    """Record that this session ended (which also refuses any copy of its cookie) and clear it.

    The caller commits.
    """
    if current_user.is_authenticated:
        sid = session.get("sid")
        audit.record(
            action,
            SESSION_RECORD,
            sid if isinstance(sid, int) else None,
            subject_id=current_user.id,
            outcome=outcome,
        )
    logout_user()
    session.clear()


def idle_minutes(user: User) -> int:
    """Minutes without a request after which this person is signed out."""
    config = current_app.config
    if user.has_role(*PRIVILEGED_ROLES):
        return config["IDLE_TIMEOUT_MINUTES_PRIVILEGED"]
    return config["IDLE_TIMEOUT_MINUTES"]


def _expiry(user: User) -> tuple[str, str] | None:
    """(outcome, message) when the session has run out, else None."""
    now = clock.now()
    signed_in_at, last_seen = session.get("signed_in_at"), session.get("last_seen")
    if not isinstance(signed_in_at, int) or not isinstance(last_seen, int):
        return "invalid", "Your session has ended. Please sign in again."
    max_hours = current_app.config["SESSION_MAX_HOURS"]
    if now - signed_in_at > max_hours * 3600:
        return "limit", (
            f"You were signed out because sessions last at most {max_hours} hours. "
            "Please sign in again."
        )
    minutes = idle_minutes(user)
    if now - last_seen > minutes * 60:
        return "idle", (
            f"You were signed out after {minutes} minutes without activity. Please sign in again."
        )
    return None


@bp.before_app_request
def check_session():
    """End idle or too-old sessions; keep people who must set up two-factor on that page."""
    # /healthz answers for the database alone: no user is loaded for it, even with a cookie.
    if request.endpoint in (None, "static", "main.healthz") or "_user_id" not in session:
        return None
    if not current_user.is_authenticated:  # ended elsewhere (version bump, sign-out, deactivated)
        return None
    user = current_user._get_current_object()
    expired = _expiry(user)
    if expired is not None:
        outcome, message = expired
        end("auth.session_expired", outcome)
        db.session.commit()
        flash(message, "warning")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    now = int(clock.now())
    if now - session["last_seen"] >= LAST_SEEN_RESOLUTION:
        session["last_seen"] = now
    if (
        twofactor.is_required(user)
        and not twofactor.is_enabled(user)
        and request.endpoint not in ENROLMENT_ENDPOINTS
    ):
        flash(
            "Your role needs two-factor sign-in. Set it up below to continue "
            "(it takes a minute with an authenticator app).",
            "warning",
        )
        return redirect(url_for("auth.two_factor_setup"))
    return None
