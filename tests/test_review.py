"""Supervisors approve or return the shifts of workers at their sites, and no others."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Shift
from tests.factories import make_shift, recent_start


def status_of(app, shift_id):
    with app.app_context():
        shift = db.session.get(Shift, shift_id)
        return shift.status, shift.return_reason, shift.reviewed_by_id


def seed_shifts(app, world) -> dict:
    """Submitted shifts: two at site a1, one at a2, one at provider B, one approved."""
    u = world["user"]
    with app.app_context():
        ids = {
            "a1": make_shift(u["worker"], recent_start(2, "09:00"), note="a1 first"),
            "a1b": make_shift(u["worker2"], recent_start(1, "09:00"), note="a1 second"),
            "a2": make_shift(u["worker3"], recent_start(1, "10:00"), note="a2 shift"),
            "b1": make_shift(u["worker_b"], recent_start(1, "11:00"), note="other provider"),
            "done": make_shift(
                u["worker"], recent_start(3, "09:00"), status="approved", note="already approved"
            ),
        }
        db.session.commit()
    return ids


def test_supervisor_sees_submitted_shifts_of_their_site_only(client, world, auth, app):
    ids = seed_shifts(app, world)
    auth.as_role("supervisor")
    page = client.get("/shifts/review").get_data(as_text=True)
    assert "a1 first" in page and "a1 second" in page
    assert "a2 shift" not in page  # another site
    assert "other provider" not in page  # another organisation
    assert "already approved" not in page
    assert page.index("a1 first") < page.index("a1 second")  # oldest first
    home = client.get("/").get_data(as_text=True)
    assert "<strong>2</strong> shifts to review" in home
    assert client.get(f"/shifts/{ids['a2']}").status_code == 404
    assert client.get(f"/shifts/{ids['b1']}").status_code == 404


def test_supervisor_without_site_sees_the_whole_organisation(client, world, auth, app):
    seed_shifts(app, world)
    auth.as_role("supervisor_all")
    page = client.get("/shifts/review").get_data(as_text=True)
    assert "a1 first" in page and "a2 shift" in page
    assert "other provider" not in page


def test_approve_one(client, world, auth, app):
    ids = seed_shifts(app, world)
    auth.as_role("supervisor")
    detail = client.get(f"/shifts/{ids['a1']}").get_data(as_text=True)
    assert ">Approve</button>" in detail and ">Return</button>" in detail
    response = client.post(f"/shifts/{ids['a1']}/approve", follow_redirects=True)
    assert "Approved Worker A&#39;s shift." in response.get_data(as_text=True)
    assert status_of(app, ids["a1"]) == ("approved", None, world["user"]["supervisor"])


def test_approve_several_at_once(client, world, auth, app):
    ids = seed_shifts(app, world)
    auth.as_role("supervisor")
    response = client.post(
        "/shifts/review/approve",
        data={"shift_ids": [ids["a1"], ids["a1b"], ids["a2"], ids["b1"]]},
        follow_redirects=True,
    )
    # only the two in scope are approved; out-of-scope ids are ignored
    assert "Approved 2 shifts." in response.get_data(as_text=True)
    assert status_of(app, ids["a1"])[0] == "approved"
    assert status_of(app, ids["a1b"])[0] == "approved"
    assert status_of(app, ids["a2"])[0] == "submitted"
    assert status_of(app, ids["b1"])[0] == "submitted"
    assert "Nothing waiting" in client.get("/shifts/review").get_data(as_text=True)


def test_approve_nothing_ticked_says_so(client, world, auth, app):
    seed_shifts(app, world)
    auth.as_role("supervisor")
    response = client.post("/shifts/review/approve", data={}, follow_redirects=True)
    assert "Tick the shifts to approve first." in response.get_data(as_text=True)


def test_return_with_reason(client, world, auth, app):
    ids = seed_shifts(app, world)
    auth.as_role("supervisor")
    response = client.post(
        f"/shifts/{ids['a1']}/return",
        data={"reason": "End time looks wrong."},
        follow_redirects=True,
    )
    assert "Returned Worker A&#39;s shift with your reason." in response.get_data(as_text=True)
    assert status_of(app, ids["a1"]) == (
        "returned",
        "End time looks wrong.",
        world["user"]["supervisor"],
    )
    auth.logout()
    auth.as_role("worker")
    assert "End time looks wrong." in client.get(f"/shifts/{ids['a1']}").get_data(as_text=True)


def test_return_without_reason_is_refused(client, world, auth, app):
    ids = seed_shifts(app, world)
    auth.as_role("supervisor")
    response = client.post(f"/shifts/{ids['a1']}/return", data={"reason": "  "})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "Say why, so the worker knows what to fix." in page
    assert status_of(app, ids["a1"])[0] == "submitted"


def test_cannot_review_out_of_scope_or_already_approved(client, world, auth, app):
    ids = seed_shifts(app, world)
    auth.as_role("supervisor")
    assert client.post(f"/shifts/{ids['b1']}/approve").status_code == 404
    assert client.post(f"/shifts/{ids['a2']}/return", data={"reason": "x"}).status_code == 404
    assert status_of(app, ids["b1"])[0] == "submitted"
    assert status_of(app, ids["a2"])[0] == "submitted"
    response = client.post(
        f"/shifts/{ids['done']}/return", data={"reason": "late"}, follow_redirects=True
    )
    assert "no longer waiting for approval" in response.get_data(as_text=True)
    assert status_of(app, ids["done"])[0] == "approved"


def test_supervisor_cannot_approve_own_shift(client, world, auth, app):
    with app.app_context():
        from portal.models import User

        sup = db.session.get(User, world["user"]["supervisor"])
        sup.roles = {"supervisor", "worker"}
        own = make_shift(sup.id, recent_start(1, "09:00"), note="my own")
        db.session.commit()
    auth.as_role("supervisor")
    assert "my own" not in client.get("/shifts/review").get_data(as_text=True)
    client.post("/shifts/review/approve", data={"shift_ids": [own]})
    assert status_of(app, own)[0] == "submitted"


def test_workers_cannot_review(client, world, auth, app):
    ids = seed_shifts(app, world)
    auth.as_role("worker")
    assert client.get("/shifts/review").status_code == 404
    assert client.post(f"/shifts/{ids['a1']}/approve").status_code == 404
    assert client.post("/shifts/review/approve", data={"shift_ids": [ids["a1"]]}).status_code == 404
    assert status_of(app, ids["a1"])[0] == "submitted"


def test_review_page_runs_a_fixed_number_of_queries(client, world, auth, app, count_queries):
    auth.as_role("supervisor")
    seed_shifts(app, world)
    with count_queries() as few:
        client.get("/shifts/review")
    with app.app_context():
        for days in range(4, 30):
            make_shift(world["user"]["worker2"], recent_start(days, "09:00"))
        db.session.commit()
    with count_queries() as many:
        page = client.get("/shifts/review").get_data(as_text=True)
    assert page.count('name="shift_ids"') == 28
    assert few() == many()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 31
