"""Views: / and /healthz."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user, login_required

from portal.extensions import db
from portal.kept_pages import kept
from portal.main import bp
from portal.pay import fairness
from portal.shifts import service as shift_service
from portal.timeutil import local_today
from portal.wellbeing.care import care_offer
from portal.wellbeing.support_service import wellness_days_off

# The home panels whose figures are all the organisation's own records (the leader's fair-pay
# trend reads snapshots, which no version bump follows): only these home pages are kept.
KEPT_HOME_ROLES = frozenset({"worker", "supervisor", "counselor"})


@bp.route("/")
@login_required
@kept(when=lambda user: user.roles <= KEPT_HOME_ROLES)
def home():
    """The home page: each role's panel, the worker's and the supervisor's first."""
    worker = supervisor = fair_pay = None
    care = None
    if current_user.has_role("worker"):
        worker = shift_service.worker_home(current_user)
        care = care_offer(current_user)
    days_off = counselor = None
    if current_user.has_role("counselor"):
        counselor = counselor_summary(current_user)
    if current_user.has_role("supervisor"):
        supervisor = shift_service.review_summary(current_user)
        days_off = wellness_days_off(current_user.organisation_id, site_id=current_user.site_id)
    if current_user.has_role("leader"):
        fair_pay = fairness.trend(current_user.organisation_id, local_today())
    return render_template(
        "main/home.html",
        worker=worker,
        supervisor=supervisor,
        fair_pay=fair_pay,
        care=care,
        days_off=days_off,
        counselor=counselor,
    )


@bp.route("/help")
def help_now():
    """Need help now: who to call or text this minute, and (for a signed-in worker) how to ask a
    counsellor for today. Open to anyone, signed in or not (a session may have run out at 2 a.m.),
    and no database work of its own: it must open at once, whatever else is wrong."""
    return render_template("main/help.html")


def counselor_summary(user) -> dict:
    """Requests waiting in the counsellor's organisation, and their next sessions (two queries)."""
    from portal.models import Booking, CounselingSlot, SupportRequest
    from portal.timeutil import utcnow

    waiting = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.case((SupportRequest.urgency == "urgent", 1))),
        ).where(
            SupportRequest.organisation_id == user.organisation_id,
            SupportRequest.status == "open",
            SupportRequest.worker_id != user.id,
        )
    ).one()
    sessions = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Booking)
        .join(CounselingSlot, CounselingSlot.id == Booking.slot_id)
        .where(
            CounselingSlot.counselor_id == user.id,
            Booking.status == "booked",
            CounselingSlot.start_at >= utcnow(),
        )
    )
    return {"open": waiting[0], "urgent": waiting[1], "sessions": sessions}


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
