"""Every route that takes a record id, walked from app.url_map: another worker's record, or
another organisation's, answers 404 to everyone who may not see it, and nothing is written.

The records are real (a shift, a statement and its period, an exposure, a check-in, a support
request, a counsellor's rule, slot and booking, a pay differential, an API token), so the 404
comes from the ownership check, not from a missing row. A new route with an id fails the suite
until it is given a record kind below.
"""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.api import service as api_service
from portal.extensions import db
from portal.models import (
    AvailabilityRule,
    Booking,
    CheckIn,
    CounselingSlot,
    Exposure,
    OnCallPeriod,
    OnCallSwap,
    PayDifferential,
    SafetyCheckin,
    SafetySettings,
    SupportRequest,
    TimeOff,
    TrainingAttendance,
    TrainingCourse,
    TrainingRequirement,
    TrainingSession,
    User,
)
from tests.factories import make_shift, make_statement, make_user, recent_start

# URL argument -> the kind of record it names (each endpoint's id must be one of these).
KINDS = {
    "shift_id": "shift", "statement_id": "statement", "period_id": "period",
    "exposure_id": "exposure", "checkin_id": "checkin", "request_id": "request",
    "rule_id": "rule", "slot_id": "slot", "booking_id": "booking",
    "differential_id": "differential", "user_id": "user", "token_id": "token",
    "time_off_id": "time_off", "organisation_id": "organisation", "site_id": "site",
    "on_call_id": "on_call", "swap_id": "swap",
    "course_id": "course", "requirement_id": "requirement", "session_id": "training_session",
    "attendance_id": "attendance", "safety_checkin_id": "safety_checkin",
}  # fmt: skip
# Admins manage every organisation's accounts (SPEC §2): their user pages are not scoped by
# organisation. Their token URLs are, by account: another account's token is 404.
ADMIN_SCOPE = {"admin.edit_user", "admin.deactivate_user", "admin.reactivate_user",
               "admin.send_link", "admin.tokens", "admin.issue_token",
               "admin.reset_two_factor", "admin.edit_organisation",
               "admin.add_organisation_site", "admin.close_site", "admin.reopen_site",
               "admin.edit_site"}  # fmt: skip
SAME_ORG_VIEWERS = ["worker2"]  # another worker of the same provider
# Open slots belong to the whole organisation: any of its workers may book one.
ORG_WIDE = {"counseling.book"}
# Removing what is not there (a double click, or another organisation's id) says "already
# removed" and goes back to the list: the same answer either way, so nothing is revealed.
ALREADY_GONE = {"hr.remove_differential": "That differential was already removed."}
OTHER_ORG_VIEWERS = ["worker", "supervisor", "supervisor_all", "counselor", "hr", "leader",
                     "admin", "funder"]  # fmt: skip


def id_routes(app) -> list[tuple[str, str, str, list[str]]]:
    """(endpoint, rule, method, id arguments) for every route with a record id."""
    found = []
    for rule in app.url_map.iter_rules():
        ids = [a for a in rule.arguments if a.endswith("_id")]
        if not ids:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule.rule, method, ids))
    return found


def make_records(world, owner_key: str, org_key: str) -> dict[str, int]:
    """One record of every kind belonging to ``owner_key`` (a worker) and their organisation."""
    owner = world["user"][owner_key]
    org = world["org"][org_key]
    start = recent_start(1, "09:00")
    counselor = make_user("C", f"c-{owner_key}@x.example.org", {"counselor"}, org)
    funder = make_user("F", f"f-{owner_key}@x.example.org", {"funder"}, world["org"]["city"])
    records = {"shift": make_shift(owner, start, note=f"{owner_key}-private"), "user": owner,
               "organisation": org, "site": db.session.get(User, owner).site_id}
    records["period"], records["statement"] = make_statement(owner, gross="4321.00")
    rows = {
        "exposure": Exposure(worker_id=owner, organisation_id=org, occurred_at=start,
                             category="witnessed_violence", severity=4, offer_status="offered",
                             note=f"{owner_key}-private"),
        "checkin": CheckIn(worker_id=owner, organisation_id=org, item1=1, item2=1, item3=1,
                           item4=1, item5=1, score=20, note=f"{owner_key}-private",
                           share_with_counsellors=True, wants_outreach=True),
        "request": SupportRequest(worker_id=owner, organisation_id=org, kind="peer_support",
                                  note=f"{owner_key}-private"),
        "rule": AvailabilityRule(counselor_id=counselor.id, organisation_id=org, weekday=1,
                                 start_time=time(9), end_time=time(12), slot_minutes=60,
                                 mode="phone", location="", valid_from=start.date()),
        "slot": CounselingSlot(counselor_id=counselor.id, organisation_id=org,
                               start_at=start + timedelta(days=3),
                               end_at=start + timedelta(days=3, hours=1), mode="phone"),
        "time_off": TimeOff(counselor_id=counselor.id, start_at=start + timedelta(days=5),
                            end_at=start + timedelta(days=6)),
        "differential": PayDifferential(organisation_id=org, name="Nights", start_time=time(22),
                                        end_time=time(6), per_hour=Decimal("1.50")),
    }  # fmt: skip
    db.session.add_all(rows.values())
    db.session.flush()
    records.update({kind: row.id for kind, row in rows.items()})
    booked = CounselingSlot(counselor_id=counselor.id, organisation_id=org,
                            start_at=start + timedelta(days=4),
                            end_at=start + timedelta(days=4, hours=1), mode="phone")  # fmt: skip
    db.session.add(booked)
    db.session.flush()
    booking = Booking(slot_id=booked.id, active_slot_id=booked.id, worker_id=owner,
                      organisation_id=org)  # fmt: skip
    db.session.add(booking)
    db.session.flush()
    records["booking"] = booking.id
    # A published on-call period of the owner, and their open swap with a colleague who is
    # not the viewer: the site's other workers (worker2 is one) still may not open either.
    mate = make_user("M", f"m-{owner_key}@x.example.org", {"worker"}, org,
                     db.session.get(User, owner).site_id)  # fmt: skip
    on_call = OnCallPeriod(organisation_id=org, site_id=records["site"], worker_id=owner,
                           start_at=start + timedelta(days=7), end_at=start + timedelta(days=8),
                           status="published")  # fmt: skip
    db.session.add(on_call)
    db.session.flush()
    swap = OnCallSwap(organisation_id=org, period_id=on_call.id, from_worker_id=owner,
                      to_worker_id=mate.id, status="accepted", reason=f"{owner_key}-private")
    db.session.add(swap)
    db.session.flush()
    records["on_call"], records["swap"] = on_call.id, swap.id
    course = TrainingCourse(organisation_id=org, name=f"{owner_key}-private course",
                            hours=Decimal("8"), renewal_months=12)
    db.session.add(course)
    db.session.flush()
    requirement = TrainingRequirement(course_id=course.id, job_title="")
    training = TrainingSession(organisation_id=org, course_id=course.id,
                               site_id=records["site"], start_at=start - timedelta(days=2),
                               end_at=start - timedelta(days=2, hours=-4), trainer="T")
    db.session.add_all([requirement, training])
    db.session.flush()
    paid = make_shift(owner, start - timedelta(days=2), hours=4, status="approved",
                      shift_type="training")
    attendance = TrainingAttendance(session_id=training.id, worker_id=owner, shift_id=paid)
    db.session.add(attendance)
    db.session.flush()
    records.update(course=course.id, requirement=requirement.id,
                   training_session=training.id, attendance=attendance.id)
    # A running safety check-in of the owner, who shares their location (so only ownership
    # refuses a position), and an open alarm of theirs, for the supervisors' pages.
    db.session.add(SafetySettings(user_id=owner, share_location=True,
                                  contact_name=f"{owner_key}-private contact"))
    checkin = SafetyCheckin(organisation_id=org, worker_id=owner, site_id=records["site"],
                            place=f"{owner_key}-private place", started_at=start,
                            due_at=start + timedelta(hours=1), status="active")
    db.session.add(checkin)
    db.session.flush()
    records["safety_checkin"] = checkin.id
    token, _plain = api_service.issue(funder, "Report", issued_by=funder)
    records["token"] = token.id
    return records


def snapshot() -> dict[str, list]:
    """Every row of every table (what "writes nothing" is checked against)."""
    return {
        table.name: sorted(map(repr, db.session.execute(sa.select(table)).all()))
        for table in db.metadata.sorted_tables
    }


def test_every_id_route_has_a_record_kind(app):
    for endpoint, rule, _method, ids in id_routes(app):
        assert all(a in KINDS for a in ids), f"{endpoint} {rule}: add its id to KINDS"


@pytest.mark.parametrize(
    ("viewer", "owner", "org"),
    [(v, "worker", "a") for v in SAME_ORG_VIEWERS]
    + [(v, "worker_b", "b") for v in OTHER_ORG_VIEWERS],
)
def test_someone_elses_records_are_404_and_nothing_is_written(client, app, world, auth,
                                                             viewer, owner, org):  # fmt: skip
    with app.app_context():
        records = make_records(world, owner, org)
        db.session.commit()
    auth.as_role(viewer.removesuffix("_b"), "city" if viewer == "funder" else "a")
    with app.app_context():
        before = snapshot()
    for endpoint, rule, method, ids in id_routes(app):
        if (endpoint in ADMIN_SCOPE and viewer == "admin") or (
            endpoint in ORG_WIDE and viewer in SAME_ORG_VIEWERS
        ):
            continue
        url = rule
        for arg in ids:
            value = records[KINDS[arg]]
            if endpoint == "admin.revoke_token" and arg == "user_id":
                value = world["user"]["worker"]  # the token is the other account's
            url = url.replace(f"<int:{arg}>", str(value))
        data = {"reason": "x", "note": "x", "message": "x", "last_day": "", "name": "x"}
        response = client.open(url, method=method, data=data if method == "POST" else None)
        page = response.get_data(as_text=True)
        if endpoint in ALREADY_GONE and response.status_code == 302:
            followed = client.get(response.headers["Location"]).get_data(as_text=True)
            assert ALREADY_GONE[endpoint] in followed, f"{method} {url} as {viewer}"
            continue
        assert response.status_code == 404, f"{method} {url} as {viewer}: {response.status_code}"
        assert "private" not in page and "4,321.00" not in page, f"{method} {url} as {viewer}"
    with app.app_context():
        after = snapshot()
    changed = [name for name in before if before[name] != after[name]]
    assert changed == [], f"{viewer} changed {changed}"
