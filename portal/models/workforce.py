"""Engagements: when each worker joined and left, the basis of hires, separations and tenure."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime
from portal.timeutil import utcnow

SEPARATION_REASONS = {
    "resigned": "Resigned",
    "dismissed": "Dismissed",
    "contract_ended": "Contract ended",
    "retired": "Retired",
    "other": "Other",
}


class Engagement(db.Model):
    """One spell of work for one organisation: a hire date and, once it ends, a separation date.

    A person who leaves and comes back has two engagements. ``ended_on`` is the last day worked.
    """

    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.Index("ix_engagements_org_started", "organisation_id", "started_on"),
        sa.Index("ix_engagements_org_ended", "organisation_id", "ended_on"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ends_after_start"),
        sa.CheckConstraint(
            f"end_reason IS NULL OR end_reason IN {tuple(SEPARATION_REASONS)!r}", name="end_reason"
        ),
    )

    @property
    def reason_label(self) -> str:
        return SEPARATION_REASONS.get(self.end_reason, "") if self.end_reason else ""
