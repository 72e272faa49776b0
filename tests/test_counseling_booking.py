"""Counselling, the worker's side: open slots, booking, cancelling, moving, the allowance, and who
may see a booking. Slots are inserted directly (the counsellor side makes them in real use)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.counseling import booking_service as svc
from portal.extensions import db
from portal.models import AuditEvent, Booking, CounselingSlot, User
from tests.factories import CHICAGO, email_for, local, make_user

TAKEN = "That time was just taken by someone else — pick another."


def make_slot(
    counselor_id: int,
    start: datetime,
    minutes: int = 50,
    mode: str = "video",
    withdrawn: bool = False,
    organisation_id: int | None = None,
    **fields,
) -> int:
    """A slot saved directly; returns its id."""
    counselor = db.session.get(User, counselor_id)
    slot = CounselingSlot(
        counselor_id=counselor_id,
        organisation_id=organisation_id or counselor.organisation_id,
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        mode=mode,
        location=fields.pop("location", "Room 2, 3500 Gravois Ave" if mode == "in_person" else ""),
        video_link=fields.pop(
            "video_link", "https://video.example.org/r/abc" if mode == "video" else ""
        ),
        withdrawn=withdrawn,
        **fields,
    )
    db.session.add(slot)
    db.session.flush()
    return slot.id


def make_booking(worker_id: int, slot_id: int, status: str = "booked") -> int:
    """A booking saved directly; returns its id."""
    worker = db.session.get(User, worker_id)
    booking = Booking(
        slot_id=slot_id,
        active_slot_id=None if status == "cancelled" else slot_id,
        worker_id=worker_id,
        organisation_id=worker.organisation_id,
        status=status,
    )
    db.session.add(booking)
    db.session.flush()
    return booking.id


def days_ahead(days: int, clock: str = "10:00") -> datetime:
    """A Chicago wall-clock time some days from today, as a UTC instant."""
    return local(datetime.now(CHICAGO).date() + timedelta(days=days), clock)


def soon(hours: float) -> datetime:
    """An instant some hours from now, on a whole minute."""
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def bookings_of(app, worker_id: int) -> list[Booking]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Booking).where(Booking.worker_id == worker_id).order_by(Booking.id)
            )
        )


def booking_row(app, booking_id: int) -> Booking:
    with app.app_context():
        return db.session.get(Booking, booking_id)


@pytest.fixture
def slots(app, world):
    """A week of slots with the provider A counsellor, and a few that must never be offered."""
    c = world["user"]["counselor"]
    with app.app_context():
        ids = {
            "video": make_slot(c, days_ahead(3, "10:00"), mode="video"),
            "in_person": make_slot(c, days_ahead(3, "14:00"), mode="in_person"),
            "phone": make_slot(c, days_ahead(5, "09:30"), mode="phone"),
            "past": make_slot(c, days_ahead(-1, "10:00")),
            "withdrawn": make_slot(c, days_ahead(4, "10:00"), withdrawn=True),
            "far": make_slot(c, days_ahead(20, "10:00")),
        }
        counselor_b = make_user(
            "Counselor B", email_for("counselor", "b"), {"counselor"}, world["org"]["b"]
        )
        ids["counselor_b"] = counselor_b.id
        ids["other_org"] = make_slot(counselor_b.id, days_ahead(3, "11:00"))
        db.session.commit()
    return ids


# --- the list --------------------------------------------------------------------------------


def test_open_slots_by_local_day_in_chicago_time(client, auth, app, world, slots):
    auth.as_role("worker")
    page = client.get("/counseling")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with app.app_context():
        video = db.session.get(CounselingSlot, slots["video"])
        day = video.start_at.astimezone(CHICAGO)
    assert day.strftime("%A, %B %-d") in html
    assert "10:00–10:50" in html and "14:00–14:50" in html and "09:30–10:20" in html
    assert f"/counseling/slots/{slots['video']}/book" in html
    for hidden in ("past", "withdrawn", "far", "other_org"):
        assert f"/counseling/slots/{slots[hidden]}/book" not in html, hidden
    assert "12 of 12" in html


def test_open_slots_service_hides_held_and_overlapping(app, world, slots):
    with app.app_context():
        c = world["user"]["counselor"]
        overlapping = make_slot(c, days_ahead(3, "10:30"), organisation_id=world["org"]["a"])
        make_booking(world["user"]["worker2"], slots["in_person"])
        make_booking(world["user"]["worker"], slots["video"])
        worker = db.session.get(User, world["user"]["worker"])
        offered = {s.id for s in svc.open_slots(worker)}
        assert offered == {slots["phone"]}  # not held (in_person), not clashing (overlapping)
        assert overlapping not in offered
        worker2 = db.session.get(User, world["user"]["worker2"])
        assert {s.id for s in svc.open_slots(worker2)} == {slots["phone"], overlapping}


def test_filter_by_counsellor_and_mode(client, auth, app, world, slots):
    with app.app_context():
        other = make_user("Other Counsellor", "c2@a.example.org", {"counselor"}, world["org"]["a"])
        theirs = make_slot(other.id, days_ahead(6, "16:00"), mode="phone")
        db.session.commit()
        other_id = other.id
    auth.as_role("worker")
    html = client.get(f"/counseling?counselor={other_id}").get_data(as_text=True)
    assert f"/slots/{theirs}/book" in html and f"/slots/{slots['video']}/book" not in html
    html = client.get("/counseling?mode=phone").get_data(as_text=True)
    assert f"/slots/{theirs}/book" in html and f"/slots/{slots['phone']}/book" in html
    assert f"/slots/{slots['video']}/book" not in html
    html = client.get("/counseling?mode=in_person").get_data(as_text=True)
    assert f"/slots/{slots['in_person']}/book" in html and f"/slots/{theirs}/book" not in html
    # Nonsense filters are ignored, never a 500.
    html = client.get("/counseling?mode=zzz&counselor=abc").get_data(as_text=True)
    assert f"/slots/{slots['video']}/book" in html


# --- booking ---------------------------------------------------------------------------------


def test_book_redirects_to_the_booking_and_confirms(client, auth, app, world, slots):
    auth.as_role("worker")
    response = client.post(f"/counseling/slots/{slots['video']}/book")
    assert response.status_code == 302
    [booking] = bookings_of(app, world["user"]["worker"])
    assert response.headers["Location"] == f"/bookings/{booking.id}"
    assert booking.active_slot_id == slots["video"] and booking.status == "booked"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Booked:" in page and "10:00–10:50" in page
    assert "https://video.example.org/r/abc" in page
    index = client.get("/counseling").get_data(as_text=True)
    assert f"/slots/{slots['video']}/book" not in index
    assert f"/bookings/{booking.id}" in index and "11 of 12" in index


@pytest.mark.parametrize(
    ("slot_key", "status", "message"),
    [
        ("past", 422, "already started or passed"),
        ("withdrawn", 422, "no longer offered"),
    ],
)
def test_refusals_say_why_and_save_nothing(
    client, auth, app, world, slots, slot_key, status, message
):
    auth.as_role("worker")
    response = client.post(f"/counseling/slots/{slots[slot_key]}/book")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and message in html
    assert bookings_of(app, world["user"]["worker"]) == []


def test_another_organisations_slot_is_404(client, auth, app, world, slots):
    auth.as_role("worker")
    assert client.post(f"/counseling/slots/{slots['other_org']}/book").status_code == 404
    assert client.post("/counseling/slots/999999/book").status_code == 404
    assert bookings_of(app, world["user"]["worker"]) == []
    with app.app_context():  # and the service refuses it too
        worker = db.session.get(User, world["user"]["worker"])
        with pytest.raises(svc.BookingError):
            svc.book(worker, db.session.get(CounselingSlot, slots["other_org"]))


def test_a_taken_slot_answers_409_just_taken(client, auth, app, world, slots):
    with app.app_context():
        make_booking(world["user"]["worker2"], slots["video"])
        db.session.commit()
    auth.as_role("worker")
    response = client.post(f"/counseling/slots/{slots['video']}/book")
    assert response.status_code == 409
    assert TAKEN in response.get_data(as_text=True)
    assert bookings_of(app, world["user"]["worker"]) == []


def test_the_constraint_decides_when_the_check_misses(app, world, slots, monkeypatch):
    """Another transaction inserting after our check: the unique index refuses, clearly."""
    with app.app_context():
        make_booking(world["user"]["worker2"], slots["video"])
        db.session.commit()
        monkeypatch.setattr(svc, "slot_held", lambda _slot_id: False)
        worker = db.session.get(User, world["user"]["worker"])
        with pytest.raises(svc.SlotTaken, match="just taken"):
            svc.book(worker, db.session.get(CounselingSlot, slots["video"]))
        db.session.commit()  # the session is still usable: the savepoint took the failure
    assert bookings_of(app, world["user"]["worker"]) == []


def test_no_two_sessions_at_overlapping_times(client, auth, app, world, slots):
    with app.app_context():
        clash = make_slot(world["user"]["counselor"], days_ahead(3, "10:20"))
        make_booking(world["user"]["worker"], slots["video"])
        db.session.commit()
    auth.as_role("worker")
    response = client.post(f"/counseling/slots/{clash}/book")
    assert response.status_code == 422
    assert "overlapping time" in response.get_data(as_text=True)
    assert len(bookings_of(app, world["user"]["worker"])) == 1


def test_the_yearly_allowance_runs_out(client, auth, app, world, slots):
    app.config["COUNSELING_YEARLY_ALLOWANCE"] = 1
    auth.as_role("worker")
    assert client.post(f"/counseling/slots/{slots['video']}/book").status_code == 302
    response = client.post(f"/counseling/slots/{slots['phone']}/book")
    assert response.status_code == 422
    assert "used all 1 sessions" in response.get_data(as_text=True)
    assert len(bookings_of(app, world["user"]["worker"])) == 1


def test_allowance_counts_booked_completed_missed_not_cancelled(app, world):
    c, w = world["user"]["counselor"], world["user"]["worker"]
    with app.app_context():
        year = datetime.now(CHICAGO).year
        this_year = [local(datetime(year, 1, 2 + i).date(), "09:00") for i in range(4)]
        for start, status in zip(
            this_year, ["completed", "missed", "cancelled", "booked"], strict=True
        ):
            make_booking(w, make_slot(c, start), status=status)
        make_booking(
            w, make_slot(c, local(datetime(year - 1, 12, 30).date(), "09:00")), "completed"
        )
        db.session.commit()
        result = svc.allowance(db.session.get(User, w))
    assert (result.year, result.total, result.used, result.remaining) == (year, 12, 3, 9)


# --- cancelling ------------------------------------------------------------------------------


def test_cancel_early_frees_the_slot_at_once(client, auth, app, world, slots):
    with app.app_context():
        booking_id = make_booking(world["user"]["worker"], slots["video"])
        db.session.commit()
    auth.as_role("worker")
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert "Move to another time" in page and "I was called to an incident" not in page
    response = client.post(f"/bookings/{booking_id}/cancel")
    assert response.status_code == 302
    row = booking_row(app, booking_id)
    assert (row.status, row.active_slot_id, row.cancelled_by) == ("cancelled", None, "worker")
    assert not row.called_to_incident
    auth.logout()
    auth.login(email_for("worker2"))
    assert f"/slots/{slots['video']}/book" in client.get("/counseling").get_data(as_text=True)
    assert client.post(f"/counseling/slots/{slots['video']}/book").status_code == 302


def test_late_cancel_needs_the_incident_reason(client, auth, app, world):
    with app.app_context():
        slot = make_slot(world["user"]["counselor"], soon(5))
        booking_id = make_booking(world["user"]["worker"], slot)
        db.session.commit()
    auth.as_role("worker")
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert "I was called to an incident" in page and "Move to another time" not in page
    refused = client.post(f"/bookings/{booking_id}/cancel")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'role="alert"' in html and "up to 24 hours before" in html
    assert booking_row(app, booking_id).status == "booked"
    done = client.post(f"/bookings/{booking_id}/cancel", data={"called_to_incident": "y"})
    assert done.status_code == 302
    row = booking_row(app, booking_id)
    assert (row.status, row.called_to_incident, row.active_slot_id) == ("cancelled", True, None)
    with app.app_context():  # no penalty: it does not count
        assert svc.allowance(db.session.get(User, world["user"]["worker"])).used == 0


def test_cancel_hours_is_a_setting(app, world):
    app.config["COUNSELING_CANCEL_HOURS"] = 2
    with app.app_context():
        slot = make_slot(world["user"]["counselor"], soon(5))
        booking = db.session.get(Booking, make_booking(world["user"]["worker"], slot))
        svc.cancel(db.session.get(User, world["user"]["worker"]), booking)
        assert booking.status == "cancelled" and not booking.called_to_incident


# --- moving ----------------------------------------------------------------------------------


def test_reschedule_moves_in_one_step(client, auth, app, world, slots):
    with app.app_context():
        booking_id = make_booking(world["user"]["worker"], slots["video"])
        db.session.commit()
    auth.as_role("worker")
    page = client.get(f"/bookings/{booking_id}/reschedule")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<legend>Choose a new time</legend>" in html and f'value="{slots["phone"]}"' in html
    response = client.post(f"/bookings/{booking_id}/reschedule", data={"slot_id": slots["phone"]})
    assert response.status_code == 302
    old, new = bookings_of(app, world["user"]["worker"])
    assert (old.status, old.active_slot_id) == ("cancelled", None)
    assert (new.status, new.active_slot_id) == ("booked", slots["phone"])
    assert response.headers["Location"] == f"/bookings/{new.id}"


def test_reschedule_to_a_taken_time_changes_nothing(client, auth, app, world, slots):
    with app.app_context():
        booking_id = make_booking(world["user"]["worker"], slots["video"])
        make_booking(world["user"]["worker2"], slots["phone"])
        db.session.commit()
    auth.as_role("worker")
    response = client.post(f"/bookings/{booking_id}/reschedule", data={"slot_id": slots["phone"]})
    assert response.status_code == 409 and TAKEN in response.get_data(as_text=True)
    [kept] = bookings_of(app, world["user"]["worker"])
    assert (kept.id, kept.status, kept.active_slot_id) == (booking_id, "booked", slots["video"])
    # Nothing chosen, or a slot of another organisation: refused too, nothing changes.
    assert client.post(f"/bookings/{booking_id}/reschedule").status_code == 422
    other = client.post(f"/bookings/{booking_id}/reschedule", data={"slot_id": slots["other_org"]})
    assert other.status_code == 422
    assert [b.id for b in bookings_of(app, world["user"]["worker"])] == [booking_id]


def test_reschedule_atomic_in_the_service(app, world, slots, monkeypatch):
    """The new booking fails at the constraint after the old one was cancelled: both undone."""
    with app.app_context():
        booking_id = make_booking(world["user"]["worker"], slots["video"])
        make_booking(world["user"]["worker2"], slots["phone"])
        db.session.commit()
        monkeypatch.setattr(svc, "slot_held", lambda _slot_id: False)
        worker = db.session.get(User, world["user"]["worker"])
        booking = db.session.get(Booking, booking_id)
        with pytest.raises(svc.SlotTaken):
            svc.reschedule(worker, booking, db.session.get(CounselingSlot, slots["phone"]))
        assert booking.status == "booked" and booking.active_slot_id == slots["video"]
        db.session.commit()
    row = booking_row(app, booking_id)
    assert (row.status, row.active_slot_id) == ("booked", slots["video"])


def test_reschedule_late_is_refused(client, auth, app, world, slots):
    with app.app_context():
        booking_id = make_booking(
            world["user"]["worker"], make_slot(world["user"]["counselor"], soon(3))
        )
        db.session.commit()
    auth.as_role("worker")
    assert "can no longer be moved" in client.get(f"/bookings/{booking_id}/reschedule").get_data(
        as_text=True
    )
    response = client.post(f"/bookings/{booking_id}/reschedule", data={"slot_id": slots["phone"]})
    assert response.status_code == 422 and "moved up to 24 hours before" in response.get_data(
        as_text=True
    )
    assert len(bookings_of(app, world["user"]["worker"])) == 1


# --- who sees a booking ----------------------------------------------------------------------


def test_the_calendar_file_downloads_for_its_owner(client, auth, app, world, slots):
    with app.app_context():
        booking_id = make_booking(world["user"]["worker"], slots["video"])
        db.session.commit()
    auth.as_role("worker")
    response = client.get(f"/bookings/{booking_id}/session.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert b"METHOD:REQUEST" in response.data and b"SUMMARY:Counselling session" in response.data


def test_the_owner_and_the_organisations_counsellors_see_a_booking(client, auth, app, world, slots):
    with app.app_context():
        booking_id = make_booking(world["user"]["worker"], slots["video"])
        db.session.commit()
    auth.as_role("worker")
    assert client.get(f"/bookings/{booking_id}").status_code == 200
    auth.logout()
    auth.as_role("counselor")
    page = client.get(f"/bookings/{booking_id}")
    assert page.status_code == 200 and "Worker A" in page.get_data(as_text=True)
    with app.app_context():
        events = list(
            db.session.scalars(sa.select(AuditEvent).where(AuditEvent.record_type == "bookings"))
        )
    assert [(e.action, e.record_id, e.subject_id, e.actor_id) for e in events] == [
        ("wellbeing.read", booking_id, world["user"]["worker"], world["user"]["counselor"])
    ]
    # A counsellor reads; they do not cancel or move the worker's booking from here.
    assert client.post(f"/bookings/{booking_id}/cancel").status_code == 404
    assert client.get(f"/bookings/{booking_id}/reschedule").status_code == 404
    assert client.get(f"/bookings/{booking_id}/session.ics").status_code == 404
    assert booking_row(app, booking_id).status == "booked"


@pytest.mark.parametrize(
    ("key", "org"),
    [
        ("worker2", "a"),
        ("worker", "b"),
        ("counselor", "b"),
        ("supervisor", "a"),
        ("hr", "a"),
        ("leader", "a"),
        ("funder", "city"),
        ("admin", "a"),
    ],
)
def test_everyone_else_gets_404(client, auth, app, world, slots, key, org):
    with app.app_context():
        booking_id = make_booking(world["user"]["worker"], slots["video"])
        db.session.commit()
    response = auth.login(email_for(key, org))
    assert response.status_code == 302
    for method, url in [
        ("GET", f"/bookings/{booking_id}"),
        ("GET", f"/bookings/{booking_id}/session.ics"),
        ("POST", f"/bookings/{booking_id}/cancel"),
        ("GET", f"/bookings/{booking_id}/reschedule"),
        ("POST", f"/bookings/{booking_id}/reschedule"),
    ]:
        response = client.open(url, method=method, data={"slot_id": slots["phone"]})
        assert response.status_code == 404, f"{method} {url} as {key}@{org}"
        assert "video.example.org" not in response.get_data(as_text=True)
    row = booking_row(app, booking_id)
    assert (row.status, row.active_slot_id) == ("booked", slots["video"])
    assert len(bookings_of(app, world["user"]["worker"])) == 1
