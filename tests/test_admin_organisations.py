"""Admins manage organisations (providers, funders) and providers' sites (SPEC §2)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, Organisation, Site
from tests.test_dashboard import get_csv


def body(response) -> str:
    return response.get_data(as_text=True)


def org_id(app, name: str) -> int | None:
    with app.app_context():
        return db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))


def audited(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == action)
        )


def test_a_new_provider_appears_on_its_funders_dashboard(app, client, world, auth):
    city = world["org"]["city"]
    auth.as_role("admin")
    page = body(client.get("/admin/organisations"))
    assert "Provider A" in page and "City Office" in page
    response = client.post("/admin/organisations/new", data={
        "name": "  Northside Peacekeepers ", "kind": "provider", "funded_by_id": city})
    new = org_id(app, "Northside Peacekeepers")  # the surrounding spaces trimmed
    assert new and response.headers["Location"].endswith(f"/admin/organisations/{new}")
    assert audited(app, "organisation.created") == 1
    response = client.post(f"/admin/organisations/{new}/sites", data={"name": "Baden"},
                           follow_redirects=True)  # fmt: skip
    assert "Site Baden added" in body(response)
    auth.as_role("funder")
    names = [row[0] for row in get_csv(client, "programme-organisations")[1:]]
    assert "Northside Peacekeepers" in names


def test_moving_a_provider_to_another_funder_moves_its_figures(app, client, world, auth):
    auth.as_role("admin")
    client.post("/admin/organisations/new", data={"name": "County Office", "kind": "funder",
                                                  "funded_by_id": 0})  # fmt: skip
    county = org_id(app, "County Office")
    provider_b = world["org"]["b"]
    page = body(client.get(f"/admin/organisations/{provider_b}"))
    assert "Kind:</strong> Provider" in page and "Hamilton Heights" in page
    response = client.post(f"/admin/organisations/{provider_b}", data={
        "name": "Provider B", "funded_by_id": county, "kind": "funder"})  # kind cannot change
    assert response.status_code == 302
    with app.app_context():
        moved = db.session.get(Organisation, provider_b)
        assert (moved.funded_by_id, moved.kind) == (county, "provider")
    assert audited(app, "organisation.updated") == 1
    auth.as_role("funder")
    names = [row[0] for row in get_csv(client, "programme-organisations")[1:]]
    assert "Provider B" not in names and "Provider A" in names


def test_refusals_say_why_and_save_nothing(app, client, world, auth):
    auth.as_role("admin")
    cases = [
        ({"name": "", "kind": "provider", "funded_by_id": 0}, "Enter the organisation&#39;s name."),
        ({"name": "provider a", "kind": "provider", "funded_by_id": 0},
         "There is already an organisation with this name."),
        ({"name": "X", "kind": "funder", "funded_by_id": world["org"]["city"]},
         "A funder is not funded by anyone"),
        ({"name": "Y", "kind": "provider", "funded_by_id": world["org"]["a"]},
         "Not a valid choice."),  # a provider is not among the funders offered
        ({"name": "Z", "kind": "council", "funded_by_id": 0}, "Not a valid choice."),
    ]  # fmt: skip
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(Organisation.id)))
    for data, message in cases:
        response = client.post("/admin/organisations/new", data=data)
        assert response.status_code == 422, data
        assert message in body(response), data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == before
    a = world["org"]["a"]
    response = client.post(f"/admin/organisations/{a}/sites", data={"name": "dutchtown"})
    assert response.status_code == 422
    assert "Provider A already has a site called dutchtown." in body(response)
    city = world["org"]["city"]
    response = client.post(f"/admin/organisations/{city}/sites", data={"name": "Downtown"})
    assert response.status_code == 404  # a funder has no sites


def test_closing_a_site_stops_new_shifts_there_and_reopening_brings_it_back(
    app, client, world, auth
):
    a1 = world["site"]["a1"]
    auth.as_role("admin")
    page = body(client.post(f"/admin/sites/{a1}/close", follow_redirects=True))
    assert "Dutchtown is closed: no new shifts there." in page
    assert re.search(r"Dutchtown</a> <span class=\"badge badge-inactive\">Closed</span>", page)
    assert audited(app, "site.closed") == 1
    auth.as_role("worker")
    form = body(client.get("/shifts/new"))
    assert ">Dutchtown</option>" not in form and ">Walnut Park</option>" in form
    auth.as_role("admin")
    client.post(f"/admin/sites/{a1}/reopen")
    with app.app_context():
        assert db.session.get(Site, a1).active is True
    auth.as_role("worker")
    assert ">Dutchtown</option>" in body(client.get("/shifts/new"))


def test_changing_an_organisation_needs_a_recent_sign_in(app, client, world, auth, frozen_clock):
    a = world["org"]["a"]
    auth.as_role("admin")
    frozen_clock.advance(minutes=5, seconds=1)
    response = client.post(f"/admin/organisations/{a}", data={"name": "Renamed", "funded_by_id": 0})
    assert response.headers["Location"].startswith("/reauth")
    with app.app_context():
        assert db.session.get(Organisation, a).name == "Provider A"


def test_only_admins_reach_organisations(client, world, auth):
    a, a1 = world["org"]["a"], world["site"]["a1"]
    for role in ("worker", "supervisor", "hr", "leader", "counselor", "funder"):
        auth.as_role(role)
        for method, url in [("GET", "/admin/organisations"), ("GET", f"/admin/organisations/{a}"),
                            ("POST", f"/admin/organisations/{a}/sites"),
                            ("POST", f"/admin/sites/{a1}/close")]:  # fmt: skip
            assert client.open(url, method=method, data={"name": "x"}).status_code == 404, (
                role, url)


def test_renaming_a_site_keeps_its_shifts_and_workers(app, client, world, auth):
    a1, a2 = world["site"]["a1"], world["site"]["a2"]
    auth.as_role("admin")
    page = body(client.get(f"/admin/organisations/{world['org']['a']}"))
    assert f'href="/admin/sites/{a1}">Dutchtown</a>' in page
    response = client.post(f"/admin/sites/{a1}", data={"name": "Walnut park"})  # a2's name
    assert response.status_code == 422
    assert "Provider A already has a site called Walnut park." in body(response)
    response = client.post(f"/admin/sites/{a1}", data={"name": "Dutchtown North"},
                           follow_redirects=True)  # fmt: skip
    assert "Site saved: Dutchtown North." in body(response)
    assert audited(app, "site.renamed") == 1
    with app.app_context():
        assert db.session.get(Site, a1).name == "Dutchtown North"
        assert db.session.get(Site, a2).name == "Walnut Park"
    auth.as_role("worker")  # the worker's home site, under its new name
    assert ">Dutchtown North</option>" in body(client.get("/shifts/new"))
