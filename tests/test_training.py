"""The training ledger: the completion rule, sessions as paid training shifts, who is due,
reminders sent once, leaders' completion rates with small numbers hidden, and refusals on the
form (422 with the message, nothing saved lost)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Shift,
    TrainingAttendance,
    TrainingCourse,
    TrainingReminder,
    TrainingRequirement,
    TrainingSession,
    User,
)
from portal.timeutil import local_today
from portal.training import ledger
from tests.factories import local, make_rate, make_shift, make_statement, make_user


def today_in(app) -> date:
    """Today in the portal's time zone."""
    with app.app_context():
        return local_today()


def text(response) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(words).split())


# --- the completion rule (pure) ---------------------------------------------------------------


def test_hours_spread_over_sessions_complete_a_course_on_the_day_they_are_reached():
    today = date(2026, 6, 1)
    days = [(date(2026, 3, 2), 8 * 60), (date(2026, 3, 3), 8 * 60), (date(2026, 3, 9), 24 * 60)]
    p = ledger.progress(days[:2], 40 * 60, None, today)
    assert (p.completed_on, p.minutes_towards_next) == (None, 16 * 60)
    p = ledger.progress(days, 40 * 60, None, today)
    assert (p.completed_on, p.expires_on) == (date(2026, 3, 9), None)
    assert ledger.standing(p, date(2026, 3, 1), 90, today).status == "done"


def test_a_renewed_course_expires_and_hours_do_not_add_up_across_its_validity():
    yearly = 12
    today = date(2026, 6, 1)
    # two 4 h halves 18 months apart are not one 8 h course
    p = ledger.progress([(date(2024, 10, 1), 240), (date(2026, 4, 1), 240)], 480, yearly, today)
    assert p.completed_on is None and p.minutes_towards_next == 240
    p = ledger.progress([(date(2025, 6, 20), 480)], 480, yearly, today)
    assert p.expires_on == date(2026, 6, 20)
    assert ledger.standing(p, None, None, today).status == "due_soon"
    assert ledger.standing(p, None, None, date(2026, 6, 20)).status == "overdue"
    assert ledger.standing(p, None, None, date(2026, 5, 1)).status == "done"
    # renewed: the new completion's date starts the new validity
    p = ledger.progress([(date(2025, 6, 20), 480), (date(2026, 6, 1), 480)], 480, yearly, today)
    assert p.expires_on == date(2027, 6, 1)
    assert ledger.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_new_staff_are_due_n_days_after_hire():
    p = ledger.progress([], 40 * 60, None, date(2026, 6, 1))
    hired = date(2026, 5, 1)
    assert ledger.standing(p, hired, 90, date(2026, 6, 1)).status == "never_done"
    assert ledger.standing(p, hired, 90, date(2026, 7, 15)).status == "due_soon"
    s = ledger.standing(p, hired, 90, date(2026, 8, 1))
    assert (s.status, s.due_on) == ("overdue", date(2026, 7, 30))
    assert ledger.standing(p, hired, None, date(2027, 1, 1)).status == "never_done"


# --- helpers ----------------------------------------------------------------------------------


def add_course(app, org_id, name="First aid", hours="8", renewal=12, title="", due=None):
    with app.app_context():
        course = TrainingCourse(organisation_id=org_id, name=name, hours=Decimal(hours),
                                renewal_months=renewal, description="")  # fmt: skip
        db.session.add(course)
        db.session.flush()
        db.session.add(TrainingRequirement(course_id=course.id, job_title=title,
                                           due_within_days=due))  # fmt: skip
        db.session.commit()
        return course.id


def session_form(world, course_id, day, start="09:00", end="17:00", workers=(), **extra):
    return {"course_id": course_id, "site_id": world["site"]["a1"], "day": day.isoformat(),
            "start_time": start, "end_time": end, "break_minutes": "0",
            "trainer": "Dr. Rivera", "worker_ids": [str(w) for w in workers], **extra}  # fmt: skip


# --- HR: courses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hours": "0"}, "Hours must be more than 0."),
        ({"hours": "abc"}, "Enter a number like 8."),
        ({"hours": "5000"}, "At most 1,000 hours"),
        ({"hours": ""}, "Enter the hours it takes to complete"),
        ({"renewal_months": "0"}, "Renew every 1 to 120 months"),
        ({"renewal_months": "twelve"}, "Enter a whole number, like 12."),
        ({"name": "  "}, "Enter the course's name."),
        ({"name": "first AID"}, "There is already a course named"),
    ],
)
def test_a_bad_course_is_refused_on_the_form_with_its_input_kept(
    client, auth, world, app, fields, message
):
    add_course(app, world["org"]["a"])
    auth.as_role("hr")
    data = {"name": "Stop the Bleed", "hours": "8", "renewal_months": "12",
            "description": "Tourniquets", "active": "y", **fields}  # fmt: skip
    response = client.post("/hr/training/courses", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and message in text(response)
    assert "Tourniquets" in page  # input kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingCourse)) == 1


def test_hr_adds_a_course_and_requires_it_of_a_job_title(client, auth, world, app):
    auth.as_role("hr")
    response = client.post("/hr/training/courses", data={
        "name": "CVI foundations", "hours": "40", "renewal_months": "", "active": "y"})
    assert response.status_code == 302
    course_url = response.headers["Location"]
    course_id = int(course_url.rsplit("/", 1)[1])
    bad = client.post(f"{course_url}/requirements",
                      data={"job_title": "Violence interrupter", "due_within_days": "-3"})
    assert bad.status_code == 422 and "Enter a whole number" in text(bad)
    ok = client.post(f"{course_url}/requirements",
                     data={"job_title": "Violence interrupter", "due_within_days": "90"})
    assert ok.status_code == 302
    again = client.post(f"{course_url}/requirements",
                        data={"job_title": "violence interrupter", "due_within_days": ""})
    assert again.status_code == 422 and "already required" in text(again)
    page = text(client.get("/hr/training"))
    assert "CVI foundations" in page and "Violence interrupter (new staff within 90 days)" in page
    with app.app_context():
        [req] = db.session.scalars(sa.select(TrainingRequirement)).all()
        assert (req.course_id, req.due_within_days) == (course_id, 90)


# --- HR: sessions -----------------------------------------------------------------------------


def test_attendance_becomes_an_approved_training_shift_in_the_worker_s_pay(
    client, auth, world, app
):
    u = world["user"]
    course = add_course(app, world["org"]["a"], "CVI foundations", "40", None)
    with app.app_context():
        make_rate(u["worker"], "20.00")
        db.session.commit()
    day = today_in(app) - timedelta(days=1)
    auth.as_role("hr")
    response = client.post("/hr/training/sessions/new",
                           data=session_form(world, course, day, workers=[u["worker"]]))
    assert response.status_code == 302, text(response)
    followed = text(client.get(response.headers["Location"]))
    assert "Recorded 1 attendee" in followed and "Worker A" in followed
    with app.app_context():
        [shift] = db.session.scalars(sa.select(Shift)).all()
        hr = db.session.get(User, u["hr"])
        assert (shift.shift_type, shift.status, shift.worked_minutes) == ("training", "approved",
                                                                         480)  # fmt: skip
        assert shift.reviewed_by_id == hr.id and shift.site_id == world["site"]["a1"]
    auth.logout()
    auth.as_role("worker")
    pay = text(client.get("/pay"))
    assert "$160.00" in pay  # 8 h x $20 in this period's figures
    mine = text(client.get("/training"))
    assert "CVI foundations" in mine and "8.00 h so far" in mine and "Dr. Rivera" in mine


def test_an_overlapping_shift_refuses_that_attendee_and_keeps_the_rest(client, auth, world, app):
    u = world["user"]
    course = add_course(app, world["org"]["a"])
    day = today_in(app) - timedelta(days=2)
    with app.app_context():
        make_shift(u["worker2"], local(day, "12:00"), hours=6, status="approved")
        db.session.commit()
    auth.as_role("hr")
    response = client.post("/hr/training/sessions/new", data=session_form(
        world, course, day, workers=[u["worker"], u["worker2"]]))
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Worker2 A was not added: they already have a shift" in page
    assert "12:00–18:00 (Street outreach)" in page and "Recorded 1 attendee" in page
    with app.app_context():
        who = set(db.session.scalars(sa.select(TrainingAttendance.worker_id)))
        assert who == {u["worker"]}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"end_time": "09:00"}, "The end must be after the start."),
        ({"start_time": "25:00"}, "Enter a time like 21:30."),
        ({"course_id": ""}, "Choose one of your organisation's courses."),
        ({"trainer": ""}, "Enter who led the session."),
        ({"break_minutes": "600"}, "The break must be shorter than the session."),
        ({"day": "2099-01-01"}, "Record a session once it is held"),
        ({"worker_ids": ["x1"]}, "Invalid choice"),
    ],
)
def test_a_bad_session_is_refused_on_the_form_and_nothing_is_saved(
    client, auth, world, app, fields, message
):
    course = add_course(app, world["org"]["a"])
    auth.as_role("hr")
    data = session_form(world, course, today_in(app) - timedelta(days=1),
                        workers=[world["user"]["worker"]])
    data.update(fields)
    response = client.post("/hr/training/sessions/new", data=data)
    assert response.status_code == 422
    assert message in text(response)
    assert 'role="alert"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingSession)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 0


def test_removing_an_attendance_removes_its_shift_until_it_is_paid(client, auth, world, app):
    u = world["user"]
    course = add_course(app, world["org"]["a"])
    auth.as_role("hr")
    response = client.post("/hr/training/sessions/new", data=session_form(
        world, course, today_in(app) - timedelta(days=1), workers=[u["worker"], u["worker2"]]))
    with app.app_context():
        first, second = db.session.scalars(
            sa.select(TrainingAttendance).order_by(TrainingAttendance.id)).all()
        period, _statement = make_statement(u["worker2"])
        db.session.get(Shift, second.shift_id).paid_in_period_id = period
        db.session.commit()
        first_id, second_id, first_shift = first.id, second.id, first.shift_id
    removed = client.post(f"/hr/training/attendances/{first_id}/remove")
    assert removed.status_code == 302
    assert "Removed Worker A" in text(client.get(removed.headers["Location"]))
    refused = client.post(f"/hr/training/attendances/{second_id}/remove")
    page = text(client.get(refused.headers["Location"]))
    assert "already paid, on the statement of Jan 4–Jan 17, 2026" in page
    with app.app_context():
        assert db.session.get(Shift, first_shift) is None
        assert db.session.get(TrainingAttendance, second_id) is not None
    assert response.status_code == 302


# --- who is due, reminders ----------------------------------------------------------------------


def attend(app, world, course_id, worker_key, day, hours=8):
    """A session of a course attended by one worker (with its shift), straight in the database."""
    with app.app_context():
        start = local(day, "09:00")
        worker = db.session.get(User, world["user"][worker_key])
        session = TrainingSession(organisation_id=worker.organisation_id, course_id=course_id,
                                  site_id=worker.site_id, start_at=start,
                                  end_at=start + timedelta(hours=hours), trainer="T")
        db.session.add(session)
        db.session.flush()
        shift = make_shift(worker.id, start, hours=hours, status="approved",
                           shift_type="training")
        db.session.add(TrainingAttendance(session_id=session.id, worker_id=worker.id,
                                          shift_id=shift))
        db.session.commit()


def test_hr_sees_who_is_due_filtered_and_as_csv(client, auth, world, app):
    today = today_in(app)
    course = add_course(app, world["org"]["a"], "First aid", "8", 12)
    attend(app, world, course, "worker", today - timedelta(days=350))  # expires in ~15 days
    attend(app, world, course, "worker2", today - timedelta(days=30))
    auth.as_role("hr")
    page = text(client.get("/hr/training/due"))
    assert page.index("Worker A") < page.index("Worker2 A")  # due soon before done
    assert "Due soon" in page and "Never done" in page  # worker3 never took it
    site = text(client.get(f"/hr/training/due?site={world['site']['a2']}"))
    assert "Worker3 A" in site and "Worker2 A" not in site
    assert client.get("/hr/training/due?site=abc&status=nonsense").status_code == 200
    csv = client.get("/hr/training/due.csv?status=due_soon")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 2 and "Worker A" in lines[1] and ",due_soon," in lines[1]


def test_reminders_go_out_once_per_worker_course_and_due_date(runner, world, app):
    today = today_in(app)
    course = add_course(app, world["org"]["a"], "First aid", "8", 12)
    attend(app, world, course, "worker", today - timedelta(days=350))
    attend(app, world, course, "worker2", today - timedelta(days=400))  # overdue
    first = runner.invoke(args=["training-reminders"])
    assert first.exit_code == 0, first.output
    assert "Training reminders sent: 2." in first.output
    again = runner.invoke(args=["training-reminders"])
    assert "Training reminders sent: 0." in again.output
    with app.app_context():
        rows = db.session.scalars(sa.select(TrainingReminder)).all()
        assert {(r.worker_id, r.status) for r in rows} == {
            (world["user"]["worker"], "due_soon"), (world["user"]["worker2"], "overdue")}
    import os

    mails = os.listdir(app.config["MAIL_DIR"])
    assert len(mails) == 3  # two workers and the one HR summary
    assert any("training-overdue-first-aid" in m for m in mails)


def test_a_claimed_reminder_is_not_sent_by_an_overlapping_run(runner, world, app):
    today = today_in(app)
    course = add_course(app, world["org"]["a"], "First aid", "8", 12)
    attend(app, world, course, "worker", today - timedelta(days=400))
    with app.app_context():  # another run claimed it a moment ago
        from portal.training import ledger as lg

        due = lg.add_months(today - timedelta(days=400), 12)
        db.session.add(TrainingReminder(worker_id=world["user"]["worker"], course_id=course,
                                        due_on=due, status="overdue"))
        db.session.commit()
    result = runner.invoke(args=["training-reminders"])
    assert "Training reminders sent: 0." in result.output


# --- the worker and the leader ------------------------------------------------------------------


def test_the_worker_sees_only_their_own_training(client, auth, world, app):
    course = add_course(app, world["org"]["a"], "First aid", "8", 12)
    attend(app, world, course, "worker2", today_in(app) - timedelta(days=3))
    auth.as_role("worker")
    page = text(client.get("/training"))
    assert "First aid" in page and "Never done" in page and "No sessions recorded yet." in page


def test_leaders_see_rates_with_small_groups_and_their_complement_hidden(
    client, auth, world, app
):
    org, a1, a2 = world["org"]["a"], world["site"]["a1"], world["site"]["a2"]
    course = add_course(app, org, "First aid", "8", 12)
    with app.app_context():
        for i in range(12):
            make_user(f"Big {i}", f"big{i}@a.example.org", {"worker"}, org, a1)
        for i in range(2):
            make_user(f"Small {i}", f"small{i}@a.example.org", {"worker"}, org, a2)
        db.session.commit()
    for i in range(6):
        with app.app_context():
            key = f"big{i}"
            world["user"][key] = db.session.scalar(
                sa.select(User.id).where(User.email == f"{key}@a.example.org"))
        attend(app, world, course, key, today_in(app) - timedelta(days=10 + i))
    auth.as_role("leader")
    page = text(client.get("/training/completion"))
    # a1: 2 world workers + 12 = 14; a2: worker3 + 2 = 3 (hidden); so the total is hidden too
    assert "Dutchtown 14 6 42.9%" in page
    assert "Walnut Park 3 hidden (small numbers) hidden (small numbers)" in page
    assert "All sites 17 hidden (small numbers)" in page
    csv = client.get("/training/completion.csv").get_data(as_text=True)
    assert "Walnut Park,3,hidden (small numbers)" in csv and "Small" not in csv
    assert client.get("/training/completion").status_code == 200


def test_other_organisations_training_records_are_404(client, auth, world, app):
    course_b = add_course(app, world["org"]["b"], "B course")
    attend(app, world, course_b, "worker_b", today_in(app) - timedelta(days=1))
    with app.app_context():
        session_b = db.session.scalar(sa.select(TrainingSession.id))
        attendance_b = db.session.scalar(sa.select(TrainingAttendance.id))
        req_b = db.session.scalar(sa.select(TrainingRequirement.id))
    auth.as_role("hr")
    for method, url in [
        ("GET", f"/hr/training/courses/{course_b}"),
        ("POST", f"/hr/training/courses/{course_b}"),
        ("POST", f"/hr/training/courses/{course_b}/requirements"),
        ("POST", f"/hr/training/courses/{course_b}/requirements/{req_b}/remove"),
        ("GET", f"/hr/training/sessions/{session_b}"),
        ("POST", f"/hr/training/sessions/{session_b}"),
        ("POST", f"/hr/training/attendances/{attendance_b}/remove"),
    ]:
        assert client.open(url, method=method, data={"name": "x"}).status_code == 404, url
    bad = client.post("/hr/training/sessions/new", data=session_form(
        world, course_b, today_in(app) - timedelta(days=1), workers=[world["user"]["worker_b"]]))
    assert bad.status_code == 422 and "Choose one of your organisation's courses." in text(bad)
    assert "B course" not in text(client.get("/hr/training"))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingAttendance)) == 1
