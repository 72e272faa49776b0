"""The statistics API: bearer tokens only, each viewer's scope, page = CSV = API, audit, OpenAPI."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from portal.api import service
from portal.extensions import db
from portal.models import ApiToken, AuditEvent, CheckIn, Exposure, Organisation, Site, User
from tests.factories import local, make_rate, make_shift, make_user, safety_checkin
from tests.test_dashboard import unseparated

RANGE = {"from": "2026-01-01", "to": "2026-02-28"}
ENDPOINTS = ["/api/v1/stats/programme", "/api/v1/stats/workforce"]
WORKER_NAMES = ["Worker A", "Worker2 A", "Worker3 A", "Worker B"]
PERSON = {"leader": "leader", "funder": "funder_city"}  # the world's ids of each role's person


def bearer(token: str) -> dict:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def issue_token(app, world, key: str, name: str = "Report") -> str:
    """A token for the world's person ``key``, issued by the world's admin; the plain string."""
    with app.app_context():
        user = db.session.get(User, world["user"][key])
        admin = db.session.get(User, world["user"]["admin"])
        _token, plain = service.issue(user, name, admin)
        db.session.commit()
    return plain


def token_row(app, plain: str) -> dict:
    """What the database holds for a token, read afresh."""
    with app.app_context():
        token = db.session.scalar(
            sa.select(ApiToken).where(ApiToken.token_hash == service.digest(plain))
        )
        return {"id": token.id, "last_used_at": token.last_used_at, "user_id": token.user_id}


def audit_rows(app, action: str) -> list[tuple]:
    """(actor_id, record_id, outcome) of every audit event with ``action``, oldest first."""
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                sa.select(AuditEvent.actor_id, AuditEvent.record_id, AuditEvent.outcome)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        ]


@pytest.fixture
def programme(app, world):
    """Approved shifts in Jan-Feb 2026 for providers A and B, a provider the city does not fund,
    two people's exposures (too few to publish) and a few field-safety check-ins (one a duress
    alarm)."""
    u = world["user"]
    with app.app_context():
        make_shift(u["worker"], local(date(2026, 1, 10), "09:00"), 8, "approved",
                   conflicts_interrupted=2, individuals_engaged=5, referrals=1)  # fmt: skip
        make_shift(u["worker2"], local(date(2026, 2, 3), "10:00"), 6, "approved",
                   conflicts_interrupted=1, individuals_engaged=3)  # fmt: skip
        make_shift(u["worker3"], local(date(2026, 1, 31), "23:00"), 4, "approved",
                   conflicts_interrupted=4)  # fmt: skip
        make_shift(u["worker_b"], local(date(2026, 1, 15), "09:00"), 5, "approved",
                   conflicts_interrupted=7, individuals_engaged=9, referrals=2)  # fmt: skip
        db.session.get(User, u["worker"]).job_title = "Violence interrupter"
        make_rate(u["worker"], "22.00")
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
        make_shift(stranger.id, local(date(2026, 1, 20), "09:00"), 8, "approved",
                   conflicts_interrupted=99)  # fmt: skip
        for key in ("worker", "worker2"):
            db.session.add(Exposure(worker_id=u[key], organisation_id=world["org"]["a"],
                                    occurred_at=local(date(2026, 1, 20), "12:00"),
                                    category="witnessed_violence", severity=2))  # fmt: skip
        db.session.add(CheckIn(worker_id=u["worker"], organisation_id=world["org"]["a"],
                               item1=3, item2=3, item3=3, item4=3, item5=3, score=60,
                               created_at=local(date(2026, 1, 21), "12:00")))  # fmt: skip
        safety_checkin(u["worker"], local(date(2026, 1, 22), "15:00"))
        safety_checkin(u["worker2"], local(date(2026, 2, 4), "16:00"), "duress")
        safety_checkin(u["worker_b"], local(date(2026, 1, 23), "17:00"), "sos")
        safety_checkin(stranger.id, local(date(2026, 1, 23), "17:00"), "missed")
        db.session.commit()
        world["site"]["c1"] = site.id
    return world


@pytest.fixture
def tokens(app, programme) -> dict[str, str]:
    """A token for the leader and one for the funder."""
    return {role: issue_token(app, programme, PERSON[role]) for role in ("leader", "funder")}


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer fs_unknown", "Bearer a b",
     "fs_no_scheme"],
)  # fmt: skip
def test_no_or_bad_token_is_401(client, tokens, url, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get(url, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["Cache-Control"] == "no-store"
    assert set(response.get_json()) == {"error"}


def test_unknown_token_is_not_audited(client, app, tokens):
    response = client.get(ENDPOINTS[0], headers=bearer("fs_" + "x" * 43))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert audit_rows(app, "api.token_used") == []


def test_a_session_cookie_is_not_enough(client, auth, tokens):
    """Signed in as a leader in the browser, the API still wants the token."""
    auth.as_role("leader")
    for url in ENDPOINTS:
        response = client.get(url)
        assert response.status_code == 401
        assert "Location" not in response.headers


def test_a_browser_session_never_gets_in_the_way(client, app, auth, programme, tokens,
                                                 frozen_clock):  # fmt: skip
    """With a stale session cookie beside a good token: the data, no redirect, no cookie."""
    auth.as_role("leader")
    frozen_clock.advance(hours=3)  # the browser session has expired
    response = client.get(ENDPOINTS[0], headers=bearer(tokens["leader"]))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert client.get(ENDPOINTS[0]).status_code == 401


def test_revoked_token_is_401_and_audited_as_denied(client, app, programme, tokens):
    row = token_row(app, tokens["leader"])
    with app.app_context():
        service.revoke(db.session.get(ApiToken, row["id"]),
                       db.session.get(User, programme["user"]["admin"]))  # fmt: skip
        db.session.commit()
    response = client.get(ENDPOINTS[0], headers=bearer(tokens["leader"]))
    assert response.status_code == 401
    assert response.get_json() == {"error": "This API token has been revoked."}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert audit_rows(app, "api.token_used") == [(programme["user"]["leader"], row["id"], "denied")]
    assert token_row(app, tokens["leader"])["last_used_at"] is None


def test_token_of_a_deactivated_account_is_401(client, app, programme, tokens):
    with app.app_context():
        db.session.get(User, programme["user"]["funder_city"]).active = False
        db.session.commit()
    response = client.get(ENDPOINTS[1], headers=bearer(tokens["funder"]))
    assert response.status_code == 401
    assert "deactivated" in response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert [r[2] for r in audit_rows(app, "api.token_used")] == ["denied"]


def test_token_of_an_account_without_leader_or_funder_is_403(client, app, programme, tokens):
    with app.app_context():
        db.session.get(User, programme["user"]["leader"]).roles = {"hr"}
        db.session.commit()
    for url in ENDPOINTS:
        response = client.get(url, headers=bearer(tokens["leader"]))
        assert response.status_code == 403
        assert "may no longer read statistics" in response.get_json()["error"]
        assert response.headers["Cache-Control"] == "no-store"
    assert [r[2] for r in audit_rows(app, "api.token_used")] == ["denied", "denied"]


def test_a_token_made_for_another_role_is_403(client, app, programme):
    """Even a token row that somehow belongs to an HR account opens nothing."""
    plain = "fs_" + "h" * 43
    with app.app_context():
        db.session.add(ApiToken(user_id=programme["user"]["hr"], name="x",
                                token_hash=service.digest(plain), prefix=plain[:8]))  # fmt: skip
        db.session.commit()
    assert client.get(ENDPOINTS[0], headers=bearer(plain)).status_code == 403


def test_every_use_is_audited_and_stamped(client, app, programme, tokens):
    row = token_row(app, tokens["leader"])
    assert row["last_used_at"] is None
    assert client.get(ENDPOINTS[0], headers=bearer(tokens["leader"])).status_code == 200
    first = token_row(app, tokens["leader"])["last_used_at"]
    assert first is not None
    assert client.get(ENDPOINTS[1], headers=bearer(tokens["leader"])).status_code == 200
    assert token_row(app, tokens["leader"])["last_used_at"] >= first
    leader = programme["user"]["leader"]
    assert audit_rows(app, "api.token_used") == [(leader, row["id"], "ok")] * 2
    with app.app_context():
        roles = db.session.scalars(
            sa.select(AuditEvent.actor_role).where(AuditEvent.action == "api.token_used")
        ).all()
    assert roles == ["leader", "leader"]


def test_answers_set_no_cookie_and_are_not_cached(client, tokens):
    response = client.get(ENDPOINTS[0], headers=bearer(tokens["leader"]), query_string=RANGE)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert response.mimetype == "application/json"


def test_the_api_only_answers_get_and_its_errors_are_json(client, tokens):
    response = client.post(ENDPOINTS[0], headers=bearer(tokens["leader"]))
    assert response.status_code == 405
    assert "error" in response.get_json()
    assert "GET" in response.headers["Allow"]
    response = client.get("/api/v1/stats/nothing", headers=bearer(tokens["leader"]))
    assert response.status_code == 404
    assert "error" in response.get_json()


# --- scope and range --------------------------------------------------------------------------


def get_stats(client, token, url, **params) -> dict:
    response = client.get(url, headers=bearer(token), query_string={**RANGE, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_document_says_what_it_covers(client, app, tokens):
    data = get_stats(client, tokens["leader"], ENDPOINTS[0])
    assert (data["from"], data["to"], data["site"]) == ("2026-01-01", "2026-02-28", None)
    assert data["suppression_min"] == 11
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["generated_at"])
    for table in data["tables"]:
        assert set(table) == {"key", "title", "columns", "rows", "hidden", "note"}
        assert all(len(row) == len(table["columns"]) for row in table["rows"])
        # a hidden cell is null in rows and named in hidden, and only those
        nulls = [[i, j] for i, row in enumerate(table["rows"]) for j, v in enumerate(row)
                 if v is None]  # fmt: skip
        assert table["hidden"] == nulls
        assert bool(nulls) == (table["key"] in ("wellbeing", "safety"))


def test_leader_sees_only_their_own_organisation(client, programme, tokens):
    programme_doc = get_stats(client, tokens["leader"], ENDPOINTS[0])
    workforce_doc = get_stats(client, tokens["leader"], ENDPOINTS[1])
    keys = [t["key"] for t in programme_doc["tables"]]
    assert "programme-sites" in keys and "programme-organisations" not in keys
    assert "wellbeing" in keys
    assert "pay" in [t["key"] for t in workforce_doc["tables"]]
    sites = next(t for t in programme_doc["tables"] if t["key"] == "programme-sites")
    assert [r[0] for r in sites["rows"]] == ["Dutchtown", "Old Site", "Walnut Park", "Total"]
    assert sites["rows"][-1][3] == 7  # conflicts interrupted: 2 + 1 + 4, none of B's or C's
    text = str(programme_doc) + str(workforce_doc)
    for name in ["Hamilton Heights", "Provider B", "Provider C", "Far Away", *WORKER_NAMES]:
        assert name not in text


def test_leader_filters_by_their_site(client, programme, tokens):
    data = get_stats(client, tokens["leader"], ENDPOINTS[0], site=programme["site"]["a2"])
    assert data["site"] == programme["site"]["a2"]
    sites = next(t for t in data["tables"] if t["key"] == "programme-sites")
    assert [r[0] for r in sites["rows"]] == ["Walnut Park", "Total"]


def test_funder_sees_only_the_providers_it_funds(client, programme, tokens):
    data = get_stats(client, tokens["funder"], ENDPOINTS[0])
    keys = [t["key"] for t in data["tables"]]
    assert "programme-organisations" in keys and "programme-sites" not in keys
    orgs = next(t for t in data["tables"] if t["key"] == "programme-organisations")
    assert [r[0] for r in orgs["rows"]] == ["Provider A", "Provider B", "Total"]
    assert orgs["rows"][-1][3] == 14  # 7 + 7: Provider C's 99 belong to another funder
    workforce = get_stats(client, tokens["funder"], ENDPOINTS[1])
    assert "pay" not in [t["key"] for t in workforce["tables"]]
    text = str(data) + str(workforce)
    for name in ["Provider C", "County Office", "City Office", *WORKER_NAMES]:
        assert name not in text


@pytest.mark.parametrize(
    "params, message",
    [
        ({"from": "2026-13-01"}, "start date must be a date"),
        ({"to": "yesterday"}, "end date must be a date"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "on or after the start date"),
        ({"from": "2010-01-01", "to": "2026-01-01"}, "at most five years"),
        ({"site": "nope"}, "Choose one of your organisation"),
        ({"site": "b1"}, "Choose one of your organisation"),
        ({"site": "c1"}, "Choose one of your organisation"),
    ],
)
@pytest.mark.parametrize("url", ENDPOINTS)
def test_bad_range_is_422_with_a_message(client, programme, tokens, url, params, message):
    if params.get("site") in programme["site"]:
        params = {"site": programme["site"][params["site"]]}
    response = client.get(url, headers=bearer(tokens["leader"]), query_string=params)
    assert response.status_code == 422
    assert message in response.get_json()["error"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Hamilton Heights" not in response.get_data(as_text=True)


# --- page, CSV and API agree ------------------------------------------------------------------


class _PageTables(HTMLParser):
    """The dashboard's tables by key (its section's aria-labelledby="t-<key>"), row by row."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._key = self._rows = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and (attrs.get("aria-labelledby") or "").startswith("t-"):
            self._key = attrs["aria-labelledby"][2:]
        elif tag == "table" and self._key:
            self._rows = self.tables.setdefault(self._key, [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("th", "td") and self._rows is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            cell = self._cell.strip()
            self._rows[-1].append(unseparated(cell) if tag == "td" else cell)
            self._cell = None
        elif tag == "table":
            self._rows = None
        elif tag == "section":
            self._key = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def page_tables(client) -> dict[str, list[list[str]]]:
    response = client.get("/dashboard", query_string=RANGE)
    assert response.status_code == 200
    parser = _PageTables()
    parser.feed(response.get_data(as_text=True))
    return parser.tables


def csv_rows(client, key) -> list[list[str]]:
    response = client.get(f"/dashboard/{key}.csv", query_string=RANGE)
    assert response.status_code == 200, key
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def as_text(table: dict) -> list[list[str]]:
    """An API table as the page and the CSV print it: header, then each row's cells."""
    return [table["columns"], *[["hidden (small numbers)" if cell is None else str(cell)
                                 for cell in row] for row in table["rows"]]]  # fmt: skip


@pytest.mark.parametrize("minimum", [11, 1], ids=["suppressed", "published"])
@pytest.mark.parametrize("role", ["leader", "funder"])
def test_page_csv_and_api_agree(client, app, auth, programme, tokens, role, minimum):
    app.config["SUPPRESSION_MIN"] = minimum  # 1: every wellbeing figure printed, means included
    api = {}
    for url in ENDPOINTS:
        for table in get_stats(client, tokens[role], url)["tables"]:
            assert table["key"] not in api, "a table is in one document only"
            api[table["key"]] = table
    auth.as_role(role)
    page = page_tables(client)
    assert set(api) == set(page), "every table of the dashboard is in the API, and only those"
    for key, table in api.items():
        assert as_text(table) == page[key], key
        assert as_text(table) == csv_rows(client, key), key


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_small_numbers_are_suppressed_alike_everywhere(client, auth, programme, tokens, role):
    data = get_stats(client, tokens[role], ENDPOINTS[0])
    wellbeing = next(t for t in data["tables"] if t["key"] == "wellbeing")
    exposures = wellbeing["columns"].index("Exposures")
    cells = [row[exposures] for row in wellbeing["rows"]]
    assert None in cells and 2 not in cells  # two people: never published
    assert all([i, exposures] in wellbeing["hidden"] for i, v in enumerate(cells) if v is None)
    auth.as_role(role)
    assert page_tables(client)["wellbeing"] == as_text(wellbeing)
    assert csv_rows(client, "wellbeing") == as_text(wellbeing)
    assert "hidden (small numbers)" in [row[exposures] for row in csv_rows(client, "wellbeing")[1:]]


# --- speed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_query_count_does_not_grow_with_the_data(client, app, world, count_queries, role):
    u = world["user"]
    token = issue_token(app, world, PERSON[role])
    with app.app_context():
        make_shift(u["worker"], local(date(2026, 1, 5), "09:00"), 8, "approved")
        db.session.commit()
    for url in ENDPOINTS:
        client.get(url, headers=bearer(token), query_string=RANGE)  # warm up
    small = {}
    for url in ENDPOINTS:
        with count_queries() as n:
            assert client.get(url, headers=bearer(token), query_string=RANGE).status_code == 200
        small[url] = n()
    with app.app_context():
        for i in range(12):
            w = make_user(f"Extra {i}", f"extra{i}@a.example.org", {"worker"}, world["org"]["a"],
                          world["site"]["a2" if i % 2 else "a1"])  # fmt: skip
            w.job_title = f"Title {i % 3}"
            make_rate(w.id, "21.00")
            for month in (1, 2):
                make_shift(w.id, local(date(2026, month, 3 + i), "09:00"), 6, "approved",
                           conflicts_interrupted=1)  # fmt: skip
        make_shift(u["worker_b"], local(date(2026, 2, 9), "09:00"), 8, "approved")
        db.session.commit()
    for url in ENDPOINTS:
        with count_queries() as n:
            assert client.get(url, headers=bearer(token), query_string=RANGE).status_code == 200
        assert n() == small[url], url


# --- the OpenAPI document ---------------------------------------------------------------------


def test_openapi_document_is_valid_and_public(client, app, world):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    documented = {doc["servers"][0]["url"] + path for path in doc["paths"]}
    served = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert documented == served
    for path in ("/stats/programme", "/stats/workforce"):
        operation = doc["paths"][path]["get"]
        assert set(operation["responses"]) == {"200", "401", "403", "422"}
        assert operation["security"] == [{"bearerAuth": []}]
        names = {p["$ref"].rsplit("/", 1)[1] for p in operation["parameters"]}
        assert names == {"from", "to", "site"}
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def _validate_against(doc: dict, ref: str, instance) -> None:
    """Check an answer against one of the document's schemas (with its $refs)."""
    from openapi_schema_validator import OAS31Validator

    validator = OAS31Validator({**doc, "$ref": ref}, format_checker=OAS31Validator.FORMAT_CHECKER)
    validator.validate(instance)


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_answers_match_the_documented_schemas(client, app, programme, tokens, role):
    doc = client.get("/api/v1/openapi.json").get_json()
    for url in ENDPOINTS:
        _validate_against(doc, "#/components/schemas/Statistics",
                          get_stats(client, tokens[role], url))  # fmt: skip
    refused = client.get(ENDPOINTS[0], headers=bearer("fs_nope"))
    _validate_against(doc, "#/components/schemas/Error", refused.get_json())
    bad = client.get(ENDPOINTS[0], headers=bearer(tokens[role]), query_string={"to": "x"})
    assert bad.status_code == 422
    _validate_against(doc, "#/components/schemas/Error", bad.get_json())
    with pytest.raises(Exception, match="required"):
        _validate_against(doc, "#/components/schemas/Statistics", {"tables": []})


@pytest.mark.parametrize("role", ["leader", "funder"])
def test_each_document_computes_only_its_own_tables(client, app, auth, world, count_queries,
                                                    role):  # fmt: skip
    """The two documents together cost no more SQL than the dashboard page: neither computes
    the other's tables."""
    token = issue_token(app, world, PERSON[role])
    auth.as_role(role)
    client.get("/dashboard", query_string=RANGE)  # warm up
    with count_queries() as page:
        client.get("/dashboard", query_string=RANGE)
    spent = 0
    for url in ENDPOINTS:
        client.get(url, headers=bearer(token), query_string=RANGE)
        with count_queries() as n:
            client.get(url, headers=bearer(token), query_string=RANGE)
        spent += n()
    # each API call also looks up its token and writes its use (a few statements each)
    assert spent <= page() + 2 * 6
    assert spent < 2 * page()
