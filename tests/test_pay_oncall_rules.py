"""On-call pay in the pure rules (29 CFR 785.17): worked examples, then invariants by hypothesis.

Restrictive: on-call time is hours worked, cut at midnights and workweeks, except what a logged
shift (a call-back) covers. Not restrictive: a stipend per period, in the week it starts in,
entering the regular rate like shift stipends; exempt staff get none; contractors get it and no
overtime."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.pay.rules import (
    OnCall,
    Policy,
    Rate,
    WorkedShift,
    on_call_breakdown,
    on_call_free,
    statement,
)
from tests.test_pay_rules import CHI, NIGHTS, P_END, P_START, at, days, hourly, shift

STIPEND = Policy(zone=CHI, on_call_stipend=Decimal("40"))
RESTRICTIVE = Policy(zone=CHI, on_call_restrictive=True)


def on_call(n, day, clock, hours, busy=()):
    s = at(day, clock)
    return OnCall(n, s, s + timedelta(hours=hours), tuple(busy))


def test_stipend_per_period_in_the_week_it_starts_and_in_the_regular_rate():
    # 44 h at $20 and one on-call period Sat 18:00-Sun 06:00 (+$40, week of Jun 7):
    # straight 880, regular rate 920 / 44; premium 0.5 x 20.909... x 4 = 41.82.
    shifts = [shift(i, d, "08:00", 11) for i, d in enumerate(days(date(2026, 6, 8), 4))]
    st_ = statement(
        shifts, [hourly("20")], STIPEND, on_call=[on_call(1, date(2026, 6, 13), "18:00", 12)]
    )
    assert st_.lines["stipends"] == Decimal("40.00")
    assert st_.lines["overtime_premium"] == Decimal("41.82")
    assert st_.hours == 44  # on-call time is not hours worked
    assert [w.on_call_ids for w in st_.weeks] == [[1]]


def test_restrictive_time_is_hours_worked_and_feeds_overtime_across_the_workweek():
    # 36 h Mon-Thu, then on call Sat Jun 13 18:00 - Sun Jun 14 06:00 (restrictive): 6 h fall in
    # the week of Jun 7 (42 h: 2 h overtime), 6 h in the week of Jun 14.
    shifts = [shift(i, d, "08:00", 9) for i, d in enumerate(days(date(2026, 6, 8), 4))]
    st_ = statement(
        shifts, [hourly("20")], RESTRICTIVE, on_call=[on_call(1, date(2026, 6, 13), "18:00", 12)]
    )
    first, second = st_.weeks
    assert (first.hours, first.on_call_hours, first.overtime_hours) == (42, 6, 2)
    assert (second.hours, second.on_call_hours, second.overtime_hours) == (6, 6, 0)
    # 48 h x $20 = 960; premium 0.5 x 20 x 2 = 20
    assert st_.gross == Decimal("980.00")
    assert st_.lines["stipends"] == 0


def test_a_call_back_inside_a_restrictive_period_is_not_counted_twice():
    period = on_call(1, date(2026, 6, 9), "18:00", 12)
    call_back = WorkedShift(9, at(date(2026, 6, 9), "22:00"), at(date(2026, 6, 10), "01:00"),
                            30, "street_outreach", True)  # fmt: skip
    st_ = statement([call_back], [hourly("20")], RESTRICTIVE, on_call=[period])
    # 12 h elapsed: 2.5 h paid as the call-back, 9.5 h as on-call time (its break at its end)
    assert st_.hours == 12 and st_.weeks[0].on_call_hours == Fraction(19, 2)
    assert st_.gross == Decimal("240.00")
    # in stipend mode the call-back is hours worked and the period earns its stipend
    st2 = statement([call_back], [hourly("20")], STIPEND, on_call=[period])
    assert st2.hours == Fraction(5, 2) and st2.gross == Decimal("90.00")


def test_time_already_logged_elsewhere_is_subtracted_too():
    period = on_call(
        1,
        date(2026, 6, 9),
        "18:00",
        12,
        busy=[(at(date(2026, 6, 9), "18:00"), at(date(2026, 6, 9), "20:00"))],
    )
    assert on_call_free(period, []) == [(at(date(2026, 6, 9), "20:00"), period.end)]
    st_ = statement([], [hourly("20")], RESTRICTIVE, P_START, P_END, on_call=[period])
    assert st_.hours == 10


def test_exempt_staff_get_no_stipend_and_contractors_no_overtime():
    exempt = [Rate(date(2020, 1, 1), "employee_exempt", annual_salary=Decimal("52000"))]
    st_ = statement(
        [], exempt, STIPEND, P_START, P_END, on_call=[on_call(1, date(2026, 6, 9), "18:00", 12)]
    )
    assert st_.lines["stipends"] == 0 and st_.gross == Decimal("2000.00")
    contractor = [hourly("20", classification="contractor")]
    shifts = [shift(i, d, "08:00", 10) for i, d in enumerate(days(date(2026, 6, 8), 4))]
    st2 = statement(
        shifts, contractor, RESTRICTIVE, on_call=[on_call(1, date(2026, 6, 12), "18:00", 12)]
    )
    assert st2.hours == 52 and st2.overtime_hours == 0 and st2.gross == Decimal("1040.00")
    st3 = statement(
        shifts, contractor, STIPEND, on_call=[on_call(1, date(2026, 6, 12), "18:00", 12)]
    )
    assert st3.gross == Decimal("840.00")


def test_a_period_without_a_rate_in_force_is_refused():
    import pytest

    from portal.pay.rules import PayRuleError

    with pytest.raises(PayRuleError, match="on-call period 1"):
        statement([], [hourly("20", since=date(2027, 1, 1))], STIPEND,
                  on_call=[on_call(1, date(2026, 6, 9), "18:00", 12)])  # fmt: skip


def test_breakdown_names_each_period_per_week():
    period = on_call(1, date(2026, 6, 13), "18:00", 12)
    rows = on_call_breakdown([period], [], RESTRICTIVE)
    assert rows[(1, date(2026, 6, 7))]["hours"] == 6 and rows[(1, date(2026, 6, 14))]["hours"] == 6
    assert on_call_breakdown([period], [], STIPEND)[(1, date(2026, 6, 7))]["stipend"] == 40


# --- invariants --------------------------------------------------------------------------------

quarter = st.integers(min_value=0, max_value=14 * 24 * 4 - 1)


@st.composite
def worked_and_on_call(draw):
    """Non-overlapping shifts and non-overlapping on-call periods in a fortnight (the services
    refuse overlaps of each kind); a shift may overlap a period (a call-back)."""

    def spans(count, longest):
        taken, out = [], []
        for _ in range(count):
            start = datetime(2026, 6, 7, tzinfo=CHI) + timedelta(minutes=15 * draw(quarter))
            end = start + timedelta(minutes=15 * draw(st.integers(1, longest)))
            if all(end <= a or start >= b for a, b in taken):
                taken.append((start, end))
                out.append((start.astimezone(UTC), end.astimezone(UTC)))
        return out

    shifts = [
        WorkedShift(i + 1, a, b) for i, (a, b) in enumerate(spans(draw(st.integers(0, 8)), 48))
    ]
    periods = [OnCall(100 + i, a, b) for i, (a, b) in enumerate(spans(draw(st.integers(0, 4)), 96))]
    return shifts, periods


def union_hours(spans) -> Fraction:
    total, cursor = Fraction(0), None
    for a, b in sorted(spans):
        if cursor is None or a > cursor:
            total += Fraction(int((b - a).total_seconds()), 3600)
            cursor = b
        elif b > cursor:
            total += Fraction(int((b - cursor).total_seconds()), 3600)
            cursor = b
    return total


policies = st.sampled_from([
    RESTRICTIVE,
    Policy(zone=CHI, on_call_restrictive=True, workweek_start=0, differentials=(NIGHTS,)),
])  # fmt: skip
rates_st = st.decimals(min_value=Decimal("7.25"), max_value=Decimal("80"), places=2)


@settings(max_examples=150, deadline=None)
@given(worked_and_on_call(), policies, st.sampled_from(["employee_nonexempt", "contractor"]))
def test_restrictive_hours_are_the_union_of_shifts_and_on_call_time(data, policy, cls):
    shifts, periods = data
    st_ = statement(shifts, [Rate(date(2020, 1, 1), cls, hourly=Decimal("20"))], policy,
                    on_call=periods)  # fmt: skip
    spans = [(s.start, s.end) for s in shifts] + [(p.start, p.end) for p in periods]
    assert st_.hours == union_hours(spans)
    for week in st_.weeks:
        if cls == "contractor":
            assert week.overtime_hours == 0
        else:
            assert week.overtime_hours == max(Fraction(0), week.hours - 40)


@settings(max_examples=150, deadline=None)
@given(worked_and_on_call(), rates_st, st.sampled_from(["employee_nonexempt", "contractor"]))
def test_on_call_never_lowers_pay_and_stipends_add_exactly(data, rate, cls):
    shifts, periods = data
    rates = [Rate(date(2020, 1, 1), cls, hourly=rate)]
    base = statement(shifts, rates, Policy(zone=CHI))
    with_stipend = statement(shifts, rates, STIPEND, on_call=periods)
    restrictive = statement(shifts, rates, RESTRICTIVE, on_call=periods)
    assert with_stipend.lines["stipends"] == 40 * len(periods)
    assert with_stipend.hours == base.hours
    assert with_stipend.gross >= base.gross + 40 * len(periods)
    assert restrictive.gross >= base.gross


@settings(max_examples=100, deadline=None)
@given(worked_and_on_call(), rates_st, st.randoms())
def test_order_of_on_call_periods_changes_nothing(data, rate, rnd):
    shifts, periods = data
    shuffled = list(periods)
    rnd.shuffle(shuffled)
    for policy in (STIPEND, RESTRICTIVE):
        assert (statement(shifts, [hourly(rate)], policy, on_call=periods).lines
                == statement(shifts, [hourly(rate)], policy, on_call=shuffled).lines)  # fmt: skip
