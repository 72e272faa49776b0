"""Workers see their pay and why; HR closes periods into frozen statements and a payroll CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import PayPeriod, PayRate, PayStatement, Shift
from portal.pay import service as pay_service
from portal.pay.periods import Period
from tests.factories import local, make_rate, make_shift, make_user


def periods(app, org_id):
    """The current period and the one before it."""
    with app.app_context():
        policy = pay_service.load_policy(org_id)
        from portal.timeutil import local_today

        current = policy.period_of(local_today())
    previous = Period(current.start - timedelta(days=14), current.start)
    return current, previous


def at(period: Period, day: int, clock: str = "09:00"):
    return local(period.start + timedelta(days=day), clock)


def test_pay_page_shows_this_period_so_far(client, world, auth, app):
    current, _ = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(current, 0, "00:30"), hours=8, status="approved")
        make_shift(w, at(current, 0, "12:00"), hours=2.5, status="approved")
        make_shift(w, at(current, 0, "18:00"), hours=3, status="submitted", note="pending one")
        db.session.commit()
    auth.as_role("worker")
    page = client.get("/pay").get_data(as_text=True)
    assert "$20.00 an hour" in page
    assert "$210.00" in page  # 10.5 approved hours x $20
    assert "10.50" in page
    assert "Pending approval" in page and "Not counted above" in page
    assert "Why is this my pay?" in page
    assert "No closed statements yet." in page


def test_pay_page_without_a_rate_explains_instead_of_failing(client, world, auth, app):
    current, _ = periods(app, world["org"]["a"])
    with app.app_context():
        make_shift(world["user"]["worker"], at(current, 0, "00:30"), hours=4, status="approved")
        db.session.commit()
    auth.as_role("worker")
    response = client.get("/pay")
    assert response.status_code == 200
    assert "Your pay cannot be worked out yet" in response.get_data(as_text=True)
    assert "HR has not set your pay rate yet." in response.get_data(as_text=True)


def seed_previous_period(app, world):
    """Rates for two workers and approved shifts in the previous period; 45 h for worker."""
    _, previous = periods(app, world["org"]["a"])
    u = world["user"]
    with app.app_context():
        make_rate(u["worker"], "20.00")
        make_rate(u["worker2"], "18.00")
        ids = [
            make_shift(u["worker"], at(previous, d), hours=9, status="approved")
            for d in range(1, 6)
        ]  # Mon-Fri of the first week: 45 h
        ids.append(make_shift(u["worker2"], at(previous, 8), hours=8, status="approved"))
        db.session.commit()
    return previous, ids


def close(client, period):
    return client.post(
        "/hr/periods/close", data={"period_start": period.start.isoformat()}, follow_redirects=True
    )


def test_hr_closes_a_period_and_statements_are_frozen(client, world, auth, app):
    previous, ids = seed_previous_period(app, world)
    auth.as_role("hr")
    page = client.get("/hr/periods").get_data(as_text=True)
    assert f"Next to close: {previous.start:%a %b %-d}" in page
    assert "$950.00" in page  # 40 x 20 + 5 x 30
    assert "$144.00" in page  # 8 x 18
    response = close(client, previous)
    text = response.get_data(as_text=True)
    assert "Closed the period" in text and "Download statements (CSV)" in text
    with app.app_context():
        statements = {s.worker_id: s for s in db.session.scalars(sa.select(PayStatement))}
        st_ = statements[world["user"]["worker"]]
        assert (st_.hours, st_.regular_hours, st_.overtime_hours) == (
            Decimal("45.00"),
            Decimal("40.00"),
            Decimal("5.00"),
        )
        assert (st_.regular_pay, st_.overtime_premium, st_.gross_pay) == (
            Decimal("900.00"),
            Decimal("50.00"),
            Decimal("950.00"),
        )
        assert st_.effective_hourly == Decimal("21.11")
        assert st_.rate_text == "$20.00/h"
        assert statements[world["user"]["worker2"]].gross_pay == Decimal("144.00")
        assert all(
            s.paid_in_period_id is not None
            for s in db.session.scalars(sa.select(Shift).where(Shift.id.in_(ids)))
        )
        # frozen: a later rate change does not touch the stored statement
        make_rate(world["user"]["worker"], "30.00", since=previous.start)
        db.session.commit()
        assert db.session.get(PayStatement, st_.id).gross_pay == Decimal("950.00")


def test_closing_twice_is_refused_clearly(client, world, auth, app):
    previous, _ = seed_previous_period(app, world)
    auth.as_role("hr")
    close(client, previous)
    again = close(client, previous).get_data(as_text=True)
    assert "This period is already closed. Nothing was changed." in again
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayPeriod)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayStatement)) == 2


def test_closing_with_shifts_waiting_for_approval_lists_them(client, world, auth, app):
    previous, _ = seed_previous_period(app, world)
    with app.app_context():
        make_shift(world["user"]["worker3"], at(previous, 9), hours=6, status="submitted")
        make_rate(world["user"]["worker3"], "19.00")
        db.session.commit()
    auth.as_role("hr")
    page = client.get("/hr/periods").get_data(as_text=True)
    assert "1 shift still waits for approval." in page
    assert "Worker3 A" in page
    assert "Close this period" not in page
    response = close(client, previous).get_data(as_text=True)
    assert "1 shift(s) in this period still wait for approval" in response
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayPeriod)) == 0


def test_a_worker_without_rate_is_left_out_and_the_close_goes_ahead(client, world, auth, app):
    """Once refused for everyone (payroll stuck on one missing rate): tests/test_pay_unstuck.py."""
    previous, _ = seed_previous_period(app, world)
    with app.app_context():
        make_shift(world["user"]["worker3"], at(previous, 9), hours=6, status="approved")
        db.session.commit()
    auth.as_role("hr")
    assert "left out of this close for a missing pay rate" in client.get("/hr/periods").text
    assert "1 worker was left out" in close(client, previous).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayStatement)) == 2


def test_a_period_that_has_not_ended_cannot_close(client, world, auth, app):
    current, _ = periods(app, world["org"]["a"])
    with app.app_context():
        make_rate(world["user"]["worker"])
        make_shift(world["user"]["worker"], at(current, 0, "00:30"), hours=4, status="approved")
        db.session.commit()
    auth.as_role("hr")
    assert "The figures below are so far" in client.get("/hr/periods").get_data(as_text=True)
    assert "close it after that" in close(client, current).get_data(as_text=True)


def test_late_shift_is_paid_as_an_adjustment_with_its_overtime(client, world, auth, app):
    previous, _ = seed_previous_period(app, world)
    auth.as_role("hr")
    close(client, previous)
    # approved after its period closed: 3 more hours in the 45-hour week, all overtime at $30
    with app.app_context():
        late = make_shift(
            world["user"]["worker"], at(previous, 6, "08:00"), hours=3, status="approved"
        )
        db.session.commit()
        policy = pay_service.load_policy(world["org"]["a"])
        nxt = pay_service.next_period_to_close(world["org"]["a"], policy)
        preview = pay_service.preview_period(world["org"]["a"], nxt, policy)
        [(user, priced)] = [(u, p) for u, p in preview.priced if u.id == world["user"]["worker"]]
        assert priced.adjustments == Decimal("90.00")
        assert priced.gross == Decimal("90.00")
        assert [s.id for s in priced.late_shifts] == [late]


def test_statement_csv_for_payroll(client, world, auth, app):
    previous, _ = seed_previous_period(app, world)
    with app.app_context():
        from portal.models import User

        db.session.get(User, world["user"]["worker2"]).name = "=HYPERLINK(1)"
        db.session.commit()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        period_id = db.session.scalar(sa.select(PayPeriod.id))
    response = client.get(f"/hr/periods/{period_id}/statements.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment; filename=" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == pay_service.CSV_COLUMNS
    by_email = {r["worker_email"]: r for r in rows}
    row = by_email["worker@a.example.org"]
    assert (row["hours"], row["overtime_hours"], row["gross_pay"]) == ("45.00", "5.00", "950.00")
    assert row["period_start"] == previous.start.isoformat()
    assert row["period_end"] == previous.last_day.isoformat()
    assert by_email["worker2@a.example.org"]["worker_name"] == "'=HYPERLINK(1)"  # no formula


@pytest.mark.parametrize("who", ["worker", "worker2", "hr", "supervisor", "worker_b"])
def test_statement_visibility(client, world, auth, app, who):
    previous, _ = seed_previous_period(app, world)
    auth.as_role("hr")
    close(client, previous)
    auth.logout()
    with app.app_context():
        st_id = db.session.scalar(
            sa.select(PayStatement.id).where(PayStatement.worker_id == world["user"]["worker"])
        )
        period_id = db.session.scalar(sa.select(PayPeriod.id))
    auth.as_role("worker" if who == "worker_b" else who, org="b" if who == "worker_b" else None)
    response = client.get(f"/pay/statements/{st_id}")
    assert response.status_code == (200 if who in ("worker", "hr") else 404)
    if who == "worker":
        page = response.get_data(as_text=True)
        assert "$950.00" in page and "Overtime premium" in page
        assert "$950.00" in client.get("/pay").get_data(as_text=True)  # past statements, YTD
    assert client.get(f"/hr/periods/{period_id}/statements.csv").status_code == (
        200 if who == "hr" else 404
    )


def test_hr_of_another_organisation_cannot_reach_statements(client, world, auth, app):
    previous, _ = seed_previous_period(app, world)
    auth.as_role("hr")
    close(client, previous)
    auth.logout()
    with app.app_context():
        make_user("HR B", "hr@b.example.org", {"hr"}, world["org"]["b"])
        db.session.commit()
        st_id = db.session.scalar(sa.select(PayStatement.id))
        period_id = db.session.scalar(sa.select(PayPeriod.id))
    auth.login("hr@b.example.org")
    assert client.get(f"/pay/statements/{st_id}").status_code == 404
    assert client.get(f"/hr/periods/{period_id}").status_code == 404
    assert client.get(f"/hr/periods/{period_id}/statements.csv").status_code == 404


def test_exempt_worker_is_paid_salary_without_shifts(client, world, auth, app):
    _, previous = periods(app, world["org"]["a"])
    with app.app_context():
        make_rate(world["user"]["worker3"], "52000", classification="employee_exempt")
        make_rate(world["user"]["worker"])
        make_shift(world["user"]["worker"], at(previous, 1), hours=8, status="approved")
        db.session.commit()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        st_ = db.session.scalar(
            sa.select(PayStatement).where(PayStatement.worker_id == world["user"]["worker3"])
        )
        assert st_.gross_pay == Decimal("2000.00") and st_.hours == 0
        assert st_.rate_text == "$52,000.00/yr"


def test_a_salaried_worker_who_left_is_paid_to_their_last_day_only(client, world, auth, app):
    """Their rate stays on record, but the salary stops with their engagement: prorated in the
    period they left, nothing (and no statement) in the periods after."""
    from portal.models import Engagement

    _, previous = periods(app, world["org"]["a"])
    earlier = Period(previous.start - timedelta(days=14), previous.start)
    worker3 = world["user"]["worker3"]
    with app.app_context():
        make_rate(worker3, "52000", classification="employee_exempt")
        make_rate(world["user"]["worker"])
        make_shift(world["user"]["worker"], at(earlier, 1), hours=8, status="approved")
        make_shift(world["user"]["worker"], at(previous, 1), hours=8, status="approved")
        spell = db.session.scalar(sa.select(Engagement).where(Engagement.user_id == worker3))
        spell.ended_on = earlier.start + timedelta(days=6)  # seven days of that period
        spell.end_reason = "resigned"
        db.session.commit()
    auth.as_role("hr")
    close(client, earlier)
    close(client, previous)
    with app.app_context():
        gross = db.session.scalars(
            sa.select(PayStatement.gross_pay)
            .join(PayPeriod, PayPeriod.id == PayStatement.period_id)
            .where(PayStatement.worker_id == worker3)
            .order_by(PayPeriod.start_date)
        ).all()
    assert gross == [Decimal("1000.00")]  # 7 x 52,000 / 364, and no statement afterwards


def test_close_runs_a_fixed_number_of_statements(app, world, count_queries):
    """Closing for 3 or for 12 workers runs the same number of SQL statements."""
    _, previous = periods(app, world["org"]["a"])

    def build(extra: int) -> int:
        with app.app_context():
            for n in range(extra):
                uid = make_user(
                    f"Extra {n}",
                    f"extra{n}-{extra}@a.example.org",
                    {"worker"},
                    world["org"]["a"],
                    world["site"]["a1"],
                ).id
                make_rate(uid)
                for d in range(3):
                    make_shift(uid, at(previous, d * 2 + 1), hours=8, status="approved")
            db.session.commit()
            with count_queries() as n:
                pay_service.close_period(world["org"]["a"], None)
                db.session.commit()
            db.session.execute(sa.update(Shift).values(paid_in_period_id=None))
            db.session.execute(sa.delete(PayStatement))
            db.session.execute(sa.delete(PayPeriod))
            db.session.commit()
            return n()

    assert build(3) == build(12)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayRate)) == 15


def test_a_shift_logged_late_into_a_closed_period_says_how_it_is_paid(client, world, auth, app):
    previous, ids = seed_previous_period(app, world)
    auth.as_role("hr")
    close(client, previous)
    auth.logout()
    auth.as_role("worker")
    day = previous.start + timedelta(days=9)
    response = client.post(
        "/shifts/new",
        data={
            "day": day.isoformat(),
            "start_time": "09:00",
            "end_time": "13:00",
            "site_id": str(world["site"]["a1"]),
            "shift_type": "training",
            "break_minutes": "0",
        },
        follow_redirects=True,
    )
    assert "paid as an adjustment with your next statement" in response.get_data(as_text=True)
    # the paid shifts are locked: no edit, no delete
    detail = client.get(f"/shifts/{ids[0]}").get_data(as_text=True)
    assert "on a closed pay statement" in detail and f"/shifts/{ids[0]}/edit" not in detail
    assert client.post(f"/shifts/{ids[0]}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Shift, ids[0]) is not None
