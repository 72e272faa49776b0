"""The audit trail: append-only events that say who did what to which record, never its content."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request
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
    event = AuditEvent(**_fields(action, record_type, record_id, subject_id, outcome, actor))
    db.session.add(event)
    if action.startswith(EXPORT_PREFIX) and has_request_context():
        g.export_audited = True  # the view named what it exported: audit_exports adds nothing
    return event


def record_many(action: str, record_type: str, records: list[tuple[int, int | None]],
                actor: User) -> None:  # fmt: skip
    """One event per (record_id, subject_id), written in a single statement (a page listing
    many records audits each read without a statement per row)."""
    if records:
        db.session.execute(
            sa.insert(AuditEvent),
            [_fields(action, record_type, rid, subject, "ok", actor) for rid, subject in records],
        )


def _fields(action, record_type, record_id, subject_id, outcome, actor) -> dict:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    return {
        "actor_id": actor.id if actor else None,
        "actor_role": ",".join(sorted(actor.roles)) if actor else "",
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "subject_id": subject_id,
        "ip": (request.remote_addr or "")[:64] if has_request_context() else "",
        "outcome": outcome,
    }


EXPORT_PREFIX = "export."
CSV_EXPORT = "export.csv"


def register(app: Flask) -> None:
    """Audit every CSV download, including those whose view does not name what it exports."""

    @app.after_request
    def audit_exports(response):
        if (
            response.mimetype == "text/csv"
            and response.status_code == 200
            and not g.get("export_audited")
        ):
            # The record type says which download (e.g. "dashboard/programme.csv").
            record(CSV_EXPORT, request.path.strip("/")[:40])
            db.session.commit()
        return response
