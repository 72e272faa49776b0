"""Shifts: the hours a worker logs, with the programme outputs of each."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.org import Site
from portal.models.types import UTCDateTime
from portal.models.user import User
from portal.timeutil import utcnow

SHIFT_TYPES = {
    "street_outreach": "Street outreach",
    "hospital_response": "Hospital response",
    "community_event": "Community event",
    "training": "Training",
    "admin": "Admin",
    "on_call": "On-call",
}
SHIFT_STATUSES = {
    "submitted": "Waiting for approval",
    "approved": "Approved",
    "returned": "Returned",
}
EDITABLE_STATUSES = ("submitted", "returned")
MAX_SHIFT_HOURS = 16


class Shift(db.Model):
    """A worked shift: when, where, what kind, and what came of it."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # active_history: the columns the daily totals count by keep their old value when set, so
    # portal.shifts.totals can move a shift's figures from the old day to the new.
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id"), active_history=True
    )
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), active_history=True)
    shift_type: Mapped[str] = mapped_column(sa.String(30))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, active_history=True)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    break_minutes: Mapped[int] = mapped_column(default=0)
    # Elapsed minutes minus the unpaid break, kept so totals are a plain SUM in SQL.
    worked_minutes: Mapped[int] = mapped_column(active_history=True)
    conflicts_interrupted: Mapped[int] = mapped_column(default=0, active_history=True)
    individuals_engaged: Mapped[int] = mapped_column(default=0, active_history=True)
    referrals: Mapped[int] = mapped_column(default=0, active_history=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="submitted", active_history=True)
    return_reason: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a closed period's statement paid this shift: from then on it is locked.
    paid_in_period_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("pay_periods.id"), index=True
    )
    # Set while HR holds an approved shift back from pay (e.g. its hours are in question):
    # closes leave it out, unpaid and still approved, until HR releases it (portal.pay.holds).
    pay_held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pay_hold_reason: Mapped[str | None] = mapped_column(sa.Text)
    pay_held_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # A call-back: work done while on call, linked to the on-call period it fell in. Always
    # hours worked (29 CFR 785.17), and never counted twice with a restrictive period's hours.
    call_back: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    on_call_period_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("on_call_periods.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id])
    site: Mapped[Site] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    pay_held_by: Mapped[User | None] = relationship(foreign_keys=[pay_held_by_id])

    __table_args__ = (
        sa.Index("ix_shifts_worker_start", "worker_id", "start_at"),
        sa.Index("ix_shifts_org_status", "organisation_id", "status"),
        sa.CheckConstraint("end_at > start_at", name="end_after_start"),
        sa.CheckConstraint("break_minutes >= 0", name="break_nonnegative"),
        sa.CheckConstraint(
            "conflicts_interrupted >= 0 AND individuals_engaged >= 0 AND referrals >= 0",
            name="counts_nonnegative",
        ),
        sa.CheckConstraint(f"status IN {tuple(SHIFT_STATUSES)!r}", name="status"),
        sa.CheckConstraint(f"shift_type IN {tuple(SHIFT_TYPES)!r}", name="shift_type"),
        sa.CheckConstraint(
            "(pay_held_at IS NULL) = (pay_hold_reason IS NULL)", name="pay_hold_has_reason"
        ),
        sa.CheckConstraint(
            "(call_back = true) = (on_call_period_id IS NOT NULL)", name="call_back_has_period"
        ),
    )

    def __repr__(self) -> str:
        return f"<Shift {self.id} {self.worker_id} {self.start_at:%Y-%m-%d}>"

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.worked_minutes) / 60).quantize(Decimal("0.01"))

    @property
    def is_held(self) -> bool:
        return self.pay_held_at is not None

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES and self.paid_in_period_id is None

    @property
    def type_label(self) -> str:
        return SHIFT_TYPES.get(self.shift_type, self.shift_type)

    @property
    def status_label(self) -> str:
        return SHIFT_STATUSES.get(self.status, self.status)


class ShiftDayTotal(db.Model):
    """Approved shifts summed per organisation, site and local date: what dashboards read.

    A year of a national programme is over a million shifts but only a few hundred thousand of
    these rows. portal.shifts.totals keeps them in step with every shift written through the
    session; a bulk load rebuilds them (``rebuild``, or ``flask rebuild-shift-totals``).
    """

    __tablename__ = "shift_day_totals"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)  # in the portal's time zone
    shifts: Mapped[int] = mapped_column(default=0)
    worked_minutes: Mapped[int] = mapped_column(default=0)
    conflicts_interrupted: Mapped[int] = mapped_column(default=0)
    individuals_engaged: Mapped[int] = mapped_column(default=0)
    referrals: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<ShiftDayTotal {self.organisation_id} {self.site_id} {self.day} {self.shifts}>"
