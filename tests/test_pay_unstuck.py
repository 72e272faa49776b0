"""Payroll never deadlocks: a worker without a rate in force is left out of a close, never the
whole close; HR fixes it with a back-dated rate (with a reason, audited) or by holding the
shifts (audited); nothing is lost and the next close pays them. Statements list every rate."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, PayRate, PayStatement, Shift
from portal.pay.periods import Period
from portal.timeutil import local_today
from tests.factories import make_rate, make_shift, make_user
from tests.test_pay import at, close, periods


def text(response) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def two_ended(app, world) -> tuple[Period, Period]:
    """The two ended periods before the current one: (earlier, previous)."""
    _, previous = periods(app, world["org"]["a"])
    return Period(previous.start - timedelta(days=14), previous.start), previous


def statements(app) -> dict[tuple[int, int], PayStatement]:
    """Every statement by (worker, period start as ordinal)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(PayStatement).join(PayStatement.period)).all()
        return {(s.worker_id, s.period.start_date.toordinal()): s for s in rows}


def actions(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def blocked_world(app, world) -> tuple[Period, Period, int]:
    """Worker and worker2 with rates and shifts in the earlier period; worker3 has an approved,
    back-dated shift there and no rate at all. Returns the periods and worker3's shift."""
    earlier, previous = two_ended(app, world)
    u = world["user"]
    with app.app_context():
        make_rate(u["worker"], "20.00")
        make_rate(u["worker2"], "18.00")
        make_shift(u["worker"], at(earlier, 1), hours=8, status="approved")
        make_shift(u["worker2"], at(earlier, 2), hours=8, status="approved")
        make_shift(u["worker"], at(previous, 1), hours=4, status="approved")
        lost = make_shift(u["worker3"], at(earlier, 3), hours=6, status="approved")
        db.session.commit()
    return earlier, previous, lost


def test_the_close_goes_ahead_with_one_worker_left_out_for_a_missing_rate(
    client, world, auth, app
):
    earlier, _previous, lost = blocked_world(app, world)
    auth.as_role("hr")
    page = text(client.get("/hr/periods"))
    assert "1 worker left out of this close for a missing pay rate." in page
    assert "Worker3 A : No pay rate set yet." in page
    assert "Close this period" in page  # the close is not blocked
    result = close(client, earlier)
    shown = text(result)
    assert "Closed the period" in shown
    assert "1 worker was left out" in shown
    assert "Not paid yet" in shown and "Worker3 A" in shown and "6.00 h unpaid" in shown
    day = (earlier.start + timedelta(days=3)).isoformat()
    fix = f'/hr/workers/{world["user"]["worker3"]}?effective_from={day}'
    assert fix in result.get_data(as_text=True).replace("&amp;", "&")
    paid = statements(app)
    assert {w for w, _ in paid} == {world["user"]["worker"], world["user"]["worker2"]}
    with app.app_context():
        shift = db.session.get(Shift, lost)
        assert (shift.status, shift.paid_in_period_id) == ("approved", None)  # kept, unpaid


def test_the_left_out_worker_sees_waiting_for_hr_and_is_paid_after_a_back_dated_rate(
    client, world, auth, app
):
    earlier, previous, lost = blocked_world(app, world)
    worker3 = world["user"]["worker3"]
    auth.as_role("hr")
    close(client, earlier)
    auth.logout()
    auth.login("worker3@a.example.org")
    pay = text(client.get("/pay"))
    assert "Waiting for HR" in pay and "Nothing is lost" in pay
    auth.logout()

    auth.as_role("hr")
    day = earlier.start + timedelta(days=3)
    form = client.get(f"/hr/workers/{worker3}?effective_from={day.isoformat()}")
    assert f'value="{day.isoformat()}"' in form.get_data(as_text=True)  # the fix link fills it
    assert "Back-dated from" in text(form)
    saved = client.post(
        f"/hr/workers/{worker3}",
        data={"effective_from": day.isoformat(), "classification": "employee_nonexempt",
              "hourly_rate": "19.00", "annual_salary": "",
              "reason": "Starting rate was never entered"},
    )  # fmt: skip
    assert saved.status_code == 302, text(saved)
    [backdated] = actions(app, "pay_rate.backdated")
    assert backdated.subject_id == worker3
    assert "Worker3 A: blocked" not in text(client.get("/hr/"))

    close(client, previous)
    paid = statements(app)
    late = paid[(worker3, previous.start.toordinal())]
    assert late.adjustments == Decimal("114.00") and late.gross_pay == Decimal("114.00")  # 6 x 19
    with app.app_context():
        assert db.session.get(Shift, lost).paid_in_period_id == late.period_id
    auth.logout()
    auth.login("worker3@a.example.org")
    pay = text(client.get("/pay"))
    assert "Waiting for HR" not in pay and "$114.00" in pay


def test_a_back_dated_rate_needs_a_reason_and_is_audited_as_such(client, world, auth, app):
    worker = world["user"]["worker"]
    auth.as_role("hr")
    with app.app_context():
        today = local_today()
    past = (today - timedelta(days=20)).isoformat()
    data = {"effective_from": past, "classification": "employee_nonexempt",
            "hourly_rate": "19.00", "annual_salary": "", "reason": "  "}  # fmt: skip
    refused = client.post(f"/hr/workers/{worker}", data=data)
    assert refused.status_code == 422
    assert 'role="alert"' in refused.get_data(as_text=True)
    assert "why it is back-dated" in text(refused)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayRate)) == 0
    assert client.post(
        f"/hr/workers/{worker}", data={**data, "reason": "Starting rate entered late"}
    ).status_code == 302
    future = (today + timedelta(days=20)).isoformat()
    assert client.post(
        f"/hr/workers/{worker}", data={**data, "effective_from": future, "reason": "Raise"}
    ).status_code == 302
    added = actions(app, "pay_rate.added")
    backdated = actions(app, "pay_rate.backdated")
    assert len(added) == 2 and len(backdated) == 1
    assert backdated[0].record_id == added[0].record_id
    assert backdated[0].actor_id == world["user"]["hr"] and backdated[0].subject_id == worker


def test_inside_a_closed_period_only_a_first_hourly_rate_may_reach_back(client, world, auth, app):
    earlier, _previous, _lost = blocked_world(app, world)
    auth.as_role("hr")
    close(client, earlier)
    inside = (earlier.start + timedelta(days=2)).isoformat()
    base = {"effective_from": inside, "classification": "employee_nonexempt",
            "hourly_rate": "21.00", "annual_salary": "",
            "reason": "Correction to old rate"}  # fmt: skip
    # worker has a rate in force there, on a frozen statement: history is not rewritten
    refused = client.post(f"/hr/workers/{world['user']['worker']}", data=base)
    assert refused.status_code == 422 and "is closed" in text(refused)
    # a salary is paid per period: a later close would not pay the closed one's
    salaried = client.post(
        f"/hr/workers/{world['user']['worker3']}",
        data={**base, "classification": "employee_exempt", "hourly_rate": "",
              "annual_salary": "52000"},
    )  # fmt: skip
    assert salaried.status_code == 422 and "is closed" in text(salaried)
    assert client.post(f"/hr/workers/{world['user']['worker3']}", data=base).status_code == 302


def test_a_held_shift_is_left_out_until_released_then_paid_and_both_are_audited(
    client, world, auth, app
):
    earlier, previous = two_ended(app, world)
    worker = world["user"]["worker"]
    with app.app_context():
        make_rate(worker, "20.00")
        kept = make_shift(worker, at(earlier, 1), hours=8, status="approved")
        held = make_shift(worker, at(earlier, 2), hours=5, status="approved")
        make_shift(worker, at(previous, 1), hours=2, status="approved")
        db.session.commit()
    auth.as_role("hr")
    page = client.get(f"/hr/shifts/{held}")
    assert page.status_code == 200 and "Hold from pay" in text(page)
    refused = client.post(f"/hr/shifts/{held}", data={"reason": ""})
    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)
    assert "Say why the shift is held" in text(refused)
    done = client.post(f"/hr/shifts/{held}", data={"reason": "Hours checked with supervisor"})
    assert done.status_code == 302
    [event] = actions(app, "shift.pay_held")
    assert (event.record_id, event.subject_id) == (held, worker)
    assert "1 shift held from pay" in text(client.get("/hr/"))

    periods_page = text(close(client, earlier))
    assert "Held" in periods_page and "Hours checked with supervisor" in periods_page
    first = statements(app)[(worker, earlier.start.toordinal())]
    assert first.hours == Decimal("8.00") and first.gross_pay == Decimal("160.00")
    with app.app_context():
        assert db.session.get(Shift, kept).paid_in_period_id == first.period_id
        assert db.session.get(Shift, held).paid_in_period_id is None

    auth.logout()
    auth.as_role("worker")
    pay = text(client.get("/pay"))
    assert "Held by HR" in pay and "Hours checked with supervisor" in pay
    auth.logout()

    auth.as_role("hr")
    assert client.post(f"/hr/shifts/{held}/release").status_code == 302
    [released] = actions(app, "shift.pay_released")
    assert (released.record_id, released.subject_id) == (held, worker)
    close(client, previous)
    second = statements(app)[(worker, previous.start.toordinal())]
    assert second.adjustments == Decimal("100.00")  # the released 5 h at $20
    assert second.gross_pay == Decimal("140.00")  # and the period's own 2 h
    with app.app_context():
        assert db.session.get(Shift, held).paid_in_period_id == second.period_id


def test_holding_the_shift_without_a_rate_lets_the_rest_of_that_workers_pay_go_ahead(
    client, world, auth, app
):
    earlier, _previous = two_ended(app, world)
    worker3 = world["user"]["worker3"]
    with app.app_context():
        make_rate(worker3, "20.00", since=earlier.start + timedelta(days=5))
        before_rate = make_shift(worker3, at(earlier, 2), hours=4, status="approved")
        make_shift(worker3, at(earlier, 7), hours=8, status="approved")
        db.session.commit()
    auth.as_role("hr")
    page = text(client.get("/hr/periods"))
    assert f"No pay rate in force before {(earlier.start + timedelta(days=5)):%b %-d, %Y}" in page
    assert client.post(
        f"/hr/shifts/{before_rate}", data={"reason": "Start date being checked"}
    ).status_code == 302
    close(client, earlier)
    st_ = statements(app)[(worker3, earlier.start.toordinal())]
    assert st_.hours == Decimal("8.00") and st_.gross_pay == Decimal("160.00")


def test_only_approved_unpaid_shifts_are_held(client, world, auth, app):
    earlier, _previous = two_ended(app, world)
    worker = world["user"]["worker"]
    with app.app_context():
        make_rate(worker)
        submitted = make_shift(worker, at(earlier, 1), hours=4, status="submitted")
        paid = make_shift(worker, at(earlier, 3), hours=4, status="approved")
        db.session.commit()
    auth.as_role("hr")
    refused = client.post(f"/hr/shifts/{submitted}", data={"reason": "Check"})
    assert refused.status_code == 422 and "Only approved shifts are held" in text(refused)
    with app.app_context():
        db.session.get(Shift, submitted).status = "returned"
        db.session.commit()
    close(client, earlier)
    refused = client.post(f"/hr/shifts/{paid}", data={"reason": "Check"})
    assert refused.status_code == 422 and "paid on a closed statement" in text(refused)
    assert actions(app, "shift.pay_held") == []


def test_hr_of_another_organisation_and_other_roles_get_404_for_holds(client, world, auth, app):
    earlier, _previous = two_ended(app, world)
    with app.app_context():
        make_rate(world["user"]["worker"])
        shift = make_shift(world["user"]["worker"], at(earlier, 1), hours=4, status="approved")
        make_user("HR B", "hr@b.example.org", {"hr"}, world["org"]["b"])
        db.session.commit()
    auth.login("hr@b.example.org")
    assert client.get(f"/hr/shifts/{shift}").status_code == 404
    assert client.post(f"/hr/shifts/{shift}", data={"reason": "x"}).status_code == 404
    assert client.post(f"/hr/shifts/{shift}/release").status_code == 404
    auth.logout()
    auth.as_role("worker")
    assert client.post(f"/hr/shifts/{shift}", data={"reason": "x"}).status_code == 404
    with app.app_context():
        assert db.session.get(Shift, shift).pay_held_at is None
    assert actions(app, "shift.pay_held") == []


def test_a_statement_lists_every_rate_with_its_hours_and_the_csv_rate_is_a_number(
    client, world, auth, app
):
    _, previous = periods(app, world["org"]["a"])
    u = world["user"]
    with app.app_context():
        make_rate(u["worker"], "20.00")
        make_rate(u["worker"], "24.50", since=previous.start + timedelta(days=7), reason="Raise")
        make_shift(u["worker"], at(previous, 1), hours=9, status="approved")
        make_shift(u["worker"], at(previous, 8), hours=6, status="approved")
        make_rate(u["worker3"], "52000", classification="employee_exempt")
        db.session.commit()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        st_id, period_id = db.session.execute(
            sa.select(PayStatement.id, PayStatement.period_id).where(
                PayStatement.worker_id == u["worker"]
            )
        ).one()
    page = text(client.get(f"/pay/statements/{st_id}"))
    assert "Rates used" in page
    assert "$20.00/h" in page and "9.00" in page
    assert "$24.50/h" in page and "6.00" in page
    assert "$20.00/h (9.00 h), $24.50/h (6.00 h)" in text(client.get(f"/hr/periods/{period_id}"))
    rows = csv.DictReader(io.StringIO(client.get(f"/hr/periods/{period_id}/statements.csv").text))
    by_email = {r["worker_email"]: r for r in rows}
    hourly = by_email["worker@a.example.org"]
    assert (hourly["rate"], hourly["rate_unit"]) == ("24.50", "hour")
    assert Decimal(hourly["gross_pay"]) == Decimal("327.00")  # 9 x 20 + 6 x 24.50
    salaried = by_email["worker3@a.example.org"]
    assert (salaried["rate"], salaried["rate_unit"]) == ("52000.00", "year")


def test_hr_home_lists_what_is_due_with_links(client, world, auth, app):
    earlier, previous, _lost = blocked_world(app, world)
    with app.app_context():
        make_shift(world["user"]["worker2"], at(previous, 4), hours=3, status="submitted")
        db.session.commit()
    auth.as_role("hr")
    response = client.get("/hr/")
    page, html = text(response), response.get_data(as_text=True).replace("&amp;", "&")
    assert "2 pay periods ended and not closed" in page
    assert f"next to close {earlier.start:%b %-d}" in page
    assert "1 shift from ended periods waits for a supervisor's approval" in page
    assert "Worker3 A: blocked for a missing pay rate" in page
    assert 'href="/hr/periods"' in html and 'href="/hr/periods#waiting"' in html
    day = (earlier.start + timedelta(days=3)).isoformat()
    assert f'href="/hr/workers/{world["user"]["worker3"]}?effective_from={day}#add-heading"' in html

    close(client, earlier)
    page = text(client.get("/hr/"))
    assert "1 pay period ended and not closed" in page
    assert "Worker3 A: blocked for a missing pay rate" in page  # still listed: not lost


def test_hr_home_has_nothing_due_without_ended_periods_or_held_up_pay(client, world, auth):
    auth.as_role("hr")
    assert "Nothing due" in text(client.get("/hr/"))
