"""The pay arithmetic: worked examples written out, and invariants checked by hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.pay.rules import (
    Differential,
    PayRuleError,
    Policy,
    Rate,
    WorkedShift,
    cents,
    statement,
    week_start,
)

CHI = ZoneInfo("America/Chicago")
NIGHTS = Differential("Nights", time(22), time(6), Decimal("2.00"))
POLICY = Policy(zone=CHI)  # Sunday workweek, 40 h, 1.5x, no differentials, no stipends
# A fortnight starting Sunday 2026-06-07 (no DST change inside).
P_START, P_END = date(2026, 6, 7), date(2026, 6, 21)


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=CHI).astimezone(UTC)


def shift(n, day, start, hours, break_minutes=0, shift_type="street_outreach"):
    s = at(day, start)
    return WorkedShift(n, s, s + timedelta(hours=hours), break_minutes, shift_type)


def hourly(amount, since=date(2020, 1, 1), classification="employee_nonexempt"):
    return Rate(since, classification, hourly=Decimal(amount))


def days(start: date, count: int):
    return [start + timedelta(days=i) for i in range(count)]


# --- worked examples -----------------------------------------------------------------------


def test_forty_five_hours_at_twenty():
    # 5 x 9 h = 45 h at $20: straight time 45 x 20 = 900.00;
    # overtime premium 0.5 x 20 x 5 = 50.00; gross 950.00.
    shifts = [shift(i, d, "08:00", 9) for i, d in enumerate(days(date(2026, 6, 8), 5))]
    st_ = statement(shifts, [hourly("20")], POLICY)
    assert st_.regular_hours == Decimal("40.00")
    assert st_.overtime_hours == Decimal("5.00")
    assert st_.lines == {
        "regular_pay": Decimal("900.00"),
        "differential_pay": Decimal("0.00"),
        "stipends": Decimal("0.00"),
        "overtime_premium": Decimal("50.00"),
    }
    assert st_.gross == Decimal("950.00")
    assert st_.effective_hourly == Decimal("21.11")  # 950 / 45 = 21.111


def test_no_overtime_at_exactly_forty_hours():
    shifts = [shift(i, d, "08:00", 8) for i, d in enumerate(days(date(2026, 6, 8), 5))]
    st_ = statement(shifts, [hourly("20")], POLICY)
    assert st_.overtime_hours == 0 and st_.gross == Decimal("800.00")


def test_night_differential():
    # 22:00-06:00 is inside the night window for all 8 h: 8 x 20 = 160.00 + 8 x 2 = 16.00.
    policy = Policy(zone=CHI, differentials=(NIGHTS,))
    st_ = statement([shift(1, date(2026, 6, 8), "22:00", 8)], [hourly("20")], policy)
    assert st_.differential_hours == Decimal("8.00")
    assert st_.gross == Decimal("176.00")


def test_differential_enters_the_regular_rate_for_overtime():
    # 5 shifts 14:00-23:00 (9 h, 1 h each in 22:00-06:00) at $18 with +$2 nights.
    # straight 45 x 18 = 810; differential 5 x 1 x 2 = 10; regular rate 820 / 45 = 18.2222...
    # overtime premium 0.5 x 18.2222... x 5 = 45.5555... -> 45.56; gross 810 + 10 + 45.56.
    policy = Policy(zone=CHI, differentials=(NIGHTS,))
    shifts = [shift(i, d, "14:00", 9) for i, d in enumerate(days(date(2026, 6, 8), 5))]
    st_ = statement(shifts, [hourly("18")], policy)
    assert st_.lines["differential_pay"] == Decimal("10.00")
    assert st_.lines["overtime_premium"] == Decimal("45.56")
    assert st_.gross == Decimal("865.56")


def test_stipend_enters_the_regular_rate():
    # 44 h at $20 with one on-call shift (+$40 stipend): straight 880, stipend 40,
    # regular rate 920 / 44 = 20.909...; premium 0.5 x 20.909... x 4 = 41.818... -> 41.82.
    policy = Policy(zone=CHI, stipends=(("on_call", Decimal("40")),))
    shifts = [shift(i, d, "08:00", 11) for i, d in enumerate(days(date(2026, 6, 8), 3))]
    shifts.append(shift(9, date(2026, 6, 11), "08:00", 11, shift_type="on_call"))
    st_ = statement(shifts, [hourly("20")], policy)
    assert st_.lines == {
        "regular_pay": Decimal("880.00"),
        "differential_pay": Decimal("0.00"),
        "stipends": Decimal("40.00"),
        "overtime_premium": Decimal("41.82"),
    }
    assert st_.gross == Decimal("961.82")


def test_raise_in_mid_week_uses_the_weighted_average_regular_rate():
    # $18 until Tuesday, $20 from Wednesday June 10: 2 x 10 h at 18 = 360, 25 h at 20 = 500.
    # regular rate 860 / 45 = 19.111...; premium 0.5 x 19.111... x 5 = 47.777... -> 47.78.
    rates = [hourly("18"), hourly("20", since=date(2026, 6, 10))]
    shifts = [
        shift(1, date(2026, 6, 8), "08:00", 10),
        shift(2, date(2026, 6, 9), "08:00", 10),
        shift(3, date(2026, 6, 10), "08:00", 10),
        shift(4, date(2026, 6, 11), "08:00", 10),
        shift(5, date(2026, 6, 12), "08:00", 5),
    ]
    st_ = statement(shifts, rates, POLICY)
    assert st_.lines["regular_pay"] == Decimal("860.00")
    assert st_.lines["overtime_premium"] == Decimal("47.78")
    assert st_.gross == Decimal("907.78")


def test_shift_across_the_workweek_boundary_is_split_there():
    # Week 1 (from Sun June 7): 36 h Mon-Fri, then Sat 20:00 - Sun 04:00. The 4 h before
    # Sunday midnight make 40 h (no overtime); the 4 h after start the next week.
    shifts = [shift(i, d, "08:00", 9) for i, d in enumerate(days(date(2026, 6, 8), 4))]
    shifts.append(shift(9, date(2026, 6, 13), "20:00", 8))
    st_ = statement(shifts, [hourly("20")], POLICY)
    assert [w.start for w in st_.weeks] == [date(2026, 6, 7), date(2026, 6, 14)]
    assert [w.hours for w in st_.weeks] == [40, 4]
    assert st_.overtime_hours == 0
    assert st_.gross == Decimal("880.00")


def test_the_night_clocks_go_back_pays_nine_hours():
    # 22:00 Oct 31 to 06:00 Nov 1 2026 is 9 real hours: 9 x 20 = 180.00.
    st_ = statement([shift(1, date(2026, 10, 31), "22:00", 9)], [hourly("20")], POLICY)
    assert st_.hours == 9
    assert st_.gross == Decimal("180.00")


def test_break_is_unpaid():
    st_ = statement(
        [shift(1, date(2026, 6, 8), "08:00", 9, break_minutes=60)], [hourly("20")], POLICY
    )
    assert st_.hours == 8 and st_.gross == Decimal("160.00")


def test_exempt_salary_whatever_the_hours():
    # $52,000 a year, 26 periods: 2,000.00 per period; 50 h worked -> effective 40.00/h.
    rates = [Rate(date(2020, 1, 1), "employee_exempt", annual_salary=Decimal("52000"))]
    shifts = [shift(i, d, "08:00", 10) for i, d in enumerate(days(date(2026, 6, 8), 5))]
    st_ = statement(shifts, rates, POLICY, P_START, P_END)
    assert st_.overtime_hours == 0
    assert st_.gross == Decimal("2000.00")
    assert st_.effective_hourly == Decimal("40.00")
    assert statement([], rates, POLICY, P_START, P_END).gross == Decimal("2000.00")


def test_exempt_raise_in_mid_period_is_prorated_by_day():
    # 7 days at 52,000 / 364 a day = 1,000.00, 7 days at 62,400 / 364 = 1,200.00.
    rates = [
        Rate(date(2020, 1, 1), "employee_exempt", annual_salary=Decimal("52000")),
        Rate(date(2026, 6, 14), "employee_exempt", annual_salary=Decimal("62400")),
    ]
    assert statement([], rates, POLICY, P_START, P_END).gross == Decimal("2200.00")


def test_exempt_salary_stops_after_the_last_day_and_starts_on_the_first():
    # Engaged for the period's first 4 days only: 4 x 52,000 / 364 = 571.43 (rounded once);
    # hired on its 11th day: 4 days as well; never engaged in it: nothing.
    rates = [Rate(date(2020, 1, 1), "employee_exempt", annual_salary=Decimal("52000"))]
    left = P_START + timedelta(days=3)
    hired = P_START + timedelta(days=10)
    assert statement([], rates, POLICY, P_START, P_END, lambda d: d <= left).gross == Decimal(
        "571.43"
    )
    assert statement([], rates, POLICY, P_START, P_END, lambda d: d >= hired).gross == Decimal(
        "571.43"
    )
    assert statement([], rates, POLICY, P_START, P_END, lambda d: False).gross == 0


def test_contractor_gets_no_overtime_but_stipends():
    # 45 h at $25 = 1,125.00 and one on-call stipend of 40.00; no overtime, no differential.
    policy = Policy(zone=CHI, differentials=(NIGHTS,), stipends=(("on_call", Decimal("40")),))
    shifts = [shift(i, d, "14:00", 9) for i, d in enumerate(days(date(2026, 6, 8), 4))]
    shifts.append(shift(9, date(2026, 6, 12), "14:00", 9, shift_type="on_call"))
    st_ = statement(shifts, [hourly("25", classification="contractor")], policy)
    assert st_.overtime_hours == 0
    assert st_.lines["differential_pay"] == 0
    assert st_.gross == Decimal("1165.00")


def test_rounding_is_half_up_once_per_line():
    # 20 minutes at $10.00 = 3.3333... -> 3.33; 1 h 3 min at $15.50 = 16.275 -> 16.28 (half up).
    assert statement(
        [shift(1, date(2026, 6, 8), "08:00", 1 / 3)], [hourly("10")], POLICY
    ).gross == Decimal("3.33")
    assert statement(
        [shift(1, date(2026, 6, 8), "08:00", 1.05)], [hourly("15.50")], POLICY
    ).gross == Decimal("16.28")
    assert cents(Decimal("0.005")) == Decimal("0.01")


def test_a_shift_before_any_rate_cannot_be_priced():
    with pytest.raises(PayRuleError, match="no pay rate in force on 2026-06-08"):
        statement(
            [shift(1, date(2026, 6, 8), "08:00", 8)], [hourly("20", since=date(2026, 7, 1))], POLICY
        )


def test_monday_workweek():
    assert week_start(date(2026, 6, 7), 0) == date(2026, 6, 1)  # Sunday -> previous Monday
    assert week_start(date(2026, 6, 7), 6) == date(2026, 6, 7)


# --- invariants ----------------------------------------------------------------------------

quarter_hours = st.integers(min_value=0, max_value=14 * 24 * 4 - 1)
rates_st = st.decimals(min_value=Decimal("7.25"), max_value=Decimal("80"), places=2)


@st.composite
def shift_lists(draw, max_shifts=12):
    """Shifts inside a fortnight: starts on a quarter hour, 15 min to 12 h long."""
    count = draw(st.integers(min_value=0, max_value=max_shifts))
    out = []
    for n in range(count):
        start = datetime(2026, 6, 7, tzinfo=CHI) + timedelta(minutes=15 * draw(quarter_hours))
        length = timedelta(minutes=15 * draw(st.integers(min_value=1, max_value=48)))
        kind = draw(st.sampled_from(["street_outreach", "on_call", "training"]))
        out.append(
            WorkedShift(n + 1, start.astimezone(UTC), (start + length).astimezone(UTC), 0, kind)
        )
    return out


policies = st.sampled_from(
    [
        POLICY,
        Policy(zone=CHI, differentials=(NIGHTS,), stipends=(("on_call", Decimal("40")),)),
        Policy(zone=CHI, workweek_start=0, overtime_multiplier=Decimal("2")),
    ]
)
classes = st.sampled_from(["employee_nonexempt", "contractor"])


@settings(max_examples=150, deadline=None)
@given(shift_lists(), rates_st, policies, classes, st.data())
def test_splitting_a_shift_in_two_changes_nothing(shifts, rate, policy, cls, data):
    if not shifts:
        return
    target = data.draw(st.sampled_from(shifts))
    length = int((target.end - target.start).total_seconds() // 60)
    if length < 30:
        return
    cut = target.start + timedelta(minutes=15 * data.draw(st.integers(1, length // 15 - 1)))
    if policy.stipends:  # a stipend is per shift: split only shifts that carry none
        target_type = "street_outreach"
    else:
        target_type = target.shift_type
    first = WorkedShift(target.id, target.start, cut, 0, target_type)
    second = WorkedShift(10_000, cut, target.end, 0, "street_outreach")
    rest = [s for s in shifts if s is not target]
    whole = WorkedShift(target.id, target.start, target.end, 0, target_type)
    rates = [Rate(date(2020, 1, 1), cls, hourly=rate)]
    assert (
        statement(rest + [whole], rates, policy).gross
        == statement(rest + [first, second], rates, policy).gross
    )


@settings(max_examples=150, deadline=None)
@given(shift_lists(), rates_st, policies, classes, st.randoms())
def test_order_of_shifts_changes_nothing(shifts, rate, policy, cls, rnd):
    rates = [Rate(date(2020, 1, 1), cls, hourly=rate)]
    shuffled = list(shifts)
    rnd.shuffle(shuffled)
    assert statement(shifts, rates, policy).lines == statement(shuffled, rates, policy).lines


@settings(max_examples=150, deadline=None)
@given(shift_lists(), rates_st, policies, classes)
def test_pay_never_falls_below_hours_times_base_rate(shifts, rate, policy, cls):
    st_ = statement(shifts, [Rate(date(2020, 1, 1), cls, hourly=rate)], policy)
    hours = sum((s.end - s.start).total_seconds() for s in shifts) / 3600
    assert st_.gross >= cents(Decimal(str(hours)) * rate)


@settings(max_examples=150, deadline=None)
@given(shift_lists(max_shifts=5), rates_st, policies)
def test_no_overtime_at_or_under_the_threshold(shifts, rate, policy):
    st_ = statement(shifts, [hourly(rate)], policy)
    for week in st_.weeks:
        if week.hours <= 40:
            assert week.overtime_hours == 0 and week.overtime_premium == 0
    if all(w.hours <= 40 for w in st_.weeks):
        assert st_.lines["overtime_premium"] == 0


@settings(max_examples=150, deadline=None)
@given(shift_lists(), rates_st, policies, classes, st.data())
def test_adding_an_hour_never_lowers_pay(shifts, rate, policy, cls, data):
    rates = [Rate(date(2020, 1, 1), cls, hourly=rate)]
    before = statement(shifts, rates, policy).gross
    start = datetime(2026, 6, 7, tzinfo=CHI) + timedelta(minutes=15 * data.draw(quarter_hours))
    extra = WorkedShift(20_000, start.astimezone(UTC), (start + timedelta(hours=1)).astimezone(UTC))
    assert statement(shifts + [extra], rates, policy).gross >= before
