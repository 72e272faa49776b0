"""Creating support requests: one door for the form, incident offers, care offers and check-ins."""

from __future__ import annotations

from datetime import date

from portal.extensions import db
from portal.models import SupportRequest, User


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
) -> SupportRequest:
    """A new open request in the counsellors' queue of the worker's organisation."""
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
    )
    db.session.add(req)
    db.session.flush()
    return req
