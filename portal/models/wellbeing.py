"""Wellbeing records: trauma exposures, WHO-5 check-ins, support requests and their notes.

Confidential as an employee-assistance programme is: the worker sees their own; counsellors see
support requests, and a worker's check-ins only where the worker asked for outreach or consented;
nobody else sees any of it (SPEC §2). Reads by anyone but the owner are audited (AuditEvent).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime
from portal.models.user import User
from portal.timeutil import utcnow

EXPOSURE_CATEGORIES = {
    "shooting_scene": "Responded to a shooting scene",
    "witnessed_violence": "Witnessed violence",
    "hospital_bedside": "Hospital bedside with a victim",
    "death_notification": "Death notification or vigil",
    "threatened_assaulted": "Threatened or assaulted personally",
    "child_victim": "Victim was a child",
    "retaliation_mediation": "Retaliation mediation",
    "other": "Other",
}
SEVERITY_WORDS = {
    1: "Mild: it stayed with me a little",
    2: "Moderate: I kept thinking about it",
    3: "Heavy: it shook me",
    4: "Severe: I am really struggling with it",
    5: "Overwhelming: I am not okay",
}
CRITICAL_SEVERITY = 4
OFFER_STATUSES = ("offered", "accepted", "declined")

WHO5_ITEMS = [
    "I have felt cheerful and in good spirits",
    "I have felt calm and relaxed",
    "I have felt active and vigorous",
    "I woke up feeling fresh and rested",
    "My daily life has been filled with things that interest me",
]
WHO5_ANSWERS = {
    5: "All of the time",
    4: "Most of the time",
    3: "More than half of the time",
    2: "Less than half of the time",
    1: "Some of the time",
    0: "At no time",
}

SUPPORT_KINDS = {
    "counselling_session": "A counselling session",
    "peer_support": "Peer support",
    "after_incident": "A talk after an incident",
    "financial_help": "Financial or benefits help",
    "wellness_day": "A paid wellness day",
}
URGENCIES = {
    "urgent": "Today, as soon as possible",
    "soon": "In the next few days",
    "whenever": "When there is time",
}
CONTACT_METHODS = {
    "phone": "Phone call",
    "text": "Text message",
    "email": "E-mail",
    "in_person": "In person",
}
SUPPORT_STATUSES = {
    "open": "Waiting for a counsellor",
    "acknowledged": "A counsellor has it",
    "scheduled": "Scheduled",
    "closed": "Closed",
}


class Exposure(db.Model):
    """A traumatic event a worker lived through on the job."""

    __tablename__ = "exposures"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shift_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shifts.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(sa.String(30))
    severity: Mapped[int]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # After a critical incident: offered, then accepted or declined (never asked twice).
    offer_status: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    worker: Mapped[User] = relationship()

    __table_args__ = (
        sa.Index("ix_exposures_worker_occurred", "worker_id", "occurred_at"),
        sa.Index("ix_exposures_org_occurred", "organisation_id", "occurred_at"),
        sa.CheckConstraint("severity BETWEEN 1 AND 5", name="severity"),
        sa.CheckConstraint(f"category IN {tuple(EXPOSURE_CATEGORIES)!r}", name="category"),
        sa.CheckConstraint(
            f"offer_status IS NULL OR offer_status IN {OFFER_STATUSES!r}", name="offer_status"
        ),
    )

    @property
    def is_critical(self) -> bool:
        """SPEC §3: severity 4 or more, or threatened or assaulted personally."""
        return self.severity >= CRITICAL_SEVERITY or self.category == "threatened_assaulted"

    @property
    def category_label(self) -> str:
        return EXPOSURE_CATEGORIES.get(self.category, self.category)


class CheckIn(db.Model):
    """A WHO-5 Well-Being Index check-in (five items, each 0-5 over the last two weeks)."""

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    item1: Mapped[int]
    item2: Mapped[int]
    item3: Mapped[int]
    item4: Mapped[int]
    item5: Mapped[int]
    score: Mapped[int]  # raw sum x 4, 0-100
    note: Mapped[str] = mapped_column(sa.Text, default="")
    wants_outreach: Mapped[bool] = mapped_column(default=False)
    # The worker lets counsellors read their check-ins (otherwise only with outreach asked).
    share_with_counsellors: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    worker: Mapped[User] = relationship()

    __table_args__ = (
        sa.Index("ix_checkins_worker_created", "worker_id", "created_at"),
        sa.Index("ix_checkins_org_created", "organisation_id", "created_at"),
        sa.CheckConstraint(
            " AND ".join(f"item{i} BETWEEN 0 AND 5" for i in range(1, 6)), name="items"
        ),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="score"),
    )

    @property
    def items(self) -> list[int]:
        return [self.item1, self.item2, self.item3, self.item4, self.item5]


class SupportRequest(db.Model):
    """A worker asks for support; counsellors see and work it."""

    __tablename__ = "support_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    urgency: Mapped[str] = mapped_column(sa.String(10), default="soon")
    contact_method: Mapped[str] = mapped_column(sa.String(10), default="phone")
    contact_time: Mapped[str] = mapped_column(sa.String(120), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # Where it came from: the worker, an incident offer, a care offer, a check-in's outreach.
    source: Mapped[str] = mapped_column(sa.String(20), default="worker")
    exposure_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("exposures.id", ondelete="SET NULL")
    )
    checkin_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("checkins.id", ondelete="SET NULL")
    )
    wellness_date: Mapped[date | None]  # the day off asked for (wellness_day only)
    status: Mapped[str] = mapped_column(sa.String(15), default="open")
    counselor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When contact was promised by (set from the urgency as the request is made; requests made
    # before migration 0011 have none and are worked out from created_at).
    contact_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the counsellors on call were alerted (urgent and after-incident requests), once.
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id])
    counselor: Mapped[User | None] = relationship(foreign_keys=[counselor_id])
    notes: Mapped[list[SupportNote]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="SupportNote.created_at"
    )

    __table_args__ = (
        sa.Index("ix_support_org_status", "organisation_id", "status"),
        sa.Index("ix_support_worker", "worker_id"),
        sa.CheckConstraint(f"kind IN {tuple(SUPPORT_KINDS)!r}", name="kind"),
        sa.CheckConstraint(f"urgency IN {tuple(URGENCIES)!r}", name="urgency"),
        sa.CheckConstraint(f"contact_method IN {tuple(CONTACT_METHODS)!r}", name="contact"),
        sa.CheckConstraint(f"status IN {tuple(SUPPORT_STATUSES)!r}", name="status"),
    )

    @property
    def kind_label(self) -> str:
        return SUPPORT_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return SUPPORT_STATUSES.get(self.status, self.status)


class SupportNote(db.Model):
    """A counsellor's note on a request (contact made, plan): the counsellors' and worker's only."""

    __tablename__ = "support_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("support_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[SupportRequest] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """Who did what to which record, when, from where. Append-only; no wellbeing content."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(sa.String(40), default="")
    action: Mapped[str] = mapped_column(sa.String(60))
    record_type: Mapped[str] = mapped_column(sa.String(40), default="")
    record_id: Mapped[int | None]
    # The person the record is about (a worker sees the reads of their wellbeing records).
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    outcome: Mapped[str] = mapped_column(sa.String(20), default="ok")

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    __table_args__ = (
        # The user loader asks on every request whether this session was signed out already.
        sa.Index("ix_audit_events_subject_record", "subject_id", "record_type", "record_id"),
    )
