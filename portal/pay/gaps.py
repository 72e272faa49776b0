"""Fair-pay arithmetic: gaps to a target, compa-ratio, and what closing a gap costs.

Pure functions on Decimal (no database, no Flask). Rounded half-up to the cent where a figure is
shown; a person at or above target has no gap and costs nothing to close.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
WEEKS_PER_YEAR = Decimal(52)
LOOKBACK_WEEKS = 12


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def effective_hourly(
    classification: str,
    hourly_rate: Decimal | None,
    annual_salary: Decimal | None,
    hours_lookback: Decimal,
    weeks: int = LOOKBACK_WEEKS,
) -> Decimal | None:
    """The hourly rate to compare: the rate itself, or for salaried staff the pay they received
    over the look-back weeks divided by the hours they actually worked (None without hours)."""
    if classification != "employee_exempt":
        return hourly_rate
    if not annual_salary or hours_lookback <= 0:
        return None
    pay = annual_salary / WEEKS_PER_YEAR * weeks
    return _cents(pay / hours_lookback)


def annualised_hours(hours_lookback: Decimal, weeks: int = LOOKBACK_WEEKS) -> Decimal:
    """Hours a year at the pace of the look-back weeks."""
    return (hours_lookback * WEEKS_PER_YEAR / weeks).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Gap:
    """How a rate compares with a target."""

    per_hour: Decimal  # dollars an hour below target (0 at or above)
    percent: Decimal  # of the target
    compa_ratio: Decimal  # rate / target
    annual_cost: Decimal  # per_hour x annualised hours

    @property
    def at_or_above(self) -> bool:
        return self.per_hour == 0


def gap(rate: Decimal, target: Decimal, annual_hours: Decimal) -> Gap:
    """The gap between a rate and its target, and the yearly cost of closing it."""
    if target <= 0:
        raise ValueError("a target is a positive hourly figure")
    short = max(Decimal(0), target - rate)
    return Gap(
        per_hour=_cents(short),
        percent=(short / target * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        compa_ratio=(rate / target).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP),
        annual_cost=_cents(short * max(Decimal(0), annual_hours)),
    )


def raise_to(
    rate: Decimal,
    *,
    target: Decimal | None = None,
    percent: Decimal | None = None,
    floor: Decimal | None = None,
) -> Decimal:
    """A what-if's new rate: up to a target, up by a percentage, or up to a floor; never down."""
    new = rate
    if target is not None:
        new = max(new, target)
    if percent is not None:
        new = max(new, _cents(rate * (1 + percent / 100)))
    if floor is not None:
        new = max(new, floor)
    return _cents(new)
