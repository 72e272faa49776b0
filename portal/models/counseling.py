"""Counselling: counsellors' availability and slots, and the bookings workers make.

Bookings are wellbeing records (SPEC §2): the worker's and counsellors' only.
"""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime
from portal.models.user import User
from portal.timeutil import utcnow

MODES = {"in_person": "In person", "phone": "Phone", "video": "Video"}
BOOKING_STATUSES = {
    "booked": "Booked",
    "cancelled": "Cancelled",
    "completed": "Completed",
    "missed": "Missed",
}
ACTIVE_BOOKING = ("booked", "completed", "missed")


class AvailabilityRule(db.Model):
    """Weekly recurring hours, cut into slots of a length (e.g. Tuesdays 09:00-12:00, 50 min)."""

    __tablename__ = "availability_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    counselor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    weekday: Mapped[int]  # 0 Monday ... 6 Sunday
    start_time: Mapped[time]
    end_time: Mapped[time]
    slot_minutes: Mapped[int] = mapped_column(default=50)
    mode: Mapped[str] = mapped_column(sa.String(10))
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    video_link: Mapped[str] = mapped_column(sa.String(500), default="")
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint("end_time > start_time", name="window"),
        sa.CheckConstraint("slot_minutes BETWEEN 15 AND 180", name="slot_minutes"),
        sa.CheckConstraint(f"mode IN {tuple(MODES)!r}", name="mode"),
    )


class TimeOff(db.Model):
    """A counsellor's blocked time: no slot is offered inside it."""

    __tablename__ = "counselor_time_off"

    id: Mapped[int] = mapped_column(primary_key=True)
    counselor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("end_at > start_at", name="window"),)


class CounselingSlot(db.Model):
    """A bookable time with a counsellor: from a weekly rule, or one-off."""

    __tablename__ = "counseling_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    counselor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(sa.String(10))
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    video_link: Mapped[str] = mapped_column(sa.String(500), default="")
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("availability_rules.id", ondelete="SET NULL")
    )
    withdrawn: Mapped[bool] = mapped_column(default=False)  # removed, or inside time off
    # The time off that withdrew it: removing that time off offers the slot again.
    time_off_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("counselor_time_off.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    counselor: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("counselor_id", "start_at"),
        sa.Index("ix_slots_org_start", "organisation_id", "start_at"),
        sa.CheckConstraint("end_at > start_at", name="window"),
        sa.CheckConstraint(f"mode IN {tuple(MODES)!r}", name="mode"),
    )

    @property
    def mode_label(self) -> str:
        return MODES.get(self.mode, self.mode)


class Booking(db.Model):
    """A worker's booking of a slot."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("counseling_slots.id"), index=True)
    # Equal to slot_id while the booking holds the slot, NULL once cancelled. Unique: the
    # database itself lets one slot hold one booking, even when two people press "Book" at once.
    active_slot_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("counseling_slots.id"), unique=True
    )
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default="booked")
    support_request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("support_requests.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(10))  # worker or counselor
    cancel_message: Mapped[str] = mapped_column(sa.Text, default="")
    called_to_incident: Mapped[bool] = mapped_column(default=False)  # a late cancel, no penalty
    reminded_24h_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_1h_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    slot: Mapped[CounselingSlot] = relationship(foreign_keys=[slot_id])
    worker: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint(f"status IN {tuple(BOOKING_STATUSES)!r}", name="status"),
        sa.CheckConstraint(
            "(status = 'cancelled' AND active_slot_id IS NULL) OR "
            "(status <> 'cancelled' AND active_slot_id = slot_id)",
            name="active_slot",
        ),
    )

    @property
    def status_label(self) -> str:
        return BOOKING_STATUSES.get(self.status, self.status)
