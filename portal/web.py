"""What every page shares: the signed-in user, display filters, help-now details, headers."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request, session
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from portal.auth.sessions import SESSION_RECORD
from portal.extensions import db, login_manager
from portal.menu import main_menu
from portal.models import AuditEvent, User
from portal.timeutil import to_local

# Browser features no page uses, switched off for the page and anything it embeds.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=()"
)

# What a browser form posts; a page's POST with any other body is refused before a form reads it.
FORM_TYPES = {"", "application/x-www-form-urlencoded", "multipart/form-data"}
# The only forms with a file field: endpoint -> the names of their file fields.
FILE_FIELDS = {"benchmarks.import_csv": {"file"}}

login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@functools.cache
def _session_user_statement() -> sa.Select:
    """The session check as one statement, built once (bound values per request).

    The user with their roles and organisation: every page asks for the roles (the menu), many
    for the organisation's name, and each lazy load was one more round trip on every request.
    A session counts only while its version is current, the account active, and no sign-out of
    that session is on record.
    """
    ended = sa.exists().where(
        AuditEvent.subject_id == User.id,
        AuditEvent.record_type == SESSION_RECORD,
        AuditEvent.record_id == sa.bindparam("sid"),
    )
    return (
        sa.select(User)
        .options(joinedload(User.role_rows), joinedload(User.organisation))
        .where(
            User.id == sa.bindparam("user_id"),
            User.session_version == sa.bindparam("version"),
            User.active.is_(True),
            ~ended,
        )
    )


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user of a session, refusing sessions ended by a version bump or deactivation,
    and sessions signed out already (a copy of the cookie): see portal/auth/sessions.py."""
    user_id, _, version = session_id.partition(":")
    sid = session.get("sid")
    if not user_id.isdigit() or not version.isdigit() or not isinstance(sid, int):
        return None
    values = {"user_id": int(user_id), "version": int(version), "sid": sid}
    # unique(): the joined roles give one row per role.
    return db.session.scalars(_session_user_statement(), values).unique().first()


def _decimal(value) -> Decimal:
    """Decimal from a Decimal, int, str or exact Fraction (the pay arithmetic's type)."""
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


def money(value) -> str:
    """$1,234.56 (negative amounts as -$1,234.56)."""
    if value is None:
        return ""
    amount = _decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def hours(value) -> str:
    """Hours with two decimals."""
    if value is None:
        return ""
    return f"{_decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def minutes_as_hours(value) -> str:
    """Minutes shown as hours with two decimals."""
    return hours(Decimal(value or 0) / 60)


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def figure(value) -> str:
    """A table cell for reading: numbers with thousands separators ("27,735", "1,234.50"), the
    rest ("fewer than 11", "$1,200.00", "2026-01") as it is. Downloads keep the plain number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, Decimal) or (isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value)):
        return f"{Decimal(value):,}"
    return value


def local_dt(value: datetime | None, fmt: str = "%a %b %-d, %Y %H:%M") -> str:
    """An instant on the local wall clock."""
    if value is None:
        return ""
    return to_local(value).strftime(fmt)


def fromiso_date(value: str) -> date:
    """An ISO date string (as stored in statement details) as a date."""
    return date.fromisoformat(value)


def fromiso_dt(value: str) -> datetime:
    """An ISO datetime string (as stored in statement details) as a datetime."""
    return datetime.fromisoformat(value)


def prev_day(value: date) -> date:
    """The day before: the last day of a period whose end is exclusive."""
    return value - timedelta(days=1)


def _has_nul(values: MultiDict) -> bool:
    return any("\x00" in f"{key}{value}" for key, value in values.items(multi=True))


def _without_nul(values: MultiDict) -> ImmutableMultiDict:
    return ImmutableMultiDict(
        (key.replace("\x00", "") if key else key, value.replace("\x00", ""))
        for key, value in values.items(multi=True)
    )


def register(app: Flask) -> None:
    """Attach filters, the page context and response headers."""
    app.add_template_filter(money)
    app.add_template_filter(hours)
    app.add_template_filter(minutes_as_hours)
    app.add_template_filter(local_dt)
    app.add_template_filter(figure)
    app.add_template_filter(fromiso_date)
    app.add_template_filter(fromiso_dt)
    app.add_template_filter(prev_day)
    app.add_template_global(main_menu)

    @app.context_processor
    def page_context():
        return {
            "oncall_phone": current_app.config["ONCALL_PHONE"],
            "oncall_label": current_app.config["ONCALL_LABEL"],
            "timezone_name": current_app.config["TIMEZONE"],
            "current_user": current_user,
        }

    @app.before_request
    def readable_requests():
        """What no page of the portal sends is cleaned or refused before a view reads it.

        NUL characters are dropped from an address's parameters and a form's fields, as the
        exposure note always did: PostgreSQL text cannot hold one, so a query or a save with
        one failed with a 500. A page's POST must be a browser form: Flask-WTF reads a JSON
        body as form data and merges uploaded files into it, so a form would otherwise meet
        values that are not strings (a number, a list, a file) and fail with a 500.
        """
        if _has_nul(request.args):
            request.args = _without_nul(request.args)
        if request.method != "POST" or request.path.startswith("/api/"):
            return None
        if request.mimetype not in FORM_TYPES:
            return render_template("errors/415.html"), 415
        allowed = FILE_FIELDS.get(request.endpoint, set())
        if any(name not in allowed for name in request.files):
            return render_template("errors/400.html"), 400
        if _has_nul(request.form):
            request.form = _without_nul(request.form)
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # No address (with its ids or one-time token) ever reaches another site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if current_app.config.get("HSTS"):
            response.headers.setdefault("Strict-Transport-Security", current_app.config["HSTS"])
        if request.endpoint != "static":
            # Pages hold pay and people's records: a shared phone's back button or cache must
            # not show them after sign-out.
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
