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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import defer, joinedload

from portal import audit
from portal.extensions import db
from portal.models import (
    Benchmark,
    Engagement,
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
from portal.timeutil import local_midnight_utc, local_today, local_zone


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
        shift.id, shift.start_at, shift.end_at, shift.break_minutes, shift.shift_type
    )


def rate_text(rate: rules.Rate | None) -> str:
    """The rate a statement was priced at: "$18.50/h" or "$52,000.00/yr"."""
    if rate is None:
        return "no rate"
    if rate.classification == "employee_exempt":
        return f"{pay_rates.money_text(rate.annual_salary)}/yr"
    return f"{pay_rates.money_text(rate.hourly)}/h"


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

    @property
    def gross(self) -> Decimal:
        return self.statement.gross + self.adjustments

    @property
    def late_hours(self) -> rules.Fraction:
        return sum((rules.Fraction(s.worked_minutes, 60) for s in self.late_shifts), rules.ZERO)

    @property
    def hours(self) -> rules.Fraction:
        """Hours paid by this statement: the period's and any late ones."""
        return self.statement.hours + self.late_hours

    @property
    def effective_hourly(self) -> Decimal | None:
        return rules.cents(rules.Fraction(self.gross) / self.hours) if self.hours else None


def price(
    worker_id: int,
    period: Period,
    policy: OrgPolicy,
    rates: list[PayRate],
    shifts: list[Shift],
    late_shifts: list[Shift],
    paid_nearby: list[Shift],
    engaged=None,
) -> Priced:
    """Price a period's approved shifts, and late shifts of closed periods as adjustments.

    ``engaged(day)`` says on which days an exempt salary accrues (see engagement_days).

    A late shift (approved after its period closed) is paid as the difference it makes to its
    workweek: the week re-priced with it, minus the week as already paid. Overtime is then right
    even when the late hours push an old week over the threshold.
    """
    rule_rates = pay_rates.to_rule_rates(rates)
    statement = rules.statement(
        [to_worked(s) for s in shifts], rule_rates, policy.rules, period.start, period.end,
        engaged,
    )  # fmt: skip
    adjustments = Decimal("0.00")
    details: list[dict] = []
    if late_shifts and statement.classification != "employee_exempt":
        by_week: dict[date, list[Shift]] = defaultdict(list)
        for s in late_shifts:
            day = s.start_at.astimezone(policy.rules.zone).date()
            by_week[rules.week_start(day, policy.rules.workweek_start)].append(s)
        for week, late in sorted(by_week.items()):
            lo = datetime.combine(week - timedelta(days=1), datetime.min.time(), policy.rules.zone)
            hi = lo + timedelta(days=9)
            context = [to_worked(s) for s in paid_nearby if lo <= s.start_at < hi]
            with_late = context + [to_worked(s) for s in late]
            before = rules.statement(context, rule_rates, policy.rules).gross if context else 0
            after = rules.statement(with_late, rule_rates, policy.rules).gross
            amount = Decimal(after) - Decimal(before)
            adjustments += amount
            details.append(
                {
                    "week": week.isoformat(),
                    "shift_ids": [s.id for s in late],
                    "hours": str(
                        rules.hours2(
                            sum((rules.Fraction(s.worked_minutes, 60) for s in late), rules.ZERO)
                        )
                    ),
                    "amount": str(amount),
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
    )


def breakdown_rows(priced: Priced, policy: OrgPolicy) -> list[dict]:
    """Weeks with their figures and the shifts behind them: "why is this my pay?"."""
    return _week_rows(priced.statement, [to_worked(s) for s in priced.shifts], policy.rules)


def _week_rows(
    statement: rules.Statement, worked: list[rules.WorkedShift], policy: rules.Policy
) -> list[dict]:
    per_shift = rules.shift_breakdown(worked, policy)
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
                    }
                    for sid in week.shift_ids
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
) -> tuple[rules.Statement, tuple[dict, ...]]:
    """The open period's statement and its "why is this my pay?" weeks, kept per process.

    Pricing is exact arithmetic in Python, the most of /pay's cost with a full period. The key is
    everything the figures depend on: each approved, unpaid shift of the period as priced (id,
    times, break, type), the worker's rates, the organisation's policy and the period. So a
    logged, edited, approved, returned or deleted shift, a new rate, a policy change or a period
    close (which pays the shifts and moves the open period) gives a new key, and a kept result is
    never stale; unused keys fall out of the LRU. Callers must not change what it returns.
    """
    statement = rules.statement(list(worked), list(rates), policy, period.start, period.end)
    return statement, tuple(_week_rows(statement, list(worked), policy))


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
    ytd: dict
    rate: rules.Rate | None
    floor: Benchmark | None = None
    target: Benchmark | None = None


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
    approved = [s for s in shifts if s.status == "approved" and s.start_at >= lo]
    pending = [s for s in shifts if s.status == "submitted" and s.start_at >= lo]
    earlier = [s for s in shifts if s.status == "approved" and s.start_at < lo]
    rates = pay_rates.rates_by_worker(worker.organisation_id, [worker.id]).get(worker.id, [])
    rule_rates = tuple(pay_rates.to_rule_rates(rates))
    priced, weeks, error = None, [], None
    try:
        statement, week_rows = priced_current_period(
            tuple(to_worked(s) for s in approved), rule_rates, policy.rules, period
        )
        priced = Priced(
            worker_id=worker.id,
            period=period,
            statement=statement,
            adjustments=Decimal("0.00"),
            adjustment_details=[],
            shifts=approved,
            late_shifts=[],
            rate=rules.rate_on(rule_rates, period.end - timedelta(days=1)),
        )
        weeks = list(week_rows)
    except rules.PayRuleError as exc:
        error = f"Your pay cannot be worked out yet: {exc}. HR has been asked to set your rate."
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
        earlier_unpaid=list(earlier),
        statements=list(statements),
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
class ClosePreview:
    """A period's statements as they would be frozen, and what stops it closing."""

    period: Period
    priced: list[tuple[User, Priced]] = field(default_factory=list)
    submitted: list[Shift] = field(default_factory=list)
    missing_rates: list[tuple[User, str]] = field(default_factory=list)
    not_ended: bool = False

    @property
    def can_close(self) -> bool:
        return not (self.submitted or self.missing_rates or self.not_ended)

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
    in_period: dict[int, list[Shift]] = defaultdict(list)
    late: dict[int, list[Shift]] = defaultdict(list)
    for s in shifts:
        if s.status == "approved":
            (in_period if s.start_at >= lo else late)[s.worker_id].append(s)
    paid_nearby = _paid_near(organisation_id, [s for group in late.values() for s in group])
    missing = [wid for wid in set(in_period) | set(late) if wid not in workers]
    if missing:  # a former worker's approved shifts are paid too
        workers.update(
            {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(missing)))}
        )
    engaged = engagement_days(organisation_id)
    for wid, user in sorted(workers.items(), key=lambda kv: kv[1].name):
        worker_rates = rates.get(wid, [])
        has_work = wid in in_period or wid in late
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
            )
        except rules.PayRuleError as exc:
            preview.missing_rates.append((user, str(exc)))
            continue
        preview.priced.append((user, priced))
    return preview


def _paid_near(organisation_id: int, late: list[Shift]) -> dict[int, list[Shift]]:
    """Already-paid shifts around the weeks of late shifts (one query, none when no late)."""
    out: dict[int, list[Shift]] = defaultdict(list)
    if not late:
        return out
    lo = min(s.start_at for s in late) - timedelta(days=8)
    hi = max(s.start_at for s in late) + timedelta(days=9)
    for s in db.session.scalars(
        sa.select(Shift).where(
            Shift.organisation_id == organisation_id,
            Shift.worker_id.in_({s.worker_id for s in late}),
            Shift.paid_in_period_id.is_not(None),
            Shift.start_at >= lo,
            Shift.start_at < hi,
        )
    ):
        out[s.worker_id].append(s)
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
    if preview.missing_rates:
        raise PayError(
            "Some workers have shifts but no pay rate in force. Set their rates first.",
            preview.missing_rates,
        )
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
    rows, paid_ids = [], []
    for user, priced in preview.priced:
        rows.append(statement_row(closed.id, organisation_id, user.id, priced, policy))
        paid_ids.extend(s.id for s in priced.shifts)
        paid_ids.extend(s.id for s in priced.late_shifts)
    if rows:
        db.session.execute(sa.insert(PayStatement), rows)
    if paid_ids:
        db.session.execute(
            sa.update(Shift).where(Shift.id.in_(paid_ids)).values(paid_in_period_id=closed.id),
            execution_options={"synchronize_session": False},
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
    "effective_hourly",
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
        writer.writerow(
            [
                period.start_date.isoformat(), (period.end_date - timedelta(days=1)).isoformat(),
                st_.worker_id, _text_cell(st_.worker.name), _text_cell(st_.worker.email),
                st_.classification, st_.rate_text, st_.hours, st_.regular_hours,
                st_.overtime_hours, st_.differential_hours, st_.regular_pay,
                st_.differential_pay, st_.stipends, st_.overtime_premium, st_.adjustments,
                st_.gross_pay, "" if st_.effective_hourly is None else st_.effective_hourly,
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
