"""Pay arithmetic: pure functions, no database, no Flask.

Gross pay for one worker over one pay period, from approved shifts, effective-dated rates and
the organisation's pay policy, following the FLSA:

- Hours are real elapsed time (DST-correct) minus the unpaid break. A shift is cut at local
  midnight (a rate takes effect on a date) and at the workweek boundary (overtime is weekly).
  A break is spread over the shift in proportion to elapsed time (the portal does not record
  when it was taken).
- Non-exempt employees: hours over the threshold in a workweek are overtime. The week's regular
  rate is its straight-time earnings (hours x rate in force, differentials, non-discretionary
  stipends) divided by its hours: the FLSA weighted average when several rates apply. The
  overtime premium is (multiplier - 1) x regular rate x overtime hours, on top of straight time.
- Exempt employees: annual salary / periods per year, whatever the hours, accrued day by day so a
  raise in mid-period is prorated. Effective hourly = pay / hours worked.
- Contractors: hours x rate, no overtime, no differentials, plus stipends.
- On call (29 CFR 785.17): when the policy says on-call time is restrictive (the worker cannot
  use it for their own purposes), a published on-call period's time is hours worked, cut at
  midnights and workweeks like a shift, except the time a logged shift (a call-back) already
  covers: nothing is counted twice. Otherwise each period earns the policy's on-call stipend,
  which, like shift stipends, belongs to the week the period starts in and enters the regular
  rate. Call-backs are shifts: hours worked in both modes.
- Arithmetic is exact (fractions) until a statement line is rounded half-up to the cent, once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction  # noqa: F401 - re-exported for callers
from zoneinfo import ZoneInfo

CLASSIFICATIONS = ("employee_nonexempt", "employee_exempt", "contractor")
CENT = Decimal("0.01")
ZERO = Fraction(0)


class PayRuleError(ValueError):
    """Input the arithmetic cannot price (e.g. a shift worked with no rate in force)."""


@dataclass(frozen=True)
class WorkedShift:
    """An approved shift, as the arithmetic needs it."""

    id: int
    start: datetime  # aware
    end: datetime  # aware
    break_minutes: int = 0
    shift_type: str = "street_outreach"
    call_back: bool = False


@dataclass(frozen=True)
class OnCall:
    """A published on-call period, as the arithmetic needs it.

    ``busy``: the spans of the worker's logged shifts inside it beyond those being priced (e.g.
    paid, or waiting for approval), each ending ``break`` earlier: they are never also on-call
    hours.
    """

    id: int
    start: datetime  # aware
    end: datetime  # aware
    busy: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class Rate:
    """A pay rate in force from a date until the next one."""

    effective_from: date
    classification: str
    hourly: Decimal | None = None
    annual_salary: Decimal | None = None


@dataclass(frozen=True)
class Differential:
    """Extra pay per hour worked inside a daily local time window (22:00-06:00 crosses midnight)."""

    name: str
    start: time
    end: time
    per_hour: Decimal


@dataclass(frozen=True)
class Policy:
    """An organisation's pay policy."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/Chicago"))
    workweek_start: int = 6  # weekday(): 0 Monday ... 6 Sunday
    period_days: int = 14
    overtime_threshold: Decimal = Decimal(40)
    overtime_multiplier: Decimal = Decimal("1.5")
    differentials: tuple[Differential, ...] = ()
    stipends: tuple[tuple[str, Decimal], ...] = ()  # (shift type, amount per shift)
    on_call_restrictive: bool = False  # on-call time is hours worked (29 CFR 785.17)
    on_call_stipend: Decimal | None = None  # per on-call period, when not restrictive

    @property
    def periods_per_year(self) -> Fraction:
        return Fraction(364, self.period_days)

    def stipend_for(self, shift_type: str) -> Fraction:
        return sum((Fraction(a) for t, a in self.stipends if t == shift_type), ZERO)


@dataclass(frozen=True)
class Segment:
    """Part of a shift inside one local day (and so inside one workweek)."""

    shift_id: int
    day: date
    week: date  # first local day of the workweek
    hours: Fraction  # paid hours, break removed
    differential_hours: Fraction  # paid hours inside any differential window
    differential_pay: Fraction  # per-hour differential amounts times those hours
    on_call: bool = False  # restrictive on-call time (shift_id is then the period's id)


def cents(value: Fraction | Decimal | int) -> Decimal:
    """Round half-up to the cent."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def hours2(value: Fraction) -> Decimal:
    """Hours shown with two decimals."""
    return cents(value)


def week_start(day: date, workweek_start: int) -> date:
    """The first day of the workweek holding ``day``."""
    return day - timedelta(days=(day.weekday() - workweek_start) % 7)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _elapsed_hours(start: datetime, end: datetime) -> Fraction:
    return Fraction(int((end - start).total_seconds()), 3600)


def _window_overlap(start: datetime, end: datetime, diff: Differential, zone: ZoneInfo) -> Fraction:
    """Elapsed hours of [start, end) inside the differential's daily window (local wall clock)."""
    total = ZERO
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        w_start = datetime.combine(day, diff.start, tzinfo=zone)
        w_end_day = day + timedelta(days=1) if diff.end <= diff.start else day
        w_end = datetime.combine(w_end_day, diff.end, tzinfo=zone)
        lo, hi = max(start, w_start), min(end, w_end)
        if hi > lo:
            total += _elapsed_hours(lo, hi)
        day += timedelta(days=1)
    return total


def segments(shift: WorkedShift, policy: Policy) -> list[Segment]:
    """Cut a shift at local midnights; remove its break in proportion to elapsed time."""
    zone = policy.zone
    if shift.end <= shift.start:
        raise PayRuleError(f"shift {shift.id} ends before it starts")
    elapsed = _elapsed_hours(shift.start, shift.end)
    worked = elapsed - Fraction(shift.break_minutes, 60)
    if worked < 0:
        raise PayRuleError(f"shift {shift.id} has a break longer than itself")
    paid_share = worked / elapsed
    out: list[Segment] = []
    cursor = shift.start
    while cursor < shift.end:
        day = cursor.astimezone(zone).date()
        next_midnight = _local_midnight(day + timedelta(days=1), zone)
        piece_end = min(shift.end, next_midnight)
        hours = _elapsed_hours(cursor, piece_end) * paid_share
        diff_hours = ZERO
        diff_pay = ZERO
        for diff in policy.differentials:
            inside = _window_overlap(cursor, piece_end, diff, zone) * paid_share
            diff_hours = max(diff_hours, inside)
            diff_pay += inside * Fraction(diff.per_hour)
        out.append(
            Segment(
                shift_id=shift.id,
                day=day,
                week=week_start(day, policy.workweek_start),
                hours=hours,
                differential_hours=diff_hours,
                differential_pay=diff_pay,
            )
        )
        cursor = piece_end
    return out


def rate_on(rates: Sequence[Rate], day: date) -> Rate | None:
    """The rate in force on a date: the latest that took effect on or before it."""
    current = None
    for rate in sorted(rates, key=lambda r: r.effective_from):
        if rate.effective_from <= day:
            current = rate
    return current


@dataclass
class Week:
    """One workweek of a statement (exact values; rounded only for display)."""

    start: date
    hours: Fraction = ZERO
    regular_hours: Fraction = ZERO
    overtime_hours: Fraction = ZERO
    differential_hours: Fraction = ZERO
    straight_pay: Fraction = ZERO  # hours x rates
    differential_pay: Fraction = ZERO
    stipends: Fraction = ZERO
    regular_rate: Fraction = ZERO
    overtime_premium: Fraction = ZERO
    shift_ids: list[int] = field(default_factory=list)
    on_call_hours: Fraction = ZERO  # restrictive on-call hours (in ``hours`` too)
    on_call_ids: list[int] = field(default_factory=list)

    @property
    def gross(self) -> Fraction:
        return self.straight_pay + self.differential_pay + self.stipends + self.overtime_premium


@dataclass
class Statement:
    """A worker's gross pay for a period: exact weeks and cent-rounded statement lines."""

    classification: str
    weeks: list[Week]
    hours: Fraction
    salary: Fraction = ZERO

    @property
    def regular_hours(self) -> Decimal:
        return hours2(sum((w.regular_hours for w in self.weeks), ZERO))

    @property
    def overtime_hours(self) -> Decimal:
        return hours2(sum((w.overtime_hours for w in self.weeks), ZERO))

    @property
    def differential_hours(self) -> Decimal:
        return hours2(sum((w.differential_hours for w in self.weeks), ZERO))

    @property
    def lines(self) -> dict[str, Decimal]:
        """Statement lines, each rounded half-up to the cent once."""
        return {
            "regular_pay": cents(sum((w.straight_pay for w in self.weeks), ZERO) + self.salary),
            "differential_pay": cents(sum((w.differential_pay for w in self.weeks), ZERO)),
            "stipends": cents(sum((w.stipends for w in self.weeks), ZERO)),
            "overtime_premium": cents(sum((w.overtime_premium for w in self.weeks), ZERO)),
        }

    @property
    def gross(self) -> Decimal:
        return sum(self.lines.values(), Decimal("0.00"))

    @property
    def effective_hourly(self) -> Decimal | None:
        return cents(Fraction(self.gross) / self.hours) if self.hours else None


def on_call_free(period: OnCall, shifts: Iterable[WorkedShift]) -> list[tuple[datetime, datetime]]:
    """The spans of an on-call period no logged shift covers: its restrictive hours worked.

    A shift covers its span less its unpaid break (taken, for this purpose, at its end), so a
    restrictive period's time plus its call-backs' paid hours is its elapsed time, exactly.
    """
    covers = [
        (s.start, s.end - timedelta(minutes=s.break_minutes))
        for s in shifts
        if s.start < period.end and s.end > period.start
    ]
    covers += [(lo, hi) for lo, hi in period.busy if lo < period.end and hi > period.start]
    out: list[tuple[datetime, datetime]] = []
    cursor = period.start
    for lo, hi in sorted(covers):
        if lo > cursor:
            out.append((cursor, min(lo, period.end)))
        cursor = max(cursor, hi)
        if cursor >= period.end:
            break
    if cursor < period.end:
        out.append((cursor, period.end))
    return [(a, b) for a, b in out if b > a]


def on_call_segments(
    period: OnCall, shifts: Iterable[WorkedShift], policy: Policy
) -> list[Segment]:
    """A restrictive period's hours worked, cut at local midnights like a shift's."""
    out: list[Segment] = []
    for lo, hi in on_call_free(period, shifts):
        for seg in segments(WorkedShift(period.id, lo, hi), policy):
            out.append(replace(seg, on_call=True))
    return out


def statement(
    shifts: Iterable[WorkedShift],
    rates: Sequence[Rate],
    policy: Policy,
    period_start: date | None = None,
    period_end: date | None = None,
    engaged: Callable[[date], bool] | None = None,
    on_call: Iterable[OnCall] = (),
) -> Statement:
    """Gross pay for a set of approved shifts and published on-call periods.

    ``period_start``/``period_end`` (end exclusive) are needed for exempt staff only: their salary
    accrues per day of the period whatever the hours, on the days ``engaged(day)`` allows (every
    day when not given): nobody is salaried after their last day or before their first.
    """
    shifts = list(shifts)
    on_calls = list(on_call)
    by_week: dict[date, Week] = {}
    per_shift_type: dict[int, str] = {}
    pieces: list[tuple[Segment, Rate]] = []
    for shift in shifts:
        per_shift_type[shift.id] = shift.shift_type
        for seg in segments(shift, policy):
            rate = rate_on(rates, seg.day)
            if rate is None:
                raise PayRuleError(f"no pay rate in force on {seg.day:%Y-%m-%d} (shift {shift.id})")
            pieces.append((seg, rate))
    on_call_weeks: dict[int, date] = {}
    for period in on_calls:
        first_day = period.start.astimezone(policy.zone).date()
        if rate_on(rates, first_day) is None:
            raise PayRuleError(
                f"no pay rate in force on {first_day:%Y-%m-%d} (on-call period {period.id})"
            )
        on_call_weeks[period.id] = week_start(first_day, policy.workweek_start)
        if policy.on_call_restrictive:
            for seg in on_call_segments(period, shifts, policy):
                rate = rate_on(rates, seg.day)
                if rate is None:
                    raise PayRuleError(
                        f"no pay rate in force on {seg.day:%Y-%m-%d} (on-call period {period.id})"
                    )
                pieces.append((seg, rate))

    classification = _classification(rates, pieces, period_end)
    for seg, rate in pieces:
        week = by_week.setdefault(seg.week, Week(start=seg.week))
        week.hours += seg.hours
        if seg.on_call:
            week.on_call_hours += seg.hours
            if seg.shift_id not in week.on_call_ids:
                week.on_call_ids.append(seg.shift_id)
        elif seg.shift_id not in week.shift_ids:
            week.shift_ids.append(seg.shift_id)
        if classification == "employee_exempt":
            continue
        week.straight_pay += seg.hours * Fraction(rate.hourly or 0)
        if classification == "employee_nonexempt":
            week.differential_hours += seg.differential_hours
            week.differential_pay += seg.differential_pay

    # Stipends belong to the week the shift starts in (non-exempt and contractors).
    if classification != "employee_exempt":
        first_week: dict[int, date] = {}
        for seg, _rate in pieces:
            if seg.on_call:
                continue
            first_week.setdefault(seg.shift_id, seg.week)
            first_week[seg.shift_id] = min(first_week[seg.shift_id], seg.week)
        for shift_id, wk in first_week.items():
            by_week[wk].stipends += policy.stipend_for(per_shift_type[shift_id])
    # Not restrictive: each period's stipend, in the week it starts in (listed for everyone).
    for period_id, wk in on_call_weeks.items():
        week = by_week.setdefault(wk, Week(start=wk))
        if period_id not in week.on_call_ids:
            week.on_call_ids.append(period_id)
        if classification != "employee_exempt" and not policy.on_call_restrictive:
            week.stipends += on_call_stipend(policy)

    threshold = Fraction(policy.overtime_threshold)
    for week in by_week.values():
        week.regular_hours = week.hours
        if classification != "employee_nonexempt" or week.hours <= threshold:
            continue
        week.overtime_hours = week.hours - threshold
        week.regular_hours = threshold
        week.regular_rate = (week.straight_pay + week.differential_pay + week.stipends) / week.hours
        week.overtime_premium = (
            (Fraction(policy.overtime_multiplier) - 1) * week.regular_rate * week.overtime_hours
        )

    salary = ZERO
    if classification == "employee_exempt":
        salary = exempt_salary(rates, policy, period_start, period_end, engaged)
    weeks = [by_week[k] for k in sorted(by_week)]
    return Statement(
        classification=classification,
        weeks=weeks,
        hours=sum((w.hours for w in weeks), ZERO),
        salary=salary,
    )


def _classification(rates, pieces, period_end) -> str:
    """The classification that prices the period: the one in force at its end (or last shift)."""
    if period_end is not None:
        rate = rate_on(rates, period_end - timedelta(days=1))
    elif pieces:
        rate = max((r for _s, r in pieces), key=lambda r: r.effective_from)
    else:
        rate = None
    return rate.classification if rate else "employee_nonexempt"


def exempt_salary(
    rates: Sequence[Rate],
    policy: Policy,
    period_start: date | None,
    period_end: date | None,
    engaged: Callable[[date], bool] | None = None,
) -> Fraction:
    """Salary accrued day by day: each day earns annual salary / (periods per year x days), on
    the days the person is engaged (all days when ``engaged`` is not given)."""
    if period_start is None or period_end is None:
        raise PayRuleError("an exempt salary needs the period's dates")
    per_year_days = policy.periods_per_year * policy.period_days
    total = ZERO
    day = period_start
    while day < period_end:
        rate = rate_on(rates, day)
        if engaged is not None and not engaged(day):
            rate = None
        if rate is not None and rate.classification == "employee_exempt" and rate.annual_salary:
            total += Fraction(rate.annual_salary) / per_year_days
        day += timedelta(days=1)
    return total


def on_call_stipend(policy: Policy) -> Fraction:
    """What one on-call period earns when on-call time is not restrictive (zero without one)."""
    if policy.on_call_restrictive or not policy.on_call_stipend:
        return ZERO
    return Fraction(policy.on_call_stipend)


def on_call_breakdown(
    on_call: Iterable[OnCall], shifts: Iterable[WorkedShift], policy: Policy
) -> dict[tuple[int, date], dict]:
    """Per on-call period and workweek: restrictive hours worked, and the stipend (in the week
    the period starts in), for "why is this my pay?"."""
    shifts = list(shifts)
    out: dict[tuple[int, date], dict] = defaultdict(lambda: {"hours": ZERO, "stipend": ZERO})
    for period in on_call:
        first = week_start(period.start.astimezone(policy.zone).date(), policy.workweek_start)
        out[(period.id, first)]["stipend"] = on_call_stipend(policy)
        if policy.on_call_restrictive:
            for seg in on_call_segments(period, shifts, policy):
                out[(period.id, seg.week)]["hours"] += seg.hours
    return dict(out)


def shift_breakdown(shifts: Iterable[WorkedShift], policy: Policy) -> dict[int, dict]:
    """Per shift: paid hours, differential hours and stipend, for "why is this my pay?"."""
    out: dict[int, dict] = defaultdict(
        lambda: {"hours": ZERO, "differential_hours": ZERO, "stipend": ZERO}
    )
    for shift in shifts:
        entry = out[shift.id]
        for seg in segments(shift, policy):
            entry["hours"] += seg.hours
            entry["differential_hours"] += seg.differential_hours
        entry["stipend"] = policy.stipend_for(shift.shift_type)
    return dict(out)


def hours_by_rate(
    shifts: Iterable[WorkedShift],
    rates: Sequence[Rate],
    policy: Policy,
    period_start: date | None = None,
    period_end: date | None = None,
    on_call: Iterable[OnCall] = (),
) -> list[tuple[Rate, Fraction]]:
    """Every rate a statement used, oldest first, with the paid hours priced at each.

    A rate counts when a shift's hours fell on a day it was in force, or (with the period's
    dates) when it was in force on any day of the period: a salary accrues without hours.
    """
    hours: dict[Rate, Fraction] = {}
    if period_start is not None and period_end is not None:
        day = period_start
        while day < period_end:
            rate = rate_on(rates, day)
            if rate is not None:
                hours.setdefault(rate, ZERO)
            day += timedelta(days=1)
    shifts = list(shifts)
    pieces = [seg for shift in shifts for seg in segments(shift, policy)]
    if policy.on_call_restrictive:
        pieces += [seg for p in on_call for seg in on_call_segments(p, shifts, policy)]
    for seg in pieces:
        rate = rate_on(rates, seg.day)
        if rate is None:
            raise PayRuleError(f"no pay rate in force on {seg.day:%Y-%m-%d} (shift {seg.shift_id})")
        hours[rate] = hours.get(rate, ZERO) + seg.hours
    return sorted(hours.items(), key=lambda kv: kv[0].effective_from)


def carried_week_difference(
    carried: Sequence[WorkedShift],
    carried_on_call: Sequence[OnCall],
    worked: Sequence[WorkedShift],
    on_call: Sequence[OnCall],
    rates: Sequence[Rate],
    policy: Policy,
    week: date,
) -> tuple[Fraction, Fraction]:
    """What a statement owes for the first workweek of its period beyond pricing its own work
    there, and for how many overtime hours: overtime is weekly, so hours an earlier statement
    already paid inside that week (a shift, or a restrictive on-call period, that ran on past the
    earlier period's last midnight: ``carried``, ``carried_on_call``) count toward its threshold
    and its regular rate.

    The week priced with everything, less the week as each statement prices it alone. Straight
    time, differentials and stipends are the same either way, so what is left is overtime
    premium, zero when the week stays under the threshold; except that a shift of this period
    logged inside a restrictive on-call period the earlier statement paid covers time that was
    paid as on-call hours, which is taken back here (paid once, as the shift). Exact (the caller
    rounds once).
    """

    def week_of(st: Statement) -> Week:
        return next((w for w in st.weeks if w.start == week), Week(start=week))

    carried, carried_on_call = list(carried), list(carried_on_call)
    worked, on_call = list(worked), list(on_call)
    together = week_of(
        statement(carried + worked, rates, policy, on_call=carried_on_call + on_call)
    )
    before = week_of(statement(carried, rates, policy, on_call=carried_on_call))
    alone = week_of(statement(worked, rates, policy, on_call=on_call))
    return (
        together.gross - before.gross - alone.gross,
        together.overtime_hours - before.overtime_hours - alone.overtime_hours,
    )
