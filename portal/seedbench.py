"""Benchmark data: `flask --app wsgi seed-bench --workers N --years Y`, a large programme, fast.

Everything is fictional and deterministic (a fixed random seed, for a given "now"). For N workers
over Y years it creates

- a funder and about N/40 providers it funds (at least two), with 2-4 sites each;
- per provider a leader, an HR officer, a supervisor per site and a counsellor per 40 workers
  (plus one admin and the funder's officer), all with the password ``bench-pass-2026``, hashed
  once with cheap argon2 parameters (verification reads them from the hash);
- N worker positions. Each is held by a chain of engagements: the first holder joined before the
  window (tenure of a few years), then people leave at about 25 % a year (resigned, dismissed,
  contract ended, retired) and a replacement is hired 15-60 days later; one replacement in ten is
  a former worker coming back (a second engagement). Headcount stays about N;
- job titles, a pay policy per provider (nights differential at a third, on-call stipends at most),
  the floor and targets chosen for the titles, and effective-dated pay rates: a starting rate at
  each hire and raises most Januaries;
- about five shifts a week per engaged worker (5,000 workers for 3 years: about 3.75 million), from
  the demo seed's wall-clock templates, converted to UTC across DST changes, with programme
  outputs, worked minutes, and the review by the site's supervisor. Shifts before the current pay
  period are approved; in it, some still wait;
- every ended pay period closed: statements priced by the same arithmetic and row builder as
  ``close_period`` (portal.pay.service.price / statement_row), the shifts locked into them;
- trauma exposures on some shifts (critical ones offered a talk, some accepted), weekly-ish WHO-5
  check-ins for most workers, support requests (after incidents, after low check-ins, asked
  directly) acknowledged after a realistic delay, counsellors' weekly hours as slots, and the
  sessions booked from the requests (completed, missed, cancelled, or still to come).

Rows go in with bulk Core inserts in batches of 10,000 (PostgreSQL: COPY, several times faster),
with ids assigned here so that rows can refer to each other without reading anything back; the
sequences are moved past them at the end. It refuses the production config, and a database that
already holds people or organisations unless ``--reset`` (which empties every table but the
benchmark figures the migrations load).
"""

from __future__ import annotations

import json
import math
import random
import time as clock
from bisect import bisect_right
from collections import Counter, defaultdict, namedtuple
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import click
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from flask import current_app

from portal.auth.twofactor import REQUIRED_ROLES
from portal.extensions import db
from portal.models import Organisation, Shift, User
from portal.models.types import UTCDateTime
from portal.pay import fairness
from portal.pay import service as pay_service
from portal.pay.periods import Period, period_containing
from portal.pay.rates import benchmarks_in_force
from portal.seed import (
    ALLOWED_ENVS,
    CATEGORY_WEIGHTS,
    DAY,
    DEMO_FLOOR,
    DEMO_TARGETS,
    EVENING,
    EXPOSURE_NOTES,
    FIRST_NAMES,
    LAST_NAMES,
    MIN_REST,
    NIGHT,
    NOTES,
    PATTERNS,
    RETURN_REASONS,
    STARTING_RATES,
)
from portal.shifts import totals as shift_totals
from portal.timeutil import (
    NonexistentLocalTime,
    local_midnight_utc,
    local_span_to_utc,
    local_to_utc,
    local_zone,
    utcnow,
)

BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 - published on purpose, like the demo's
# The roles that must sign in with a second factor get this published TOTP secret (RFC 6238,
# base32): any authenticator app, or pyotp, makes the codes.
BENCH_TOTP_SECRET = "KRUGS4ZAJFZSAQTFNZRWQICEMF2GC4TT"  # noqa: S105
DOMAIN = "seedbench.example"
FUNDER_NAME = "Bench City Office of Violence Prevention"
FUNDER_EMAIL = f"funder@{DOMAIN}"
ADMIN_EMAIL = f"admin@{DOMAIN}"
RANDOM_SEED = 4040
BATCH = 10_000
WORKERS_PER_PROVIDER = 40
WORKERS_PER_COUNSELOR = 40
TURNOVER = 0.25  # separations a year per position
HAZARD = TURNOVER / 365.25  # per day: separations / average headcount, as turnover is reported
MEAN_TENURE_BEFORE = 3 * 365  # days the first holders had been in post when the window opens
REHIRE_SHARE = 0.1  # replacements who are former workers coming back
SHIFTS_A_WEEK = ((4, 5, 6), (2, 6, 2))  # counts and weights: about five
EXEMPT_SHARE, CONTRACTOR_SHARE = 0.04, 0.07
RAISE_SHARE = 0.75
CHECKIN_SHARE = 0.6  # workers who use check-ins; each week with WEEKLY_CHECKIN odds
WEEKLY_CHECKIN = 0.75
REQUESTS_A_YEAR = 0.8  # support requests a worker asks for directly
EXPOSURE_ODDS = {
    "street_outreach": 0.05, "hospital_response": 0.08, "on_call": 0.04,
    "community_event": 0.02, "training": 0.004, "admin": 0.004,
}  # fmt: skip
SEPARATION_REASONS = (("resigned", "dismissed", "contract_ended", "retired", "other"),
                      (60, 10, 20, 3, 7))  # fmt: skip
TITLES = (tuple(DEMO_TARGETS), (2, 1, 1))
NEIGHBOURHOODS = [
    "Northside", "Riverside", "Eastgate", "Westfield", "Southpark", "Midtown", "Hillcrest",
    "Lakeview", "Fairground", "Old Mill", "Cedar Heights", "Union Square",
]  # fmt: skip
PROVIDER_WORDS = (
    ["Peace", "Hope", "Safe Streets", "Community", "Neighbourhood", "Unity"],
    ["Alliance", "Outreach", "Collective", "Network", "Project", "Partners"],
)
# Counsellors' weekly hours (weekday, start, end, mode), cut into 50-minute slots.
COUNSELING_HOURS = [
    (1, time(9), time(12), "in_person"),
    (3, time(13), time(17), "video"),
    (4, time(17), time(20), "phone"),
]
SLOT_MINUTES = 50
DETAILED_PERIODS = 6  # the latest statements keep their per-shift breakdown (see _statements)
SLOTS_AHEAD = 28  # days of slots after today
REQUEST_KINDS = (("counselling_session", "peer_support", "financial_help", "wellness_day"),
                 (35, 25, 20, 20))  # fmt: skip
ACK_MEDIAN_HOURS = {"urgent": 2.0, "soon": 8.0, "whenever": 24.0}
BOOKED_KINDS = ("counselling_session", "after_incident", "peer_support")


# A pay rate as portal.pay.rates.to_rule_rates reads a PayRate row.
_Rate = namedtuple("_Rate", "effective_from classification hourly_rate annual_salary")


class BenchSeedError(Exception):
    """The bench data cannot be loaded here (production config, data present, no tables)."""


# --- loading rows ------------------------------------------------------------------------------


class _Loader:
    """Rows kept per table and written in batches, parents before children.

    Ids are handed out here (the tables start empty), so children can point at parents that are
    still in the buffer. PostgreSQL gets COPY; SQLite gets executemany through Core.
    """

    def __init__(self, now: datetime):
        bind = db.session.get_bind()
        self.postgres = bind.dialect.name == "postgresql"
        self.tables = {t.name: t for t in db.metadata.sorted_tables}
        self.order = [t.name for t in db.metadata.sorted_tables]
        self.defaults = {name: _defaults(table, now) for name, table in self.tables.items()}
        self.json_columns = {
            name: {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
            for name, table in self.tables.items()
        }
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.pending = 0
        self.counts: Counter[str] = Counter()
        self.next_ids = {
            name: (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
            for name, table in self.tables.items()
            if "id" in table.c
        }

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, row: dict) -> dict:
        """Buffer a row (defaults filled in); write everything once a batch is full."""
        full = {**self.defaults[table], **row}
        self.rows[table].append(full)
        self.pending += 1
        if self.pending >= BATCH:
            self.flush()
        return full

    def flush(self) -> None:
        """Write every buffered row, tables in foreign-key order."""
        for name in self.order:
            rows = self.rows.pop(name, None)
            if not rows:
                continue
            if self.postgres:
                self._copy(name, rows)
            else:
                db.session.execute(sa.insert(self.tables[name]), rows)
            self.counts[name] += len(rows)
        self.pending = 0

    def _copy(self, name: str, rows: list[dict]) -> None:
        columns = list(rows[0])  # every row of a table is built with the same keys
        jsons = self.json_columns[name]
        raw = db.session.connection().connection.driver_connection
        listed = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c]) if c in jsons else row[c] for c in columns])

    def finish(self) -> None:
        """Flush, then move PostgreSQL's sequences past the ids given out and refresh its
        planner statistics (what autovacuum would do soon after a load this size)."""
        self.flush()
        if not self.postgres:
            return
        for name in self.next_ids:  # table names from the models' metadata, not from input
            if self.counts[name]:
                db.session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
        db.session.execute(sa.text("ANALYZE " + ", ".join(n for n in self.order if self.counts[n])))


def _defaults(table: sa.Table, now: datetime) -> dict:
    """Every column with the value a plain ORM insert would give it: scalar defaults, ``now``
    for the instants defaulting to utcnow, None for the rest (the builder always sets those).
    Columns with only a server default are left out, so the database fills them in."""
    out = {}
    for column in table.columns:
        default = column.default
        if default is None and column.server_default is not None:
            continue
        if default is not None and default.is_scalar:
            out[column.name] = default.arg
        elif default is not None and isinstance(column.type, UTCDateTime):
            out[column.name] = now
        else:
            out[column.name] = None
    return out


# --- the plan: organisations, people, engagements -------------------------------------------------


@dataclass
class Spell:
    """One engagement of a person, in one position (a site)."""

    site_id: int
    start: date
    end: date | None  # last day worked
    reason: str | None = None


@dataclass
class Person:
    """A worker: one account, one or more engagements with one provider."""

    id: int
    org: int
    name: str
    title: str
    classification: str
    spells: list[Spell] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.spells[-1].end is None


@dataclass
class Provider:
    """A provider and what its workers' rows point at."""

    id: int
    name: str
    slug: str
    sites: list[int]
    supervisors: dict[int, int]  # site id -> supervisor id
    hr: int
    leader: int
    counselors: list[int]
    workers: int
    people: list[Person] = field(default_factory=list)
    slots: list[tuple[datetime, int, int]] = field(default_factory=list)  # start, id, counsellor
    policy: pay_service.OrgPolicy | None = None
    period_ids: list[int] = field(default_factory=list)


class _Builder:
    """Builds the whole dataset through one _Loader."""

    def __init__(self, workers: int, years: int, seed: int, now: datetime):
        self.rng = random.Random(seed)  # noqa: S311 - fictional data, reproducible on purpose
        self.now = now
        self.zone = local_zone()
        self.today = now.astimezone(self.zone).date()
        self.first_day = self.today - timedelta(days=365 * years - 1)
        self.n_workers = workers
        self.loader = _Loader(now)
        cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
        self.password_hash = cheap.hash(BENCH_PASSWORD)
        cfg = current_app.config
        self.anchor = date.fromisoformat(cfg["PAY_PERIOD_ANCHOR"])
        self.period_days = int(cfg["PAY_PERIOD_DAYS"])
        self.periods = self._periods()
        self.period_starts = [local_midnight_utc(p.start, self.zone) for p in self.periods]
        self.current_start = local_midnight_utc(self.periods[-1].end, self.zone)
        self.offsets = self._offsets()
        self.snapshots: dict[date, list[dict]] = {}
        self.emails: set[str] = set()
        self.templates = [
            [(t, _minutes(s), _minutes(e), b) for t, s, e, b in group]
            for group in (DAY, EVENING, NIGHT)
        ]
        self.shifts_made = 0

    # periods and clocks

    def _periods(self) -> list[Period]:
        """Every pay period from the one holding the first day to the last that has ended."""
        period = period_containing(self.first_day, self.anchor, self.period_days)
        out = []
        while period.end <= self.today:
            out.append(period)
            period = Period(period.end, period.end + timedelta(days=self.period_days))
        return out

    def _offsets(self) -> dict[date, timedelta | None]:
        """Each local day's UTC offset, None on the days the clocks change (those go through
        portal.timeutil, which knows about skipped and repeated hours)."""
        out: dict[date, timedelta | None] = {}
        day = self.first_day - timedelta(days=2)
        last = self.today + timedelta(days=SLOTS_AHEAD + 3)
        while day <= last:
            here = datetime.combine(day, time(0), tzinfo=self.zone).utcoffset()
            there = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).utcoffset()
            out[day] = here if here == there else None
            day += timedelta(days=1)
        return out

    def _span(self, day: date, start: int, end: int) -> tuple[datetime, datetime]:
        """UTC instants of a local shift from ``start`` to ``end`` minutes past midnight (an end
        at or before the start is the next day)."""
        end_day = day + timedelta(days=1) if end < start else day
        here, there = self.offsets.get(day), self.offsets.get(end_day)
        if here is None or there is None:
            return local_span_to_utc(day, _clock(start), _clock(end), self.zone)
        base = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end_base = datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC)
        return (
            base + timedelta(minutes=start) - here,
            end_base + timedelta(minutes=end) - there,
        )

    def _local_instant(self, day: date, at: time) -> datetime:
        try:
            return local_to_utc(day, at, self.zone)
        except NonexistentLocalTime:
            return local_to_utc(day, time(at.hour + 1, at.minute), self.zone)

    def _name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def _email(self, name: str, slug: str) -> str:
        first, last = name.lower().split(" ", 1)
        base = f"{first}.{last.replace(' ', '')}"
        email, n = f"{base}@{slug}.{DOMAIN}", 1
        while email in self.emails:
            n += 1
            email = f"{base}{n}@{slug}.{DOMAIN}"
        self.emails.add(email)
        return email

    def _user(
        self,
        email: str,
        name: str,
        org: int,
        roles,
        site: int | None = None,
        title: str | None = None,
        active: bool = True,
        since: date | None = None,
    ) -> int:
        uid = self.loader.new_id("users")
        two_factor = bool(set(roles) & set(REQUIRED_ROLES))
        self.loader.add("users", {
            "id": uid, "email": email, "name": name, "password_hash": self.password_hash,
            "active": active, "organisation_id": org, "site_id": site, "job_title": title,
            "checkin_reminders": "worker" in roles and self.rng.random() < 0.3,
            "session_version": 1,
            "totp_secret": BENCH_TOTP_SECRET if two_factor else None,
            "totp_enabled_at": self.now if two_factor else None,
            "created_at": local_midnight_utc(since or self.first_day, self.zone),
        })  # fmt: skip
        for role in roles:
            self.loader.add("user_roles", {"user_id": uid, "role": role})
        return uid

    # organisations and staff

    def organisations(self) -> list[Provider]:
        """The funder, its providers with sites, staff, pay policy, standards, counselling hours
        and closed pay periods; the workers' positions and engagements planned."""
        rng, add = self.rng, self.loader.add
        funder = self.loader.new_id("organisations")
        add("organisations", {"id": funder, "name": FUNDER_NAME, "kind": "funder"})
        n_providers = max(2, math.ceil(self.n_workers / WORKERS_PER_PROVIDER))
        self._user(FUNDER_EMAIL, "Morgan Ellery", funder, ("funder",))
        providers = []
        for k in range(n_providers):
            oid = self.loader.new_id("organisations")
            name = (f"{PROVIDER_WORDS[0][k % 6]} {PROVIDER_WORDS[1][k // 6 % 6]} "
                    f"{k + 1:03d} (bench)")  # fmt: skip
            add("organisations", {"id": oid, "name": name, "kind": "provider",
                                  "funded_by_id": funder})  # fmt: skip
            slug = f"p{k + 1:03d}"
            sites = []
            for site_name in rng.sample(NEIGHBOURHOODS, rng.randint(2, 4)):
                sid = self.loader.new_id("sites")
                add("sites", {"id": sid, "organisation_id": oid, "name": site_name})
                sites.append(sid)
            workers = self.n_workers // n_providers + (k < self.n_workers % n_providers)
            if k == 0:
                self._user(ADMIN_EMAIL, "Riley Admin", oid, ("admin",))
            supervisors = {}
            for sid in sites:
                name = self._name()
                supervisors[sid] = self._user(self._email(name, slug), name, oid,
                                              ("supervisor",), site=sid)  # fmt: skip
            provider = Provider(
                id=oid, name=name, slug=slug, sites=sites, supervisors=supervisors,
                hr=self._user(f"hr@{slug}.{DOMAIN}", self._name(), oid, ("hr",)),
                leader=self._user(f"leader@{slug}.{DOMAIN}", self._name(), oid, ("leader",)),
                counselors=[
                    self._user(f"counselor{c + 1}@{slug}.{DOMAIN}", self._name(), oid,
                               ("counselor",))
                    for c in range(max(1, math.ceil(workers / WORKERS_PER_COUNSELOR)))
                ],
                workers=workers,
            )  # fmt: skip
            self._pay_setup(provider, k)
            self._counseling_hours(provider)
            self._plan_people(provider)
            providers.append(provider)
        return providers

    def _pay_setup(self, provider: Provider, k: int) -> None:
        """Policy, a nights differential at every third provider, on-call stipends at most,
        the floor and a target per job title, and every ended pay period, closed by HR."""
        add, oid = self.loader.add, provider.id
        add("pay_policies", {"organisation_id": oid, "workweek_start": self.anchor.weekday(),
                             "period_days": self.period_days, "period_anchor": self.anchor,
                             "updated_by_id": provider.hr})  # fmt: skip
        if k % 3 == 0:
            add("pay_differentials", {"id": self.loader.new_id("pay_differentials"),
                                      "organisation_id": oid, "name": "Nights",
                                      "start_time": time(22), "end_time": time(6),
                                      "per_hour": Decimal("2.00")})  # fmt: skip
        if k % 4 != 3:
            add("shift_stipends", {"id": self.loader.new_id("shift_stipends"),
                                   "organisation_id": oid, "shift_type": "on_call",
                                   "amount": Decimal(35 + 5 * (k % 3))})  # fmt: skip
        since = self.first_day - timedelta(days=365)
        standards = [("floor", None, DEMO_FLOOR)] + [
            ("target", title, name) for title, name in DEMO_TARGETS.items()
        ]
        for role, title, benchmark in standards:
            add("wage_standards", {
                "id": self.loader.new_id("wage_standards"), "organisation_id": oid,
                "role": role, "job_title": title, "benchmark_name": benchmark,
                "effective_from": since, "reason": "Board decision on fair pay",
                "set_by_id": provider.hr,
            })  # fmt: skip
        for period in self.periods:
            pid = self.loader.new_id("pay_periods")
            provider.period_ids.append(pid)
            closed = min(self._local_instant(period.end + timedelta(days=2), time(10)), self.now)
            add("pay_periods", {"id": pid, "organisation_id": oid, "start_date": period.start,
                                "end_date": period.end, "closed_at": closed,
                                "closed_by_id": provider.hr})  # fmt: skip

    def _counseling_hours(self, provider: Provider) -> None:
        """Each counsellor's weekly hours, and their slots from the first day to four weeks on."""
        add = self.loader.add
        last = self.today + timedelta(days=SLOTS_AHEAD)
        length = timedelta(minutes=SLOT_MINUTES)
        for counselor in provider.counselors:
            for weekday, start, end, mode in COUNSELING_HOURS:
                rule = self.loader.new_id("availability_rules")
                add("availability_rules", {
                    "id": rule, "counselor_id": counselor, "organisation_id": provider.id,
                    "weekday": weekday, "start_time": start, "end_time": end,
                    "slot_minutes": SLOT_MINUTES, "mode": mode,
                    "location": "Programme office, room 2" if mode == "in_person" else "",
                    "video_link": "https://video.example.org/bench" if mode == "video" else "",
                    "valid_from": self.first_day,
                    "created_at": local_midnight_utc(self.first_day, self.zone),
                })  # fmt: skip
                day = self.first_day + timedelta(days=(weekday - self.first_day.weekday()) % 7)
                while day <= last:
                    at = datetime.combine(day, start)
                    while at + length <= datetime.combine(day, end):
                        try:
                            begins = local_to_utc(day, at.time(), self.zone)
                        except NonexistentLocalTime:
                            at += length
                            continue
                        sid = self.loader.new_id("counseling_slots")
                        add("counseling_slots", {
                            "id": sid, "counselor_id": counselor,
                            "organisation_id": provider.id, "start_at": begins,
                            "end_at": begins + length, "mode": mode, "rule_id": rule,
                            "location": "Programme office, room 2" if mode == "in_person" else "",
                            "created_at": begins - timedelta(days=30),
                        })  # fmt: skip
                        provider.slots.append((begins, sid, counselor))
                        at += length
                    day += timedelta(days=7)
        provider.slots.sort()

    def _plan_people(self, provider: Provider) -> None:
        """Positions held by chains of engagements: hires, separations, replacements, returns."""
        rng = self.rng
        former: list[Person] = []
        for k in range(provider.workers):
            site = provider.sites[k % len(provider.sites)]
            tenure = min(rng.expovariate(1 / MEAN_TENURE_BEFORE), 12 * 365)
            start = self.first_day - timedelta(days=int(tenure))
            person = self._person(provider)
            while True:
                stay = rng.expovariate(HAZARD)
                leave = max(start, self.first_day) + timedelta(days=int(stay))
                if leave >= self.today:
                    person.spells.append(Spell(site, start, None))
                    break
                reason = rng.choices(*SEPARATION_REASONS)[0]
                person.spells.append(Spell(site, start, leave, reason))
                former.append(person)
                start = leave + timedelta(days=rng.randint(15, 60))
                if start > self.today:
                    break
                back = [p for p in former if p.spells[-1].end < start - timedelta(days=14)]
                if back and rng.random() < REHIRE_SHARE:
                    person = rng.choice(back)
                    former.remove(person)
                else:
                    person = self._person(provider)
        for person in provider.people:
            spell = person.spells[-1]
            person.id = self._user(self._email(person.name, provider.slug), person.name,
                                   provider.id, ("worker",), site=spell.site_id,
                                   title=person.title, active=person.active,
                                   since=person.spells[0].start)  # fmt: skip

    def _person(self, provider: Provider) -> Person:
        rng = self.rng
        roll = rng.random()
        classification = (
            "employee_exempt" if roll < EXEMPT_SHARE
            else "contractor" if roll < EXEMPT_SHARE + CONTRACTOR_SHARE
            else "employee_nonexempt"
        )  # fmt: skip
        person = Person(
            id=0, org=provider.id, name=self._name(), title=rng.choices(*TITLES)[0],
            classification=classification,
        )  # fmt: skip
        provider.people.append(person)
        return person

    # workers' rows

    def people(self, provider: Provider, progress) -> None:
        """Engagements, rates, shifts, statements and wellbeing of the provider's workers."""
        provider.policy = pay_service.load_policy(provider.id)
        taken: set[int] = set()
        for person in provider.people:
            self._engagements(person)
            rates = self._rates(person, provider)
            shifts = self._shifts(person, provider)
            self._statements(person, provider, rates, shifts)  # sets the shifts' paid period
            for shift in shifts:
                self.loader.add("shifts", shift.row)
            self._wellbeing(person, provider, shifts, taken)
            progress.update(1)

    def _engagements(self, person: Person) -> None:
        for spell in person.spells:
            self.loader.add("engagements", {
                "id": self.loader.new_id("engagements"), "user_id": person.id,
                "organisation_id": person.org, "started_on": spell.start,
                "ended_on": spell.end, "end_reason": spell.reason,
                "created_at": local_midnight_utc(spell.start, self.zone),
            })  # fmt: skip

    def _rates(self, person: Person, provider: Provider) -> list[_Rate]:
        """A starting rate at every hire, raises most Januaries while engaged; as rows, and as
        the arithmetic's values."""
        rng = self.rng
        out = []
        classification = person.classification
        amount = (Decimal(rng.randrange(44, 58) * 1000) if classification == "employee_exempt"
                  else Decimal(rng.choice(STARTING_RATES)))  # fmt: skip
        if classification == "contractor":
            amount += Decimal(3)
        for n, spell in enumerate(person.spells):
            changes = [(spell.start, "Starting rate" if n == 0 else "Rehired")]
            last = min(spell.end or self.today, self.today)
            for year in range(spell.start.year + 1, last.year + 1):
                if rng.random() < RAISE_SHARE:
                    changes.append((date(year, 1, 1), "Annual raise"))
            for day, reason in changes:
                if reason == "Annual raise":
                    if classification == "employee_exempt":
                        amount = (amount * Decimal("1.03")).quantize(Decimal(1))
                    else:
                        amount += Decimal(rng.choice(("0.50", "0.75", "1.00", "1.50")))
                    if classification == "contractor" and rng.random() < 0.4:
                        classification, reason = "employee_nonexempt", "Hired as an employee"
                exempt = classification == "employee_exempt"
                if day not in self.snapshots:
                    self.snapshots[day] = benchmarks_in_force(day)
                self.loader.add("pay_rates", {
                    "id": self.loader.new_id("pay_rates"), "worker_id": person.id,
                    "organisation_id": person.org, "effective_from": day,
                    "classification": classification,
                    "hourly_rate": None if exempt else amount,
                    "annual_salary": amount if exempt else None, "reason": reason,
                    "set_by_id": provider.hr, "benchmarks_in_force": self.snapshots[day],
                    "created_at": local_midnight_utc(day, self.zone),
                })  # fmt: skip
                out.append(
                    _Rate(
                        day, classification, None if exempt else amount, amount if exempt else None
                    )
                )
        return out

    def _shifts(self, person: Person, provider: Provider) -> list[_Worked]:
        """About five shifts a week in every engagement, rested between, all already worked; their
        rows are added once the statements have locked them."""
        rng, now = self.rng, self.now
        pattern = rng.choice(PATTERNS)
        weights = [sum(pattern[: i + 1]) for i in range(3)]
        counts, count_weights = SHIFTS_A_WEEK
        out: list[_Worked] = []
        for spell in person.spells:
            lo = max(spell.start, self.first_day)
            hi = min(spell.end or self.today, self.today)
            if hi < lo:
                continue
            away = [s for s in provider.sites if s != spell.site_id]
            supervisor = provider.supervisors[spell.site_id]
            week = lo - timedelta(days=(lo.weekday() + 1) % 7)
            prev_end = None
            while week <= hi:
                n = rng.choices(counts, count_weights)[0]
                for offset in sorted(rng.sample(range(7), n)):
                    day = week + timedelta(days=offset)
                    if day < lo or day > hi:
                        continue
                    picked = self._pick(weights, day, prev_end)
                    if picked is None or picked[2] > now:
                        continue
                    kind, start, end, pause = picked
                    prev_end = end
                    site = rng.choice(away) if away and rng.random() < 0.08 else spell.site_id
                    worked = int((end - start).total_seconds()) // 60 - pause
                    sid = self.loader.new_id("shifts")
                    status, reviewed, reason, created = self._review(start, end)
                    shift = _Worked(sid, start, end, pause, kind, worked, status == "approved")
                    conflicts, engaged, referrals = _outputs(rng, kind)
                    shift.row = {
                        "id": sid, "worker_id": person.id, "organisation_id": person.org,
                        "site_id": site, "shift_type": kind, "start_at": start, "end_at": end,
                        "break_minutes": pause, "worked_minutes": worked,
                        "conflicts_interrupted": conflicts, "individuals_engaged": engaged,
                        "referrals": referrals,
                        "note": rng.choice(NOTES[kind]) if rng.random() < 0.2 else "",
                        "status": status, "return_reason": reason,
                        "reviewed_by_id": supervisor if reviewed else None,
                        "reviewed_at": reviewed, "created_at": created,
                        "updated_at": reviewed or created, "paid_in_period_id": None,
                    }  # fmt: skip
                    out.append(shift)
                week += timedelta(days=7)
        self.shifts_made += len(out)
        return out

    def _pick(self, weights, day: date, prev_end: datetime | None):
        """A shift on a local day in the worker's pattern, rested after the last; None if none
        fits (as the demo seed picks them, with a few minutes late or over)."""
        rng = self.rng
        for _ in range(4):
            roll = rng.random() * weights[2]
            group = self.templates[0 if roll < weights[0] else 1 if roll < weights[1] else 2]
            kind, start, end, pause = group[int(rng.random() * len(group))]
            late = (0, 0, 0, 15, 30)[int(rng.random() * 5)]
            over = (0, 0, 0, 0, 15, 30, 45, 60)[int(rng.random() * 8)]
            try:
                start_at, end_at = self._span(day, (start + late) % 1440,
                                              (end + late + over) % 1440)  # fmt: skip
            except NonexistentLocalTime:
                continue
            if prev_end is not None and start_at < prev_end + MIN_REST:
                continue
            if end_at - start_at > timedelta(hours=16):
                continue
            return kind, start_at, end_at, pause
        return None

    def _review(self, start: datetime, end: datetime):
        """Status, review time, return reason and entry time of a shift."""
        rng, now = self.rng, self.now
        created = min(end + timedelta(minutes=rng.randint(20, 600)), now)
        reviewed = min(created + timedelta(hours=rng.randint(3, 60)), now)
        if start < self.current_start:
            return "approved", reviewed, None, created
        roll = rng.random()
        if roll < 0.02:
            return "returned", reviewed, rng.choice(RETURN_REASONS), created
        if end <= now - timedelta(days=1) and roll < 0.6:
            return "approved", reviewed, None, created
        return "submitted", None, None, created

    def _statements(self, person: Person, provider: Provider, rates, shifts) -> None:
        """A statement for every closed period the person worked in (salaried staff: every
        closed period of their engagements), priced and stored as close_period does; the shifts
        it pays are locked into the period.

        Only the last DETAILED_PERIODS statements keep the per-shift table of "why is this my
        pay?" (it prices every shift a second time, and most of the build's time went there);
        older ones keep the weekly figures, every line exact."""
        policy = provider.policy
        detailed_from = len(self.periods) - DETAILED_PERIODS
        by_period: dict[int, list[_Worked]] = defaultdict(list)
        for shift in shifts:
            if shift.approved and shift.start < self.current_start:
                by_period[bisect_right(self.period_starts, shift.start) - 1].append(shift)
        if person.classification == "employee_exempt":
            for spell in person.spells:
                end = spell.end or self.today
                for index, period in enumerate(self.periods):
                    if period.start <= end and period.end > spell.start:
                        by_period.setdefault(index, [])
        for index in sorted(by_period):
            worked = by_period[index]
            period, pid = self.periods[index], provider.period_ids[index]
            priced = pay_service.price(person.id, period, policy, rates, worked, [], [])
            if index < detailed_from:
                priced.shifts = []
                for week in priced.statement.weeks:
                    week.shift_ids = []
            row = pay_service.statement_row(pid, provider.id, person.id, priced, policy)
            row["id"] = self.loader.new_id("pay_statements")
            row["created_at"] = min(self._local_instant(period.end + timedelta(days=2), time(10)),
                                    self.now)  # fmt: skip
            self.loader.add("pay_statements", row)
            for shift in worked:
                shift.row["paid_in_period_id"] = pid

    # wellbeing

    def _wellbeing(self, person: Person, provider: Provider, shifts, taken: set[int]) -> None:
        """Exposures on shifts, check-ins, support requests and the sessions booked from them."""
        rng, add, now = self.rng, self.loader.add, self.now
        categories, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
        for shift in shifts:
            if rng.random() >= EXPOSURE_ODDS[shift.kind]:
                continue
            category = rng.choices(categories, weights)[0]
            severity = rng.choices((1, 2, 3, 4, 5), (3, 4, 3, 1.5, 0.5))[0]
            critical = severity >= 4 or category == "threatened_assaulted"
            accepted = critical and rng.random() < 0.35
            eid = self.loader.new_id("exposures")
            reported = min(shift.end + timedelta(minutes=rng.randint(10, 240)), now)
            add("exposures", {
                "id": eid, "worker_id": person.id, "organisation_id": person.org,
                "occurred_at": shift.start + (shift.end - shift.start) / 2,
                "shift_id": shift.id, "category": category, "severity": severity,
                "note": rng.choice(EXPOSURE_NOTES),
                "offer_status": ("accepted" if accepted else "declined") if critical else None,
                "created_at": reported,
            })  # fmt: skip
            if accepted:
                self._request(person, provider, "after_incident", "urgent", "after_incident",
                              reported + timedelta(minutes=2), taken, exposure_id=eid)  # fmt: skip

        for spell in person.spells:
            lo = local_midnight_utc(max(spell.start, self.first_day), self.zone)
            hi = min(local_midnight_utc((spell.end or self.today) + timedelta(days=1), self.zone),
                     now)  # fmt: skip
            if hi <= lo:
                continue
            years = (hi - lo).total_seconds() / (365.25 * 86400)
            if rng.random() < CHECKIN_SHARE:
                self._checkins(person, provider, lo, hi, taken)
            for _ in range(_poisson(rng, REQUESTS_A_YEAR * years)):
                created = lo + (hi - lo) * rng.random()
                kind = rng.choices(*REQUEST_KINDS)[0]
                urgency = rng.choices(("urgent", "soon", "whenever"), (1, 5, 3))[0]
                self._request(person, provider, kind, urgency, "worker", created, taken)

    def _checkins(self, person: Person, provider: Provider, lo, hi, taken) -> None:
        """Weekly-ish WHO-5 check-ins; a low one sometimes asks for outreach."""
        rng = self.rng
        base = rng.randint(8, 21)
        at = lo + timedelta(hours=rng.randint(10, 40))
        while at < hi:
            if rng.random() < WEEKLY_CHECKIN:
                base = max(4, min(24, base + rng.randint(-1, 1)))
                items = [max(0, min(5, base // 4 + rng.randint(-1, 1))) for _ in range(5)]
                score = sum(items) * 4
                outreach = score <= 28 and rng.random() < 0.5
                cid = self.loader.new_id("checkins")
                self.loader.add("checkins", {
                    "id": cid, "worker_id": person.id, "organisation_id": person.org,
                    **{f"item{i + 1}": v for i, v in enumerate(items)}, "score": score,
                    "wants_outreach": outreach, "share_with_counsellors": rng.random() < 0.3,
                    "created_at": at,
                })  # fmt: skip
                if outreach:
                    self._request(person, provider, "counselling_session", "soon", "checkin",
                                  at + timedelta(minutes=1), taken, checkin_id=cid)  # fmt: skip
            at += timedelta(days=7, hours=rng.randint(-30, 30))

    def _request(self, person, provider, kind, urgency, source, created, taken, **refs) -> None:
        """A support request, acknowledged after a log-normal delay; the kinds a counsellor
        meets become sessions in the counsellor's next free slot (and some follow-ups)."""
        rng, now = self.rng, self.now
        if created > now:
            return
        counselor = rng.choice(provider.counselors)
        delay = timedelta(hours=rng.lognormvariate(math.log(ACK_MEDIAN_HOURS[urgency]), 0.9))
        acknowledged = created + delay if created + delay <= now else None
        status, scheduled, closed = "open", None, None
        rid = self.loader.new_id("support_requests")
        sessions = []
        if acknowledged is not None:
            status = "acknowledged"
            if kind in BOOKED_KINDS and rng.random() < 0.7:
                slot = self._free_slot(provider, acknowledged + timedelta(hours=20), taken)
                if slot is not None:
                    sessions.append(slot)
                    follow = slot[0]
                    for _ in range(rng.choice((0, 0, 1, 2, 3, 4))):
                        follow = self._free_slot(provider, follow + timedelta(days=12), taken)
                        if follow is None:
                            break
                        sessions.append(follow)
                        follow = follow[0]
                    scheduled = sessions[0][0]
                    status = "scheduled"
                    last_end = sessions[-1][0] + timedelta(minutes=SLOT_MINUTES)
                    if last_end + timedelta(days=1) <= now:
                        status, closed = "closed", last_end + timedelta(days=1)
            else:
                done = acknowledged + timedelta(days=rng.randint(1, 10))
                if done <= now:
                    status, closed = "closed", done
        self.loader.add("support_requests", {
            "id": rid, "worker_id": person.id, "organisation_id": person.org, "kind": kind,
            "urgency": urgency, "contact_method": rng.choice(("phone", "text", "email")),
            "source": source, "status": status,
            "wellness_date": (created + timedelta(days=rng.randint(3, 10))).date()
            if kind == "wellness_day" else None,
            "counselor_id": counselor if acknowledged else None,
            "acknowledged_at": acknowledged, "scheduled_for": scheduled, "closed_at": closed,
            "created_at": created, **refs,
        })  # fmt: skip
        for start, slot_id, _counselor in sessions:
            ended = start + timedelta(minutes=SLOT_MINUTES) <= now
            roll = rng.random()
            status = ("completed" if roll < 0.85 else "missed" if roll < 0.92 else "cancelled"
                      ) if ended else ("cancelled" if roll < 0.05 else "booked")  # fmt: skip
            cancelled = status == "cancelled"
            self.loader.add("bookings", {
                "id": self.loader.new_id("bookings"), "slot_id": slot_id,
                "active_slot_id": None if cancelled else slot_id, "worker_id": person.id,
                "organisation_id": person.org, "status": status, "support_request_id": rid,
                "cancelled_at": min(start - timedelta(days=2), now) if cancelled else None,
                "cancelled_by": "worker" if cancelled else None,
                "called_to_incident": cancelled and rng.random() < 0.3,
                "created_at": min(acknowledged + timedelta(hours=1), start),
            })  # fmt: skip

    def _free_slot(self, provider: Provider, after: datetime, taken: set[int]):
        """The first slot of the provider's counsellors after ``after`` (within three weeks)."""
        slots = provider.slots
        i = bisect_right(slots, (after, 0, 0))
        limit = after + timedelta(days=21)
        while i < len(slots) and slots[i][0] < limit:
            if slots[i][1] not in taken:
                taken.add(slots[i][1])
                return slots[i]
            i += 1
        return None


class _Worked:
    """A shift as the pay arithmetic reads it (portal.pay.service.to_worked), and its row."""

    __slots__ = ("id", "start", "end", "break_minutes", "kind", "worked_minutes", "approved",
                 "row")  # fmt: skip

    def __init__(self, sid, start, end, pause, kind, worked, approved):
        self.id, self.start, self.end, self.break_minutes = sid, start, end, pause
        self.kind, self.worked_minutes, self.approved, self.row = kind, worked, approved, None

    # The names portal.pay.service reads from a Shift.
    start_at = property(lambda self: self.start)
    end_at = property(lambda self: self.end)
    shift_type = property(lambda self: self.kind)


def _outputs(rng: random.Random, kind: str) -> tuple[int, int, int]:
    """Conflicts interrupted, individuals engaged, referrals (the demo seed's distributions)."""
    if kind in ("training", "admin"):
        return 0, 0, 0
    conflicts = rng.choices((0, 1, 2, 3), weights=(55, 28, 12, 5))[0]
    referrals = rng.choices((0, 1, 2, 3), weights=(50, 30, 15, 5))[0]
    if kind == "street_outreach":
        return conflicts, rng.randint(2, 12), referrals
    if kind == "hospital_response":
        return min(conflicts, 2), rng.randint(1, 6), referrals
    if kind == "community_event":
        return min(conflicts, 1), rng.randint(4, 12), referrals
    return min(conflicts, 2), rng.randint(0, 5), min(referrals, 2)  # on call


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means here are small)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _minutes(hhmm: str) -> int:
    hours, minutes = map(int, hhmm.split(":"))
    return hours * 60 + minutes


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


# --- the command --------------------------------------------------------------------------------


def _held_data() -> dict[str, int]:
    """Rows of the tables a previous load or real use fills (not the migrations' reference data)."""
    if not sa.inspect(db.session.connection()).has_table(User.__tablename__):
        raise BenchSeedError(
            "The database has no tables yet: run `flask --app wsgi db upgrade` first."
        )
    counts = {}
    for model in (Organisation, User, Shift):
        counts[model.__tablename__] = db.session.scalar(
            sa.select(sa.func.count()).select_from(model)
        )
    return {name: n for name, n in counts.items() if n}


def reset_tables() -> None:
    """Empty every table except the benchmark figures the migrations load."""
    keep = {"benchmarks"}
    tables = [t for t in db.metadata.sorted_tables if t.name not in keep]
    if db.session.get_bind().dialect.name == "postgresql":
        # TRUNCATE does not fire the row trigger that keeps audit_events append-only.
        names = ", ".join(t.name for t in tables)
        db.session.execute(sa.text(f"TRUNCATE TABLE {names} RESTART IDENTITY"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())


def seed_bench(workers: int, years: int, reset: bool = False, seed: int = RANDOM_SEED,
               now: datetime | None = None, progress=None) -> dict:  # fmt: skip
    """Build the benchmark dataset; returns the row counts and the seconds it took.

    ``progress(length)`` returns a context manager with ``update(n)`` (click.progressbar); by
    default nothing is shown. Commits once, at the end.
    """
    env = current_app.config.get("FAIRSHIFT_ENV")
    if env not in ALLOWED_ENVS:
        raise BenchSeedError(
            f"seed-bench refuses to run with the {env} config: its accounts share a published "
            "password and --reset empties every table. Nothing was written."
        )
    if workers < 1 or years < 1:
        raise BenchSeedError("--workers and --years must be at least 1.")
    held = _held_data()
    if held and not reset:
        found = ", ".join(f"{n:,} {name}" for name, n in held.items())
        raise BenchSeedError(
            f"The database already holds data ({found}). seed-bench loads an empty database; "
            "run it with --reset to empty every table first. Nothing was written."
        )
    if now is not None and now.tzinfo is None:
        raise ValueError("seed_bench needs an aware datetime")
    started = clock.perf_counter()
    if held:
        reset_tables()
    builder = _Builder(workers, years, seed, (now or utcnow()).astimezone(UTC))
    providers = builder.organisations()
    builder.loader.flush()
    total = sum(len(p.people) for p in providers)
    with (progress or _Silent)(total) as bar:
        for provider in providers:
            builder.people(provider, bar)
    builder.loader.finish()
    shift_totals.rebuild()  # the loader writes around the session's flush hook
    # The leaders' twelve-month trend, as the nightly snapshot-fair-pay command leaves it.
    snapshots = sum(fairness.record_snapshots(p.id, builder.today) for p in providers)
    db.session.commit()
    counts = dict(builder.loader.counts)
    counts["fair_pay_snapshots"] = snapshots
    return {
        "seconds": clock.perf_counter() - started,
        "counts": {
            t.name: counts.get(t.name, 0) for t in db.metadata.sorted_tables if counts.get(t.name)
        },  # fmt: skip
        "providers": len(providers),
        "workers": workers,
        "people": total,
        "first_day": builder.first_day,
        "last_day": builder.today,
        "periods": len(builder.periods),
        "dialect": db.session.get_bind().dialect.name,
    }


class _Silent:
    """A progress bar that shows nothing."""

    def __init__(self, _length: int):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False

    def update(self, _n: int) -> None:
        pass


def register_cli(app) -> None:
    """Register the seed-bench command."""

    @app.cli.command("seed-bench")
    @click.option("--workers", default=40, show_default=True, help="Worker positions (headcount).")
    @click.option("--years", default=3, show_default=True, help="Years of history up to today.")
    @click.option("--reset", is_flag=True, help="Empty every table first (never in production).")
    @click.option("--seed", default=RANDOM_SEED, show_default=True, help="Random seed.")
    def seed_bench_command(workers: int, years: int, reset: bool, seed: int) -> None:
        """Load a large fictional programme for benchmarks (refused in production)."""

        def bar(length):
            return click.progressbar(length=length, label="Workers", show_pos=True)

        try:
            summary = seed_bench(workers, years, reset=reset, seed=seed, progress=bar)
        except BenchSeedError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(report(summary))


def report(summary: dict) -> str:
    """What the command prints: time, span, row counts, and how to sign in."""
    lines = [
        f"Bench data created in {summary['seconds']:.1f} s on {summary['dialect']}: "
        f"{summary['workers']:,} positions at {summary['providers']} providers, "
        f"{summary['people']:,} workers over time, {summary['first_day']:%b %-d, %Y} to "
        f"{summary['last_day']:%b %-d, %Y}, {summary['periods']} pay periods closed.",
        "Rows:",
    ]
    lines += [f"  {name:<22}{n:>12,}" for name, n in summary["counts"].items()]
    lines.append(
        f"Sign in with the password {BENCH_PASSWORD} as {FUNDER_EMAIL}, {ADMIN_EMAIL}, or "
        f"leader@p001.{DOMAIN} / hr@p001.{DOMAIN} / counselor1@p001.{DOMAIN} (each provider "
        f"pNNN has the same); two-factor codes come from the secret {BENCH_TOTP_SECRET}."
    )
    return "\n".join(lines)
