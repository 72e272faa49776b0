"""Care offers (SPEC §4): offered, never forced.

Three or more exposures of severity 3 or more within 14 days, or a WHO-5 score of 28 or lower,
shows the worker an offer of a paid wellness day and a support contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import CheckIn, Exposure, SupportRequest, User
from portal.timeutil import utcnow

HEAVY_SEVERITY = 3
HEAVY_COUNT = 3
WINDOW = timedelta(days=14)
LOW_WHO5 = 28


@dataclass
class CareOffer:
    """Why the offer shows, and whether a wellness day is already asked for."""

    reason: str
    wellness_day_requested: bool


def care_offer(worker: User) -> CareOffer | None:
    """The offer to show this worker now, if the rule holds (always three queries)."""
    since = utcnow() - WINDOW
    heavy = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Exposure)
        .where(
            Exposure.worker_id == worker.id,
            Exposure.severity >= HEAVY_SEVERITY,
            Exposure.occurred_at >= since,
        )
    )
    latest = db.session.scalar(
        sa.select(CheckIn.score)
        .where(CheckIn.worker_id == worker.id)
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
        .limit(1)
    )
    asked = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SupportRequest)
        .where(
            SupportRequest.worker_id == worker.id,
            SupportRequest.kind == "wellness_day",
            SupportRequest.created_at >= since,
        )
    )
    reason = None
    if heavy >= HEAVY_COUNT:
        reason = f"You have logged {heavy} heavy experiences in the last two weeks."
    elif latest is not None and latest <= LOW_WHO5:
        reason = "Your last check-in says things are hard right now."
    if reason is None:
        return None
    return CareOffer(reason=reason, wellness_day_requested=bool(asked))
