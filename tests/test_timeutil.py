"""Local wall-clock times become the right UTC instants, across midnight and DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.pay.periods import period_containing
from portal.timeutil import NonexistentLocalTime, local_span_to_utc, local_to_utc, month_bounds_utc

CHICAGO = ZoneInfo("America/Chicago")


def span_hours(day, start, end):
    s, e = local_span_to_utc(day, time.fromisoformat(start), time.fromisoformat(end), CHICAGO)
    return (e - s).total_seconds() / 3600


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        (date(2026, 6, 10), "09:00", "17:00", 8),  # ordinary day
        (date(2026, 6, 10), "22:00", "06:00", 8),  # across midnight
        (date(2026, 10, 31), "22:00", "06:00", 9),  # clocks go back at 02:00 on Nov 1 2026
        (date(2026, 3, 7), "22:00", "06:00", 7),  # clocks go forward at 02:00 on Mar 8 2026
        (date(2026, 11, 1), "00:00", "03:00", 4),  # the repeated hour is counted twice
        (date(2026, 6, 10), "18:00", "18:00", 0),  # equal times: refused later, not 24 h
    ],
)
def test_shift_length_is_real_elapsed_time(day, start, end, hours):
    assert span_hours(day, start, end) == hours


def test_local_time_is_stored_as_utc():
    # 09:00 in Chicago in summer (CDT, UTC-5) is 14:00 UTC; in winter (CST, UTC-6) 15:00 UTC.
    assert local_to_utc(date(2026, 7, 1), time(9), CHICAGO) == datetime(2026, 7, 1, 14, tzinfo=UTC)
    assert local_to_utc(date(2026, 1, 5), time(9), CHICAGO) == datetime(2026, 1, 5, 15, tzinfo=UTC)


def test_ambiguous_time_reads_as_first_occurrence():
    # 01:30 happens twice on Nov 1 2026; the first is still daylight time (UTC-5).
    assert local_to_utc(date(2026, 11, 1), time(1, 30), CHICAGO) == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


def test_skipped_time_is_refused():
    with pytest.raises(NonexistentLocalTime, match="02:30"):
        local_to_utc(date(2026, 3, 8), time(2, 30), CHICAGO)


def test_month_bounds_follow_local_midnight():
    start, end = month_bounds_utc(2026, 11, CHICAGO)
    assert start == datetime(2026, 11, 1, 5, tzinfo=UTC)  # still CDT at midnight Nov 1
    assert end == datetime(2026, 12, 1, 6, tzinfo=UTC)  # CST by Dec 1
    start, end = month_bounds_utc(2026, 12, CHICAGO)
    assert end == datetime(2027, 1, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (date(2026, 1, 4), date(2026, 1, 4)),
        (date(2026, 1, 17), date(2026, 1, 4)),
        (date(2026, 1, 18), date(2026, 1, 18)),
        (date(2025, 12, 31), date(2025, 12, 21)),  # before the anchor
        (date(2026, 11, 26), date(2026, 11, 22)),
    ],
)
def test_pay_period_containing(day, start):
    period = period_containing(day, date(2026, 1, 4), 14)
    assert period.start == start
    assert period.end == start + timedelta(days=14)
    assert period.start <= day < period.end
