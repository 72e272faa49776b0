"""Hires and separations as an admin records them: the engagements behind the workforce figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Engagement, User
from portal.timeutil import local_today
from tests.test_admin import body, new_person, user_id_for


def today(app) -> date:
    with app.app_context():
        return local_today()


def spells(app, user_id) -> list[tuple]:
    with app.app_context():
        return [
            (e.started_on, e.ended_on, e.end_reason)
            for e in db.session.scalars(
                sa.select(Engagement).where(Engagement.user_id == user_id).order_by(Engagement.id)
            )
        ]


def test_a_new_worker_starts_on_the_date_given(app, client, world, auth):
    auth.as_role("admin")
    response = client.post("/admin/users/new",
                           data=new_person(world, started_on="2026-03-02"))  # fmt: skip
    assert response.status_code == 302
    uid = user_id_for(app, "dana.doe@a.example.org")
    assert spells(app, uid) == [(date(2026, 3, 2), None, None)]
    page = body(client.get(f"/admin/users/{uid}"))
    assert "Employment" in page and "2026-03-02" in page and "Still working" in page


def test_a_new_worker_without_a_date_starts_today_and_others_have_no_engagement(
    app, client, world, auth
):
    auth.as_role("admin")
    client.post("/admin/users/new", data=new_person(world))
    assert spells(app, user_id_for(app, "dana.doe@a.example.org")) == [(today(app), None, None)]
    client.post("/admin/users/new", data=new_person(world, email="hr2@a.example.org",
                                                   roles=["hr"], site_id=0))  # fmt: skip
    assert spells(app, user_id_for(app, "hr2@a.example.org")) == []


def test_a_start_date_out_of_bounds_is_refused_on_the_form(app, client, world, auth):
    auth.as_role("admin")
    response = client.post("/admin/users/new", data=new_person(world, started_on="1890-01-01"))
    assert response.status_code == 422
    assert "Enter a start date between 1990 and 2100." in body(response)
    assert user_id_for(app, "dana.doe@a.example.org") is None


def test_deactivating_a_worker_records_the_last_day_and_reason(app, client, world, auth):
    auth.as_role("admin")
    uid = world["user"]["worker"]
    last = today(app) - timedelta(days=3)
    page = body(client.get(f"/admin/users/{uid}"))
    assert "Last day worked" in page and "Reason for leaving" in page
    response = client.post(f"/admin/users/{uid}/deactivate",
                           data={"last_day": last.isoformat(), "reason": "contract_ended"})
    assert response.status_code == 302
    assert spells(app, uid) == [(date(2020, 1, 6), last, "contract_ended")]
    page = body(client.get(f"/admin/users/{uid}"))
    assert "Contract ended" in page
    # back again: a new engagement from today, the old one kept
    client.post(f"/admin/users/{uid}/reactivate")
    assert spells(app, uid)[-1] == (today(app), None, None)
    assert len(spells(app, uid)) == 2


@pytest.mark.parametrize(
    "last_day, message",
    [
        (lambda t: t + timedelta(days=1), "cannot be in the future"),
        (lambda t: date(2019, 12, 31), "cannot be before the start date, 6 January 2020"),
    ],
)
def test_an_impossible_last_day_is_refused_and_nothing_changes(app, client, world, auth,
                                                              last_day, message):  # fmt: skip
    auth.as_role("admin")
    uid = world["user"]["worker"]
    day = last_day(today(app)).isoformat()
    response = client.post(f"/admin/users/{uid}/deactivate",
                           data={"last_day": day, "reason": "resigned"})  # fmt: skip
    assert response.status_code == 302
    assert message in body(client.get(response.headers["Location"]))
    assert spells(app, uid) == [(date(2020, 1, 6), None, None)]
    with app.app_context():
        assert db.session.get(User, uid).active is True


def test_an_unknown_reason_is_refused(app, client, world, auth):
    auth.as_role("admin")
    uid = world["user"]["worker"]
    response = client.post(f"/admin/users/{uid}/deactivate", data={"reason": "fired-by-robot"})
    assert "Not a valid choice" in body(client.get(response.headers["Location"]))
    assert spells(app, uid) == [(date(2020, 1, 6), None, None)]


def test_taking_away_the_worker_role_ends_the_engagement(app, client, world, auth):
    auth.as_role("admin")
    uid = world["user"]["worker"]
    with app.app_context():
        user = db.session.get(User, uid)
        form = {"name": user.name, "email": user.email, "roles": ["supervisor"],
                "organisation_id": user.organisation_id, "site_id": user.site_id}  # fmt: skip
    client.post(f"/admin/users/{uid}", data=form)
    assert spells(app, uid) == [(date(2020, 1, 6), today(app), "other")]
    client.post(f"/admin/users/{uid}", data={**form, "roles": ["worker"]})
    assert spells(app, uid)[-1] == (today(app), None, None)


def test_moving_a_worker_to_another_provider_is_a_separation_and_a_hire(app, client, world, auth):
    auth.as_role("admin")
    uid = world["user"]["worker"]
    with app.app_context():
        user = db.session.get(User, uid)
        form = {"name": user.name, "email": user.email, "roles": ["worker"],
                "organisation_id": world["org"]["b"], "site_id": world["site"]["b1"]}  # fmt: skip
    assert client.post(f"/admin/users/{uid}", data=form).status_code == 302
    with app.app_context():
        rows = db.session.execute(
            sa.select(Engagement.organisation_id, Engagement.ended_on)
            .where(Engagement.user_id == uid).order_by(Engagement.id)
        ).all()
    assert rows == [(world["org"]["a"], today(app)), (world["org"]["b"], None)]
