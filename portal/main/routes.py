"""Views: / and /healthz."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user, login_required

from portal.extensions import db
from portal.kept_pages import kept, not_kept
from portal.main import bp
from portal.models import OnCallPeriod, OnCallSwap
from portal.oncall import service as oncall_service
from portal.pay import fairness
from portal.safety import service as safety_service
from portal.shifts import service as shift_service
from portal.timeutil import local_today, utcnow
from portal.training import service as training_service
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
    work = running = None
    if current_user.has_role("worker"):
        running = safety_service.running_for(current_user)
        if running is not None:
            # "12 min left" turns "overdue" with no write to follow: worked out each time while
            # it runs. Starting and ending it are writes, so the page is kept again once it ends.
            not_kept()
        worker = shift_service.worker_home(current_user)
        care = care_offer(current_user)
        work = work_summary(current_user)
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
        running=running,
        worker=worker,
        work=work,
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


@dataclass
class WorkSummary:
    """The worker's next on-call period, swaps waiting for their answer, and training due."""

    next_on_call: OnCallPeriod | None
    swaps_to_answer: int
    training_due: int  # required courses overdue, due within 30 days, or never done by a deadline
    training_overdue: int

    @property
    def on_call_now(self) -> bool:
        return self.next_on_call is not None and self.next_on_call.start_at <= utcnow()


def work_summary(worker) -> WorkSummary:
    """What the worker's home says of on call and training, in a fixed number of queries."""
    upcoming = oncall_service.upcoming_for(worker, limit=1)
    swaps = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OnCallSwap)
        .where(OnCallSwap.to_worker_id == worker.id, OnCallSwap.status == "asked")
    )
    mine = training_service.standings(worker.organisation_id, worker_id=worker.id)
    statuses = [line.standing.status for line in (mine[0].lines if mine else [])]
    due = sum(1 for s in statuses if s in ("due_soon", "overdue"))
    return WorkSummary(
        upcoming[0] if upcoming else None, swaps or 0, due, statuses.count("overdue")
    )


def counselor_summary(user) -> dict:
    """Requests waiting in the counsellor's organisation, and their next sessions (two queries)."""
    from portal.models import Booking, CounselingSlot, SupportRequest

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
