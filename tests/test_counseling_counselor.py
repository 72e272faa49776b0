"""Counselling, the counsellor's side: weekly hours into slots, one-off slots, time off,
cancelling with a message, marking sessions, and support requests turned into bookings."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from portal.counseling import availability as svc
from portal.counseling import booking_service
from portal.extensions import db
from portal.models import (
    AvailabilityRule,
    Booking,
    CounselingSlot,
    SupportRequest,
    TimeOff,
    User,
)
from portal.timeutil import to_local, utcnow
from portal.wellbeing.requests import create_request
from tests.factories import CHICAGO, email_for, local, make_user

# --- helpers ----------------------------------------------------------------------------------


def soon(days: int = 2) -> date:
    """A local date a few days ahead."""
    return datetime.now(CHICAGO).date() + timedelta(days=days)


def make_slot(counselor_id: int, start: datetime, minutes: int = 50, **fields) -> int:
    """A slot saved directly (inside an app context); returns its id."""
    counselor = db.session.get(User, counselor_id)
    slot = CounselingSlot(
        counselor_id=counselor_id,
        organisation_id=counselor.organisation_id,
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        mode=fields.pop("mode", "phone"),
        **fields,
    )
    db.session.add(slot)
    db.session.flush()
    return slot.id


def make_booking(slot_id: int, worker_id: int, status: str = "booked", **fields) -> int:
    """A booking saved directly (inside an app context); returns its id."""
    worker = db.session.get(User, worker_id)
    booking = Booking(
        slot_id=slot_id,
        active_slot_id=None if status == "cancelled" else slot_id,
        worker_id=worker_id,
        organisation_id=worker.organisation_id,
        status=status,
        **fields,
    )
    db.session.add(booking)
    db.session.flush()
    return booking.id


def slots_of(counselor_id: int) -> list[CounselingSlot]:
    return list(
        db.session.scalars(
            sa.select(CounselingSlot)
            .where(CounselingSlot.counselor_id == counselor_id)
            .order_by(CounselingSlot.start_at)
        )
    )


def mails(app) -> list:
    """Every message written to the test's mail folder, parsed."""
    folder = app.config["MAIL_DIR"]
    if not os.path.isdir(folder):
        return []
    found = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as fh:
            found.append(message_from_bytes(fh.read(), policy=policy.default))
    return found


@pytest.fixture
def other_counselor(app, world) -> int:
    """A second counsellor in provider A."""
    with app.app_context():
        uid = make_user(
            "Counselor Two", "counselor2@a.example.org", {"counselor"}, world["org"]["a"]
        ).id
        db.session.commit()
    return uid


def rule(app, counselor_id, weekday=1, start="09:00", end="11:00", minutes=50, **kw):
    """A weekly rule through the service; returns its id."""
    with app.app_context():
        counselor = db.session.get(User, counselor_id)
        made = svc.add_rule(
            counselor,
            weekday,
            time.fromisoformat(start),
            time.fromisoformat(end),
            minutes,
            kw.pop("mode", "phone"),
            kw.pop("location", ""),
            kw.pop("video_link", ""),
            kw.pop("valid_from", None),
            kw.pop("valid_until", None),
            **kw,
        )
        db.session.commit()
        return made.id


# --- weekly hours into slots --------------------------------------------------------------------

BEFORE_DST = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # Sun Mar 1; clocks go forward Sun Mar 8


def test_a_tuesday_rule_stays_at_nine_on_the_wall_clock_across_dst(app, world):
    u = world["user"]
    rule(app, u["counselor"], weekday=1, valid_from=date(2026, 3, 1), today=date(2026, 3, 1))
    with app.app_context():
        made = svc.generate_slots(u["counselor"], date(2026, 3, 14), now=BEFORE_DST)
        db.session.commit()
        slots = slots_of(u["counselor"])
        local_starts = [to_local(s.start_at).strftime("%a %m-%d %H:%M") for s in slots]
        utc_hours = [s.start_at.astimezone(UTC).hour for s in slots]
        lengths = {s.end_at - s.start_at for s in slots}
    assert made == 4
    assert local_starts == [
        "Tue 03-03 09:00",
        "Tue 03-03 09:50",
        "Tue 03-10 09:00",
        "Tue 03-10 09:50",
    ]
    assert utc_hours == [15, 15, 14, 14]  # CST is UTC-6, CDT is UTC-5
    assert lengths == {timedelta(minutes=50)}


def test_the_hour_the_clocks_skip_gets_no_slot(app, world):
    u = world["user"]
    sunday = date(2026, 3, 8)
    rule(app, u["counselor"], weekday=6, start="01:00", end="04:00", minutes=60,
         valid_from=sunday, valid_until=sunday, today=date(2026, 3, 1))  # fmt: skip
    with app.app_context():
        svc.generate_slots(u["counselor"], date(2026, 3, 14), now=BEFORE_DST)
        starts = [to_local(s.start_at).strftime("%H:%M") for s in slots_of(u["counselor"])]
    assert starts == ["01:00", "03:00"]


def test_generation_is_idempotent_and_skips_past_time_off_and_overlaps(app, world):
    u = world["user"]
    rule(app, u["counselor"], weekday=1, valid_from=date(2026, 3, 1), today=date(2026, 3, 1))
    with app.app_context():
        counselor = db.session.get(User, u["counselor"])
        # Already there: a one-off slot overlapping Mar 3 09:50, and time off over Mar 10 09:00.
        make_slot(u["counselor"], local(date(2026, 3, 3), "10:00"), minutes=30)
        svc.add_time_off(
            counselor,
            local(date(2026, 3, 10), "08:00"),
            local(date(2026, 3, 10), "09:30"),
            now=BEFORE_DST,
        )
        # "now" is Tue Mar 3 09:10: the 09:00 slot of that day has started.
        now = local(date(2026, 3, 3), "09:10")
        first = svc.generate_slots(u["counselor"], date(2026, 3, 14), now=now)
        second = svc.generate_slots(u["counselor"], date(2026, 3, 14), now=now)
        db.session.commit()
        starts = [to_local(s.start_at).strftime("%m-%d %H:%M") for s in slots_of(u["counselor"])]
    assert (first, second) == (1, 0)
    assert starts == ["03-03 10:00", "03-10 09:50"]


def test_the_cli_generates_for_every_counsellor(app, world, runner, other_counselor):
    u = world["user"]
    if "generate-slots" not in app.cli.commands:  # until create_app registers it
        svc.register_counseling_cli(app)
    tomorrow = soon(1)
    for cid in (u["counselor"], other_counselor):
        rule(app, cid, weekday=tomorrow.weekday(), start="10:00", end="11:00", minutes=60)
    result = runner.invoke(args=["generate-slots"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        mine, theirs = slots_of(u["counselor"]), slots_of(other_counselor)
        last = to_local(mine[-1].start_at).date()
    # COUNSELING_DAYS_AHEAD (14) + 14 days ahead: four weeks of one slot a week, each.
    assert len(mine) == len(theirs) == 4 and last <= soon(28)
    assert f"created: {len(mine) * 2}" in result.output
    assert "created: 0" in runner.invoke(args=["generate-slots"]).output


def test_weekly_hours_added_on_the_page_offer_slots_at_once(client, world, auth, app):
    auth.as_role("counselor")
    day = soon(3)
    data = {
        "rule-weekday": str(day.weekday()),
        "rule-start_time": "13:00",
        "rule-end_time": "15:00",
        "rule-slot_minutes": "60",
        "rule-mode": "in_person",
        "rule-location": "Room 2",
        "rule-video_link": "",
        "rule-valid_from": "",
        "rule-valid_until": "",
    }
    response = client.post("/counseling/availability/rules", data=data)
    assert response.status_code == 302
    page = client.get("/counseling/availability").get_data(as_text=True)
    assert f"{day:%a %b %-d, %Y} 13:00" in page and "Room 2" in page
    # The same hours again overlap: refused on the form, input kept.
    response = client.post("/counseling/availability/rules", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in body
    assert "overlap your" in body and 'value="Room 2"' in body


def test_removing_weekly_hours_withdraws_their_open_slots_only(client, world, auth, app):
    u = world["user"]
    day = soon(2)
    rule_id = rule(app, u["counselor"], weekday=day.weekday(), start="09:00", end="11:00")
    with app.app_context():
        svc.generate_slots(u["counselor"], day)
        slots = slots_of(u["counselor"])
        booked = make_booking(slots[0].id, u["worker"])
        db.session.commit()
    auth.as_role("counselor")
    assert client.post(f"/counseling/availability/rules/{rule_id}/remove").status_code == 302
    with app.app_context():
        assert db.session.get(AvailabilityRule, rule_id) is None
        offered = [s for s in slots_of(u["counselor"]) if not s.withdrawn]
        assert [s.id for s in offered] == [db.session.get(Booking, booked).slot_id]


# --- one-off slots ------------------------------------------------------------------------------


def one_off(**overrides) -> dict:
    data = {
        "slot-day": soon(2).isoformat(),
        "slot-time": "10:30",
        "slot-minutes": "50",
        "slot-mode": "phone",
        "slot-location": "",
        "slot-video_link": "",
    }
    data.update(overrides)
    return data


def test_a_one_off_slot_is_offered(client, world, auth, app):
    auth.as_role("counselor")
    assert client.post("/counseling/availability/slots", data=one_off()).status_code == 302
    with app.app_context():
        (slot,) = slots_of(world["user"]["counselor"])
        assert slot.start_at == local(soon(2), "10:30") and slot.mode == "phone"
        assert slot.end_at - slot.start_at == timedelta(minutes=50)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "overlaps your slot"),
        ({"slot-day": (soon(0) - timedelta(days=1)).isoformat()}, "from now on"),
        ({"slot-time": "12:00", "slot-mode": "video"}, "Add the video link"),
        ({"slot-time": "12:00", "slot-mode": "in_person"}, "Say where you will meet"),
        ({"slot-time": "12:00", "slot-minutes": "5"}, "between 15 and 180"),
    ],
)
def test_a_bad_one_off_slot_is_refused_clearly(client, world, auth, app, overrides, message):
    with app.app_context():
        make_slot(world["user"]["counselor"], local(soon(2), "10:00"))
        db.session.commit()
    auth.as_role("counselor")
    response = client.post("/counseling/availability/slots", data=one_off(**overrides))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in body
    assert message in body
    with app.app_context():
        assert len(slots_of(world["user"]["counselor"])) == 1


def test_the_skipped_dst_hour_is_refused_for_a_one_off(app, world):
    with app.app_context():
        with pytest.raises(svc.AvailabilityError, match="clocks skip"):
            svc.local_instant(date(2027, 3, 14), time(2, 30))


def test_another_counsellors_slot_does_not_block_mine(app, world, other_counselor):
    with app.app_context():
        make_slot(other_counselor, local(soon(2), "10:00"))
        me = db.session.get(User, world["user"]["counselor"])
        slot = svc.add_one_off(me, local(soon(2), "10:00"), 50, "phone")
        assert slot.counselor_id == me.id


# --- time off -----------------------------------------------------------------------------------


def test_time_off_withdraws_open_slots_and_lists_booked_ones(client, world, auth, app):
    u = world["user"]
    day = soon(2)
    with app.app_context():
        open_id = make_slot(u["counselor"], local(day, "09:00"))
        booked_slot = make_slot(u["counselor"], local(day, "10:00"))
        outside = make_slot(u["counselor"], local(day, "15:00"))
        booking_id = make_booking(booked_slot, u["worker"])
        db.session.commit()
    auth.as_role("counselor")
    data = {
        "off-start_day": day.isoformat(),
        "off-start_time": "08:00",
        "off-end_day": day.isoformat(),
        "off-end_time": "12:00",
    }
    response = client.post("/counseling/availability/time-off", data=data, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "1 open slot withdrawn" in body
    assert "Worker A" in body and f"{day:%a %b %-d, %Y} 10:00" in body and "not cancelled" in body
    with app.app_context():
        assert db.session.get(CounselingSlot, open_id).withdrawn is True
        assert db.session.get(CounselingSlot, booked_slot).withdrawn is False
        assert db.session.get(CounselingSlot, outside).withdrawn is False
        assert db.session.get(Booking, booking_id).status == "booked"


def block(client, day, start="08:00", end="12:00", end_day=None):
    data = {"off-start_day": day.isoformat(), "off-start_time": start,
            "off-end_day": (end_day or day).isoformat(), "off-end_time": end}  # fmt: skip
    return client.post("/counseling/availability/time-off", data=data)


def test_removing_time_off_offers_its_slots_again(client, world, auth, app):
    """Time off added by mistake: removing it brings back the open slots it withdrew, and only
    those (one withdrawn by hand stays withdrawn; one under other time off stays withdrawn;
    a booked one was never touched)."""
    u = world["user"]
    day = soon(2)
    with app.app_context():
        back = make_slot(u["counselor"], local(day, "09:00"))
        by_hand = make_slot(u["counselor"], local(day, "10:00"), withdrawn=True)
        booked = make_slot(u["counselor"], local(day, "11:00"))
        covered = make_slot(u["counselor"], local(day, "13:00"))
        make_booking(booked, u["worker"])
        db.session.commit()
    auth.as_role("counselor")
    block(client, day, "08:00", "14:00")
    block(client, day, "12:30", "16:00")  # overlapping time off, over the 13:00 slot too
    with app.app_context():
        mistaken = db.session.scalar(
            sa.select(TimeOff.id).where(TimeOff.end_at == local(day, "14:00"))
        )
    page = client.get("/counseling/availability").get_data(as_text=True)
    assert f'action="/counseling/availability/time-off/{mistaken}/remove"' in page
    response = client.post(f"/counseling/availability/time-off/{mistaken}/remove",
                           follow_redirects=True)  # fmt: skip
    assert "Time off removed" in response.get_data(as_text=True)
    assert "1 slot offered again." in response.get_data(as_text=True)
    with app.app_context():
        withdrawn = {sid: db.session.get(CounselingSlot, sid).withdrawn
                     for sid in (back, by_hand, booked, covered)}  # fmt: skip
        assert db.session.get(TimeOff, mistaken) is None
    assert withdrawn == {back: False, by_hand: True, booked: False, covered: True}
    # The worker can book the slot that came back.
    auth.as_role("worker")
    assert f"/counseling/slots/{back}/book" in client.get("/counseling").get_data(as_text=True)


def test_removing_time_off_that_has_begun_leaves_past_slots_alone(client, world, auth, app):
    u = world["user"]
    now = utcnow()
    with app.app_context():
        me = db.session.get(User, u["counselor"])
        past = make_slot(u["counselor"], now + timedelta(hours=1))
        ahead = make_slot(u["counselor"], now + timedelta(hours=5))
        result = svc.add_time_off(me, now, now + timedelta(hours=8))
        db.session.commit()
        off = result.time_off.id
        offered = svc.remove_time_off(me, db.session.get(TimeOff, off),
                                      now=now + timedelta(hours=2))  # fmt: skip
        db.session.commit()
        assert offered == 1
        assert db.session.get(CounselingSlot, past).withdrawn is True
        assert db.session.get(CounselingSlot, ahead).withdrawn is False


def test_another_counsellors_time_off_cannot_be_removed(client, world, auth, app):
    with app.app_context():
        other = make_user("Other C", "otherc@a.example.org", {"counselor"}, world["org"]["a"])
        off = svc.add_time_off(other, utcnow() + timedelta(days=1),
                               utcnow() + timedelta(days=2)).time_off.id  # fmt: skip
        db.session.commit()
    auth.as_role("counselor")
    assert client.post(f"/counseling/availability/time-off/{off}/remove").status_code == 404
    with app.app_context():
        assert db.session.get(TimeOff, off) is not None


def test_time_off_ending_before_it_starts_is_refused(client, world, auth):
    auth.as_role("counselor")
    day = soon(2)
    data = {
        "off-start_day": day.isoformat(),
        "off-start_time": "12:00",
        "off-end_day": day.isoformat(),
        "off-end_time": "08:00",
    }
    response = client.post("/counseling/availability/time-off", data=data)
    assert response.status_code == 422
    assert "The end must be after the start." in response.get_data(as_text=True)


def test_withdrawing_a_slot_only_when_unbooked(client, world, auth, app):
    u = world["user"]
    with app.app_context():
        free = make_slot(u["counselor"], local(soon(2), "09:00"))
        taken = make_slot(u["counselor"], local(soon(2), "10:00"))
        make_booking(taken, u["worker"])
        db.session.commit()
    auth.as_role("counselor")
    client.post(f"/counseling/availability/slots/{free}/withdraw")
    response = client.post(
        f"/counseling/availability/slots/{taken}/withdraw", follow_redirects=True
    )
    assert "This slot is booked" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CounselingSlot, free).withdrawn is True
        assert db.session.get(CounselingSlot, taken).withdrawn is False


# --- sessions -----------------------------------------------------------------------------------


def test_cancel_frees_the_slot_and_mails_the_worker(client, world, auth, app):
    u = world["user"]
    start = local(soon(3), "14:30")
    with app.app_context():
        slot_id = make_slot(u["counselor"], start)
        booking_id = make_booking(slot_id, u["worker"])
        db.session.commit()
    auth.as_role("counselor")
    page = client.get("/counseling/sessions").get_data(as_text=True)
    assert "Worker A" in page and f"{soon(3):%a %b %-d, %Y} 14:30" in page

    refused = client.post(f"/counseling/sessions/{booking_id}/cancel", data={})
    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)

    field = f"cancel-{booking_id}-message"
    response = client.post(
        f"/counseling/sessions/{booking_id}/cancel", data={field: "I am unwell, sorry."}
    )
    assert response.status_code == 302
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert (booking.status, booking.active_slot_id) == ("cancelled", None)
        assert (booking.cancelled_by, booking.cancel_message) == (
            "counselor",
            "I am unwell, sorry.",
        )
        assert db.session.get(CounselingSlot, slot_id).withdrawn is False
        # The slot is free at once: another worker books it.
        again = booking_service.book(
            db.session.get(User, u["worker2"]), db.session.get(CounselingSlot, slot_id)
        )
        db.session.commit()
        assert again.active_slot_id == slot_id
    (mail,) = mails(app)
    assert mail["To"] == email_for("worker", "a")
    text = mail.get_body(("plain",)).get_content()
    assert "I am unwell, sorry." in text
    assert f"{soon(3):%a %b %-d, %Y} at 14:30" in text  # local time, not UTC


def test_cancel_can_also_withdraw_the_time(client, world, auth, app):
    u = world["user"]
    with app.app_context():
        slot_id = make_slot(u["counselor"], local(soon(3), "14:30"))
        booking_id = make_booking(slot_id, u["worker"])
        db.session.commit()
    auth.as_role("counselor")
    client.post(
        f"/counseling/sessions/{booking_id}/cancel",
        data={
            f"cancel-{booking_id}-message": "Training day.",
            f"cancel-{booking_id}-withdraw": "y",
        },
    )
    with app.app_context():
        assert db.session.get(CounselingSlot, slot_id).withdrawn is True


def test_mark_completed_or_missed_only_once_started(client, world, auth, app):
    u = world["user"]
    now = utcnow()
    with app.app_context():
        done = make_booking(make_slot(u["counselor"], now - timedelta(days=1)), u["worker"])
        gone = make_booking(make_slot(u["counselor"], now - timedelta(hours=3)), u["worker2"])
        later = make_booking(make_slot(u["counselor"], now + timedelta(days=1)), u["worker3"])
        db.session.commit()
    auth.as_role("counselor")
    client.post(f"/counseling/sessions/{done}/complete")
    client.post(f"/counseling/sessions/{gone}/missed")
    response = client.post(f"/counseling/sessions/{later}/complete", follow_redirects=True)
    assert "has not started yet" in response.get_data(as_text=True)
    with app.app_context():
        statuses = [db.session.get(Booking, b).status for b in (done, gone, later)]
    assert statuses == ["completed", "missed", "booked"]


def test_a_counsellor_cannot_touch_another_counsellors_records(
    client, world, auth, app, other_counselor
):
    u = world["user"]
    rule_id = rule(app, u["counselor"], weekday=soon(2).weekday())
    with app.app_context():
        slot_id = make_slot(u["counselor"], local(soon(2), "16:00"))
        past = make_slot(u["counselor"], utcnow() - timedelta(days=1))
        booking_id = make_booking(past, u["worker"])
        future_booking = make_booking(
            make_slot(u["counselor"], local(soon(2), "18:00")), u["worker2"]
        )
        db.session.commit()
    auth.login("counselor2@a.example.org")
    for url, data in [
        (f"/counseling/availability/rules/{rule_id}/remove", {}),
        (f"/counseling/availability/slots/{slot_id}/withdraw", {}),
        (
            f"/counseling/sessions/{future_booking}/cancel",
            {f"cancel-{future_booking}-message": "x"},
        ),
        (f"/counseling/sessions/{booking_id}/complete", {}),
        (f"/counseling/sessions/{booking_id}/missed", {}),
    ]:
        assert client.post(url, data=data).status_code == 404, url
    page = client.get("/counseling/sessions").get_data(as_text=True)
    assert "Worker A" not in page
    with app.app_context():
        assert db.session.get(AvailabilityRule, rule_id) is not None
        assert db.session.get(CounselingSlot, slot_id).withdrawn is False
        assert db.session.get(Booking, booking_id).status == "booked"
        assert db.session.get(Booking, future_booking).status == "booked"


@pytest.mark.parametrize("role", ["worker", "supervisor", "hr", "leader", "funder", "admin"])
def test_counsellor_pages_are_404_for_other_roles(client, world, auth, role):
    auth.as_role(role)
    for url in ("/counseling/availability", "/counseling/sessions"):
        assert client.get(url).status_code == 404


# --- support requests into bookings -------------------------------------------------------------


def _request(app, worker_id: int) -> int:
    with app.app_context():
        req = create_request(db.session.get(User, worker_id), "counselling_session")
        db.session.commit()
        return req.id


def test_a_support_request_becomes_a_booking(client, world, auth, app):
    u = world["user"]
    req_id = _request(app, u["worker"])
    other_req = _request(app, u["worker2"])
    start = local(soon(4), "11:00")
    with app.app_context():
        slot_id = make_slot(u["counselor"], start)
        db.session.commit()
    auth.as_role("counselor")
    page = client.get(f"/support/{req_id}/book")
    assert page.status_code == 200 and f"{soon(4):%a %b %-d, %Y} 11:00" in page.get_data(True)
    response = client.post(f"/support/{req_id}/book", data={"slot_id": str(slot_id)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/support/{req_id}")
    with app.app_context():
        req = db.session.get(SupportRequest, req_id)
        (booking,) = db.session.scalars(sa.select(Booking)).all()
        assert (booking.worker_id, booking.slot_id, booking.support_request_id) == (
            u["worker"],
            slot_id,
            req_id,
        )
        assert booking.active_slot_id == slot_id and booking.status == "booked"
        assert (req.status, req.scheduled_for, req.counselor_id) == (
            "scheduled",
            start,
            u["counselor"],
        )
    # One slot, one booking: a second request cannot take the same slot.
    response = client.post(f"/support/{other_req}/book", data={"slot_id": str(slot_id)})
    assert response.status_code == 422
    assert "just taken" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SupportRequest, other_req).status == "open"


def test_the_database_refuses_a_second_booking_of_a_slot(app, world):
    """The backstop: even past the checks, active_slot_id is unique."""
    u = world["user"]
    with app.app_context():
        slot_id = make_slot(u["counselor"], local(soon(2), "09:00"))
        make_booking(slot_id, u["worker"])
        db.session.commit()
        with pytest.raises(sa.exc.IntegrityError):
            make_booking(slot_id, u["worker2"])
        db.session.rollback()


def test_another_organisations_counsellor_cannot_book_a_request(client, world, auth, app):
    u = world["user"]
    req_id = _request(app, u["worker"])
    with app.app_context():
        make_user("Counselor B", email_for("counselor", "b"), {"counselor"}, world["org"]["b"])
        db.session.commit()
    auth.login(email_for("counselor", "b"))
    assert client.get(f"/support/{req_id}/book").status_code == 404
    assert client.post(f"/support/{req_id}/book", data={"slot_id": "1"}).status_code == 404


def test_a_slot_of_another_counsellor_cannot_be_used(client, world, auth, app, other_counselor):
    u = world["user"]
    req_id = _request(app, u["worker"])
    with app.app_context():
        theirs = make_slot(other_counselor, local(soon(2), "09:00"))
        db.session.commit()
    auth.as_role("counselor")
    response = client.post(f"/support/{req_id}/book", data={"slot_id": str(theirs)})
    assert response.status_code == 422
    assert "Choose one of your open slots." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0
