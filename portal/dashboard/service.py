"""Dashboard figures: aggregates only, grouped in SQL, a fixed number of queries whatever the data.

Every figure is returned as a Table of display values, so the page and its CSV download come from
the same function and cannot disagree. Wellbeing figures go through portal.wellbeing.stats, which
suppresses small cells (SPEC §5); programme outputs count events and are shown as they are.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from portal.dashboard import safety
from portal.dashboard.kept import store
from portal.extensions import db
from portal.models import (
    CLASSIFICATIONS,
    Engagement,
    Organisation,
    PayPeriod,
    PayRate,
    PayStatement,
    ShiftDayTotal,
    Site,
    User,
)
from portal.pay import fairness
from portal.shifts.totals import SUMS
from portal.wellbeing import stats as wellbeing_stats

MAX_DAYS = 5 * 366
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 1, 1)  # the dates a range may span
TOTAL = "Total"
NO_SITE = "No site"
OUTPUT_COLUMNS = ["Shifts", "Hours worked", "Conflicts interrupted", "Individuals engaged",
                  "Referrals"]  # fmt: skip
WELLBEING_COLUMNS = {
    "exposures": "Exposures",
    "exposures_per_100h": "Exposures per 100 shift-hours",
    "critical_incidents": "Critical incidents",
    "who5_mean": "WHO-5 mean",
    "who5_low_share": "WHO-5 at or below 50 (%)",
    "support_requests": "Support requests",
    "ack_median_hours": "Median hours to acknowledge a request",
    "counselling_sessions": "Counselling sessions booked or held",
}
MOVEMENT_COLUMNS = ["Workers at start", "Hires", "Separations", "Workers at end",
                    "12-month turnover (%)", "12-month retention (%)",
                    "Average tenure (years)"]  # fmt: skip

# Every table a dashboard can show, leader's and funder's (each role downloads only its own).
TABLE_NAMES = (
    "programme-sites", "programme-organisations", "programme-months", "workforce-sites",
    "workforce-titles", "workforce-classifications", "workforce-organisations",
    "workforce-movement", "pay", "wellbeing", "safety",
)  # fmt: skip
# The API's two documents: programme (outputs, wellbeing, field safety) and workforce (people
# and pay).
PARTS = ("programme", "workforce")
# The API's two documents: which tables each one carries (those the viewer's dashboard has).
PROGRAMME_TABLES = ("programme-sites", "programme-organisations", "programme-months", "wellbeing",
                    "safety")  # fmt: skip
WORKFORCE_TABLES = ("workforce-sites", "workforce-titles", "workforce-classifications",
                    "workforce-organisations", "workforce-movement", "pay")  # fmt: skip


class RangeError(ValueError):
    """The requested dates or site cannot be used; the message says why."""


@dataclass
class Range:
    """A date range [start, end) of local dates, and an optional site."""

    start: date
    end: date  # exclusive
    site_id: int | None = None

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


@dataclass
class Table:
    """One table as shown and as downloaded: header, rows of display values, an optional bar."""

    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    bar: int | None = None  # index of a whole-number column drawn as a <meter>
    note: str = ""

    @property
    def bar_max(self) -> int:
        if self.bar is None:
            return 0
        return max((r[self.bar] for r in self.rows[:-1] if isinstance(r[self.bar], int)), default=0)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows([HIDDEN if v is None else v for v in row] for row in self.rows)
        return out.getvalue()


# --- the range --------------------------------------------------------------------------------


def default_range(today: date) -> Range:
    """The last 12 full local months."""
    first = today.replace(day=1)
    return Range(first.replace(year=first.year - 1), first)


def parse_range(args, today: date, site_ids: set[int] | None = None) -> Range:
    """from/to (ISO dates, both included) and site from GET parameters; RangeError on bad input."""
    default = default_range(today)
    try:
        start = date.fromisoformat(args["from"]) if args.get("from") else default.start
    except ValueError:
        raise RangeError("The start date must be a date written as YYYY-MM-DD.") from None
    try:
        end = date.fromisoformat(args["to"]) + timedelta(days=1) if args.get("to") else None
    except (ValueError, OverflowError):
        raise RangeError("The end date must be a date written as YYYY-MM-DD.") from None
    if not EARLIEST <= start < LATEST or (end is not None and not EARLIEST < end <= LATEST):
        raise RangeError(f"Choose dates between {EARLIEST.year} and {LATEST.year - 1}.")
    if end is None:
        end = default.end if not args.get("from") else max(default.end, start + timedelta(days=1))
    if end <= start:
        raise RangeError("The end date must be on or after the start date.")
    if (end - start).days > MAX_DAYS:
        raise RangeError("Choose a range of at most five years.")
    site_id = None
    if args.get("site"):
        try:
            site_id = int(args["site"])
        except ValueError:
            raise RangeError("Choose one of your organisation's sites.") from None
        if site_ids is None:  # funders: a site is ignored
            site_id = None
        elif site_id not in site_ids:
            raise RangeError("Choose one of your organisation's sites.")
    return Range(start, end, site_id)


def _local_months(rng: Range) -> list[tuple[str, date, date]]:
    """(label, first day, day after the last) of each month the range touches, clipped to it."""
    spans = []
    y, m = rng.start.year, rng.start.month
    while date(y, m, 1) < rng.end:
        after = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        spans.append((f"{y:04d}-{m:02d}", max(date(y, m, 1), rng.start), min(after, rng.end)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return spans


# --- formatting -------------------------------------------------------------------------------


def _hours(minutes) -> str:
    return str((Decimal(minutes or 0) / 60).quantize(Decimal("0.01")))


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _outputs(sums) -> list:
    shifts, minutes, conflicts, engaged, referrals = sums
    return [shifts, _hours(minutes), conflicts, engaged, referrals]


def _add(a, b):
    return [x + (y or 0) for x, y in zip(a, b, strict=True)]


# --- programme outputs ------------------------------------------------------------------------


def _programme_rows(group, rng: Range, where) -> tuple[dict, dict]:
    """Approved shifts' outputs summed by (group, month) in one query; returned by group and by
    month label. Reads the daily totals (portal.shifts.totals), not the shifts: a year of a
    national programme is a million shifts and a few hundred thousand days."""
    spans = _local_months(rng)
    day = ShiftDayTotal.day
    bucket = sa.case(
        *[(day < end, i) for i, (_label, _s, end) in enumerate(spans)], else_=len(spans) - 1
    ).label("bucket")
    query = (
        sa.select(
            group, bucket, *(sa.func.sum(getattr(ShiftDayTotal, name)) for name in SUMS)
        )
        .where(day >= rng.start, day < rng.end, ShiftDayTotal.shifts > 0, *where)
        .group_by(group, bucket)
    )  # fmt: skip
    by_group: dict = {}
    by_month = {label: [0] * 5 for label, _s, _e in spans}
    for key, b, *sums in db.session.execute(query):
        by_group[key] = _add(by_group.get(key, [0] * 5), sums)
        label = spans[int(b)][0]
        by_month[label] = _add(by_month[label], sums)
    return by_group, by_month


def _month_table(by_month: dict, note: str) -> Table:
    table = Table("programme-months", "Programme outputs by month", ["Month", *OUTPUT_COLUMNS],
                  bar=3, note=note)  # fmt: skip
    total = [0] * 5
    for label, sums in by_month.items():
        table.rows.append([label, *_outputs(sums)])
        total = _add(total, sums)
    table.rows.append([TOTAL, *_outputs(total)])
    return table


def _group_table(key, title, first, names: dict, by_group: dict) -> Table:
    table = Table(key, title, [first, *OUTPUT_COLUMNS], bar=3, note="Approved shifts only.")
    total = [0] * 5
    for gid, name in sorted(names.items(), key=lambda kv: (kv[1], kv[0] or 0)):
        sums = by_group.get(gid, [0] * 5)
        table.rows.append([name, *_outputs(sums)])
        total = _add(total, sums)
    table.rows.append([TOTAL, *_outputs(total)])
    return table


# --- workforce --------------------------------------------------------------------------------


def _current_classification(day: date):
    """PayRate joined on each worker's rate in force on ``day`` (at most one per worker)."""
    latest = (
        sa.select(PayRate.worker_id, sa.func.max(PayRate.effective_from).label("since"))
        .where(PayRate.effective_from <= day)
        .group_by(PayRate.worker_id)
        .subquery()
    )
    return latest, sa.and_(PayRate.worker_id == latest.c.worker_id,
                           PayRate.effective_from == latest.c.since)  # fmt: skip


def _engaged_on(day):
    """An engagement that covers ``day``."""
    return sa.and_(Engagement.started_on <= day,
                   sa.or_(Engagement.ended_on.is_(None), Engagement.ended_on >= day))  # fmt: skip


def _headcount(columns, where, day: date) -> list[tuple]:
    """Workers engaged on ``day`` counted by ``columns`` (any of User's and
    PayRate.classification); ``where`` filters on Engagement or User."""
    latest, on = _current_classification(day)
    query = (
        sa.select(*columns, sa.func.count(sa.distinct(User.id)))
        .select_from(Engagement)
        .join(User, User.id == Engagement.user_id)
        .outerjoin(latest, latest.c.worker_id == User.id)
        .outerjoin(PayRate, on)
        .where(_engaged_on(day), *where)
        .group_by(*columns)
    )
    return list(db.session.execute(query))


def _days_since(day: date, column):
    """Whole days from ``column`` (a date) to ``day`` as SQL, on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.julianday(sa.literal(day.isoformat())) - sa.func.julianday(column)
    return sa.literal(day, sa.Date) - column


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _movement(group, where, rng: Range, day: date) -> dict:
    """Engagement counts by ``group`` in one query: workers at the range's start and on ``day``,
    hires and separations inside the range, and for the 12 months ending on ``day``: workers at
    their start, separations, those still in the same engagement, and tenure days of those
    engaged on ``day``."""

    def count(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    year_ago = _year_before(day)
    still_there = sa.or_(Engagement.ended_on.is_(None), Engagement.ended_on >= day)
    query = (
        sa.select(
            group,
            count(_engaged_on(rng.start)),
            count(sa.and_(Engagement.started_on >= rng.start, Engagement.started_on < rng.end)),
            count(sa.and_(Engagement.ended_on >= rng.start, Engagement.ended_on < rng.end)),
            count(_engaged_on(day)),
            count(_engaged_on(year_ago)),
            count(sa.and_(Engagement.ended_on >= year_ago, Engagement.ended_on < day)),
            count(sa.and_(_engaged_on(year_ago), still_there)),
            sa.func.sum(sa.case((_engaged_on(day), _days_since(day, Engagement.started_on)),
                                else_=0)),
        )
        .select_from(Engagement)
        .join(User, User.id == Engagement.user_id)
        .where(Engagement.started_on <= max(day, rng.last_day), *where)
        .group_by(group)
    )  # fmt: skip
    return {key: [int(v or 0) for v in rest] for key, *rest in db.session.execute(query)}


def _movement_line(values) -> list:
    start, hires, separations, end, year_start, year_leavers, stayed, tenure_days = values
    average = (Decimal(year_start) + Decimal(end)) / 2
    return [
        start, hires, separations, end,
        str((year_leavers / average * 100).quantize(Decimal("0.1"))) if average else "no workers",
        str((Decimal(stayed) / year_start * 100).quantize(Decimal("0.1")))
        if year_start else "no workers",
        str((Decimal(tenure_days) / end / Decimal("365.25")).quantize(Decimal("0.1")))
        if end else "no workers",
    ]  # fmt: skip


def _movement_table(first: str, names: dict, by_group: dict, day: date) -> Table:
    table = Table("workforce-movement", "Hires, separations, turnover and tenure",
                  [first, *MOVEMENT_COLUMNS], bar=2)  # fmt: skip
    table.note = (
        "Hires and separations are counted inside the range; turnover, retention and tenure "
        f"over the 12 months ending {day.isoformat()}. Turnover is separations divided by the "
        "average of the workforce at the start and end of those months; retention is the "
        "share of the workers at their start still working on the last day."
    )
    total = [0] * 8
    for gid, name in sorted(names.items(), key=lambda kv: (kv[1], kv[0] or 0)):
        values = by_group.get(gid, [0] * 8)
        table.rows.append([name, *_movement_line(values)])
        total = _add(total, values)
    table.rows.append([TOTAL, *_movement_line(total)])
    return table


def _count_table(key, title, first, counts: dict[str, int]) -> Table:
    table = Table(key, title, [first, "Active workers"], bar=1)
    for name, n in sorted(counts.items()):
        table.rows.append([name, n])
    table.rows.append([TOTAL, sum(counts.values())])
    return table


def _merge(rows, label) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key, n in rows:
        counts[label(key)] = counts.get(label(key), 0) + n
    return counts


def _class_label(key) -> str:
    return CLASSIFICATIONS.get(key, "No rate") if key else "No rate"


# --- wellbeing --------------------------------------------------------------------------------


COUNT_METRICS = ("exposures", "critical_incidents", "support_requests", "counselling_sessions")
HIDDEN = "hidden (small numbers)"  # how a suppressed figure (None in a Table) reads


def wellbeing_tree(organisation_ids: list[int], rng: Range, today: date):
    """The published wellbeing tree of these providers (all of one funder, or one provider on
    its own) for the whole, ended quarters the range touches, kept like the dashboards'
    tables: every viewer of one tree shares the one computation. (quarters, tree)."""
    quarters = wellbeing_stats.published_quarters(rng.start, rng.end, today)
    minimum = current_app.config["SUPPRESSION_MIN"]
    ids = sorted(organisation_ids)
    kept = store().get(
        ("wellbeing", tuple(ids), tuple(q.label for q in quarters), minimum),
        lambda: wellbeing_stats.wellbeing_tree(ids, quarters),
    )
    return quarters, kept.value


def _wellbeing_table(first: str, quarters, lines) -> Table:
    """The wellbeing table: for each published quarter, its ``lines`` as (label, figures)."""
    table = Table("wellbeing", "Wellbeing", ["Quarter", first, *WELLBEING_COLUMNS.values()])
    minimum = current_app.config["SUPPRESSION_MIN"]
    if quarters:
        covered = (f"{quarters[0].start.strftime('%-d %b %Y')} to "
                   f"{(quarters[-1].end - timedelta(days=1)).strftime('%-d %b %Y')}")  # fmt: skip
        table.note = (
            f"Whole calendar quarters only ({covered}): wellbeing figures are published for "
            "quarters that have ended, whatever dates are chosen, and each figure is the same "
            f'on every page, download and report. Figures from fewer than {minimum} people, '
            'and any that could be worked out from others by subtraction, read "'
            f'{HIDDEN}".'
        )
    else:
        table.note = (
            "No calendar quarter in this range has ended yet: wellbeing figures are published "
            "for whole quarters that have ended only, so that no figure can be worked out by "
            "comparing two ranges. Choose a range that includes an earlier quarter."
        )
    for quarter in quarters:
        for label, figures in lines(quarter.label):
            table.rows.append([
                quarter.label, label,
                *(None if figures.get(m) is None else
                  (int(figures[m]) if m in COUNT_METRICS else figures[m])
                  for m in WELLBEING_COLUMNS),
            ])  # fmt: skip
    return table


def _provider_group(organisation_id: int) -> list[int]:
    """The providers whose wellbeing is published together with this one's: all those of its
    funder, or just itself when no funder funds it (one query)."""
    own_funder = (
        sa.select(Organisation.funded_by_id)
        .where(Organisation.id == organisation_id)
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            sa.select(Organisation.id).where(
                sa.or_(
                    Organisation.id == organisation_id,
                    sa.and_(Organisation.kind == "provider", Organisation.funded_by_id.is_not(None),
                            Organisation.funded_by_id == own_funder),
                )
            )
        )
    )  # fmt: skip


# --- field safety -----------------------------------------------------------------------------


def safety_tree(organisation_ids: list[int], rng: Range, today: date):
    """The published field-safety tree of these providers (all of one funder, or one provider
    on its own) for the whole, ended quarters the range touches, kept as the wellbeing tree is:
    one computation for a funder and all its providers' leaders. (quarters, tree)."""
    quarters = wellbeing_stats.published_quarters(rng.start, rng.end, today)
    minimum = current_app.config["SUPPRESSION_MIN"]
    ids = sorted(organisation_ids)
    kept = store().get(
        ("safety", tuple(ids), tuple(q.label for q in quarters), minimum),
        lambda: safety.safety_tree(ids, quarters),
    )
    return quarters, kept.value


def _safety_table(first: str, quarters, lines) -> Table:
    """The field-safety table: for each published quarter, its ``lines`` as (label, figures)."""
    table = Table("safety", "Field safety", ["Quarter", first, *safety.METRICS.values()])
    minimum = current_app.config["SUPPRESSION_MIN"]
    if quarters:
        covered = (f"{quarters[0].start.strftime('%-d %b %Y')} to "
                   f"{(quarters[-1].end - timedelta(days=1)).strftime('%-d %b %Y')}")  # fmt: skip
        table.note = (
            f"Whole calendar quarters only ({covered}), by the day a check-in started. Safety "
            "check-ins started, and how many of them raised an alarm of any kind; nothing else "
            f"about a check-in is shown. Figures from fewer than {minimum} people, and any "
            f'that could be worked out from others by subtraction, read "{HIDDEN}".'
        )
    else:
        table.note = (
            "No calendar quarter in this range has ended yet: field-safety figures are "
            "published for whole quarters that have ended only. Choose a range that includes "
            "an earlier quarter."
        )
    for quarter in quarters:
        for label, figures in lines(quarter.label):
            table.rows.append([
                quarter.label, label,
                *(None if figures.get(m) is None else int(figures[m]) for m in safety.METRICS),
            ])  # fmt: skip
    return table


def _provider_lines(tree, organisation_id: int, rng: Range, sites: dict[int, str]):
    """A provider's lines of its funder's tree: each site with workers (only the chosen one
    with a site filter) and, without a filter, the provider as a whole."""
    site_ids = [rng.site_id] if rng.site_id else sorted(
        {n[2] for q in tree.values() for n in q if n[0] == "site" and n[1] == organisation_id},
        key=lambda sid: (sites.get(sid, NO_SITE), sid or 0),
    )  # fmt: skip

    def lines(label):
        nodes = tree[label]
        for sid in site_ids:
            yield sites.get(sid, NO_SITE), nodes.get(wellbeing_stats.site_node(organisation_id,
                                                                               sid), {})
        if not rng.site_id:
            yield "All sites", nodes.get(wellbeing_stats.org_node(organisation_id), {})

    return lines


def _funder_lines(tree, orgs: dict[int, str]):
    """The funder's lines of its tree: each provider, then all of them together."""
    ordered = sorted(orgs.items(), key=lambda kv: (kv[1], kv[0]))

    def lines(label):
        nodes = tree[label]
        for oid, name in ordered:
            yield name, nodes.get(wellbeing_stats.org_node(oid), {})
        yield "All funded organisations", nodes.get(wellbeing_stats.ROOT, {})

    return lines


# --- the dashboards ---------------------------------------------------------------------------


class Figures(NamedTuple):
    """What a dashboard shows: the range, the viewer's sites (leaders), the tables, and when the
    tables were worked out (UTC; they are kept for DASHBOARD_KEEP_SECONDS, see kept.py)."""

    rng: Range
    sites: dict[int, str]
    tables: dict[str, Table]
    worked_out_at: datetime
    key: tuple  # what the tables were kept under (kept.py), for keeping their rendering


def viewer_tables(user, args, today: date, parts=PARTS) -> Figures:
    """The dashboard tables ``user`` (a leader or a funder) may see, for the range and site in
    ``args`` (from, to, site); RangeError on bad input. Pages, CSV and the API all call this;
    ``parts`` ("programme", "workforce") leaves out what an API call does not return. The tables
    are kept a few minutes per viewer's organisation, range and day (kept.py)."""
    minimum = current_app.config["SUPPRESSION_MIN"]
    if user.has_role("leader"):
        organisation_id = user.organisation_id
        sites = organisation_sites(organisation_id)
        rng = parse_range(args, today, set(sites))
        key = ("leader", organisation_id, rng.start, rng.end, rng.site_id, tuple(parts), today,
               minimum, tuple(sorted(sites.items())))  # fmt: skip
        kept = store().get(key, lambda: leader_tables(organisation_id, rng, today, sites, parts))
        return Figures(rng, sites, kept.value, kept.worked_out_at, key)
    funder_id = user.organisation_id
    rng = parse_range(args, today)
    key = ("funder", funder_id, rng.start, rng.end, None, tuple(parts), today, minimum)
    kept = store().get(key, lambda: funder_tables(funder_id, rng, today, parts))
    return Figures(rng, {}, kept.value, kept.worked_out_at, key)


def headline(tables: dict[str, Table]) -> dict[str, object]:
    """The programme's totals over the range, from the monthly table's total line."""
    shifts, hours, conflicts, individuals, referrals = tables["programme-months"].rows[-1][1:]
    return {"shifts": f"{shifts:,}", "hours": f"{Decimal(hours):,}", "conflicts": f"{conflicts:,}",
            "individuals": f"{individuals:,}", "referrals": f"{referrals:,}"}  # fmt: skip


def organisation_sites(organisation_id: int) -> dict[int, str]:
    """The organisation's sites by id (one query)."""
    return dict(
        db.session.execute(
            sa.select(Site.id, Site.name).where(Site.organisation_id == organisation_id)
        ).all()
    )


def leader_tables(organisation_id: int, rng: Range, today: date, sites: dict[int, str],
                  parts=PARTS) -> dict[str, Table]:  # fmt: skip
    """The tables of a leader's dashboard (the ``parts`` asked for), for their own organisation
    only."""
    names = {sid: name for sid, name in sites.items() if not rng.site_id or sid == rng.site_id}
    tables: dict[str, Table] = {}
    if "programme" in parts:
        site_where = [ShiftDayTotal.site_id == rng.site_id] if rng.site_id else []
        by_site, by_month = _programme_rows(
            ShiftDayTotal.site_id, rng,
            [ShiftDayTotal.organisation_id == organisation_id, *site_where],
        )
        names.update({sid: sites.get(sid, NO_SITE) for sid in by_site})
        tables["programme-sites"] = _group_table(
            "programme-sites", "Programme outputs by site", "Site", names, by_site
        )
        tables["programme-months"] = _month_table(by_month, "Approved shifts only.")
    if "workforce" in parts:
        tables.update(_leader_workforce(organisation_id, rng, today, sites, names))
    if "programme" in parts:
        group = _provider_group(organisation_id)  # the providers published together
        tables["wellbeing"] = _leader_wellbeing(organisation_id, rng, today, sites, group)
        quarters, tree = safety_tree(group, rng, today)
        tables["safety"] = _safety_table(
            "Site", quarters, _provider_lines(tree, organisation_id, rng, sites)
        )
    return tables


def _leader_workforce(organisation_id: int, rng: Range, today: date, sites: dict[int, str],
                      names: dict) -> dict[str, Table]:  # fmt: skip
    tables: dict[str, Table] = {}
    day = min(rng.last_day, today)
    user_where = [Engagement.organisation_id == organisation_id]
    if rng.site_id:
        user_where.append(User.site_id == rng.site_id)
    rows = _headcount([User.site_id, User.job_title, PayRate.classification], user_where, day)
    tables["workforce-sites"] = _count_table(
        "workforce-sites", "Active workers by site", "Site",
        _merge([(s, n) for s, _t, _c, n in rows], lambda s: sites.get(s, NO_SITE)),
    )  # fmt: skip
    tables["workforce-titles"] = _count_table(
        "workforce-titles", "Active workers by job title", "Job title",
        _merge([(t, n) for _s, t, _c, n in rows], lambda t: t or "No job title"),
    )  # fmt: skip
    tables["workforce-classifications"] = _count_table(
        "workforce-classifications", "Active workers by classification", "Classification",
        _merge([(c, n) for _s, _t, c, n in rows], _class_label),
    )  # fmt: skip

    moves = _movement(User.site_id, user_where, rng, day)
    tables["workforce-movement"] = _movement_table(
        "Site", {sid: sites.get(sid, NO_SITE) for sid in {*names, *moves}}, moves, day
    )
    tables["pay"] = _pay_table(organisation_id, rng, day)
    return tables


def _leader_wellbeing(organisation_id: int, rng: Range, today: date,
                      sites: dict[int, str], group: list[int]) -> Table:  # fmt: skip
    """The provider's lines of its funder's wellbeing tree: each site (only the chosen one with
    a site filter) and, without a filter, the provider as a whole."""
    quarters, tree = wellbeing_tree(group, rng, today)
    return _wellbeing_table("Site", quarters, _provider_lines(tree, organisation_id, rng, sites))


def _pay_table(organisation_id: int, rng: Range, day: date) -> Table:
    """Fair pay on the range's last day, and hours from statements of periods inside the range."""
    total = fairness.fair_pay(organisation_id, day).total
    hours, overtime = db.session.execute(
        sa.select(sa.func.sum(PayStatement.hours), sa.func.sum(PayStatement.overtime_hours))
        .join(PayPeriod, PayPeriod.id == PayStatement.period_id)
        .where(
            PayStatement.organisation_id == organisation_id,
            PayPeriod.start_date >= rng.start,
            PayPeriod.end_date <= rng.end,
        )
    ).one()
    hours, overtime = Decimal(hours or 0), Decimal(overtime or 0)
    share = total.share_at_or_above
    table = Table("pay", "Pay", ["Figure", "Value"])
    table.note = (
        f"Fair pay is measured on {day.isoformat()} for the whole organisation; hours come from "
        "the statements of pay periods closed within the range."
    )
    table.rows = [
        ["Workers compared with a target", total.compared],
        ["Share at or above target", f"{share}%" if share is not None else "no target set"],
        ["Yearly cost to close the gap", _money(total.annual_cost)],
        ["Hours paid (closed periods)", str(hours.quantize(Decimal("0.01")))],
        ["Overtime share of hours",
         f"{(overtime / hours * 100).quantize(Decimal('0.1'))}%" if hours else "no hours"],
    ]  # fmt: skip
    return table


def funder_tables(funder_id: int, rng: Range, today: date, parts=PARTS) -> dict[str, Table]:
    """Programme outputs, headcounts and wellbeing of the providers this funder funds, side by
    side (the ``parts`` asked for)."""
    orgs = dict(
        db.session.execute(
            sa.select(Organisation.id, Organisation.name).where(
                Organisation.kind == "provider", Organisation.funded_by_id == funder_id
            )
        ).all()
    )
    tables: dict[str, Table] = {}
    if "programme" in parts:
        by_org, by_month = _programme_rows(
            ShiftDayTotal.organisation_id, rng, [ShiftDayTotal.organisation_id.in_(list(orgs))]
        )
        tables["programme-organisations"] = _group_table(
            "programme-organisations", "Programme outputs by organisation", "Organisation",
            orgs, by_org,
        )  # fmt: skip
        tables["programme-months"] = _month_table(
            by_month, "All provider organisations together; approved shifts only."
        )
    if "workforce" in parts:
        tables.update(_funder_workforce(orgs, rng, today))
    if "programme" in parts:
        quarters, tree = wellbeing_tree(list(orgs), rng, today)
        tables["wellbeing"] = _wellbeing_table("Organisation", quarters, _funder_lines(tree, orgs))
        quarters, tree = safety_tree(list(orgs), rng, today)
        tables["safety"] = _safety_table("Organisation", quarters, _funder_lines(tree, orgs))
    return tables


def _funder_workforce(orgs: dict[int, str], rng: Range, today: date) -> dict[str, Table]:
    day = min(rng.last_day, today)
    in_orgs = [Engagement.organisation_id.in_(list(orgs))]
    rows = _headcount([Engagement.organisation_id, PayRate.classification], in_orgs, day)
    classes = [*CLASSIFICATIONS, None]
    columns = ["Organisation", "Active workers", *(_class_label(c) for c in classes)]
    table = Table("workforce-organisations", "Active workers by organisation", columns, bar=1)
    counts = {(o, c): n for o, c, n in rows}
    grand = [0] * (len(classes) + 1)
    for oid, name in sorted(orgs.items(), key=lambda kv: kv[1]):
        line = [counts.get((oid, c), 0) for c in classes]
        line = [sum(line), *line]
        grand = _add(grand, line)
        table.rows.append([name, *line])
    table.rows.append([TOTAL, *grand])
    return {
        "workforce-organisations": table,
        "workforce-movement": _movement_table(
            "Organisation", orgs, _movement(Engagement.organisation_id, in_orgs, rng, day), day
        ),
    }
