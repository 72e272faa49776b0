"""Who may see a wellbeing record: its owner; counsellors only as SPEC §2 allows. Others: 404.

Every read by someone other than the owner is audited (the owner can see who looked, and when).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from portal import audit
from portal.extensions import db
from portal.models import CheckIn, Exposure, SupportRequest, User


def own_or_404(model, record_id: int, user: User):
    """A record of the user's own, or 404 (whether it does not exist or is someone else's)."""
    record = db.session.scalar(
        sa.select(model).where(model.id == record_id, model.worker_id == user.id)
    )
    if record is None:
        abort(404)
    return record


def checkin_visible_to_counsellors() -> sa.ColumnElement[bool]:
    """Check-ins a counsellor may read: the worker asked for outreach or consented."""
    return sa.or_(CheckIn.wants_outreach.is_(True), CheckIn.share_with_counsellors.is_(True))


def checkin_or_404(user: User, checkin_id: int) -> CheckIn:
    """A check-in for its owner, or for a counsellor of the same organisation where allowed."""
    visible = CheckIn.worker_id == user.id
    if user.has_role("counselor"):
        visible = sa.or_(
            visible,
            sa.and_(
                CheckIn.organisation_id == user.organisation_id, checkin_visible_to_counsellors()
            ),
        )
    checkin = db.session.scalar(sa.select(CheckIn).where(CheckIn.id == checkin_id, visible))
    if checkin is None:
        abort(404)
    audit_read(user, checkin)
    return checkin


def request_or_404(user: User, request_id: int) -> SupportRequest:
    """A support request for its owner, or for a counsellor of the same organisation."""
    visible = SupportRequest.worker_id == user.id
    if user.has_role("counselor"):
        visible = sa.or_(visible, SupportRequest.organisation_id == user.organisation_id)
    found = db.session.scalar(
        sa.select(SupportRequest).where(SupportRequest.id == request_id, visible)
    )
    if found is None:
        abort(404)
    audit_read(user, found)
    return found


def exposure_or_404(user: User, exposure_id: int) -> Exposure:
    """An exposure: its owner's only (counsellors see what a request links to, not the log)."""
    return own_or_404(Exposure, exposure_id, user)


def audit_read(user: User, record) -> None:
    """Audit a read of a wellbeing record by anyone but its owner (content never recorded)."""
    if record.worker_id != user.id:
        audit.record(
            "wellbeing.read", type(record).__tablename__, record.id, subject_id=record.worker_id,
            actor=user,
        )  # fmt: skip


def audit_reads(user: User, records: list) -> None:
    """Audit reads of several records of one kind at once (one statement); the user's own are
    not reads."""
    others = [r for r in records if r.worker_id != user.id]
    if others:
        audit.record_many("wellbeing.read", type(others[0]).__tablename__,
                          [(r.id, r.worker_id) for r in others], actor=user)  # fmt: skip
