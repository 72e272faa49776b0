"""Dashboards, second slice: hires, separations, turnover, retention and tenure from engagements;
which providers a funder sees; critical incidents, time to acknowledge and counselling use;
the printable report."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.models import (
    Booking,
    CounselingSlot,
    Engagement,
    Exposure,
    Organisation,
    Site,
    SupportRequest,
    User,
)
from tests.factories import local, make_shift, make_user
from tests.test_dashboard import get_csv, page_tables

HIDDEN = "hidden (small numbers)"
RANGE = {"from": "2026-01-01", "to": "2026-06-30"}
LAST_DAY = date(2026, 6, 30)


def engage(user_id, org_id, start, end=None, reason=None):
    db.session.add(Engagement(user_id=user_id, organisation_id=org_id, started_on=start,
                              ended_on=end, end_reason=reason))  # fmt: skip


@pytest.fixture
def staffing(app, world):
    """Provider A: three workers since 2020 (factory), one hired in March 2026, one who left in
    February 2026, one who left in 2025 and came back in May 2026."""
    o, s = world["org"]["a"], world["site"]
    with app.app_context():
        later = make_user("Hired Later", "later@a.example.org", {"worker"}, o, s["a1"],
                          hired_on=date(2026, 3, 2))  # fmt: skip
        left = make_user("Left Early", "left@a.example.org", {"worker"}, o, s["a2"],
                         active=False, hired_on=None)  # fmt: skip
        engage(left.id, o, date(2025, 3, 1), date(2026, 2, 15), "resigned")
        back = make_user("Came Back", "back@a.example.org", {"worker"}, o, s["a1"],
                         hired_on=None)  # fmt: skip
        engage(back.id, o, date(2024, 1, 1), date(2025, 8, 31), "contract_ended")
        engage(back.id, o, date(2026, 5, 1))
        db.session.commit()
        world["later"] = later.id
    return world


def tenure(*starts) -> str:
    days = sum((LAST_DAY - d).days for d in starts)
    return str((Decimal(days) / len(starts) / Decimal("365.25")).quantize(Decimal("0.1")))


def test_leader_sees_hires_separations_turnover_retention_and_tenure(client, auth, staffing):
    auth.as_role("leader")
    rows = get_csv(client, "workforce-movement", **RANGE)
    assert rows[0] == ["Site", "Workers at start", "Hires", "Separations", "Workers at end",
                       "12-month turnover (%)", "12-month retention (%)",
                       "Average tenure (years)"]  # fmt: skip
    since = date(2020, 1, 6)
    by_site = {r[0]: r[1:] for r in rows[1:]}
    # Dutchtown: two since 2020, a March hire, a return in May; a year ago: those two and
    # Came Back's first spell, which ended in August 2025 (1 leaver of (3 + 4) / 2 = 28.6%).
    assert by_site["Dutchtown"] == ["2", "2", "0", "4", "28.6", "66.7",
                                    tenure(since, since, date(2026, 3, 2), date(2026, 5, 1))]
    # Walnut Park: Worker3 since 2020 and Left Early, gone on 15 February.
    assert by_site["Walnut Park"] == ["2", "0", "1", "1", "66.7", "50.0", tenure(since)]
    assert by_site["Old Site"] == ["0", "0", "0", "0", "no workers", "no workers", "no workers"]
    assert by_site["Total"] == ["4", "2", "1", "5", "40.0", "60.0",
                                tenure(since, since, since, date(2026, 3, 2), date(2026, 5, 1))]


def test_headcounts_follow_engagements_on_the_ranges_last_day(client, auth, staffing):
    auth.as_role("leader")
    # On 31 January 2026 Left Early still worked; Hired Later had not started.
    rows = get_csv(client, "workforce-sites", **{"from": "2026-01-01", "to": "2026-01-31"})
    assert rows[1:] == [["Dutchtown", "2"], ["Walnut Park", "2"], ["Total", "4"]]


def test_the_movement_table_is_on_the_page_with_its_chart_and_its_csv(client, auth, staffing):
    auth.as_role("leader")
    html = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "Hires, separations, turnover and tenure" in html
    assert 'class="bar-chart"' in html and 'aria-hidden="true"' in html
    table = next(t for t in page_tables(html) if t[0][0] == "Site" and "Hires" in t[0])
    assert table == get_csv(client, "workforce-movement", **RANGE)


@pytest.fixture
def unfunded(app, world):
    """Provider C, funded by nobody (or another funder): the city must not see it."""
    with app.app_context():
        org = Organisation(name="Provider C", kind="provider")
        db.session.add(org)
        db.session.flush()
        site = Site(name="Elsewhere", organisation_id=org.id)
        db.session.add(site)
        db.session.flush()
        worker = make_user("Worker C", "worker@c.example.org", {"worker"}, org.id, site.id)
        make_shift(worker.id, local(date(2026, 1, 10), "09:00"), 8, "approved",
                   conflicts_interrupted=99)  # fmt: skip
        db.session.commit()
    return world


def test_a_funder_sees_only_the_providers_it_funds(client, auth, unfunded):
    auth.as_role("funder")
    html = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "Provider A" in html and "Provider B" in html
    assert "Provider C" not in html and "99" not in html
    for name in ("programme-organisations", "workforce-organisations", "workforce-movement",
                 "wellbeing"):  # fmt: skip
        assert "Provider C" not in str(get_csv(client, name, **RANGE))
    movement = {r[0]: r[1:] for r in get_csv(client, "workforce-movement", **RANGE)[1:]}
    assert movement["Provider A"][3] == "3" and movement["Provider B"][3] == "1"


@pytest.fixture
def supported(app, world):
    """Twelve workers at Dutchtown, each with a critical exposure, an acknowledged support
    request (after 1..12 hours) and a counselling session in January 2026."""
    o, s, u = world["org"]["a"], world["site"], world["user"]
    with app.app_context():
        for n in range(1, 13):
            w = make_user(f"Helped {n}", f"helped{n}@a.example.org", {"worker"}, o, s["a1"])
            at = local(date(2026, 1, 5), "10:00") + timedelta(days=n)
            db.session.add(Exposure(worker_id=w.id, organisation_id=o, occurred_at=at,
                                    category="witnessed_violence",
                                    severity=4 if n % 2 else 2))  # fmt: skip
            db.session.add(Exposure(worker_id=w.id, organisation_id=o, occurred_at=at,
                                    category="threatened_assaulted", severity=1))  # fmt: skip
            db.session.add(SupportRequest(worker_id=w.id, organisation_id=o, kind="peer_support",
                                          created_at=at, acknowledged_at=at + timedelta(hours=n)))
            slot = CounselingSlot(counselor_id=u["counselor"], organisation_id=o, start_at=at,
                                  end_at=at + timedelta(hours=1), mode="phone")  # fmt: skip
            db.session.add(slot)
            db.session.flush()
            db.session.add(Booking(slot_id=slot.id, active_slot_id=slot.id, worker_id=w.id,
                                   organisation_id=o, status="completed" if n > 1 else "booked"))
        # unacknowledged and cancelled ones do not count
        db.session.add(SupportRequest(worker_id=u["worker"], organisation_id=o, kind="peer_support",
                                      created_at=local(date(2026, 1, 20), "10:00")))  # fmt: skip
        db.session.commit()
    return world


def test_wellbeing_shows_critical_incidents_acknowledgement_time_and_counselling(
    client, auth, supported
):
    auth.as_role("leader")
    rows = get_csv(client, "wellbeing", **RANGE)
    header = rows[0]
    q1 = [r for r in rows if r[0] == "2026 Q1"]
    assert {r[0] for r in rows[1:]} == {"2026 Q1", "2026 Q2"}, "the range's whole quarters"
    total = dict(zip(header, next(r for r in q1 if r[1] == "All sites"), strict=True))
    # every worker has one severity-4 or one threatened-or-assaulted exposure, some both
    assert total["Exposures"] == "24"
    assert total["Critical incidents"] == "18"
    assert total["Support requests"] == "13"
    # acknowledged after 1, 2, ... 12 hours: the median of twelve is 6.5
    assert total["Median hours to acknowledge a request"] == "6.5"
    assert total["Counselling sessions booked or held"] == "12"
    # Dutchtown holds everyone but the other sites have nobody: 0 + 0 would show through the
    # total, so Dutchtown is withheld too.
    dutchtown = dict(zip(header, next(r for r in q1 if r[1] == "Dutchtown"), strict=True))
    assert dutchtown["Critical incidents"] == "hidden (small numbers)"


def test_funder_wellbeing_is_one_row_per_funded_organisation(client, auth, supported):
    auth.as_role("funder")
    rows = get_csv(client, "wellbeing", **RANGE)
    q1 = [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[0] == "2026 Q1"]
    assert [r["Organisation"] for r in q1] == ["Provider A", "Provider B",
                                               "All funded organisations"]  # fmt: skip
    a, b, everyone = q1
    assert a["Counselling sessions booked or held"] == "12"
    # B has nobody: hidden, and so is the funded organisations' total, or it would show B
    assert b["Exposures"] == everyone["Exposures"] == "hidden (small numbers)"


def test_the_wellbeing_block_runs_a_fixed_number_of_queries(client, auth, supported, app,
                                                            count_queries):  # fmt: skip
    auth.as_role("leader")
    with count_queries() as few:
        client.get("/dashboard", query_string=RANGE)
    with app.app_context():
        o, s = supported["org"]["a"], supported["site"]["a2"]
        for n in range(30):
            w = make_user(f"More {n}", f"more{n}@a.example.org", {"worker"}, o, s)
            db.session.add(SupportRequest(worker_id=w.id, organisation_id=o, kind="peer_support",
                                          created_at=local(date(2026, 2, 1), "10:00"),
                                          acknowledged_at=local(date(2026, 2, 2), "10:00")))
        db.session.commit()
    with count_queries() as many:
        client.get("/dashboard", query_string=RANGE)
    assert many() == few()


def test_the_printable_report_has_the_headline_and_every_table(client, auth, world, app):
    with app.app_context():
        make_shift(world["user"]["worker"], local(date(2026, 1, 10), "09:00"), 8, "approved",
                   conflicts_interrupted=1234, individuals_engaged=2345, referrals=7)
        db.session.commit()
    auth.as_role("funder")
    response = client.get("/dashboard/report", query_string={**RANGE, "paper": "a4"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "1,234 conflicts interrupted, involving 2,345 individuals, with 7 referrals" in html
    assert "Providers funded by City Office" in html
    assert "paper-a4" in html and "1 January 2026 to 30 June 2026" in html
    assert "Download CSV" not in html
    # by organisation and by month, headcounts, movement, wellbeing, field safety
    assert len(page_tables(html)) == 6
    letter = client.get("/dashboard/report", query_string={**RANGE, "paper": "tabloid"})
    assert "paper-letter" in letter.get_data(as_text=True)  # anything else: US Letter


def test_a_report_for_a_bad_range_says_why(client, auth, world):
    auth.as_role("leader")
    response = client.get("/dashboard/report", query_string={"from": "2026-02-01",
                                                             "to": "2026-01-01"})
    assert response.status_code == 422
    assert "on or after the start date" in response.get_data(as_text=True)


people_per_site = st.lists(st.integers(min_value=0, max_value=14), min_size=2, max_size=2)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(people_per_site)
def test_no_dashboard_wellbeing_cell_describes_too_few_people(client, auth, world, app, people):
    """For random numbers of people with exposures per site, what the leader downloads never
    publishes a cell from fewer than 11 people, and no column with a published total has a
    hidden part that subtraction could recover."""
    o, sites = world["org"]["a"], [world["site"]["a1"], world["site"]["a2"]]
    with app.app_context():
        made = []
        for site, count in zip(sites, people, strict=True):
            for n in range(count):
                w = make_user("P", f"p{site}-{n}@a.example.org", {"worker"}, o, site,
                              hired_on=None)  # fmt: skip
                made.append(w.id)
                db.session.add(Exposure(worker_id=w.id, organisation_id=o,
                                        occurred_at=local(date(2026, 1, 9), "10:00"),
                                        category="witnessed_violence", severity=2))  # fmt: skip
        db.session.commit()
    try:
        auth.as_role("leader")
        rows = get_csv(client, "wellbeing", **RANGE)
        col = rows[0].index("Exposures")
        cells = {r[1]: r[col] for r in rows[1:] if r[0] == "2026 Q1"}
        truth = {"Dutchtown": people[0], "Walnut Park": people[1]}  # Old Site: nobody works
        assert set(cells) == {*truth, "All sites"}  # there: not a line
        for name, value in cells.items():
            if name != "All sites" and value != HIDDEN:
                assert truth[name] >= 11 and value == str(truth[name])
        if cells["All sites"] != HIDDEN:
            assert cells["All sites"] == str(sum(people))
            hidden = [n for n in truth if cells[n] == HIDDEN]
            assert len(hidden) != 1
            assert not hidden or sum(truth[n] for n in hidden) >= 11
    finally:
        with app.app_context():
            db.session.execute(db.delete(Exposure).where(Exposure.worker_id.in_(made)))
            db.session.execute(db.delete(Engagement).where(Engagement.user_id.in_(made)))
            for uid in made:
                db.session.delete(db.session.get(User, uid))
            db.session.commit()
