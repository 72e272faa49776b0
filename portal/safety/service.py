"""The rules of safety check-ins: start, more time, "I'm safe", SOS, the duress code, settings.

Plain arguments in, model objects out, SafetyError (messages by form field) for refusals.
Services never commit; the view does. Every state change is one conditional UPDATE on the
check-in's status, so a tap racing the escalation command (or a second tap) changes it once.

The duress code: to the worker (their pages, their history, their data export) a check-in ended
with it is "safe", always; underneath it is an alarm of kind ``duress``. ``worker_status`` is
the only way worker-facing code reads a check-in's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort
from sqlalchemy.orm import joinedload

from portal import audit, phone
from portal.extensions import db
from portal.forms import FieldErrors, Refusals, record_id
from portal.models import (
    MAX_CHECKIN_MINUTES,
    MIN_CHECKIN_MINUTES,
    AuditEvent,
    SafetyCheckin,
    SafetyPosition,
    SafetySettings,
    User,
    UserRole,
)
from portal.timeutil import to_local, utcnow

QUICK_MINUTES = (15, 30, 60, 90)
MORE_MINUTES = (15, 30)
MAX_PLACE = 200
MAX_NOTE = 1000
CODE_MIN, CODE_MAX = 4, 8
WRONG_CODES_ALLOWED = 5  # per check-in; then the code is not even checked (it keeps running)
HISTORY = 10

_hasher = PasswordHasher()


def hash_code(code: str) -> str:
    """A safe or duress code as stored: hashed with argon2, as passwords are."""
    return _hasher.hash(code)


class SafetyError(FieldErrors):
    """A refused safety action: messages by form field ("" for the form as a whole)."""


def _Errors() -> Refusals:  # noqa: N802 - used as the class it stood for
    return Refusals(SafetyError)


# --- what the worker sees --------------------------------------------------------------------


def worker_status(c: SafetyCheckin) -> str:
    """The status the worker is shown: a duress alarm reads as "safe", always."""
    if c.alarm_kind == "duress" or c.status == "safe":
        return "safe"
    return c.status  # active, alarm (missed or SOS: the worker knows), closed


WORKER_LABELS = {"active": "Running", "safe": "Safe", "alarm": "Alarm raised",
                 "closed": "Closed by your supervisor"}  # fmt: skip


def worker_label(c: SafetyCheckin) -> str:
    status = worker_status(c)
    if status == "alarm":
        return "SOS sent" if c.alarm_kind == "sos" else "Overdue: your supervisor was alerted"
    return WORKER_LABELS[status]


def _current_condition():
    """Running as the worker sees it: active, or a missed/SOS alarm not yet ended (a duress
    alarm looks ended to them)."""
    return sa.or_(
        SafetyCheckin.status == "active",
        sa.and_(SafetyCheckin.status == "alarm", SafetyCheckin.alarm_kind != "duress"),
    )


def current_for(worker: User) -> SafetyCheckin | None:
    """The worker's running check-in (as they see it), or None."""
    return db.session.scalar(
        sa.select(SafetyCheckin)
        .options(joinedload(SafetyCheckin.buddy))
        .where(SafetyCheckin.worker_id == worker.id, _current_condition())
        .order_by(SafetyCheckin.started_at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Running:
    """The worker's running check-in as their home tells it at one moment: what it says
    changes with the clock alone (minutes left, then overdue), so it is worked out per request."""

    checkin: SafetyCheckin
    now: datetime

    @property
    def sos(self) -> bool:
        return self.checkin.status == "alarm" and self.checkin.alarm_kind == "sos"

    @property
    def alerted(self) -> bool:
        """A missed check-in the escalation has turned into an alarm."""
        return self.checkin.status == "alarm" and not self.sos

    @property
    def overdue(self) -> bool:
        return self.alerted or (not self.sos and self.checkin.due_at <= self.now)

    @property
    def minutes_left(self) -> int:
        return max(0, int((self.checkin.due_at - self.now).total_seconds() // 60))


def running_for(worker: User, now: datetime | None = None) -> Running | None:
    """The worker's running check-in (as they see it: never a duress one) at ``now``, or None.
    One statement."""
    checkin = current_for(worker)
    return Running(checkin, now or utcnow()) if checkin is not None else None


def history_for(worker: User, limit: int = HISTORY) -> list[SafetyCheckin]:
    """The worker's recent check-ins that have ended (as they see it), newest first."""
    return list(
        db.session.scalars(
            sa.select(SafetyCheckin)
            .where(SafetyCheckin.worker_id == worker.id, sa.not_(_current_condition()))
            .order_by(SafetyCheckin.started_at.desc())
            .limit(limit)
        )
    )


def own_checkin_or_404(worker: User, checkin_id: int) -> SafetyCheckin:
    """One of the worker's own check-ins, or 404."""
    checkin = db.session.scalar(
        sa.select(SafetyCheckin).where(
            SafetyCheckin.id == checkin_id, SafetyCheckin.worker_id == worker.id
        )
    )
    if checkin is None:
        abort(404)
    return checkin


def is_current(c: SafetyCheckin) -> bool:
    return c.status == "active" or (c.status == "alarm" and c.alarm_kind != "duress")


def settings_for(user: User) -> SafetySettings | None:
    return db.session.get(SafetySettings, user.id)


def has_codes(settings: SafetySettings | None) -> bool:
    return bool(settings and settings.safe_code_hash and settings.duress_code_hash)


def colleagues(worker: User) -> list[User]:
    """Who can be a buddy: the active workers of the same organisation, not the worker."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, sa.and_(UserRole.user_id == User.id, UserRole.role == "worker"))
            .where(
                User.organisation_id == worker.organisation_id,
                User.active.is_(True),
                User.id != worker.id,
            )
            .order_by(User.name, User.id)
        )
    )


def time_text(moment: datetime) -> str:
    """ "02:30" today, else "Thu Dec 3 02:30", on the local clock."""
    local = to_local(moment)
    if local.date() == to_local(utcnow()).date():
        return f"{local:%H:%M}"
    return f"{local:%a %b %-d %H:%M}"


# --- starting and running --------------------------------------------------------------------


@dataclass
class StartInput:
    place: str | None
    minutes: str | None  # one of the quick choices
    other_minutes: str | None  # typed, wins over the choice
    buddy_id: str | None


def _minutes(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 5):
        raise ValueError
    return int(text)


def start(worker: User, data: StartInput, now: datetime | None = None) -> SafetyCheckin:
    """Start a timed check-in; one running per worker (checked under the worker's row lock)."""
    now = now or utcnow()
    errors = _Errors()
    place = " ".join((data.place or "").split())
    if not place:
        errors.add("place", "Say where you are going, e.g. \"Corner of Gravois and Meramec\".")
    elif len(place) > MAX_PLACE:
        errors.add("place", f"Keep it under {MAX_PLACE} characters.")
    minutes = None
    try:
        minutes = _minutes(data.other_minutes)
        if minutes is None:
            minutes = _minutes(data.minutes)
    except ValueError:
        errors.add("other_minutes", "Type the minutes as a whole number, e.g. 45.")
    else:
        if minutes is None:
            errors.add("minutes", "Choose how long you expect to be, or type the minutes.")
        elif not MIN_CHECKIN_MINUTES <= minutes <= MAX_CHECKIN_MINUTES:
            errors.add("other_minutes", f"Choose between {MIN_CHECKIN_MINUTES} and "
                       f"{MAX_CHECKIN_MINUTES} minutes (12 hours).")  # fmt: skip
    buddy = None
    if (data.buddy_id or "").strip():
        try:
            wanted = record_id(data.buddy_id)
        except ValueError:
            wanted = None
        buddy = next((u for u in colleagues(worker) if u.id == wanted), None)
        if buddy is None:
            errors.add("buddy_id", "Choose a buddy from the list, or no buddy.")
    errors.raise_if_any()
    # One running check-in per worker: a double tap (or two phones) waits here for the first
    # one's commit, then sees it. SQLite's writers are serialised by BEGIN IMMEDIATE already.
    db.session.execute(sa.select(User.id).where(User.id == worker.id).with_for_update())
    running = current_for(worker)
    if running is not None:
        raise SafetyError({"": [f"You already have a check-in running (due back at "
                                f"{time_text(running.due_at)})."]})  # fmt: skip
    checkin = SafetyCheckin(
        organisation_id=worker.organisation_id, worker_id=worker.id, site_id=worker.site_id,
        place=place, buddy_id=buddy.id if buddy else None, started_at=now,
        due_at=now + timedelta(minutes=minutes), status="active",
    )  # fmt: skip
    db.session.add(checkin)
    db.session.flush()
    audit.record("safety.start", "safety_checkins", checkin.id, subject_id=worker.id)
    return checkin


def extend(worker: User, checkin: SafetyCheckin, minutes_text: str | None,
           now: datetime | None = None) -> SafetyCheckin:  # fmt: skip
    """More time: +15 or +30 minutes from the due time (or from now, when already past it),
    never beyond MAX_CHECKIN_MINUTES from the start."""
    now = now or utcnow()
    try:
        minutes = _minutes(minutes_text)
    except ValueError:
        minutes = None
    if minutes not in MORE_MINUTES:
        raise SafetyError({"": ["Choose +15 or +30 minutes."]})
    if checkin.status != "active":
        raise SafetyError({"": ["More time is only for a running check-in: tap \"I'm safe\" "
                                "when you are."]})  # fmt: skip
    latest = checkin.started_at + timedelta(minutes=MAX_CHECKIN_MINUTES)
    if checkin.due_at >= latest:
        raise SafetyError({"": ["This check-in already runs the longest it can (12 hours "
                                "from its start). End it and start a new one."]})  # fmt: skip
    due = min(max(checkin.due_at, now) + timedelta(minutes=minutes), latest)
    done = db.session.execute(
        sa.update(SafetyCheckin)
        .where(SafetyCheckin.id == checkin.id, SafetyCheckin.status == "active")
        .values(due_at=due, updated_at=now)
        .execution_options(synchronize_session=False,
                           bumps_organisations=[checkin.organisation_id])  # fmt: skip
    ).rowcount
    db.session.refresh(checkin)
    if not done:
        raise SafetyError({"": ["This check-in is no longer running."]})
    audit.record("safety.extend", "safety_checkins", checkin.id, subject_id=worker.id)
    return checkin


def _verify(hashed: str | None, code: str) -> bool:
    if not hashed:
        return False
    try:
        return _hasher.verify(hashed, code)
    except (VerificationError, InvalidHashError):
        return False


def _wrong_codes(checkin: SafetyCheckin) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "safety.code_wrong",
            AuditEvent.record_type == "safety_checkins",
            AuditEvent.record_id == checkin.id,
        )
    )  # fmt: skip


def end(worker: User, checkin: SafetyCheckin, code: str | None,
        now: datetime | None = None) -> str:  # fmt: skip
    """ "I'm safe": ends the check-in ("safe"), or, with the duress code, raises the alarm while
    the worker's screen shows the same as "safe" ("duress"; the caller alerts step 1 after
    committing). A wrong code ends nothing.

    Raises SafetyError for a wrong or missing code (the wrong try is audited; the view commits
    it) and when the check-in is no longer running.
    """
    now = now or utcnow()
    if not is_current(checkin):
        raise SafetyError({"": ["This check-in has already ended."]})
    settings = settings_for(worker)
    outcome = "safe"
    if has_codes(settings):
        code = (code or "").strip()
        if not code:
            raise SafetyError({"code": ["Enter your safe code to end the check-in."]})
        if _wrong_codes(checkin) >= WRONG_CODES_ALLOWED:
            raise SafetyError({"code": ["Too many wrong codes. Your check-in keeps running: "
                                        "call your supervisor or the on-call line."]})  # fmt: skip
        if _verify(settings.safe_code_hash, code):
            outcome = "safe"
        elif _verify(settings.duress_code_hash, code):
            outcome = "duress"
        else:
            audit.record("safety.code_wrong", "safety_checkins", checkin.id,
                         subject_id=worker.id, outcome="failed")  # fmt: skip
            raise SafetyError({"code": ["That code is not right. Your check-in is still "
                                        "running."]})  # fmt: skip
    if outcome == "safe":
        values = {"status": "safe", "ended_at": now}
    else:
        values = {"status": "alarm", "alarm_kind": "duress", "ended_at": now,
                  "alarm_at": sa.func.coalesce(SafetyCheckin.alarm_at, now)}  # fmt: skip
    done = db.session.execute(
        sa.update(SafetyCheckin)
        .where(SafetyCheckin.id == checkin.id, _current_condition())
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False,
                           bumps_organisations=[checkin.organisation_id])  # fmt: skip
    ).rowcount
    db.session.refresh(checkin)
    if not done:
        raise SafetyError({"": ["This check-in has already ended."]})
    # The audit log is the admin's only: there the duress is recorded as what it was.
    audit.record(f"safety.{outcome}", "safety_checkins", checkin.id, subject_id=worker.id)
    return outcome


def sos(worker: User, now: datetime | None = None) -> tuple[SafetyCheckin, bool]:
    """SOS: the running check-in becomes an SOS alarm; with none running, an alarm is raised
    on a check-in made for it (where: not given). Returns it and whether this call raised it
    (False for a second tap). The caller commits, then alerts."""
    now = now or utcnow()
    db.session.execute(sa.select(User.id).where(User.id == worker.id).with_for_update())
    checkin = current_for(worker)
    if checkin is None:
        checkin = SafetyCheckin(
            organisation_id=worker.organisation_id, worker_id=worker.id,
            site_id=worker.site_id, place="Not given (SOS without a check-in)", started_at=now,
            due_at=now + timedelta(minutes=MIN_CHECKIN_MINUTES), status="active",
        )  # fmt: skip
        db.session.add(checkin)
        db.session.flush()
    if checkin.alarm_kind == "sos":
        return checkin, False  # a second tap: the alarm is raised already
    db.session.execute(
        sa.update(SafetyCheckin)
        .where(SafetyCheckin.id == checkin.id, _current_condition())
        .values(status="alarm", alarm_kind="sos", updated_at=now,
                alarm_at=sa.func.coalesce(SafetyCheckin.alarm_at, now))  # fmt: skip
        .execution_options(synchronize_session=False,
                           bumps_organisations=[checkin.organisation_id])  # fmt: skip
    )
    db.session.refresh(checkin)
    audit.record("safety.sos", "safety_checkins", checkin.id, subject_id=worker.id)
    return checkin, True


# --- positions -------------------------------------------------------------------------------


def record_position(worker: User, checkin: SafetyCheckin, latitude: str | None,
                    longitude: str | None, accuracy: str | None,
                    now: datetime | None = None) -> SafetyPosition:  # fmt: skip
    """Keep one position of the worker's running check-in (they opted in; the view checks)."""
    from decimal import Decimal, InvalidOperation

    errors = _Errors()
    values = {}
    for name, text, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        try:
            value = Decimal((text or "").strip()[:32])
            if not value.is_finite() or abs(value) > bound:
                raise InvalidOperation
            values[name] = value.quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            errors.add(name, f"Not a {name}.")
    acc = None
    if (accuracy or "").strip():
        try:
            acc = min(max(int(float((accuracy or "").strip()[:16])), 0), 1_000_000)
        except (ValueError, OverflowError):
            acc = None
    errors.raise_if_any()
    position = SafetyPosition(checkin_id=checkin.id, recorded_at=now or utcnow(),
                              accuracy_m=acc, **values)  # fmt: skip
    db.session.add(position)
    return position


def latest_position(checkin_id: int) -> SafetyPosition | None:
    return db.session.scalar(
        sa.select(SafetyPosition)
        .where(SafetyPosition.checkin_id == checkin_id)
        .order_by(SafetyPosition.recorded_at.desc())
        .limit(1)
    )


# --- settings --------------------------------------------------------------------------------


@dataclass
class SettingsInput:
    safe_code: str | None = None
    safe_code_confirm: str | None = None
    duress_code: str | None = None
    duress_code_confirm: str | None = None
    remove_codes: bool = False
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    share_location: bool = False


def _code_ok(code: str) -> bool:
    return code.isascii() and code.isdigit() and CODE_MIN <= len(code) <= CODE_MAX


def save_settings(worker: User, data: SettingsInput) -> SafetySettings:
    """Save the worker's codes (hashed), emergency contact and location choice, or refuse."""
    from email_validator import EmailNotValidError, validate_email

    errors = _Errors()
    codes = [(data.safe_code or "").strip(), (data.safe_code_confirm or "").strip(),
             (data.duress_code or "").strip(), (data.duress_code_confirm or "").strip()]
    safe, safe2, duress, duress2 = codes
    new_codes = any(codes) and not data.remove_codes
    if new_codes:
        for name, code, again, label in (("safe_code", safe, safe2, "safe"),
                                          ("duress_code", duress, duress2, "duress")):
            if not code:
                errors.add(name, f"Choose a {label} code: both codes are set together.")
            elif not _code_ok(code):
                errors.add(name, f"Use {CODE_MIN} to {CODE_MAX} digits.")
            elif code != again:
                errors.add(f"{name}_confirm", f"The two {label} codes are not the same.")
        if safe and duress and safe == duress:
            errors.add("duress_code", "The duress code must differ from the safe code.")
    name = " ".join((data.contact_name or "").split())
    if len(name) > 120:
        errors.add("contact_name", "Keep the name under 120 characters.")
    number = None
    try:
        number = phone.normalise(data.contact_phone)
    except phone.PhoneError as exc:
        errors.add("contact_phone", str(exc))
    email = (data.contact_email or "").strip()
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors.add("contact_email", "Enter an e-mail address like name@example.org, or "
                       "leave it blank.")  # fmt: skip
        else:
            if len(email) > 254:
                errors.add("contact_email", "That e-mail address is too long.")
    if (number or email) and not name:
        errors.add("contact_name", "Give your emergency contact's name.")
    if name and not (number or email):
        errors.add("contact_phone", "Give a phone number or an e-mail for your contact.")
    errors.raise_if_any()
    settings = settings_for(worker) or SafetySettings(user_id=worker.id)
    db.session.add(settings)
    if data.remove_codes:
        settings.safe_code_hash = settings.duress_code_hash = None
    elif new_codes:
        settings.safe_code_hash = hash_code(safe)
        settings.duress_code_hash = hash_code(duress)
    settings.contact_name = name or None
    settings.contact_phone = number
    settings.contact_email = email or None
    settings.share_location = bool(data.share_location)
    db.session.flush()
    audit.record("safety.settings", "safety_settings", worker.id, subject_id=worker.id)
    return settings


# --- supervisors -----------------------------------------------------------------------------


def _supervised(supervisor: User) -> list:
    conditions = [SafetyCheckin.organisation_id == supervisor.organisation_id,
                  SafetyCheckin.worker_id != supervisor.id]  # fmt: skip
    if supervisor.site_id is not None:
        conditions.append(SafetyCheckin.site_id == supervisor.site_id)
    return conditions


def open_for_supervisor(supervisor: User) -> tuple[list[SafetyCheckin], list[SafetyCheckin]]:
    """(open alarms, running check-ins) of the supervisor's sites, most urgent first."""
    rows = db.session.scalars(
        sa.select(SafetyCheckin)
        .options(joinedload(SafetyCheckin.worker), joinedload(SafetyCheckin.site))
        .where(SafetyCheckin.status.in_(("alarm", "active")), *_supervised(supervisor))
        .order_by(SafetyCheckin.alarm_at, SafetyCheckin.due_at, SafetyCheckin.id)
    ).all()
    return [c for c in rows if c.status == "alarm"], [c for c in rows if c.status == "active"]


def checkin_for_supervisor_or_404(supervisor: User, checkin_id: int) -> SafetyCheckin:
    """A check-in of one of the supervisor's sites (never their own), or 404."""
    checkin = db.session.scalar(
        sa.select(SafetyCheckin)
        .options(joinedload(SafetyCheckin.worker), joinedload(SafetyCheckin.site),
                 joinedload(SafetyCheckin.buddy), joinedload(SafetyCheckin.closed_by))
        .where(SafetyCheckin.id == checkin_id, *_supervised(supervisor))
    )  # fmt: skip
    if checkin is None:
        abort(404)
    return checkin


def alert_events(checkin: SafetyCheckin) -> list[AuditEvent]:
    """Who was alerted and when (the audit of each message), oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(AuditEvent.record_type == "safety_checkins",
                   AuditEvent.record_id == checkin.id,
                   AuditEvent.action.like("safety.alert%"))  # fmt: skip
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )


def close(supervisor: User, checkin: SafetyCheckin, note: str | None,
          now: datetime | None = None) -> SafetyCheckin:  # fmt: skip
    """Close an alarm with a note (how the worker was reached): escalation stops."""
    now = now or utcnow()
    note = (note or "").strip()
    if not note:
        raise SafetyError({"note": ["Say how the worker was reached, e.g. \"Reached by phone, "
                                    "safe\"."]})  # fmt: skip
    if len(note) > MAX_NOTE:
        raise SafetyError({"note": [f"Keep the note under {MAX_NOTE} characters."]})
    done = db.session.execute(
        sa.update(SafetyCheckin)
        .where(SafetyCheckin.id == checkin.id, SafetyCheckin.status == "alarm")
        .values(status="closed", closed_by_id=supervisor.id, closed_at=now, closed_note=note,
                updated_at=now)  # fmt: skip
        .execution_options(synchronize_session=False,
                           bumps_organisations=[checkin.organisation_id])  # fmt: skip
    ).rowcount
    db.session.refresh(checkin)
    if not done:
        raise SafetyError({"": ["Only an open alarm can be closed; this one is "
                                f"{checkin.status}."]})  # fmt: skip
    audit.record("safety.close", "safety_checkins", checkin.id, subject_id=checkin.worker_id)
    return checkin


def contact_of(worker_id: int) -> SafetySettings | None:
    return db.session.get(SafetySettings, worker_id)


def display_phone(number: str | None) -> str:
    return phone.display(number)
