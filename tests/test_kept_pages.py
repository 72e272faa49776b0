"""Worker pages kept under their organisation's data version (issue 14): a kept page costs the
session check alone, and is never stale: after any sequence of writes, by the worker or by
anyone else (a supervisor, HR, a counsellor, a close, a bulk load), /, /pay and /shifts are the
pages worked out afresh. The version moves only for the organisations written to."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import kept_pages
from portal.extensions import db
from portal.keeping import KeptFigures
from portal.models import (
    AuditEvent,
    Benchmark,
    CheckIn,
    CounselingSlot,
    Exposure,
    OnCallPeriod,
    Organisation,
    PayDifferential,
    PayPeriod,
    PayPolicy,
    PayRate,
    Shift,
    ShiftStipend,
    Site,
    SupportRequest,
    User,
)
from portal.pay import service as pay_service
from portal.timeutil import utcnow
from tests.factories import make_rate, make_shift, make_slot
from tests.test_pay import at, periods
from tests.test_pay_kept import _apply as apply_pay_write
from tests.test_pay_kept import pay_write
from tests.test_statement_budget import _begin

KEEP = 60
PAGES = ("/", "/pay", "/shifts")
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


class Clock:
    """The store's monotonic clock, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keep(app):
    """Pages kept as deployed (60 s), on a clock the test moves."""
    app.config["PAGE_KEEP_SECONDS"] = KEEP
    clock = Clock()
    pages = KeptFigures(KEEP, clock=clock)
    app.extensions[kept_pages.EXTENSION] = pages
    pay_service.priced_current_period.cache_clear()
    yield pages, clock
    app.extensions.pop(kept_pages.EXTENSION, None)


def page(client, url: str) -> str:
    """The page without its CSRF token (signed with the time of the request)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return CSRF.sub("", response.get_data(as_text=True))


def fresh(client, pages: KeptFigures, url: str) -> str:
    """The page with nothing kept: worked out from the database alone."""
    pages.clear()
    pay_service.priced_current_period.cache_clear()
    return page(client, url)


def version(app, org_id: int) -> int:
    with app.app_context():
        return db.session.get(Organisation, org_id).data_version


# --- what a kept page costs and shows ---------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_a_kept_page_costs_the_session_check_alone(app, client, auth, world, keep, count_queries,
                                                   url):  # fmt: skip
    pages, _clock = keep
    with app.app_context():
        make_rate(world["user"]["worker"], "20.00")
        db.session.commit()
    auth.as_role("worker")
    first = page(client, url)
    with count_queries() as n:
        second = page(client, url)
    assert second == first
    assert n() == 1 + _begin(app)  # the user with roles and organisation, its version with it
    assert pages.hits == 1


def test_a_write_by_someone_else_shows_at_once(app, client, auth, world, keep):
    """The supervisor approves, HR sets a rate: the worker's next view shows both."""
    current, _ = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    with app.app_context():
        make_rate(w, "20.00")
        shift = make_shift(w, at(current, 0), hours=8, status="submitted")
        db.session.commit()
    auth.as_role("worker")
    assert "$160.00" not in page(client, "/pay")
    assert "Waiting for approval" in page(client, "/shifts")
    with app.app_context():  # the supervisor approves (another person, another session)
        db.session.get(Shift, shift).status = "approved"
        db.session.commit()
    assert "$160.00" in page(client, "/pay")
    assert "Waiting for approval" not in page(client, "/shifts")
    with app.app_context():
        make_rate(w, "25.00", since=current.start, reason="Raise")
        db.session.commit()
    assert "$200.00" in page(client, "/pay")


def test_the_kept_page_carries_this_sessions_csrf_token(app, client, auth, world, keep,
                                                         monkeypatch):  # fmt: skip
    """The sign-out form of a kept page works: its token is this session's, not the first's."""
    pages, _clock = keep
    auth.as_role("worker")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client.get("/shifts")
    kept_html = client.get("/shifts").get_data(as_text=True)
    assert pages.hits == 1
    assert kept_pages.PLACEHOLDER not in kept_html
    token = CSRF.search(kept_html).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/shifts").status_code == 302  # signed out: to the sign-in page


def test_a_message_to_show_is_never_kept_or_lost(app, client, auth, world, keep):
    """After saving a shift the page shows "Shift saved" once, then the kept page again."""
    auth.as_role("worker")
    before = page(client, "/shifts")
    response = client.post("/shifts/new", data={
        "day": (utcnow().date() - timedelta(days=1)).isoformat(), "start_time": "09:00",
        "end_time": "13:00", "break_minutes": "0", "shift_type": "street_outreach",
        "site_id": str(world["site"]["a1"]), "conflicts_interrupted": "0",
        "individuals_engaged": "0", "referrals": "0",
    })  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    shown = page(client, "/shifts")
    assert "Shift saved" in shown and shown != before
    again = page(client, "/shifts")
    assert "Shift saved" not in again
    assert "4.00" in again  # the new shift, kept after the message was shown


def test_each_worker_sees_their_own_page(app, client, auth, world, keep):
    current, _ = periods(app, world["org"]["a"])
    with app.app_context():
        make_rate(world["user"]["worker"], "20.00")
        make_shift(world["user"]["worker"], at(current, 0), hours=8, status="approved")
        db.session.commit()
    auth.as_role("worker")
    mine = page(client, "/pay")
    assert "$160.00" in mine
    auth.logout()
    auth.as_role("worker2")
    theirs = page(client, "/pay")
    assert "$160.00" not in theirs and "Worker2 A" in theirs


def test_a_page_expires_after_the_keeping_time(app, client, auth, world, keep):
    """What changes with the clock alone (a counselling slot that has started) shows within a
    minute: the kept page is worked out again once it is 60 s old."""
    pages, clock = keep
    auth.as_role("worker")
    page(client, "/")
    page(client, "/")
    assert (pages.hits, pages.misses) == (1, 1)
    clock.now += KEEP + 1
    page(client, "/")
    assert pages.misses == 2


def test_a_leaders_home_is_never_kept(app, client, auth, world, keep):
    """The fair-pay trend reads snapshots, which no version follows: worked out each time."""
    pages, _clock = keep
    auth.as_role("leader")
    page(client, "/")
    page(client, "/")
    assert pages.hits == 0 and pages.misses == 0


def test_not_kept_when_keeping_is_off(app, client, auth, world):
    app.extensions.pop(kept_pages.EXTENSION, None)
    auth.as_role("worker")
    page(client, "/pay")
    page(client, "/pay")
    with app.app_context():
        pages = kept_pages.store()
    assert pages.seconds == 0 and pages.hits == 0  # the suite's default: nothing kept


# --- the versions -----------------------------------------------------------------------------


def test_a_write_bumps_its_organisations_version_only(app, world):
    a, b = world["org"]["a"], world["org"]["b"]
    before = version(app, a), version(app, b)
    with app.app_context():
        make_shift(world["user"]["worker"], utcnow() - timedelta(days=1), hours=3)
        db.session.commit()
    assert (version(app, a), version(app, b)) == (before[0] + 1, before[1])


def test_a_record_named_only_by_its_user_bumps_that_users_organisation(app, world):
    """A counsellor's time off names the counsellor, not the organisation."""
    from portal.models import TimeOff

    a, b = world["org"]["a"], world["org"]["b"]
    before = version(app, a), version(app, b)
    with app.app_context():
        now = utcnow()
        db.session.add(TimeOff(counselor_id=world["user"]["counselor"], start_at=now,
                               end_at=now + timedelta(days=1)))  # fmt: skip
        db.session.commit()
    assert (version(app, a), version(app, b)) == (before[0] + 1, before[1])


def test_a_rolled_back_write_bumps_nothing_and_audit_events_bump_nothing(app, world):
    a = world["org"]["a"]
    before = version(app, a)
    with app.app_context():
        make_shift(world["user"]["worker"], utcnow() - timedelta(days=1), hours=3)
        db.session.flush()
        db.session.rollback()
        db.session.add(AuditEvent(action="account.viewed", record_type="users",
                                  record_id=world["user"]["worker"]))  # fmt: skip
        db.session.commit()
    assert version(app, a) == before


def test_a_bulk_write_bumps_every_organisation_unless_it_names_its_own(app, world):
    a, b = world["org"]["a"], world["org"]["b"]
    before = version(app, a), version(app, b)
    with app.app_context():
        db.session.execute(
            sa.update(Site).where(Site.id == world["site"]["b1"]).values(active=True)
        )
        db.session.commit()
    assert (version(app, a), version(app, b)) == (before[0] + 1, before[1] + 1)
    with app.app_context():
        db.session.execute(
            sa.update(Site).where(Site.id == world["site"]["a1"]).values(active=True),
            execution_options={"bumps_organisations": [a]},
        )
        db.session.commit()
    assert (version(app, a), version(app, b)) == (before[0] + 2, before[1] + 1)


def test_closing_a_period_bumps_only_that_organisation(app, world):
    from portal.pay import service

    a, b = world["org"]["a"], world["org"]["b"]
    current, previous = periods(app, a)
    with app.app_context():
        make_rate(world["user"]["worker"], "20.00", since=previous.start - timedelta(days=30))
        make_shift(world["user"]["worker"], at(previous, 0), hours=8, status="approved")
        db.session.commit()
    before = version(app, a), version(app, b)
    with app.app_context():
        hr = db.session.get(User, world["user"]["hr"])
        closed = service.close_period(a, hr)
        db.session.commit()
        assert closed.start_date == previous.start  # it paid the shift (a bulk update)
    after = version(app, a), version(app, b)
    assert after[0] > before[0] and after[1] == before[1]


# --- any sequence of writes, by anyone --------------------------------------------------------

other_writes = st.one_of(
    st.tuples(st.just("exposure"), st.integers(1, 5)),
    st.tuples(st.just("checkin"), st.sampled_from([1, 3, 5])),
    st.tuples(st.just("wellness_day")),
    st.tuples(st.just("rename_site"), st.sampled_from(["Dutchtown", "Dutchtown North"])),
    st.tuples(st.just("rename_worker"), st.sampled_from(["Worker A", "Wanda Worker"])),
    st.tuples(st.just("benchmark"), st.sampled_from(["15.00", "24.50"])),
    st.tuples(st.just("slot"), st.integers(1, 6)),
    st.tuples(st.just("period_days"), st.sampled_from([7, 14])),
)
writes = st.lists(st.one_of(pay_write, other_writes), min_size=1, max_size=10)


def _apply_other(op, world) -> None:
    org, w = world["org"]["a"], world["user"]["worker"]
    kind, now = op[0], utcnow()
    if kind == "exposure":
        db.session.add(Exposure(worker_id=w, organisation_id=org, occurred_at=now - timedelta(
            hours=1), category="witnessed_violence", severity=op[1]))  # fmt: skip
    elif kind == "checkin":
        items = {f"item{i}": op[1] for i in range(1, 6)}
        db.session.add(CheckIn(worker_id=w, organisation_id=org, score=op[1] * 20, **items))
    elif kind == "wellness_day":
        db.session.add(SupportRequest(worker_id=w, organisation_id=org, kind="wellness_day",
                                      urgency="soon", contact_method="in_person",
                                      wellness_date=now.date() + timedelta(days=3)))  # fmt: skip
    elif kind == "rename_site":
        db.session.get(Site, world["site"]["a1"]).name = op[1]
    elif kind == "rename_worker":
        db.session.get(User, w).name = op[1]
    elif kind == "benchmark":  # an import of the minimum wage (no organisation: every one)
        if db.session.scalar(sa.select(sa.func.count()).select_from(Benchmark)):
            db.session.execute(sa.update(Benchmark).values(hourly_usd=Decimal(op[1])))
        else:
            db.session.execute(sa.insert(Benchmark), [{
                "kind": "legal_floor", "name": "State minimum wage", "region": "Missouri",
                "applies_to": "all workers", "hourly_usd": Decimal(op[1]),
                "effective_from": date(2026, 1, 1), "source": "Test", "source_url": "https://example.org/",
            }])  # fmt: skip
    elif kind == "slot":  # a counsellor opens a slot (once per day in this test)
        try:
            with db.session.begin_nested():
                make_slot(world["user"]["counselor"], days=op[1])
        except sa.exc.IntegrityError:
            pass
    elif kind == "period_days":
        policy = db.session.scalar(sa.select(PayPolicy).where(PayPolicy.organisation_id == org))
        if policy is None:
            policy = PayPolicy(organisation_id=org)
            db.session.add(policy)
        policy.period_days = op[1]
    db.session.commit()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(writes)
def test_kept_pages_are_never_stale_after_any_writes(client, world, auth, app, keep, ops):
    pages, _clock = keep
    current, _ = periods(app, world["org"]["a"])
    with app.app_context():
        db.session.execute(sa.update(Shift).values(paid_in_period_id=None))
        for model in (Shift, OnCallPeriod, PayPeriod, PayRate, PayDifferential, ShiftStipend,
                      PayPolicy, Exposure, CheckIn, SupportRequest, CounselingSlot,
                      Benchmark):  # fmt: skip
            db.session.execute(sa.delete(model))
        make_rate(world["user"]["worker"], "20.00")
        db.session.commit()
    pages.clear()
    if not getattr(client, "signed_in", False):  # one client for all the examples
        auth.as_role("worker")
        client.signed_in = True
    ids: list[int] = []
    for url in PAGES:  # kept pages of the state before the first write
        page(client, url)
    for op in ops:
        with app.app_context():
            if op[0] in {"exposure", "checkin", "wellness_day", "rename_site", "rename_worker",
                         "benchmark", "slot", "period_days"}:  # fmt: skip
                _apply_other(op, world)
            else:
                apply_pay_write(op, ids, world, current)
            db.session.remove()
        for url in PAGES:
            seen = page(client, url)
            assert seen == fresh(client, pages, url), (url, op)


def test_a_benchmark_import_shows_on_every_organisations_pages(app, client, auth, world, keep):
    """A minimum-wage figure belongs to no organisation: a bulk load of one reaches every page."""
    with app.app_context():
        make_rate(world["user"]["worker"], "20.00")
        db.session.commit()
    auth.as_role("worker")
    assert "$17.25" not in page(client, "/pay")
    with app.app_context():
        _apply_other(("benchmark", "17.25"), world)
    assert "$17.25" in page(client, "/pay")
