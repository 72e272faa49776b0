"""Workers log, change and delete shifts; the rules refuse bad shifts with a clear message."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Shift
from tests.factories import CHICAGO, local, make_shift, recent_start


def day_ago(days: int = 1) -> str:
    return (datetime.now(CHICAGO).date() - timedelta(days=days)).isoformat()


def form(world, **overrides) -> dict:
    """A valid shift form for the world's worker (site a1), yesterday 09:00-17:00."""
    data = {
        "day": day_ago(),
        "start_time": "09:00",
        "end_time": "17:00",
        "site_id": str(world["site"]["a1"]),
        "shift_type": "street_outreach",
        "break_minutes": "30",
        "conflicts_interrupted": "2",
        "individuals_engaged": "7",
        "referrals": "1",
        "note": "Mediated a dispute near the park.",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def shifts_of(app, worker_id) -> list[Shift]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Shift).where(Shift.worker_id == worker_id).order_by(Shift.id)
            )
        )


def test_new_shift_form_has_sensible_defaults(client, world, auth):
    auth.as_role("worker")
    page = client.get("/shifts/new").get_data(as_text=True)
    assert 'type="date"' in page and 'type="time"' in page
    # the worker's own site is preselected
    assert f'<option selected value="{world["site"]["a1"]}">Dutchtown</option>' in page or (
        f'value="{world["site"]["a1"]}" selected' in page
    )
    today = datetime.now(CHICAGO).date()
    assert today.isoformat() in page or (today - timedelta(days=1)).isoformat() in page
    for label in (
        "Date",
        "Start",
        "End",
        "Site",
        "Type",
        "Unpaid break (minutes)",
        "Conflicts interrupted",
        "Individuals engaged",
        "Referrals made",
        "Note",
    ):
        assert f">{label}</label>" in page


def test_worker_logs_a_shift(client, world, auth, app):
    auth.as_role("worker")
    response = client.post("/shifts/new", data=form(world))
    assert response.status_code == 302
    assert response.headers["Location"] == "/shifts"
    page = client.get("/shifts").get_data(as_text=True)
    assert "Shift saved: 7.50 hours, waiting for approval." in page
    assert "Waiting for approval" in page
    [shift] = shifts_of(app, world["user"]["worker"])
    assert shift.worked_minutes == 450
    assert shift.status == "submitted"
    assert shift.organisation_id == world["org"]["a"]
    assert (shift.conflicts_interrupted, shift.individuals_engaged, shift.referrals) == (2, 7, 1)
    # stored in UTC, shown in Chicago time
    yesterday = datetime.fromisoformat(day_ago()).date()
    assert shift.start_at == local(yesterday, "09:00")
    detail = client.get(f"/shifts/{shift.id}").get_data(as_text=True)
    assert "09:00" in detail and "17:00" in detail and "7.50" in detail


def test_overnight_shift_ends_next_day(client, world, auth, app):
    auth.as_role("worker")
    assert (
        client.post(
            "/shifts/new",
            data=form(world, day=day_ago(2), start_time="22:00", end_time="06:00", break_minutes=0),
        ).status_code
        == 302
    )
    [shift] = shifts_of(app, world["user"]["worker"])
    assert shift.end_at - shift.start_at == timedelta(hours=8)


def test_shift_on_the_night_clocks_go_back_is_nine_hours(client, world, auth, app):
    auth.as_role("worker")
    response = client.post(
        "/shifts/new",
        data=form(world, day="2025-11-01", start_time="22:00", end_time="06:00", break_minutes=0),
    )
    assert response.status_code == 302
    [shift] = shifts_of(app, world["user"]["worker"])
    assert shift.worked_minutes == 9 * 60


def test_skipped_spring_hour_gets_a_clear_message(client, world, auth, app):
    auth.as_role("worker")
    response = client.post(
        "/shifts/new", data=form(world, day="2026-03-08", start_time="02:30", end_time="08:00")
    )
    assert response.status_code == 422
    assert "the clocks skip that hour" in response.get_data(as_text=True)
    assert shifts_of(app, world["user"]["worker"]) == []


REFUSALS = [
    ({"end_time": "09:00"}, "The end must be after the start."),
    ({"start_time": "06:00", "end_time": "23:00"}, "A shift can last at most 16 hours"),
    ({"break_minutes": 480}, "The break must be shorter than the shift."),
    ({"break_minutes": 600}, "The break must be shorter than the shift."),
    ({"day": "DAYS_AHEAD_3"}, "A shift can start at most one day from now."),
    ({"conflicts_interrupted": -1}, "Enter a whole number, zero or more."),
    ({"individuals_engaged": -5}, "Enter a whole number, zero or more."),
    ({"referrals": -2}, "Enter a whole number, zero or more."),
    ({"break_minutes": -10}, "Enter a whole number, zero or more."),
    ({"referrals": "two"}, "Not a valid integer value."),
    ({"site_id": "SITE_B1"}, "Not a valid choice."),
    ({"site_id": "SITE_CLOSED"}, "Not a valid choice."),
    ({"shift_type": "party"}, "Not a valid choice."),
    ({"day": ""}, "Enter the date the shift started."),
    ({"day": "31/02/2026"}, "Enter a date like 2026-11-26."),
    ({"day": "2026-02-30"}, "Enter a date like 2026-11-26."),
    ({"start_time": ""}, "Enter the start time."),
    ({"end_time": "25:00"}, "Enter a time like 21:30."),
    ({"note": "x" * 2001}, "Keep the note under 2,000 characters."),
]


@pytest.mark.parametrize(("overrides", "message"), REFUSALS)
def test_bad_shift_is_refused_with_a_message_and_kept(client, world, auth, app, overrides, message):
    auth.as_role("worker")
    replacements = {
        "DAYS_AHEAD_3": (datetime.now(CHICAGO).date() + timedelta(days=3)).isoformat(),
        "SITE_B1": str(world["site"]["b1"]),
        "SITE_CLOSED": str(world["site"]["a_closed"]),
    }
    overrides = {k: replacements.get(str(v), v) for k, v in overrides.items()}
    data = form(world, **overrides)
    response = client.post("/shifts/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in page
    assert message in page
    assert data["note"][:40] in page  # what was typed is kept
    assert shifts_of(app, world["user"]["worker"]) == []


def test_overlapping_shift_is_refused(client, world, auth, app):
    with app.app_context():
        make_shift(world["user"]["worker"], recent_start(1, "12:00"), hours=4)
        db.session.commit()
    auth.as_role("worker")
    response = client.post("/shifts/new", data=form(world))  # 09:00-17:00 the same day
    assert response.status_code == 422
    assert "This overlaps your shift of" in response.get_data(as_text=True)
    assert len(shifts_of(app, world["user"]["worker"])) == 1


def test_touching_shifts_do_not_overlap(client, world, auth, app):
    with app.app_context():
        make_shift(world["user"]["worker"], recent_start(1, "17:00"), hours=4)
        db.session.commit()
    auth.as_role("worker")
    assert client.post("/shifts/new", data=form(world)).status_code == 302


def test_another_workers_shift_does_not_overlap(client, world, auth, app):
    with app.app_context():
        make_shift(world["user"]["worker2"], recent_start(1, "09:00"), hours=8)
        db.session.commit()
    auth.as_role("worker")
    assert client.post("/shifts/new", data=form(world)).status_code == 302


def test_shift_list_is_newest_first_paginated_and_filtered_by_month(client, world, auth, app):
    app.config["SHIFTS_PER_PAGE"] = 3
    with app.app_context():
        for days in range(1, 6):
            make_shift(
                world["user"]["worker"],
                recent_start(days * 2, "10:00"),
                hours=6,
                note=f"marker-{days}",
            )
        make_shift(
            world["user"]["worker"],
            local(datetime(2025, 3, 15).date(), "10:00"),
            note="march-marker",
        )
        make_shift(world["user"]["worker2"], recent_start(1, "10:00"), note="someone-else")
        db.session.commit()
    auth.as_role("worker")
    first = client.get("/shifts").get_data(as_text=True)
    assert "Page 1 of 2" in first
    shown = [line for line in first.splitlines() if 'class="card-link"' in line]
    assert len(shown) == 3
    ids = [
        s.id
        for s in sorted(
            shifts_of(app, world["user"]["worker"]), key=lambda s: s.start_at, reverse=True
        )
    ]
    assert first.index(f"/shifts/{ids[0]}") < first.index(f"/shifts/{ids[1]}")
    second = client.get("/shifts?page=2").get_data(as_text=True)
    assert f"/shifts/{ids[-1]}" in second
    march = client.get("/shifts?month=2025-03").get_data(as_text=True)
    assert f"/shifts/{ids[-1]}" in march and f"/shifts/{ids[0]}" not in march
    bad = client.get("/shifts?month=nonsense")
    assert bad.status_code == 200
    assert "Choose a month like" in bad.get_data(as_text=True)
    assert client.get("/shifts?page=99").status_code == 200


def test_worker_edits_a_submitted_shift(client, world, auth, app):
    with app.app_context():
        shift_id = make_shift(world["user"]["worker"], recent_start(1, "09:00"), hours=8)
        db.session.commit()
    auth.as_role("worker")
    page = client.get(f"/shifts/{shift_id}/edit").get_data(as_text=True)
    assert 'value="09:00"' in page and 'value="17:00"' in page
    response = client.post(f"/shifts/{shift_id}/edit", data=form(world, end_time="18:00"))
    assert response.status_code == 302
    [shift] = shifts_of(app, world["user"]["worker"])
    assert shift.worked_minutes == 9 * 60 - 30
    assert shift.status == "submitted"


def test_edit_keeps_own_times_without_overlapping_itself(client, world, auth, app):
    with app.app_context():
        shift_id = make_shift(world["user"]["worker"], recent_start(1, "09:00"), hours=8)
        db.session.commit()
    auth.as_role("worker")
    assert client.post(f"/shifts/{shift_id}/edit", data=form(world)).status_code == 302


def test_refused_edit_changes_nothing(client, world, auth, app):
    with app.app_context():
        shift_id = make_shift(world["user"]["worker"], recent_start(1, "09:00"), hours=8)
        db.session.commit()
    auth.as_role("worker")
    response = client.post(f"/shifts/{shift_id}/edit", data=form(world, break_minutes=900))
    assert response.status_code == 422
    [shift] = shifts_of(app, world["user"]["worker"])
    assert shift.worked_minutes == 480


def test_returned_shift_shows_reason_and_is_resubmitted(client, world, auth, app):
    with app.app_context():
        shift_id = make_shift(
            world["user"]["worker"],
            recent_start(1, "09:00"),
            hours=8,
            status="returned",
            return_reason="Break missing: add your lunch.",
            reviewed_by_id=world["user"]["supervisor"],
        )
        db.session.commit()
    auth.as_role("worker")
    home = client.get("/").get_data(as_text=True)
    assert "1 shift returned to you" in home
    detail = client.get(f"/shifts/{shift_id}").get_data(as_text=True)
    assert "Break missing: add your lunch." in detail
    assert "Fix and resubmit" in detail
    assert "Break missing: add your lunch." in client.get(f"/shifts/{shift_id}/edit").get_data(
        as_text=True
    )
    response = client.post(f"/shifts/{shift_id}/edit", data=form(world), follow_redirects=True)
    assert "Shift resubmitted for approval." in response.get_data(as_text=True)
    [shift] = shifts_of(app, world["user"]["worker"])
    assert shift.status == "submitted"


def test_approved_shift_is_read_only(client, world, auth, app):
    with app.app_context():
        shift_id = make_shift(
            world["user"]["worker"], recent_start(1, "09:00"), hours=8, status="approved"
        )
        db.session.commit()
    auth.as_role("worker")
    detail = client.get(f"/shifts/{shift_id}").get_data(as_text=True)
    assert "Approved shifts can no longer be changed" in detail
    assert f"/shifts/{shift_id}/edit" not in detail
    response = client.post(
        f"/shifts/{shift_id}/edit", data=form(world, end_time="12:00"), follow_redirects=True
    )
    assert "This shift is approved and can no longer be changed." in response.get_data(as_text=True)
    response = client.post(f"/shifts/{shift_id}/delete", follow_redirects=True)
    assert "can no longer be deleted" in response.get_data(as_text=True)
    [shift] = shifts_of(app, world["user"]["worker"])
    assert shift.worked_minutes == 480 and shift.status == "approved"


def test_worker_deletes_a_submitted_shift(client, world, auth, app):
    with app.app_context():
        shift_id = make_shift(world["user"]["worker"], recent_start(1, "09:00"))
        db.session.commit()
    auth.as_role("worker")
    response = client.post(f"/shifts/{shift_id}/delete", follow_redirects=True)
    assert "Shift deleted." in response.get_data(as_text=True)
    assert shifts_of(app, world["user"]["worker"]) == []


def test_delete_is_post_only(client, world, auth, app):
    with app.app_context():
        shift_id = make_shift(world["user"]["worker"], recent_start(1, "09:00"))
        db.session.commit()
    auth.as_role("worker")
    assert client.get(f"/shifts/{shift_id}/delete").status_code == 405
    assert len(shifts_of(app, world["user"]["worker"])) == 1


@pytest.mark.parametrize("action", ["show", "edit", "delete"])
def test_another_workers_shift_is_404_and_untouched(client, world, auth, app, action):
    with app.app_context():
        other = make_shift(world["user"]["worker2"], recent_start(1, "09:00"), note="private")
        other_org = make_shift(world["user"]["worker_b"], recent_start(1, "09:00"))
        db.session.commit()
    auth.as_role("worker")
    for shift_id in (other, other_org, 999999):
        if action == "show":
            response = client.get(f"/shifts/{shift_id}")
        elif action == "edit":
            response = client.post(f"/shifts/{shift_id}/edit", data=form(world))
        else:
            response = client.post(f"/shifts/{shift_id}/delete")
        assert response.status_code == 404
        assert "private" not in response.get_data(as_text=True)
    assert len(shifts_of(app, world["user"]["worker2"])) == 1
    assert len(shifts_of(app, world["user"]["worker_b"])) == 1
    assert shifts_of(app, world["user"]["worker"]) == []


def test_home_shows_this_periods_hours(client, world, auth, app):
    with app.app_context():
        from portal.shifts.service import current_period

        period = current_period(world["org"]["a"])
        start = local(period.start, "09:00")
        make_shift(world["user"]["worker"], start, hours=8, status="approved")
        make_shift(
            world["user"]["worker"], start + timedelta(days=1), hours=6.5, status="submitted"
        )
        make_shift(
            world["user"]["worker"], start - timedelta(days=1), hours=5, status="approved"
        )  # the previous period
        db.session.commit()
    auth.as_role("worker")
    home = client.get("/").get_data(as_text=True)
    assert "Log a shift" in home
    assert "<dd>8.00</dd>" in home  # approved this period
    assert "<dd>6.50</dd>" in home  # waiting for approval


def test_home_runs_a_fixed_number_of_queries(client, world, auth, app, count_queries):
    auth.as_role("worker")
    with count_queries() as few:
        client.get("/")
    with app.app_context():
        for days in range(1, 40):
            make_shift(world["user"]["worker"], recent_start(days, "10:00"), hours=4)
        db.session.commit()
    with count_queries() as many:
        client.get("/")
    assert few() == many()
