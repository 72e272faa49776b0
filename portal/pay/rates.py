"""The write side of pay: rates, the pay policy, differentials, stipends, the legal floor.

Plain arguments in, model objects out, PaySettingError (messages by form field) for refusals.
Services never commit; the view that called them does. Every query is scoped to one
organisation here, not after loading.

Read helpers used by the statement code too: ``minimum_wage_on``, ``legal_floor_for``,
``rate_on``, ``rates_by_worker``, ``to_rule_rates``, ``policy_for`` and ``rules_policy``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit
from portal.extensions import db
from portal.models import (
    CLASSIFICATIONS,
    SHIFT_TYPES,
    WEEKDAYS,
    Benchmark,
    PayDifferential,
    PayPeriod,
    PayPolicy,
    PayRate,
    ShiftStipend,
    User,
    UserRole,
)
from portal.pay import rules
from portal.timeutil import local_today

CENT = Decimal("0.01")
# An exempt salary is compared with hourly floors over a full-time year: 52 weeks x 40 hours.
HOURS_PER_YEAR = Decimal(2080)
EARLIEST_DATE = date(1990, 1, 1)
MAX_YEARS_AHEAD = 2
# Far above any real figure: they catch a salary typed as an hourly rate, or a slipped finger.
MAX_HOURLY = Decimal("500.00")
MAX_SALARY = Decimal("1000000.00")
MAX_DIFFERENTIAL = Decimal("100.00")
MAX_STIPEND = Decimal("1000.00")
# FLSA: overtime is due after 40 hours in a workweek at no less than time and a half. A policy
# may be more generous (a lower threshold, a higher multiplier), never less.
FLSA_THRESHOLD = Decimal(40)
FLSA_MULTIPLIER = Decimal("1.5")
MAX_MULTIPLIER = Decimal(3)
ALL_WORKERS = "all workers"


class PaySettingError(Exception):
    """A refused change: messages by form field ("" for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


class _Errors(dict):
    """Messages collected by field name."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise PaySettingError(dict(self))


# --- formatting ---------------------------------------------------------------------------------


def money_text(amount: Decimal) -> str:
    """$1,234.56 (the same as the templates' ``money`` filter)."""
    return f"${Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def day_text(day: date) -> str:
    """Jan 1, 2026."""
    return f"{day:%b} {day.day}, {day.year}"


def rate_text(rate: PayRate) -> str:
    """ "$18.50/h" for hourly staff and contractors, "$52,000.00/yr" for exempt staff."""
    if rate.classification == "employee_exempt":
        return f"{money_text(rate.annual_salary)}/yr"
    return f"{money_text(rate.hourly_rate)}/h"


def _has_cents_only(amount: Decimal) -> bool:
    return amount == amount.quantize(CENT)


# --- legal floors -------------------------------------------------------------------------------


def _latest_per_name(rows: Iterable[Benchmark]) -> list[Benchmark]:
    """Of rows already in force, the latest of each name (a newer figure replaces an older)."""
    latest: dict[str, Benchmark] = {}
    for row in rows:
        held = latest.get(row.name)
        if held is None or row.effective_from > held.effective_from:
            latest[row.name] = row
    return list(latest.values())


def legal_floors_on(day: date, applies_to: Iterable[str] = (ALL_WORKERS,)) -> list[Benchmark]:
    """The legal floors in force on a date for these groups: the latest figure of each name."""
    rows = db.session.scalars(
        sa.select(Benchmark).where(
            Benchmark.kind == "legal_floor",
            Benchmark.applies_to.in_(list(applies_to)),
            Benchmark.effective_from <= day,
        )
    )
    return _latest_per_name(rows)


def benchmarks_in_force(day: date) -> list[dict]:
    """Every benchmark figure in force on a date, as plain data to store beside a rate change."""
    rows = db.session.scalars(sa.select(Benchmark).where(Benchmark.effective_from <= day))
    return [
        {
            "kind": b.kind,
            "name": b.name,
            "applies_to": b.applies_to,
            "hourly_usd": str(b.hourly_usd),
            "effective_from": b.effective_from.isoformat(),
            "source": b.source,
            "source_url": b.source_url,
        }
        for b in sorted(_latest_per_name(rows), key=lambda b: (b.kind, b.name))
    ]


def _highest(floors: list[Benchmark]) -> Benchmark | None:
    return max(floors, key=lambda b: (b.hourly_usd, b.effective_from), default=None)


def minimum_wage_on(day: date) -> Benchmark | None:
    """The legal minimum wage for all workers in force on a date (the highest, if several)."""
    return _highest(legal_floors_on(day))


def legal_floor_for(day: date, classification: str) -> Benchmark | None:
    """The binding hourly floor for a classification on a date.

    The minimum wage for all workers, and any legal floor for the classification itself (the
    FLSA salary threshold for exempt staff, as an hourly figure over 40 hours a week).
    """
    return _highest(legal_floors_on(day, (ALL_WORKERS, classification)))


def hourly_equivalent(classification: str, amount: Decimal) -> Decimal:
    """The hourly figure compared with floors: an annual salary over 2,080 hours."""
    if classification == "employee_exempt":
        return amount / HOURS_PER_YEAR
    return amount


# --- workers and their rates --------------------------------------------------------------------


def _org_workers_condition(organisation_id: int) -> list[sa.ColumnElement[bool]]:
    return [
        User.organisation_id == organisation_id,
        User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == "worker")),
    ]


def worker_or_404(actor: User, user_id: int) -> User:
    """A worker of the actor's organisation, or 404 (unknown, not a worker, or elsewhere)."""
    worker = db.session.scalar(
        sa.select(User)
        .where(User.id == user_id, *_org_workers_condition(actor.organisation_id))
        .options(joinedload(User.site))
    )
    if worker is None:
        abort(404)
    return worker


def rate_history(worker_id: int, organisation_id: int) -> list[PayRate]:
    """A worker's rates at an organisation, newest effective date first, with who set them."""
    return list(
        db.session.scalars(
            sa.select(PayRate)
            .where(PayRate.worker_id == worker_id, PayRate.organisation_id == organisation_id)
            .options(joinedload(PayRate.set_by))
            .order_by(PayRate.effective_from.desc(), PayRate.id.desc())
        )
    )


def rate_on(worker_id: int, organisation_id: int, day: date) -> PayRate | None:
    """The rate in force on a date: the latest that took effect on or before it."""
    return db.session.scalar(
        sa.select(PayRate)
        .where(
            PayRate.worker_id == worker_id,
            PayRate.organisation_id == organisation_id,
            PayRate.effective_from <= day,
        )
        .order_by(PayRate.effective_from.desc(), PayRate.id.desc())
        .limit(1)
    )


def rates_by_worker(
    organisation_id: int, worker_ids: Iterable[int] | None = None, until: date | None = None
) -> dict[int, list[PayRate]]:
    """Every rate of the organisation's workers (or of some), oldest first, in one query.

    ``until`` (inclusive) leaves out changes that take effect later, e.g. after a period ends.
    """
    query = sa.select(PayRate).where(PayRate.organisation_id == organisation_id)
    if worker_ids is not None:
        query = query.where(PayRate.worker_id.in_(list(worker_ids)))
    if until is not None:
        query = query.where(PayRate.effective_from <= until)
    out: dict[int, list[PayRate]] = defaultdict(list)
    for rate in db.session.scalars(query.order_by(PayRate.effective_from, PayRate.id)):
        out[rate.worker_id].append(rate)
    return dict(out)


def to_rule_rates(rows: Iterable[PayRate]) -> list[rules.Rate]:
    """PayRate rows as the arithmetic's Rate values."""
    return [
        rules.Rate(
            effective_from=r.effective_from,
            classification=r.classification,
            hourly=r.hourly_rate,
            annual_salary=r.annual_salary,
        )
        for r in rows
    ]


def _ranked_rates(organisation_id: int, day: date, future: bool) -> dict[int, PayRate]:
    """Per worker, the rate in force on ``day`` or (future) the next change after it."""
    if future:
        when = PayRate.effective_from > day
        order = (PayRate.effective_from.asc(), PayRate.id.asc())
    else:
        when = PayRate.effective_from <= day
        order = (PayRate.effective_from.desc(), PayRate.id.desc())
    rank = sa.func.row_number().over(partition_by=PayRate.worker_id, order_by=order)
    ranked = (
        sa.select(PayRate.id, rank.label("rank"))
        .where(PayRate.organisation_id == organisation_id, when)
        .subquery()
    )
    rows = db.session.scalars(
        sa.select(PayRate).join(ranked, ranked.c.id == PayRate.id).where(ranked.c.rank == 1)
    )
    return {r.worker_id: r for r in rows}


@dataclass
class RosterLine:
    """One worker on the HR list: the rate in force today and the next scheduled change."""

    worker: User
    current: PayRate | None
    scheduled: PayRate | None


def roster(organisation_id: int, day: date) -> list[RosterLine]:
    """The organisation's workers with their rates: those without one first, then by name.

    A fixed number of queries whatever the number of workers.
    """
    workers = db.session.scalars(
        sa.select(User)
        .where(*_org_workers_condition(organisation_id))
        .options(joinedload(User.site))
        .order_by(User.name, User.id)
    ).all()
    current = _ranked_rates(organisation_id, day, future=False)
    scheduled = _ranked_rates(organisation_id, day, future=True)
    lines = [RosterLine(w, current.get(w.id), scheduled.get(w.id)) for w in workers]
    lines.sort(key=lambda line: (not line.worker.active, line.current is not None))
    return lines


def last_closed_day(organisation_id: int) -> date | None:
    """The last day of the organisation's latest closed pay period, if any."""
    end = db.session.scalar(
        sa.select(sa.func.max(PayPeriod.end_date)).where(
            PayPeriod.organisation_id == organisation_id
        )
    )
    return None if end is None else end - timedelta(days=1)


def _years_ahead(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # Feb 29
        return day.replace(year=day.year + years, day=28)


def add_rate(
    actor: User,
    worker: User,
    effective_from: date | None,
    classification: str,
    amount: Decimal | None,
    reason: str,
    *,
    today: date | None = None,
) -> PayRate:
    """Add a classification and rate from a date on. History is never changed, only added to.

    Refused: a non-positive amount or one with fractions of a cent; an hourly rate, or an exempt
    salary's hourly equivalent, below the legal floor in force on the effective date; a date
    before 1990, more than two years ahead, or inside a closed pay period (unless it is earlier
    than the worker's first rate and hourly: nothing closed was priced on those days, and their
    unpaid shifts are then paid by the next close); a second change for the worker on the same
    date; an empty reason. A back-dated change (before today) is audited as such too.
    """
    if worker.organisation_id != actor.organisation_id or "worker" not in worker.roles:
        raise PermissionError("HR sets the rates of their own organisation's workers only")
    today = today or local_today()
    errors = _Errors()
    reason = (reason or "").strip()
    if not reason and effective_from is not None and effective_from < today:
        errors.add(
            "reason",
            "Say why the rate changes and why it is back-dated, e.g. a starting rate "
            "that was never entered.",
        )
    elif not reason:
        errors.add("reason", "Say why the rate changes, e.g. starting rate or annual raise.")
    elif len(reason) > 500:
        errors.add("reason", "Keep the reason under 500 characters.")
    if classification not in CLASSIFICATIONS:
        errors.add("classification", "Choose a classification.")
    _check_effective_date(errors, worker, effective_from, today, classification)
    _check_amount(errors, classification, amount, effective_from)
    errors.raise_if_any()
    _check_below_target(errors, worker, classification, amount, effective_from, reason)
    errors.raise_if_any()

    # Serialise changes for one worker (PostgreSQL), so a double click cannot add two rows
    # for the same date between the check and the insert.
    db.session.execute(sa.select(User.id).where(User.id == worker.id).with_for_update())
    taken = db.session.scalar(
        sa.select(PayRate.id).where(
            PayRate.worker_id == worker.id,
            PayRate.organisation_id == worker.organisation_id,
            PayRate.effective_from == effective_from,
        )
    )
    if taken:
        raise PaySettingError(
            {
                "effective_from": [
                    f"A change already takes effect on {day_text(effective_from)}; "
                    "add another date. History is never overwritten."
                ]
            }
        )
    exempt = classification == "employee_exempt"
    rate = PayRate(
        worker_id=worker.id,
        organisation_id=worker.organisation_id,
        effective_from=effective_from,
        classification=classification,
        hourly_rate=None if exempt else amount,
        annual_salary=amount if exempt else None,
        reason=reason,
        set_by_id=actor.id,
        benchmarks_in_force=benchmarks_in_force(effective_from),
    )
    db.session.add(rate)
    db.session.flush()
    audit.record("pay_rate.added", "pay_rates", rate.id, subject_id=worker.id, actor=actor)
    if effective_from < today:
        # Reaches back into worked time: approved unpaid shifts are priced at it from now on.
        audit.record("pay_rate.backdated", "pay_rates", rate.id, subject_id=worker.id, actor=actor)
    return rate


MIN_BELOW_TARGET_REASON = 20


def _check_below_target(
    errors: _Errors, worker: User, classification: str, amount: Decimal, day: date, reason: str
) -> None:
    """Below the organisation's chosen floor is refused; below the job title's target is
    allowed, but only with a written reason."""
    from portal.pay import fairness

    standards, benchmarks = fairness.load_standards(worker.organisation_id)
    hourly = hourly_equivalent(classification, amount)
    floor = fairness.floor_for(standards, benchmarks, day)
    if floor is not None and hourly < floor.hourly_usd:
        errors.add(
            "amount",
            f"This is below the organisation's floor, {floor.name} "
            f"({money_text(floor.hourly_usd)}/h from {day_text(floor.effective_from)}).",
        )
        return
    target = fairness.target_for(standards, benchmarks, worker.job_title, day)
    if target is None or hourly >= target.hourly_usd:
        return
    if len(reason) < MIN_BELOW_TARGET_REASON:
        errors.add(
            "reason",
            f"This is below the target for {worker.job_title} ({money_text(target.hourly_usd)}/h, "
            f"{target.name}). Write why in a sentence (at least {MIN_BELOW_TARGET_REASON} "
            "characters), e.g. the plan to reach it.",
        )


def _check_effective_date(
    errors: _Errors, worker: User, day: date | None, today: date, classification: str
) -> None:
    if day is None:
        errors.add("effective_from", "Enter the date the change takes effect.")
        return
    latest = _years_ahead(today, MAX_YEARS_AHEAD)
    if day < EARLIEST_DATE:
        errors.add("effective_from", f"Enter a date from {day_text(EARLIEST_DATE)} on.")
    elif day > latest:
        errors.add(
            "effective_from",
            f"A change can be scheduled up to {MAX_YEARS_AHEAD} years ahead "
            f"(until {day_text(latest)}).",
        )
    closed = last_closed_day(worker.organisation_id)
    if closed is not None and day <= closed and not _before_first_rate(worker, day, classification):
        errors.add(
            "effective_from",
            f"Pay up to {day_text(closed)} is closed: a change can take effect from "
            f"{day_text(closed + timedelta(days=1))} on.",
        )


def _before_first_rate(worker: User, day: date, classification: str) -> bool:
    """Whether a date inside closed periods may still take a rate: before the worker's first
    rate nothing closed was priced for them (their shifts there are still unpaid), so a
    starting rate entered late changes no frozen statement. Hourly only: a salary accrues per
    period, and a later close would not pay the closed periods' salary."""
    if classification == "employee_exempt":
        return False
    first = db.session.scalar(
        sa.select(sa.func.min(PayRate.effective_from)).where(
            PayRate.worker_id == worker.id, PayRate.organisation_id == worker.organisation_id
        )
    )
    return first is None or day < first


def _check_amount(
    errors: _Errors, classification: str, amount: Decimal | None, day: date | None
) -> None:
    exempt = classification == "employee_exempt"
    what = "annual salary" if exempt else "hourly rate"
    if amount is None:
        errors.add("amount", f"Enter the {what}.")
        return
    if not amount.is_finite() or amount <= 0:
        errors.add("amount", f"Enter an {what} above zero.")
        return
    if exempt and amount > MAX_SALARY:
        errors.add("amount", f"Check the salary: it is above {money_text(MAX_SALARY)} a year.")
        return
    if not exempt and amount > MAX_HOURLY:
        errors.add(
            "amount",
            f"Check the rate: it is above {money_text(MAX_HOURLY)} an hour. "
            "Salaried (exempt) staff have an annual salary instead.",
        )
        return
    if not _has_cents_only(amount):
        errors.add("amount", "Enter dollars and cents, at most two decimals (e.g. 18.50).")
        return
    if day is None or classification not in CLASSIFICATIONS:
        return
    floor = legal_floor_for(day, classification)
    if floor is None or hourly_equivalent(classification, amount) >= floor.hourly_usd:
        return
    in_force = (
        f"the {floor.name} of {money_text(floor.hourly_usd)} an hour in force from "
        f"{day_text(floor.effective_from)} ({floor.source})"
    )
    if exempt:
        hourly = hourly_equivalent(classification, amount).quantize(CENT, ROUND_HALF_UP)
        message = (
            f"{money_text(amount)} a year is {money_text(hourly)} an hour over 2,080 hours, "
            f"below {in_force}."
        )
        if floor.applies_to == classification:
            message += " Raise the salary, or classify the worker as non-exempt (hourly)."
    else:
        message = f"{money_text(amount)} an hour is below {in_force}."
    errors.add("amount", message)


# --- pay policy ---------------------------------------------------------------------------------


def default_policy(organisation_id: int) -> PayPolicy:
    """The policy an organisation has until HR saves one (not added to the session)."""
    cfg = current_app.config
    return PayPolicy(
        organisation_id=organisation_id,
        workweek_start=6,
        period_days=int(cfg["PAY_PERIOD_DAYS"]),
        period_anchor=date.fromisoformat(cfg["PAY_PERIOD_ANCHOR"]),
        overtime_threshold=FLSA_THRESHOLD,
        overtime_multiplier=FLSA_MULTIPLIER,
    )


def saved_policy(organisation_id: int) -> PayPolicy | None:
    """The organisation's saved policy, if HR has saved one."""
    return db.session.get(PayPolicy, organisation_id)


def policy_for(organisation_id: int) -> PayPolicy:
    """The saved policy, or the defaults (Sunday workweeks, biweekly, 40 h at 1.5x)."""
    return saved_policy(organisation_id) or default_policy(organisation_id)


def differentials(organisation_id: int) -> list[PayDifferential]:
    """The organisation's differentials, by start time."""
    return list(
        db.session.scalars(
            sa.select(PayDifferential)
            .where(PayDifferential.organisation_id == organisation_id)
            .order_by(PayDifferential.start_time, PayDifferential.name, PayDifferential.id)
        )
    )


def stipends(organisation_id: int) -> dict[str, Decimal]:
    """Stipend amount per shift type (types without one are absent)."""
    rows = db.session.execute(
        sa.select(ShiftStipend.shift_type, ShiftStipend.amount).where(
            ShiftStipend.organisation_id == organisation_id
        )
    )
    return {shift_type: amount for shift_type, amount in rows}


def rules_policy(
    organisation_id: int, zone: ZoneInfo, policy: PayPolicy | None = None
) -> rules.Policy:
    """Everything the arithmetic needs about an organisation's pay, in three queries."""
    policy = policy or policy_for(organisation_id)
    return rules.Policy(
        zone=zone,
        workweek_start=policy.workweek_start,
        period_days=policy.period_days,
        overtime_threshold=Decimal(policy.overtime_threshold),
        overtime_multiplier=Decimal(policy.overtime_multiplier),
        differentials=tuple(
            rules.Differential(d.name, d.start_time, d.end_time, d.per_hour)
            for d in differentials(organisation_id)
        ),
        stipends=tuple(sorted(stipends(organisation_id).items())),
        on_call_restrictive=bool(policy.on_call_restrictive),
        on_call_stipend=policy.on_call_stipend or None,
    )


def save_policy(
    actor: User,
    workweek_start: int | None,
    period_days: int | None,
    period_anchor: date | None,
    overtime_threshold: Decimal | None,
    overtime_multiplier: Decimal | None,
    *,
    today: date | None = None,
) -> PayPolicy:
    """Save the actor's organisation's pay policy, creating it on first save.

    The anchor must fall on the workweek's first day (so periods hold whole workweeks), and,
    once periods have been closed, the next period must start right after the last closed one.
    """
    today = today or local_today()
    organisation_id = actor.organisation_id
    errors = _Errors()
    if workweek_start not in range(7):
        errors.add("workweek_start", "Choose the day the workweek starts.")
    if period_days not in (7, 14):
        errors.add("period_days", "Choose weekly or every two weeks.")
    if period_anchor is None:
        errors.add("period_anchor", "Enter the date pay periods count from.")
    elif not EARLIEST_DATE <= period_anchor <= _years_ahead(today, MAX_YEARS_AHEAD):
        errors.add(
            "period_anchor",
            f"Enter a date between {day_text(EARLIEST_DATE)} and "
            f"{day_text(_years_ahead(today, MAX_YEARS_AHEAD))}.",
        )
    elif workweek_start in range(7) and period_anchor.weekday() != workweek_start:
        errors.add(
            "period_anchor",
            f"{day_text(period_anchor)} is a {WEEKDAYS[period_anchor.weekday()]}: choose a "
            f"{WEEKDAYS[workweek_start]}, the day the workweek starts, so each period holds "
            "whole workweeks.",
        )
    elif period_days in (7, 14):
        _check_closed_periods(errors, organisation_id, workweek_start, period_days, period_anchor)
    if overtime_threshold is None:
        errors.add("overtime_threshold", "Enter the weekly hours after which overtime starts.")
    elif not overtime_threshold.is_finite() or overtime_threshold <= 0:
        errors.add("overtime_threshold", "Enter a number of hours above zero.")
    elif overtime_threshold > FLSA_THRESHOLD:
        errors.add(
            "overtime_threshold",
            "Federal law (FLSA) requires overtime after 40 hours in a workweek; enter 40 or fewer.",
        )
    elif not _has_cents_only(overtime_threshold):
        errors.add("overtime_threshold", "Enter hours with at most two decimals, e.g. 37.5.")
    if overtime_multiplier is None:
        errors.add("overtime_multiplier", "Enter the overtime multiplier, e.g. 1.5.")
    elif not overtime_multiplier.is_finite() or overtime_multiplier < FLSA_MULTIPLIER:
        errors.add(
            "overtime_multiplier",
            "Federal law (FLSA) requires at least time and a half: enter 1.5 or more.",
        )
    elif overtime_multiplier > MAX_MULTIPLIER:
        errors.add("overtime_multiplier", "Enter a multiplier of 3 or less.")
    elif not _has_cents_only(overtime_multiplier):
        errors.add("overtime_multiplier", "Enter at most two decimals, e.g. 1.5.")
    errors.raise_if_any()

    values = {
        "workweek_start": workweek_start,
        "period_days": period_days,
        "period_anchor": period_anchor,
        "overtime_threshold": overtime_threshold,
        "overtime_multiplier": overtime_multiplier,
        "updated_by_id": actor.id,
    }
    policy = saved_policy(organisation_id)
    if policy is None:
        try:
            # Two first saves at once: the second updates the row the first created.
            with db.session.begin_nested():
                policy = PayPolicy(organisation_id=organisation_id, **values)
                db.session.add(policy)
                db.session.flush()
            audit.record("pay_policy.changed", "pay_policies", organisation_id, actor=actor)
            return policy
        except IntegrityError:
            policy = saved_policy(organisation_id)
    for name, value in values.items():
        setattr(policy, name, value)
    db.session.flush()
    audit.record("pay_policy.changed", "pay_policies", organisation_id, actor=actor)
    return policy


def save_on_call(actor: User, restrictive: bool | None, stipend: Decimal | None) -> PayPolicy:
    """How the organisation pays on-call time: restrictive (hours worked) or a stipend per
    period (none when blank). Creates the policy with its defaults on a first save."""
    errors = _Errors()
    if restrictive is None:
        errors.add("on_call_mode", "Choose how on-call time is paid.")
    if stipend is not None and not (stipend.is_finite() and stipend == 0):
        if restrictive:
            errors.add(
                "on_call_stipend",
                "Restrictive on-call time is paid as hours worked: leave the stipend blank.",
            )
        else:
            _check_money(errors, "on_call_stipend", stipend, MAX_STIPEND, "an on-call period")
    errors.raise_if_any()
    values = {
        "on_call_restrictive": bool(restrictive),
        "on_call_stipend": None if restrictive or not stipend else stipend,
        "updated_by_id": actor.id,
    }
    policy = saved_policy(actor.organisation_id)
    if policy is None:
        try:
            with db.session.begin_nested():
                policy = default_policy(actor.organisation_id)
                for name, value in values.items():
                    setattr(policy, name, value)
                db.session.add(policy)
                db.session.flush()
        except IntegrityError:
            policy = saved_policy(actor.organisation_id)
    for name, value in values.items():
        setattr(policy, name, value)
    db.session.flush()
    audit.record("pay_policy.on_call_changed", "pay_policies", actor.organisation_id, actor=actor)
    return policy


def _check_closed_periods(
    errors: _Errors, organisation_id: int, workweek_start: int, period_days: int, anchor: date
) -> None:
    """Once periods are closed, the next period starts the day after the last closed one."""
    closed = last_closed_day(organisation_id)
    if closed is None:
        return
    next_start = closed + timedelta(days=1)
    if next_start.weekday() != workweek_start:
        errors.add(
            "workweek_start",
            f"Pay periods up to {day_text(closed)} are closed and the next one starts on "
            f"{WEEKDAYS[next_start.weekday()]}, {day_text(next_start)}, so workweeks keep "
            f"starting on {WEEKDAYS[next_start.weekday()]}.",
        )
    elif (next_start - anchor).days % period_days:
        errors.add(
            "period_anchor",
            f"Pay periods up to {day_text(closed)} are closed, so the next period starts on "
            f"{day_text(next_start)}: choose an anchor a whole number of periods "
            f"({period_days} days) from it, e.g. {day_text(next_start)}.",
        )


# --- differentials and stipends -----------------------------------------------------------------


def add_differential(
    actor: User,
    name: str,
    start_time: time | None,
    end_time: time | None,
    per_hour: Decimal | None,
) -> PayDifferential:
    """Add extra pay per hour in a daily window; an end before the start crosses midnight."""
    organisation_id = actor.organisation_id
    errors = _Errors()
    name = " ".join((name or "").split())
    if not name:
        errors.add("name", "Name the differential, e.g. Nights.")
    elif len(name) > 80:
        errors.add("name", "Keep the name under 80 characters.")
    elif db.session.scalar(
        sa.select(PayDifferential.id).where(
            PayDifferential.organisation_id == organisation_id,
            sa.func.lower(PayDifferential.name) == name.lower(),
        )
    ):
        errors.add("name", f"There is already a differential called {name}: choose another name.")
    if start_time is None:
        errors.add("start_time", "Enter the time the window starts.")
    if end_time is None:
        errors.add("end_time", "Enter the time the window ends.")
    elif start_time is not None and end_time == start_time:
        errors.add(
            "end_time",
            "The window must end at a different time than it starts "
            "(an end before the start runs past midnight).",
        )
    _check_money(errors, "per_hour", per_hour, MAX_DIFFERENTIAL, "an hour")
    errors.raise_if_any()
    differential = PayDifferential(
        organisation_id=organisation_id,
        name=name,
        start_time=start_time.replace(second=0, microsecond=0),
        end_time=end_time.replace(second=0, microsecond=0),
        per_hour=per_hour,
    )
    db.session.add(differential)
    db.session.flush()
    audit.record(
        "pay_policy.differential_added", "pay_differentials", differential.id, actor=actor
    )
    return differential


def remove_differential(actor: User, differential_id: int) -> PayDifferential | None:
    """Remove one of the organisation's differentials; None if it is not there (any more)."""
    differential = db.session.scalar(
        sa.select(PayDifferential).where(
            PayDifferential.id == differential_id,
            PayDifferential.organisation_id == actor.organisation_id,
        )
    )
    if differential is not None:
        db.session.delete(differential)
        db.session.flush()
        audit.record(
            "pay_policy.differential_removed", "pay_differentials", differential_id, actor=actor
        )
    return differential


def _check_money(
    errors: _Errors, field: str, amount: Decimal | None, maximum: Decimal, per: str
) -> None:
    if amount is None:
        errors.add(field, "Enter an amount, e.g. 2.00.")
    elif not amount.is_finite() or amount <= 0:
        errors.add(field, "Enter an amount above zero.")
    elif amount > maximum:
        errors.add(field, f"Check the amount: it is above {money_text(maximum)} {per}.")
    elif not _has_cents_only(amount):
        errors.add(field, "Enter dollars and cents, at most two decimals (e.g. 2.00).")


def save_stipends(actor: User, amounts: Mapping[str, Decimal | None]) -> dict[str, Decimal]:
    """Set the stipend of every shift type at once: blank or zero means none.

    Returns the stipends now in force by shift type.
    """
    organisation_id = actor.organisation_id
    errors = _Errors()
    unknown = set(amounts) - set(SHIFT_TYPES)
    if unknown:
        raise ValueError(f"unknown shift types: {sorted(unknown)}")
    wanted: dict[str, Decimal] = {}
    for shift_type, amount in amounts.items():
        if amount is None or (amount.is_finite() and amount == 0):
            continue
        if not amount.is_finite() or amount < 0:
            errors.add(shift_type, "Enter an amount above zero, or leave blank for none.")
            continue
        _check_money(errors, shift_type, amount, MAX_STIPEND, "a shift")
        wanted[shift_type] = amount
    errors.raise_if_any()

    rows = {
        row.shift_type: row
        for row in db.session.scalars(
            sa.select(ShiftStipend).where(ShiftStipend.organisation_id == organisation_id)
        )
    }
    for shift_type in amounts:
        row = rows.get(shift_type)
        if shift_type in wanted and row is None:
            db.session.add(
                ShiftStipend(
                    organisation_id=organisation_id,
                    shift_type=shift_type,
                    amount=wanted[shift_type],
                )
            )
        elif shift_type in wanted:
            row.amount = wanted[shift_type]
        elif row is not None:
            db.session.delete(row)
    db.session.flush()
    audit.record("pay_policy.stipends_changed", "organisations", organisation_id, actor=actor)
    return stipends(organisation_id)
