"""Fair pay: every worker's rate against the organisation's floor and their job title's target.

Loads everything in a fixed number of queries (workers, rates, hours over the last 12 weeks summed
in SQL, the chosen standards, the benchmark figures, contractors' recent shifts), then applies the
pure arithmetic of portal.pay.gaps.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import click
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import (
    Benchmark,
    FairPaySnapshot,
    Organisation,
    PayRate,
    Shift,
    User,
    UserRole,
    WageStandard,
)
from portal.pay import gaps
from portal.pay.rates import ALL_WORKERS, HOURS_PER_YEAR, rate_text
from portal.timeutil import local_midnight_utc, local_today, local_zone

CONTRACTOR_REVIEW_DAYS = 90
REGULAR_WEEKS = 10  # of the last 12, with at least REGULAR_HOURS each
REGULAR_HOURS = 15


# --- standards ---------------------------------------------------------------------------------


def _figure(benchmarks: list[Benchmark], name: str, day: date) -> Benchmark | None:
    """The figure of a named benchmark in force on a date."""
    found = [b for b in benchmarks if b.name == name and b.effective_from <= day]
    return max(found, key=lambda b: b.effective_from, default=None)


def _choice(standards: list[WageStandard], role: str, title: str | None, day: date):
    found = [
        s for s in standards
        if s.role == role and s.job_title == title and s.effective_from <= day
    ]  # fmt: skip
    return max(found, key=lambda s: (s.effective_from, s.id), default=None)


def legal_minimum(benchmarks: list[Benchmark], day: date) -> Benchmark | None:
    """The highest legal floor for all workers in force (the latest figure of each name)."""
    names = {b.name for b in benchmarks if b.kind == "legal_floor" and b.applies_to == ALL_WORKERS}
    figures = [f for f in (_figure(benchmarks, n, day) for n in names) if f is not None]
    return max(figures, key=lambda b: b.hourly_usd, default=None)


def floor_for(standards, benchmarks, day: date) -> Benchmark | None:
    """The organisation's chosen floor in force, never below the legal minimum."""
    minimum = legal_minimum(benchmarks, day)
    chosen = _choice(standards, "floor", None, day)
    figure = _figure(benchmarks, chosen.benchmark_name, day) if chosen else None
    if figure is None or (minimum is not None and minimum.hourly_usd > figure.hourly_usd):
        return minimum
    return figure


def target_for(standards, benchmarks, title: str | None, day: date) -> Benchmark | None:
    """The target chosen for a job title, as the benchmark figure in force."""
    if not title:
        return None
    chosen = _choice(standards, "target", title, day)
    return _figure(benchmarks, chosen.benchmark_name, day) if chosen else None


def load_standards(organisation_id: int) -> tuple[list[WageStandard], list[Benchmark]]:
    """The organisation's choices and every benchmark figure: two queries."""
    standards = list(
        db.session.scalars(
            sa.select(WageStandard)
            .where(WageStandard.organisation_id == organisation_id)
            .order_by(WageStandard.effective_from, WageStandard.id)
        )
    )
    benchmarks = list(db.session.scalars(sa.select(Benchmark).order_by(Benchmark.effective_from)))
    return standards, benchmarks


# --- the report --------------------------------------------------------------------------------


@dataclass
class FairPayRow:
    """One worker against their floor and target."""

    worker: User
    classification: str
    rate: PayRate | None
    hours_lookback: Decimal
    effective: Decimal | None
    annual_hours: Decimal
    floor: Benchmark | None
    target: Benchmark | None
    gap: gaps.Gap | None
    flags: list[str] = field(default_factory=list)

    @property
    def site_name(self) -> str:
        return self.worker.site.name if self.worker.site else "No site"

    @property
    def job_title(self) -> str:
        return self.worker.job_title or "No job title"

    @property
    def below_floor(self) -> bool:
        return bool(
            self.effective is not None and self.floor and self.effective < self.floor.hourly_usd
        )


@dataclass
class Totals:
    """A group of workers: how many, how many at or above target, the cost to close the gaps."""

    workers: int = 0
    compared: int = 0
    at_or_above: int = 0
    annual_cost: Decimal = Decimal("0.00")

    def add(self, row: FairPayRow) -> None:
        self.workers += 1
        if row.gap is not None:
            self.compared += 1
            self.at_or_above += row.gap.at_or_above
            self.annual_cost += row.gap.annual_cost

    @property
    def share_at_or_above(self) -> Decimal | None:
        if not self.compared:
            return None
        return (Decimal(self.at_or_above) / self.compared * 100).quantize(Decimal("0.1"))


@dataclass
class FairPayReport:
    """The fair-pay page: rows with the largest gaps first, and totals by group."""

    day: date
    rows: list[FairPayRow]
    total: Totals
    by_site: dict[str, Totals]
    by_title: dict[str, Totals]
    by_classification: dict[str, Totals]
    titles: list[str]
    sites: list[str]


def fair_pay(organisation_id: int, day: date, filters: dict | None = None) -> FairPayReport:
    """Every active worker of the organisation against floor and target (fixed query count)."""
    filters = filters or {}
    workers = list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole)
            .options(joinedload(User.site))
            .where(
                User.organisation_id == organisation_id,
                UserRole.role == "worker",
                User.active.is_(True),
            )
            .order_by(User.name, User.id)
        )
    )
    rates: dict[int, list[PayRate]] = defaultdict(list)
    for r in db.session.scalars(
        sa.select(PayRate)
        .where(PayRate.organisation_id == organisation_id, PayRate.effective_from <= day)
        .order_by(PayRate.effective_from, PayRate.id)
    ):
        rates[r.worker_id].append(r)
    zone = local_zone()
    since = local_midnight_utc(day - timedelta(weeks=gaps.LOOKBACK_WEEKS), zone)
    until = local_midnight_utc(day + timedelta(days=1), zone)
    hours = {
        wid: Decimal(minutes) / 60
        for wid, minutes in db.session.execute(
            sa.select(Shift.worker_id, sa.func.sum(Shift.worked_minutes))
            .where(
                Shift.organisation_id == organisation_id,
                Shift.status == "approved",
                Shift.start_at >= since,
                Shift.start_at < until,
            )
            .group_by(Shift.worker_id)
        )
    }
    standards, benchmarks = load_standards(organisation_id)
    contractor_shifts = _contractor_shifts(organisation_id, rates, since, until)
    floor = floor_for(standards, benchmarks, day)
    flsa = _figure_for_applies(benchmarks, "employee_exempt", day)

    rows = []
    for worker in workers:
        current = rates[worker.id][-1] if rates.get(worker.id) else None
        worked = hours.get(worker.id, Decimal(0))
        classification = current.classification if current else "none"
        effective = (
            gaps.effective_hourly(
                current.classification, current.hourly_rate, current.annual_salary, worked
            )
            if current
            else None
        )
        annual = gaps.annualised_hours(worked)
        target = target_for(standards, benchmarks, worker.job_title, day)
        row = FairPayRow(
            worker=worker,
            classification=classification,
            rate=current,
            hours_lookback=worked,
            effective=effective,
            annual_hours=annual,
            floor=floor,
            target=target,
            gap=gaps.gap(effective, target.hourly_usd, annual) if effective and target else None,
        )
        row.flags = _flags(
            row, rates.get(worker.id, []), contractor_shifts.get(worker.id, []), flsa, day
        )
        rows.append(row)

    titles = sorted({r.job_title for r in rows})
    sites = sorted({r.site_name for r in rows})
    shown = [r for r in rows if _matches(r, filters)]
    shown.sort(key=lambda r: (
        -(r.gap.per_hour if r.gap else Decimal(-1)), -(r.gap.annual_cost if r.gap else 0),
        r.worker.name,
    ))  # fmt: skip
    total, by_site, by_title, by_class = Totals(), {}, {}, {}
    for r in shown:
        total.add(r)
        by_site.setdefault(r.site_name, Totals()).add(r)
        by_title.setdefault(r.job_title, Totals()).add(r)
        by_class.setdefault(r.classification, Totals()).add(r)
    return FairPayReport(day, shown, total, dict(sorted(by_site.items())),
                         dict(sorted(by_title.items())), dict(sorted(by_class.items())),
                         titles, sites)  # fmt: skip


def _matches(row: FairPayRow, filters: dict) -> bool:
    if filters.get("site") and row.site_name != filters["site"]:
        return False
    if filters.get("title") and row.job_title != filters["title"]:
        return False
    if filters.get("classification") and row.classification != filters["classification"]:
        return False
    if filters.get("below") and not (row.gap and not row.gap.at_or_above):
        return False
    return True


def _figure_for_applies(benchmarks, applies_to: str, day: date) -> Benchmark | None:
    names = {b.name for b in benchmarks if b.kind == "legal_floor" and b.applies_to == applies_to}
    figures = [f for f in (_figure(benchmarks, n, day) for n in names) if f is not None]
    return max(figures, key=lambda b: b.hourly_usd, default=None)


def _contractor_shifts(organisation_id, rates, since, until) -> dict[int, list[tuple]]:
    """Recent shifts (start, site, minutes) of current contractors: always one query."""
    contractors = [wid for wid, rs in rates.items() if rs and rs[-1].classification == "contractor"]
    out: dict[int, list[tuple]] = defaultdict(list)
    for wid, start, site, minutes in db.session.execute(
        sa.select(Shift.worker_id, Shift.start_at, Shift.site_id, Shift.worked_minutes).where(
            Shift.worker_id.in_(contractors),
            Shift.status.in_(("approved", "submitted")),
            Shift.start_at >= since,
            Shift.start_at < until,
        )
    ):
        out[wid].append((start, site, minutes))
    return out


def _flags(row: FairPayRow, rates: list[PayRate], recent: list[tuple], flsa, day) -> list[str]:
    """Warnings that protect people: below floor, exempt under the FLSA salary threshold, a
    contractor who works like an employee."""
    flags = []
    if row.below_floor:
        flags.append(f"Below the floor ({row.floor.name}, ${row.floor.hourly_usd}/h): raise it.")
    rate = row.rate
    if rate and rate.classification == "employee_exempt" and flsa is not None:
        threshold = flsa.hourly_usd * HOURS_PER_YEAR
        if rate.annual_salary < threshold:
            flags.append(
                f"Exempt salary ${rate.annual_salary:,.2f} is under the FLSA salary threshold "
                f"(${threshold:,.2f} a year): review the classification."
            )
    if rate and rate.classification == "contractor":
        since = max(
            (r.effective_from for r in rates if r.classification != "contractor"),
            default=None,
        )
        contractor_from = min(
            (r.effective_from for r in rates
             if r.classification == "contractor" and (since is None or r.effective_from > since)),
            default=rate.effective_from,
        )  # fmt: skip
        weeks: dict[date, int] = defaultdict(int)
        sites = set()
        zone = local_zone()
        for start, site, minutes in recent:
            local = start.astimezone(zone).date()
            weeks[local - timedelta(days=local.weekday())] += minutes
            sites.add(site)
        regular = sum(1 for m in weeks.values() if m >= REGULAR_HOURS * 60)
        if (
            (day - contractor_from).days > CONTRACTOR_REVIEW_DAYS
            and regular >= REGULAR_WEEKS
            and len(sites) == 1
        ):
            flags.append(
                f"Contractor for {(day - contractor_from).days} days with regular weekly hours "
                "at one site: review whether they should be an employee."
            )
    return flags


CSV_COLUMNS = [
    "worker_id", "worker_name", "site", "job_title", "classification", "rate",
    "effective_hourly", "hours_last_12_weeks", "annualised_hours", "floor_name", "floor_hourly",
    "target_name", "target_hourly", "gap_per_hour", "gap_percent", "compa_ratio",
    "annual_cost_to_close", "flags",
]  # fmt: skip


def report_csv(report: FairPayReport) -> str:
    """The fair-pay rows as CSV (numbers plain, names protected from spreadsheet formulas)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)

    def text(value: str) -> str:
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

    for r in report.rows:
        g = r.gap
        writer.writerow([
            r.worker.id, text(r.worker.name), text(r.site_name), text(r.job_title),
            r.classification, rate_text(r.rate) if r.rate else "",
            r.effective if r.effective is not None else "", r.hours_lookback.quantize(gaps.CENT),
            r.annual_hours, r.floor.name if r.floor else "",
            r.floor.hourly_usd if r.floor else "", r.target.name if r.target else "",
            r.target.hourly_usd if r.target else "", g.per_hour if g else "",
            g.percent if g else "", g.compa_ratio if g else "", g.annual_cost if g else "",
            " | ".join(r.flags),
        ])  # fmt: skip
    return out.getvalue()


def month_ends(day: date, months: int = 12) -> list[date]:
    """The last days of the ``months - 1`` months before ``day``'s month, oldest first."""
    first_of_month = day.replace(day=1)
    ends = []
    for back in range(months - 1, 0, -1):
        y, m = divmod(first_of_month.year * 12 + first_of_month.month - 1 - back + 1, 12)
        ends.append(date(y, m + 1, 1) - timedelta(days=1))
    return ends


def stored_snapshots(organisation_id: int, days: list[date]) -> dict[date, Totals]:
    """The snapshots recorded for these month-ends: one query."""
    rows = db.session.scalars(
        sa.select(FairPaySnapshot).where(
            FairPaySnapshot.organisation_id == organisation_id, FairPaySnapshot.day.in_(days)
        )
    )
    return {r.day: Totals(r.workers, r.compared, r.at_or_above, r.annual_cost) for r in rows}


def trend(organisation_id: int, day: date, months: int = 12) -> list[tuple[date, Totals]]:
    """Share at or above target and the cost to close the gaps at each of the last month-ends
    (and today), for leadership: aggregates only.

    Past month-ends come from their snapshots (one query; see record_snapshots), today's figure
    is worked out live. A month-end with no snapshot yet (a new organisation before the nightly
    command has run) is worked out as well, so the trend is never missing a month.
    """
    ends = month_ends(day, months)
    stored = stored_snapshots(organisation_id, ends)
    points = [
        (end, stored[end] if end in stored else fair_pay(organisation_id, end).total)
        for end in ends
    ]
    return [*points, (day, fair_pay(organisation_id, day).total)]


def record_snapshots(organisation_id: int, today: date, months: int = 12) -> int:
    """Record the month-ends of the last ``months`` months that have no snapshot yet; the count.

    A snapshot is what the figures were when it was taken, soon after the month's end: a rate
    back-dated later, or someone who leaves later, does not rewrite last year's trend. The
    caller commits; a snapshot taken at the same moment elsewhere wins (unique per day).
    """
    ends = month_ends(today, months)
    stored = stored_snapshots(organisation_id, ends)
    recorded = 0
    for end in (end for end in ends if end not in stored):
        totals = fair_pay(organisation_id, end).total
        snapshot = FairPaySnapshot(
            organisation_id=organisation_id,
            day=end,
            workers=totals.workers,
            compared=totals.compared,
            at_or_above=totals.at_or_above,
            annual_cost=totals.annual_cost,
        )
        try:
            with db.session.begin_nested():
                db.session.add(snapshot)
        except sa.exc.IntegrityError:
            continue  # recorded by another run meanwhile: the first one stands
        recorded += 1
    return recorded


def register_fair_pay_cli(app) -> None:
    """``flask snapshot-fair-pay``: daily from cron, records each provider's past month-ends."""

    @app.cli.command("snapshot-fair-pay")
    def snapshot_fair_pay() -> None:
        """Record every provider's fair-pay totals at the month-ends that have none yet."""
        providers = db.session.scalars(
            sa.select(Organisation.id).where(Organisation.kind == "provider")
        ).all()
        today = local_today()
        recorded = sum(record_snapshots(org_id, today) for org_id in providers)
        db.session.commit()
        click.echo(f"Recorded {recorded} fair-pay month-end(s) for {len(providers)} provider(s).")
