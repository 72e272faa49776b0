"""A person's own data: all of it, in plain values, and the audit of others reading it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Booking,
    CheckIn,
    CounselingSlot,
    Exposure,
    PayRate,
    PayStatement,
    SafetyCheckin,
    SafetySettings,
    Shift,
    SupportRequest,
    User,
)


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj, fields: list[str]) -> dict:
    return {f: _plain(getattr(obj, f)) for f in fields}


def everything(user: User) -> dict:
    """Profile, shifts, pay, exposures, check-ins and support requests of one person."""

    def mine(model, *order):
        return db.session.scalars(
            sa.select(model).where(model.worker_id == user.id).order_by(*order)
        ).all()

    requests = db.session.scalars(
        sa.select(SupportRequest)
        .options(selectinload(SupportRequest.notes))
        .where(SupportRequest.worker_id == user.id)
        .order_by(SupportRequest.created_at)
    ).all()
    return {
        "profile": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "roles": sorted(user.roles),
            "organisation": user.organisation.name,
            "site": user.site.name if user.site else None,
            "job_title": user.job_title,
            "checkin_reminders": user.checkin_reminders,
            "contact_phone": user.contact_phone,  # the private number, theirs to take away
            "created_at": _plain(user.created_at),
        },  # fmt: skip
        "shifts": [
            _row(
                s,
                [
                    "id",
                    "start_at",
                    "end_at",
                    "break_minutes",
                    "worked_minutes",
                    "shift_type",
                    "site_id",
                    "conflicts_interrupted",
                    "individuals_engaged",
                    "referrals",
                    "note",
                    "status",
                    "return_reason",
                    "paid_in_period_id",
                ],
            )
            for s in mine(Shift, Shift.start_at)
        ],  # fmt: skip
        "pay_rates": [
            _row(
                r,
                [
                    "id",
                    "effective_from",
                    "classification",
                    "hourly_rate",
                    "annual_salary",
                    "reason",
                    "created_at",
                ],
            )
            for r in mine(PayRate, PayRate.effective_from)
        ],  # fmt: skip
        "pay_statements": [
            _row(
                p,
                [
                    "id",
                    "period_id",
                    "classification",
                    "rate_text",
                    "hours",
                    "regular_hours",
                    "overtime_hours",
                    "differential_hours",
                    "regular_pay",
                    "differential_pay",
                    "stipends",
                    "overtime_premium",
                    "adjustments",
                    "gross_pay",
                    "effective_hourly",
                ],
            )
            for p in mine(PayStatement, PayStatement.id)
        ],  # fmt: skip
        "exposures": [
            _row(
                e,
                [
                    "id",
                    "occurred_at",
                    "shift_id",
                    "category",
                    "severity",
                    "note",
                    "offer_status",
                    "created_at",
                ],
            )
            for e in mine(Exposure, Exposure.occurred_at)
        ],  # fmt: skip
        "checkins": [
            _row(
                c,
                [
                    "id",
                    "created_at",
                    "item1",
                    "item2",
                    "item3",
                    "item4",
                    "item5",
                    "score",
                    "note",
                    "wants_outreach",
                    "share_with_counsellors",
                ],
            )
            for c in mine(CheckIn, CheckIn.created_at)
        ],  # fmt: skip
        "support_requests": [
            {
                **_row(
                    r,
                    [
                        "id",
                        "created_at",
                        "kind",
                        "urgency",
                        "contact_method",
                        "contact_time",
                        "note",
                        "source",
                        "status",
                        "wellness_date",
                        "scheduled_for",
                        "closed_at",
                    ],
                ),
                "notes": [_row(n, ["created_at", "body"]) for n in r.notes],
            }
            for r in requests
        ],  # fmt: skip
        "bookings": [
            {
                **_row(
                    b,
                    [
                        "id",
                        "status",
                        "created_at",
                        "cancelled_at",
                        "cancelled_by",
                        "cancel_message",
                        "called_to_incident",
                        "support_request_id",
                    ],
                ),
                "starts_at": _plain(b.slot.start_at),
                "ends_at": _plain(b.slot.end_at),
                "mode": b.slot.mode,
                "counsellor": b.slot.counselor.name,
            }
            for b in db.session.scalars(
                sa.select(Booking)
                .options(joinedload(Booking.slot).joinedload(CounselingSlot.counselor))
                .where(Booking.worker_id == user.id)
                .order_by(Booking.created_at)
            )
        ],  # fmt: skip
        **_safety(user),
        "wellbeing_record_views": [
            {"at": _plain(at), "by": name, "role": role, "record": f"{rtype} {rid}"}
            for at, name, role, rtype, rid in who_viewed(user)
        ],
    }


def _safety(user: User) -> dict:
    """The worker's safety settings and check-ins, as the worker sees them.

    A check-in ended with the duress code is exported as "safe" and without what followed (its
    alarm, alert steps, closing note): a worker may be made to download their data by the same
    person who made them end the check-in. Positions are not exported: they are kept 24 hours
    only, and a download would hand over where the worker has been.
    """
    from portal.safety.service import worker_status

    settings = db.session.get(SafetySettings, user.id)
    rows = []
    for c in db.session.scalars(
        sa.select(SafetyCheckin).where(SafetyCheckin.worker_id == user.id)
        .order_by(SafetyCheckin.started_at)
    ):  # fmt: skip
        row = _row(c, ["id", "place", "started_at", "due_at", "ended_at"])
        row["status"] = worker_status(c)
        row["buddy_id"] = c.buddy_id
        if c.alarm_kind != "duress":
            row.update(_row(c, ["alarm_kind", "alarm_at", "closed_at", "closed_note"]))
        rows.append(row)
    return {
        "safety_settings": {
            "codes_set": bool(settings and settings.safe_code_hash),
            "contact_name": settings.contact_name if settings else None,
            "contact_phone": settings.contact_phone if settings else None,
            "contact_email": settings.contact_email if settings else None,
            "share_location": bool(settings and settings.share_location),
        },
        "safety_checkins": rows,
    }


def who_viewed(user: User) -> list[tuple]:
    """Reads of this person's wellbeing records by anyone else: when, who, role, which record."""
    return db.session.execute(
        sa.select(
            AuditEvent.at, User.name, AuditEvent.actor_role, AuditEvent.record_type,
            AuditEvent.record_id,
        )
        .join(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.subject_id == user.id,
            AuditEvent.action == "wellbeing.read",
            AuditEvent.actor_id != user.id,
        )
        .order_by(AuditEvent.at.desc())
        .limit(500)
    ).all()  # fmt: skip
