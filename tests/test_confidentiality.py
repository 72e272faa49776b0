"""Wellbeing stays confidential: no page, export or audit row shows it to anyone not allowed.

A unique marker is put in each kind of wellbeing text; every GET page of the application is then
fetched as every role, with record ids filled in, and searched for the markers (SPEC §2, §5).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Booking,
    CheckIn,
    CounselingSlot,
    Exposure,
    SupportNote,
    SupportRequest,
)
from portal.timeutil import utcnow
from tests.factories import make_rate, make_shift, make_statement, recent_start

EXPOSURE = "EXPOSURE-MARKER-7f3a"
CHECKIN = "CHECKIN-MARKER-91bc"
REQUEST = "REQUEST-MARKER-2d4e"
COUNSEL = "COUNSEL-MARKER-5e6f"
ALL = (EXPOSURE, CHECKIN, REQUEST, COUNSEL)


@pytest.fixture
def records(app, world):
    """The world's worker with one of each wellbeing record, each carrying a marker."""
    u = world["user"]
    with app.app_context():
        shift = make_shift(u["worker"], recent_start(1, "09:00"), status="approved")
        make_rate(u["worker"])
        period, statement = make_statement(u["worker"])
        exposure = Exposure(
            worker_id=u["worker"],
            organisation_id=world["org"]["a"],
            occurred_at=utcnow() - timedelta(hours=3),
            category="shooting_scene",
            severity=5,
            note=EXPOSURE,
            offer_status="offered",
        )
        checkin = CheckIn(
            worker_id=u["worker"],
            organisation_id=world["org"]["a"],
            item1=1,
            item2=1,
            item3=1,
            item4=1,
            item5=1,
            score=20,
            note=CHECKIN,
        )
        request = SupportRequest(
            worker_id=u["worker"],
            organisation_id=world["org"]["a"],
            kind="wellness_day",
            note=REQUEST,
            status="acknowledged",
            counselor_id=u["counselor"],
            wellness_date=(utcnow() + timedelta(days=3)).date(),
        )
        db.session.add_all([exposure, checkin, request])
        db.session.flush()
        db.session.add(SupportNote(request_id=request.id, author_id=u["counselor"], body=COUNSEL))
        start = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
        slot = CounselingSlot(
            counselor_id=u["counselor"],
            organisation_id=world["org"]["a"],
            start_at=start,
            end_at=start + timedelta(minutes=50),
            mode="in_person",
            location="Room 2",
        )
        db.session.add(slot)
        db.session.flush()
        booking = Booking(
            slot_id=slot.id,
            active_slot_id=slot.id,
            worker_id=u["worker"],
            organisation_id=world["org"]["a"],
            support_request_id=request.id,
        )
        db.session.add(booking)
        db.session.commit()
        return {
            "shift_id": shift, "user_id": u["worker"], "statement_id": statement,
            "period_id": period, "exposure_id": exposure.id, "checkin_id": checkin.id,
            "request_id": request.id, "booking_id": booking.id, "slot_id": slot.id,
            "differential_id": 1, "token": "not-a-token", "organisation_id": world["org"]["a"],
            "site_id": world["site"]["a1"],
            # on-call and training pages carry no wellbeing: any id (404 or not) will do
            "on_call_id": 1, "swap_id": 1, "course_id": 1, "requirement_id": 1, "session_id": 1,
            "attendance_id": 1, "safety_checkin_id": 1,
        }  # fmt: skip


def every_page(app, client, ids) -> dict[str, str]:
    """Every GET route, record ids filled in: url -> body."""
    bodies = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        missing = set(rule.arguments) - set(ids)
        assert not missing, f"give {rule.rule} a value for {missing} in the records fixture"
        url = rule.build({a: ids[a] for a in rule.arguments})[1]
        bodies[url] = client.get(url).get_data(as_text=True)
    return bodies


# Who may read which marker: the owner all; a counsellor of the same organisation the support
# request and its notes (and check-ins only with outreach or consent: not here).
CAN_SEE = {
    ("worker", None): set(ALL),
    ("counselor", None): {REQUEST, COUNSEL},
}
VIEWERS = [("supervisor", None), ("supervisor_all", None), ("hr", None), ("leader", None),
          ("funder", None), ("admin", None), ("worker2", None), ("worker", "b"),
          ("supervisor", "b"), ("counselor", None), ("worker", None)]  # fmt: skip


@pytest.mark.parametrize(("role", "org"), VIEWERS)
def test_no_page_or_export_shows_wellbeing_to_anyone_not_allowed(
    app, client, auth, records, role, org
):
    auth.as_role(role, org=org)
    bodies = every_page(app, client, records)
    allowed = CAN_SEE.get((role, org), set())
    for marker in ALL:
        shown = [url for url, body in bodies.items() if marker in body]
        if marker in allowed:
            assert shown, f"{role} should see {marker} somewhere"
        else:
            assert not shown, f"{role} saw {marker} on {shown}"


def test_the_audit_log_holds_no_wellbeing_content(app, client, auth, records):
    auth.as_role("counselor")
    every_page(app, client, records)
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent)).all()
        assert any(r.action == "wellbeing.read" for r in rows)
        text = " ".join(str(vars(r)) for r in rows)
    for marker in ALL:
        assert marker not in text


def test_the_worker_sees_who_read_their_records(app, client, auth, records):
    auth.as_role("counselor")
    client.get(f"/support/{records['request_id']}")
    auth.logout()
    auth.as_role("worker")
    page = client.get("/my-data").get_data(as_text=True)
    assert "Counselor A (counselor)" in page and "Support request" in page
    data = client.get("/my-data.json").get_json()
    assert data["exposures"][0]["note"] == EXPOSURE
    assert data["support_requests"][0]["notes"][0]["body"] == COUNSEL
    assert data["wellbeing_record_views"][0]["by"] == "Counselor A"
    csv_text = client.get("/my-data.csv").get_data(as_text=True)
    assert CHECKIN in csv_text and "record_type,record_id,field,value" in csv_text


def test_the_worker_downloads_and_deletes_a_past_booking(app, client, auth, records):
    from portal.models import Booking

    auth.as_role("worker")
    data = client.get("/my-data.json").get_json()
    assert data["bookings"][0]["id"] == records["booking_id"]
    assert data["bookings"][0]["counsellor"] == "Counselor A"
    # an upcoming session must be cancelled first
    response = client.post(f"/bookings/{records['booking_id']}/delete", follow_redirects=True)
    assert "Cancel this session first" in response.get_data(as_text=True)
    with app.app_context():
        booking = db.session.get(Booking, records["booking_id"])
        booking.status, booking.active_slot_id = "cancelled", None
        db.session.commit()
    response = client.post(f"/bookings/{records['booking_id']}/delete", follow_redirects=True)
    assert "The booking is deleted." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Booking, records["booking_id"]) is None
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "booking.deleted")
        ).all()
        assert [r.record_id for r in rows] == [records["booking_id"]]
    auth.logout()
    auth.as_role("worker2")
    assert client.post(f"/bookings/{records['booking_id']}/delete").status_code == 404
