"""Pay-period arithmetic (pure: no database, no Flask)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Period:
    """A pay period of whole local days: ``start`` inclusive, ``end`` exclusive."""

    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def period_containing(day: date, anchor: date, length_days: int) -> Period:
    """The period of ``length_days`` days, counted from ``anchor`` either way, holding ``day``."""
    if length_days < 1:
        raise ValueError("a pay period lasts at least one day")
    offset = (day - anchor).days // length_days
    start = anchor + timedelta(days=offset * length_days)
    return Period(start, start + timedelta(days=length_days))
