"""The audit trail: append-only events that say who did what to which record, never its content."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from portal.extensions import db
from portal.models import AuditEvent, User


def record(
    action: str,
    record_type: str = "",
    record_id: int | None = None,
    subject_id: int | None = None,
    outcome: str = "ok",
    actor: User | None = None,
) -> AuditEvent:
    """Add an audit event to the session (committed with the request's transaction)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_role=",".join(sorted(actor.roles)) if actor else "",
        action=action,
        record_type=record_type,
        record_id=record_id,
        subject_id=subject_id,
        ip=(request.remote_addr or "")[:64] if has_request_context() else "",
        outcome=outcome,
    )
    db.session.add(event)
    return event
