"""Pay, read from the database and priced by portal.pay.rules.

Loads the organisation's policy, the workers' rates and their approved shifts in a fixed number of
queries, prices them with the pure rules, and closes pay periods: statements are computed once,
stored, and never recomputed; the shifts they paid are locked.
"""

from __future__ import annotations

import csv
import functools
import io
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import defer, joinedload

from portal import audit
from portal.extensions import db
from portal.models import (
    MAX_ON_CALL_HOURS,
    MAX_SHIFT_HOURS,
    Benchmark,
    Engagement,
    OnCallPeriod,
    PayPeriod,
    PayRate,
    PayStatement,
    Shift,
    User,
    UserRole,
)
from portal.pay import fairness, rules
from portal.pay import rates as pay_rates
from portal.pay.periods import Period, period_containing
from portal.timeutil import local_midnight_utc, local_today, local_zone, utcnow


class PayError(Exception):
    """A refused pay action, with a message and optionally the records to act on first."""

    def __init__(self, message: str, items: list | None = None):
        super().__init__(message)
        self.message = message
        self.items = items or []


# --- policy and periods ----------------------------------------------------------------------


@dataclass
class OrgPolicy:
    """An organisation's policy as stored, and as the rules need it."""

    anchor: date
    period_days: int
    rules: rules.Policy

    def period_of(self, day: date) -> Period:
        return period_containing(day, self.anchor, self.period_days)


def load_policy(organisation_id: int) -> OrgPolicy:
    """The organisation's pay policy (defaults where HR has set none): three queries."""
    row = pay_rates.policy_for(organisation_id)
    return OrgPolicy(
        anchor=row.period_anchor,
        period_days=row.period_days,
        rules=pay_rates.rules_policy(organisation_id, local_zone(), row),
    )


def period_bounds(period: Period, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of the local midnights that open and close a period."""
    return local_midnight_utc(period.start, zone), local_midnight_utc(period.end, zone)


# --- loading -----------------------------------------------------------------------------------


def to_worked(shift: Shift) -> rules.WorkedShift:
    """A Shift row as the arithmetic sees it."""
    return rules.WorkedShift(
        shift.id, shift.start_at, shift.end_at, shift.break_minutes, shift.shift_type,
        bool(getattr(shift, "call_back", False)),  # seedbench prices look-alikes of rows
    )  # fmt: skip


def unpaid_on_call(hi: datetime, *where) -> dict[int, list[tuple[OnCallPeriod, rules.OnCall]]]:
    """Published, unpaid on-call periods starting before ``hi``, per worker, each with the spans
    of every shift its worker logged inside it (one query: a period and its shifts per row).

    Every logged shift counts, whatever its status: time logged as a shift is paid as that
    shift, never also as restrictive on-call time.
    """
    pairs = _on_calls_with_shifts(
        False,
        OnCallPeriod.status == "published",
        OnCallPeriod.paid_in_period_id.is_(None),
        OnCallPeriod.start_at < hi,
        *where,
    )
    out: dict[int, list[tuple[OnCallPeriod, rules.OnCall]]] = defaultdict(list)
    for period, on_call in pairs:
        out[period.worker_id].append((period, on_call))
    return out


def _on_calls_with_shifts(paid: bool, *where) -> list[tuple[OnCallPeriod, rules.OnCall]]:
    """On-call periods (``where``), each with the spans of the shifts its worker logged inside
    it: every one, whatever its status, or for a ``paid`` period those logged by its close (what
    its close left out of its time). One query: a period and one of its shifts per row."""
    query = sa.select(OnCallPeriod, Shift.start_at, Shift.end_at, Shift.break_minutes)
    logged_by_then = []
    if paid:
        query = query.join(PayPeriod, PayPeriod.id == OnCallPeriod.paid_in_period_id)
        logged_by_then.append(Shift.created_at <= PayPeriod.closed_at)
    rows = db.session.execute(
        query.outerjoin(
            Shift,
            sa.and_(
                Shift.worker_id == OnCallPeriod.worker_id,
                Shift.start_at < OnCallPeriod.end_at,
                Shift.end_at > OnCallPeriod.start_at,
                *logged_by_then,
            ),
        )
        .where(*where)
        .order_by(OnCallPeriod.start_at, OnCallPeriod.id, Shift.start_at)
    ).all()
    return _with_busy(rows)


def _with_busy(rows) -> list[tuple[OnCallPeriod, rules.OnCall]]:
    """Rows of (period, start, end, break minutes of a shift inside it or None), in order, as
    each period with the spans its shifts cover."""
    periods: dict[int, OnCallPeriod] = {}
    busy: dict[int, list] = defaultdict(list)
    for period, start, end, break_minutes in rows:
        periods[period.id] = period
        if start is not None:
            busy[period.id].append((start, end - timedelta(minutes=break_minutes or 0)))
    return [
        (period, rules.OnCall(pid, period.start_at, period.end_at, tuple(busy[pid])))
        for pid, period in periods.items()
    ]


def rate_text(rate: rules.Rate | None) -> str:
    """The rate a statement was priced at: "$18.50/h" or "$52,000.00/yr"."""
    if rate is None:
        return "no rate"
    if rate.classification == "employee_exempt":
        return f"{pay_rates.money_text(rate.annual_salary)}/yr"
    return f"{pay_rates.money_text(rate.hourly)}/h"


def rate_used_row(rate: rules.Rate, hours: rules.Fraction) -> dict:
    """One rate a statement used, as stored in its details: plain numbers, the unit apart."""
    exempt = rate.classification == "employee_exempt"
    return {
        "from": rate.effective_from.isoformat(),
        "classification": rate.classification,
        "amount": str(rules.cents(rate.annual_salary if exempt else rate.hourly)),
        "unit": "year" if exempt else "hour",
        "text": rate_text(rate),
        "hours": str(rules.hours2(hours)),
    }


def plain_rate(text: str) -> tuple[str, str]:
    """A stored rate text ("$1,234.50/h", "$52,000.00/yr") as a plain number and its unit, for
    the payroll CSV: ("1234.50", "hour"). A statement without a rate gives ("", "")."""
    amount, _, unit = text.partition("/")
    amount = amount.replace("$", "").replace(",", "").strip()
    try:
        number = Decimal(amount)
    except ArithmeticError:
        return "", ""
    return f"{number:.2f}", {"h": "hour", "yr": "year"}.get(unit.strip(), "")


# --- pricing -----------------------------------------------------------------------------------


@dataclass
class Priced:
    """One worker's pay for one period: the exact statement, adjustments, and the shifts."""

    worker_id: int
    period: Period
    statement: rules.Statement
    adjustments: Decimal
    adjustment_details: list[dict]
    shifts: list[Shift]
    late_shifts: list[Shift]
    rate: rules.Rate | None
    # Every rate the statement used, oldest first, with the hours priced at it.
    rates_used: list[tuple[rules.Rate, rules.Fraction]] = field(default_factory=list)
    # Published on-call periods this statement pays in its weeks (stipend, or hours when
    # restrictive); for a restrictive one that began before the period, its part from the
    # period's first midnight on.
    on_calls: list[tuple[OnCallPeriod, rules.OnCall]] = field(default_factory=list)
    # On-call periods (or their part) of closed periods' weeks, paid as adjustments.
    late_on_calls: list[tuple[OnCallPeriod, rules.OnCall]] = field(default_factory=list)
    late_on_call_hours: rules.Fraction = rules.ZERO  # restrictive hours among those

    @property
    def gross(self) -> Decimal:
        return self.statement.gross + self.adjustments

    @property
    def late_hours(self) -> rules.Fraction:
        shifts = sum((rules.Fraction(s.worked_minutes, 60) for s in self.late_shifts), rules.ZERO)
        return shifts + self.late_on_call_hours

    @property
    def hours(self) -> rules.Fraction:
        """Hours paid by this statement: the period's and any late ones."""
        return self.statement.hours + self.late_hours

    @property
    def effective_hourly(self) -> Decimal | None:
        return rules.cents(rules.Fraction(self.gross) / self.hours) if self.hours else None

    @property
    def on_call_ids(self) -> set[int]:
        """The on-call periods this statement pays, wholly or in part."""
        return {p.id for p, _oc in self.on_calls + self.late_on_calls}


def split_late_on_calls(
    on_calls, period_lo: datetime, restrictive: bool
) -> tuple[list[tuple[OnCallPeriod, rules.OnCall]], list[tuple[OnCallPeriod, rules.OnCall]]]:
    """A statement's on-call periods in two: those of its own weeks, and the late ones.

    A period that began before the statement's period (published after that period closed)
    is late: it is paid as the difference it makes to its workweek, like a late shift. A
    stipend belongs to the week a period starts in, so a stipend period is late as a whole; a
    restrictive one is cut at the period's first midnight, its later hours priced with the
    statement's own weeks, so that overtime sees every hour of the week they fall in.
    """
    current, late = [], []
    for period, oc in on_calls:
        if oc.start >= period_lo:
            current.append((period, oc))
        elif restrictive and oc.end > period_lo:
            late.append((period, replace(oc, end=period_lo)))
            current.append((period, replace(oc, start=period_lo)))
        else:
            late.append((period, oc))
    return current, late


def price(
    worker_id: int,
    period: Period,
    policy: OrgPolicy,
    rates: list[PayRate],
    shifts: list[Shift],
    late_shifts: list[Shift],
    paid_nearby: list[Shift],
    engaged=None,
    on_calls: list[tuple[OnCallPeriod, rules.OnCall]] = (),
    paid_on_call_nearby: list[rules.OnCall] = (),
    carried: tuple[list[Shift], list[rules.OnCall]] = ((), ()),
) -> Priced:
    """Price a period's approved shifts, and late shifts of closed periods as adjustments.

    ``engaged(day)`` says on which days an exempt salary accrues (see engagement_days).

    A late shift (approved after its period closed) is paid as the difference it makes to its
    workweek: the week re-priced with it, minus the week as already paid. Overtime is then right
    even when the late hours push an old week over the threshold. A late on-call period (see
    split_late_on_calls) is paid the same way. The week as already paid holds the paid shifts
    (``paid_nearby``) and paid on-call periods (``paid_on_call_nearby``) around it, so a late
    call-back inside a paid restrictive period is not paid twice: its hours replace on-call hours.

    ``carried`` (see carried_into): hours an earlier statement paid inside this period's first
    week; they count toward its overtime (carried_adjustment).
    """
    rule_rates = pay_rates.to_rule_rates(rates)
    zone = policy.rules.zone
    current, late_on_calls = split_late_on_calls(
        on_calls, period_bounds(period, zone)[0], policy.rules.on_call_restrictive
    )
    on_call = [oc for _p, oc in current]
    statement = rules.statement(
        [to_worked(s) for s in shifts], rule_rates, policy.rules, period.start, period.end,
        engaged, on_call,
    )  # fmt: skip
    adjustments = Decimal("0.00")
    details: list[dict] = []
    late_on_call_hours = rules.ZERO
    exempt = statement.classification == "employee_exempt"
    if not exempt:
        amount, detail = carried_adjustment(
            carried, [to_worked(s) for s in shifts], on_call, rule_rates, policy.rules, period
        )
        if detail:
            adjustments += amount
            details.append(detail)
    if (late_shifts or late_on_calls) and not exempt:
        by_week: dict[date, tuple[list[Shift], list[rules.OnCall]]] = defaultdict(
            lambda: ([], [])
        )
        for s in late_shifts:
            by_week[rules.week_start(s.start_at.astimezone(zone).date(),
                                     policy.rules.workweek_start)][0].append(s)  # fmt: skip
        for _p, oc in late_on_calls:
            by_week[rules.week_start(oc.start.astimezone(zone).date(),
                                     policy.rules.workweek_start)][1].append(oc)  # fmt: skip
        for week, (late, late_oc) in sorted(by_week.items()):
            lo, hi = _week_window(week, late_oc, policy.rules)
            context = [to_worked(s) for s in paid_nearby if lo <= s.start_at < hi]
            context_oc = [oc for oc in paid_on_call_nearby if oc.start < hi and oc.end > lo]
            with_late = context + [to_worked(s) for s in late]
            before = (
                rules.statement(context, rule_rates, policy.rules, on_call=context_oc).gross
                if context or context_oc
                else 0
            )
            after = rules.statement(
                with_late, rule_rates, policy.rules, on_call=context_oc + late_oc
            ).gross
            amount = Decimal(after) - Decimal(before)
            adjustments += amount
            oc_hours = rules.ZERO
            if policy.rules.on_call_restrictive:
                oc_hours = sum(
                    (seg.hours for oc in late_oc
                     for seg in rules.on_call_segments(oc, with_late, policy.rules)),
                    rules.ZERO,
                )  # fmt: skip
            late_on_call_hours += oc_hours
            shift_hours = sum((rules.Fraction(s.worked_minutes, 60) for s in late), rules.ZERO)
            details.append(
                {
                    "week": week.isoformat(),
                    "shift_ids": [s.id for s in late],
                    "hours": str(rules.hours2(shift_hours + oc_hours)),
                    "amount": str(amount),
                    "on_call": [
                        {"id": oc.id, "start": oc.start.isoformat(), "end": oc.end.isoformat()}
                        for oc in late_oc
                    ],
                }
            )
    return Priced(
        worker_id=worker_id,
        period=period,
        statement=statement,
        adjustments=adjustments,
        adjustment_details=details,
        shifts=shifts,
        late_shifts=late_shifts,
        rate=rules.rate_on(rule_rates, period.end - timedelta(days=1)),
        rates_used=rules.hours_by_rate(
            [to_worked(s) for s in shifts + late_shifts], rule_rates, policy.rules,
            period.start if exempt else None, period.end if exempt else None,
            on_call + [oc for _p, oc in late_on_calls],
        ),  # fmt: skip
        on_calls=current,
        late_on_calls=late_on_calls,
        late_on_call_hours=late_on_call_hours,  # counted only when not exempt
    )


def carried_adjustment(
    carried: tuple[list[Shift], list[rules.OnCall]],
    worked: list[rules.WorkedShift],
    on_call: list[rules.OnCall],
    rates: list[rules.Rate],
    policy: rules.Policy,
    period: Period,
) -> tuple[Decimal, dict | None]:
    """What hours an earlier statement paid inside this period's first workweek add to it: the
    overtime they push that week into (rules.carried_week_difference), as an adjustment and its
    detail for the statement; (0, None) when they add nothing."""
    carried_shifts, carried_on_call = carried
    if not carried_shifts and not carried_on_call:
        return Decimal("0.00"), None
    week = rules.week_start(period.start, policy.workweek_start)  # periods hold whole weeks
    extra, overtime_hours = rules.carried_week_difference(
        [to_worked(s) for s in carried_shifts], carried_on_call, worked, on_call, rates, policy,
        week,
    )  # fmt: skip
    amount = rules.cents(extra)
    if not amount:
        return amount, None
    return amount, {
        "week": week.isoformat(),
        "shift_ids": [],
        "hours": "0.00",  # paid already: no hour more
        "overtime_hours": str(rules.hours2(overtime_hours)),
        "amount": str(amount),
        "carried": [
            {"id": s.id, "start": s.start_at.isoformat(), "end": s.end_at.isoformat()}
            for s in carried_shifts
        ]
        + [
            {"id": oc.id, "start": oc.start.isoformat(), "end": oc.end.isoformat(),
             "on_call": True}
            for oc in carried_on_call
        ],  # fmt: skip
    }


def _week_window(week: date, late_oc: list[rules.OnCall], policy: rules.Policy):
    """The instants around a workweek whose paid work re-prices it: from the day before to the
    day after, and on to the day after the next week when a restrictive on-call period runs
    into that week (up to 72 hours), so that week is priced whole too."""
    lo = datetime.combine(week - timedelta(days=1), datetime.min.time(), policy.zone)
    last = max([oc.end for oc in late_oc], default=lo)
    last_week = rules.week_start(last.astimezone(policy.zone).date(), policy.workweek_start)
    last_hi = datetime.combine(last_week + timedelta(days=8), datetime.min.time(), policy.zone)
    return lo, max(lo + timedelta(days=9), last_hi)


def breakdown_rows(priced: Priced, policy: OrgPolicy) -> list[dict]:
    """Weeks with their figures and the shifts behind them: "why is this my pay?"."""
    return _week_rows(
        priced.statement,
        [to_worked(s) for s in priced.shifts],
        policy.rules,
        [oc for _p, oc in priced.on_calls],
    )


def _week_rows(
    statement: rules.Statement,
    worked: list[rules.WorkedShift],
    policy: rules.Policy,
    on_call: list[rules.OnCall] = (),
) -> list[dict]:
    per_shift = rules.shift_breakdown(worked, policy)
    per_on_call = rules.on_call_breakdown(on_call, worked, policy)
    on_call_by_id = {p.id: p for p in on_call}
    shifts_by_id = {s.id: s for s in worked}
    weeks = []
    for week in statement.weeks:
        weeks.append(
            {
                "start": week.start.isoformat(),
                "hours": str(rules.hours2(week.hours)),
                "regular_hours": str(rules.hours2(week.regular_hours)),
                "overtime_hours": str(rules.hours2(week.overtime_hours)),
                "differential_hours": str(rules.hours2(week.differential_hours)),
                "straight_pay": str(rules.cents(week.straight_pay)),
                "differential_pay": str(rules.cents(week.differential_pay)),
                "stipends": str(rules.cents(week.stipends)),
                "regular_rate": str(rules.cents(week.regular_rate)),
                "overtime_premium": str(rules.cents(week.overtime_premium)),
                "gross": str(rules.cents(week.gross)),
                "shifts": [
                    {
                        "id": sid,
                        "start": shifts_by_id[sid].start.isoformat(),
                        "end": shifts_by_id[sid].end.isoformat(),
                        "type": shifts_by_id[sid].shift_type,
                        "hours": str(rules.hours2(per_shift[sid]["hours"])),
                        "differential_hours": str(
                            rules.hours2(per_shift[sid]["differential_hours"])
                        ),
                        "stipend": str(rules.cents(per_shift[sid]["stipend"])),
                        "call_back": shifts_by_id[sid].call_back,
                    }
                    for sid in week.shift_ids
                ],
                "on_call_hours": str(rules.hours2(week.on_call_hours)),
                "on_call": [
                    {
                        "id": pid,
                        "start": on_call_by_id[pid].start.isoformat(),
                        "end": on_call_by_id[pid].end.isoformat(),
                        "restrictive": policy.on_call_restrictive,
                        "hours": str(rules.hours2(per_on_call[(pid, week.start)]["hours"])),
                        "stipend": str(rules.cents(per_on_call[(pid, week.start)]["stipend"])),
                    }
                    for pid in week.on_call_ids
                    if (pid, week.start) in per_on_call
                ],
            }
        )
    return weeks


# --- the worker's view -------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def priced_current_period(
    worked: tuple[rules.WorkedShift, ...],
    rates: tuple[rules.Rate, ...],
    policy: rules.Policy,
    period: Period,
    on_call: tuple[rules.OnCall, ...] = (),
) -> tuple[rules.Statement, tuple[dict, ...]]:
    """The open period's statement and its "why is this my pay?" weeks, kept per process.

    Pricing is exact arithmetic in Python, the most of /pay's cost with a full period. The key is
    everything the figures depend on: each approved, unpaid shift of the period as priced (id,
    times, break, type, call-back), the worker's published on-call periods with the shifts
    inside them, the worker's rates, the organisation's policy (on-call treatment included)
    and the period. So a published, swapped or paid on-call period, a
    logged, edited, approved, returned or deleted shift, a new rate, a policy change or a period
    close (which pays the shifts and moves the open period) gives a new key, and a kept result is
    never stale; unused keys fall out of the LRU. Callers must not change what it returns.
    """
    statement = rules.statement(
        list(worked), list(rates), policy, period.start, period.end, None, list(on_call)
    )
    return statement, tuple(_week_rows(statement, list(worked), policy, list(on_call)))


@dataclass
class WorkerPay:
    """What /pay shows a worker."""

    period: Period
    priced: Priced | None
    weeks: list[dict]
    error: str | None
    pending: list[Shift]
    earlier_unpaid: list[Shift]
    statements: list[PayStatement]
    held: list[Shift]
    # Approved shifts on days without a pay rate in force: waiting for HR to set one.
    waiting_for_rate: list[Shift]
    ytd: dict
    rate: rules.Rate | None
    floor: Benchmark | None = None
    target: Benchmark | None = None
    # Published on-call periods of closed periods' weeks: the next close pays them.
    earlier_on_call: list[OnCallPeriod] = field(default_factory=list)


def worker_pay(worker: User) -> WorkerPay:
    """This period so far, shifts waiting for approval, past statements, the year to date."""
    policy = load_policy(worker.organisation_id)
    today = local_today()
    period = policy.period_of(today)
    lo, hi = period_bounds(period, policy.rules.zone)
    shifts = db.session.scalars(
        sa.select(Shift)
        .where(
            Shift.worker_id == worker.id,
            Shift.start_at < hi,
            Shift.status.in_(("approved", "submitted")),
            Shift.paid_in_period_id.is_(None),
        )
        .order_by(Shift.start_at)
    ).all()
    held = [s for s in shifts if s.status == "approved" and s.is_held]
    approved = [s for s in shifts if s.status == "approved" and s.start_at >= lo and not s.is_held]
    pending = [s for s in shifts if s.status == "submitted" and s.start_at >= lo]
    earlier = [s for s in shifts if s.status == "approved" and s.start_at < lo and not s.is_held]
    rates = pay_rates.rates_by_worker(worker.organisation_id, [worker.id]).get(worker.id, [])
    rule_rates = tuple(pay_rates.to_rule_rates(rates))
    first = first_rate_day(rates)
    zone = policy.rules.zone
    waiting = [s for s in approved + earlier if first is None or local_day(s, zone) < first]
    # This period's on-call periods so far: started ones (the next close pays earlier unpaid
    # ones, and the rest of the period's once they have happened).
    started_by = min(hi, utcnow())
    current_on_calls, late_on_calls = split_late_on_calls(
        unpaid_on_call(hi, OnCallPeriod.worker_id == worker.id).get(worker.id, []),
        lo,
        policy.rules.on_call_restrictive,
    )
    on_calls = [pair for pair in current_on_calls if pair[1].start <= started_by]
    carried = carried_into(worker.organisation_id, period, policy.rules.zone, worker.id)
    priced, weeks, error = None, [], None
    try:
        worked = tuple(to_worked(s) for s in approved)
        statement, week_rows = priced_current_period(
            worked, rule_rates, policy.rules, period, tuple(oc for _p, oc in on_calls)
        )
        carried_pay, carried_detail = Decimal("0.00"), None
        if statement.classification != "employee_exempt":
            carried_pay, carried_detail = carried_adjustment(
                (carried[0].get(worker.id, []), carried[1].get(worker.id, [])),
                list(worked), [oc for _p, oc in on_calls], list(rule_rates), policy.rules, period,
            )  # fmt: skip
        priced = Priced(
            worker_id=worker.id,
            period=period,
            statement=statement,
            adjustments=carried_pay,
            adjustment_details=[carried_detail] if carried_detail else [],
            shifts=approved,
            late_shifts=[],
            rate=rules.rate_on(rule_rates, period.end - timedelta(days=1)),
            on_calls=on_calls,
        )
        weeks = list(week_rows)
    except rules.PayRuleError as exc:
        if waiting:
            error = (
                "Your pay cannot be worked out yet: waiting for HR to set your pay rate for "
                f"{pay_rates.day_text(min(local_day(s, zone) for s in waiting))} on. "
                "Your approved shifts are kept and are paid once it is set."
            )
        else:
            error = f"Your pay cannot be worked out yet: {exc}. HR has been asked to look at it."
    statements = db.session.scalars(
        sa.select(PayStatement)
        .join(PayStatement.period)
        # the list shows each statement's totals, not its per-shift details (a large JSON)
        .options(joinedload(PayStatement.period), defer(PayStatement.details, raiseload=True))
        .where(PayStatement.worker_id == worker.id)
        .order_by(PayPeriod.start_date.desc())
        .limit(26)
    ).all()
    year_start = date(today.year, 1, 1)
    ytd = db.session.execute(
        sa.select(
            sa.func.count(PayStatement.id),
            sa.func.coalesce(sa.func.sum(PayStatement.hours), 0),
            sa.func.coalesce(sa.func.sum(PayStatement.overtime_hours), 0),
            sa.func.coalesce(sa.func.sum(PayStatement.gross_pay), 0),
        )
        .join(PayStatement.period)
        .where(PayStatement.worker_id == worker.id, PayPeriod.end_date > year_start)
    ).one()
    standards, benchmarks = fairness.load_standards(worker.organisation_id)
    return WorkerPay(
        floor=fairness.floor_for(standards, benchmarks, today),
        target=fairness.target_for(standards, benchmarks, worker.job_title, today),
        period=period,
        priced=priced,
        weeks=weeks,
        error=error,
        pending=list(pending),
        earlier_unpaid=[s for s in earlier if s not in waiting],
        earlier_on_call=[p for p, _oc in late_on_calls],
        statements=list(statements),
        held=held,
        waiting_for_rate=waiting,
        ytd={"statements": ytd[0], "hours": ytd[1], "overtime_hours": ytd[2], "gross": ytd[3]},
        rate=rules.rate_on(rule_rates, today),
    )


def statement_or_404(user: User, statement_id: int) -> PayStatement:
    """A statement its worker, or HR of the same organisation, may see; otherwise 404."""
    visible = PayStatement.worker_id == user.id
    if user.has_role("hr"):
        visible = sa.or_(visible, PayStatement.organisation_id == user.organisation_id)
    statement = db.session.scalar(
        sa.select(PayStatement)
        .options(joinedload(PayStatement.period), joinedload(PayStatement.worker))
        .where(PayStatement.id == statement_id, visible)
    )
    if statement is None:
        abort(404)
    return statement


# --- closing a period --------------------------------------------------------------------------


def next_period_to_close(organisation_id: int, policy: OrgPolicy) -> Period:
    """Periods close in order: the one after the last closed, else the first with shifts."""
    last_end = db.session.scalar(
        sa.select(sa.func.max(PayPeriod.end_date)).where(
            PayPeriod.organisation_id == organisation_id
        )
    )
    if last_end is not None:
        return Period(last_end, last_end + timedelta(days=policy.period_days))
    first = db.session.scalar(
        sa.select(sa.func.min(Shift.start_at)).where(
            Shift.organisation_id == organisation_id,
            Shift.status.in_(("approved", "submitted")),
            Shift.paid_in_period_id.is_(None),
        )
    )
    day = first.astimezone(policy.rules.zone).date() if first else local_today()
    return policy.period_of(day)


@dataclass
class Blocked:
    """A worker a close leaves out because some of their approved shifts cannot be priced.

    All their approved, unpaid shifts stay approved and unpaid (a week is never paid in part, so
    overtime stays right); once HR sets a back-dated rate (from ``fix_from``) or holds the
    shifts without one, the next close pays them, as adjustments where their period is closed.
    """

    user: User
    shifts: list[Shift]  # every shift the close leaves unpaid for them
    unpriced: list[Shift]  # those without a rate in force: the ones to fix or hold
    why: str
    fix_from: date | None = None
    # An exempt salary accrues per period, not per shift: a later close does not pay it.
    salary_at_risk: bool = False


@dataclass
class ClosePreview:
    """A period's statements as they would be frozen, what stops it closing, and who is left
    out of it (blocked for a missing rate, or held by HR) without stopping it."""

    period: Period
    priced: list[tuple[User, Priced]] = field(default_factory=list)
    submitted: list[Shift] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    held: list[Shift] = field(default_factory=list)
    not_ended: bool = False

    @property
    def can_close(self) -> bool:
        return not (self.submitted or self.not_ended)

    @property
    def totals(self) -> dict:
        return {
            "workers": len(self.priced),
            "hours": rules.hours2(sum((p.hours for _u, p in self.priced), rules.ZERO)),
            "overtime_hours": sum(
                (p.statement.overtime_hours for _u, p in self.priced), Decimal("0.00")
            ),
            "gross": sum((p.gross for _u, p in self.priced), Decimal("0.00")),
        }


def engagement_days(organisation_id: int) -> dict[int, object]:
    """For each worker of the organisation with engagements on record, a function telling
    whether a day falls inside one of them (one query). Workers with none are not listed: their
    salary accrues every day, as before engagements were recorded."""
    spans: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for worker_id, start, end in db.session.execute(
        sa.select(Engagement.user_id, Engagement.started_on, Engagement.ended_on).where(
            Engagement.organisation_id == organisation_id
        )
    ):
        spans[worker_id].append((start, end))

    def covering(own):
        return lambda day: any(a <= day and (b is None or day <= b) for a, b in own)

    return {worker_id: covering(own) for worker_id, own in spans.items()}


def preview_period(organisation_id: int, period: Period, policy: OrgPolicy) -> ClosePreview:
    """Price every worker of the organisation for a period, in a fixed number of queries."""
    zone = policy.rules.zone
    lo, hi = period_bounds(period, zone)
    preview = ClosePreview(period=period, not_ended=local_today() < period.end)
    workers = {
        u.id: u
        for u in db.session.scalars(
            sa.select(User)
            .join(UserRole)
            .where(User.organisation_id == organisation_id, UserRole.role == "worker")
            .order_by(User.name)
        )
    }
    rates = pay_rates.rates_by_worker(organisation_id)
    shifts = db.session.scalars(
        sa.select(Shift)
        .where(
            Shift.organisation_id == organisation_id,
            Shift.start_at < hi,
            Shift.paid_in_period_id.is_(None),
            Shift.status.in_(("approved", "submitted")),
        )
        .order_by(Shift.start_at, Shift.id)
    ).all()
    preview.submitted = [s for s in shifts if s.status == "submitted" and s.start_at >= lo]
    preview.held = [s for s in shifts if s.status == "approved" and s.is_held]
    in_period: dict[int, list[Shift]] = defaultdict(list)
    late: dict[int, list[Shift]] = defaultdict(list)
    for s in shifts:
        if s.status == "approved" and not s.is_held:
            (in_period if s.start_at >= lo else late)[s.worker_id].append(s)
    on_calls = unpaid_on_call(hi, OnCallPeriod.organisation_id == organisation_id)
    late_spans = [(s.worker_id, s.start_at, s.end_at) for group in late.values() for s in group]
    late_spans += [
        (p.worker_id, p.start_at, p.end_at)
        for pairs in on_calls.values()
        for p, _oc in pairs
        if p.start_at < lo
    ]
    paid_nearby, paid_on_call_nearby = _paid_near(organisation_id, late_spans)
    carried_shifts, carried_on_calls = carried_into(organisation_id, period, zone)
    missing = [wid for wid in set(in_period) | set(late) | set(on_calls) if wid not in workers]
    if missing:  # a former worker's approved shifts are paid too
        workers.update(
            {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(missing)))}
        )
    engaged = engagement_days(organisation_id)
    for wid, user in sorted(workers.items(), key=lambda kv: kv[1].name):
        worker_rates = rates.get(wid, [])
        has_work = wid in in_period or wid in late or wid in on_calls
        in_force = [
            rules.rate_on(pay_rates.to_rule_rates(worker_rates), d)
            for d in (period.start, period.end - timedelta(days=1))
        ]
        exempt_paid = any(r is not None and r.classification == "employee_exempt" for r in in_force)
        days = [period.start + timedelta(days=n) for n in range((period.end - period.start).days)]
        if exempt_paid and wid in engaged and not any(engaged[wid](d) for d in days):
            exempt_paid = False  # left before the period (or starts after it): no salary
        if not has_work and not exempt_paid:
            continue
        try:
            priced = price(
                wid,
                period,
                policy,
                worker_rates,
                in_period.get(wid, []),
                late.get(wid, []),
                paid_nearby.get(wid, []),
                engaged.get(wid),
                on_calls.get(wid, []),
                paid_on_call_nearby.get(wid, []),
                (carried_shifts.get(wid, []), carried_on_calls.get(wid, [])),
            )
        except rules.PayRuleError as exc:
            left_out = late.get(wid, []) + in_period.get(wid, [])
            preview.blocked.append(_blocked(user, left_out, worker_rates, zone, exempt_paid, exc))
            continue
        preview.priced.append((user, priced))
    return preview


def local_day(shift: Shift, zone: ZoneInfo | None = None) -> date:
    """The local date a shift starts on (the day whose rate prices its first hours)."""
    return shift.start_at.astimezone(zone or local_zone()).date()


def first_rate_day(rates: list[PayRate]) -> date | None:
    """The day a worker's first rate takes effect (None without any): a rate, once in force,
    stays in force until the next, so only hours before this day can lack one."""
    return min((r.effective_from for r in rates), default=None)


def _blocked(user, shifts, rates, zone, exempt, exc) -> Blocked:
    """Why a worker cannot be priced, and the day a back-dated rate would have to start."""
    first = first_rate_day(rates)
    unpriced = [s for s in shifts if first is None or local_day(s, zone) < first]
    if not unpriced:  # not a missing rate (the arithmetic refused something else)
        return Blocked(user, shifts, shifts, f"Their pay cannot be worked out: {exc}.")
    fix_from = min(local_day(s, zone) for s in unpriced)
    if first is None:
        why = "No pay rate set yet."
    else:
        why = f"No pay rate in force before {pay_rates.day_text(first)}, their first rate."
    return Blocked(user, shifts, unpriced, why, fix_from, salary_at_risk=exempt)


def _paid_near(
    organisation_id: int, late: list[tuple[int, datetime, datetime]]
) -> tuple[dict[int, list[Shift]], dict[int, list[rules.OnCall]]]:
    """The paid shifts and paid on-call periods around the weeks of late work (``late``: worker,
    start, end), per worker: what those weeks were already paid for. Two queries, none when
    nothing is late."""
    if not late:
        return defaultdict(list), defaultdict(list)
    workers = {wid for wid, _start, _end in late}
    lo = min(start for _w, start, _e in late) - timedelta(days=8)
    hi = max(end for _w, _s, end in late) + timedelta(days=9)
    return (
        _paid_shifts(organisation_id, Shift.worker_id.in_(workers), Shift.start_at >= lo,
                     Shift.start_at < hi),
        _paid_on_calls(organisation_id, OnCallPeriod.worker_id.in_(workers),
                       OnCallPeriod.start_at < hi, OnCallPeriod.end_at > lo),
    )  # fmt: skip


def carried_into(
    organisation_id: int, period: Period, zone: ZoneInfo, worker_id: int | None = None
) -> tuple[dict[int, list[Shift]], dict[int, list[rules.OnCall]]]:
    """Shifts and on-call periods the previous statement paid that started before this period's
    first midnight and ran on past it, per worker (or of one worker): hours already paid inside
    this period's first workweek. Only the close of the period that ended then can have paid
    them (a later close pays its own late work), so its id bounds both queries, with the longest
    a shift or an on-call period may last. Two queries."""
    lo = local_midnight_utc(period.start, zone)
    paid_by = (
        sa.select(PayPeriod.id)
        .where(PayPeriod.organisation_id == organisation_id, PayPeriod.end_date == period.start)
        .scalar_subquery()
    )
    shift_where = [
        Shift.paid_in_period_id == paid_by,
        Shift.start_at >= lo - timedelta(hours=MAX_SHIFT_HOURS),
        Shift.start_at < lo,
        Shift.end_at > lo,
    ]
    on_call_where = [
        OnCallPeriod.paid_in_period_id == paid_by,
        OnCallPeriod.start_at >= lo - timedelta(hours=MAX_ON_CALL_HOURS),
        OnCallPeriod.start_at < lo,
        OnCallPeriod.end_at > lo,
    ]
    if worker_id is not None:
        shift_where.append(Shift.worker_id == worker_id)
        on_call_where.append(OnCallPeriod.worker_id == worker_id)
    return (
        _paid_shifts(organisation_id, *shift_where),
        _paid_on_calls(organisation_id, *on_call_where),
    )


def _paid_shifts(organisation_id: int, *where) -> dict[int, list[Shift]]:
    out: dict[int, list[Shift]] = defaultdict(list)
    for s in db.session.scalars(
        sa.select(Shift)
        .where(Shift.organisation_id == organisation_id, Shift.paid_in_period_id.is_not(None),
               *where)  # fmt: skip
        .order_by(Shift.start_at, Shift.id)
    ):
        out[s.worker_id].append(s)
    return out


def _paid_on_calls(organisation_id: int, *where) -> dict[int, list[rules.OnCall]]:
    """Paid on-call periods, each with what its close left out of its time: every shift logged
    in it by then, whatever its status (its ``busy``), so a call-back approved since is paid
    once, at last. One query."""
    out: dict[int, list[rules.OnCall]] = defaultdict(list)
    for period, on_call in _on_calls_with_shifts(
        True, OnCallPeriod.organisation_id == organisation_id, *where
    ):
        out[period.worker_id].append(on_call)
    return out


def statement_row(
    period_id: int, organisation_id: int, worker_id: int, priced: Priced, policy: OrgPolicy
) -> dict:
    """One worker's frozen statement as a row of pay_statements (closing and the bench data
    loader, portal.seedbench, both store exactly this)."""
    lines = priced.statement.lines
    return {
        "period_id": period_id,
        "worker_id": worker_id,
        "organisation_id": organisation_id,
        "classification": priced.statement.classification,
        "rate_text": rate_text(priced.rate),
        "hours": rules.hours2(priced.hours),
        "regular_hours": priced.statement.regular_hours,
        "overtime_hours": priced.statement.overtime_hours,
        "differential_hours": priced.statement.differential_hours,
        "regular_pay": lines["regular_pay"],
        "differential_pay": lines["differential_pay"],
        "stipends": lines["stipends"],
        "overtime_premium": lines["overtime_premium"],
        "adjustments": priced.adjustments,
        "gross_pay": priced.gross,
        "effective_hourly": priced.effective_hourly,
        "details": {
            "weeks": breakdown_rows(priced, policy),
            "adjustments": priced.adjustment_details,
            "salary": str(rules.cents(priced.statement.salary)),
            "rates": [rate_used_row(rate, hours) for rate, hours in priced.rates_used],
        },
    }


def close_period(
    organisation_id: int, actor: User | None, expected_start: date | None = None
) -> PayPeriod:
    """Freeze every worker's statement for the next period and lock the shifts it pays."""
    policy = load_policy(organisation_id)
    period = next_period_to_close(organisation_id, policy)
    if expected_start is not None and period.start != expected_start:
        if period.start > expected_start:
            raise PayError("This period is already closed. Nothing was changed.")
        raise PayError("Close the earlier periods first: periods close in order.")
    preview = preview_period(organisation_id, period, policy)
    if preview.not_ended:
        raise PayError(f"This period runs until {period.last_day:%b %-d, %Y}; close it after that.")
    if preview.submitted:
        raise PayError(
            f"{len(preview.submitted)} shift(s) in this period still wait for approval. "
            "Approve or return them first.",
            preview.submitted,
        )
    # A worker without a rate in force (or with shifts HR holds) is left out, never the
    # whole close: their shifts stay approved and unpaid, and a later close pays them.
    closed = PayPeriod(
        organisation_id=organisation_id,
        start_date=period.start,
        end_date=period.end,
        closed_by_id=actor.id if actor else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(closed)
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise PayError("This period is already closed. Nothing was changed.") from exc
    rows, paid_ids, on_call_ids = [], [], []
    mine = [organisation_id]  # the bulk writes below touch this organisation's records only
    for user, priced in preview.priced:
        rows.append(statement_row(closed.id, organisation_id, user.id, priced, policy))
        paid_ids.extend(s.id for s in priced.shifts)
        paid_ids.extend(s.id for s in priced.late_shifts)
        on_call_ids.extend(priced.on_call_ids)
    if rows:
        db.session.execute(
            sa.insert(PayStatement), rows, execution_options={"bumps_organisations": mine}
        )
    if paid_ids:
        db.session.execute(
            sa.update(Shift).where(Shift.id.in_(paid_ids)).values(paid_in_period_id=closed.id),
            execution_options={"synchronize_session": False, "bumps_organisations": mine},
        )
    if on_call_ids:
        db.session.execute(
            sa.update(OnCallPeriod)
            .where(OnCallPeriod.id.in_(on_call_ids), OnCallPeriod.paid_in_period_id.is_(None))
            .values(paid_in_period_id=closed.id),
            execution_options={"synchronize_session": False, "bumps_organisations": mine},
        )
    audit.record("pay_period.closed", "pay_periods", closed.id, actor=actor)
    return closed


def closed_periods(organisation_id: int, limit: int = 52) -> list[tuple[PayPeriod, int, Decimal]]:
    """Closed periods, newest first, with their statement count and gross total (one query)."""
    return [
        (p, n, total)
        for p, n, total in db.session.execute(
            sa.select(
                PayPeriod,
                sa.func.count(PayStatement.id),
                sa.func.coalesce(sa.func.sum(PayStatement.gross_pay), 0),
            )
            .outerjoin(PayStatement, PayStatement.period_id == PayPeriod.id)
            .where(PayPeriod.organisation_id == organisation_id)
            .group_by(PayPeriod.id)
            .order_by(PayPeriod.start_date.desc())
            .limit(limit)
        )
    ]


CSV_COLUMNS = [
    "period_start", "period_end", "worker_id", "worker_name", "worker_email", "classification",
    "rate", "hours", "regular_hours", "overtime_hours", "differential_hours", "regular_pay",
    "differential_pay", "stipends", "overtime_premium", "adjustments", "gross_pay",
    "effective_hourly", "rate_unit",
]  # fmt: skip


def _text_cell(text: str) -> str:
    """A free-text CSV cell (a name) that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def statements_csv(period: PayPeriod) -> str:
    """The period's frozen statements as CSV for the payroll provider (docs/payroll-csv.md)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for st_ in period_statements(period):
        rate, unit = plain_rate(st_.rate_text)
        writer.writerow(
            [
                period.start_date.isoformat(), (period.end_date - timedelta(days=1)).isoformat(),
                st_.worker_id, _text_cell(st_.worker.name), _text_cell(st_.worker.email),
                st_.classification, rate, st_.hours, st_.regular_hours,
                st_.overtime_hours, st_.differential_hours, st_.regular_pay,
                st_.differential_pay, st_.stipends, st_.overtime_premium, st_.adjustments,
                st_.gross_pay, "" if st_.effective_hourly is None else st_.effective_hourly,
                unit,
            ]
        )  # fmt: skip
    return out.getvalue()


def period_statements(period: PayPeriod) -> list[PayStatement]:
    """A closed period's statements with their workers, by name (one query)."""
    return list(
        db.session.scalars(
            sa.select(PayStatement)
            .join(PayStatement.worker)
            .options(joinedload(PayStatement.worker))
            .where(PayStatement.period_id == period.id)
            .order_by(User.name, User.id)
        )
    )


# --- pay left unpaid ---------------------------------------------------------------------------


@dataclass
class Unpaid:
    """A worker's approved shifts that no close has paid yet, up to some day, by what they wait
    for: HR to set a rate (``no_rate``), HR to release them (``held``), or just the next close
    (``ready``: e.g. a rate was set since, or the shift was approved after its period closed)."""

    user: User
    no_rate: list[Shift] = field(default_factory=list)
    held: list[Shift] = field(default_factory=list)
    ready: list[Shift] = field(default_factory=list)
    first_rate: date | None = None

    @property
    def fix_from(self) -> date | None:
        return min((local_day(s) for s in self.no_rate), default=None)

    @property
    def hours(self) -> Decimal:
        return sum((s.hours for s in self.no_rate + self.held + self.ready), Decimal("0.00"))


def unpaid_until(organisation_id: int, end: date) -> list[Unpaid]:
    """Every approved shift of the organisation starting before ``end`` (a local date) that no
    close has paid, per worker by name, so HR sees that nobody's pay was lost (two queries)."""
    before = local_midnight_utc(end, local_zone())
    shifts = db.session.scalars(
        sa.select(Shift)
        .join(Shift.worker)
        .options(joinedload(Shift.worker))
        .where(
            Shift.organisation_id == organisation_id,
            Shift.status == "approved",
            Shift.paid_in_period_id.is_(None),
            Shift.start_at < before,
        )
        .order_by(User.name, User.id, Shift.start_at)
    ).all()
    if not shifts:
        return []
    rates = pay_rates.rates_by_worker(organisation_id, {s.worker_id for s in shifts})
    out: dict[int, Unpaid] = {}
    for s in shifts:
        line = out.get(s.worker_id)
        if line is None:
            first = first_rate_day(rates.get(s.worker_id, []))
            line = out[s.worker_id] = Unpaid(s.worker, first_rate=first)
        if s.is_held:
            line.held.append(s)
        elif line.first_rate is None or local_day(s) < line.first_rate:
            line.no_rate.append(s)
        else:
            line.ready.append(s)
    return list(out.values())


# --- what HR has to do -------------------------------------------------------------------------


@dataclass
class BlockedWorker:
    """A worker with approved shifts no close can pay until HR sets a rate (or holds them)."""

    id: int
    name: str
    fix_from: date
    shifts: int


@dataclass
class Due:
    """What HR's home lists as due: periods to close, approvals and rates that hold pay up."""

    next_period: Period
    periods_to_close: int
    waiting_approval: int
    held: int
    blocked: list[BlockedWorker]

    @property
    def anything(self) -> bool:
        return bool(self.periods_to_close or self.waiting_approval or self.held or self.blocked)


def due_for_hr(organisation_id: int, today: date | None = None) -> Due:
    """Ended periods not closed, shifts of ended periods waiting for approval, held shifts and
    workers blocked for a missing rate: three statements whatever the size of the data."""
    today = today or local_today()
    zone = local_zone()
    policy = pay_rates.policy_for(organisation_id)
    # The open period follows from the policy alone: everything before it has ended.
    open_period = period_containing(today, policy.period_anchor, policy.period_days)
    unpaid = (
        Shift.organisation_id == organisation_id,
        Shift.status == "approved",
        Shift.paid_in_period_id.is_(None),
    )
    last_end, first_unpaid, waiting, held = db.session.execute(
        sa.select(
            sa.select(sa.func.max(PayPeriod.end_date))
            .where(PayPeriod.organisation_id == organisation_id)
            .scalar_subquery(),
            sa.select(sa.func.min(Shift.start_at))
            .where(
                Shift.organisation_id == organisation_id,
                Shift.status.in_(("approved", "submitted")),
                Shift.paid_in_period_id.is_(None),
            )
            .scalar_subquery(),
            sa.select(sa.func.count(Shift.id))
            .where(
                Shift.organisation_id == organisation_id,
                Shift.status == "submitted",
                Shift.start_at < local_midnight_utc(open_period.start, zone),
            )
            .scalar_subquery(),
            sa.select(sa.func.count(Shift.id))
            .where(*unpaid, Shift.pay_held_at.is_not(None))
            .scalar_subquery(),
        )
    ).one()
    if last_end is not None:
        nxt = Period(last_end, last_end + timedelta(days=policy.period_days))
    else:
        if isinstance(first_unpaid, str):  # SQLite returns a scalar subquery's instant as text
            first_unpaid = datetime.fromisoformat(first_unpaid)
        day = (
            first_unpaid.replace(tzinfo=first_unpaid.tzinfo or UTC).astimezone(zone).date()
            if first_unpaid
            else today
        )
        nxt = period_containing(day, policy.period_anchor, policy.period_days)
    ended = max(0, (today - nxt.start).days // policy.period_days)
    first_rates = (
        sa.select(PayRate.worker_id, sa.func.min(PayRate.effective_from).label("first"))
        .where(PayRate.organisation_id == organisation_id)
        .group_by(PayRate.worker_id)
        .subquery()
    )
    blocked = []
    for worker_id, name, earliest, count, first in db.session.execute(
        sa.select(
            Shift.worker_id, User.name, sa.func.min(Shift.start_at), sa.func.count(Shift.id),
            first_rates.c.first,
        )  # fmt: skip
        .join(User, User.id == Shift.worker_id)
        .outerjoin(first_rates, first_rates.c.worker_id == Shift.worker_id)
        .where(*unpaid, Shift.pay_held_at.is_(None))
        .group_by(Shift.worker_id, User.name, first_rates.c.first)
        .order_by(User.name, Shift.worker_id)
    ):
        day = earliest.astimezone(zone).date()
        if first is None or day < first:
            blocked.append(BlockedWorker(worker_id, name, day, count))
    return Due(nxt, ended, waiting or 0, held or 0, blocked)
