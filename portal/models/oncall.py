"""On call: the rota of who is reachable when, per site, and the swaps workers ask for."""

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

ON_CALL_STATUSES = {"draft": "Draft", "published": "Published", "cancelled": "Cancelled"}
SWAP_STATUSES = {
    "asked": "Waiting for your colleague",
    "accepted": "Waiting for the supervisor",
    "approved": "Approved",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "cancelled": "Cancelled with the period",
}
OPEN_SWAP_STATUSES = ("asked", "accepted")
MAX_ON_CALL_HOURS = 72  # a weekend, Friday evening to Monday morning, fits


class OnCallPeriod(db.Model):
    """A span of time one worker of a site is on call. Workers see it once it is published."""

    __tablename__ = "on_call_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a closed period's statement paid it (stipend, or its hours when restrictive).
    paid_in_period_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("pay_periods.id"), index=True
    )
    # A published period a supervisor took back before it started: kept (its worker was told;
    # the page says when and why), never paid, shown on no worker's list or rota.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    # A period under way that a supervisor ended early: end_at is when it ended (the time on
    # call until then is still paid), planned_end_at the end that was published.
    planned_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_early_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    end_early_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id])
    site: Mapped[Site] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    ended_early_by: Mapped[User | None] = relationship(foreign_keys=[ended_early_by_id])

    __table_args__ = (
        sa.Index("ix_on_call_periods_worker_start", "worker_id", "start_at"),
        sa.Index("ix_on_call_periods_site_start", "site_id", "start_at"),
        sa.Index("ix_on_call_periods_org_start", "organisation_id", "start_at"),
        sa.CheckConstraint("end_at > start_at", name="end_after_start"),
        sa.CheckConstraint(f"status IN {tuple(ON_CALL_STATUSES)!r}", name="status"),
        sa.CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL)",
            name="cancelled_has_reason",
        ),
        sa.CheckConstraint(
            "(planned_end_at IS NULL) = (end_early_reason IS NULL)", name="ended_early_has_reason"
        ),
    )

    def __repr__(self) -> str:
        return f"<OnCallPeriod {self.id} {self.worker_id} {self.start_at:%Y-%m-%d %H:%M}>"

    @property
    def hours(self) -> Decimal:
        seconds = int((self.end_at - self.start_at).total_seconds())
        return (Decimal(seconds) / 3600).quantize(Decimal("0.01"))

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def ended_early(self) -> bool:
        return self.planned_end_at is not None


class OnCallSwap(db.Model):
    """A worker asks a colleague of the same site to take an on-call period.

    asked -> accepted (by the colleague) -> approved (by a supervisor: the period changes
    worker); or declined (by either), or withdrawn (by the asker) while still open.
    """

    __tablename__ = "on_call_swaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("on_call_periods.id"), index=True)
    from_worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    to_worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="asked")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    period: Mapped[OnCallPeriod] = relationship()
    from_worker: Mapped[User] = relationship(foreign_keys=[from_worker_id])
    to_worker: Mapped[User] = relationship(foreign_keys=[to_worker_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        sa.CheckConstraint(f"status IN {tuple(SWAP_STATUSES)!r}", name="status"),
        sa.CheckConstraint("from_worker_id <> to_worker_id", name="two_people"),
    )

    @property
    def status_label(self) -> str:
        return SWAP_STATUSES.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_SWAP_STATUSES
