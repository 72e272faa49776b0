"""Gap and cost arithmetic: worked examples and invariants."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from portal.pay.gaps import annualised_hours, effective_hourly, gap, raise_to

D = Decimal


def test_gap_worked_example():
    # $18.50 against a $24.93 target, 1,560 hours a year (30 h a week):
    # gap 6.43/h = 25.8% of target; compa-ratio 18.50 / 24.93 = 0.742; cost 6.43 x 1,560.
    g = gap(D("18.50"), D("24.93"), D("1560"))
    assert g.per_hour == D("6.43")
    assert g.percent == D("25.8")
    assert g.compa_ratio == D("0.742")
    assert g.annual_cost == D("10030.80")
    assert not g.at_or_above


def test_at_or_above_target_has_no_gap():
    g = gap(D("26.00"), D("24.93"), D("2080"))
    assert (g.per_hour, g.percent, g.annual_cost) == (D("0.00"), D("0.0"), D("0.00"))
    assert g.compa_ratio == D("1.043") and g.at_or_above


def test_salaried_effective_hourly_uses_hours_actually_worked():
    # $46,000 a year: 12 weeks' pay is 46,000 / 52 x 12 = 10,615.38; over 600 h that is 17.69/h.
    assert effective_hourly("employee_exempt", None, D("46000"), D("600")) == D("17.69")
    assert effective_hourly("employee_exempt", None, D("46000"), D("0")) is None
    assert effective_hourly("employee_nonexempt", D("18.50"), None, D("0")) == D("18.50")


def test_annualised_hours():
    assert annualised_hours(D("360")) == D("1560.00")  # 30 h a week


def test_raise_to():
    assert raise_to(D("18.50"), target=D("24.93")) == D("24.93")
    assert raise_to(D("18.50"), percent=D("5")) == D("19.43")  # 19.425 -> half up
    assert raise_to(D("18.50"), floor=D("17.00")) == D("18.50")  # never down
    assert raise_to(D("18.50"), floor=D("20")) == D("20.00")


money = st.decimals(min_value=D("7.25"), max_value=D("80"), places=2)
hours = st.decimals(min_value=D("0"), max_value=D("3000"), places=2)


@given(money, money, money, hours)
def test_raising_a_rate_never_increases_the_cost_to_close_the_gap(rate, extra, target, annual):
    higher = rate + extra
    assert gap(higher, target, annual).annual_cost <= gap(rate, target, annual).annual_cost
    assert gap(higher, target, annual).per_hour <= gap(rate, target, annual).per_hour


@given(money, hours)
def test_a_worker_at_target_has_zero_gap(target, annual):
    g = gap(target, target, annual)
    assert g.per_hour == 0 and g.annual_cost == 0 and g.compa_ratio == 1


@given(money, money, hours)
def test_gap_is_never_negative_and_cost_scales_with_hours(rate, target, annual):
    g = gap(rate, target, annual)
    assert g.per_hour >= 0 and g.annual_cost >= 0
    assert gap(rate, target, annual * 2).annual_cost >= g.annual_cost


@given(money, money)
def test_raising_to_target_closes_the_gap(rate, target):
    assert gap(raise_to(rate, target=target), target, D("2080")).per_hour == 0
