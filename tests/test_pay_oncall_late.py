"""Late on-call time: a period published after its pay period closed is paid by the next close
as the difference it makes to its workweek, like a late shift, so its overtime is right; a
restrictive period that runs on into the open period is cut at the period's first midnight;
and a call-back approved late inside a paid restrictive period is not paid twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.models import OnCallPeriod, PayPeriod, PayPolicy, PayRate, PayStatement, Shift
from portal.pay import service as pay_service
from portal.pay.periods import Period
from tests.factories import make_rate, make_shift
from tests.test_oncall import make_period, text
from tests.test_pay import at, close, periods
from tests.test_pay_oncall import set_policy


def three_periods(app, org):
    """The current period, the one before it, and the one before that."""
    current, previous = periods(app, org)
    return current, previous, Period(previous.start - timedelta(days=14), previous.start)


def full_week(worker, period, hours=8, days=5):
    """Mon-Fri of the period's first week (it starts on a Sunday): 40 h by default."""
    return [make_shift(worker, at(period, d), hours=hours, status="approved")
            for d in range(1, 1 + days)]  # fmt: skip


def anchor_close(world, period, rate=True):
    """A colleague's shift in the period, so that it is the first to close."""
    if rate:
        make_rate(world["user"]["worker2"], "18.00")
    make_shift(world["user"]["worker2"], at(period, 4), hours=1, status="approved")


def reset_pay(app):
    """No pay records left from an earlier hypothesis example."""
    with app.app_context():
        for model in (PayStatement, Shift, OnCallPeriod, PayPeriod, PayRate, PayPolicy):
            db.session.execute(sa.delete(model))
        db.session.commit()


def paid_and_whole(org, worker):
    """What the worker's statements paid in all, and what one statement of all their shifts and
    on-call periods, priced at once, pays."""
    paid = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PayStatement.gross_pay), 0)).where(
            PayStatement.worker_id == worker
        )
    )
    policy = pay_service.load_policy(org)
    rates = pay_service.pay_rates.to_rule_rates(
        pay_service.pay_rates.rates_by_worker(org, [worker])[worker]
    )
    mine = db.session.scalars(sa.select(Shift).where(Shift.worker_id == worker))
    on_call = [
        pay_service.rules.OnCall(p.id, p.start_at, p.end_at)
        for p in db.session.scalars(sa.select(OnCallPeriod).where(OnCallPeriod.worker_id == worker))
    ]
    whole = pay_service.rules.statement(
        [pay_service.to_worked(s) for s in mine], rates, policy.rules, on_call=on_call
    )
    return Decimal(paid), whole.gross


def preview_for(app, org, worker):
    with app.app_context():
        policy = pay_service.load_policy(org)
        nxt = pay_service.next_period_to_close(org, policy)
        preview = pay_service.preview_period(org, nxt, policy)
        [priced] = [p for u, p in preview.priced if u.id == worker]
        return priced


def test_a_restrictive_period_published_after_its_close_is_overtime_in_its_paid_week(
    client, auth, world, app
):
    """The way it happens: a supervisor adds a draft, HR closes the period, the supervisor then
    publishes the week. The 6 on-call hours fall in a week already paid for 40 hours."""
    org, w = world["org"]["a"], world["user"]["worker"]
    _, previous, old = three_periods(app, org)
    set_policy(app, org, restrictive=True)
    with app.app_context():
        make_rate(w, "20.00")
        full_week(w, old)
        make_shift(w, at(previous, 1), hours=2, status="approved")  # opens the next statement
        db.session.commit()
    week = old.start.isoformat()
    auth.as_role("supervisor")
    day = (old.start + timedelta(days=3)).isoformat()
    added = client.post(
        f"/oncall/rota/sites/{world['site']['a1']}/periods?week={week}",
        data={"worker_id": w, "start_day": day, "start_time": "18:00", "end_day": day,
              "end_time": "23:00"},
    )  # fmt: skip
    assert added.status_code == 302, text(added)
    auth.logout()
    auth.as_role("hr")
    close(client, old)
    with app.app_context():
        first = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w))
        assert first.gross_pay == Decimal("800.00")  # the draft was not paid
    auth.logout()
    auth.as_role("supervisor")
    client.post(f"/oncall/rota/sites/{world['site']['a1']}/publish?week={week}")
    with app.app_context():
        [period] = db.session.scalars(sa.select(OnCallPeriod)).all()
        assert period.status == "published" and period.paid_in_period_id is None
        pid = period.id
    auth.logout()
    auth.as_role("worker")
    waiting = text(client.get("/pay"))
    assert "Earlier shifts and on call still to be paid" in waiting
    assert "5.00 h · published after its pay period closed" in waiting
    auth.logout()
    priced = preview_for(app, org, w)
    # 5 h over 40 in the old week: all overtime, 5 x 20 x 1.5
    assert priced.adjustments == Decimal("150.00")
    assert [p.id for p, _oc in priced.late_on_calls] == [pid] and priced.on_calls == []
    assert pay_service.rules.hours2(priced.hours) == Decimal("7.00")  # 2 h shift + 5 h on call
    auth.as_role("hr")
    assert "Closed the period" in text(close(client, previous))
    with app.app_context():
        second = db.session.scalar(
            sa.select(PayStatement)
            .where(PayStatement.worker_id == w)
            .order_by(PayStatement.id.desc())
            .limit(1)
        )
        assert second.adjustments == Decimal("150.00")
        assert second.gross_pay == Decimal("190.00")  # 2 h x 20 + 150
        assert second.hours == Decimal("7.00")
        assert db.session.get(OnCallPeriod, pid).paid_in_period_id == second.period_id
        [adjustment] = second.details["adjustments"]
        assert adjustment["shift_ids"] == [] and adjustment["hours"] == "5.00"
        assert [o["id"] for o in adjustment["on_call"]] == [pid]
        statement_id = second.id
        # paid once: nothing is left for a later close
        assert pay_service.unpaid_on_call(at(previous, 40)) == {}
    auth.logout()
    auth.as_role("worker")
    page = text(client.get(f"/pay/statements/{statement_id}"))
    assert "Adjustments (late work, overtime across statements)" in page
    assert "on call" in page and "5.00 h" in page
    assert "still to be paid" not in text(client.get("/pay"))  # paid now


def test_a_late_stipend_enters_its_old_weeks_regular_rate(client, auth, world, app):
    org, w = world["org"]["a"], world["user"]["worker"]
    _, previous, old = three_periods(app, org)
    set_policy(app, org, stipend="40.00")
    with app.app_context():
        make_rate(w, "20.00")
        full_week(w, old, hours=9)  # 45 h: 5 h overtime
        make_shift(w, at(previous, 1), hours=2, status="approved")
        db.session.commit()
    auth.as_role("hr")
    close(client, old)
    with app.app_context():
        make_period(w, at(old, 2, "18:00"), hours=12)  # published after the close
        db.session.commit()
    priced = preview_for(app, org, w)
    # before: 900 + 5 x 10 = 950. After: 900 + 40, regular rate 940/45, premium 0.5 x that x 5
    assert priced.adjustments == Decimal("992.22") - Decimal("950.00")
    assert priced.statement.lines["stipends"] == Decimal("0.00")  # not also in this period
    assert pay_service.rules.hours2(priced.hours) == Decimal("2.00")  # a stipend is no hours


def test_a_restrictive_period_across_the_period_start_is_cut_at_its_first_midnight(
    client, auth, world, app
):
    """Half before the open period began (late, into a paid week) and half inside it."""
    org, w = world["org"]["a"], world["user"]["worker"]
    current, previous, _old = three_periods(app, org)
    set_policy(app, org, restrictive=True)
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(previous, 8), hours=4, status="approved")
        db.session.commit()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        pid = make_period(w, at(current, -1, "18:00"), hours=12)  # Sat 18:00 to Sun 06:00
        make_shift(w, at(current, 2), hours=3, status="approved")
        db.session.commit()
    priced = preview_for(app, org, w)
    assert [(oc.id, oc.end) for _p, oc in priced.late_on_calls] == [(pid, at(current, 0, "00:00"))]
    assert [(oc.id, oc.start) for _p, oc in priced.on_calls] == [(pid, at(current, 0, "00:00"))]
    assert priced.on_call_ids == {pid}
    assert priced.adjustments == Decimal("120.00")  # 6 h at 20, no overtime in that week
    assert priced.statement.gross == Decimal("180.00")  # 6 h on call + 3 h shift
    assert pay_service.rules.hours2(priced.hours) == Decimal("15.00")
    # /pay shows this period's part, as hours worked this period
    auth.logout()
    auth.as_role("worker")
    page = text(client.get("/pay"))
    assert "On call (restrictive): 6.00 h worked" in page
    assert "$180.00" in page


def test_a_late_call_back_in_a_paid_restrictive_period_is_not_paid_twice(
    client, auth, world, app
):
    org, w = world["org"]["a"], world["user"]["worker"]
    _, previous, old = three_periods(app, org)
    set_policy(app, org, restrictive=True)
    with app.app_context():
        make_rate(w, "20.00")
        pid = make_period(w, at(old, 2, "18:00"), hours=12)
        anchor_close(world, old)
        make_shift(w, at(previous, 1), hours=2, status="approved")
        db.session.commit()
    auth.as_role("hr")
    close(client, old)
    with app.app_context():
        first = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w))
        assert first.gross_pay == Decimal("240.00")  # 12 h on call
        assert db.session.get(OnCallPeriod, pid).paid_in_period_id == first.period_id
        # the call-back, logged and approved after the close
        late = make_shift(w, at(old, 2, "22:00"), hours=3, status="approved", call_back=True,
                          on_call_period_id=pid)  # fmt: skip
        db.session.commit()
    priced = preview_for(app, org, w)
    assert [s.id for s in priced.late_shifts] == [late]
    # its 3 hours were paid as on-call time: they are now call-back hours instead, nothing more
    assert priced.adjustments == Decimal("0.00")
    assert priced.gross == Decimal("40.00")


def test_a_call_back_waiting_for_approval_at_the_close_is_paid_in_full_later(
    client, auth, world, app
):
    """Logged before the close, approved after: the close left its 3 hours out of the on-call
    time (every logged shift counts), so the next close pays them, once."""
    org, w = world["org"]["a"], world["user"]["worker"]
    _, previous, old = three_periods(app, org)
    set_policy(app, org, restrictive=True)
    with app.app_context():
        make_rate(w, "20.00")
        pid = make_period(w, at(old, 2, "18:00"), hours=12)
        anchor_close(world, old)
        make_shift(w, at(previous, 1), hours=2, status="approved")
        waiting = make_shift(w, at(old, 2, "22:00"), hours=3, status="returned", call_back=True,
                             on_call_period_id=pid)  # fmt: skip
        db.session.commit()
    auth.as_role("hr")
    close(client, old)
    with app.app_context():
        first = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w))
        assert first.gross_pay == Decimal("180.00")  # 9 h on call: the call-back's 3 h left out
        db.session.get(Shift, waiting).status = "approved"
        db.session.commit()
    priced = preview_for(app, org, w)
    assert priced.adjustments == Decimal("60.00")
    assert priced.gross == Decimal("100.00")


def test_a_late_call_back_with_a_stipend_adds_only_the_stipend(client, auth, world, app):
    """The difference is the call-back's extra pay over the on-call hours it replaces."""
    org, w = world["org"]["a"], world["user"]["worker"]
    _, previous, old = three_periods(app, org)
    set_policy(app, org, restrictive=True)
    with app.app_context():
        from portal.models import ShiftStipend

        db.session.add(ShiftStipend(organisation_id=org, shift_type="hospital_response",
                                  amount=Decimal("25.00")))  # fmt: skip
        make_rate(w, "20.00")
        pid = make_period(w, at(old, 2, "18:00"), hours=12)
        anchor_close(world, old)
        make_shift(w, at(previous, 1), hours=2, status="approved")
        db.session.commit()
    auth.as_role("hr")
    close(client, old)
    with app.app_context():
        make_shift(w, at(old, 2, "22:00"), hours=3, status="approved", call_back=True,
                   on_call_period_id=pid, shift_type="hospital_response")  # fmt: skip
        db.session.commit()
    assert preview_for(app, org, w).adjustments == Decimal("25.00")  # the stipend, nothing else


def test_an_exempt_workers_late_period_adds_nothing_and_is_closed_off(client, auth, world, app):
    """A salary covers on-call time: a late period changes no pay, and the next close marks it
    paid so that it never waits for a close again."""
    org, w = world["org"]["a"], world["user"]["worker"]
    _, previous, old = three_periods(app, org)
    set_policy(app, org, restrictive=True)
    with app.app_context():
        make_rate(w, "52000.00", classification="employee_exempt")
        anchor_close(world, old)
        anchor_close(world, previous, rate=False)
        db.session.commit()
    auth.as_role("hr")
    close(client, old)
    with app.app_context():
        pid = make_period(w, at(old, 2, "18:00"), hours=12)
        db.session.commit()
    priced = preview_for(app, org, w)
    assert priced.adjustments == Decimal("0.00") and priced.late_hours == 0
    assert priced.gross == Decimal("2000.00")  # 52,000 / 26
    close(client, previous)
    with app.app_context():
        assert db.session.get(OnCallPeriod, pid).paid_in_period_id is not None


# --- invariant: paying in two closes is paying once ------------------------------------------

# When an item reaches payroll: approved by the first close, logged before it but approved
# after (returned for a fix meanwhile), or logged after it. An on-call period is published
# before the first close or after it.
WHEN = st.sampled_from(["paid", "returned", "logged_late"])
work = st.fixed_dictionaries(
    {
        "restrictive": st.booleans(),
        "shifts": st.dictionaries(st.integers(1, 5), st.tuples(st.integers(1, 10), WHEN),
                                  max_size=5),  # fmt: skip
        "on_call": st.none() | st.tuples(st.integers(1, 5), st.integers(4, 12),
                                         st.sampled_from(["paid", "late"])),  # fmt: skip
        "call_backs": st.lists(st.tuples(st.integers(1, 3), WHEN), max_size=2),
    }
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(work)
def test_late_work_paid_by_the_next_close_adds_up_to_the_week_priced_at_once(
    app, world, ops
):
    """Whatever came late (shifts, call-backs, the on-call period itself), the two closes pay
    the worker exactly what one statement of the whole week would have paid."""
    org, w = world["org"]["a"], world["user"]["worker"]
    _, previous, old = three_periods(app, org)
    reset_pay(app)
    set_policy(app, org, restrictive=ops["restrictive"], stipend=None if ops["restrictive"]
               else "40.00")  # fmt: skip
    later: list[tuple[str, int]] = []
    with app.app_context():
        make_rate(w, "20.00")
        anchor_close(world, old)
        plan = [(at(old, day), hours, when) for day, (hours, when) in ops["shifts"].items()]
        if ops["on_call"] is not None:
            day, hours, published = ops["on_call"]
            start = at(old, day, "18:00")
            status = "published" if published == "paid" else "draft"
            pid = make_period(w, start, hours=hours, status=status)
            if status == "draft":
                later.append(("publish", pid))
            # call-backs in two slots that never overlap: from 1 h and from 5 h into the period
            plan += [(start + timedelta(hours=1 + 4 * n), length, when)
                     for n, (length, when) in enumerate(ops["call_backs"])]  # fmt: skip
        for start, hours, when in plan:
            if when == "logged_late":
                later.append(("log", (start, hours)))
            else:
                sid = make_shift(w, start, hours=hours,
                                 status="approved" if when == "paid" else "returned")  # fmt: skip
                if when == "returned":
                    later.append(("approve", sid))
        db.session.commit()
        pay_service.close_period(org, None, old.start)
        db.session.commit()
        for kind, what in later:
            if kind == "publish":
                db.session.get(OnCallPeriod, what).status = "published"
            elif kind == "approve":
                db.session.get(Shift, what).status = "approved"
            else:
                make_shift(w, what[0], hours=what[1], status="approved")
        anchor_close(world, previous, rate=False)
        db.session.commit()
        pay_service.close_period(org, None, previous.start)
        db.session.commit()
        paid, whole = paid_and_whole(org, w)
        assert paid == whole, ops
        # and every item is paid, so nothing waits for a third close
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift).where(
            Shift.worker_id == w, Shift.paid_in_period_id.is_(None))) == 0  # fmt: skip
        assert pay_service.unpaid_on_call(at(previous, 40)) == {}
