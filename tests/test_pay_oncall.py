"""On-call pay through the pages: HR sets the treatment (29 CFR 785.17), /pay names the on-call
periods and call-backs in "why is this my pay?", a close pays each period once and the
statement and its CSV include it; a call-back is logged as a shift linked to its period."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, OnCallPeriod, PayPolicy, PayStatement, Shift
from portal.pay import service as pay_service
from tests.factories import make_rate, make_shift
from tests.test_oncall import make_period, text
from tests.test_pay import at, close, periods


def set_policy(app, org, restrictive=False, stipend=None):
    with app.app_context():
        policy = db.session.get(PayPolicy, org) or PayPolicy(organisation_id=org)
        policy.on_call_restrictive = restrictive
        policy.on_call_stipend = Decimal(stipend) if stipend else None
        db.session.add(policy)
        db.session.commit()


def test_hr_chooses_the_on_call_treatment_and_bad_input_is_refused(client, auth, world, app):
    auth.as_role("hr")
    page = text(client.get("/hr/policy"))
    assert "On-call time" in page and "29 CFR 785.17" in page
    refused = client.post(
        "/hr/policy/on-call", data={"on_call_mode": "restrictive", "on_call_stipend": "40"}
    )
    assert refused.status_code == 422
    assert "leave the stipend blank" in text(refused)
    assert 'value="40"' in refused.get_data(as_text=True)  # the input is kept
    for bad, message in (
        ("18,50", "Use a dot for cents"),
        ("-5", "above zero"),
        ("5000", "above $1,000.00"),
        ("abc", "Enter a number"),
    ):
        response = client.post(
            "/hr/policy/on-call", data={"on_call_mode": "stipend", "on_call_stipend": bad}
        )
        assert response.status_code == 422 and message in text(response), bad
    assert client.post("/hr/policy/on-call", data={}).status_code == 422
    saved = client.post(
        "/hr/policy/on-call", data={"on_call_mode": "stipend", "on_call_stipend": "35.00"}
    )
    assert saved.status_code == 302
    with app.app_context():
        policy = db.session.get(PayPolicy, world["org"]["a"])
        assert (policy.on_call_restrictive, policy.on_call_stipend) == (False, Decimal("35.00"))
        assert policy.period_days == 14  # a first save keeps the other defaults
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "pay_policy.on_call_changed")) == 1  # fmt: skip
    client.post("/hr/policy/on-call", data={"on_call_mode": "restrictive"})
    with app.app_context():
        policy = db.session.get(PayPolicy, world["org"]["a"])
        assert (policy.on_call_restrictive, policy.on_call_stipend) == (True, None)


def test_pay_page_names_a_stipend_period_and_counts_it(client, auth, world, app):
    current, _ = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    set_policy(app, world["org"]["a"], stipend="40.00")
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(current, 0, "13:00"), hours=8, status="approved")
        # from the period's first midnight: always started (/pay prices started periods only)
        make_period(w, at(current, 0, "00:00"), hours=12)
        make_period(w, at(current, 0, "12:00"), hours=12, status="draft")  # not published: unpaid
        db.session.commit()
    auth.as_role("worker")
    page = text(client.get("/pay"))
    assert "$200.00" in page  # 8 x 20 + 40
    assert "On-call stipend $40.00" in page
    assert page.count("On call ") >= 1


def test_restrictive_on_call_is_hours_worked_and_a_call_back_is_not_counted_twice(
    client, auth, world, app
):
    current, _ = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    set_policy(app, world["org"]["a"], restrictive=True)
    with app.app_context():
        make_rate(w, "20.00")
        pid = make_period(w, at(current, 0, "00:00"), hours=12)
        db.session.commit()
    auth.as_role("worker")
    day = (current.start).isoformat()
    bad = client.post(
        "/shifts/new",
        data={
            "day": day,
            "start_time": "13:00",
            "end_time": "14:00",
            "site_id": world["site"]["a1"],
            "shift_type": "street_outreach",
            "call_back": "y",
        },
    )
    assert bad.status_code == 422 and "You were not on call" in text(bad)
    assert 'value="13:00"' in bad.get_data(as_text=True)
    ok = client.post(
        "/shifts/new",
        data={
            "day": day,
            "start_time": "02:00",
            "end_time": "05:00",
            "site_id": world["site"]["a1"],
            "shift_type": "hospital_response",
            "call_back": "y",
        },
    )
    assert ok.status_code == 302, text(ok)
    with app.app_context():
        shift = db.session.scalar(sa.select(Shift).where(Shift.call_back.is_(True)))
        assert shift.on_call_period_id == pid
        shift.status = "approved"
        db.session.commit()
    page = text(client.get("/pay"))
    assert "$240.00" in page  # 12 h in all: 3 h call-back + 9 h on call, never 15 h
    assert "On call (restrictive): 9.00 h worked" in page
    assert "Call-back while on call" in page


def test_a_close_pays_each_on_call_period_once_and_the_csv_has_it(client, auth, world, app):
    _, previous = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    set_policy(app, world["org"]["a"], stipend="40.00")
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(previous, 1), hours=9, status="approved")
        pid = make_period(w, at(previous, 2, "18:00"), hours=12)
        db.session.commit()
    auth.as_role("hr")
    result = close(client, previous)
    assert "Closed the period" in text(result)
    with app.app_context():
        st_ = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w))
        assert st_.stipends == Decimal("40.00") and st_.gross_pay == Decimal("220.00")
        period = db.session.get(OnCallPeriod, pid)
        assert period.paid_in_period_id == st_.period_id
        on_call = [o for wk in st_.details["weeks"] for o in wk.get("on_call", [])]
        assert [o["id"] for o in on_call] == [pid] and on_call[0]["stipend"] == "40.00"
        period_id, statement_id = st_.period_id, st_.id
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/hr/periods/{period_id}/statements.csv").get_data(as_text=True))))  # fmt: skip
    assert rows[0]["stipends"] == "40.00" and rows[0]["gross_pay"] == "220.00"
    auth.logout()
    auth.as_role("worker")
    assert "On-call stipend $40.00" in text(client.get(f"/pay/statements/{statement_id}"))
    # paid once: the open period does not price it again, and a swap of it is refused
    assert "On-call stipend" not in text(client.get("/pay"))
    with app.app_context():
        assert pay_service.unpaid_on_call(datetime.now(UTC) + timedelta(days=400)) == {}


def test_a_worker_with_only_on_call_time_gets_a_statement(client, auth, world, app):
    _, previous = periods(app, world["org"]["a"])
    w2 = world["user"]["worker2"]
    set_policy(app, world["org"]["a"], restrictive=True)
    with app.app_context():
        make_rate(w2, "18.00")
        make_rate(world["user"]["worker"], "20.00")  # someone's shift opens the period
        make_shift(world["user"]["worker"], at(previous, 1), hours=4, status="approved")
        make_period(w2, at(previous, 3, "06:00"), hours=10)
        db.session.commit()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        st_ = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w2))
        assert st_.hours == Decimal("10.00") and st_.gross_pay == Decimal("180.00")
