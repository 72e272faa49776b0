"""Time helpers: store UTC, show and enter local time (America/Chicago by default)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """The current instant, aware, in UTC (a callable default for columns)."""
    return datetime.now(UTC)


def local_zone() -> ZoneInfo:
    """The portal's display time zone (setting FAIRSHIFT_TIMEZONE)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """An aware instant shown on the local wall clock."""
    return moment.astimezone(zone or local_zone())


def local_today(zone: ZoneInfo | None = None) -> date:
    """Today's date on the local wall clock."""
    return utcnow().astimezone(zone or local_zone()).date()


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a daylight-saving change (e.g. 02:30 in spring)."""


def local_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    An ambiguous time (the repeated hour in autumn) is read as its first occurrence; a time the
    clocks skip raises NonexistentLocalTime so the form can say so instead of guessing.
    """
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentLocalTime(f"{clock:%H:%M} does not exist on {day:%b %-d, %Y}")
    return instant


def local_span_to_utc(
    day: date, start: time, end: time, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """Start and end instants of a shift entered as date + start time + end time.

    An end time at or before the start time means the shift ends the next day (22:00-06:00).
    Equal times are returned as equal instants so validation can refuse them clearly.
    """
    start_utc = local_to_utc(day, start, zone)
    end_day = day + timedelta(days=1) if end < start else day
    end_utc = local_to_utc(end_day, end, zone)
    return start_utc, end_utc


def month_bounds_utc(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of the first local midnight of a month and of the next month."""
    first = datetime(year, month, 1, tzinfo=zone)
    nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return first.astimezone(UTC), nxt.astimezone(UTC)


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant of local midnight at the start of a date."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
