"""Wellbeing aggregates for leaders and funders: per site, suppressed per SPEC §5.

Counts are grouped in SQL by the worker's home site (each worker is in one site, so site figures
add up to the organisation's). Every figure carries the number of distinct people behind it and is
published through portal.stats.suppression: fewer than SUPPRESSION_MIN people, or recoverable by
subtraction from the total, and it is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.models import CheckIn, Exposure, Shift, Site, SupportRequest, User
from portal.stats.suppression import SUPPRESSED, Cell, publish, suppress
from portal.timeutil import local_midnight_utc, local_zone

METRICS = ("exposures", "exposures_per_100h", "who5_mean", "who5_low_share", "support_requests")
TOTAL = "All sites"


@dataclass
class WellbeingTable:
    """Published figures by site and for the organisation; None means suppressed."""

    minimum: int
    rows: dict[str, dict[str, object]]
    total: dict[str, object]


def _by_site(query, organisation_id: int, moment, lo, hi):
    return query.join(User, User.id == moment.class_.worker_id).where(
        User.organisation_id == organisation_id, moment >= lo, moment < hi
    )


def wellbeing_by_site(organisation_id: int, start: date, end: date) -> WellbeingTable:
    """Exposures (and per 100 shift-hours), WHO-5 mean and share at or below 50, support
    requests: by home site, for [start, end) local dates. Five queries."""
    minimum = current_app.config["SUPPRESSION_MIN"]
    zone = local_zone()
    lo, hi = local_midnight_utc(start, zone), local_midnight_utc(end, zone)
    sites = dict(
        db.session.execute(
            sa.select(Site.id, Site.name).where(Site.organisation_id == organisation_id)
        ).all()
    )
    exposures = {
        site: (n, people)
        for site, n, people in db.session.execute(
            _by_site(
                sa.select(User.site_id, sa.func.count(Exposure.id),
                          sa.func.count(sa.distinct(Exposure.worker_id))),
                organisation_id, Exposure.occurred_at, lo, hi,
            ).group_by(User.site_id)
        )
    }  # fmt: skip
    hours = {
        site: (minutes or 0) / 60
        for site, minutes in db.session.execute(
            _by_site(sa.select(User.site_id, sa.func.sum(Shift.worked_minutes)),
                     organisation_id, Shift.start_at, lo, hi)
            .where(Shift.status == "approved")
            .group_by(User.site_id)
        )
    }  # fmt: skip
    who5 = {
        site: (total, low, n, people)
        for site, total, low, n, people in db.session.execute(
            _by_site(
                sa.select(
                    User.site_id, sa.func.sum(CheckIn.score),
                    sa.func.sum(sa.case((CheckIn.score <= 50, 1), else_=0)),
                    sa.func.count(CheckIn.id), sa.func.count(sa.distinct(CheckIn.worker_id)),
                ),
                organisation_id, CheckIn.created_at, lo, hi,
            ).group_by(User.site_id)
        )
    }  # fmt: skip
    support = {
        site: (n, people)
        for site, n, people in db.session.execute(
            _by_site(
                sa.select(User.site_id, sa.func.count(SupportRequest.id),
                          sa.func.count(sa.distinct(SupportRequest.worker_id))),
                organisation_id, SupportRequest.created_at, lo, hi,
            ).group_by(User.site_id)
        )
    }  # fmt: skip

    names = {sid: sites.get(sid, "No site") for sid in {*exposures, *who5, *support, *hours}}
    cells: dict[tuple[str, str], Cell] = {}
    totals = {m: [0.0, 0] for m in METRICS}
    t_hours = sum(hours.values())
    t_who = [0, 0, 0, 0]
    for sid, name in names.items():
        n, people = exposures.get(sid, (0, 0))
        h = hours.get(sid, 0)
        cells[(name, "exposures")] = Cell(n, people)
        cells[(name, "exposures_per_100h")] = Cell(round(n / h * 100, 2) if h else 0, people)
        total, low, count, wpeople = who5.get(sid, (0, 0, 0, 0))
        cells[(name, "who5_mean")] = Cell(round(total / count, 1) if count else 0, wpeople)
        cells[(name, "who5_low_share")] = Cell(round(low / count * 100, 1) if count else 0, wpeople)
        s_n, s_people = support.get(sid, (0, 0))
        cells[(name, "support_requests")] = Cell(s_n, s_people)
        totals["exposures"][0] += n
        totals["exposures"][1] += people
        t_who = [t_who[0] + (total or 0), t_who[1] + (low or 0), t_who[2] + count,
                 t_who[3] + wpeople]  # fmt: skip
        totals["support_requests"][0] += s_n
        totals["support_requests"][1] += s_people
    total_cells = {
        "exposures": Cell(totals["exposures"][0], totals["exposures"][1]),
        "exposures_per_100h": Cell(
            round(totals["exposures"][0] / t_hours * 100, 2) if t_hours else 0,
            totals["exposures"][1],
        ),
        "who5_mean": Cell(round(t_who[0] / t_who[2], 1) if t_who[2] else 0, t_who[3]),
        "who5_low_share": Cell(round(t_who[1] / t_who[2] * 100, 1) if t_who[2] else 0, t_who[3]),
        "support_requests": Cell(totals["support_requests"][0], totals["support_requests"][1]),
    }
    # Metrics of one site do not add up to anything: only columns have totals.
    hidden_totals = {("col", m) for m, cell in total_cells.items() if cell.people < minimum}
    hidden_totals |= {("row", name) for name in names.values()}
    published = suppress(cells, minimum, hidden_totals)
    rows: dict[str, dict[str, object]] = {}
    for (name, metric), value in published.cells.items():
        rows.setdefault(name, {})[metric] = value
    total = {
        m: (SUPPRESSED if ("col", m) in published.hidden_totals else publish(cell, minimum))
        for m, cell in total_cells.items()
    }
    return WellbeingTable(minimum, dict(sorted(rows.items())), total)
