"""The completion rule, pure: no database, no Flask (easy to test exhaustively).

A course is complete when the hours attended reach the course's hours; they may be spread over
several sessions (40 h of foundations over a week), but for a course that is renewed, only hours
within one validity period count together (two 4 h halves of a yearly 8 h course a year and a
half apart do not make one). The day the hours are reached is the completion; it is valid until
that day plus the renewal months (the expiry), or for good when the course is never renewed.
The hours that reached one completion are spent: the next one needs the course's hours again.

Due dates: an expiry, or for a worker who never completed it, their hire date plus the
requirement's "due within N days" (new staff), or none (never done, no deadline).
"""

from __future__ import annotations

import calendar
from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta

DUE_SOON_DAYS = 30

STATUSES = {
    "done": "Done",
    "due_soon": "Due soon",
    "overdue": "Overdue",
    "never_done": "Never done",
}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), on the month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Progress:
    """Where a worker stands on one course."""

    completed_on: date | None  # the latest completion
    expires_on: date | None  # its expiry (None: never expires, or never completed)
    minutes_towards_next: int  # minutes attended since the latest completion, still valid


def progress(
    attended: list[tuple[date, int]],
    required_minutes: int,
    renewal_months: int | None,
    today: date,
) -> Progress:
    """Completions from (day, minutes) attendances up to ``today``; see the module's rule."""
    window: deque[tuple[date, int]] = deque()
    total = 0
    completed_on = None

    def drop_older_than(oldest_valid: date) -> int:
        dropped = 0
        while window and window[0][0] <= oldest_valid:
            dropped += window.popleft()[1]
        return dropped

    for day, minutes in sorted(a for a in attended if a[0] <= today):
        window.append((day, minutes))
        total += minutes
        if renewal_months:
            total -= drop_older_than(add_months(day, -renewal_months))
        if total >= required_minutes:
            completed_on = day
            window.clear()
            total = 0
    if renewal_months:  # hours towards the next one that have since lapsed do not count
        total -= drop_older_than(add_months(today, -renewal_months))
    expires = add_months(completed_on, renewal_months) if completed_on and renewal_months else None
    return Progress(completed_on, expires, total)


@dataclass(frozen=True)
class Standing:
    """A worker's status on one required course on a given day."""

    status: str  # a key of STATUSES
    due_on: date | None  # the day it is (or was) due: expiry, or the new-staff deadline
    progress: Progress

    @property
    def label(self) -> str:
        return STATUSES[self.status]

    @property
    def current(self) -> bool:
        """Whether the worker holds a valid completion today (done, or done and due soon)."""
        p = self.progress
        return p.completed_on is not None and self.status in ("done", "due_soon")


def standing(
    p: Progress, hired_on: date | None, due_within_days: int | None, today: date
) -> Standing:
    """Done, due soon (within 30 days), overdue, or never done, from a worker's progress."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    if p.completed_on is not None:
        if p.expires_on is None or p.expires_on > soon:
            return Standing("done", p.expires_on, p)
        if p.expires_on > today:
            return Standing("due_soon", p.expires_on, p)
        return Standing("overdue", p.expires_on, p)
    if hired_on is not None and due_within_days:
        due = hired_on + timedelta(days=due_within_days)
        if due < today:
            return Standing("overdue", due, p)
        if due <= soon:
            return Standing("due_soon", due, p)
        return Standing("never_done", due, p)
    return Standing("never_done", None, p)
