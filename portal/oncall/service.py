"""The rules of the on-call roster: periods, publishing, swaps; scoping and guards.

Plain arguments in, model objects out, OnCallError (messages by form field) for refusals.
Services never commit; the view does. Every change is audited and the other party is mailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, current_app
from sqlalchemy.orm import joinedload

from portal import audit
from portal.extensions import db
from portal.forms import FieldErrors, Refusals
from portal.links import public_url
from portal.mail import send_mail
from portal.models import (
    MAX_ON_CALL_HOURS,
    OPEN_SWAP_STATUSES,
    OnCallPeriod,
    OnCallSwap,
    PayPeriod,
    Shift,
    Site,
    User,
    UserRole,
)
from portal.timeutil import (
    NonexistentLocalTime,
    local_midnight_utc,
    local_to_utc,
    local_today,
    local_zone,
    to_local,
    utcnow,
)

MAX_REASON = 500
MAX_DAYS_AHEAD = 366
# A period "ended now" less than this after it started is cancelled instead: no time on call.
LEAST_ON_CALL = timedelta(minutes=1)


class OnCallError(FieldErrors):
    """A refused on-call action: messages by form field ("" for the form as a whole)."""


def _Errors() -> Refusals:  # noqa: N802 - used as the class it stood for
    return Refusals(OnCallError)


def span_text(start: datetime, end: datetime) -> str:
    """ "Sat Dec 5 18:00–Sun Dec 6 06:00" on the local wall clock."""
    a, b = to_local(start), to_local(end)
    if a.date() == b.date():
        return f"{a:%a %b %-d %H:%M}–{b:%H:%M}"
    return f"{a:%a %b %-d %H:%M}–{b:%a %b %-d %H:%M}"


# --- weeks ---------------------------------------------------------------------------------------


def workweek_start_day(organisation_id: int) -> int:
    """The organisation's workweek start (the rota's weeks are its workweeks): one query."""
    from portal.pay.rates import policy_for

    return policy_for(organisation_id).workweek_start


def week_of(day: date, workweek_start: int) -> date:
    """The first day of the week holding ``day``."""
    return day - timedelta(days=(day.weekday() - workweek_start) % 7)


def requested_week(text: str | None, workweek_start: int) -> date:
    """A ?week=YYYY-MM-DD as its week's first day; anything else is this week."""
    try:
        day = date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or abs((day - local_today()).days) > 3 * MAX_DAYS_AHEAD:
        day = local_today()
    return week_of(day, workweek_start)


def week_bounds(week: date) -> tuple[datetime, datetime]:
    zone = local_zone()
    return local_midnight_utc(week, zone), local_midnight_utc(week + timedelta(days=7), zone)


# --- scoping and guards --------------------------------------------------------------------------


def supervisor_sites(supervisor: User) -> list[Site]:
    """The sites a supervisor runs the rota of: their site, or every active one of the
    organisation when they have none (as for approving shifts)."""
    query = sa.select(Site).where(Site.organisation_id == supervisor.organisation_id)
    if supervisor.site_id is not None:
        query = query.where(Site.id == supervisor.site_id)
    else:
        query = query.where(Site.active.is_(True))
    return list(db.session.scalars(query.order_by(Site.name)))


def _supervised(supervisor: User) -> list[sa.ColumnElement[bool]]:
    conditions = [OnCallPeriod.organisation_id == supervisor.organisation_id]
    if supervisor.site_id is not None:
        conditions.append(OnCallPeriod.site_id == supervisor.site_id)
    return conditions


def supervises(user: User, period: OnCallPeriod) -> bool:
    """Whether the user is a supervisor of the period's site (as _supervised scopes queries)."""
    return (
        user.has_role("supervisor")
        and user.organisation_id == period.organisation_id
        and user.site_id in (None, period.site_id)
    )


def period_for_supervisor_or_404(supervisor: User, period_id: int) -> OnCallPeriod:
    """A period of one of the supervisor's sites, or 404."""
    period = db.session.scalar(
        sa.select(OnCallPeriod)
        .options(joinedload(OnCallPeriod.worker), joinedload(OnCallPeriod.site))
        .where(OnCallPeriod.id == period_id, *_supervised(supervisor))
    )
    if period is None:
        abort(404)
    return period


def visible_period_or_404(user: User, period_id: int) -> OnCallPeriod:
    """A period its worker may see once published (and after it is cancelled: the mail links to
    it), or a supervisor of its site; else 404."""
    visible = sa.and_(
        OnCallPeriod.worker_id == user.id, OnCallPeriod.status.in_(("published", "cancelled"))
    )
    if user.has_role("supervisor"):
        visible = sa.or_(visible, sa.and_(*_supervised(user)))
    period = db.session.scalar(
        sa.select(OnCallPeriod)
        .options(joinedload(OnCallPeriod.worker), joinedload(OnCallPeriod.site))
        .where(OnCallPeriod.id == period_id, visible)
    )
    if period is None:
        abort(404)
    return period


def swap_for_worker_or_404(worker: User, swap_id: int) -> OnCallSwap:
    """A swap the worker asked for or was asked, or 404."""
    swap = db.session.scalar(
        sa.select(OnCallSwap)
        .options(joinedload(OnCallSwap.period))
        .where(
            OnCallSwap.id == swap_id,
            sa.or_(OnCallSwap.from_worker_id == worker.id, OnCallSwap.to_worker_id == worker.id),
        )
    )
    if swap is None:
        abort(404)
    return swap


def swap_for_supervisor_or_404(supervisor: User, swap_id: int) -> OnCallSwap:
    """A swap of a period at one of the supervisor's sites, or 404."""
    swap = db.session.scalar(
        sa.select(OnCallSwap)
        .join(OnCallSwap.period)
        .options(joinedload(OnCallSwap.period))
        .where(OnCallSwap.id == swap_id, *_supervised(supervisor))
    )
    if swap is None:
        abort(404)
    return swap


def site_workers(organisation_id: int, site_id: int) -> list[User]:
    """The active workers whose home site this is, by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.organisation_id == organisation_id,
                User.site_id == site_id,
                User.active.is_(True),
                UserRole.role == "worker",
            )
            .order_by(User.name, User.id)
        )
    )


# --- reading -------------------------------------------------------------------------------------


def site_rota(site_id: int, week: date, published_only: bool) -> list[OnCallPeriod]:
    """The periods of a site overlapping a week, in order."""
    lo, hi = week_bounds(week)
    query = (
        sa.select(OnCallPeriod)
        .options(joinedload(OnCallPeriod.worker))
        .where(
            OnCallPeriod.site_id == site_id, OnCallPeriod.start_at < hi, OnCallPeriod.end_at > lo
        )
        .order_by(OnCallPeriod.start_at, OnCallPeriod.id)
    )
    if published_only:
        query = query.where(OnCallPeriod.status == "published")
    return list(db.session.scalars(query))


def upcoming_for(worker: User, limit: int = 20) -> list[OnCallPeriod]:
    """The worker's published periods that have not ended, soonest first."""
    return list(
        db.session.scalars(
            sa.select(OnCallPeriod)
            .options(joinedload(OnCallPeriod.site))
            .where(
                OnCallPeriod.worker_id == worker.id,
                OnCallPeriod.status == "published",
                OnCallPeriod.end_at > utcnow(),
            )
            .order_by(OnCallPeriod.start_at)
            .limit(limit)
        )
    )


def open_swaps_for_worker(worker: User) -> list[OnCallSwap]:
    """Open swaps the worker asked for or was asked, oldest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(OnCallSwap)
            .options(
                joinedload(OnCallSwap.period),
                joinedload(OnCallSwap.from_worker),
                joinedload(OnCallSwap.to_worker),
            )
            .where(
                sa.or_(
                    OnCallSwap.from_worker_id == worker.id, OnCallSwap.to_worker_id == worker.id
                ),
                OnCallSwap.status.in_(OPEN_SWAP_STATUSES),
            )
            .order_by(OnCallSwap.created_at, OnCallSwap.id)
        )
    )


def swaps_to_decide(supervisor: User) -> list[OnCallSwap]:
    """Swaps both workers agreed to, waiting for this supervisor (one query)."""
    return list(
        db.session.scalars(
            sa.select(OnCallSwap)
            .join(OnCallSwap.period)
            .options(
                joinedload(OnCallSwap.period),
                joinedload(OnCallSwap.from_worker),
                joinedload(OnCallSwap.to_worker),
            )
            .where(OnCallSwap.status == "accepted", *_supervised(supervisor))
            .order_by(OnCallPeriod.start_at, OnCallSwap.id)
        )
    )


# --- the rota ------------------------------------------------------------------------------------


@dataclass
class PeriodInput:
    """What a supervisor types: who, and local start and end date and time."""

    worker_id: int | None
    start_day: date | None
    start_time: time | None
    end_day: date | None
    end_time: time | None


def _overlapping(worker_id: int, start: datetime, end: datetime, exclude_id: int = 0):
    """The worker's first draft or published period overlapping start to end (a cancelled one
    holds no time)."""
    return db.session.scalar(
        sa.select(OnCallPeriod)
        .where(
            OnCallPeriod.worker_id == worker_id,
            OnCallPeriod.status != "cancelled",
            OnCallPeriod.start_at < end,
            OnCallPeriod.end_at > start,
            OnCallPeriod.id != exclude_id,
        )
        .order_by(OnCallPeriod.start_at)
        .limit(1)
    )


def _in_closed_pay_period(organisation_id: int, start: datetime) -> bool:
    day = to_local(start).date()
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(PayPeriod)
            .where(
                PayPeriod.organisation_id == organisation_id,
                PayPeriod.start_date <= day,
                PayPeriod.end_date > day,
            )
        )
    )


def _lock_user(user_id: int) -> None:
    """Serialise writes about one worker's periods (PostgreSQL row lock; SQLite already
    serialises writers)."""
    db.session.execute(sa.select(User.id).where(User.id == user_id).with_for_update())


def _instant(errors: _Errors, field: str, day: date | None, clock: time | None):
    if day is None or clock is None:
        return None
    try:
        return local_to_utc(day, clock, local_zone())
    except NonexistentLocalTime as exc:
        errors.add(field, f"{exc}: the clocks skip that hour. Enter a time that exists.")
        return None


def add_period(supervisor: User, site: Site, data: PeriodInput) -> OnCallPeriod:
    """Put a worker of the site on call from start to end, as a draft of the rota."""
    errors = _Errors()
    worker = db.session.get(User, data.worker_id) if data.worker_id else None
    if (
        worker is None
        or worker.organisation_id != supervisor.organisation_id
        or worker.site_id != site.id
        or not worker.has_role("worker")
    ):
        errors.add("worker_id", f"Choose a worker of {site.name}.")
    elif not worker.active:
        errors.add("worker_id", f"{worker.name} no longer works here: choose another worker.")
    if data.start_day is None:
        errors.add("start_day", "Enter the date the on-call period starts.")
    if data.start_time is None:
        errors.add("start_time", "Enter the time it starts.")
    if data.end_day is None:
        errors.add("end_day", "Enter the date it ends.")
    if data.end_time is None:
        errors.add("end_time", "Enter the time it ends.")
    start = _instant(errors, "start_time", data.start_day, data.start_time)
    end = _instant(errors, "end_time", data.end_day, data.end_time)
    if start is not None and end is not None:
        length = end - start
        if length <= timedelta(0):
            errors.add("end_time", "The end must be after the start.")
        elif length > timedelta(hours=MAX_ON_CALL_HOURS):
            errors.add(
                "end_time",
                f"An on-call period lasts at most {MAX_ON_CALL_HOURS} hours; this one is "
                f"{length.total_seconds() / 3600:.2f}. Split it into two periods.",
            )
        elif length < timedelta(minutes=30):
            errors.add("end_time", "An on-call period lasts at least 30 minutes.")
        today = local_today()
        if data.start_day and data.start_day > today + timedelta(days=MAX_DAYS_AHEAD):
            errors.add("start_day", "Plan at most a year ahead.")
        elif _in_closed_pay_period(supervisor.organisation_id, start):
            errors.add("start_day", "That pay period is closed: on-call time in it can't be added.")
    if not errors and worker is not None:
        _lock_user(worker.id)
        clash = _overlapping(worker.id, start, end)
        if clash is not None:
            errors.add(
                "",
                f"{worker.name} is already on call {span_text(clash.start_at, clash.end_at)}"
                f"{'' if clash.site_id == site.id else ' at another site'}. "
                "Change the times or choose someone else.",
            )
    errors.raise_if_any()
    period = OnCallPeriod(
        organisation_id=supervisor.organisation_id,
        site_id=site.id,
        worker_id=worker.id,
        start_at=start,
        end_at=end,
        status="draft",
        created_by_id=supervisor.id,
    )
    db.session.add(period)
    db.session.flush()
    audit.record("oncall.period_added", "on_call_periods", period.id, subject_id=worker.id,
                 actor=supervisor)  # fmt: skip
    return period


def remove_period(supervisor: User, period: OnCallPeriod) -> None:
    """Remove a draft period (a published one is changed by a swap, never silently)."""
    if period.status != "draft":
        raise OnCallError(
            {"": ["This period is published: its worker has been told. Ask them to swap it."]}
        )
    db.session.delete(period)
    db.session.flush()
    audit.record("oncall.period_removed", "on_call_periods", period.id,
                 subject_id=period.worker_id, actor=supervisor)  # fmt: skip


def publish_week(supervisor: User, site: Site, week: date) -> list[OnCallPeriod]:
    """Publish a site's draft periods starting in a week; mail each worker theirs."""
    lo, hi = week_bounds(week)
    drafts = list(
        db.session.scalars(
            sa.select(OnCallPeriod)
            .options(joinedload(OnCallPeriod.worker))
            .where(
                OnCallPeriod.site_id == site.id,
                OnCallPeriod.status == "draft",
                OnCallPeriod.start_at >= lo,
                OnCallPeriod.start_at < hi,
            )
            .order_by(OnCallPeriod.start_at)
            .with_for_update(of=OnCallPeriod)
        )
    )
    now = utcnow()
    by_worker: dict[int, list[OnCallPeriod]] = {}
    for period in drafts:
        period.status = "published"
        period.published_at = now
        by_worker.setdefault(period.worker_id, []).append(period)
        audit.record("oncall.published", "on_call_periods", period.id,
                     subject_id=period.worker_id, actor=supervisor)  # fmt: skip
    db.session.flush()
    for periods in by_worker.values():
        worker = periods[0].worker
        lines = "\n".join(f"- {span_text(p.start_at, p.end_at)}" for p in periods)
        _mail(
            worker,
            f"You are on call at {site.name}",
            f"Hello {worker.name},\n\n{supervisor.name} published the on-call rota of "
            f"{site.name} for the week of {week:%b %-d}. You are on call:\n\n{lines}\n\n"
            "Can't make it? Ask a colleague to swap on the On call page of FairShift.\n",
        )
    return drafts


# --- taking a published period back -------------------------------------------------------------


def stop_action(period: OnCallPeriod, now: datetime | None = None) -> str | None:
    """What a supervisor may still do to a published period: "cancel" it before it starts,
    "end" it early while it is under way, or nothing (a draft, cancelled, ended or paid)."""
    now = now or utcnow()
    if period.status != "published" or period.paid_in_period_id is not None:
        return None
    if period.end_at <= now:
        return None
    return "cancel" if period.start_at > now else "end"


def _reason(errors: _Errors, reason: str | None, what: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        errors.add("reason", f"Say why you {what} it: its worker reads it in the mail.")
    elif len(reason) > MAX_REASON:
        errors.add("reason", f"Keep the reason under {MAX_REASON} characters.")
    return reason


def _still_published(period: OnCallPeriod, errors: _Errors, what: str) -> None:
    if period.status == "cancelled":
        errors.add("", "This period is already cancelled.")
    elif period.status != "published":
        errors.add("", "This period is a draft: its worker was never told. Remove the draft.")
    elif period.paid_in_period_id is not None:
        errors.add("", f"This period is paid on a closed statement: it can't be {what}.")


def _call_back_from(period: OnCallPeriod, since: datetime | None = None) -> Shift | None:
    """The first call-back shift linked to the period (starting at or after ``since``)."""
    query = sa.select(Shift).where(Shift.on_call_period_id == period.id)
    if since is not None:
        query = query.where(Shift.start_at >= since)
    return db.session.scalar(query.order_by(Shift.start_at, Shift.id).limit(1))


def _period_link(period: OnCallPeriod) -> str:
    try:
        return f"\n{public_url('oncall.period', on_call_id=period.id)}\n"
    except (RuntimeError, ValueError):  # no public address configured outside a request
        return ""


def cancel_period(supervisor: User, period: OnCallPeriod, reason: str) -> OnCallPeriod:
    """Cancel a published period before it starts (or within its first minute): it is kept,
    never paid, and leaves every list and rota; its open swaps end; all are mailed."""
    errors = _Errors()
    reason = _reason(errors, reason, "cancel")
    _lock_period(period)
    _still_published(period, errors, "cancelled")
    now = utcnow()
    if not errors and period.start_at + LEAST_ON_CALL <= now:
        errors.add("", "This period has started: end it now instead, so the time on call "
                       "until now is paid.")  # fmt: skip
    errors.raise_if_any()
    return _cancel(supervisor, period, reason, now)


def _cancel(supervisor: User, period: OnCallPeriod, reason: str, now: datetime) -> OnCallPeriod:
    errors = _Errors()
    shift = _call_back_from(period)
    if shift is not None:
        errors.add(
            "",
            f"{period.worker.name} logged a call-back in this period "
            f"({span_text(shift.start_at, shift.end_at)}): it can't be cancelled. Ask them to "
            "untick call-back on that shift first.",
        )
    errors.raise_if_any()
    swaps = list(
        db.session.scalars(
            sa.select(OnCallSwap)
            .options(joinedload(OnCallSwap.to_worker))
            .where(OnCallSwap.period_id == period.id, OnCallSwap.status.in_(OPEN_SWAP_STATUSES))
            .order_by(OnCallSwap.id)
            .with_for_update(of=OnCallSwap)
        )
    )
    period.status = "cancelled"
    period.cancelled_at = now
    period.cancelled_by_id = supervisor.id
    period.cancel_reason = reason
    for swap in swaps:
        swap.status = "cancelled"
        swap.decided_by_id = supervisor.id
        swap.decided_at = now
    db.session.flush()
    audit.record("oncall.period_cancelled", "on_call_periods", period.id,
                 subject_id=period.worker_id, actor=supervisor)  # fmt: skip
    for swap in swaps:
        audit.record("oncall.swap_cancelled", "on_call_swaps", swap.id,
                     subject_id=swap.to_worker_id, actor=supervisor)  # fmt: skip
    span = span_text(period.start_at, period.end_at)
    worker = period.worker
    ended = " Your swap request for it has ended too." if swaps else ""
    _mail(
        worker,
        f"On-call period cancelled: {span}",
        f"Hello {worker.name},\n\n{supervisor.name} cancelled your on-call period {span} at "
        f"{period.site.name}: you are not on call then.{ended}\n\nTheir reason: \"{reason}\""
        f"\n{_period_link(period)}",
    )
    for swap in swaps:
        _mail(
            swap.to_worker,
            f"On-call period cancelled: {span}",
            f"Hello {swap.to_worker.name},\n\n{supervisor.name} cancelled the on-call period "
            f"{span} at {period.site.name} that {worker.name} asked you to take, so their swap "
            f"request has ended. Nothing changes for you.\n\nTheir reason: \"{reason}\"\n",
        )
    return period


def end_period_now(supervisor: User, period: OnCallPeriod, reason: str) -> OnCallPeriod:
    """End a published period under way now (to the minute): the time on call until then is
    still paid. Within its first minute it is cancelled instead (see cancel_period)."""
    errors = _Errors()
    reason = _reason(errors, reason, "end")
    _lock_period(period)
    _still_published(period, errors, "changed")
    now = utcnow()
    if not errors:
        if period.start_at > now:
            errors.add("", "This period has not started: cancel it instead.")
        elif period.end_at <= now:
            errors.add("", "This period has already ended.")
    errors.raise_if_any()
    if now - period.start_at < LEAST_ON_CALL:
        return _cancel(supervisor, period, reason, now)
    end = now.replace(second=0, microsecond=0)
    shift = _call_back_from(period, since=end)
    if shift is not None:
        errors.add(
            "",
            f"{period.worker.name} logged a call-back in this period starting "
            f"{span_text(shift.start_at, shift.end_at)}, later than now: the period can't end "
            "before it. Check that shift with them first.",
        )
    errors.raise_if_any()
    planned = period.end_at
    period.planned_end_at = planned
    period.end_at = end
    period.ended_early_by_id = supervisor.id
    period.end_early_reason = reason
    db.session.flush()
    audit.record("oncall.period_ended_early", "on_call_periods", period.id,
                 subject_id=period.worker_id, actor=supervisor)  # fmt: skip
    worker = period.worker
    _mail(
        worker,
        f"On-call period ended early: {span_text(period.start_at, end)}",
        f"Hello {worker.name},\n\n{supervisor.name} ended your on-call period at "
        f"{period.site.name} now, at {to_local(end):%H:%M}, instead of "
        f"{to_local(planned):%a %b %-d %H:%M}. You are no longer on call; the time on call "
        f"until now is paid as usual.\n\nTheir reason: \"{reason}\"\n{_period_link(period)}",
    )
    return period


# --- swaps ---------------------------------------------------------------------------------------


def colleagues(worker: User) -> list[User]:
    """Who a worker may ask to take a period: the other active workers of their site."""
    if worker.site_id is None:
        return []
    return [u for u in site_workers(worker.organisation_id, worker.site_id) if u.id != worker.id]


def _swappable(period: OnCallPeriod, errors: _Errors) -> None:
    if period.status == "cancelled":
        errors.add("", "This period is cancelled: no one is on call then.")
    elif period.status != "published":
        errors.add("", "This period is not published yet.")
    elif period.paid_in_period_id is not None:
        errors.add("", "This period is paid on a closed statement: it can't be swapped.")
    elif period.start_at <= utcnow():
        errors.add("", "This period has started: it can't be swapped any more.")


def _lock_period(period: OnCallPeriod) -> None:
    db.session.execute(
        sa.select(OnCallPeriod.id).where(OnCallPeriod.id == period.id).with_for_update()
    )
    db.session.refresh(period)


def ask_swap(
    worker: User, period: OnCallPeriod, to_worker_id: int | None, reason: str
) -> OnCallSwap:
    """Ask a colleague of the same site to take one of the worker's published periods."""
    errors = _Errors()
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        errors.add("reason", f"Keep the note under {MAX_REASON} characters.")
    if period.worker_id != worker.id:
        abort(404)
    _lock_period(period)
    _swappable(period, errors)
    colleague = db.session.get(User, to_worker_id) if to_worker_id else None
    if colleague is None or colleague.id not in {u.id for u in colleagues(worker)}:
        errors.add("to_worker_id", "Choose a colleague of your site.")
    elif not errors:
        clash = _overlapping(colleague.id, period.start_at, period.end_at)
        if clash is not None:
            errors.add(
                "to_worker_id",
                f"{colleague.name} is already on call {span_text(clash.start_at, clash.end_at)}: "
                "choose someone else.",
            )
    if not errors and db.session.scalar(
        sa.select(OnCallSwap.id).where(
            OnCallSwap.period_id == period.id, OnCallSwap.status.in_(OPEN_SWAP_STATUSES)
        )
    ):
        errors.add("", "You have already asked someone to take this period: withdraw that first.")
    errors.raise_if_any()
    swap = OnCallSwap(
        organisation_id=worker.organisation_id,
        period_id=period.id,
        from_worker_id=worker.id,
        to_worker_id=colleague.id,
        status="asked",
        reason=reason,
    )
    db.session.add(swap)
    db.session.flush()
    audit.record("oncall.swap_asked", "on_call_swaps", swap.id, subject_id=colleague.id,
                 actor=worker)  # fmt: skip
    note = f'\nTheir note: "{reason}"\n' if reason else ""
    _mail(
        colleague,
        f"{worker.name} asks you to take an on-call period",
        f"Hello {colleague.name},\n\n{worker.name} asks you to take their on-call period "
        f"{span_text(period.start_at, period.end_at)} at {period.site.name}.\n{note}\n"
        "Accept or decline it on the On call page of FairShift. Once you accept, your "
        "supervisor approves the swap.\n",
    )
    return swap


def answer_swap(worker: User, swap: OnCallSwap, accept: bool, reason: str = "") -> OnCallSwap:
    """The colleague asked accepts (it goes to the supervisor) or declines."""
    if swap.to_worker_id != worker.id:
        abort(404)
    errors = _Errors()
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        errors.add("reason", f"Keep the note under {MAX_REASON} characters.")
    _lock_period(swap.period)
    db.session.refresh(swap)
    if swap.status != "asked":
        errors.add("", f"This swap is no longer waiting for you ({swap.status_label.lower()}).")
    elif accept:
        _swappable(swap.period, errors)
        if not errors:
            clash = _overlapping(worker.id, swap.period.start_at, swap.period.end_at)
            if clash is not None:
                errors.add(
                    "", f"You are already on call {span_text(clash.start_at, clash.end_at)}."
                )
    errors.raise_if_any()
    period = swap.period
    if accept:
        swap.status = "accepted"
        swap.accepted_at = utcnow()
    else:
        swap.status = "declined"
        swap.decline_reason = reason or None
        swap.decided_by_id = worker.id
        swap.decided_at = utcnow()
    db.session.flush()
    audit.record(f"oncall.swap_{swap.status}", "on_call_swaps", swap.id,
                 subject_id=swap.from_worker_id, actor=worker)  # fmt: skip
    span = span_text(period.start_at, period.end_at)
    if accept:
        _mail(
            swap.from_worker,
            f"{worker.name} accepted your swap",
            f"Hello {swap.from_worker.name},\n\n{worker.name} accepted to take your on-call "
            f"period {span}. Your supervisor approves it next; until then you are on call.\n",
        )
        for supervisor in site_supervisors(period.organisation_id, period.site_id):
            _mail(
                supervisor,
                "An on-call swap waits for your approval",
                f"Hello {supervisor.name},\n\n{swap.from_worker.name} and {worker.name} agreed "
                f"to swap the on-call period {span} at {period.site.name}. Approve or decline "
                "it on the On-call rota page of FairShift.\n",
            )
    else:
        why = f' Their note: "{reason}"' if reason else ""
        _mail(
            swap.from_worker,
            f"{worker.name} can't take your on-call period",
            f"Hello {swap.from_worker.name},\n\n{worker.name} declined to take your on-call "
            f"period {span}.{why}\nYou are still on call; you may ask someone else.\n",
        )
    return swap


def withdraw_swap(worker: User, swap: OnCallSwap) -> bool:
    """The asker withdraws an open swap; False when it was no longer open."""
    if swap.from_worker_id != worker.id:
        abort(404)
    _lock_period(swap.period)
    db.session.refresh(swap)
    if not swap.is_open:
        return False
    swap.status = "withdrawn"
    swap.decided_by_id = worker.id
    swap.decided_at = utcnow()
    db.session.flush()
    audit.record("oncall.swap_withdrawn", "on_call_swaps", swap.id,
                 subject_id=swap.to_worker_id, actor=worker)  # fmt: skip
    _mail(
        swap.to_worker,
        f"{worker.name} withdrew their swap request",
        f"Hello {swap.to_worker.name},\n\n{worker.name} withdrew their request that you take "
        f"the on-call period {span_text(swap.period.start_at, swap.period.end_at)}. "
        "Nothing changes for you.\n",
    )
    return True


def decide_swap(supervisor: User, swap: OnCallSwap, approve: bool, reason: str = "") -> OnCallSwap:
    """A supervisor of the site approves (the period changes worker) or declines a swap."""
    errors = _Errors()
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON:
        errors.add("reason", f"Keep the note under {MAX_REASON} characters.")
    period = swap.period
    _lock_period(period)
    db.session.refresh(swap)
    if swap.status != "accepted":
        errors.add("", f"This swap is not waiting for approval ({swap.status_label.lower()}).")
    elif approve:
        _swappable(period, errors)
        if not errors and period.worker_id != swap.from_worker_id:
            errors.add("", "This period has changed hands since the swap was asked.")
        elif not errors:
            to_worker = swap.to_worker
            if not to_worker.active or to_worker.site_id != period.site_id:
                errors.add("", f"{to_worker.name} is no longer a worker of this site.")
            else:
                _lock_user(to_worker.id)
                clash = _overlapping(to_worker.id, period.start_at, period.end_at, period.id)
                if clash is not None:
                    errors.add(
                        "",
                        f"{to_worker.name} is now on call "
                        f"{span_text(clash.start_at, clash.end_at)}: decline this swap.",
                    )
    errors.raise_if_any()
    swap.decided_by_id = supervisor.id
    swap.decided_at = utcnow()
    if approve:
        swap.status = "approved"
        period.worker_id = swap.to_worker_id
    else:
        swap.status = "declined"
        swap.decline_reason = reason or None
    db.session.flush()
    audit.record(f"oncall.swap_{'approved' if approve else 'refused'}", "on_call_swaps", swap.id,
                 subject_id=swap.from_worker_id, actor=supervisor)  # fmt: skip
    span = span_text(period.start_at, period.end_at)
    if approve:
        _mail(
            swap.from_worker,
            "Your on-call swap is approved",
            f"Hello {swap.from_worker.name},\n\n{supervisor.name} approved the swap: "
            f"{swap.to_worker.name} is now on call {span} instead of you.\n",
        )
        _mail(
            swap.to_worker,
            "You are on call: swap approved",
            f"Hello {swap.to_worker.name},\n\n{supervisor.name} approved the swap: you are "
            f"now on call {span} at {period.site.name}.\n",
        )
    else:
        why = f' Their note: "{reason}"' if reason else ""
        for person in (swap.from_worker, swap.to_worker):
            _mail(
                person,
                "An on-call swap was declined",
                f"Hello {person.name},\n\n{supervisor.name} declined the swap of the on-call "
                f"period {span}: {swap.from_worker.name} stays on call.{why}\n",
            )
    return swap


def site_supervisors(organisation_id: int, site_id: int) -> list[User]:
    """Active supervisors of a site: its own, and those of the whole organisation."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.organisation_id == organisation_id,
                User.active.is_(True),
                UserRole.role == "supervisor",
                sa.or_(User.site_id == site_id, User.site_id.is_(None)),
            )
            .order_by(User.id)
        )
    )


def _mail(person: User, subject: str, body: str) -> None:
    """Mail one person; a failed message is logged, never the reason a saved change is lost."""
    try:
        send_mail(person.email, subject, body)
    except Exception:  # noqa: BLE001 - the change is saved whatever the mail server says
        current_app.logger.exception("On-call mail to user %s failed: %s", person.id, subject)


# --- call-backs ----------------------------------------------------------------------------------


def period_for_call_back(worker: User, start: datetime, end: datetime) -> OnCallPeriod | None:
    """The worker's published on-call period a call-back from start to end falls in."""
    return db.session.scalar(
        sa.select(OnCallPeriod)
        .where(
            OnCallPeriod.worker_id == worker.id,
            OnCallPeriod.status == "published",
            OnCallPeriod.start_at <= start,
            OnCallPeriod.end_at > start,
        )
        .order_by(OnCallPeriod.start_at)
        .limit(1)
    )
