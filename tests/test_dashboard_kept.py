"""Dashboard figures kept a few minutes per viewer's organisation and range (issue 14):
the same figures on page, CSV, report and API while kept, the time shown, never another
organisation's, new figures once they expire."""

from __future__ import annotations

from datetime import date

import pytest

from portal.dashboard import routes as dashboard_routes
from portal.dashboard.kept import EXTENSION, KeptFigures
from portal.extensions import db
from portal.models import Organisation, Site
from tests.factories import local, make_shift, make_user
from tests.test_api import ENDPOINTS, get_stats, issue_token, page_tables
from tests.test_dashboard import RANGE, get_csv

KEEP = 300


class Clock:
    """The store's monotonic clock, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app):
    """Keeping on (300 s, as deployed), on a clock the test moves."""
    app.config["DASHBOARD_KEEP_SECONDS"] = KEEP
    moved = Clock()
    app.extensions[EXTENSION] = KeptFigures(KEEP, clock=moved)
    return moved


def approve_shift(app, worker_id: int, day: date, conflicts: int) -> None:
    with app.app_context():
        make_shift(worker_id, local(day, "09:00"), 8, "approved", conflicts_interrupted=conflicts)
        db.session.commit()


def months_total(client, **params) -> list[str]:
    return get_csv(client, "programme-months", **params)[-1]


def test_a_second_view_shows_the_kept_figures_and_says_when_they_were_worked_out(
    client, app, auth, world, clock
):
    approve_shift(app, world["user"]["worker"], date(2026, 1, 10), 2)
    auth.as_role("leader")
    first = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "Figures worked out at" in first and "(just now)" in first
    assert "kept for 5 minutes" in first
    before = months_total(client)

    approve_shift(app, world["user"]["worker"], date(2026, 1, 11), 3)
    clock.now += KEEP - 1  # still kept: the new shift does not show yet
    assert months_total(client) == before
    assert page_tables(client) == page_tables(client)

    clock.now += 2  # expired: worked out again, the new shift counted
    after = months_total(client)
    assert after != before
    assert int(after[3]) == int(before[3]) + 3  # conflicts interrupted


def test_page_csv_report_and_api_show_the_same_kept_cells(client, app, auth, world, clock):
    approve_shift(app, world["user"]["worker"], date(2026, 1, 10), 2)
    token = issue_token(app, world, "leader")
    auth.as_role("leader")
    page = page_tables(client)
    first_api = get_stats(client, token, ENDPOINTS[0], **RANGE)

    approve_shift(app, world["user"]["worker"], date(2026, 1, 12), 9)  # not shown while kept
    assert page_tables(client) == page
    assert get_csv(client, "programme-months") == page["programme-months"]
    report = client.get("/dashboard/report", query_string=RANGE).get_data(as_text=True)
    assert "Figures worked out at" in report
    assert "2 conflicts interrupted" in report
    again = get_stats(client, token, ENDPOINTS[0], **RANGE)
    assert again["tables"] == first_api["tables"]
    assert again["generated_at"] == first_api["generated_at"], "the time the figures were made"


def test_each_organisation_and_funder_gets_its_own_figures(client, app, auth, world, clock):
    u = world["user"]
    approve_shift(app, u["worker"], date(2026, 1, 10), 2)  # provider A
    approve_shift(app, u["worker_b"], date(2026, 1, 10), 7)  # provider B
    with app.app_context():
        make_user("Leader B", "leader@b.example.org", {"leader"}, world["org"]["b"])
        county = Organisation(name="County Office", kind="funder")
        db.session.add(county)
        db.session.flush()
        provider_c = Organisation(name="Provider C", kind="provider", funded_by_id=county.id)
        db.session.add(provider_c)
        db.session.flush()
        site_c = Site(name="Baden", organisation_id=provider_c.id)
        db.session.add(site_c)
        db.session.flush()
        make_user("Funder County", "funder@county.example.org", {"funder"}, county.id)
        worker_c = make_user("Worker C", "worker@c.example.org", {"worker"}, provider_c.id,
                             site_c.id)  # fmt: skip
        make_shift(worker_c.id, local(date(2026, 1, 10), "09:00"), 8, "approved",
                   conflicts_interrupted=1)  # fmt: skip
        db.session.commit()

    auth.as_role("leader")
    assert months_total(client)[3] == "2"
    auth.logout()
    auth.login("leader@b.example.org")
    assert months_total(client)[3] == "7", "provider B's leader never gets A's kept figures"
    page = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "Dutchtown" not in page
    auth.logout()
    auth.as_role("funder")
    assert months_total(client)[3] == "9"  # both providers funded by the city
    auth.logout()
    auth.login("funder@county.example.org")
    assert months_total(client)[3] == "1", "another funder never gets the city's figures"


def test_ranges_sites_and_days_are_kept_apart(client, app, auth, world, clock, monkeypatch):
    u, s = world["user"], world["site"]
    approve_shift(app, u["worker"], date(2026, 1, 10), 2)  # Dutchtown
    approve_shift(app, u["worker3"], date(2026, 2, 10), 4)  # Walnut Park
    auth.as_role("leader")
    assert months_total(client)[3] == "6"
    assert months_total(client, site=s["a2"])[3] == "4"
    assert months_total(client, to="2026-01-31")[3] == "2"

    approve_shift(app, u["worker"], date(2026, 1, 20), 5)
    assert months_total(client)[3] == "6"  # kept
    with app.app_context():
        today = dashboard_routes.local_today()
    monkeypatch.setattr(dashboard_routes, "local_today", lambda: date.fromordinal(
        today.toordinal() + 1))  # fmt: skip
    assert months_total(client)[3] == "11", "a new day works the figures out again"


def test_bad_input_is_still_refused_with_keeping_on(client, auth, world, clock):
    auth.as_role("leader")
    response = client.get("/dashboard", query_string={"from": "2026-13-01"})
    assert response.status_code == 422
    assert "The start date must be a date" in response.get_data(as_text=True)


def test_a_kept_view_runs_only_the_statements_of_the_page(client, app, auth, world, clock,
                                                          count_queries):  # fmt: skip
    approve_shift(app, world["user"]["worker"], date(2026, 1, 10), 2)
    auth.as_role("funder")
    with count_queries() as worked_out:
        assert client.get("/dashboard", query_string=RANGE).status_code == 200
    with count_queries() as kept:
        assert client.get("/dashboard", query_string=RANGE).status_code == 200
    assert kept() < worked_out()
    assert kept() <= 3, "the session check and the page's own reads, no figure's SQL"


def test_nothing_is_kept_when_keeping_is_off(client, app, auth, world):
    assert app.config["DASHBOARD_KEEP_SECONDS"] == 0  # the suite's default
    approve_shift(app, world["user"]["worker"], date(2026, 1, 10), 2)
    auth.as_role("leader")
    page = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "Figures worked out at" not in page
    approve_shift(app, world["user"]["worker"], date(2026, 1, 11), 3)
    assert months_total(client)[3] == "5"


# --- the store itself -------------------------------------------------------------------------


def test_the_store_expires_and_drops_the_oldest():
    clock = Clock()
    store = KeptFigures(60, size=2, clock=clock)
    made = []

    def make(value):
        made.append(value)
        return value

    assert store.get("a", lambda: make(1)).value == 1
    assert store.get("a", lambda: make(2)).value == 1  # kept
    clock.now += 60
    assert store.get("a", lambda: make(3)).value == 3  # expired at exactly 60 s
    store.get("b", lambda: make(4))
    store.get("c", lambda: make(5))  # over the size: "a", the oldest used, goes
    assert store.get("a", lambda: make(6)).value == 6
    assert store.get("c", lambda: make(7)).value == 5
    assert made == [1, 3, 4, 5, 6]
    assert (store.hits, store.misses) == (2, 5)


def test_a_store_that_keeps_nothing_works_out_every_time():
    store = KeptFigures(0)
    values = iter([1, 2])
    assert store.get("a", lambda: next(values)).value == 1
    assert store.get("a", lambda: next(values)).value == 2


def test_kept_tables_link_their_downloads_to_each_views_own_query(client, auth, world, clock):
    auth.as_role("leader")
    first = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "programme-months.csv?from=2026-01-01&amp;to=2026-02-28" in first
    swapped = client.get("/dashboard?to=2026-02-28&from=2026-01-01").get_data(as_text=True)
    assert "programme-months.csv?to=2026-02-28&amp;from=2026-01-01" in swapped
    assert "programme-months.csv?from=" not in swapped
