"""Creating support requests: one door for the form, incident offers, care offers and check-ins."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app

from portal.extensions import db
from portal.models import SupportRequest, User
from portal.timeutil import utcnow

# The contact each urgency promises (hours, from config): urgent is the same day.
PROMISE_SETTINGS = {
    "urgent": "SUPPORT_CONTACT_HOURS_URGENT",
    "soon": "SUPPORT_CONTACT_HOURS_SOON",
    "whenever": "SUPPORT_CONTACT_HOURS_WHENEVER",
}
PROMISE_DEFAULTS = {"urgent": 12, "soon": 72, "whenever": 168}
SAME_DAY_SEVERITY = 5  # "Overwhelming: I am not okay": the talk after it is urgent, the same day


def contact_window(urgency: str) -> timedelta:
    """How long after asking contact is promised, for an urgency (an unknown one: soon's)."""
    key = urgency if urgency in PROMISE_SETTINGS else "soon"
    return timedelta(hours=current_app.config.get(PROMISE_SETTINGS[key], PROMISE_DEFAULTS[key]))


def after_incident_urgency(severity: int) -> str:
    """A talk after a critical incident: the same day for severity 5, else within the soon window
    (72 hours, as SPEC §4 offers)."""
    return "urgent" if severity >= SAME_DAY_SEVERITY else "soon"


def create_request(
    worker: User,
    kind: str,
    *,
    urgency: str = "soon",
    contact_method: str = "phone",
    contact_time: str = "",
    note: str = "",
    source: str = "worker",
    exposure_id: int | None = None,
    checkin_id: int | None = None,
    wellness_date: date | None = None,
    now: datetime | None = None,
) -> SupportRequest:
    """A new open request in the counsellors' queue of the worker's organisation, with the time
    contact is promised by."""
    now = now or utcnow()
    req = SupportRequest(
        worker_id=worker.id,
        organisation_id=worker.organisation_id,
        kind=kind,
        urgency=urgency,
        contact_method=contact_method,
        contact_time=contact_time.strip(),
        note=note.strip(),
        source=source,
        exposure_id=exposure_id,
        checkin_id=checkin_id,
        wellness_date=wellness_date,
        status="open",
        created_at=now,
        contact_due_at=now + contact_window(urgency),
    )
    db.session.add(req)
    db.session.flush()
    return req
