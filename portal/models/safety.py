"""Field safety: timed check-ins before a worker walks into a conflict, and who is alerted.

A worker starts a check-in (where, for how long, an optional buddy). "I'm safe" ends it. A
missed check-in, an SOS or the duress code raises the alarm, which escalates one step at a time
(the supervisor on duty, then the buddy, then the worker's emergency contact) until a
supervisor closes it. Each step is claimed by moving ``alert_step`` forward in one conditional
UPDATE, so no step is ever alerted twice.

Nothing here reaches a dashboard except suppressed counts. Positions are kept only when the
worker opts in, and only for 24 hours.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.org import Site
from portal.models.types import UTCDateTime
from portal.models.user import User
from portal.timeutil import utcnow

# active: running; safe: ended by "I'm safe"; alarm: missed, SOS or duress, escalating until a
# supervisor closes it (closed). A duress alarm is shown to the worker as "safe", always.
SAFETY_STATUSES = {"active": "Running", "safe": "Safe", "alarm": "Alarm", "closed": "Closed"}
ALARM_KINDS = {"missed": "Missed check-in", "sos": "SOS", "duress": "Duress code"}
# alert_step: 0 nobody alerted yet; then each step in turn.
ALERT_STEPS = {1: "Supervisor on duty", 2: "Buddy", 3: "Emergency contact"}
MIN_CHECKIN_MINUTES = 5
MAX_CHECKIN_MINUTES = 12 * 60
POSITION_KEEP_HOURS = 24


class SafetySettings(db.Model):
    """A worker's own safety settings: their codes, emergency contact and location choice.

    The codes are stored hashed (argon2, as passwords). The safe code ends a check-in; the duress
    code ends it the same way on screen but raises the alarm.
    """

    __tablename__ = "safety_settings"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    safe_code_hash: Mapped[str | None] = mapped_column(sa.String(255))
    duress_code_hash: Mapped[str | None] = mapped_column(sa.String(255))
    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))  # E.164
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    share_location: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class SafetyCheckin(db.Model):
    """One timed check-in: started, due back, and how it ended or escalated."""

    __tablename__ = "safety_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    place: Mapped[str] = mapped_column(sa.String(200))
    buddy_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(10), default="active")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alarm_kind: Mapped[str | None] = mapped_column(sa.String(10))
    alarm_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alert_step: Mapped[int] = mapped_column(default=0, server_default="0")
    alert_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id])
    buddy: Mapped[User | None] = relationship(foreign_keys=[buddy_id])
    site: Mapped[Site | None] = relationship()
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    __table_args__ = (
        sa.Index("ix_safety_checkins_status_due", "status", "due_at"),
        sa.Index("ix_safety_checkins_worker_started", "worker_id", "started_at"),
        sa.Index("ix_safety_checkins_org_started", "organisation_id", "started_at"),
        sa.CheckConstraint("due_at > started_at", name="due_after_start"),
        sa.CheckConstraint(f"status IN {tuple(SAFETY_STATUSES)!r}", name="status"),
        sa.CheckConstraint(
            f"alarm_kind IS NULL OR alarm_kind IN {tuple(ALARM_KINDS)!r}", name="alarm_kind"
        ),
        sa.CheckConstraint("alert_step BETWEEN 0 AND 3", name="alert_step"),
    )

    def __repr__(self) -> str:
        return f"<SafetyCheckin {self.id} {self.worker_id} {self.status}>"


class SafetyPosition(db.Model):
    """Where the worker's phone was, sent only when they opted in; purged after 24 hours."""

    __tablename__ = "safety_positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        sa.ForeignKey("safety_checkins.id", ondelete="CASCADE")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    latitude: Mapped[Decimal] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(sa.Numeric(9, 6))
    accuracy_m: Mapped[int | None]

    __table_args__ = (
        sa.Index("ix_safety_positions_checkin_recorded", "checkin_id", "recorded_at"),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
    )
