"""HR holds an approved shift back from pay, and releases it.

A held shift stays approved and unpaid: closes leave it out (the rest of its worker's pay and
everyone else's go ahead) until HR releases it, and the next close then pays it, as an
adjustment if its period has closed. Both are audited; the reason is kept on the shift and the
worker sees it on /pay. Services never commit: the view does.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from portal import audit
from portal.extensions import db
from portal.models import Shift, User
from portal.timeutil import utcnow

MAX_REASON = 500


class HoldError(Exception):
    """A refused hold or release: messages by form field ("" for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


def shift_for_hr_or_404(actor: User, shift_id: int) -> Shift:
    """A shift of the HR officer's own organisation, or 404 (unknown, or elsewhere)."""
    shift = db.session.scalar(
        sa.select(Shift)
        .options(joinedload(Shift.worker), joinedload(Shift.site), joinedload(Shift.pay_held_by))
        .where(Shift.id == shift_id, Shift.organisation_id == actor.organisation_id)
    )
    if shift is None:
        abort(404)
    return shift


def _lock(shift: Shift) -> None:
    """Re-read the shift under a row lock (PostgreSQL): a close or a second click waits."""
    db.session.execute(sa.select(Shift.id).where(Shift.id == shift.id).with_for_update())
    db.session.refresh(shift)


def hold_shift(actor: User, shift: Shift, reason: str) -> Shift:
    """Hold an approved, unpaid shift back from pay, with a reason the worker will see."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise HoldError({"reason": ["Say why the shift is held; the worker sees the reason."]})
    if len(reason) > MAX_REASON:
        raise HoldError({"reason": [f"Keep the reason under {MAX_REASON} characters."]})
    _lock(shift)
    if shift.paid_in_period_id is not None:
        raise HoldError({"": ["This shift is paid on a closed statement: nothing to hold."]})
    if shift.status != "approved":
        raise HoldError(
            {"": ["Only approved shifts are held: this one is not approved, so no close pays it."]}
        )
    if shift.is_held:
        raise HoldError({"": ["This shift is already held."]})
    shift.pay_held_at = utcnow()
    shift.pay_hold_reason = reason
    shift.pay_held_by_id = actor.id
    db.session.flush()
    audit.record("shift.pay_held", "shifts", shift.id, subject_id=shift.worker_id, actor=actor)
    return shift


def release_shift(actor: User, shift: Shift) -> bool:
    """Release a held shift: the next close pays it. False when it was not held (any more)."""
    _lock(shift)
    if not shift.is_held:
        return False
    shift.pay_held_at = None
    shift.pay_hold_reason = None
    shift.pay_held_by_id = None
    db.session.flush()
    audit.record("shift.pay_released", "shifts", shift.id, subject_id=shift.worker_id, actor=actor)
    return True
