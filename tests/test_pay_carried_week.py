"""Overtime is weekly, whichever statement pays the hours: a shift or a restrictive on-call
period that runs past a period's last midnight is paid by that period's close, and its hours in
the next period's first week count toward that week's overtime when the next close prices it."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.models import OnCallPeriod, PayStatement
from portal.pay import service as pay_service
from tests.factories import make_rate, make_shift
from tests.test_oncall import make_period, text
from tests.test_pay import at, close
from tests.test_pay_oncall import set_policy
from tests.test_pay_oncall_late import (
    anchor_close,
    full_week,
    paid_and_whole,
    preview_for,
    reset_pay,
    three_periods,
)


def test_a_night_shift_across_the_period_end_counts_toward_the_next_weeks_overtime(
    client, auth, world, app
):
    org, w = world["org"]["a"], world["user"]["worker"]
    current, previous, _old = three_periods(app, org)
    with app.app_context():
        make_rate(w, "20.00")
        # Sat 22:00 to Sun 06:00: 2 h in the previous period's last week, 6 h in this one's first
        night = make_shift(w, at(current, -1, "22:00"), hours=8, status="approved")
        db.session.commit()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        first = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w))
        assert first.gross_pay == Decimal("160.00")  # all 8 h, at straight time
        full_week(w, current)  # 40 h more in the week of the 6 h
        db.session.commit()
    priced = preview_for(app, org, w)
    assert priced.statement.gross == Decimal("800.00")
    assert priced.adjustments == Decimal("60.00")  # the 6 h are overtime: 6 x 20 x 0.5
    [detail] = priced.adjustment_details
    assert [c["id"] for c in detail["carried"]] == [night]
    assert detail["overtime_hours"] == "6.00" and detail["hours"] == "0.00"
    assert pay_service.rules.hours2(priced.hours) == Decimal("40.00")  # paid hours: not again
    auth.logout()
    auth.as_role("worker")
    page = text(client.get("/pay"))
    assert "$860.00" in page
    assert "Includes $60.00 of overtime premium for 6.00 h in the week of" in page


def test_a_restrictive_period_across_the_period_end_counts_too_and_a_short_week_adds_nothing(
    client, auth, world, app
):
    org, w = world["org"]["a"], world["user"]["worker"]
    current, previous, _old = three_periods(app, org)
    set_policy(app, org, restrictive=True)
    with app.app_context():
        make_rate(w, "20.00")
        pid = make_period(w, at(current, -1, "18:00"), hours=12)  # 6 h in this first week
        anchor_close(world, previous)
        db.session.commit()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        assert db.session.get(OnCallPeriod, pid).paid_in_period_id is not None
        full_week(w, current, hours=6)  # 30 h: 36 with the on-call hours, under 40
        db.session.commit()
    short = preview_for(app, org, w)
    assert short.adjustments == Decimal("0.00") and short.adjustment_details == []
    with app.app_context():
        make_shift(w, at(current, 6), hours=10, status="approved")  # Saturday: 46 h in all
        db.session.commit()
    priced = preview_for(app, org, w)
    assert priced.adjustments == Decimal("60.00")
    assert priced.adjustment_details[0]["carried"][0]["on_call"] is True


def test_a_statement_names_the_carried_hours(client, auth, world, app):
    org, w = world["org"]["a"], world["user"]["worker"]
    _current, previous, old = three_periods(app, org)
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(previous, -1, "22:00"), hours=8, status="approved")
        db.session.commit()
    auth.as_role("hr")
    close(client, old)
    with app.app_context():
        full_week(w, previous)
        db.session.commit()
    close(client, previous)
    with app.app_context():
        st_ = db.session.scalars(
            sa.select(PayStatement).where(PayStatement.worker_id == w).order_by(PayStatement.id)
        ).all()[-1]
        assert (st_.adjustments, st_.gross_pay) == (Decimal("60.00"), Decimal("860.00"))
        statement_id = st_.id
    auth.logout()
    auth.as_role("worker")
    page = text(client.get(f"/pay/statements/{statement_id}"))
    assert "your previous statement paid in this week count toward its weekly limit" in page


# --- invariant: two closes pay what the whole time priced at once pays ------------------------

boundary_work = st.fixed_dictionaries(
    {
        "restrictive": st.booleans(),
        # days of the old period's last week (7-13), and of the next period's first (14-20),
        # which is often near or over 40 hours
        "shifts": st.dictionaries(st.integers(7, 13), st.integers(1, 11), max_size=4),
        "next_week": st.dictionaries(st.integers(14, 20), st.integers(4, 11), min_size=3),
        "night": st.none() | st.integers(1, 10),  # a shift from the last Saturday, 22:00
        "on_call": st.none() | st.integers(7, 14),  # a period from the last Saturday, 18:00
    }
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(boundary_work)
def test_work_across_the_period_end_pays_what_the_weeks_priced_at_once_pay(app, world, ops):
    org, w = world["org"]["a"], world["user"]["worker"]
    _, previous, old = three_periods(app, org)
    reset_pay(app)
    set_policy(app, org, restrictive=ops["restrictive"], stipend=None if ops["restrictive"]
               else "40.00")  # fmt: skip
    with app.app_context():
        make_rate(w, "20.00")
        anchor_close(world, old)
        anchor_close(world, previous, rate=False)
        for day, hours in (ops["shifts"] | ops["next_week"]).items():
            make_shift(w, at(old, day, "08:00"), hours=hours, status="approved")
        if ops["night"]:
            make_shift(w, at(old, 13, "22:00"), hours=ops["night"], status="approved")
        if ops["on_call"]:
            start = at(old, 13, "18:00")
            make_period(w, start, hours=ops["on_call"])
        db.session.commit()
        pay_service.close_period(org, None, old.start)
        db.session.commit()
        pay_service.close_period(org, None, previous.start)
        db.session.commit()
        paid, whole = paid_and_whole(org, w)
        # each statement rounds its lines to the cent once: a cent or two apart at most
        assert abs(paid - whole) <= Decimal("0.02"), (ops, paid, whole)


def test_a_shift_inside_the_paid_tail_of_a_restrictive_period_is_paid_once(
    client, auth, world, app
):
    """The previous close paid Sunday 00:00-06:00 as on-call hours; a shift logged since at
    02:00-04:00 is this period's: the statement pays it and takes those 2 on-call hours back."""
    org, w = world["org"]["a"], world["user"]["worker"]
    current, previous, _old = three_periods(app, org)
    set_policy(app, org, restrictive=True)
    with app.app_context():
        make_rate(w, "20.00")
        make_period(w, at(current, -1, "18:00"), hours=12)
        anchor_close(world, previous)
        db.session.commit()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        make_shift(w, at(current, 0, "02:00"), hours=2, status="approved")
        db.session.commit()
    priced = preview_for(app, org, w)
    assert priced.statement.gross == Decimal("40.00")  # the shift
    assert priced.adjustments == Decimal("-40.00")  # its 2 h were paid as on-call time
    auth.logout()
    auth.as_role("worker")
    page = text(client.get("/pay"))
    assert "Less $40.00 for the week of" in page and "paid once, as the shift" in page
