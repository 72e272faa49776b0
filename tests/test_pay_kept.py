"""/pay keeps the open period's pricing per process (service.priced_current_period), and a kept
result is never stale: after any sequence of writes that can change it (shifts logged, edited,
approved, returned, deleted or paid by a close; rates set or corrected; the overtime rule,
differentials and stipends changed; on-call periods published, swapped, paid or removed; the
on-call treatment and stipend changed) the page is the page worked out afresh."""

from __future__ import annotations

import re
from datetime import time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.models import (
    SHIFT_TYPES,
    OnCallPeriod,
    PayDifferential,
    PayPeriod,
    PayPolicy,
    PayRate,
    Shift,
    ShiftStipend,
)
from portal.pay import service as pay_service
from tests.factories import make_rate, make_shift
from tests.test_pay import at, periods

kept = pay_service.priced_current_period


@pytest.fixture(autouse=True)
def _nothing_kept_between_tests():
    kept.cache_clear()
    yield
    kept.cache_clear()


def pay_page(client) -> str:
    """/pay as the worker sees it, without its CSRF token (signed with the time of the request)."""
    response = client.get("/pay")
    assert response.status_code == 200
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def fresh_pay_page(client) -> str:
    """The page with nothing kept: worked out from the database alone."""
    kept.cache_clear()
    return pay_page(client)


def test_a_second_view_reuses_the_pricing_and_a_new_shift_is_shown_at_once(
    client, world, auth, app
):
    current, _ = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(current, 0), hours=8, status="approved")
        db.session.commit()
    auth.as_role("worker")
    first = pay_page(client)
    assert "$160.00" in first
    assert pay_page(client) == first
    assert kept.cache_info().hits == 1  # the second view priced nothing
    with app.app_context():
        make_shift(w, at(current, 1), hours=2, status="approved")
        db.session.commit()
    assert "$200.00" in pay_page(client)  # 10 h x $20, not the kept $160


# --- any sequence of writes -------------------------------------------------------------------

days = st.integers(min_value=0, max_value=13)
hours = st.integers(min_value=1, max_value=14)
pay_write = st.one_of(
        st.tuples(st.just("log"), days, st.sampled_from(["00:30", "09:00", "21:00"]), hours,
                  st.sampled_from(["approved", "submitted"]), st.sampled_from(sorted(SHIFT_TYPES))),
        st.tuples(st.just("longer"), st.integers(0, 20), st.integers(-3, 3)),
        st.tuples(st.just("break"), st.integers(0, 20), st.sampled_from([0, 30, 60])),
        st.tuples(st.just("retype"), st.integers(0, 20), st.sampled_from(sorted(SHIFT_TYPES))),
        st.tuples(st.just("approve"), st.integers(0, 20)),
        st.tuples(st.just("return"), st.integers(0, 20)),
        st.tuples(st.just("delete"), st.integers(0, 20)),
        st.tuples(st.just("paid"), st.integers(0, 20)),
        st.tuples(st.just("rate"), st.integers(-20, 13),
                  st.sampled_from(["18.50", "20.00", "31.25"])),
        st.tuples(st.just("correct"), st.sampled_from(["19.00", "22.40"])),
        st.tuples(st.just("overtime"), st.sampled_from(["8", "30", "40"]),
                  st.sampled_from(["1.5", "2"])),
        st.tuples(st.just("differential"), st.sampled_from(["0.75", "2.00"])),
        st.tuples(st.just("stipend"), st.sampled_from(sorted(SHIFT_TYPES)),
                  st.sampled_from(["15.00", "40.00"])),
        st.tuples(st.just("on_call"), days, st.sampled_from(["06:00", "18:00"]),
                  st.sampled_from([4, 12, 30]), st.sampled_from(["draft", "published"])),
        st.tuples(st.just("on_call_change"), st.integers(0, 20),
                  st.sampled_from(["publish", "swap", "paid", "remove", "longer"])),
        st.tuples(st.just("on_call_policy"), st.booleans(), st.sampled_from([None, "25.00"])),
)  # fmt: skip
operations = st.lists(pay_write, min_size=1, max_size=12)


def _pick(ids: list[int], n: int) -> Shift | None:
    return db.session.get(Shift, ids[n % len(ids)]) if ids else None


def _on_call(op, world, current) -> None:
    """An on-call write: a period added (draft or published), published, swapped to a colleague,
    paid by a close, removed or made longer; or the policy's on-call treatment changed."""
    org, w = world["org"]["a"], world["user"]["worker"]
    kind = op[0]
    if kind == "on_call":
        _, day, clock, length, status = op
        start = at(current, day, clock)
        db.session.add(OnCallPeriod(organisation_id=org, site_id=world["site"]["a1"], worker_id=w,
                                    start_at=start, end_at=start + timedelta(hours=length),
                                    status=status))  # fmt: skip
    elif kind == "on_call_change":
        rows = db.session.scalars(sa.select(OnCallPeriod).order_by(OnCallPeriod.id)).all()
        if not rows:
            return
        row = rows[op[1] % len(rows)]
        if op[2] == "publish":
            row.status = "published"
        elif op[2] == "swap":
            row.worker_id = world["user"]["worker2"] if row.worker_id == w else w
        elif op[2] == "paid":
            period = db.session.scalar(sa.select(PayPeriod).where(PayPeriod.organisation_id == org))
            if period is None:
                period = PayPeriod(organisation_id=org, start_date=current.start - timedelta(14),
                                   end_date=current.start)  # fmt: skip
                db.session.add(period)
                db.session.flush()
            row.paid_in_period_id = period.id
        elif op[2] == "remove":
            db.session.execute(sa.update(Shift).where(Shift.on_call_period_id == row.id)
                               .values(call_back=False, on_call_period_id=None))  # fmt: skip
            db.session.delete(row)
        else:
            row.end_at = row.end_at + timedelta(hours=2)
    else:
        policy = db.session.scalar(sa.select(PayPolicy).where(PayPolicy.organisation_id == org))
        if policy is None:
            policy = PayPolicy(organisation_id=org)
            db.session.add(policy)
        policy.on_call_restrictive = op[1]
        policy.on_call_stipend = None if op[1] or op[2] is None else Decimal(op[2])


def _apply(op, ids: list[int], world, current) -> None:
    """One write, committed as the pages would."""
    org, w = world["org"]["a"], world["user"]["worker"]
    kind = op[0]
    if kind.startswith("on_call"):
        _on_call(op, world, current)
    elif kind == "log":
        _, day, clock, length, status, shift_type = op
        ids.append(make_shift(w, at(current, day, clock), hours=length, status=status,
                              shift_type=shift_type))  # fmt: skip
    elif kind in ("longer", "break", "retype", "approve", "return", "delete", "paid"):
        shift = _pick(ids, op[1])
        if shift is None or shift.paid_in_period_id is not None:
            return
        if kind == "longer":
            end = shift.end_at + timedelta(hours=op[2])
            if end - shift.start_at < timedelta(hours=1):
                return
            shift.end_at = end
        elif kind == "break":
            shift.break_minutes = op[2]
        elif kind == "retype":
            shift.shift_type = op[2]
        elif kind == "approve":
            shift.status = "approved"
        elif kind == "return":
            shift.status = "returned"
        elif kind == "delete":
            ids.remove(shift.id)
            db.session.delete(shift)
        elif kind == "paid":  # a close paid it (as a late shift of an earlier period)
            period = db.session.scalar(sa.select(PayPeriod).where(PayPeriod.organisation_id == org))
            if period is None:
                period = PayPeriod(organisation_id=org, start_date=current.start - timedelta(14),
                                   end_date=current.start)  # fmt: skip
                db.session.add(period)
                db.session.flush()
            shift.status, shift.paid_in_period_id = "approved", period.id
        if kind in ("longer", "break"):
            shift.worked_minutes = (
                int((shift.end_at - shift.start_at).total_seconds() // 60) - shift.break_minutes
            )
    elif kind == "rate":
        since = current.start + timedelta(days=op[1])
        row = db.session.scalar(
            sa.select(PayRate).where(PayRate.worker_id == w, PayRate.effective_from == since)
        )
        if row is None:
            make_rate(w, op[2], since=since, reason="Raise")
        else:
            row.hourly_rate = Decimal(op[2])  # a rate corrected in place
    elif kind == "correct":  # HR mends the newest rate's amount in place
        row = db.session.scalar(
            sa.select(PayRate).where(PayRate.worker_id == w).order_by(PayRate.effective_from.desc())
        )
        row.hourly_rate = Decimal(op[1])
    elif kind == "overtime":
        policy = db.session.scalar(sa.select(PayPolicy).where(PayPolicy.organisation_id == org))
        if policy is None:
            policy = PayPolicy(organisation_id=org)
            db.session.add(policy)
        policy.overtime_threshold, policy.overtime_multiplier = Decimal(op[1]), Decimal(op[2])
    elif kind == "differential":
        row = db.session.scalar(
            sa.select(PayDifferential).where(PayDifferential.organisation_id == org)
        )
        if row is None:
            db.session.add(PayDifferential(organisation_id=org, name="Night", start_time=time(22),
                                           end_time=time(6), per_hour=Decimal(op[1])))  # fmt: skip
        else:
            row.per_hour = Decimal(op[1])
    elif kind == "stipend":
        row = db.session.scalar(
            sa.select(ShiftStipend).where(
                ShiftStipend.organisation_id == org, ShiftStipend.shift_type == op[1]
            )
        )
        if row is None:
            db.session.add(ShiftStipend(organisation_id=org, shift_type=op[1],
                                        amount=Decimal(op[2])))  # fmt: skip
        else:
            row.amount = Decimal(op[2])
    db.session.commit()


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(operations)
def test_the_kept_pay_page_is_never_stale_after_any_writes(client, world, auth, app, ops):
    current, _ = periods(app, world["org"]["a"])
    with app.app_context():
        db.session.execute(sa.update(Shift).values(paid_in_period_id=None))
        for model in (Shift, OnCallPeriod, PayPeriod, PayRate, PayDifferential, ShiftStipend,
                      PayPolicy):  # fmt: skip
            db.session.execute(sa.delete(model))
        make_rate(world["user"]["worker"], "20.00")
        db.session.commit()
    kept.cache_clear()
    if not getattr(client, "signed_in", False):  # one client for all the examples
        auth.as_role("worker")
        client.signed_in = True
    ids: list[int] = []
    pay_page(client)  # a kept result of the state before the first write
    for op in ops:
        with app.app_context():
            _apply(op, ids, world, current)
            db.session.remove()
        seen = pay_page(client)
        assert seen == fresh_pay_page(client), op
