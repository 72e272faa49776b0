"""Wellbeing aggregates for leaders and funders, suppressed per SPEC §5.

Figures are grouped in SQL by a column of the worker (their home site for a leader, their
organisation for a funder); each worker is in one group, so groups add up to the whole. Every
figure carries the number of distinct people behind it and is published through
portal.stats.suppression: fewer than SUPPRESSION_MIN people, or recoverable by subtraction from
the total, and it is hidden.
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
    Shift,
    Site,
    SupportRequest,
    User,
)
from portal.models.wellbeing import CRITICAL_SEVERITY
from portal.stats.suppression import SUPPRESSED, Cell, publish, suppress
from portal.timeutil import local_midnight_utc, local_zone

METRICS = (
    "exposures", "exposures_per_100h", "critical_incidents", "who5_mean", "who5_low_share",
    "support_requests", "ack_median_hours", "counselling_sessions",
)  # fmt: skip
TOTAL = "All sites"


@dataclass
class WellbeingTable:
    """Published figures by group and for all groups together; None means suppressed."""

    minimum: int
    rows: dict[str, dict[str, object]]
    total: dict[str, object]


def wellbeing_by_site(organisation_id: int, start: date, end: date) -> WellbeingTable:
    """One organisation's figures by its workers' home sites, for [start, end) local dates."""
    sites = dict(
        db.session.execute(
            sa.select(Site.id, Site.name).where(Site.organisation_id == organisation_id)
        ).all()
    )
    return wellbeing_table(User.site_id, [User.organisation_id == organisation_id],
                           lambda sid: sites.get(sid, "No site"), start, end)  # fmt: skip


def _seconds_between(later, earlier):
    """Seconds from ``earlier`` to ``later`` as SQL, on SQLite and on PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
    return sa.extract("epoch", later - earlier)


def wellbeing_table(group, where: list, name, start: date, end: date, groups=(),
                    worked_minutes: dict | None = None) -> WellbeingTable:  # fmt: skip
    """Exposures (and per 100 shift-hours), critical incidents, WHO-5 mean and share at or below
    50, support requests and the median hours to acknowledge them, counselling sessions: by
    ``group`` (a User column), for workers matching ``where``, over [start, end) local dates.
    ``name(key)`` labels a group; ``groups`` are listed even without data. Approved minutes
    worked by group may be passed in ``worked_minutes`` when the caller has summed them already
    (the funder's programme query has). Seven queries whatever the data (six with minutes)."""
    minimum = current_app.config["SUPPRESSION_MIN"]
    zone = local_zone()
    lo, hi = local_midnight_utc(start, zone), local_midnight_utc(end, zone)

    def grouped(columns, worker_col, moment, *extra):
        query = (
            sa.select(group, *columns)
            .join(User, User.id == worker_col)
            .where(*where, moment >= lo, moment < hi, *extra)
            .group_by(group)
        )
        return {key: tuple(rest) for key, *rest in db.session.execute(query)}

    critical = sa.or_(Exposure.severity >= CRITICAL_SEVERITY,
                      Exposure.category == "threatened_assaulted")  # fmt: skip
    exposures = grouped(
        [sa.func.count(Exposure.id), sa.func.count(sa.distinct(Exposure.worker_id)),
         sa.func.sum(sa.case((critical, 1), else_=0)),
         sa.func.count(sa.distinct(sa.case((critical, Exposure.worker_id))))],
        Exposure.worker_id, Exposure.occurred_at,
    )  # fmt: skip
    if worked_minutes is None:
        hours = grouped([sa.func.sum(Shift.worked_minutes)], Shift.worker_id, Shift.start_at,
                        Shift.status == "approved")  # fmt: skip
    else:
        hours = {key: (minutes,) for key, minutes in worked_minutes.items()}
    who5 = grouped(
        [sa.func.sum(CheckIn.score), sa.func.sum(sa.case((CheckIn.score <= 50, 1), else_=0)),
         sa.func.count(CheckIn.id), sa.func.count(sa.distinct(CheckIn.worker_id))],
        CheckIn.worker_id, CheckIn.created_at,
    )  # fmt: skip
    support = grouped(
        [sa.func.count(SupportRequest.id), sa.func.count(sa.distinct(SupportRequest.worker_id))],
        SupportRequest.worker_id, SupportRequest.created_at,
    )  # fmt: skip
    sessions = (
        sa.select(group, sa.func.count(Booking.id), sa.func.count(sa.distinct(Booking.worker_id)))
        .join(User, User.id == Booking.worker_id)
        .join(CounselingSlot, CounselingSlot.id == Booking.slot_id)
        .where(*where, CounselingSlot.start_at >= lo, CounselingSlot.start_at < hi,
               Booking.status.in_(("booked", "completed")))
        .group_by(group)
    )  # fmt: skip
    counselling = {key: (n, people) for key, n, people in db.session.execute(sessions)}
    ack, ack_total = _median_acknowledgement(group, where, lo, hi)

    keys = {*groups, *exposures, *hours, *who5, *support, *counselling, *ack}
    names = {key: name(key) for key in keys}
    cells: dict[tuple[str, str], Cell] = {}
    for key, label in names.items():
        n, people, crit, crit_people = exposures.get(key, (0, 0, 0, 0))
        minutes = (hours.get(key) or (0,))[0] or 0
        total, low, count, wpeople = who5.get(key, (0, 0, 0, 0))
        cells.update(_row(label, n, people, crit or 0, crit_people, minutes, total or 0,
                          low or 0, count, wpeople, support.get(key, (0, 0)),
                          ack.get(key, (None, 0)), counselling.get(key, (0, 0))))  # fmt: skip
    sums = [sum(v[i] or 0 for v in exposures.values()) for i in range(4)]
    minutes = sum((v[0] or 0) for v in hours.values())
    w = [sum(v[i] or 0 for v in who5.values()) for i in range(4)]
    s = tuple(sum(v[i] for v in support.values()) for i in range(2))
    c = tuple(sum(v[i] for v in counselling.values()) for i in range(2))
    total_cells = {
        metric: cell
        for (_label, metric), cell in _row(
            TOTAL, *sums, minutes, *w, s, ack_total, c
        ).items()
    }
    # Metrics of one group do not add up to anything: only columns have totals.
    hidden_totals = {("col", m) for m, cell in total_cells.items() if cell.people < minimum}
    hidden_totals |= {("row", label) for label in names.values()}
    published = suppress(cells, minimum, hidden_totals)
    rows: dict[str, dict[str, object]] = {}
    for (label, metric), value in published.cells.items():
        rows.setdefault(label, {})[metric] = value
    total = {
        m: (SUPPRESSED if ("col", m) in published.hidden_totals else publish(cell, minimum))
        for m, cell in total_cells.items()
    }
    return WellbeingTable(minimum, dict(sorted(rows.items())), total)


def _row(label, n, people, crit, crit_people, minutes, who5_sum, who5_low, who5_count,
         who5_people, support, ack, counselling) -> dict[tuple[str, str], Cell]:  # fmt: skip
    """One line's cells from its raw sums."""
    h = minutes / 60
    median, ack_people = ack
    return {
        (label, "exposures"): Cell(n, people),
        (label, "exposures_per_100h"): Cell(round(n / h * 100, 2) if h else 0, people),
        (label, "critical_incidents"): Cell(crit, crit_people),
        (label, "who5_mean"): Cell(round(who5_sum / who5_count, 1) if who5_count else 0,
                                   who5_people),
        (label, "who5_low_share"): Cell(
            round(who5_low / who5_count * 100, 1) if who5_count else 0, who5_people
        ),
        (label, "support_requests"): Cell(*support),
        (label, "ack_median_hours"): Cell(
            round(median / 3600, 1) if median is not None else 0, ack_people
        ),
        (label, "counselling_sessions"): Cell(*counselling),
    }  # fmt: skip


def _median_acknowledgement(group, where, lo, hi):
    """Median seconds from a support request to its acknowledgement, and the people behind it:
    by group, and over all groups (two queries, the median found with window functions)."""
    delta = _seconds_between(SupportRequest.acknowledged_at, SupportRequest.created_at)

    def medians(partition):
        ranked = (
            sa.select(
                group.label("grp"),
                SupportRequest.worker_id.label("worker"),
                delta.label("delta"),
                sa.func.row_number().over(partition_by=partition, order_by=delta).label("rn"),
                sa.func.count().over(partition_by=partition).label("n"),
            )
            .join(User, User.id == SupportRequest.worker_id)
            .where(*where, SupportRequest.created_at >= lo, SupportRequest.created_at < hi,
                   SupportRequest.acknowledged_at.is_not(None))
            .subquery()
        )  # fmt: skip
        middle = sa.and_(ranked.c.rn >= (ranked.c.n + 1) // 2, ranked.c.rn <= (ranked.c.n + 2) // 2)
        return ranked, sa.func.avg(sa.case((middle, ranked.c.delta))), sa.func.count(
            sa.distinct(ranked.c.worker)
        )

    ranked, median, people = medians(group)
    by_group = {
        key: (float(m) if m is not None else None, p)
        for key, m, p in db.session.execute(
            sa.select(ranked.c.grp, median, people).group_by(ranked.c.grp)
        )
    }
    ranked, median, people = medians(None)
    m, p = db.session.execute(sa.select(median, people)).one()
    return by_group, (float(m) if m is not None else None, p)
