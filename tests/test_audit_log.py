"""The audit trail: which actions write an event, and the admin's read-only log browser."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.admin import audit_service
from portal.extensions import db
from portal.models import AuditEvent, Benchmark, User
from portal.pay import service as pay_service
from portal.pay import standards
from portal.timeutil import local_today
from tests.factories import make_rate, make_shift, make_statement, recent_start

# --- helpers -----------------------------------------------------------------------------------


def body(response) -> str:
    return response.get_data(as_text=True)


def actions(app) -> list[str]:
    """Every event's action, oldest first."""
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def event(app, action: str) -> AuditEvent:
    """The one event with this action (detached)."""
    with app.app_context():
        found = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))
        assert len(found) == 1, (action, actions(app))
        db.session.expunge(found[0])
        return found[0]


def add_event(app, **fields) -> int:
    """An event written directly, as any part of the portal would."""
    with app.app_context():
        row = AuditEvent(**{"action": "test.thing", "ip": "10.0.0.1", **fields})
        db.session.add(row)
        db.session.commit()
        return row.id


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response))))


# --- admin actions -----------------------------------------------------------------------------


def test_creating_an_account_and_sending_its_link_are_audited(app, client, world, auth):
    auth.as_role("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Nia Newcomer", "email": "nia@a.example.org", "roles": ["worker"],
            "organisation_id": world["org"]["a"], "site_id": world["site"]["a1"],
        },
    )  # fmt: skip
    assert response.status_code == 302
    created = event(app, "user.created")
    sent = event(app, "user.password_link_sent")
    assert created.actor_id == sent.actor_id == world["user"]["admin"]
    assert created.subject_id == created.record_id == sent.subject_id
    assert created.actor_role == "admin" and created.ip == "127.0.0.1"


def test_role_and_detail_changes_are_audited_separately(app, client, world, auth):
    auth.as_role("admin")
    uid = world["user"]["worker2"]
    data = {
        "name": "Worker2 A", "email": "worker2@a.example.org", "roles": ["worker"],
        "organisation_id": world["org"]["a"], "site_id": world["site"]["a1"],
    }  # fmt: skip
    assert client.post(f"/admin/users/{uid}", data=data).status_code == 302
    assert "user.roles_changed" not in actions(app) and "user.updated" not in actions(app)
    client.post(f"/admin/users/{uid}", data={**data, "roles": ["worker", "supervisor"]})
    assert event(app, "user.roles_changed").subject_id == uid
    client.post(f"/admin/users/{uid}", data={**data, "name": "Worker Two"})
    assert event(app, "user.updated").subject_id == uid


def test_deactivation_and_reactivation_are_audited(app, client, world, auth):
    auth.as_role("admin")
    uid = world["user"]["worker2"]
    client.post(f"/admin/users/{uid}/deactivate")
    client.post(f"/admin/users/{uid}/reactivate")
    assert event(app, "user.deactivated").subject_id == uid
    assert event(app, "user.reactivated").subject_id == uid


# --- HR actions --------------------------------------------------------------------------------


def test_a_pay_rate_change_is_audited(app, client, world, auth):
    auth.as_role("hr")
    worker = world["user"]["worker"]
    with app.app_context():
        day = local_today().isoformat()
    response = client.post(
        f"/hr/workers/{worker}",
        data={
            "effective_from": day, "classification": "employee_nonexempt",
            "hourly_rate": "19.25", "annual_salary": "", "reason": "Annual raise",
        },
    )  # fmt: skip
    assert response.status_code == 302
    added = event(app, "pay_rate.added")
    assert (added.record_type, added.subject_id, added.actor_id) == (
        "pay_rates", worker, world["user"]["hr"],
    )  # fmt: skip


def test_pay_policy_changes_are_audited(app, client, world, auth):
    auth.as_role("hr")
    policy = {
        "workweek_start": "6", "period_days": "14", "period_anchor": "2026-01-04",
        "overtime_threshold": "40", "overtime_multiplier": "1.5",
    }  # fmt: skip
    assert client.post("/hr/policy", data=policy).status_code == 302
    differential = {"name": "Nights", "start_time": "22:00", "end_time": "06:00", "per_hour": "2"}
    assert client.post("/hr/policy/differentials", data=differential).status_code == 302
    added = event(app, "pay_policy.differential_added")
    client.post(f"/hr/policy/differentials/{added.record_id}/remove")
    assert client.post("/hr/policy/stipends", data={"on_call": "40"}).status_code == 302
    assert event(app, "pay_policy.changed").record_type == "pay_policies"
    assert event(app, "pay_policy.differential_removed").record_id == added.record_id
    assert event(app, "pay_policy.stipends_changed").record_id == world["org"]["a"]


def test_choosing_a_floor_or_target_is_audited(app, world):
    with app.test_request_context():
        hr = db.session.get(User, world["user"]["hr"])
        name = db.session.scalar(sa.select(Benchmark.name).limit(1))
        standards.choose(hr, "floor", name, date(2026, 1, 1), None, "Policy")
        standards.choose(hr, "target", name, date(2026, 1, 1), "Interrupter", "Policy")
        db.session.commit()
    assert event(app, "pay_policy.floor_chosen").actor_id == world["user"]["hr"]
    assert event(app, "pay_policy.target_chosen").record_type == "wage_standards"


def test_a_job_title_change_is_audited(app, client, world, auth):
    auth.as_role("hr")
    worker = world["user"]["worker"]
    client.post(f"/hr/workers/{worker}/job-title", data={"job_title": "Interrupter"})
    assert event(app, "user.job_title_changed").subject_id == worker


def test_closing_a_period_is_audited(app, world):
    worker = world["user"]["worker"]
    with app.test_request_context():
        make_rate(worker, "20.00")
        make_shift(worker, recent_start(40, "09:00"), status="approved")
        db.session.commit()
        hr = db.session.get(User, world["user"]["hr"])
        closed = pay_service.close_period(world["org"]["a"], hr)
        db.session.commit()
        closed_id = closed.id
    closed_event = event(app, "pay_period.closed")
    assert (closed_event.record_id, closed_event.actor_id) == (closed_id, world["user"]["hr"])


def test_a_benchmark_import_is_audited(app, client, world, auth):
    auth.as_role("hr")
    text = (
        "kind,name,region,applies_to,hourly_usd,effective_from,source,source_url,note\n"
        "market,Test median,St. Louis,Community Health Workers,22.50,2025-05-31,BLS,"
        "https://www.bls.gov/oes/,\n"
    )
    assert client.post("/hr/benchmarks/import", data={"text": text}).status_code == 302
    assert event(app, "benchmarks.imported").actor_id == world["user"]["hr"]
    # A refused file changes nothing and writes no import event.
    client.post("/hr/benchmarks/import", data={"text": "nonsense"})
    assert actions(app).count("benchmarks.imported") == 1


def test_applying_a_what_if_is_audited(app, client, world, auth):
    with app.app_context():
        make_rate(world["user"]["worker"], "18.00")
        db.session.commit()
        start = local_today() + timedelta(days=20)
    auth.as_role("hr")
    response = client.post(
        "/hr/fair-pay/what-if",
        data={
            "scenario": "floor", "floor": "25.00", "effective_from": start.isoformat(),
            "reason": "Raise to the living wage",
        },
    )  # fmt: skip
    assert response.status_code == 302, body(response)
    assert event(app, "whatif.applied").record_id == world["org"]["a"]
    assert "pay_rate.added" in actions(app)


# --- exports -----------------------------------------------------------------------------------


def test_payroll_csv_export_is_audited(app, client, world, auth):
    with app.app_context():
        period, _statement = make_statement(world["user"]["worker"])
        db.session.commit()
    auth.as_role("hr")
    response = client.get(f"/hr/periods/{period}/statements.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    exported = event(app, "export.statements")
    assert (exported.record_type, exported.record_id) == ("pay_periods", period)
    assert "export.csv" not in actions(app)  # named once, not twice


def test_fair_pay_csv_export_is_audited(app, client, world, auth):
    auth.as_role("hr")
    assert client.get("/hr/fair-pay.csv").status_code == 200
    assert event(app, "export.fair_pay").actor_id == world["user"]["hr"]


def test_dashboard_csv_exports_are_audited(app, client, world, auth):
    """A download whose view does not audit itself is caught by the after-request hook."""
    auth.as_role("leader")
    response = client.get("/dashboard/wellbeing.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    exported = event(app, "export.csv")
    assert exported.record_type == "dashboard/wellbeing.csv"
    assert exported.actor_id == world["user"]["leader"]


def test_a_refused_download_is_not_an_export(app, client, world, auth):
    auth.as_role("leader")
    assert client.get("/dashboard/wellbeing.csv?from=nonsense").status_code == 422
    assert "export.csv" not in actions(app)


def test_own_data_export_is_audited_once(app, client, world, auth):
    auth.as_role("worker")
    client.get("/my-data.csv")
    assert actions(app).count("export.my_data") == 1
    assert "export.csv" not in actions(app)


# --- the browser: /admin/audit -----------------------------------------------------------------


def test_only_admins_reach_the_log(client, world, auth):
    for role in ("worker", "hr", "leader", "funder", "counselor", "supervisor"):
        auth.as_role(role)
        assert client.get("/admin/audit").status_code == 404, role
        assert client.get("/admin/audit.csv").status_code == 404, role
        auth.logout()
    assert client.get("/admin/audit").status_code == 302  # anonymous: sign in first


def test_nothing_can_change_the_log(app, client, world, auth):
    """GET only: there is no route that updates or deletes an event."""
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin/audit")]
    assert {r.rule for r in rules} == {"/admin/audit", "/admin/audit.csv"}
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}
    auth.as_role("admin")
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/admin/audit").status_code == 405


def test_log_lists_newest_first_with_every_column(app, client, world, auth):
    u = world["user"]
    add_event(app, action="old.one", at=datetime(2026, 1, 2, 15, 0, tzinfo=UTC))
    add_event(
        app, action="user.roles_changed", actor_id=u["admin"], actor_role="admin",
        record_type="users", record_id=u["worker2"], subject_id=u["worker2"], ip="203.0.113.9",
        outcome="ok", at=datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
    )  # fmt: skip
    auth.as_role("admin")
    response = client.get("/admin/audit")
    assert response.status_code == 200
    page = body(response)
    assert page.index("user.roles_changed") < page.index("old.one")
    for shown in (
        "Admin A", "admin@a.example.org (admin)", "users #", "Worker2 A",
        "worker2@a.example.org", "203.0.113.9", ">ok<", "2026-03-01<br>12:30:00",  # Chicago
    ):  # fmt: skip
        assert shown in page, shown
    assert "nobody signed in" in page  # the event without an actor


def test_pages_of_fifty(app, client, world, auth):
    with app.app_context():
        db.session.add_all(
            AuditEvent(action=f"bulk.{n:03d}", at=datetime(2026, 1, 1, tzinfo=UTC)
                       + timedelta(minutes=n))
            for n in range(120)
        )  # fmt: skip
        db.session.commit()
    auth.as_role("admin")
    first = body(client.get("/admin/audit?action=bulk."))
    assert "120 events" in first and "bulk.119" in first and "bulk.070" in first
    assert "bulk.069" not in first
    assert 'href="/admin/audit?page=2&amp;action=bulk."' in first
    last = body(client.get("/admin/audit?action=bulk.&page=3"))
    assert "bulk.019" in last and "bulk.020" not in last and "Page 3 of 3" in last
    assert "Page 3 of 3" in body(client.get("/admin/audit?action=bulk.&page=999"))
    assert "Page 1 of 3" in body(client.get("/admin/audit?action=bulk.&page=abc"))
    assert "Page 1 of 3" in body(client.get("/admin/audit?action=bulk.&page=-4"))


def test_filters(app, client, world, auth):
    u = world["user"]
    add_event(app, action="user.created", actor_id=u["admin"], outcome="ok",
              at=datetime(2026, 3, 1, 18, 0, tzinfo=UTC))  # fmt: skip
    add_event(app, action="test.sign_in", actor_id=None, subject_id=u["worker"], outcome="failed",
              at=datetime(2026, 3, 2, 5, 30, tzinfo=UTC))  # Mar 1, 23:30 in Chicago  # fmt: skip
    add_event(app, action="pay_rate.added", actor_id=u["hr"], outcome="ok",
              at=datetime(2026, 3, 5, 15, 0, tzinfo=UTC))  # fmt: skip
    auth.as_role("admin")

    def shown(query: str) -> set[str]:
        response = client.get("/admin/audit?" + query)
        assert response.status_code == 200, body(response)
        page = body(response)
        return {a for a in ("user.created", "test.sign_in", "pay_rate.added") if a in page}

    assert shown("action=user.") == {"user.created"}
    assert shown("action=USER.") == {"user.created"}
    assert shown("actor=hr@a.example") == {"pay_rate.added"}
    assert shown("actor=HR A") == {"pay_rate.added"}
    assert shown("outcome=failed") == {"test.sign_in"}
    assert shown("start=2026-03-02") == {"pay_rate.added"}  # 05:30 UTC on the 2nd is the 1st here
    assert shown("end=2026-03-01") == {"user.created", "test.sign_in"}
    assert shown("start=2026-03-01&end=2026-03-01&outcome=ok") == {"user.created"}
    assert shown("actor=%25") == set()  # a literal %, not a wildcard


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-13-01", "Enter the date as YYYY-MM-DD"),
        ("end=yesterday", "Enter the date as YYYY-MM-DD"),
        ("start=1066-10-14", "Enter a date between 2000 and 2100."),
        ("start=2026-03-05&end=2026-03-01", "The end date is before the start date."),
        ("action=user.%25", "Enter the start of an action"),
        ("action=" + "a" * 61, "Enter the start of an action"),
        ("outcome=ok;drop", "Enter one outcome"),
        ("actor=" + "x" * 255, "Enter at most 254 characters"),
    ],
)
def test_bad_filters_are_refused_clearly(client, world, auth, query, message):
    auth.as_role("admin")
    response = client.get("/admin/audit?" + query)
    assert response.status_code == 422
    page = body(response)
    assert 'role="alert"' in page and message in page
    csv_response = client.get("/admin/audit.csv?" + query)
    assert csv_response.status_code == 422 and message in body(csv_response)


def test_fixed_number_of_queries_whatever_the_rows(app, client, world, auth, count_queries):
    u = world["user"]
    people = [u["worker"], u["worker2"], u["hr"], u["supervisor"]]
    auth.as_role("admin")
    add_event(app, actor_id=u["admin"], subject_id=u["worker"])
    with count_queries() as few:
        assert client.get("/admin/audit").status_code == 200
    with app.app_context():
        db.session.add_all(
            AuditEvent(action="x.y", actor_id=people[n % 4], subject_id=people[(n + 1) % 4])
            for n in range(60)
        )
        db.session.commit()
    with count_queries() as many:
        assert client.get("/admin/audit").status_code == 200
    assert few() == many()
    with count_queries() as csv_few:
        client.get("/admin/audit.csv?action=test.").get_data()
    with count_queries() as csv_many:
        client.get("/admin/audit.csv").get_data()
    assert csv_few() == csv_many()


def test_csv_export_of_the_filtered_rows_is_itself_audited(app, client, world, auth):
    u = world["user"]
    add_event(app, action="user.created", actor_id=u["admin"], actor_role="admin",
              record_type="users", record_id=u["worker"], subject_id=u["worker"],
              at=datetime(2026, 3, 1, 18, 0, tzinfo=UTC))  # fmt: skip
    add_event(app, action="pay_rate.added", actor_id=u["hr"])
    add_event(app, action="user.updated", ip="=HYPERLINK(1)")
    auth.as_role("admin")
    response = client.get("/admin/audit.csv?action=user.")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert [r["action"] for r in rows] == ["user.updated", "user.created"]
    created = rows[1]
    assert created["time_local"] == "2026-03-01T12:00:00-06:00"
    assert (created["actor_email"], created["subject_email"], created["record_id"]) == (
        "admin@a.example.org", "worker@a.example.org", str(u["worker"]),
    )  # fmt: skip
    assert rows[0]["ip"] == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it
    exported = event(app, "export.audit_log")
    assert exported.actor_id == u["admin"] and exported.record_type == "audit_events"
    assert "export.csv" not in actions(app)


def test_an_empty_csv_still_has_its_header(client, world, auth):
    auth.as_role("admin")
    rows = body(client.get("/admin/audit.csv?action=nothing.matches"))
    assert rows.strip() == ",".join(audit_service.CSV_COLUMNS)


# --- wellbeing stays out of the admin's sight --------------------------------------------------


def test_wellbeing_reads_name_the_reader_but_not_the_worker(app, client, world, auth):
    u = world["user"]
    add_event(app, action="wellbeing.read", actor_id=u["counselor"], actor_role="counselor",
              record_type="checkins", record_id=987654, subject_id=u["worker3"])  # fmt: skip
    auth.as_role("admin")
    page = body(client.get("/admin/audit"))
    assert "wellbeing.read" in page and "Counselor A" in page
    assert "hidden (wellbeing)" in page
    assert "Worker3 A" not in page and "worker3@" not in page and "987654" not in page
    rows = csv_rows(client.get("/admin/audit.csv"))
    read = next(r for r in rows if r["action"] == "wellbeing.read")
    assert read["subject_name"] == audit_service.HIDDEN
    assert read["subject_email"] == read["record_id"] == ""
    assert read["actor_email"] == "counselor@a.example.org"


def test_a_workers_own_wellbeing_events_are_not_listed(app, client, world, auth):
    """Deleting one's own check-in would tell the admin one existed: left out of the browser."""
    u = world["user"]
    for action, kind in (("checkin.deleted", "checkins"), ("exposure.deleted", "exposures"),
                         ("booking.deleted", "bookings")):  # fmt: skip
        add_event(app, action=action, actor_id=u["worker3"], record_type=kind, record_id=5,
                  subject_id=u["worker3"])  # fmt: skip
    add_event(app, action="export.my_data", actor_id=u["worker3"], record_type="users",
              record_id=u["worker3"], subject_id=u["worker3"])  # fmt: skip
    auth.as_role("admin")
    page = body(client.get("/admin/audit?actor=worker3"))
    assert ".deleted" not in page
    assert "export.my_data" in page  # not a wellbeing record: shown
    assert ".deleted" not in body(client.get("/admin/audit.csv?actor=worker3"))
    with app.app_context():  # still kept, for an investigation that has the right to it
        assert db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action.like("%.deleted"))
        ) == 3
