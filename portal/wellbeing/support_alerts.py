"""Alerting the counsellors on call to an urgent or after-incident support request, once.

Who is on call: the portal has no rota, so every active counsellor of the worker's organisation
is alerted, except those whose time off (the counselling calendar) covers this moment; when that
leaves nobody, all of them are alerted anyway (an alert nobody gets is worse than one too many).
The worker themselves is never alerted about their own request.

The alert says only that an urgent request waits and where the queue is: no name, no kind, never
the worker's words. Each message (mail, and a text where the counsellor keeps a number) is
audited as the alerted counsellor's event on the request (support.alert_mail, support.alert_sms;
outcome ok or failed). The request's alerted_at is claimed in one conditional UPDATE before
anything is sent, so a double tap, a retry or a second instance never alerts twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from portal import audit
from portal.extensions import db
from portal.links import public_url
from portal.mail import send_mail
from portal.models import SupportRequest, TimeOff, User, UserRole
from portal.sms import send_sms
from portal.timeutil import utcnow

SUBJECT = "An urgent support request is waiting"
MAIL_BODY = """An urgent support request is waiting in the FairShift support queue.

Open the queue to see it and take it: {link}

This message carries no details on purpose: they are in the portal, where opening the request is
recorded.
"""
SMS_BODY = "FairShift: an urgent support request is waiting. Open the support queue: {link}"


def needs_alert(req: SupportRequest) -> bool:
    """Urgent requests, and every talk after an incident, alert the counsellors on call."""
    return req.urgency == "urgent" or req.kind == "after_incident"


def on_call(req: SupportRequest, now: datetime | None = None) -> list[User]:
    """The counsellors to alert for a request (see the module docstring), by name."""
    now = now or utcnow()
    counsellors = list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role == "counselor",
                User.organisation_id == req.organisation_id,
                User.active.is_(True),
                User.id != req.worker_id,
            )
            .order_by(User.name, User.id)
        )
    )
    away = set(
        db.session.scalars(
            sa.select(TimeOff.counselor_id).where(TimeOff.start_at <= now, TimeOff.end_at > now)
        )
    )
    return [c for c in counsellors if c.id not in away] or counsellors


def claim(req: SupportRequest, now: datetime) -> bool:
    """Mark the request alerted unless it already is (True: this caller sends the alert)."""
    result = db.session.execute(
        sa.update(SupportRequest)
        .where(SupportRequest.id == req.id, SupportRequest.alerted_at.is_(None))
        .values(alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(req, ["alerted_at"])
    return result.rowcount == 1


def alert_on_call(req: SupportRequest, now: datetime | None = None) -> list[User]:
    """Alert the counsellors on call to a new request that needs it; whom it alerted.

    Called after the request is committed (a failing mail server never loses it); the caller
    commits the claim and the audit rows. Failures are logged and audited, never raised.
    """
    now = now or utcnow()
    if not needs_alert(req) or not claim(req, now):
        return []
    recipients = on_call(req, now)
    if not recipients:
        current_app.logger.warning("Support request %s: no counsellor to alert", req.id)
        audit.record("support.alert_nobody", "support_requests", req.id,
                     subject_id=req.worker_id, outcome="failed")  # fmt: skip
        return []
    link = _queue_link()
    mail, text = MAIL_BODY.format(link=link), SMS_BODY.format(link=link)
    for counsellor in recipients:
        _deliver("mail", req, counsellor, send_mail, counsellor.email, SUBJECT, mail)
        if counsellor.contact_phone:
            _deliver("sms", req, counsellor, send_sms, counsellor.contact_phone, text)
    return recipients


def _queue_link() -> str:
    """The queue's address on the public URL (or the request's host in development)."""
    try:
        return public_url("wellbeing.support_queue")
    except (RuntimeError, ValueError):
        return "the support queue in FairShift"


def _deliver(channel: str, req: SupportRequest, counsellor: User, send, *message) -> None:
    """Send one message and audit it: who was alerted, how, about which request."""
    try:
        send(*message)
    except Exception:  # noqa: BLE001 - one failed message must not stop the others
        current_app.logger.exception(
            "Support alert by %s to user %s for request %s failed", channel, counsellor.id, req.id
        )
        outcome = "failed"
    else:
        outcome = "ok"
    # Recorded as the counsellor's event about the worker's request, like a read: the admin's
    # audit log then names the counsellor alerted and never whose request it was (an event with
    # the worker as actor would say that they asked for urgent help).
    audit.record(f"support.alert_{channel}", "support_requests", req.id,
                 subject_id=req.worker_id, outcome=outcome, actor=counsellor)  # fmt: skip
