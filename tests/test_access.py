"""Every route against every role, from one declared table.

A new route without a row here fails the suite, so nobody adds a page without deciding who may
reach it. Records that are not the viewer's answer 404, never 403.
"""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.factories import make_shift, make_statement, recent_start

ROLES = ["anonymous", "worker", "supervisor", "counselor", "hr", "leader", "funder", "admin"]

# endpoint: (method, url, {role: status}); a role not named gets `default`.
# Anonymous visitors of a signed-in page are sent to /login (302).
SIGNED_IN = {"anonymous": 302}


def row(method, url, default=404, **statuses):
    return method, url, {**SIGNED_IN, **statuses}, default


ROUTES = {
    "auth.login": row("GET", "/login", default=302, anonymous=200),
    "auth.logout": row("POST", "/logout", default=302),
    "auth.set_password": row("GET", "/set-password/not-a-token", default=404, anonymous=404),
    # Two-factor sign-in, re-authentication and the account page (tests/test_two_factor.py,
    # test_reauth.py, test_sessions.py). The second step without a password first goes to /login.
    "auth.two_factor": row("GET", "/login/two-factor", default=302),
    "auth.reauth": row("GET", "/reauth", default=200),
    "auth.account": row("GET", "/account", default=200),
    "auth.two_factor_setup": row("GET", "/account/two-factor", default=200),
    "auth.two_factor_disable": row("POST", "/account/two-factor/disable", default=422),
    # New recovery codes: shown (200) to those with two-factor on (the roles that require it).
    "auth.recovery_codes": row(
        "POST", "/account/two-factor/recovery-codes", default=302,
        counselor=200, hr=200, funder=200, admin=200,
    ),  # fmt: skip
    "auth.sign_out_everywhere": row("POST", "/account/sign-out-everywhere", default=302),
    # Anyone may ask for a reset link (same answer whoever asks): tests/test_password_reset.py.
    "auth.forgot_password": row("GET", "/forgot-password", default=200, anonymous=200),
    "auth.forgot_password_sent": row("GET", "/forgot-password/sent", default=200, anonymous=200),
    "main.home": row("GET", "/", default=200),
    "main.healthz": row("GET", "/healthz", default=200, anonymous=200),
    "main.help_now": row("GET", "/help", default=200, anonymous=200),
    "shifts.index": row("GET", "/shifts", worker=200),
    "shifts.new": row("GET", "/shifts/new", worker=200),
    "shifts.show": row("GET", "/shifts/{shift}", worker=200, supervisor=200),
    "shifts.edit": row("GET", "/shifts/{shift}/edit", worker=200),
    "shifts.delete": row("POST", "/shifts/{shift}/delete", worker=302),
    "shifts.review": row("GET", "/shifts/review", supervisor=200),
    "shifts.approve_many": row("POST", "/shifts/review/approve", supervisor=302),
    "shifts.approve": row("POST", "/shifts/{shift}/approve", supervisor=302),
    "shifts.return_": row("POST", "/shifts/{shift}/return", supervisor=302),
    "pay.index": row("GET", "/pay", worker=200),
    "pay.statement": row("GET", "/pay/statements/{statement}", worker=200, hr=200),
    "hr.periods": row("GET", "/hr/periods", hr=200),
    "hr.fair_pay": row("GET", "/hr/fair-pay", hr=200),
    "hr.fair_pay_csv": row("GET", "/hr/fair-pay.csv", hr=200),
    "hr.standards_page": row("GET", "/hr/fair-pay/standards", hr=200),
    "hr.save_standard": row("POST", "/hr/fair-pay/standards/floor", hr=422),
    "hr.whatif": row("GET", "/hr/fair-pay/what-if", hr=200),
    "hr.job_title": row("POST", "/hr/workers/{user}/job-title", hr=302),
    "hr.close_period": row("POST", "/hr/periods/close", hr=302),
    "hr.period": row("GET", "/hr/periods/{period}", hr=200),
    "hr.period_csv": row("GET", "/hr/periods/{period}/statements.csv", hr=200),
    "hr.index": row("GET", "/hr/", hr=200),
    # A shift's pay: hold it back from pay or release it (tests/test_pay_unstuck.py). {shift}
    # is submitted: the hold is refused on the form (422); releasing an unheld one is a no-op.
    "hr.shift_pay": row("GET", "/hr/shifts/{shift}", hr=200),
    "hr.release_shift": row("POST", "/hr/shifts/{shift}/release", hr=302),
    "hr.worker": row("GET", "/hr/workers/{user}", hr=200),
    "hr.policy": row("GET", "/hr/policy", hr=200),
    "hr.add_differential": row("POST", "/hr/policy/differentials", hr=422),
    "hr.remove_differential": row("POST", "/hr/policy/differentials/{shift}/remove", hr=302),
    "hr.save_stipends": row("POST", "/hr/policy/stipends", hr=302),
    "hr.save_on_call": row("POST", "/hr/policy/on-call", hr=422),
    "benchmarks.index": row("GET", "/hr/benchmarks/", hr=200),
    "benchmarks.import_csv": row("POST", "/hr/benchmarks/import", hr=422),
    "wellbeing.my_data": row("GET", "/my-data", default=200),
    "wellbeing.my_data_json": row("GET", "/my-data.json", default=200),
    "wellbeing.my_data_csv": row("GET", "/my-data.csv", default=200),
    "admin.index": row("GET", "/admin/", admin=302),
    "admin.users": row("GET", "/admin/users", admin=200),
    "admin.new_user": row("GET", "/admin/users/new", admin=200),
    "admin.edit_user": row("GET", "/admin/users/{user}", admin=200),
    "admin.deactivate_user": row("POST", "/admin/users/{user}/deactivate", admin=302),
    "admin.reactivate_user": row("POST", "/admin/users/{user}/reactivate", admin=302),
    "admin.send_link": row("POST", "/admin/users/{user}/send-link", admin=302),
    "admin.reset_two_factor": row("POST", "/admin/users/{user}/reset-two-factor", admin=302),
    "admin.audit_log": row("GET", "/admin/audit", admin=200),
    "admin.organisations": row("GET", "/admin/organisations", admin=200),
    "admin.new_organisation": row("GET", "/admin/organisations/new", admin=200),
    "admin.edit_organisation": row("GET", "/admin/organisations/{org}", admin=200),
    "admin.add_organisation_site": row("POST", "/admin/organisations/{org}/sites", admin=422),
    "admin.edit_site": row("GET", "/admin/sites/{site}", admin=200),
    "admin.close_site": row("POST", "/admin/sites/{site}/close", admin=302),
    "admin.reopen_site": row("POST", "/admin/sites/{site}/reopen", admin=302),
    "admin.audit_csv": row("GET", "/admin/audit.csv", admin=200),
    # Check-ins: the id is never the viewer's own here, so 404 for all; the owner, the counsellor
    # (outreach or consent) and every other role against a real record: tests/test_checkins.py.
    "wellbeing.checkins": row("GET", "/checkins", worker=200),
    "wellbeing.checkins_shared": row("GET", "/checkins/shared", counselor=200),
    "wellbeing.checkin_new": row("GET", "/checkins/new", worker=200),
    "wellbeing.checkin": row("GET", "/checkins/{shift}"),
    "wellbeing.checkin_delete": row("POST", "/checkins/{shift}/delete"),
    "wellbeing.checkin_reminders": row("POST", "/checkins/reminders", worker=302),
    # Exposures: the id is never the viewer's own here, so 404 for all; the owner's own answers
    # (200/302) and every other role against a real record are in tests/test_exposures.py.
    "wellbeing.exposures": row("GET", "/exposures", worker=200),
    "wellbeing.exposure_new": row("POST", "/exposures/new", worker=422),
    "wellbeing.exposure": row("GET", "/exposures/{shift}"),
    "wellbeing.exposure_offer_accept": row("POST", "/exposures/{shift}/offer/accept"),
    "wellbeing.exposure_offer_decline": row("POST", "/exposures/{shift}/offer/decline"),
    "wellbeing.exposure_delete": row("POST", "/exposures/{shift}/delete"),
    # Support requests: the id is never a request here, so 404 for all; the owner, counsellors
    # of the same and of another organisation, and every other role: tests/test_support.py.
    "wellbeing.support": row("GET", "/support", worker=200),
    "wellbeing.support_new": row("GET", "/support/new", worker=200),
    "wellbeing.support_queue": row("GET", "/support/queue", counselor=200),
    "wellbeing.support_phone": row("GET", "/support/contact-number", worker=200, counselor=200),
    "wellbeing.support_request": row("GET", "/support/{shift}"),
    "wellbeing.support_cancel": row("POST", "/support/{shift}/cancel"),
    "wellbeing.support_acknowledge": row("POST", "/support/{shift}/acknowledge"),
    "wellbeing.support_note": row("POST", "/support/{shift}/notes"),
    "wellbeing.support_schedule": row("POST", "/support/{shift}/schedule"),
    "wellbeing.support_close": row("POST", "/support/{shift}/close"),
    # Counselling, the counsellor's side: ids are never the counsellor's own records here, so 404
    # for all; owners and other counsellors: tests/test_counseling_counselor.py.
    "counseling.availability": row("GET", "/counseling/availability", counselor=200),
    "counseling.add_rule": row("POST", "/counseling/availability/rules", counselor=422),
    "counseling.remove_rule": row("POST", "/counseling/availability/rules/{shift}/remove"),
    "counseling.remove_time_off": row("POST", "/counseling/availability/time-off/{shift}/remove"),
    "counseling.add_slot": row("POST", "/counseling/availability/slots", counselor=422),
    "counseling.withdraw_slot": row("POST", "/counseling/availability/slots/{shift}/withdraw"),
    "counseling.add_time_off": row("POST", "/counseling/availability/time-off", counselor=422),
    "counseling.sessions": row("GET", "/counseling/sessions", counselor=200),
    "counseling.cancel_session": row("POST", "/counseling/sessions/{shift}/cancel"),
    "counseling.complete_session": row("POST", "/counseling/sessions/{shift}/complete"),
    "counseling.missed_session": row("POST", "/counseling/sessions/{shift}/missed"),
    "counseling.book_for_request": row("GET", "/support/{shift}/book"),
    # Counselling, the worker's side: the ids are never a slot or booking here, so 404 for all;
    # owners, counsellors of both organisations and every other role: test_counseling_booking.py.
    "counseling.index": row("GET", "/counseling", worker=200),
    "counseling.book": row("POST", "/counseling/slots/{shift}/book"),
    "counseling.booking": row("GET", "/bookings/{shift}"),
    "counseling.booking_ics_file": row("GET", "/bookings/{shift}/session.ics"),
    "counseling.cancel": row("POST", "/bookings/{shift}/cancel"),
    "counseling.delete_booking": row("POST", "/bookings/{shift}/delete"),
    "counseling.reschedule": row("GET", "/bookings/{shift}/reschedule"),
    # On call: {shift} is no on-call period or swap of anyone's, so 404 for all; owners,
    # colleagues, supervisors of the site and of other organisations: tests/test_oncall.py.
    # {site} is Walnut Park, not the supervisor's site (Dutchtown): 404 for them too.
    "oncall.index": row("GET", "/oncall", worker=200),
    "oncall.period": row("GET", "/oncall/periods/{shift}"),
    "oncall.ask_swap": row("POST", "/oncall/periods/{shift}/swap"),
    "oncall.accept_swap": row("POST", "/oncall/swaps/{shift}/accept"),
    "oncall.decline_swap": row("POST", "/oncall/swaps/{shift}/decline"),
    "oncall.withdraw_swap": row("POST", "/oncall/swaps/{shift}/withdraw"),
    "oncall.approve_swap": row("POST", "/oncall/swaps/{shift}/approve"),
    "oncall.refuse_swap": row("POST", "/oncall/swaps/{shift}/refuse"),
    "oncall.rota": row("GET", "/oncall/rota", supervisor=200),
    "oncall.add_period": row("POST", "/oncall/rota/sites/{site}/periods"),
    "oncall.remove_period": row("POST", "/oncall/rota/periods/{shift}/remove"),
    "oncall.cancel_period": row("POST", "/oncall/rota/periods/{shift}/cancel"),
    "oncall.end_period": row("POST", "/oncall/rota/periods/{shift}/end"),
    "oncall.publish": row("POST", "/oncall/rota/sites/{site}/publish"),
    # Safety check-ins (tests/test_safety.py): {shift} is no check-in of anyone's here, so
    # the id routes answer 404 to everyone; a bare POST to /safety is refused on the form.
    "safety.index": row("GET", "/safety", worker=200),
    "safety.settings": row("GET", "/safety/settings", worker=200),
    "safety.sos": row("GET", "/safety/sos", worker=200),
    "safety.safe": row("POST", "/safety/{shift}/safe"),
    "safety.extend": row("POST", "/safety/{shift}/extend"),
    "safety.position": row("POST", "/safety/{shift}/position"),
    "safety.alarms": row("GET", "/safety/alarms", supervisor=200),
    "safety.alarm": row("GET", "/safety/alarms/{shift}"),
    # Training (tests/test_training.py): ids are never a course, session or attendance here, so
    # 404 for all; another organisation's real records: test_record_isolation.py.
    "training.index": row("GET", "/training", worker=200),
    "training.completion": row("GET", "/training/completion", leader=200),
    "training.completion_csv": row("GET", "/training/completion.csv", leader=200),
    "training.hr_index": row("GET", "/hr/training", hr=200),
    "training.add_course": row("POST", "/hr/training/courses", hr=422),
    "training.course": row("GET", "/hr/training/courses/{shift}"),
    "training.add_requirement": row("POST", "/hr/training/courses/{shift}/requirements"),
    "training.remove_requirement": row(
        "POST", "/hr/training/courses/{shift}/requirements/{shift}/remove"),
    "training.new_session": row("GET", "/hr/training/sessions/new", hr=200),
    "training.session": row("GET", "/hr/training/sessions/{shift}"),
    "training.remove_attendance": row("POST", "/hr/training/attendances/{shift}/remove"),
    "training.hr_due": row("GET", "/hr/training/due", hr=200),
    "training.hr_due_csv": row("GET", "/hr/training/due.csv", hr=200),
    "dashboard.index": row("GET", "/dashboard", leader=200, funder=200),
    "dashboard.report": row("GET", "/dashboard/report", leader=200, funder=200),
    "dashboard.table_csv": row("GET", "/dashboard/wellbeing.csv", leader=200, funder=200),
    # The API answers to a bearer token only: a session cookie, whoever's, is refused with 401.
    # Tokens, scopes and refusals: tests/test_api.py.
    "api.programme_stats": row("GET", "/api/v1/stats/programme", default=401, anonymous=401),
    "api.workforce_stats": row("GET", "/api/v1/stats/workforce", default=401, anonymous=401),
    "api.openapi_document": row("GET", "/api/v1/openapi.json", default=200, anonymous=200),
    # API tokens: {user} is a worker, who may not hold one (422); {shift} is no token of theirs.
    "admin.tokens": row("GET", "/admin/users/{user}/tokens", admin=200),
    "admin.issue_token": row("POST", "/admin/users/{user}/tokens", admin=422),
    "admin.revoke_token": row("POST", "/admin/users/{user}/tokens/{shift}/revoke"),
}


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints == set(ROUTES), "declare who may reach each route in ROUTES"


CASES = [(endpoint, role) for endpoint in ROUTES for role in ROLES]


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_route_answers_each_role(client, world, auth, app, endpoint, role):
    method, url, statuses, default = ROUTES[endpoint]
    with app.app_context():
        shift = make_shift(world["user"]["worker"], recent_start(1, "09:00"))
        period, statement = make_statement(world["user"]["worker"])
        db.session.commit()
    url = url.format(shift=shift, user=world["user"]["worker2"], period=period, statement=statement,
                     org=world["org"]["a"], site=world["site"]["a2"])
    if role != "anonymous":
        auth.as_role(role)
    data = {"reason": "Check the times.", "shift_ids": [shift]} if method == "POST" else None
    response = client.open(url, method=method, data=data)
    expected = statuses.get(role, default)
    assert response.status_code == expected, f"{method} {url} as {role}"
    if expected == 302 and role == "anonymous":
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES[1:])
def test_other_organisations_records_are_404_for_everyone(client, world, auth, app, role):
    with app.app_context():
        theirs = make_shift(world["user"]["worker_b"], recent_start(1, "09:00"), note="b-private")
        period, statement = make_statement(world["user"]["worker_b"], gross="4321.00")
        db.session.commit()
    auth.as_role(role)
    for method, url in [
        ("GET", f"/shifts/{theirs}"),
        ("GET", f"/shifts/{theirs}/edit"),
        ("POST", f"/shifts/{theirs}/delete"),
        ("POST", f"/shifts/{theirs}/approve"),
        ("POST", f"/shifts/{theirs}/return"),
        ("GET", f"/pay/statements/{statement}"),
        ("GET", f"/hr/periods/{period}"),
        ("GET", f"/hr/periods/{period}/statements.csv"),
        ("GET", f"/hr/shifts/{theirs}"),
        ("POST", f"/hr/shifts/{theirs}"),
        ("POST", f"/hr/shifts/{theirs}/release"),
    ]:
        response = client.open(url, method=method, data={"reason": "x"})
        assert response.status_code == 404, f"{method} {url} as {role}"
        assert "b-private" not in response.get_data(as_text=True)
        assert "4,321.00" not in response.get_data(as_text=True)
    with app.app_context():
        from portal.models import Shift

        assert db.session.get(Shift, theirs).status == "submitted"
