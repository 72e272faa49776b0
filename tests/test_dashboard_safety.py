"""Field safety on the dashboards (issue 15): check-ins started and alarms raised per whole
ended quarter and site (leader) or provider (funder), suppressed as the wellbeing figures are;
a duress alarm is one alarm and nothing more; no person or place; the same cells on the page,
the CSV, the report and the API; a fixed number of statements; kept like the other tables."""

from __future__ import annotations

import json
from datetime import date
from itertools import combinations

import pytest
import sqlalchemy as sa

from portal.dashboard import service
from portal.dashboard.kept import EXTENSION, KeptFigures
from portal.extensions import db
from portal.models import Organisation, SafetyCheckin, SafetyPosition, Site, User
from tests.factories import local, make_user, safety_checkin
from tests.test_api import ENDPOINTS, PERSON, as_text, bearer, issue_token, page_tables
from tests.test_dashboard import get_csv

TODAY = date(2026, 12, 3)  # 2026 Q1 to Q3 have ended
H1 = {"from": "2026-01-01", "to": "2026-06-30"}
Q1 = {"from": "2026-01-01", "to": "2026-03-31"}
COLUMNS = ["Check-ins started", "Alarms raised"]
HIDDEN = "hidden (small numbers)"


def rows_of(client, **params) -> dict[tuple[str, str], list[str]]:
    """The safety CSV as {(quarter, line): [check-ins, alarms]}."""
    rows = get_csv(client, "safety", **params)
    assert rows[0][2:] == COLUMNS
    return {(r[0], r[1]): r[2:] for r in rows[1:]}


def tables_of(app, user_id: int, args: dict) -> dict:
    """The viewer's tables worked out directly (as page, CSV, report and API get them)."""
    with app.app_context():
        user = db.session.get(User, user_id)
        return service.viewer_tables(user, args, TODAY).tables


@pytest.fixture
def checkins(app, world):
    """A few check-ins of provider A and B in 2026 Q1 and Q2, with alarms of every kind."""
    u = world["user"]
    with app.app_context():
        # Dutchtown: two workers, five check-ins, an SOS and a duress alarm (still open)
        for day in (5, 6, 7):
            safety_checkin(u["worker"], local(date(2026, 1, day), "10:00"))
        safety_checkin(u["worker"], local(date(2026, 2, 9), "10:00"), "sos")
        safety_checkin(u["worker2"], local(date(2026, 3, 31), "23:30"), "duress",
                       status="alarm")  # 23:30 in Chicago is April in UTC: still Q1  # fmt: skip
        # Walnut Park: one worker, a missed check-in
        safety_checkin(u["worker3"], local(date(2026, 2, 10), "12:00"), "missed")
        # Q2: one more in Dutchtown; nothing before the range counts
        safety_checkin(u["worker"], local(date(2026, 4, 1), "00:30"))
        safety_checkin(u["worker"], local(date(2025, 12, 31), "23:30"), "sos")
        # provider B
        safety_checkin(u["worker_b"], local(date(2026, 1, 15), "09:00"))
        safety_checkin(u["worker_b"], local(date(2026, 1, 16), "09:00"), "duress")
        db.session.commit()
    return world


# --- what is counted --------------------------------------------------------------------------


def test_counts_per_quarter_and_site(client, auth, app, checkins):
    app.config["SUPPRESSION_MIN"] = 1  # every figure from someone published
    auth.as_role("leader")
    assert rows_of(client, **H1) == {
        ("2026 Q1", "Dutchtown"): ["5", "2"],
        ("2026 Q1", "Walnut Park"): ["1", "1"],
        ("2026 Q1", "All sites"): ["6", "3"],
        # Q2: Walnut Park had nobody, so Dutchtown (the provider's whole) is hidden with it;
        # no alarm at all: from nobody, hidden
        ("2026 Q2", "Dutchtown"): [HIDDEN, HIDDEN],
        ("2026 Q2", "Walnut Park"): [HIDDEN, HIDDEN],
        ("2026 Q2", "All sites"): ["1", HIDDEN],
    }
    assert rows_of(client, **H1, site=checkins["site"]["a2"]) == {
        ("2026 Q1", "Walnut Park"): ["1", "1"],
        ("2026 Q2", "Walnut Park"): [HIDDEN, HIDDEN],
    }
    auth.logout()
    auth.as_role("funder")
    assert rows_of(client, **Q1) == {
        ("2026 Q1", "Provider A"): ["6", "3"],
        ("2026 Q1", "Provider B"): ["2", "1"],
        ("2026 Q1", "All funded organisations"): ["8", "4"],
    }


def test_whole_ended_quarters_only(client, auth, app, checkins):
    """A range a day shorter, or a month inside the quarter, shows the whole quarter: moving the
    range cannot single out one day's check-in; the quarter in progress is not shown."""
    app.config["SUPPRESSION_MIN"] = 1
    auth.as_role("leader")
    whole = rows_of(client, **Q1)
    assert rows_of(client, **{"from": "2026-01-02", "to": "2026-03-30"}) == whole
    assert rows_of(client, **{"from": "2026-02-01", "to": "2026-02-28"}) == whole
    # a year: the same quarter lines, and no line across quarters (no year total to subtract)
    year = rows_of(client, **{"from": "2026-01-01", "to": "2026-12-31"})
    assert {k: v for k, v in year.items() if k[0] == "2026 Q1"} == whole
    assert all(quarter.startswith("2026 Q") for quarter, _line in year)
    with app.app_context():
        from portal.timeutil import local_today

        today = local_today()
    start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    assert rows_of(client, **{"from": start.isoformat(), "to": today.isoformat()}) == {}


def test_duress_is_an_alarm_and_nothing_more(client, auth, app, checkins):
    """Every view reads the same whatever kind each alarm is: no column, cell or word tells a
    duress alarm from an SOS or a missed check-in."""
    app.config["SUPPRESSION_MIN"] = 1
    token = issue_token(app, checkins, "leader")
    auth.as_role("leader")

    def views():
        api = client.get(ENDPOINTS[0], headers=bearer(token), query_string=H1).get_json()
        safety = next(t for t in api["tables"] if t["key"] == "safety")
        csv_text = client.get("/dashboard/safety.csv", query_string=H1).get_data(as_text=True)
        report = page_tables(client)  # the page's tables by key (RANGE: 2026 Jan-Feb)
        return safety, csv_text, report["safety"]

    before = views()
    api, csv_text, _page = before
    assert api["columns"] == ["Quarter", "Site", *COLUMNS]
    for text in (json.dumps(api).lower(), csv_text.lower()):
        for word in ("duress", "sos", "missed", "code"):
            assert word not in text
    page = client.get("/dashboard", query_string=H1).get_data(as_text=True).lower()
    report = client.get("/dashboard/report", query_string=H1).get_data(as_text=True).lower()
    assert "duress" not in page and "duress" not in report
    for kind in ("sos", "missed", "duress"):
        with app.app_context():
            db.session.execute(sa.update(SafetyCheckin).where(SafetyCheckin.alarm_kind.is_not(None))
                               .values(alarm_kind=kind))  # fmt: skip
            db.session.commit()
        assert views() == before, kind


# --- suppression ------------------------------------------------------------------------------


def add_people(app, world, counts: dict[str, int], alarms: dict[str, int] | None = None) -> None:
    """``counts[site]`` more workers with one check-in each in 2026 Q1 (and one in Q2); the first
    ``alarms[site]`` of them raised an alarm (kinds in turn, duress among them)."""
    kinds = ("duress", "sos", "missed")
    with app.app_context():
        for site, count in counts.items():
            org = world["org"][site[0]]
            for n in range(count):
                w = make_user("P", f"s{site}-{n}@x.example.org", {"worker"}, org,
                              world["site"][site], hired_on=None)  # fmt: skip
                kind = kinds[n % 3] if n < (alarms or {}).get(site, 0) else None
                safety_checkin(w.id, local(date(2026, 1, 2 + n), "10:00"), kind)
                safety_checkin(w.id, local(date(2026, 5, 2 + n), "10:00"))
        db.session.commit()


def test_a_small_site_is_hidden_and_so_is_its_complement(client, auth, app, world):
    add_people(app, world, {"a1": 15, "a2": 4, "b1": 12})
    auth.as_role("leader")
    rows = rows_of(client, **Q1)
    # Walnut Park: 4 people (+ the world's worker3 with none) is hidden; Dutchtown with it, or
    # All sites minus Dutchtown would give it
    assert rows[("2026 Q1", "Walnut Park")][0] == HIDDEN
    assert rows[("2026 Q1", "Dutchtown")][0] == HIDDEN
    assert rows[("2026 Q1", "All sites")][0] == "19"
    # the site filter shows the same hidden line, not a figure to subtract
    assert rows_of(client, **Q1, site=world["site"]["a1"]) == {
        ("2026 Q1", "Dutchtown"): [HIDDEN, HIDDEN]
    }
    # alarms: nobody raised one, so every alarm figure is hidden (0 from nobody)
    assert {v[1] for v in rows.values()} == {HIDDEN}
    auth.logout()
    auth.as_role("funder")
    assert rows_of(client, **Q1) == {
        ("2026 Q1", "Provider A"): ["19", HIDDEN],
        ("2026 Q1", "Provider B"): ["12", HIDDEN],
        ("2026 Q1", "All funded organisations"): ["31", HIDDEN],
    }


def test_a_small_provider_hides_the_funders_total(client, auth, app, world):
    """Provider B has five people: its figure is hidden, so the funder's total is too (else the
    total minus Provider A, which its leader also sees, gives B)."""
    add_people(app, world, {"a1": 15, "a2": 12, "b1": 5}, alarms={"a1": 11, "a2": 11})
    auth.as_role("funder")
    rows = rows_of(client, **Q1)
    assert rows[("2026 Q1", "Provider A")] == ["27", "22"]
    assert rows[("2026 Q1", "Provider B")] == [HIDDEN, HIDDEN]
    assert rows[("2026 Q1", "All funded organisations")] == [HIDDEN, HIDDEN]
    auth.logout()
    auth.as_role("leader")
    rows = rows_of(client, **Q1)
    assert rows[("2026 Q1", "All sites")] == ["27", "22"]
    assert rows[("2026 Q1", "Dutchtown")] == ["15", "11"]
    assert rows[("2026 Q1", "Walnut Park")] == ["12", "11"]


SITES = ("a1", "a2", "b1")
SCOPES = {
    ("leader a", "Dutchtown"): frozenset({"a1"}),
    ("leader a", "Walnut Park"): frozenset({"a2"}),
    ("leader a", "All sites"): frozenset({"a1", "a2"}),
    ("leader b", "Hamilton Heights"): frozenset({"b1"}),
    ("leader b", "All sites"): frozenset({"b1"}),
    ("funder", "Provider A"): frozenset({"a1", "a2"}),
    ("funder", "Provider B"): frozenset({"b1"}),
    ("funder", "All funded organisations"): frozenset(SITES),
}
RANGES = [Q1, {"from": "2026-01-02", "to": "2026-03-31"}, H1,
          {"from": "2026-01-01", "to": "2026-12-31"}]  # fmt: skip


@pytest.mark.parametrize(
    "people, alarms",
    [
        ({"a1": 15, "a2": 4, "b1": 12}, {"a1": 12, "a2": 2, "b1": 11}),
        ({"a1": 15, "a2": 12, "b1": 5}, {"a1": 5, "a2": 12, "b1": 5}),
        ({"a1": 20, "a2": 0, "b1": 30}, {"a1": 20, "a2": 0, "b1": 3}),
        ({"a1": 6, "a2": 7, "b1": 30}, {"a1": 6, "a2": 6, "b1": 30}),
        ({"a1": 11, "a2": 11, "b1": 11}, {"a1": 11, "a2": 10, "b1": 11}),
        ({"a1": 3, "a2": 3, "b1": 3}, {}),
    ],
)
def test_no_view_subtracted_from_another_recovers_a_hidden_figure(app, world, people, alarms):
    """Every viewer (the funder, each provider's leader, with a site filter or not) over a
    quarter, a range a day shorter, a half-year and a year: a line reads the same everywhere,
    nothing published stands for fewer than 11 people, and no two nested published figures
    differ by fewer than 11 people (or give a hidden one)."""
    add_people(app, world, people, alarms)
    with app.app_context():
        leader_b = make_user("Leader B", "leader@b.example.org", {"leader"},
                             world["org"]["b"]).id  # fmt: skip
        db.session.commit()
    u, s = world["user"], world["site"]
    views = []
    for args in RANGES:
        views += [("funder", u["funder_city"], args), ("leader a", u["leader"], args),
                  ("leader b", leader_b, args)]  # fmt: skip
        views += [("leader a", u["leader"], {**args, "site": str(s[k])}) for k in ("a1", "a2")]
    truths = {"Check-ins started": people,
              "Alarms raised": {k: alarms.get(k, 0) for k in SITES}}  # fmt: skip
    for column, truth in truths.items():
        for quarter in ("2026 Q1", "2026 Q2"):
            if quarter == "2026 Q2" and column == "Alarms raised":
                truth = dict.fromkeys(SITES, 0)  # Q2 check-ins raised no alarm
            published: dict[frozenset, set] = {}
            hidden: set[frozenset] = set()
            for who, user_id, args in views:
                table = tables_of(app, user_id, args)["safety"]
                col = table.columns.index(column)
                for row in table.rows:
                    if row[0] != quarter:
                        continue
                    scope = SCOPES[(who, row[1])]
                    if row[col] is None:
                        hidden.add(scope)
                        continue
                    published.setdefault(scope, set()).add(row[col])
                    # each added worker has one check-in a quarter; the world's have none
                    assert row[col] == sum(truth[k] for k in scope), (column, scope)
            for scope, values in published.items():
                assert len(values) == 1 and scope not in hidden, (column, set(scope))
                assert sum(truth[k] for k in scope) >= 11, (column, set(scope))
            for a, b in combinations(published, 2):
                big, small = (a, b) if a >= b else (b, a)
                if not big >= small:
                    continue
                gap = sum(truth[k] for k in big - small)
                assert gap == 0 or gap >= 11, (column, set(big), set(small), gap)
                assert big - small not in hidden or gap == 0, (column, set(big - small))


def test_page_csv_report_and_api_hide_the_same_cells(client, auth, app, world):
    add_people(app, world, {"a1": 15, "a2": 4, "b1": 12}, alarms={"a1": 12})
    for role in ("leader", "funder"):
        token = issue_token(app, world, PERSON[role])
        api = client.get(ENDPOINTS[0], headers=bearer(token), query_string=Q1).get_json()
        safety = next(t for t in api["tables"] if t["key"] == "safety")
        assert safety["hidden"] == [[i, j] for i, row in enumerate(safety["rows"])
                                    for j, v in enumerate(row) if v is None]  # fmt: skip
        assert safety["hidden"], "something is hidden"
        assert all(t["key"] != "safety" for t in client.get(
            ENDPOINTS[1], headers=bearer(token), query_string=Q1).get_json()["tables"])
        auth.as_role(role)
        assert get_csv(client, "safety", **Q1) == as_text(safety)
        report = client.get("/dashboard/report", query_string=Q1).get_data(as_text=True)
        assert 'id="t-safety"' in report
        assert report.count(HIDDEN) >= len(safety["hidden"])
        auth.logout()


# --- who sees what ----------------------------------------------------------------------------


def test_funder_sees_only_the_providers_it_funds(client, auth, app, checkins):
    """A provider another office funds is not a line and not in the total; a leader sees only
    their own provider; a check-in made for another provider counts there only."""
    app.config["SUPPRESSION_MIN"] = 1
    with app.app_context():
        county = Organisation(name="County Office", kind="funder")
        db.session.add(county)
        db.session.flush()
        other = Organisation(name="Provider C", kind="provider", funded_by_id=county.id)
        db.session.add(other)
        db.session.flush()
        site = Site(name="Far Away", organisation_id=other.id)
        db.session.add(site)
        db.session.flush()
        stranger = make_user("Worker C", "worker@c.example.org", {"worker"}, other.id, site.id)
        for day in range(1, 6):
            safety_checkin(stranger.id, local(date(2026, 2, day), "10:00"), "sos")
        # a check-in of provider A's worker recorded for provider C: A does not count it
        safety_checkin(checkins["user"]["worker"], local(date(2026, 2, 20), "10:00"),
                       organisation_id=other.id, site_id=site.id)  # fmt: skip
        db.session.commit()
    auth.as_role("funder")
    rows = rows_of(client, **Q1)
    assert set(rows) == {("2026 Q1", "Provider A"), ("2026 Q1", "Provider B"),
                         ("2026 Q1", "All funded organisations")}  # fmt: skip
    assert rows[("2026 Q1", "All funded organisations")] == ["8", "4"]
    page = client.get("/dashboard", query_string=Q1).get_data(as_text=True)
    assert "Provider C" not in page and "Far Away" not in page
    auth.logout()
    auth.as_role("leader")
    rows = rows_of(client, **Q1)
    assert rows[("2026 Q1", "All sites")] == ["6", "3"]
    page = client.get("/dashboard", query_string=Q1).get_data(as_text=True)
    for name in ("Provider B", "Hamilton Heights", "Provider C", "Far Away"):
        assert name not in page


@pytest.mark.parametrize("role", ["worker", "supervisor", "counselor", "hr", "admin"])
def test_other_roles_get_404(client, auth, world, role):
    auth.as_role(role)
    assert client.get("/dashboard/safety.csv").status_code == 404
    assert client.get("/dashboard", query_string=Q1).status_code == 404


def test_anonymous_is_sent_to_login_and_the_api_wants_a_token(client, world):
    response = client.get("/dashboard/safety.csv")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get(ENDPOINTS[0]).status_code == 401


NAME = "Quintessa Marlowe-Okafor"
BUDDY = "Bartholomew Zanzibar-Quill"
PLACE = "Zyzzyva Court 4417"
NOTE = "Ophelia-note-8812"


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_no_person_or_place_reaches_any_view(client, auth, app, world, role):
    app.config["SUPPRESSION_MIN"] = 1  # figures published: the most a view can show
    with app.app_context():
        org, site = world["org"]["a"], world["site"]["a1"]
        worker = make_user(NAME, "quintessa@a.example.org", {"worker"}, org, site)
        buddy = make_user(BUDDY, "bartholomew@a.example.org", {"worker"}, org, site)
        for day, kind in ((3, None), (4, "duress"), (5, "sos")):
            checkin = safety_checkin(worker.id, local(date(2026, 1, day), "21:00"), kind,
                                     place=PLACE, buddy_id=buddy.id, closed_note=NOTE,
                                     closed_by_id=world["user"]["supervisor"])  # fmt: skip
            db.session.add(SafetyPosition(checkin_id=checkin, latitude="38.591123",
                                          longitude="-90.245678", accuracy_m=17))  # fmt: skip
        db.session.commit()
    token = issue_token(app, world, PERSON[role])
    texts = [json.dumps(client.get(url, headers=bearer(token), query_string=Q1).get_json())
             for url in ENDPOINTS]  # fmt: skip
    auth.as_role(role)
    texts += [client.get("/dashboard", query_string=Q1).get_data(as_text=True),
              client.get("/dashboard/report", query_string=Q1).get_data(as_text=True),
              client.get("/dashboard/safety.csv", query_string=Q1).get_data(as_text=True)]
    assert "Field safety" in texts[2]
    for text in texts:
        for secret in (NAME, BUDDY, PLACE, NOTE, "Zyzzyva", "Quintessa", "38.591123",
                       "-90.245678", "Supervisor A"):  # fmt: skip
            assert secret not in text


# --- speed and keeping ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_statements_do_not_grow_with_the_check_ins(client, auth, app, world, count_queries,
                                                   role):  # fmt: skip
    """Two sizes of data, the same statements for the page, the CSV and the API."""
    token = issue_token(app, world, PERSON[role])
    add_people(app, world, {"a1": 1, "b1": 1})
    auth.as_role(role)
    urls = [("/dashboard", {}), ("/dashboard/safety.csv", {}),
            (ENDPOINTS[0], bearer(token))]  # fmt: skip

    def counts():
        found = []
        for url, headers in urls:
            client.get(url, headers=headers, query_string=H1)  # warm up
            with count_queries() as n:
                assert client.get(url, headers=headers, query_string=H1).status_code == 200
            found.append(n())
        return found

    small = counts()
    with app.app_context():
        for i in range(40):  # more workers, sites' check-ins, alarms, quarters
            w = make_user("More", f"more{i}@x.example.org", {"worker"},
                          world["org"]["a" if i % 3 else "b"],
                          world["site"][("a1", "a2", "b1")[i % 3]], hired_on=None)  # fmt: skip
            for month in (1, 4, 7):
                safety_checkin(w.id, local(date(2026, month, 1 + i % 28), "08:00"),
                               ("duress", "sos", None)[i % 3])  # fmt: skip
        db.session.commit()
    assert counts() == small


@pytest.fixture
def keeping(app):
    """Keeping on (300 s, as deployed), on a clock the test moves."""
    app.config["DASHBOARD_KEEP_SECONDS"] = 300
    clock = type("Clock", (), {"now": 1000.0, "__call__": lambda self: self.now})()
    app.extensions[EXTENSION] = KeptFigures(300, clock=clock)
    return clock


def test_the_safety_figures_are_kept_with_the_other_tables(client, auth, app, checkins,
                                                           keeping):  # fmt: skip
    app.config["SUPPRESSION_MIN"] = 1
    auth.as_role("leader")
    before = rows_of(client, **Q1)
    with app.app_context():
        safety_checkin(checkins["user"]["worker"], local(date(2026, 1, 20), "10:00"))
        db.session.commit()
    keeping.now += 299
    assert rows_of(client, **Q1) == before  # kept: the CSV shows what the page showed
    keys = list(app.extensions[EXTENSION]._items)
    trees = [k for k in keys if k[0] == "safety"]
    assert trees == [("safety", tuple(sorted((checkins["org"]["a"], checkins["org"]["b"]))),
                      ("2026 Q1",), 1)]  # fmt: skip
    viewer = [k for k in keys if k[0] == "leader"]
    assert viewer and all(k[1] == checkins["org"]["a"] for k in viewer)
    keeping.now += 2
    assert rows_of(client, **Q1)[("2026 Q1", "Dutchtown")] == ["6", "2"]
