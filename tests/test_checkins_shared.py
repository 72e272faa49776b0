"""Counsellors' list of the check-ins workers let them read (outreach asked, or consent)."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent
from portal.wellbeing.checkin_service import SHARED_PAGE
from tests.factories import make_user
from tests.test_checkins import make_checkin


def listed(html: str) -> list[str]:
    """The worker names in the list's rows, top to bottom."""
    body = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return re.findall(r'<th scope="row"><a href="/checkins/\d+">([^<]+)</a>', body)


def reads(app) -> list[tuple]:
    with app.app_context():
        return list(db.session.execute(
            sa.select(AuditEvent.record_id, AuditEvent.subject_id, AuditEvent.actor_id)
            .where(AuditEvent.action == "wellbeing.read").order_by(AuditEvent.record_id)
        ))  # fmt: skip


def test_the_counsellor_sees_what_was_shared_and_nothing_else(app, client, world, auth):
    u = world["user"]
    with app.app_context():
        consented = make_checkin(u["worker"], (1, 2, 1, 2, 1), share=True, ago=timedelta(days=2))
        outreach = make_checkin(u["worker2"], outreach=True, ago=timedelta(days=1))
        make_checkin(u["worker3"], ago=timedelta(hours=3))  # private: never listed
        make_checkin(u["worker"], share=True, ago=timedelta(days=91))  # older than 90 days
        make_checkin(u["worker_b"], share=True)  # another organisation
        db.session.commit()
    auth.as_role("counselor")
    html = client.get("/checkins/shared").get_data(as_text=True)
    assert listed(html) == ["Worker2 A", "Worker A"]  # newest first
    assert "Asked for someone to reach out" in html and "Shared with counsellors" in html
    assert "Worker3 A" not in html and "Worker B" not in html
    assert "<td>28</td>" in html  # the consented check-in's score (raw 7 x 4)
    # Listing them was reading them: audited, with the worker as subject, so they see it.
    counselor = u["counselor"]
    assert reads(app) == sorted([(consented, u["worker"], counselor),
                                 (outreach, u["worker2"], counselor)])  # fmt: skip
    assert f'href="/checkins/{consented}"' in html


def test_nothing_shared_says_so(app, client, world, auth):
    auth.as_role("counselor")
    html = client.get("/checkins/shared").get_data(as_text=True)
    assert "No worker has shared a check-in with counsellors in the last 90 days." in html
    assert reads(app) == []


def test_pages_of_fifty_and_a_fixed_number_of_queries(app, client, world, auth, count_queries):
    with app.app_context():
        people = [make_user(f"P{i}", f"p{i}@a.example.org", {"worker"}, world["org"]["a"])
                  for i in range(3)]  # fmt: skip
        for n in range(SHARED_PAGE + 1):
            make_checkin(people[n % 3].id, share=True, ago=timedelta(hours=n + 1))
        db.session.commit()
    auth.as_role("counselor")
    first = client.get("/checkins/shared").get_data(as_text=True)
    assert len(listed(first)) == SHARED_PAGE and "Page 1 of 2" in first
    assert 'href="/checkins/shared?page=2"' in first
    with count_queries() as many:
        second = client.get("/checkins/shared?page=2").get_data(as_text=True)
    assert len(listed(second)) == 1
    with count_queries() as few:
        client.get("/checkins/shared?page=3")
    assert few() <= many()  # the same statements for one row as for fifty (no audit rows: fewer)
    with count_queries() as fifty:
        client.get("/checkins/shared")
    assert fifty() == many()
    for bad in ("0", "-1", "abc", "99999999999999999999"):
        response = client.get(f"/checkins/shared?page={bad}")
        assert response.status_code == 200, bad


def test_a_page_past_the_end_offers_the_way_back(app, client, world, auth):
    auth.as_role("counselor")
    html = client.get("/checkins/shared?page=4").get_data(as_text=True)
    assert "There is no page 4." in html


def test_the_nav_and_home_lead_there(client, world, auth):
    auth.as_role("counselor")
    assert 'href="/checkins/shared"' in client.get("/").get_data(as_text=True)
