"""Field-safety figures for leaders and funders (issue 15): check-ins started and alarms raised,
suppressed as the wellbeing figures are (SPEC §5, issue 16).

"Nothing about it reaches dashboards except suppressed counts." Two counts per line, nothing
else: how many timed check-ins were started and how many of them raised an alarm, whatever the
alarm's kind. The kind is never read here, so a duress alarm, which the worker's screen shows as
"safe", is only ever one alarm among the others, and missed check-ins and SOS are not told apart
either. No person, place, buddy, position or note is selected.

The figures follow the wellbeing table's rules, for the same reasons: whole calendar quarters
that have ended (by ``started_at`` on the local clock), so that two ranges a day apart show the
same cells; one tree per funder (its providers together, each provider, each provider's sites
by the worker's home site, the lines being the sites with workers), suppressed once with
``suppress_tree`` so that no view subtracted from another recovers a hidden figure. The worker's
home site keeps every person in exactly one line of a provider, which the complementary rule
relies on (a check-in's own site would count a worker who helps out at two sites twice). A
check-in counts for the provider it was made for, and only while the worker is still with that
provider (their home site is then that provider's).

Two statements whatever the data or the number of quarters (none without a quarter).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.models import SafetyCheckin, User, UserRole
from portal.stats.suppression import Cell, suppress_tree
from portal.timeutil import local_midnight_utc, local_zone
from portal.wellbeing.stats import ROOT, Quarter, org_node, site_node

METRICS = {"checkins": "Check-ins started", "alarms": "Alarms raised"}


def safety_tree(org_ids: list[int], quarters: list[Quarter]) -> dict[str, dict]:
    """For each quarter (by label): {node: {metric: published value or None}} over the tree
    ROOT -> ("org", id) -> ("site", id, site id) of ``org_ids``' check-ins."""
    if not quarters:
        return {}
    minimum = current_app.config["SUPPRESSION_MIN"]
    zone = local_zone()
    bounds = [local_midnight_utc(q.end, zone) for q in quarters]
    lo, hi = local_midnight_utc(quarters[0].start, zone), bounds[-1]
    started = SafetyCheckin.started_at
    bucket = sa.case(*[(started < b, i) for i, b in enumerate(bounds)],
                     else_=len(bounds) - 1).label("bucket")  # fmt: skip
    alarm = SafetyCheckin.alarm_kind.is_not(None)  # any kind: duress is an alarm, nothing more
    query = (
        sa.select(
            bucket, User.organisation_id, User.site_id,
            sa.func.count(SafetyCheckin.id),
            sa.func.count(sa.distinct(SafetyCheckin.worker_id)),
            sa.func.sum(sa.case((alarm, 1), else_=0)),
            sa.func.count(sa.distinct(sa.case((alarm, SafetyCheckin.worker_id)))),
        )
        .join(User, User.id == SafetyCheckin.worker_id)
        .where(SafetyCheckin.organisation_id.in_(org_ids),
               User.organisation_id == SafetyCheckin.organisation_id,
               started >= lo, started < hi)
        .group_by(bucket, User.organisation_id, User.site_id)
    )  # fmt: skip
    counts = {(int(q), o, s): rest for q, o, s, *rest in db.session.execute(query)}
    # every site with workers is a line, with check-ins or not (as in the wellbeing tree): a
    # silent site left out would show its neighbour as the provider's whole
    sites = {tuple(row) for row in db.session.execute(
        sa.select(User.organisation_id, User.site_id).distinct()
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.organisation_id.in_(org_ids), UserRole.role == "worker"))}  # fmt: skip
    sites |= {(o, s) for _q, o, s in counts}

    tree = {}
    for i, quarter in enumerate(quarters):
        sums: dict = {org_node(o): [0] * 4 for o in org_ids}
        sums[ROOT] = [0] * 4
        for o, s in sites:
            line = [int(v or 0) for v in counts.get((i, o, s), (0, 0, 0, 0))]
            sums[site_node(o, s)] = line
            for up in (org_node(o), ROOT):
                sums[up] = [a + b for a, b in zip(sums[up], line, strict=True)]
        parent = {node: (ROOT if node[0] == "org" else org_node(node[1]))
                  for node in sums if node != ROOT}  # fmt: skip
        parent[ROOT] = None
        cells = {
            "checkins": {n: Cell(line[0], line[1]) for n, line in sums.items()},
            "alarms": {n: Cell(line[2], line[3]) for n, line in sums.items()},
        }
        published = {m: suppress_tree(cells[m], parent, minimum) for m in METRICS}
        tree[quarter.label] = {n: {m: published[m][n] for m in METRICS} for n in sums}
    return tree
