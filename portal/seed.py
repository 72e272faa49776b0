"""Demo data: `flask --app wsgi seed-demo` loads a fictional CVI programme to explore the portal.

Everything here is invented: the two providers, the people and their shifts. Only the three St.
Louis neighbourhoods the city's programme serves are real place names. The command

- refuses to run with any configuration but development or testing (the demo accounts share a
  published password), and writes nothing then;
- runs once: when the demo accounts are already there it says so and changes nothing, so
  `make run` can call it every time;
- is deterministic for a given "now" (a fixed random seed), so the same day gives the same data.

It creates the funder, two providers, the three sites, the seven SPEC §6 accounts (password
``demo-pass-2026``), a supervisor for every site, about 30 workers and 12 months of their shifts
ending today: approved before the current pay period, a mix of submitted and approved in it, and
one or two returned shifts for the demo worker.

Trauma exposures, check-ins, support requests, counselling slots and bookings are part of the
demo programme too (SPEC §6), but their models do not exist yet: they are seeded here when those
models arrive (one generator per model, called from ``seed_demo`` before the single commit). No
tables are invented for them in the meantime.
"""

from __future__ import annotations

import random
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import current_app

from portal.auth.twofactor import REQUIRED_ROLES as TWO_FACTOR_ROLES
from portal.extensions import db
from portal.models import (
    MAX_SHIFT_HOURS,
    Engagement,
    OnCallPeriod,
    OnCallSwap,
    Organisation,
    PayDifferential,
    PayPolicy,
    PayRate,
    Shift,
    ShiftStipend,
    Site,
    User,
    WageStandard,
)
from portal.pay import fairness
from portal.pay.periods import Period, period_containing
from portal.shifts import totals as shift_totals
from portal.timeutil import (
    NonexistentLocalTime,
    local_midnight_utc,
    local_span_to_utc,
    local_zone,
    utcnow,
)

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published on purpose (SPEC §6)
# The authenticator secret of every demo account whose role requires two-factor sign-in (hr,
# counselor, admin, funder), published in the README like the password: add it to an
# authenticator app, or print the current code with pyotp.
DEMO_TOTP_SECRET = "FAIRSHIFTDEMOTWOFACTORSECRETABCD"  # noqa: S105 - published on purpose
RANDOM_SEED = 2026
ALREADY_PRESENT = "Demo data already present; nothing to do."
ALLOWED_ENVS = ("development", "testing", "DevelopmentConfig", "TestingConfig")
MIN_REST = timedelta(hours=8)  # between the end of one shift and the start of the next
MAX_FUTURE = timedelta(hours=23)  # a planned shift starts within a day (the form allows 24 h)
MIN_DEMO_CURRENT = 3  # the demo worker's shifts in the current pay period, at least
CHUNK = 1000

FUNDER = "City Office of Violence Prevention (demo)"
FUNDER_DOMAIN = "ovp-demo.example"
# key, name, e-mail domain, sites (the first is where the demo accounts of provider 1 sit).
PROVIDERS = [
    (
        "p1",
        "Riverbend Peace Alliance (demo)",
        "riverbend-peace.example",
        ["Dutchtown", "Walnut Park"],
    ),
    (
        "p2",
        "Northgate Community Outreach (demo)",
        "northgate-outreach.example",
        ["Hamilton Heights/Wells Goodfellow"],
    ),
]
# Workers per site: 30 in all, the demo worker among Dutchtown's.
WORKERS_PER_SITE = {"Dutchtown": 11, "Walnut Park": 9, "Hamilton Heights/Wells Goodfellow": 10}

# e-mail, name, roles, organisation key, site name (SPEC §6).
DEMO_ACCOUNTS = [
    ("worker@example.org", "Jordan Avery", ("worker",), "p1", "Dutchtown"),
    ("supervisor@example.org", "Denise Holloway", ("supervisor",), "p1", "Dutchtown"),
    ("counselor@example.org", "Mara Quinlan", ("counselor",), "p1", None),
    ("hr@example.org", "Glen Whitaker", ("hr",), "p1", None),
    ("leader@example.org", "Patrice Odom", ("leader",), "p1", None),
    ("funder@example.org", "Sam Okonkwo", ("funder",), "funder", None),
    ("admin@example.org", "Alex Rivera", ("admin",), "p1", None),
]
DEMO_WORKER = "worker@example.org"
# Further staff with provider addresses: a supervisor for every other site, HR and a leader
# for provider 2 (name, roles, organisation key, site name).
OTHER_STAFF = [
    ("Curtis Mabry", ("supervisor",), "p1", "Walnut Park"),
    ("Yolanda Starks", ("supervisor",), "p2", "Hamilton Heights/Wells Goodfellow"),
    ("Felicia Renfro", ("hr",), "p2", None),
    ("Victor Lockett", ("leader",), "p2", None),
]

FIRST_NAMES = [
    "Andre", "Tasha", "Marcus", "Keisha", "Darnell", "Monique", "Terrell", "Latoya", "Jamal",
    "Brianna", "DeShawn", "Imani", "Malik", "Shanice", "Reggie", "Tiana", "Quentin", "Alicia",
    "Cedric", "Dwayne", "Kendra", "Lamar", "Nia", "Omar", "Rosa", "Hector", "Carmen", "Travis",
    "Isaiah", "Crystal", "Anthony", "Jasmine", "Derrick", "Ebony",
]  # fmt: skip
LAST_NAMES = [
    "Bell", "Carter", "Price", "Whitfield", "Simmons", "Greer", "Tolliver", "Ransom", "Dorsey",
    "Pruitt", "Ealy", "Bivens", "Gaines", "Hatcher", "Mosley", "Thornton", "Vance", "Wilder",
    "Yancey", "Ortega", "Delgado", "Nwosu", "Abernathy", "Crenshaw", "Fairley", "Goins",
    "Tubbs", "Hairston", "McCrary", "Pettaway", "Spruill", "Northcutt",
]  # fmt: skip

# Wall-clock shift templates: type, start, end (before the start means the next day), break.
DAY = [
    ("street_outreach", "10:00", "18:00", 30),
    ("hospital_response", "07:00", "15:00", 30),
    ("community_event", "11:00", "17:00", 30),
    ("training", "09:00", "13:00", 0),
    ("training", "09:00", "17:00", 60),
    ("admin", "09:00", "13:00", 0),
]
EVENING = [
    ("street_outreach", "14:00", "22:00", 30),
    ("street_outreach", "16:00", "00:00", 30),
    ("street_outreach", "18:00", "02:00", 30),
    ("community_event", "17:00", "21:00", 0),
    ("hospital_response", "15:00", "23:00", 30),
]
NIGHT = [
    ("street_outreach", "22:00", "06:00", 30),
    ("hospital_response", "23:00", "07:00", 30),
    ("on_call", "18:00", "06:00", 0),
    ("on_call", "20:00", "08:00", 0),
]
# How a worker's shifts fall across the day (DAY, EVENING, NIGHT weights).
PATTERNS = [(6, 3, 1), (2, 6, 2), (2, 4, 4), (3, 4, 3)]
# Short slots used only to give the demo worker enough shifts early in a pay period.
TOP_UP = [
    ("admin", "08:00", "11:00", 0),
    ("training", "12:00", "15:00", 0),
    ("street_outreach", "16:00", "23:30", 30),
]

NOTES = {
    "street_outreach": [
        "Mediated a dispute between two groups near a corner store.",
        "Walked the corridor with the team; checked in with business owners.",
        "Follow-up visits on the block after last weekend's shooting.",
        "De-escalated an argument outside a gas station.",
        "Handed out resource cards at the bus stops.",
        "Checked on two young men at risk of retaliation; both agreed to a follow-up.",
    ],
    "hospital_response": [
        "Bedside response at the trauma unit; family connected to victim services.",
        "Met a family in the ER waiting room; referral to grief support.",
        "Hospital follow-up: safety plan and a housing referral.",
    ],
    "community_event": [
        "Peace walk with neighbours and faith leaders.",
        "Back-to-school giveaway; signed families up for programmes.",
        "Basketball night at the rec centre.",
    ],
    "training": [
        "De-escalation refresher.",
        "Trauma-informed care workshop.",
        "Mental Health First Aid certification day.",
    ],
    "admin": ["Case notes and referral paperwork.", "Team meeting and weekly debrief."],
    "on_call": [
        "Called out once after midnight; things had calmed down on arrival.",
        "Quiet night; phone check-ins only.",
    ],
}
RETURN_REASONS = [
    "The end time doesn't match the team sign-out sheet. Please check it and resubmit.",
    "No meal break entered; add the 30-minute break the team took.",
]


class SeedError(Exception):
    """The demo data cannot be loaded here (production config, no tables)."""


def demo_present() -> bool:
    """Whether the demo programme is already loaded (any demo account or organisation)."""
    if not sa.inspect(db.session.connection()).has_table(User.__tablename__):
        raise SeedError("The database has no tables yet: run `flask --app wsgi db upgrade` first.")
    emails = [email for email, *_ in DEMO_ACCOUNTS]
    names = [FUNDER] + [name for _, name, *_ in PROVIDERS]
    users = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.email.in_(emails))
    )
    orgs = db.session.scalar(
        sa.select(sa.func.count()).select_from(Organisation).where(Organisation.name.in_(names))
    )
    return bool(users or orgs)


def seed_demo(now: datetime | None = None, left_open: int = 1) -> dict:
    """Load the demo programme once; return a summary (``created`` False when already there).

    ``now`` (aware) fixes the instant the data ends at; tests pass one to pin the pay period.
    ``left_open`` ended pay periods (the latest) are left unclosed so HR can try closing one;
    the earlier ones are closed into statements. Commits once at the end.
    """
    env = current_app.config.get("FAIRSHIFT_ENV")
    if env not in ALLOWED_ENVS:
        raise SeedError(
            f"seed-demo refuses to run with the {env} config: the demo accounts share a "
            "published password. Nothing was written."
        )
    if now is not None and now.tzinfo is None:
        raise ValueError("seed_demo needs an aware datetime")
    if demo_present():
        return {"created": False}

    started = clock.perf_counter()
    now = (now or utcnow()).astimezone(UTC)
    zone = local_zone()
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=364)
    cfg = current_app.config
    period = period_containing(
        today, date.fromisoformat(cfg["PAY_PERIOD_ANCHOR"]), cfg["PAY_PERIOD_DAYS"]
    )
    rng = random.Random(RANDOM_SEED)
    joined = local_midnight_utc(first_day - timedelta(days=30), zone)

    orgs, sites = _organisations_and_sites()
    people = _people(rng, orgs, sites, joined)
    rows = _shifts(rng, people, sites, first_day, today, now, zone)
    _top_up_demo_worker(rng, rows, people["demo_worker"], period, today, now, zone)
    _statuses(rng, rows, people, period, now, zone)
    rows.sort(key=lambda row: (row["start_at"], row["worker_id"]))
    for i in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(Shift), rows[i : i + CHUNK])
    shift_totals.rebuild()  # the bulk insert went around the session's flush hook
    _engagements(people, rows, orgs, sites, first_day, today, zone)
    _pay(rng, orgs, people, first_day - timedelta(days=30))
    _wellbeing(rng, people, rows, now)
    _counseling(people, now)
    _on_call(people, sites, today, period, now, zone)
    _training(orgs, sites, people, first_day, today, now, zone)
    _safety(people, rows, now, zone)
    closed = _close_past_periods(orgs, today, left_open)
    for org in orgs.values():  # the leaders' twelve-month trend, as the nightly command would
        if org.kind == "provider":
            fairness.record_snapshots(org.id, today)
    db.session.commit()

    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    return {
        "created": True,
        "organisations": len(orgs),
        "sites": len(sites),
        "users": len(people["all"]),
        "workers": len(people["workers"]),
        "shifts": len(rows),
        "by_status": by_status,
        "first_day": first_day,
        "last_day": today,
        "period": period,
        "closed_periods": closed,
        "accounts": [
            (email, ", ".join(roles), _org_name(org), site or "")
            for email, _name, roles, org, site in DEMO_ACCOUNTS
        ],
        "seconds": clock.perf_counter() - started,
    }


# Pay: each provider's policy, then every worker's rate history. Demo rates sit above the
# Missouri minimum wage in force ($13.75 in 2025, $15.00 from 2026) and mostly below a living wage,
# as the field's pay does (SPEC §1).
POLICIES = {
    "p1": {"differentials": [("Nights", time(22), time(6), Decimal("2.00"))],
           "stipends": {"on_call": Decimal("40.00")}},
    "p2": {"differentials": [], "stipends": {"on_call": Decimal("35.00")}},
}  # fmt: skip
STARTING_RATES = ["16.50", "17.00", "17.25", "17.50", "18.00", "18.50", "19.00", "20.00", "21.50"]
NEW_YEAR = date(2026, 1, 1)
DEMO_FLOOR = "Missouri minimum wage"
DEMO_TARGETS = {
    "Violence interrupter": "BLS OEWS median Community Health Workers (SOC 21-1094)",
    "Outreach worker": "MIT living wage 1 adult 0 children (proxy: St. Clair County IL in the St. "
    "Louis MSA)",
    "Hospital responder": "BLS OEWS median Community Health Workers (SOC 21-1094)",
}


def _pay(rng: random.Random, orgs: dict[str, Organisation], people: dict, since: date) -> None:
    """Pay policies and rates: a raise at the new year for most; provider 2's first workers were
    contractors during the hand-over, then employees; one senior worker is salaried."""
    hr_by_org = {u.organisation_id: u.id for u in people["all"] if "hr" in u.roles}
    for key, org in orgs.items():
        if key not in POLICIES:
            continue
        anchor = date.fromisoformat(current_app.config["PAY_PERIOD_ANCHOR"])
        db.session.add(
            PayPolicy(organisation_id=org.id, period_anchor=anchor, workweek_start=anchor.weekday())
        )
        for name, start, end, amount in POLICIES[key]["differentials"]:
            db.session.add(
                PayDifferential(
                    organisation_id=org.id,
                    name=name,
                    start_time=start,
                    end_time=end,
                    per_hour=amount,
                )
            )
        for shift_type, amount in POLICIES[key]["stipends"].items():
            db.session.add(
                ShiftStipend(organisation_id=org.id, shift_type=shift_type, amount=amount)
            )
    p2 = orgs["p2"].id
    rows = []
    for n, worker in enumerate(people["workers"]):
        set_by = hr_by_org.get(worker.organisation_id)
        common = {
            "worker_id": worker.id,
            "organisation_id": worker.organisation_id,
            "set_by_id": set_by,
        }
        if worker.email == DEMO_WORKER:
            rows += [
                {
                    **common,
                    "effective_from": since,
                    "classification": "employee_nonexempt",
                    "hourly_rate": Decimal("17.00"),
                    "reason": "Starting rate",
                },
                {
                    **common,
                    "effective_from": NEW_YEAR,
                    "classification": "employee_nonexempt",
                    "hourly_rate": Decimal("18.50"),
                    "reason": "Annual raise",
                },
            ]
            continue
        if n == 1:
            rows.append(
                {
                    **common,
                    "effective_from": since,
                    "classification": "employee_exempt",
                    "annual_salary": Decimal("46000.00"),
                    "reason": "Senior outreach worker, salaried",
                }
            )
            continue
        start = Decimal(rng.choice(STARTING_RATES))
        contractor = worker.organisation_id == p2 and n % 3 == 0
        rows.append(
            {
                **common,
                "effective_from": since,
                "classification": "contractor" if contractor else "employee_nonexempt",
                "hourly_rate": start,
                "reason": "Contractor during the provider hand-over"
                if contractor
                else "Starting rate",
            }
        )
        if contractor or rng.random() < 0.8:
            rows.append(
                {
                    **common,
                    "effective_from": NEW_YEAR,
                    "classification": "employee_nonexempt",
                    "hourly_rate": start + Decimal("1.00"),
                    "reason": "Hired as an employee" if contractor else "Annual raise",
                }
            )
    titles = ["Violence interrupter", "Violence interrupter", "Outreach worker",
              "Hospital responder"]  # fmt: skip
    for n, worker in enumerate(people["workers"]):
        worker.job_title = "Violence interrupter" if n == 0 else titles[n % len(titles)]
    for key, org in orgs.items():
        if key == "funder":
            continue
        set_by = hr_by_org.get(org.id)
        db.session.add(
            WageStandard(
                organisation_id=org.id,
                role="floor",
                benchmark_name=DEMO_FLOOR,
                effective_from=since,
                reason="The legal minimum",
                set_by_id=set_by,
            )
        )
        for title, benchmark in DEMO_TARGETS.items():
            db.session.add(
                WageStandard(
                    organisation_id=org.id,
                    role="target",
                    job_title=title,
                    benchmark_name=benchmark,
                    effective_from=since,
                    reason="Board decision on fair pay",
                    set_by_id=set_by,
                )
            )
    from portal.pay.rates import benchmarks_in_force

    snapshots = {day: benchmarks_in_force(day) for day in {r["effective_from"] for r in rows}}
    for row in rows:
        row["benchmarks_in_force"] = snapshots[row["effective_from"]]
    db.session.execute(sa.insert(PayRate), rows)
    db.session.flush()


EXPOSURE_NOTES = [
    "Could not sleep after this one.",
    "Talked it through with my partner on the team.",
    "Kept seeing it on the drive home.",
    "",
    "",
]
CATEGORY_WEIGHTS = {
    "shooting_scene": 3, "witnessed_violence": 4, "hospital_bedside": 3, "death_notification": 2,
    "threatened_assaulted": 1, "child_victim": 1, "retaliation_mediation": 3, "other": 1,
}  # fmt: skip


def _on_call(people: dict, sites: dict, today: date, period, now: datetime, zone) -> None:
    """The demo worker's site has a published night rota (18:00-06:00) for this week and next;
    the demo worker was on call last night (in the open pay period, so /pay shows it) and a
    colleague asks them to take one of next week's nights."""
    from portal.oncall.service import week_of

    demo = people["demo_worker"]
    site = demo.site_id
    crew = [w for w in people["workers"] if w.site_id == site][:4]
    supervisor = people["supervisors"].get(site)
    week = week_of(today, 6)  # the demo policy's workweek starts on Sunday
    rows: list[OnCallPeriod] = []
    for n in range(14):
        day = week + timedelta(days=n)
        start = datetime.combine(day, time(18), tzinfo=zone).astimezone(UTC)
        worker = crew[n % len(crew)]
        if day == today - timedelta(days=1):
            worker = demo  # last night
        elif worker.id == demo.id and day < today:
            worker = crew[(n + 1) % len(crew)]
        rows.append(OnCallPeriod(organisation_id=demo.organisation_id, site_id=site,
                                 worker_id=worker.id, start_at=start,
                                 end_at=start + timedelta(hours=12), status="published",
                                 created_by_id=supervisor, published_at=now))  # fmt: skip
    if today - timedelta(days=1) < period.start:  # the period began today: a night shift of it
        start = datetime.combine(today, time(0), tzinfo=zone).astimezone(UTC)
        rows.append(
            OnCallPeriod(organisation_id=demo.organisation_id, site_id=site, worker_id=demo.id,
                         start_at=start, end_at=start + timedelta(hours=6), status="published",
                         created_by_id=supervisor, published_at=now)
        )  # fmt: skip
    db.session.add_all(rows)
    db.session.flush()
    asks = next(
        (p for p in rows if p.start_at > now + timedelta(days=7) and p.worker_id != demo.id), None
    )
    if asks is not None:
        db.session.add(OnCallSwap(organisation_id=demo.organisation_id, period_id=asks.id,
                                  from_worker_id=asks.worker_id, to_worker_id=demo.id,
                                  status="asked", reason="My daughter's graduation."))  # fmt: skip
    policy = db.session.get(PayPolicy, demo.organisation_id)
    if policy is not None:
        policy.on_call_stipend = Decimal("40.00")  # not restrictive: a stipend per night


def _wellbeing(rng: random.Random, people: dict, shift_rows: list[dict], now: datetime) -> None:
    """Exposures on some shifts, fortnightly WHO-5 check-ins, and support requests in every state.

    All fictional; the notes are generic. Counsellors' queues and the dashboards' suppressed
    aggregates have something to show."""
    from portal.models import CheckIn, Exposure, SupportNote, SupportRequest

    counselor = next(u for u in people["all"] if "counselor" in u.roles)
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    exposures, checkins = [], []
    for row in shift_rows:
        if row["end_at"] > now or rng.random() > 0.08:
            continue
        category = rng.choices(categories, weights)[0]
        severity = rng.choices([1, 2, 3, 4, 5], [3, 4, 3, 1.5, 0.5])[0]
        exposures.append({
            "worker_id": row["worker_id"], "organisation_id": row["organisation_id"],
            "occurred_at": row["start_at"] + (row["end_at"] - row["start_at"]) / 2,
            "category": category, "severity": severity, "note": rng.choice(EXPOSURE_NOTES),
            "offer_status": ("declined" if rng.random() < 0.6 else "accepted")
            if severity >= 4 or category == "threatened_assaulted" else None,
            "created_at": row["end_at"],
        })  # fmt: skip
    for worker in people["workers"]:
        base = rng.randint(9, 20)
        day = now - timedelta(days=rng.randint(0, 13))
        while day > now - timedelta(days=360):
            if rng.random() < 0.7:
                items = [max(0, min(5, base // 4 + rng.randint(-1, 1))) for _ in range(5)]
                checkins.append({
                    "worker_id": worker.id, "organisation_id": worker.organisation_id,
                    **{f"item{i + 1}": v for i, v in enumerate(items)}, "score": sum(items) * 4,
                    "note": "", "wants_outreach": sum(items) * 4 <= 28 and rng.random() < 0.5,
                    "share_with_counsellors": rng.random() < 0.3, "created_at": day,
                })  # fmt: skip
            day -= timedelta(days=14)
    db.session.execute(sa.insert(Exposure), exposures)
    db.session.execute(sa.insert(CheckIn), checkins)
    demo = people["demo_worker"]
    states = [
        ("counselling_session", "soon", "scheduled", 6),
        ("after_incident", "urgent", "acknowledged", 2),
        ("financial_help", "whenever", "closed", 40),
    ]
    for n, worker in enumerate(people["workers"][:12]):
        kind, urgency, status, days_ago = states[n % len(states)] if n else states[0]
        created = now - timedelta(days=days_ago, hours=n)
        req = SupportRequest(
            worker_id=worker.id, organisation_id=worker.organisation_id, kind=kind,
            urgency=urgency, contact_method="phone", contact_time="evenings after 6",
            status=status if n % 4 else "open", created_at=created,
            counselor_id=counselor.id if status != "open" and n % 4 else None,
            acknowledged_at=created + timedelta(hours=3) if n % 4 else None,
            scheduled_for=now + timedelta(days=2) if status == "scheduled" and n % 4 else None,
            closed_at=created + timedelta(days=5) if status == "closed" and n % 4 else None,
        )  # fmt: skip
        db.session.add(req)
        if worker is demo:
            db.session.flush()
            db.session.add(SupportNote(
                request_id=req.id, author_id=counselor.id, created_at=created + timedelta(hours=4),
                body="Called and talked for 20 minutes. Session booked for Thursday."))  # fmt: skip
    db.session.flush()


def _counseling(people: dict, now: datetime) -> None:
    """The demo counsellor's weekly hours (three modes), slots for the coming weeks, and one
    session booked by the demo worker; uses the real availability and booking code."""
    from portal.counseling.availability import add_rule, generate_slots
    from portal.counseling.booking_service import book
    from portal.models import CounselingSlot

    counselor = next(u for u in people["all"] if "counselor" in u.roles)
    today = now.astimezone(local_zone()).date()
    hours = [
        (1, time(9), time(12), "in_person", "Dutchtown office, room 2", ""),
        (3, time(13), time(17), "video", "", "https://video.example.org/fairshift-counselling"),
        (4, time(17), time(20), "phone", "", ""),
    ]
    for weekday, start, end, mode, location, link in hours:
        add_rule(counselor, weekday, start, end, 50, mode, location, link, today, None, today)
    generate_slots(counselor.id, today + timedelta(days=28), now)
    db.session.flush()
    first = db.session.scalar(
        sa.select(CounselingSlot)
        .where(CounselingSlot.counselor_id == counselor.id,
               CounselingSlot.start_at > now + timedelta(days=2))
        .order_by(CounselingSlot.start_at).limit(1)
    )  # fmt: skip
    if first is not None:
        book(people["demo_worker"], first, now=now)


# Training: each provider's courses and who must take them, and past sessions (their attendees'
# training shifts go through the pay closes below). Someone with a shift at a session's time is
# left off it, as HR's form would, so some people are part-way through a course.
TRAINING_COURSES = [
    ("CVI foundations", "40", None, "The CVI model, de-escalation, mediation, street safety.",
     [("", 90)]),
    ("First aid / Stop the Bleed", "8", 12, "CPR, bleeding control, tourniquets.", [("", None)]),
    ("Trauma-informed care", "16", 24, "Working with people harmed by violence; caring for "
     "yourself.", [("Violence interrupter", None), ("Outreach worker", None)]),
    ("Hospital protocols", "4", 12, "Bedside responses with the hospital's team.",
     [("Hospital responder", None)]),
]  # fmt: skip
# (course, days before today of each day of the session, share of the workers asked to attend)
TRAINING_SESSIONS = [
    ("CVI foundations", [330, 329, 328, 327, 326], 0.8),
    ("CVI foundations", [150, 149, 148, 147, 146], 0.3),
    ("First aid / Stop the Bleed", [352], 0.5),
    ("First aid / Stop the Bleed", [200], 0.4),
    ("Trauma-informed care", [120, 119], 0.6),
    ("Hospital protocols", [90], 1.0),
]


def _training(orgs: dict, sites: dict, people: dict, first_day: date, today: date,
              now: datetime, zone) -> None:  # fmt: skip
    """Courses, requirements and a year of sessions for each provider (portal.training)."""
    from portal.models import TrainingCourse, TrainingRequirement, TrainingSession
    from portal.training import service as training

    rng = random.Random(RANDOM_SEED + 2)  # its own stream: the other demo data stay as they were
    for org in orgs.values():
        if org.kind != "provider":
            continue
        hr = next((u for u in people["all"] if "hr" in u.roles and u.organisation_id == org.id),
                  None)  # fmt: skip
        if hr is None:
            continue
        courses = {}
        for name, hours, renewal, description, required in TRAINING_COURSES:
            course = TrainingCourse(organisation_id=org.id, name=name, hours=Decimal(hours),
                                    renewal_months=renewal, description=description)  # fmt: skip
            db.session.add(course)
            db.session.flush()
            for title, due in required:
                db.session.add(TrainingRequirement(course_id=course.id, job_title=title,
                                                   due_within_days=due))  # fmt: skip
            courses[name] = course
        db.session.flush()
        org_sites = [s for s in sites.values() if s.organisation_id == org.id and s.active]
        workers = [w for w in people["workers"] if w.organisation_id == org.id and w.active]
        hired = dict(db.session.execute(
            sa.select(Engagement.user_id, sa.func.min(Engagement.started_on))
            .where(Engagement.organisation_id == org.id).group_by(Engagement.user_id)
        ).all())  # fmt: skip
        for name, days_back, share in TRAINING_SESSIONS:
            course = courses[name]
            titles = {t for t, _due in next(c[4] for c in TRAINING_COURSES if c[0] == name)}
            asked = [w for w in workers if "" in titles or w.job_title in titles]
            chosen = [w.id for w in asked if rng.random() < share]
            site = rng.choice(org_sites)
            trainer = rng.choice(TRAINERS)
            for back in days_back:
                day = today - timedelta(days=back)
                if day < first_day:
                    continue
                start, end = local_span_to_utc(day, time(9), time(17 if course.hours >= 8 else 13),
                                               zone)  # fmt: skip
                session = TrainingSession(organisation_id=org.id, course_id=course.id,
                                          site_id=site.id, start_at=start, end_at=end,
                                          break_minutes=0, trainer=trainer,
                                          recorded_by_id=hr.id, created_at=now)  # fmt: skip
                db.session.add(session)
                db.session.flush()
                here = [w for w in chosen if hired.get(w) and hired[w] <= day]
                training.add_attendees(hr, session, here, now)


TRAINERS = ["Cure Violence Global trainer", "St. Louis Fire Dept. EMS educator",
            "Dr. Alma Reyes, LCSW", "Peer trainer Marcus Bell"]  # fmt: skip


# The demo worker's safety codes (README, demo accounts): fictional, like everything here.
DEMO_SAFE_CODE = "2468"
DEMO_DURESS_CODE = "1357"


# Past check-ins for the dashboards' Field safety table (whole ended quarters, SUPPRESSION_MIN
# people a figure): a share of each worker's field shifts began with one; about one in ten
# raised an alarm (mostly a missed "I'm safe", sometimes an SOS) that the site's supervisor
# closed with a note. Places are invented and vague, as a worker would type them in a hurry;
# no duress alarm is seeded, and no position (positions live 24 hours at most).
CHECKIN_SHARE = {"street_outreach": 0.4, "community_event": 0.3, "on_call": 0.3,
                 "hospital_response": 0.1}  # fmt: skip
CHECKIN_MINUTES = [15, 30, 30, 60, 60, 90]
ALARM_SHARE = 0.1
SOS_SHARE = 0.2  # of the alarms
CHECKIN_PLACES = [
    "Corner store, north end of the block", "Park pavilion", "Apartment courtyard",
    "Bus stop by the laundromat", "Vigil at the community centre", "Basketball courts",
    "Church parking lot", "Home visit (family asked for us)", "Hospital ER waiting room",
    "Gas station on the main road", "Block party", "Rec centre steps",
]  # fmt: skip
MISSED_NOTES = ["Reached by phone, safe. Forgot to tap.", "Phone battery died; reached through "
                "the buddy, safe.", "Called back within minutes, safe; talk ran long."]  # fmt: skip
SOS_NOTES = ["Supervisor on scene in 10 minutes; situation calmed, worker safe.",
             "Pressed by mistake; reached by phone, safe.",
             "Left the scene with the buddy; debriefed, safe."]  # fmt: skip


def _safety(people: dict, rows: list[dict], now: datetime, zone) -> None:
    """The demo worker's safety settings (codes, a fictional emergency contact) and their last
    check-in, two days ago, ended safe; then the programme's past check-ins during field shifts
    of the quarters that have ended (portal.safety; the dashboards' Field safety table)."""
    from portal.models import SafetyCheckin, SafetySettings
    from portal.safety.service import hash_code
    from portal.wellbeing.stats import quarter_of

    worker = people["demo_worker"]
    db.session.add(SafetySettings(
        user_id=worker.id, safe_code_hash=hash_code(DEMO_SAFE_CODE),
        duress_code_hash=hash_code(DEMO_DURESS_CODE), contact_name="Sam Avery",
        contact_phone="+13145550188", contact_email="sam.avery@example.org",
        share_location=False,
    ))  # fmt: skip
    started = (now - timedelta(days=2)).replace(minute=10, second=0, microsecond=0)
    db.session.add(SafetyCheckin(
        organisation_id=worker.organisation_id, worker_id=worker.id, site_id=worker.site_id,
        place="Vigil on Gravois Ave", started_at=started, due_at=started + timedelta(minutes=60),
        status="safe", ended_at=started + timedelta(minutes=42),
    ))  # fmt: skip

    rng = random.Random(RANDOM_SEED + 3)  # its own stream: the other demo data stay as they were
    until = local_midnight_utc(quarter_of(now.astimezone(zone).date()).start, zone)
    organisation = {w.id: w.organisation_id for w in people["workers"]}
    values = []
    for row in rows:
        share = CHECKIN_SHARE.get(row["shift_type"], 0)
        if row["start_at"] >= until or rng.random() >= share:
            continue
        minutes = rng.choice(CHECKIN_MINUTES)
        room = int((row["end_at"] - row["start_at"]).total_seconds() // 60) - minutes
        start = row["start_at"] + timedelta(minutes=rng.randint(0, max(room, 0)))
        due = start + timedelta(minutes=minutes)
        checkin = {
            "organisation_id": organisation[row["worker_id"]], "worker_id": row["worker_id"],
            "site_id": row["site_id"], "place": rng.choice(CHECKIN_PLACES), "buddy_id": None,
            "started_at": start, "due_at": due, "status": "safe",
            "ended_at": start + timedelta(minutes=rng.randint(minutes * 2 // 5, minutes)),
            "alarm_kind": None, "alarm_at": None, "alert_step": 0, "alert_step_at": None,
            "closed_by_id": None, "closed_at": None, "closed_note": None,
            "created_at": start, "updated_at": start,
        }  # fmt: skip
        if rng.random() < ALARM_SHARE:
            sos = rng.random() < SOS_SHARE
            raised = (start + timedelta(minutes=rng.randint(1, minutes - 1)) if sos
                      else due + timedelta(minutes=5))  # fmt: skip
            closed = raised + timedelta(minutes=rng.randint(4, 25))
            checkin.update({
                "status": "closed", "ended_at": None, "alarm_kind": "sos" if sos else "missed",
                "alarm_at": raised, "alert_step": 1, "alert_step_at": raised,
                "closed_by_id": people["supervisors"].get(row["site_id"]), "closed_at": closed,
                "closed_note": rng.choice(SOS_NOTES if sos else MISSED_NOTES),
                "updated_at": closed,
            })  # fmt: skip
        values.append(checkin)
    for i in range(0, len(values), CHUNK):
        db.session.execute(sa.insert(SafetyCheckin), values[i : i + CHUNK])


def _close_past_periods(orgs: dict[str, Organisation], today: date, left_open: int = 1) -> int:
    """Close the ended pay periods, in order, with the real closing code (past statements),
    all but the latest ``left_open``: those are due on HR's home, for HR to close."""
    from portal.pay.service import close_period, load_policy, next_period_to_close

    closed = 0
    for key, org in orgs.items():
        if key == "funder":
            continue
        policy = load_policy(org.id)
        spare = timedelta(days=policy.period_days * left_open)
        while next_period_to_close(org.id, policy).end + spare <= today:
            close_period(org.id, None)
            closed += 1
    return closed


def _org_name(key: str) -> str:
    return FUNDER if key == "funder" else next(p[1] for p in PROVIDERS if p[0] == key)


def _organisations_and_sites() -> tuple[dict[str, Organisation], dict[str, Site]]:
    """The funder and two providers; each St. Louis site belongs to one provider."""
    orgs = {"funder": Organisation(name=FUNDER, kind="funder")}
    db.session.add(orgs["funder"])
    db.session.flush()
    for key, name, _domain, _sites in PROVIDERS:
        orgs[key] = Organisation(name=name, kind="provider", funded_by_id=orgs["funder"].id)
    db.session.add_all(orgs.values())
    db.session.flush()
    sites = {
        site: Site(name=site, organisation_id=orgs[key].id)
        for key, _name, _domain, names in PROVIDERS
        for site in names
    }
    db.session.add_all(sites.values())
    db.session.flush()
    return orgs, sites


def _people(
    rng: random.Random, orgs: dict[str, Organisation], sites: dict[str, Site], joined: datetime
) -> dict:
    """The SPEC accounts, the other staff and the workers; one argon2 hash shared by all."""
    domains = {key: domain for key, _name, domain, _sites in PROVIDERS}
    domains["funder"] = FUNDER_DOMAIN

    def add(email: str, name: str, roles, org: str, site: str | None) -> User:
        user = User(
            email=email,
            name=name,
            organisation_id=orgs[org].id,
            site_id=sites[site].id if site else None,
            created_at=joined,
        )
        user.roles = roles
        db.session.add(user)
        return user

    # Worker names pair shuffled first and last names, so no two workers share either.
    firsts, lasts = FIRST_NAMES[:], LAST_NAMES[:]
    rng.shuffle(firsts)
    rng.shuffle(lasts)
    names = [f"{first} {last}" for first, last in zip(firsts, lasts, strict=False)]

    def address(name: str, org: str) -> str:
        first, last = (part.lower() for part in name.split(" ", 1))
        return f"{first}.{last.replace(' ', '')}@{domains[org]}"

    accounts = {
        email: add(email, name, roles, org, site) for email, name, roles, org, site in DEMO_ACCOUNTS
    }
    staff = [
        add(address(name, org), name, roles, org, site) for name, roles, org, site in OTHER_STAFF
    ]
    demo_site = next(site for email, *_, site in DEMO_ACCOUNTS if email == DEMO_WORKER)
    workers = [accounts[DEMO_WORKER]]
    for key, _name, _domain, site_names in PROVIDERS:
        for site in site_names:
            count = WORKERS_PER_SITE[site] - (site == demo_site)
            for _ in range(count):
                name = names.pop()
                workers.append(add(address(name, key), name, ("worker",), key, site))
    everyone = [*accounts.values(), *staff, *workers[1:]]
    # argon2 is slow on purpose: hash once, share the hash (every demo password is the same).
    accounts[DEMO_WORKER].set_password(DEMO_PASSWORD)
    for user in everyone:
        user.password_hash = accounts[DEMO_WORKER].password_hash
        if user.has_role(*TWO_FACTOR_ROLES):  # signing in asks for a code (README)
            user.totp_secret = DEMO_TOTP_SECRET
            user.totp_enabled_at = utcnow()
    db.session.flush()

    supervisors = {
        user.site_id: user.id
        for user in [*accounts.values(), *staff]
        if "supervisor" in user.roles and user.site_id
    }
    return {
        "all": everyone,
        "workers": workers,
        "demo_worker": accounts[DEMO_WORKER],
        "supervisors": supervisors,
    }


def _shifts(
    rng: random.Random,
    people: dict,
    sites: dict[str, Site],
    first_day: date,
    today: date,
    now: datetime,
    zone,
) -> list[dict]:
    """Twelve months of finished shifts per worker: 3-5 a week, never overlapping."""
    org_sites: dict[int, list[int]] = {}
    for site in sites.values():
        org_sites.setdefault(site.organisation_id, []).append(site.id)
    workers = people["workers"]
    # A few people joined during the year (never the demo worker, who is workers[0]).
    late = set(rng.sample(range(1, len(workers)), 4))
    first_sunday = first_day - timedelta(days=(first_day.weekday() + 1) % 7)
    rows: list[dict] = []
    for index, worker in enumerate(workers):
        pattern = rng.choice(PATTERNS)
        per_week = rng.choice([(1, 3, 2), (1, 2, 3), (2, 3, 1)])  # weights of 3, 4, 5 shifts
        start_day = first_day + timedelta(days=rng.randint(45, 240) if index in late else 0)
        away = [s for s in org_sites[worker.organisation_id] if s != worker.site_id]
        prev_end: datetime | None = None
        week = first_sunday
        while week <= today:
            count = rng.choices((3, 4, 5), weights=per_week)[0]
            for offset in sorted(rng.sample(range(7), count)):
                day = week + timedelta(days=offset)
                if day < start_day or day > today:
                    continue
                picked = _pick(rng, pattern, day, prev_end, zone)
                if picked is None or picked[2] > now:  # only shifts already worked
                    continue
                shift_type, start, end, break_minutes = picked
                site_id = rng.choice(away) if away and rng.random() < 0.08 else worker.site_id
                rows.append(
                    _row(rng, worker, site_id, shift_type, start, end, break_minutes, note=True)
                )
                prev_end = end
            week += timedelta(days=7)
    return rows


# People who worked for the providers and have left: they show in hires, separations and turnover.
FORMER_WORKERS = [
    ("Odessa Pruitt", "p1", "resigned"),
    ("Marlon Keyes", "p1", "contract_ended"),
    ("Trina Halvorsen", "p2", "resigned"),
    ("Desmond Achebe", "p2", "other"),
    ("Priya Lindqvist", "p1", "resigned"),
]


def _engagements(people: dict, rows: list[dict], orgs: dict, sites: dict, first_day: date,
                 today: date, zone) -> None:  # fmt: skip
    """Each worker's engagement (those who joined during the year start on their first shift;
    the others were hired months or years before), and a few former workers who have left."""
    rng = random.Random(RANDOM_SEED + 1)  # its own stream: the other demo data stay as they were
    first_shift: dict[int, date] = {}
    for row in rows:
        day = row["start_at"].astimezone(zone).date()
        if day < first_shift.get(row["worker_id"], date.max):
            first_shift[row["worker_id"]] = day
    values = []
    for worker in people["workers"]:
        first = first_shift.get(worker.id, first_day)
        started = first if first > first_day + timedelta(days=7) else (
            first_day - timedelta(days=rng.randint(20, 1400)))  # fmt: skip
        values.append({"user_id": worker.id, "organisation_id": worker.organisation_id,
                       "started_on": started})  # fmt: skip
    domains = {key: domain for key, _name, domain, _sites in PROVIDERS}
    org_sites = {key: names for key, _name, _domain, names in PROVIDERS}
    site_ids = {site.name: site.id for site in sites.values()}
    for name, org, reason in FORMER_WORKERS:
        first, last = name.lower().split(" ", 1)
        user = User(email=f"{first}.{last}@{domains[org]}", name=name, active=False,
                    organisation_id=orgs[org].id, job_title="Violence interrupter",
                    site_id=site_ids[rng.choice(org_sites[org])],
                    password_hash=people["demo_worker"].password_hash)  # fmt: skip
        user.roles = {"worker"}
        db.session.add(user)
        db.session.flush()
        ended = today - timedelta(days=rng.randint(20, 330))
        values.append({"user_id": user.id, "organisation_id": user.organisation_id,
                       "started_on": ended - timedelta(days=rng.randint(200, 1200)),
                       "ended_on": ended, "end_reason": reason})  # fmt: skip
    db.session.execute(sa.insert(Engagement), values)


def _pick(
    rng: random.Random, pattern, day: date, prev_end: datetime | None, zone
) -> tuple[str, datetime, datetime, int] | None:
    """A shift on a local day in the worker's pattern, rested after the last; None if none fits."""
    for _ in range(4):
        group = rng.choices((DAY, EVENING, NIGHT), weights=pattern)[0]
        shift_type, start, end, break_minutes = rng.choice(group)
        late_start = rng.choice((0, 0, 0, 15, 30))
        overrun = rng.choice((0, 0, 0, 0, 15, 30, 45, 60))
        try:
            start_at, end_at = local_span_to_utc(
                day, _clock(start, late_start), _clock(end, late_start + overrun), zone
            )
        except NonexistentLocalTime:  # e.g. ending at 02:15 the night clocks spring forward
            continue
        if prev_end is not None and start_at < prev_end + MIN_REST:
            continue
        if end_at - start_at > timedelta(hours=MAX_SHIFT_HOURS):
            continue
        return shift_type, start_at, end_at, break_minutes
    return None


def _clock(hhmm: str, plus_minutes: int) -> time:
    """A wall-clock time a few minutes after ``hhmm``, wrapping at midnight."""
    hours, minutes = map(int, hhmm.split(":"))
    total = (hours * 60 + minutes + plus_minutes) % (24 * 60)
    return time(total // 60, total % 60)


def _row(
    rng: random.Random,
    worker: User,
    site_id: int,
    shift_type: str,
    start: datetime,
    end: datetime,
    break_minutes: int,
    note: bool,
) -> dict:
    """One bulk-insert row; status and review fields are filled in by ``_statuses``."""
    conflicts, engaged, referrals = _outputs(rng, shift_type)
    return {
        "worker_id": worker.id,
        "organisation_id": worker.organisation_id,
        "site_id": site_id,
        "shift_type": shift_type,
        "start_at": start,
        "end_at": end,
        "break_minutes": break_minutes,
        "worked_minutes": int((end - start).total_seconds() // 60) - break_minutes,
        "conflicts_interrupted": conflicts,
        "individuals_engaged": engaged,
        "referrals": referrals,
        "note": rng.choice(NOTES[shift_type]) if note and rng.random() < 0.35 else "",
        "status": "submitted",
        "return_reason": None,
        "reviewed_by_id": None,
        "reviewed_at": None,
        "created_at": None,
        "updated_at": None,
    }


def _outputs(rng: random.Random, shift_type: str) -> tuple[int, int, int]:
    """Conflicts interrupted (0-3), individuals engaged (0-12), referrals (0-3) for a shift."""
    if shift_type in ("training", "admin"):
        return 0, 0, 0
    conflicts = rng.choices((0, 1, 2, 3), weights=(55, 28, 12, 5))[0]
    referrals = rng.choices((0, 1, 2, 3), weights=(50, 30, 15, 5))[0]
    if shift_type == "street_outreach":
        engaged = rng.randint(2, 12)
    elif shift_type == "hospital_response":
        conflicts, engaged = min(conflicts, 2), rng.randint(1, 6)
    elif shift_type == "community_event":
        conflicts, engaged = min(conflicts, 1), rng.randint(4, 12)
    else:  # on call
        conflicts, engaged, referrals = min(conflicts, 2), rng.randint(0, 5), min(referrals, 2)
    return conflicts, engaged, referrals


def _top_up_demo_worker(
    rng: random.Random,
    rows: list[dict],
    worker: User,
    period: Period,
    today: date,
    now: datetime,
    zone,
) -> None:
    """Make sure the demo worker has a few shifts in the current pay period.

    Early in a period the random schedule may give them none yet; short shifts from the
    period's first day onwards fill in, the last ones possibly later today (a planned shift,
    starting less than a day from now, as the shift form allows).
    """
    period_start = local_midnight_utc(period.start, zone)
    mine = [row for row in rows if row["worker_id"] == worker.id]
    needed = MIN_DEMO_CURRENT - sum(row["start_at"] >= period_start for row in mine)
    gap = timedelta(hours=1)
    day = period.start
    while needed > 0 and day <= today:
        for shift_type, start, end, break_minutes in TOP_UP:
            try:
                start_at, end_at = local_span_to_utc(day, _clock(start, 0), _clock(end, 0), zone)
            except NonexistentLocalTime:
                continue
            if start_at < period_start or start_at > now + MAX_FUTURE:
                continue
            if any(
                row["start_at"] < end_at + gap and start_at < row["end_at"] + gap for row in mine
            ):
                continue
            row = _row(
                rng, worker, worker.site_id, shift_type, start_at, end_at, break_minutes, False
            )
            rows.append(row)
            mine.append(row)
            needed -= 1
            if needed == 0:
                break
        day += timedelta(days=1)


def _statuses(
    rng: random.Random, rows: list[dict], people: dict, period: Period, now: datetime, zone
) -> None:
    """Approved before the current period; submitted or approved in it; returned for the demo.

    The reviewer is the supervisor of the worker's home site, the one whose review scope holds
    the shift (portal.shifts.service.review_scope).
    """
    period_start = local_midnight_utc(period.start, zone)
    home = {worker.id: worker.site_id for worker in people["workers"]}
    supervisors = people["supervisors"]
    demo_id = people["demo_worker"].id
    current = sorted(
        (r for r in rows if r["worker_id"] == demo_id and r["start_at"] >= period_start),
        key=lambda r: r["start_at"],
    )
    returned = {id(r) for r in current[: 2 if len(current) >= 5 else 1]}
    keep_open = {id(current[-1])} if len(current) >= 2 else set()
    for row in rows:
        created = min(row["end_at"] + timedelta(minutes=rng.randint(20, 600)), now)
        reviewed = min(created + timedelta(hours=rng.randint(3, 60)), now)
        if id(row) in returned:
            row["status"] = "returned"
            row["return_reason"] = rng.choice(RETURN_REASONS)
        elif row["start_at"] < period_start:
            row["status"] = "approved"
        elif (
            id(row) not in keep_open
            and row["end_at"] <= now - timedelta(days=1)
            and rng.random() < 0.6
        ):
            row["status"] = "approved"
        else:
            reviewed = None
        if reviewed is not None:
            row["reviewed_by_id"] = supervisors[home[row["worker_id"]]]
            row["reviewed_at"] = reviewed
        row["created_at"] = created
        row["updated_at"] = reviewed or created


def register_cli(app) -> None:
    """Register the seed commands."""

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load the fictional demo programme and its accounts (refused in production)."""
        try:
            summary = seed_demo()
        except SeedError as exc:
            raise click.ClickException(str(exc)) from exc
        if not summary["created"]:
            click.echo(ALREADY_PRESENT)
            return
        click.echo(_report(summary))


def _report(summary: dict) -> str:
    """The summary the command prints: what was created, and how to sign in."""
    statuses = ", ".join(f"{n:,} {status}" for status, n in sorted(summary["by_status"].items()))
    period = summary["period"]
    lines = [
        f"Demo data created in {summary['seconds']:.1f} s (all names are fictional):",
        f"  {summary['organisations']} organisations, {summary['sites']} sites, "
        f"{summary['users']} people ({summary['workers']} workers)",
        f"  {summary['shifts']:,} shifts from {summary['first_day']:%b %-d, %Y} to "
        f"{summary['last_day']:%b %-d, %Y} ({statuses})",
        f"  current pay period: {period.start:%b %-d} to {period.last_day:%b %-d, %Y}; "
        f"{summary['closed_periods']} earlier periods closed into statements, the last one "
        "that ended left for HR to close",
        f"Sign in at /login with the password {DEMO_PASSWORD} as:",
    ]
    width = max(len(email) for email, *_ in summary["accounts"])
    for email, roles, org, site in summary["accounts"]:
        where = f"{org}, {site}" if site else org
        lines.append(f"  {email:<{width}}  {roles:<10}  {where}")
    lines.append(
        f"hr, counselor, admin and funder also ask for a code: authenticator secret "
        f"{DEMO_TOTP_SECRET} (or run: python -c \"import pyotp; "
        f"print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\")"
    )
    return "\n".join(lines)
