"""Wellbeing aggregates for leaders and funders, suppressed per SPEC §5 and issue 16.

Figures are published only for whole calendar quarters that have ended, and always from one
tree per funder: the funder's providers together, each provider, each provider's sites (a
worker's home site). Every view (a leader's page with or without a site filter, a funder's page,
their CSVs, report and API) shows nodes of that one tree, with one decision on what is hidden
(``suppress_tree``), so no two views can be subtracted to recover a figure either hides: the
date range cannot be moved a day (quarters are whole), a site filter shows the site's line of the
provider's table, and a provider's total is the same on the leader's page and in the funder's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.models import (
    Booking,
    CheckIn,
    CounselingSlot,
    Exposure,
    ShiftDayTotal,
    SupportRequest,
    User,
    UserRole,
)
from portal.models.wellbeing import CRITICAL_SEVERITY
from portal.stats.suppression import Cell, suppress_tree
from portal.timeutil import local_midnight_utc, local_zone

METRICS = (
    "exposures", "exposures_per_100h", "critical_incidents", "who5_mean", "who5_low_share",
    "support_requests", "ack_median_hours", "counselling_sessions",
)  # fmt: skip
ROOT = "all"


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter of local dates, [start, end)."""

    label: str  # "2026 Q1"
    start: date
    end: date


def quarter_of(day: date) -> Quarter:
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return Quarter(f"{day.year} Q{(first_month - 1) // 3 + 1}", start, end)


def published_quarters(start: date, end: date, today: date) -> list[Quarter]:
    """The quarters [start, end) touches, whole, that have ended before ``today``."""
    quarters = []
    q = quarter_of(start)
    while q.start < end and q.end <= today:
        quarters.append(q)
        q = quarter_of(q.end)
    return quarters


def site_node(organisation_id: int, site_id: int | None):
    return ("site", organisation_id, site_id)


def org_node(organisation_id: int):
    return ("org", organisation_id)


def wellbeing_tree(org_ids: list[int], quarters: list[Quarter]) -> dict[str, dict]:
    """For each quarter (by label): {node: {metric: published value or None}} over the tree
    ROOT -> ("org", id) -> ("site", id, site id) of the workers of ``org_ids``. Ten queries
    whatever the data or the number of quarters (none without a quarter)."""
    if not quarters:
        return {}
    minimum = current_app.config["SUPPRESSION_MIN"]
    zone = local_zone()
    bounds = [local_midnight_utc(q.end, zone) for q in quarters]
    lo, hi = local_midnight_utc(quarters[0].start, zone), bounds[-1]
    where = [User.organisation_id.in_(org_ids)]

    def bucket(moment):
        return sa.case(*[(moment < b, i) for i, b in enumerate(bounds)],
                       else_=len(bounds) - 1).label("bucket")  # fmt: skip

    def grouped(columns, worker_col, moment, *extra, joins=()):
        b = bucket(moment)
        query = sa.select(b, User.organisation_id, User.site_id, *columns).join(
            User, User.id == worker_col
        )
        for target, on in joins:
            query = query.join(target, on)
        query = query.where(*where, moment >= lo, moment < hi, *extra).group_by(
            b, User.organisation_id, User.site_id
        )
        return {(int(q), o, s): tuple(rest) for q, o, s, *rest in db.session.execute(query)}

    critical = sa.or_(Exposure.severity >= CRITICAL_SEVERITY,
                      Exposure.category == "threatened_assaulted")  # fmt: skip
    exposures = grouped(
        [sa.func.count(Exposure.id), sa.func.count(sa.distinct(Exposure.worker_id)),
         sa.func.sum(sa.case((critical, 1), else_=0)),
         sa.func.count(sa.distinct(sa.case((critical, Exposure.worker_id))))],
        Exposure.worker_id, Exposure.occurred_at,
    )  # fmt: skip
    # approved hours from the daily totals (by the shift's site, which is the worker's own but
    # for shifts logged elsewhere): a year of a national programme is a million shifts
    day_bucket = sa.case(*[(ShiftDayTotal.day < q.end, i) for i, q in enumerate(quarters)],
                         else_=len(quarters) - 1).label("bucket")  # fmt: skip
    hours = {
        (int(q), o, s): (minutes,)
        for q, o, s, minutes in db.session.execute(
            sa.select(day_bucket, ShiftDayTotal.organisation_id, ShiftDayTotal.site_id,
                      sa.func.sum(ShiftDayTotal.worked_minutes))
            .where(ShiftDayTotal.organisation_id.in_(org_ids),
                   ShiftDayTotal.day >= quarters[0].start, ShiftDayTotal.day < quarters[-1].end)
            .group_by(day_bucket, ShiftDayTotal.organisation_id, ShiftDayTotal.site_id)
        )
    }  # fmt: skip
    who5 = grouped(
        [sa.func.sum(CheckIn.score), sa.func.sum(sa.case((CheckIn.score <= 50, 1), else_=0)),
         sa.func.count(CheckIn.id), sa.func.count(sa.distinct(CheckIn.worker_id))],
        CheckIn.worker_id, CheckIn.created_at,
    )  # fmt: skip
    support = grouped(
        [sa.func.count(SupportRequest.id), sa.func.count(sa.distinct(SupportRequest.worker_id))],
        SupportRequest.worker_id, SupportRequest.created_at,
    )  # fmt: skip
    sessions = grouped(
        [sa.func.count(Booking.id), sa.func.count(sa.distinct(Booking.worker_id))],
        Booking.worker_id, CounselingSlot.start_at, Booking.status.in_(("booked", "completed")),
        joins=[(CounselingSlot, CounselingSlot.id == Booking.slot_id)],
    )  # fmt: skip
    # every site with workers is a line, with data or not: a site whose workers logged nothing,
    # hidden beside a published one, would show that one as the provider's whole (and its
    # people as having nothing to report)
    sites = {tuple(row) for row in db.session.execute(
        sa.select(User.organisation_id, User.site_id).distinct()
        .join(UserRole, UserRole.user_id == User.id)
        .where(*where, UserRole.role == "worker"))}  # fmt: skip
    sites |= {(o, s) for _q, o, s in (*exposures, *hours, *who5, *support, *sessions)}
    medians = _median_acknowledgement(where, lo, hi, bucket)

    tree = {}
    for i, quarter in enumerate(quarters):
        sums: dict = {}
        for o in org_ids:
            sums.setdefault(org_node(o), [0] * 13)
        for o, s in sites:
            line = [*exposures.get((i, o, s), (0, 0, 0, 0)), (hours.get((i, o, s)) or (0,))[0],
                    *who5.get((i, o, s), (0, 0, 0, 0)), *support.get((i, o, s), (0, 0)),
                    *sessions.get((i, o, s), (0, 0))]  # fmt: skip
            line = [v or 0 for v in line]
            sums[site_node(o, s)] = line
            for up in (org_node(o), ROOT):
                sums[up] = [a + b for a, b in zip(sums.get(up, [0] * 13), line, strict=True)]
        sums.setdefault(ROOT, [0] * 13)
        parent = {node: (ROOT if node[0] == "org" else org_node(node[1]))
                  for node in sums if node != ROOT}  # fmt: skip
        parent[ROOT] = None
        cells = {node: _cells(line, medians.get((i, *node[1:]) if node != ROOT else (i,)))
                 for node, line in sums.items()}  # fmt: skip
        published = {m: suppress_tree({n: c[m] for n, c in cells.items()}, parent, minimum)
                     for m in METRICS}  # fmt: skip
        tree[quarter.label] = {n: {m: published[m][n] for m in METRICS} for n in cells}
    return tree


def _seconds_between(later, earlier):
    """Seconds from ``earlier`` to ``later`` as SQL, on SQLite and on PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
    return sa.extract("epoch", later - earlier)


def _cells(line, median) -> dict[str, Cell]:
    """One node's cells from its sums: exposures (n, people, critical, critical people), minutes
    worked, WHO-5 (sum, at or below 50, count, people), support (n, people), sessions (n,
    people); ``median`` is (seconds, people) or None."""
    n, people, crit, crit_people, minutes, who5_sum, who5_low, who5_count, who5_people, \
        support, support_people, sessions, session_people = line
    h = minutes / 60
    seconds, ack_people = median or (None, 0)
    return {
        "exposures": Cell(n, people),
        "exposures_per_100h": Cell(round(n / h * 100, 2) if h else 0, people),
        "critical_incidents": Cell(crit, crit_people),
        "who5_mean": Cell(round(who5_sum / who5_count, 1) if who5_count else 0, who5_people),
        "who5_low_share": Cell(
            round(who5_low / who5_count * 100, 1) if who5_count else 0, who5_people
        ),
        "support_requests": Cell(support, support_people),
        "ack_median_hours": Cell(
            round(seconds / 3600, 1) if seconds is not None else 0, ack_people
        ),
        "counselling_sessions": Cell(sessions, session_people),
    }


def _median_acknowledgement(where, lo, hi, bucket) -> dict[tuple, tuple]:
    """Median seconds from a support request to its acknowledgement, and the people behind it:
    keyed (quarter,), (quarter, organisation) and (quarter, organisation, site); three queries,
    the median found with window functions."""
    delta = _seconds_between(SupportRequest.acknowledged_at, SupportRequest.created_at)
    q = bucket(SupportRequest.created_at)
    levels = [(), (User.organisation_id,), (User.organisation_id, User.site_id)]
    found: dict[tuple, tuple] = {}
    for level in levels:
        keys = [q, *level]
        ranked = (
            sa.select(
                *(k.label(f"k{i}") for i, k in enumerate(keys)),
                SupportRequest.worker_id.label("worker"),
                delta.label("delta"),
                sa.func.row_number().over(partition_by=keys, order_by=delta).label("rn"),
                sa.func.count().over(partition_by=keys).label("n"),
            )
            .join(User, User.id == SupportRequest.worker_id)
            .where(*where, SupportRequest.created_at >= lo, SupportRequest.created_at < hi,
                   SupportRequest.acknowledged_at.is_not(None))
            .subquery()
        )  # fmt: skip
        middle = sa.and_(ranked.c.rn >= (ranked.c.n + 1) // 2, ranked.c.rn <= (ranked.c.n + 2) // 2)
        columns = [ranked.c[f"k{i}"] for i in range(len(keys))]
        query = sa.select(
            *columns,
            sa.func.avg(sa.case((middle, ranked.c.delta))),
            sa.func.count(sa.distinct(ranked.c.worker)),
        ).group_by(*columns)
        for *key, m, people in db.session.execute(query):
            key[0] = int(key[0])
            found[tuple(key)] = (float(m) if m is not None else None, people)
    return found
