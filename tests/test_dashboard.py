"""Leader and funder dashboards: figures, suppression, dates, CSV = page, roles, query count."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from portal.extensions import db
from portal.models import Exposure, User
from portal.timeutil import local_today
from tests.factories import local, make_rate, make_shift, make_statement, make_user

RANGE = {"from": "2026-01-01", "to": "2026-02-28"}
WORKER_NAMES = ["Worker A", "Worker2 A", "Worker3 A", "Worker B"]


_SEPARATED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


def unseparated(cell: str) -> str:
    """A page's figure as the CSV and the API write it: "27,735" -> "27735" (money and text
    cells are left alone)."""
    return cell.replace(",", "") if _SEPARATED.fullmatch(cell) else cell


class _Tables(HTMLParser):
    """The text of every <th>/<td> of every <table>, row by row."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("th", "td"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            cell = self._cell.strip()
            self.tables[-1][-1].append(unseparated(cell) if tag == "td" else cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def page_tables(html: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def get_csv(client, name, **params) -> list[list[str]]:
    response = client.get(f"/dashboard/{name}.csv", query_string={**RANGE, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def programme(app, world):
    """Approved shifts in Jan-Feb 2026 for provider A and B, plus ones that must not count."""
    u, s = world["user"], world["site"]
    with app.app_context():
        make_shift(
            u["worker"],
            local(date(2026, 1, 10), "09:00"),
            8,
            "approved",
            conflicts_interrupted=2,
            individuals_engaged=5,
            referrals=1,
        )
        make_shift(
            u["worker2"],
            local(date(2026, 2, 3), "10:00"),
            6,
            "approved",
            conflicts_interrupted=1,
            individuals_engaged=3,
        )
        # 23:00 on Jan 31 in Chicago is already February in UTC: still January here.
        make_shift(
            u["worker3"], local(date(2026, 1, 31), "23:00"), 4, "approved", conflicts_interrupted=4
        )
        make_shift(
            u["worker"], local(date(2026, 1, 12), "09:00"), 8, "submitted", conflicts_interrupted=50
        )  # not approved
        make_shift(
            u["worker"], local(date(2025, 12, 31), "09:00"), 8, "approved", conflicts_interrupted=60
        )  # before the range
        make_shift(
            u["worker_b"],
            local(date(2026, 1, 15), "09:00"),
            5,
            "approved",
            conflicts_interrupted=7,
            individuals_engaged=9,
            referrals=2,
        )
        for key, title in [
            ("worker", "Violence interrupter"),
            ("worker2", "Outreach worker"),
            ("worker3", "Violence interrupter"),
        ]:
            db.session.get(User, u[key]).job_title = title
        make_rate(u["worker"], "22.00")
        make_rate(u["worker2"], "25.00", classification="contractor")
        make_rate(u["worker2"], "26.00", since=date(2027, 1, 1))  # not yet in force
        make_user(
            "Gone Away", "gone@a.example.org", {"worker"}, world["org"]["a"], s["a1"], active=False
        )
        db.session.commit()
    return world


def test_leader_programme_figures_by_site_and_month(client, auth, programme):
    auth.as_role("leader")
    assert get_csv(client, "programme-sites") == [
        ["Site", "Shifts", "Hours worked", "Conflicts interrupted", "Individuals engaged",
         "Referrals"],
        ["Dutchtown", "2", "14.00", "3", "8", "1"],
        ["Old Site", "0", "0.00", "0", "0", "0"],
        ["Walnut Park", "1", "4.00", "4", "0", "0"],
        ["Total", "3", "18.00", "7", "8", "1"],
    ]  # fmt: skip
    assert get_csv(client, "programme-months")[1:] == [
        ["2026-01", "2", "12.00", "6", "5", "1"],
        ["2026-02", "1", "6.00", "1", "3", "0"],
        ["Total", "3", "18.00", "7", "8", "1"],
    ]


def test_leader_site_filter_and_other_organisations_site(client, auth, programme):
    auth.as_role("leader")
    rows = get_csv(client, "programme-sites", site=programme["site"]["a2"])
    assert rows[1:] == [["Walnut Park", "1", "4.00", "4", "0", "0"],
                        ["Total", "1", "4.00", "4", "0", "0"]]  # fmt: skip
    response = client.get("/dashboard", query_string={**RANGE, "site": programme["site"]["b1"]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose one of your organisation" in page
    assert "Hamilton Heights" not in page


def test_leader_workforce_headcounts(client, auth, programme):
    auth.as_role("leader")
    assert get_csv(client, "workforce-sites")[1:] == [
        ["Dutchtown", "2"],
        ["Walnut Park", "1"],
        ["Total", "3"],
    ]
    assert get_csv(client, "workforce-titles")[1:] == [
        ["Outreach worker", "1"],
        ["Violence interrupter", "2"],
        ["Total", "3"],
    ]
    assert get_csv(client, "workforce-classifications")[1:] == [
        ["Contractor", "1"], ["Employee (non-exempt, hourly)", "1"], ["No rate", "1"],
        ["Total", "3"],
    ]  # fmt: skip


def test_leader_pay(client, auth, programme, app):
    with app.app_context():
        make_statement(programme["user"]["worker"])  # Jan 4-17 2026, 5 hours
        db.session.commit()
    auth.as_role("leader")
    rows = dict(get_csv(client, "pay")[1:])
    assert rows["Hours paid (closed periods)"] == "5.00"
    assert rows["Overtime share of hours"] == "0.0%"
    assert rows["Yearly cost to close the gap"] == "$0.00"
    assert rows["Share at or above target"] == "no target set"
    outside = dict(get_csv(client, "pay", **{"from": "2026-03-01", "to": "2026-03-31"})[1:])
    assert outside["Hours paid (closed periods)"] == "0.00"


def test_funder_sees_every_provider_side_by_side(client, auth, programme):
    auth.as_role("funder")
    assert get_csv(client, "programme-organisations")[1:] == [
        ["Provider A", "3", "18.00", "7", "8", "1"],
        ["Provider B", "1", "5.00", "7", "9", "2"],
        ["Total", "4", "23.00", "14", "17", "3"],
    ]
    workforce = get_csv(client, "workforce-organisations")
    assert workforce[0][:2] == ["Organisation", "Active workers"]
    assert [r[:2] for r in workforce[1:]] == [["Provider A", "3"], ["Provider B", "1"],
                                              ["Total", "4"]]  # fmt: skip
    assert "City Office" not in client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    wellbeing = get_csv(client, "wellbeing")
    assert [r[:2] for r in wellbeing[1:]] == [["2026 Q1", "Provider A"], ["2026 Q1", "Provider B"],
                                              ["2026 Q1", "All funded organisations"]]  # fmt: skip
    # leaders' tables are not the funder's
    assert client.get("/dashboard/pay.csv").status_code == 404
    assert client.get("/dashboard/programme-sites.csv").status_code == 404


def test_wellbeing_is_suppressed_with_the_configured_minimum(client, auth, programme, app):
    with app.app_context():
        for key in ("worker", "worker2"):
            db.session.add(Exposure(worker_id=programme["user"][key],
                                    organisation_id=programme["org"]["a"],
                                    occurred_at=local(date(2026, 1, 20), "12:00"),
                                    category="witnessed_violence", severity=2))  # fmt: skip
        db.session.commit()
    auth.as_role("leader")
    page = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "hidden (small numbers)" in page
    assert "<td>fewer than" not in page
    assert "worked out from others by subtraction" in page
    rows = get_csv(client, "wellbeing")
    assert rows[0][:3] == ["Quarter", "Site", "Exposures"]
    assert {cell for row in rows[1:] for cell in row[2:]} == {"hidden (small numbers)"}
    app.config["SUPPRESSION_MIN"] = 2
    rows = {r[1]: r[2] for r in get_csv(client, "wellbeing")[1:]}
    assert rows["All sites"] == "2"
    # Walnut Park (no one) is hidden, so Dutchtown is too: else 2 - 0 would reveal it.
    assert rows["Walnut Park"] == rows["Dutchtown"] == "hidden (small numbers)"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2026-13-01"}, "start date must be a date"),
        ({"to": "yesterday"}, "end date must be a date"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "on or after the start date"),
        ({"from": "2010-01-01", "to": "2026-01-01"}, "at most five years"),
        ({"site": "nope"}, "Choose one of your organisation"),
    ],
)
def test_bad_input_gets_a_clear_message(client, auth, world, params, message):
    auth.as_role("leader")
    response = client.get("/dashboard", query_string=params)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    response = client.get("/dashboard/programme-sites.csv", query_string=params)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_default_range_is_the_last_twelve_full_months(client, auth, world):
    from portal.dashboard.service import default_range

    rng = default_range(date(2026, 11, 26))
    assert (rng.start, rng.last_day) == (date(2025, 11, 1), date(2026, 10, 31))
    auth.as_role("leader")
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert "Programme outputs by month" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_every_csv_equals_its_table_on_the_page(client, auth, programme, role):
    auth.as_role(role)
    tables = page_tables(client.get("/dashboard", query_string=RANGE).get_data(as_text=True))
    page = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    keys = [k.split('"')[0] for k in page.split('href="/dashboard/')[1:]]
    names = [k.split(".csv")[0] for k in keys]
    assert len(names) == len(tables) >= 4
    for name, table in zip(names, tables, strict=True):
        assert get_csv(client, name) == table, name


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_no_person_is_named(client, auth, programme, role):
    auth.as_role(role)
    page = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    texts = [page] + [
        client.get(f"/dashboard/{n}.csv", query_string=RANGE).get_data(as_text=True)
        for n in ("programme-months", "wellbeing", "workforce-sites", "workforce-organisations",
                  "pay", "programme-sites", "programme-organisations")
    ]  # fmt: skip
    for text in texts:
        for name in [*WORKER_NAMES, "Gone Away"]:
            assert name not in text


def test_leader_never_sees_another_organisation(client, auth, programme):
    auth.as_role("leader")
    page = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "Hamilton Heights" not in page
    assert "Provider B" not in page
    assert client.get("/dashboard/programme-organisations.csv").status_code == 404


@pytest.mark.parametrize("role", ["worker", "supervisor", "counselor", "hr", "admin"])
def test_other_roles_get_404(client, auth, world, role):
    auth.as_role(role)
    assert client.get("/dashboard").status_code == 404
    assert client.get("/dashboard/wellbeing.csv").status_code == 404


def test_anonymous_is_sent_to_login(client, world):
    for url in ("/dashboard", "/dashboard/wellbeing.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_query_count_does_not_grow_with_the_data(client, auth, world, app, count_queries, role):
    u = world["user"]
    with app.app_context():
        make_shift(u["worker"], local(date(2026, 1, 5), "09:00"), 8, "approved")
        db.session.commit()
    auth.as_role(role)
    client.get("/dashboard", query_string=RANGE)  # warm up (session loading, etc.)
    with count_queries() as small:
        assert client.get("/dashboard", query_string=RANGE).status_code == 200
    with app.app_context():
        for i in range(12):
            w = make_user(f"Extra {i}", f"extra{i}@a.example.org", {"worker"}, world["org"]["a"],
                          world["site"]["a2" if i % 2 else "a1"])  # fmt: skip
            w.job_title = f"Title {i % 3}"
            make_rate(w.id, "21.00")
            for month in range(1, 3):
                make_shift(w.id, local(date(2026, month, 3 + i), "09:00"), 6, "approved",
                           conflicts_interrupted=1)  # fmt: skip
        make_shift(u["worker_b"], local(date(2026, 2, 9), "09:00"), 8, "approved")
        db.session.commit()
    with count_queries() as large:
        assert client.get("/dashboard", query_string=RANGE).status_code == 200
    assert large() == small()


def test_large_figures_read_with_separators_and_download_plain(client, auth, app, world):
    """A commissioner reads "1,500" on the page; the CSV keeps 1500 for a spreadsheet."""
    with app.app_context():
        make_shift(world["user"]["worker"], local(date(2026, 1, 12), "09:00"), 8, "approved",
                   individuals_engaged=1500, conflicts_interrupted=1200)  # fmt: skip
        db.session.commit()
    auth.as_role("leader")
    html = client.get("/dashboard", query_string=RANGE).get_data(as_text=True)
    assert "<td>1,500</td>" in html and "<td>1,200</td>" in html
    assert 'class="chart-value">1,200</text>' in html  # the chart of conflicts interrupted
    total = get_csv(client, "programme-months")[-1]
    assert total == ["Total", "1", "8.00", "1200", "1500", "0"]


def test_a_range_without_an_ended_quarter_says_why_wellbeing_is_empty(client, auth, world, app):
    with app.app_context():
        today = local_today()
    start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)  # this quarter: not ended
    auth.as_role("leader")
    rows = get_csv(client, "wellbeing", **{"from": start.isoformat(), "to": today.isoformat()})
    assert rows == [rows[0]], "no quarter, no line"
    page = client.get("/dashboard", query_string={"from": start.isoformat(),
                                                  "to": today.isoformat()})  # fmt: skip
    assert page.status_code == 200
    assert "No calendar quarter in this range has ended yet" in page.get_data(as_text=True)
