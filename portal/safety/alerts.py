"""Escalating a safety alarm, one step at a time, never the same step twice.

Steps (ALERT_STEPS): 1 the supervisor(s) on duty, 2 the buddy, 3 the worker's emergency contact.
A missed check-in (due time + SAFETY_GRACE_MINUTES passed) becomes an alarm in ``flask
safety-escalate`` (cron, each minute); an SOS or the duress code raises it in the request, which
commits the alarm first and then alerts step 1, so a failing mail server never loses the alarm.
While it stays open, the next step is alerted SAFETY_STEP_MINUTES after the last. A step with
nobody to alert is skipped at once (audited as safety.alert_skipped). After step 3 nothing more
is sent; the alarm stays on the supervisors' list until one of them closes it.

Each step is claimed by ONE conditional UPDATE (``alert_step`` from the step before to this one,
while the check-in is still an alarm) before anything is sent: two cron runs, or a cron run
beside a request, never alert one step twice (PostgreSQL makes the second claimant wait for the
first's commit and then finds the step taken; SQLite writers queue). Every message is audited
(safety.alert_mail / safety.alert_sms, outcome ok or failed); a failure stops neither the other
recipients nor other check-ins.

The messages say who, where, since when and the kind of alarm (the duress code plainly); staff
get the link to the alarm. Nothing about health, and nothing is ever sent to the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal import audit
from portal.extensions import db
from portal.links import public_url
from portal.mail import send_mail
from portal.models import (
    ALARM_KINDS,
    ALERT_STEPS,
    POSITION_KEEP_HOURS,
    SafetyCheckin,
    SafetyPosition,
    SafetySettings,
    TimeOff,
    User,
    UserRole,
)
from portal.sms import send_sms
from portal.timeutil import to_local, utcnow


@dataclass
class Recipient:
    """Someone to alert: a user of the portal (staff, or the buddy), or the outside contact."""

    name: str
    email: str | None
    phone: str | None
    user: User | None = None
    staff: bool = False  # gets the link to the alarm


def supervisors_on_duty(checkin: SafetyCheckin, now: datetime) -> list[User]:
    """Active supervisors of the check-in's site; none there: every active supervisor of the
    organisation. Never the worker; those whose time off covers now are left out unless that
    leaves nobody (an alert nobody gets is worse than one too many)."""
    base = (
        sa.select(User)
        .join(UserRole, sa.and_(UserRole.user_id == User.id, UserRole.role == "supervisor"))
        .where(User.organisation_id == checkin.organisation_id, User.active.is_(True),
               User.id != checkin.worker_id)  # fmt: skip
        .order_by(User.name, User.id)
    )
    people = []
    if checkin.site_id is not None:
        people = list(db.session.scalars(base.where(User.site_id == checkin.site_id)))
    if not people:
        people = list(db.session.scalars(base))
    if not people:
        return []
    away = set(
        db.session.scalars(
            sa.select(TimeOff.counselor_id).where(
                TimeOff.counselor_id.in_([p.id for p in people]),
                TimeOff.start_at <= now, TimeOff.end_at > now,
            )
        )
    )  # fmt: skip
    return [p for p in people if p.id not in away] or people


def recipients(checkin: SafetyCheckin, step: int, now: datetime) -> list[Recipient]:
    """Whom a step alerts (empty: the step is skipped)."""
    if step == 1:
        return [Recipient(u.name, u.email, u.contact_phone, u, staff=True)
                for u in supervisors_on_duty(checkin, now)]  # fmt: skip
    if step == 2:
        buddy = checkin.buddy
        if buddy is None or not buddy.active or buddy.id == checkin.worker_id:
            return []
        return [Recipient(buddy.name, buddy.email, buddy.contact_phone, buddy,
                          staff=buddy.has_role("supervisor"))]  # fmt: skip
    settings = db.session.get(SafetySettings, checkin.worker_id)
    if settings is None or not (settings.contact_email or settings.contact_phone):
        return []
    return [Recipient(settings.contact_name or "Emergency contact", settings.contact_email,
                      settings.contact_phone)]  # fmt: skip


def claim(checkin: SafetyCheckin, step: int, now: datetime,
          last_step_by: datetime | None = None) -> bool:  # fmt: skip
    """Move the check-in's alert step from ``step - 1`` to ``step`` unless someone else has, or
    it is no longer an alarm, or (``last_step_by``) the step before was alerted after that
    moment: a run that listed the alarm before another run alerted its step must not take the
    next one at once (True: this caller alerts the step)."""
    conditions = [SafetyCheckin.id == checkin.id, SafetyCheckin.alert_step == step - 1,
                  SafetyCheckin.status == "alarm"]  # fmt: skip
    if last_step_by is not None and step > 1:
        conditions.append(SafetyCheckin.alert_step_at <= last_step_by)
    result = db.session.execute(
        sa.update(SafetyCheckin)
        .where(*conditions)
        .values(alert_step=step, alert_step_at=now)
        .execution_options(synchronize_session=False,
                           bumps_organisations=[checkin.organisation_id])  # fmt: skip
    )
    db.session.refresh(checkin, ["alert_step", "alert_step_at", "status"])
    return result.rowcount == 1


def _when(moment: datetime) -> str:
    return f"{to_local(moment):%a %b %-d %H:%M}"


def _what(checkin: SafetyCheckin) -> str:
    name = checkin.worker.name
    if checkin.alarm_kind == "duress":
        return (f"{name} ended their safety check-in with their DURESS code. Their screen shows "
                "\"safe\", but they may be with someone forcing them: do not reply to them in a "
                "way that shows the alarm.")  # fmt: skip
    if checkin.alarm_kind == "sos":
        return f"{name} pressed SOS in FairShift."
    return f"{name} did not check in safe by the time they gave."


def _alarm_link(checkin: SafetyCheckin) -> str:
    try:
        return public_url("safety.alarm", safety_checkin_id=checkin.id)
    except (RuntimeError, ValueError):
        return f"Safety alarms in FairShift (alarm {checkin.id})"


def messages(checkin: SafetyCheckin, who: Recipient) -> tuple[str, str, str]:
    """(subject, mail body, text) for one recipient."""
    kind = ALARM_KINDS[checkin.alarm_kind or "missed"]
    since = _when(checkin.alarm_at or utcnow())
    subject = f"SAFETY ALARM ({kind}): {checkin.worker.name}"
    facts = (f"Where: {checkin.place}\nStarted: {_when(checkin.started_at)}\n"
             f"Due back: {_when(checkin.due_at)}\nAlarm since: {since}\n")  # fmt: skip
    if who.user is None:  # the emergency contact, outside the portal
        org = checkin.worker.organisation.name
        line = current_app.config.get("ONCALL_PHONE", "")
        body = (f"This is FairShift, the work portal of {org}. {checkin.worker.name} named you "
                f"as their emergency contact.\n\n{_what(checkin)}\n\n{facts}\n"
                "Please try to reach them. If you cannot and believe they are in danger, call "
                f"911. Their supervisor has been alerted; the provider's on-call line is "
                f"{line}.\n")  # fmt: skip
        text = (f"FairShift safety alarm ({kind}): {checkin.worker.name}, {checkin.place}, since "
                f"{since}. Try to reach them; in danger call 911. On-call line {line}.")
        return subject, body, text
    link = _alarm_link(checkin) if who.staff else None
    open_it = f"Open the alarm: {link}\n" if link else ""
    role = "their supervisor on duty" if who.staff else "their buddy for this check-in"
    body = (f"{_what(checkin)}\n\n{facts}\nYou are alerted as {role}. Try to reach them now; "
            f"if you believe they are in danger, call 911.\n{open_it}")  # fmt: skip
    text = (f"FairShift SAFETY ALARM ({kind}): {checkin.worker.name}, {checkin.place}, since "
            f"{since}." + (f" {link}" if link else " Try to reach them; danger: 911."))
    return subject, body, text


def _deliver(channel: str, checkin: SafetyCheckin, who: Recipient, send, *message) -> bool:
    """Send one message and audit it (as the recipient's event when they are a user)."""
    try:
        send(*message)
    except Exception:  # noqa: BLE001 - one failed message must not stop the others
        current_app.logger.exception("Safety alert by %s for check-in %s failed", channel,
                                     checkin.id)  # fmt: skip
        outcome = "failed"
    else:
        outcome = "ok"
    action = f"safety.alert_{channel}" if who.user else f"safety.alert_contact_{channel}"
    audit.record(action, "safety_checkins", checkin.id,
                 subject_id=checkin.worker_id, outcome=outcome, actor=who.user)  # fmt: skip
    return outcome == "ok"


@dataclass
class Tally:
    raised: int = 0
    sent: int = 0
    failed: int = 0
    purged: int = 0


def alert_next_step(checkin: SafetyCheckin, now: datetime, tally: Tally | None = None,
                    last_step_by: datetime | None = None) -> int:  # fmt: skip
    """Claim and alert the check-in's next step (skipping steps with nobody at once); the step
    alerted, or 0 when there was none to take (another run has it, its time has not come, or
    the alarm is over)."""
    tally = tally or Tally()
    step = checkin.alert_step + 1
    while step <= len(ALERT_STEPS):
        if not claim(checkin, step, now, last_step_by):
            return 0
        last_step_by = None  # a skipped step passes on to the next at once
        people = recipients(checkin, step, now)
        if not people:
            audit.record("safety.alert_skipped", "safety_checkins", checkin.id,
                         subject_id=checkin.worker_id, outcome="failed", actor=None)  # fmt: skip
            step += 1
            continue
        _send(checkin, people, tally)
        return step
    return 0


def _send(checkin: SafetyCheckin, people: list[Recipient], tally: Tally) -> None:
    for who in people:
        subject, body, text = messages(checkin, who)
        sent = []
        if who.email:
            sent.append(_deliver("mail", checkin, who, send_mail, who.email, subject, body))
        if who.phone:
            sent.append(_deliver("sms", checkin, who, send_sms, who.phone, text))
        tally.sent += sum(sent)
        tally.failed += len(sent) - sum(sent)


def alert_now(checkin_id: int, now: datetime | None = None) -> int:
    """Step 1 of an alarm raised in a request (SOS, duress), after its commit; commits."""
    now = now or utcnow()
    checkin = _load(checkin_id)
    step = 0
    if checkin is not None and checkin.status == "alarm":
        if checkin.alert_step == 0:
            step = alert_next_step(checkin, now)
        else:  # the alarm changed kind (SOS or duress after a missed check-in): say so
            _send(checkin, recipients(checkin, 1, now), Tally())
    db.session.commit()
    return step


def _load(checkin_id: int) -> SafetyCheckin | None:
    return db.session.scalar(
        sa.select(SafetyCheckin)
        .options(joinedload(SafetyCheckin.worker).joinedload(User.organisation),
                 joinedload(SafetyCheckin.buddy))  # fmt: skip
        .where(SafetyCheckin.id == checkin_id)
    )


def escalate(now: datetime | None = None) -> Tally:
    """One run of the escalation (each check-in in a transaction of its own)."""
    now = now or utcnow()
    cfg = current_app.config
    grace = timedelta(minutes=cfg.get("SAFETY_GRACE_MINUTES", 5))
    every = timedelta(minutes=cfg.get("SAFETY_STEP_MINUTES", 5))
    tally = Tally()
    overdue = db.session.execute(
        sa.select(SafetyCheckin.id, SafetyCheckin.worker_id, SafetyCheckin.organisation_id)
        .where(SafetyCheckin.status == "active", SafetyCheckin.due_at < now - grace)
    ).all()
    db.session.commit()
    for checkin_id, worker_id, org_id in overdue:
        done = db.session.execute(
            sa.update(SafetyCheckin)
            .where(SafetyCheckin.id == checkin_id, SafetyCheckin.status == "active",
                   SafetyCheckin.due_at < now - grace)  # fmt: skip
            .values(status="alarm", alarm_kind="missed", alarm_at=now, updated_at=now)
            .execution_options(synchronize_session=False, bumps_organisations=[org_id])
        ).rowcount
        if done:
            audit.record("safety.missed", "safety_checkins", checkin_id, subject_id=worker_id,
                         actor=None)  # fmt: skip
            tally.raised += 1
        db.session.commit()
    due = db.session.scalars(
        sa.select(SafetyCheckin.id)
        .where(SafetyCheckin.status == "alarm", SafetyCheckin.alert_step < len(ALERT_STEPS),
               sa.or_(SafetyCheckin.alert_step == 0,
                      SafetyCheckin.alert_step_at <= now - every))  # fmt: skip
        .order_by(SafetyCheckin.alarm_at, SafetyCheckin.id)
    ).all()
    db.session.commit()
    for checkin_id in due:
        try:
            checkin = _load(checkin_id)
            if checkin is not None:
                alert_next_step(checkin, now, tally, last_step_by=now - every)
            db.session.commit()
        except Exception:  # noqa: BLE001 - one check-in must not stop the others
            db.session.rollback()
            current_app.logger.exception("Escalating safety check-in %s failed", checkin_id)
            tally.failed += 1
    tally.purged = purge_positions(now)
    db.session.commit()
    return tally


def purge_positions(now: datetime | None = None) -> int:
    """Delete positions older than POSITION_KEEP_HOURS (no kept page reads them: no version)."""
    cutoff = (now or utcnow()) - timedelta(hours=POSITION_KEEP_HOURS)
    return db.session.execute(
        sa.delete(SafetyPosition)
        .where(SafetyPosition.recorded_at < cutoff)
        .execution_options(synchronize_session=False, bumps_organisations=[])
    ).rowcount


def register_safety_cli(app) -> None:
    """`flask safety-escalate`: each minute from cron."""

    @app.cli.command("safety-escalate")
    def safety_escalate():
        """Raise missed check-ins, alert each open alarm's next step, purge old positions."""
        t = escalate()
        click.echo(f"Safety: {t.raised} alarm{'s' if t.raised != 1 else ''} raised, "
                   f"{t.sent} alert{'s' if t.sent != 1 else ''} sent ({t.failed} failed), "
                   f"{t.purged} position{'s' if t.purged != 1 else ''} purged.")  # fmt: skip
