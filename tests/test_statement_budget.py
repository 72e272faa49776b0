"""Every main page runs a fixed, small number of SQL statements, whatever the data size.

Each page is fetched after one round of records and again after two more (shifts of every
status, exposures, check-ins shared with counsellors, support requests, counselling slots and
bookings, statements, audit events): the count must not change (a lazy load in a template, or a
query per row, would grow it) and must stay within the page's budget, the count it has now. A
page that needs a statement more must say so here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Booking,
    CheckIn,
    Exposure,
    OnCallPeriod,
    OnCallSwap,
    PayPeriod,
    PayStatement,
    SafetyCheckin,
    SupportRequest,
    TrainingAttendance,
    TrainingCourse,
    TrainingRequirement,
    TrainingSession,
    User,
)
from portal.pay import fairness
from portal.timeutil import local_today
from tests.factories import make_rate, make_shift, make_slot, recent_start, safety_checkin

# (role, url, budget): the statements of one request as PostgreSQL counts them (SQLite adds
# the BEGIN that the app issues itself). Checking the session is one of them (user and roles).
PAGES = [
    ("worker", "/", 13),  # + next on call, swaps to answer, training standing, the running
    # safety check-in (4 queries; 13 counted: the budget had one to spare before the check-in)
    ("worker", "/shifts", 4),
    ("worker", "/shifts/new", 3),
    ("worker", "/pay", 14),  # 11, the on-call periods with their shifts, and the paid shifts and
    # on-call periods that ran past the last midnight into this period (2: overtime is weekly)
    ("worker", "/oncall", 5),  # session, workweek, my periods, swaps, the site rota,
    ("worker", "/exposures", 8),
    ("worker", "/checkins", 4),
    ("worker", "/support", 4),
    ("worker", "/counseling", 6),
    ("worker", "/my-data", 3),
    ("worker", "/account", 1),
    ("worker", "/training", 5),  # four for where they stand, one for their history
    ("worker", "/safety", 5),  # settings, the running check-in, history; with none running,
    # the buddies for the start form
    ("worker", "/safety/settings", 2),
    ("supervisor", "/safety/alarms", 2),
    ("supervisor", "/", 5),
    ("supervisor", "/shifts/review", 3),
    ("supervisor", "/oncall/rota", 6),  # + the sites and workers, swaps to decide,
    ("counselor", "/", 3),
    ("counselor", "/support/queue", 4),
    ("counselor", "/checkins/shared", 5),
    ("counselor", "/counseling/sessions", 3),
    ("counselor", "/counseling/availability", 6),
    ("hr", "/", 1),
    ("hr", "/hr/", 9),  # 6, and what is due: the policy, four counts in one, blocked workers
    ("hr", "/hr/fair-pay", 8),
    ("hr", "/hr/periods", 14),  # + the paid shifts and on-call periods run into the period (2)
    ("hr", "/hr/policy", 6),
    ("hr", "/hr/benchmarks/", 3),
    ("hr", "/hr/training", 4),
    ("hr", "/hr/training/sessions/new", 5),
    ("hr", "/hr/training/due", 5),
    ("leader", "/", 12),
    # the dashboards' wellbeing is one tree per funder (issue 16): its sites with workers, its
    # providers, and a third median level cost three more statements each; field safety
    # (issue 15) two more: the check-ins grouped, and the sites with workers
    ("leader", "/dashboard", 24),
    ("leader", "/training/completion", 5),
    ("funder", "/", 1),
    ("funder", "/dashboard", 16),
    ("admin", "/", 1),
    ("admin", "/admin/users", 6),
    ("admin", "/admin/organisations", 5),
    ("admin", "/admin/audit", 4),
]

_n = count()
_rounds = count()


def _closed_period(organisation_id: int, workers: list[int]) -> None:
    """A closed fortnight (one more each round) with a statement for each worker."""
    start = date(2025, 1, 5) + timedelta(days=14 * next(_rounds))
    period = PayPeriod(organisation_id=organisation_id, start_date=start,
                       end_date=start + timedelta(days=14))  # fmt: skip
    db.session.add(period)
    db.session.flush()
    zero, hours, gross = Decimal("0.00"), Decimal("10.00"), Decimal("200.00")
    for worker_id in workers:
        db.session.add(PayStatement(
            period_id=period.id, worker_id=worker_id, organisation_id=organisation_id,
            classification="employee_nonexempt", rate_text="$20.00/h", hours=hours,
            regular_hours=hours, overtime_hours=zero, differential_hours=zero, regular_pay=gross,
            differential_pay=zero, stipends=zero, overtime_premium=zero, adjustments=zero,
            gross_pay=gross, effective_hourly=Decimal("20.00"),
            details={"weeks": [], "adjustments": []},
        ))  # fmt: skip


def _training_session(ids: dict, workers: list[int], n: int) -> None:
    """A session of a required course (one more each round), attended by every worker."""
    org = ids["org"]["a"]
    course = db.session.scalar(
        sa.select(TrainingCourse).where(TrainingCourse.organisation_id == org)
    )
    if course is None:
        course = TrainingCourse(organisation_id=org, name="First aid", hours=Decimal("8"),
                                renewal_months=12)
        db.session.add(course)
        db.session.flush()
        db.session.add(TrainingRequirement(course_id=course.id, job_title=""))
    start = recent_start(40 + n, "08:00")
    session = TrainingSession(organisation_id=org, course_id=course.id,
                              site_id=ids["site"]["a1"], start_at=start,
                              end_at=start + timedelta(hours=4), trainer="T")
    db.session.add(session)
    db.session.flush()
    for worker_id in workers:
        shift = make_shift(worker_id, start, hours=4, status="approved", shift_type="training")
        db.session.add(TrainingAttendance(session_id=session.id, worker_id=worker_id,
                                          shift_id=shift))


def _add_records(ids: dict) -> None:
    """One more of everything the pages list or count, for every worker of provider A."""
    users = ids["user"]
    counselor = users["counselor"]
    workers = [users["worker"], users["worker2"], users["worker3"]]
    now = datetime.now(UTC)
    for worker_id in workers:
        worker = db.session.get(User, worker_id)
        org = worker.organisation_id
        n = next(_n)
        for status, days in (("approved", 1), ("submitted", 2), ("returned", 3)):
            # Far enough apart never to overlap: a day of its own for each round and status.
            make_shift(worker_id, recent_start(days + 3 * n, "08:00"), hours=6, status=status)
        db.session.add(Exposure(worker_id=worker_id, organisation_id=org,
                                occurred_at=now - timedelta(days=n + 1),
                                category="witnessed_violence", severity=4))  # fmt: skip
        db.session.add(CheckIn(worker_id=worker_id, organisation_id=org, item1=2, item2=3,
                               item3=2, item4=3, item5=2, score=48,
                               share_with_counsellors=True, wants_outreach=True))  # fmt: skip
        db.session.add(SupportRequest(worker_id=worker_id, organisation_id=org,
                                      kind="counselling_session", urgency="urgent"))  # fmt: skip
        # field-safety check-ins in an ended quarter (the dashboard's range is the last 12
        # months): one safe, one alarm, one duress alarm still open
        for days, kind in ((100, None), (101, "sos"), (102, "duress")):
            safety_checkin(worker_id, now - timedelta(days=days + n), kind,
                           status="alarm" if kind == "duress" else None)
        booked = make_slot(counselor, days=2 + n)
        db.session.add(Booking(slot_id=booked, worker_id=worker_id, organisation_id=org))
        make_slot(counselor, days=2.5 + n, minutes=30)
        # an on-call period this week and one ahead, published, and one open swap
        for offset, status in ((-1 - n, "published"), (8 + n, "published"), (9 + n, "draft")):
            start = now + timedelta(days=offset, hours=worker_id)
            period = OnCallPeriod(organisation_id=org, site_id=worker.site_id, worker_id=worker_id,
                                  start_at=start, end_at=start + timedelta(hours=10),
                                  status=status)  # fmt: skip
            db.session.add(period)
            db.session.flush()
        if worker.site_id == ids["site"]["a1"]:
            other = users["worker2"] if worker_id == users["worker"] else users["worker"]
            db.session.add(OnCallSwap(organisation_id=org, period_id=period.id,
                                      from_worker_id=worker_id, to_worker_id=other,
                                      status="accepted"))  # fmt: skip
        # a safety check-in that ended safe, and an open SOS alarm at the worker's site
        for offset, fields in ((-2 - n, {"status": "safe"}),
                               (-1 - n, {"status": "alarm", "alarm_kind": "sos"})):
            start = now + timedelta(hours=offset)
            db.session.add(SafetyCheckin(organisation_id=org, worker_id=worker_id,
                                         site_id=worker.site_id, place="Corner", started_at=start,
                                         due_at=start + timedelta(minutes=30), alarm_at=start,
                                         **fields))  # fmt: skip
    _training_session(ids, workers, n)
    _closed_period(ids["org"]["a"], workers)
    db.session.commit()


@pytest.fixture
def grow(app, world):
    """Add a round of records: ``grow()``."""

    def add():
        with app.app_context():
            _add_records(world)

    with app.app_context():
        for key in ("worker", "worker2", "worker3"):
            make_rate(world["user"][key])
        # The leader's trend as the nightly snapshot-fair-pay leaves it.
        fairness.record_snapshots(world["org"]["a"], local_today())
        db.session.commit()
    return add


def _begin(app) -> int:
    """SQLite counts one more statement: the BEGIN the app issues itself."""
    return 1 if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else 0


def _statements(client, count_queries, url: str) -> int:
    client.get(url)  # once first: what a first visit sets up (a flash, a token) is not counted
    with count_queries() as n:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return n()


@pytest.mark.parametrize("role", sorted({role for role, _url, _budget in PAGES}))
def test_pages_run_a_fixed_number_of_statements(app, client, auth, grow, count_queries, role):
    grow()
    auth.as_role(role)
    pages = [(url, budget) for r, url, budget in PAGES if r == role]
    small = {url: _statements(client, count_queries, url) for url, _budget in pages}
    grow()
    grow()
    begin = _begin(app)
    for url, budget in pages:
        counted = _statements(client, count_queries, url)
        assert counted == small[url], f"{url}: {small[url]} statements, {counted} with more data"
        assert counted <= budget + begin, f"{url}: {counted} statements, budget {budget}"


def test_the_session_check_is_one_statement(app, client, auth, world, count_queries):
    """A signed-in page with nothing of its own costs one statement: the user with the roles."""
    auth.as_role("worker")
    begin = _begin(app)
    assert _statements(client, count_queries, "/account") == 1 + begin
