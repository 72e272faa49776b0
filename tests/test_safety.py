"""Safety check-ins: start, more time, "I'm safe" with and without codes, the duress code that
looks like "I'm safe", SOS, the escalation timeline (never a step twice), supervisors' alarms,
opt-in positions kept 24 hours. Refusals are shown on the form (422, input kept); other
workers', sites' and organisations' check-ins answer 404."""

from __future__ import annotations

import html
import json
import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    MAX_CHECKIN_MINUTES,
    AuditEvent,
    Organisation,
    SafetyCheckin,
    SafetyPosition,
    User,
)
from portal.safety import alerts
from portal.safety import service as svc
from portal.timeutil import utcnow


def text(response) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(words).split())


def mails(app) -> list[tuple[str, str]]:
    """(recipient, whole message) of every mail written to the test folder, oldest first."""
    folder = app.config["MAIL_DIR"]
    if not os.path.isdir(folder):
        return []
    out = []
    for name in sorted(os.listdir(folder)):
        body = open(os.path.join(folder, name), encoding="utf-8").read()
        to = re.search(r"^To: (.*)$", body, re.M).group(1).strip()
        out.append((to, body))
    return out


def texts(app) -> list[str]:
    folder = app.config["SMS_DIR"]
    if not os.path.isdir(folder):
        return []
    names = sorted(os.listdir(folder))
    return [open(os.path.join(folder, n), encoding="utf-8").read() for n in names]


def start(client, place="Gravois and Meramec", minutes="30", other="", buddy=""):
    return client.post("/safety", data={"place": place, "minutes": minutes,
                                        "other_minutes": other, "buddy_id": buddy})


def checkins(app) -> list[SafetyCheckin]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(SafetyCheckin).order_by(SafetyCheckin.id)))
        db.session.expunge_all()
        return rows


def only(app) -> SafetyCheckin:
    rows = checkins(app)
    assert len(rows) == 1
    return rows[0]


def set_codes(client, safe="2468", duress="1357", **extra):
    data = {"safe_code": safe, "safe_code_confirm": safe, "duress_code": duress,
            "duress_code_confirm": duress, "contact_name": "", "contact_phone": "",
            "contact_email": "", **extra}
    return client.post("/safety/settings", data=data)


def actions(app, prefix="safety.") -> list[str]:
    with app.app_context():
        return list(db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like(prefix + "%"))
            .order_by(AuditEvent.id)
        ))


# --- the worker's flow -----------------------------------------------------------------------


def test_a_refused_start_says_why_and_keeps_the_input(client, auth, world, app):
    auth.as_role("worker")
    response = start(client, place="  ", minutes="", other="abc")
    assert response.status_code == 422
    page = text(response)
    assert 'role="alert"' in response.get_data(as_text=True)
    assert "Say where you are going" in page and "whole number" in page
    response = start(client, place="Behind the rec centre", other="721")
    assert response.status_code == 422
    assert "between 5 and 720 minutes" in text(response)
    assert 'value="Behind the rec centre"' in response.get_data(as_text=True)
    response = start(client, place="x" * 201)
    assert "under 200 characters" in text(response)
    response = start(client, buddy=str(world["user"]["worker_b"]))
    assert response.status_code == 422 and "Choose a buddy from the list" in text(response)
    response = start(client, buddy=str(world["user"]["worker"]))  # not themselves
    assert response.status_code == 422
    assert checkins(app) == []


def test_start_shows_the_countdown_and_a_second_start_is_refused(client, auth, world, app):
    auth.as_role("worker")
    response = start(client, minutes="15", buddy=str(world["user"]["worker2"]))
    assert response.status_code == 302
    page = text(client.get("/safety"))
    assert "Check-in running" in page and "Due back at" in page and "I'm safe" in page
    assert "buddy Worker2 A" in page and "SOS" in page and "+15 min" in page
    assert "Your safe code" not in page  # no codes set: a plain button
    c = only(app)
    assert c.status == "active" and 14 <= (c.due_at - c.started_at).total_seconds() / 60 <= 15
    assert c.site_id == world["site"]["a1"] and c.buddy_id == world["user"]["worker2"]
    again = start(client, place="Somewhere else")  # a double tap, or a second phone
    assert again.status_code == 302
    assert "You already have a check-in running" in text(client.get("/safety"))
    assert len(checkins(app)) == 1
    assert actions(app) == ["safety.start"]


def test_typed_minutes_win_over_the_quick_choice(client, auth, world, app):
    auth.as_role("worker")
    assert start(client, minutes="15", other="45").status_code == 302
    c = only(app)
    assert round((c.due_at - c.started_at).total_seconds() / 60) == 45


def test_more_time_is_bounded_by_twelve_hours_from_the_start(client, auth, world, app):
    auth.as_role("worker")
    start(client, minutes="30")
    c = only(app)
    assert client.post(f"/safety/{c.id}/extend", data={"minutes": "15"}).status_code == 302
    assert only(app).due_at == c.due_at + timedelta(minutes=15)
    response = client.post(f"/safety/{c.id}/extend", data={"minutes": "45"}, follow_redirects=True)
    assert "Choose +15 or +30 minutes." in text(response)
    with app.app_context():
        row = db.session.get(SafetyCheckin, c.id)
        row.due_at = row.started_at + timedelta(minutes=MAX_CHECKIN_MINUTES - 10)
        db.session.commit()
    client.post(f"/safety/{c.id}/extend", data={"minutes": "30"})
    latest = c.started_at + timedelta(minutes=MAX_CHECKIN_MINUTES)
    assert only(app).due_at == latest  # clamped
    assert "+15 min" not in text(client.get("/safety"))
    response = client.post(f"/safety/{c.id}/extend", data={"minutes": "15"},
                           follow_redirects=True)
    assert "already runs the longest it can" in text(response)
    assert only(app).due_at == latest
    assert actions(app).count("safety.extend") == 2


def test_im_safe_without_codes_ends_it(client, auth, world, app):
    auth.as_role("worker")
    start(client)
    c = only(app)
    response = client.post(f"/safety/{c.id}/safe", data={}, follow_redirects=True)
    assert "Good to hear you're safe. Your check-in has ended." in text(response)
    assert "Start check-in" in text(response) and "Safe at" in text(response)
    c = only(app)
    assert c.status == "safe" and c.ended_at is not None and c.alarm_kind is None
    assert mails(app) == []


def test_settings_refusals_say_why_and_keep_the_contact(client, auth, world, app):
    auth.as_role("worker")
    response = set_codes(client, safe="12a4", duress="1357", contact_name="Dana Example",
                         contact_phone="123", contact_email="not-mail")
    assert response.status_code == 422
    page = text(response)
    assert "Use 4 to 8 digits." in page and "(314) 555-0142" in page
    assert "like name@example.org" in page
    assert 'value="Dana Example"' in response.get_data(as_text=True)
    assert "must differ" in text(set_codes(client, safe="2468", duress="2468"))
    response = client.post("/safety/settings", data={
        "safe_code": "2468", "safe_code_confirm": "2469", "duress_code": "1357",
        "duress_code_confirm": "1357"})
    assert response.status_code == 422 and "two safe codes are not the same" in text(response)
    response = client.post("/safety/settings", data={"safe_code": "2468",
                                                     "safe_code_confirm": "2468"})
    assert "both codes are set together" in text(response)
    ok = set_codes(client, contact_name="Dana Example", contact_phone="(314) 555-0199",
                   contact_email="dana@example.org", share_location="y")
    assert ok.status_code == 302
    with app.app_context():
        s = svc.settings_for(db.session.get(User, world["user"]["worker"]))
        assert s.contact_phone == "+13145550199" and s.share_location is True
        assert s.safe_code_hash.startswith("$argon2") and "2468" not in s.safe_code_hash
    # Leaving the codes blank keeps them; the page says they are set.
    assert "Your codes are set" in text(client.get("/safety/settings"))
    client.post("/safety/settings", data={"contact_name": "Dana Example",
                                          "contact_email": "dana@example.org"})
    with app.app_context():
        assert svc.has_codes(svc.settings_for(db.session.get(User, world["user"]["worker"])))


def test_wrong_code_ends_nothing_and_is_counted(client, auth, world, app):
    auth.as_role("worker")
    set_codes(client)
    start(client)
    c = only(app)
    assert "Your safe code" in text(client.get("/safety"))
    response = client.post(f"/safety/{c.id}/safe", data={"code": ""})
    assert response.status_code == 422 and "Enter your safe code" in text(response)
    for _ in range(svc.WRONG_CODES_ALLOWED):
        response = client.post(f"/safety/{c.id}/safe", data={"code": "0000"})
        assert response.status_code == 422
        assert "That code is not right. Your check-in is still running." in text(response)
    assert only(app).status == "active"
    response = client.post(f"/safety/{c.id}/safe", data={"code": "2468"})  # right, too late
    assert response.status_code == 422 and "Too many wrong codes" in text(response)
    assert only(app).status == "active"
    assert actions(app).count("safety.code_wrong") == svc.WRONG_CODES_ALLOWED


def _normalised(page: str) -> str:
    page = re.sub(r'value="[^"]*"', 'value=""', page)  # the CSRF token, option ids
    page = re.sub(r"/safety/\d+/", "/safety/N/", page)
    page = re.sub(r"\b\d{1,2}:\d\d\b", "HH:MM", page)
    return page.replace("Worker2 A", "NAME").replace("Worker A", "NAME")


def test_duress_looks_exactly_like_safe_to_the_worker_and_raises_the_alarm(client, auth, world,
                                                                           app):
    pages = {}
    for who, code in (("worker", "2468"), ("worker2", "1357")):  # worker2 types the duress code
        auth.as_role(who)
        set_codes(client)
        start(client, place="Gravois and Meramec")
        c = checkins(app)[-1]
        ended = client.post(f"/safety/{c.id}/safe", data={"code": code})
        assert ended.status_code == 302 and ended.headers["Location"] == "/safety"
        pages[who] = [client.get("/safety").get_data(as_text=True),
                      client.get("/safety").get_data(as_text=True)]
        pages[who].append(client.get("/my-data.json").get_data(as_text=True))
        auth.logout()
    assert "Good to hear you" in pages["worker2"][0]
    assert _normalised(pages["worker"][0]) == _normalised(pages["worker2"][0])
    assert _normalised(pages["worker"][1]) == _normalised(pages["worker2"][1])
    for page in pages["worker2"]:
        assert "duress" not in page.lower() and "alarm" not in page.lower()
    exported = json.loads(pages["worker2"][2])["safety_checkins"]
    assert exported[0]["status"] == "safe"
    safe, duress = checkins(app)
    assert safe.status == "safe"
    assert (duress.status, duress.alarm_kind, duress.alert_step) == ("alarm", "duress", 1)
    sent = mails(app)
    assert [to for to, _ in sent] == ["supervisor@a.example.org"]
    assert "DURESS code" in sent[0][1] and "Worker2 A" in sent[0][1]
    assert "/safety/alarms/" in sent[0][1]
    assert "safety.duress" in actions(app)


def test_sos_alerts_step_one_in_the_request(client, auth, world, app):
    auth.as_role("worker")
    start(client)
    page = text(client.get("/safety/sos"))
    assert "Send SOS?" in page and "Send SOS now" in page
    assert only(app).status == "active"  # the GET changes nothing
    response = client.post("/safety/sos", follow_redirects=True)
    assert "SOS sent" in text(response)
    c = only(app)
    assert (c.status, c.alarm_kind, c.alert_step) == ("alarm", "sos", 1)
    assert [to for to, _ in mails(app)] == ["supervisor@a.example.org"]
    client.post("/safety/sos")  # a second tap alerts nobody again
    assert len(mails(app)) == 1
    # The worker can still say they are safe (a mistaken SOS): the escalation stops.
    client.post(f"/safety/{c.id}/safe", data={})
    assert only(app).status == "safe"
    with app.app_context():
        assert alerts.escalate(utcnow() + timedelta(hours=1)).sent == 0


def test_duress_after_a_missed_check_in_tells_the_supervisor_again(client, auth, world, app):
    auth.as_role("worker")
    set_codes(client)
    start(client, minutes="15")
    c = only(app)
    with app.app_context():
        alerts.escalate(c.due_at + timedelta(minutes=6))  # missed: step 1
    assert "Overdue: your supervisor was alerted" in text(client.get("/safety"))
    assert len(mails(app)) == 1
    response = client.post(f"/safety/{c.id}/safe", data={"code": "1357"}, follow_redirects=True)
    assert "Good to hear you're safe" in text(response)
    c = only(app)
    assert (c.status, c.alarm_kind, c.alert_step) == ("alarm", "duress", 1)
    assert [to for to, _ in mails(app)] == ["supervisor@a.example.org"] * 2
    assert "DURESS code" in mails(app)[-1][1]


def test_sos_without_a_check_in_raises_one(client, auth, world, app):
    auth.as_role("worker3")  # site a2: no supervisor of its own, so every one of the org
    client.post("/safety/sos")
    c = only(app)
    assert (c.status, c.alarm_kind) == ("alarm", "sos")
    assert sorted(to for to, _ in mails(app)) == ["supervisor@a.example.org",
                                                  "supervisor_all@a.example.org"]


# --- escalation ------------------------------------------------------------------------------


def _contact(app, worker_id, email="dana@example.org", phone="+13145550199"):
    from portal.models import SafetySettings

    with app.app_context():
        db.session.add(SafetySettings(user_id=worker_id, contact_name="Dana Example",
                                      contact_email=email, contact_phone=phone))
        db.session.commit()


def test_the_escalation_timeline_alerts_each_step_once(client, auth, world, app, runner):
    u = world["user"]
    _contact(app, u["worker"])
    auth.as_role("worker")
    start(client, minutes="15", buddy=str(u["worker2"]))
    c = only(app)
    due = c.due_at

    def run(minutes_after_due):
        with app.app_context():
            return alerts.escalate(due + timedelta(minutes=minutes_after_due))

    assert run(4).raised == 0 and mails(app) == []  # within the grace
    t = run(6)
    assert (t.raised, t.sent) == (1, 1)
    assert (only(app).status, only(app).alarm_kind, only(app).alert_step) == ("alarm", "missed", 1)
    assert run(6).sent == 0 and run(10).sent == 0  # same minute; step minutes not yet passed
    assert [to for to, _ in mails(app)] == ["supervisor@a.example.org"]
    assert run(11).sent == 1
    assert [to for to, _ in mails(app)][-1] == "worker2@a.example.org"  # the buddy
    assert "/safety/alarms/" not in mails(app)[-1][1]  # a worker gets no staff link
    assert run(16).sent == 2  # the contact: mail and text
    assert mails(app)[-1][0] == "dana@example.org"
    assert "emergency contact" in mails(app)[-1][1] and "911" in mails(app)[-1][1]
    assert len(texts(app)) == 1 and "+13145550199" in texts(app)[0]
    for later in (21, 60, 600):
        assert run(later).sent == 0
    assert len(mails(app)) == 3 and only(app).alert_step == 3
    # The alarm stays on the supervisors' list until closed.
    auth.logout()
    auth.as_role("supervisor")
    assert "Missed check-in" in text(client.get("/safety/alarms"))
    # The command prints its summary.
    result = runner.invoke(args=["safety-escalate"])
    assert "Safety: 0 alarms raised, 0 alerts sent (0 failed), 0 positions purged." in result.output
    assert actions(app, "safety.alert").count("safety.alert_mail") == 2


def test_a_claim_taken_by_another_run_sends_nothing(client, auth, world, app):
    auth.as_role("worker")
    client.post("/safety/sos")  # alarm, step 1 alerted
    c = only(app)
    with app.app_context():
        stale = db.session.get(SafetyCheckin, c.id)  # this run read step 1 as the last...
        db.session.commit()
        # ...and another run claims step 2 meanwhile, through its own connection.
        with db.engine.begin() as conn:
            conn.execute(sa.update(SafetyCheckin).where(SafetyCheckin.id == c.id)
                         .values(alert_step=2))
        assert alerts.claim(stale, 2, utcnow()) is False
        db.session.rollback()
        # A run that listed the alarm before step 2 was alerted must not take step 3 at once.
        now = utcnow()
        stale = db.session.get(SafetyCheckin, c.id)
        stale.alert_step_at = now
        db.session.commit()
        assert alerts.claim(stale, 3, now, last_step_by=now - timedelta(minutes=5)) is False
        assert alerts.claim(stale, 3, now + timedelta(minutes=5),
                            last_step_by=now) is True  # fmt: skip
        db.session.rollback()
    assert len(mails(app)) == 1


def test_steps_with_nobody_are_skipped_and_then_nothing_more(client, auth, world, app):
    auth.as_role("worker")
    start(client, minutes="15")  # no buddy, no contact
    due = only(app).due_at
    with app.app_context():
        t = alerts.escalate(due + timedelta(minutes=6))
        assert t.sent == 1
        t = alerts.escalate(due + timedelta(minutes=12))
    assert t.sent == 0 and only(app).alert_step == 3
    assert actions(app, "safety.alert").count("safety.alert_skipped") == 2


def test_failures_are_audited_and_stop_nothing_else(client, auth, world, app, monkeypatch):
    u = world["user"]
    with app.app_context():
        db.session.get(User, u["supervisor"]).contact_phone = "+13145550111"
        db.session.commit()
    for who in ("worker", "worker2"):
        auth.as_role(who)
        start(client, minutes="15")
        auth.logout()

    def broken(to, body):
        raise OSError("provider down")

    monkeypatch.setattr(alerts, "send_sms", broken)
    due = max(c.due_at for c in checkins(app))
    with app.app_context():
        t = alerts.escalate(due + timedelta(minutes=6))
    assert (t.raised, t.sent, t.failed) == (2, 2, 2)
    assert [c.alert_step for c in checkins(app)] == [1, 1]
    with app.app_context():
        outcomes = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.outcome)
            .where(AuditEvent.action.like("safety.alert_%")).order_by(AuditEvent.id)
        ).all()
    expected = [("safety.alert_mail", "ok"), ("safety.alert_sms", "failed")] * 2
    assert sorted(outcomes) == sorted(expected)


# --- supervisors -----------------------------------------------------------------------------


def test_supervisor_sees_the_alarm_and_closes_it_with_a_note(client, auth, world, app):
    u = world["user"]
    _contact(app, u["worker"])
    auth.as_role("worker")
    client.post("/safety/sos")
    c = only(app)
    auth.logout()
    auth.as_role("supervisor")
    page = text(client.get("/safety/alarms"))
    assert "Worker A: SOS" in page
    page = text(client.get(f"/safety/alarms/{c.id}"))
    assert "Gravois" not in page  # SOS without a check-in: where was not given
    assert "Dana Example" in page and "(314) 555-0199" in page
    assert "Step 1 of 3 (Supervisor on duty)" in page and "mail to Supervisor A" in page
    response = client.post(f"/safety/alarms/{c.id}", data={"note": "  "})
    assert response.status_code == 422 and "Say how the worker was reached" in text(response)
    response = client.post(f"/safety/alarms/{c.id}", data={"note": "Reached by phone, safe."})
    assert response.status_code == 302
    c = only(app)
    assert c.status == "closed" and c.closed_note == "Reached by phone, safe."
    assert c.closed_by_id == u["supervisor"]
    assert "No open alarms." in text(client.get("/safety/alarms"))
    with app.app_context():
        assert alerts.escalate(utcnow() + timedelta(hours=1)).sent == 0
    assert "safety.close" in actions(app)


def test_alarms_are_scoped_to_the_supervisors_sites_and_organisation(client, auth, world, app):
    auth.as_role("worker3")  # site a2
    start(client, place="Walnut Park corner")
    theirs = only(app).id
    auth.logout()
    auth.as_role("supervisor")  # site a1
    assert "Walnut Park corner" not in text(client.get("/safety/alarms"))
    assert client.get(f"/safety/alarms/{theirs}").status_code == 404
    auth.logout()
    auth.as_role("supervisor_all")  # the organisation's
    assert "Walnut Park corner" in text(client.get("/safety/alarms"))
    assert client.get(f"/safety/alarms/{theirs}").status_code == 200
    auth.logout()
    auth.as_role("supervisor", "b")
    assert client.get(f"/safety/alarms/{theirs}").status_code == 404
    assert client.post(f"/safety/alarms/{theirs}", data={"note": "x"}).status_code == 404
    auth.logout()
    auth.as_role("worker")
    assert client.get("/safety/alarms").status_code == 404
    assert client.get(f"/safety/alarms/{theirs}").status_code == 404
    assert client.post(f"/safety/{theirs}/safe", data={}).status_code == 404
    assert client.post(f"/safety/{theirs}/extend", data={"minutes": "15"}).status_code == 404
    assert only(app).status == "active"


# --- positions -------------------------------------------------------------------------------


def _version(app, org_id):
    with app.app_context():
        return db.session.get(Organisation, org_id).data_version


def test_positions_only_with_opt_in_only_while_running_and_purged_after_a_day(client, auth,
                                                                             world, app):
    org = world["org"]["a"]
    auth.as_role("worker")
    start(client)
    c = only(app)
    where = {"latitude": "38.581234", "longitude": "-90.245678", "accuracy": "12.7"}
    assert client.post(f"/safety/{c.id}/position", data=where).status_code == 404
    assert "data-position-url" not in client.get("/safety").get_data(as_text=True)
    client.post("/safety/settings", data={"share_location": "y"})
    page = client.get("/safety")
    assert "data-position-url" in page.get_data(as_text=True)
    assert "geolocation=(self)" in page.headers["Permissions-Policy"]
    before = _version(app, org)
    assert client.post(f"/safety/{c.id}/position", data=where).status_code == 204
    assert _version(app, org) == before  # positions bump no kept page
    bad = client.post(f"/safety/{c.id}/position", data={"latitude": "91", "longitude": "x"})
    assert bad.status_code == 422
    with app.app_context():
        pos = db.session.scalar(sa.select(SafetyPosition))
        assert pos.latitude == Decimal("38.581234") and pos.accuracy_m == 12
        db.session.add(SafetyPosition(checkin_id=c.id, latitude=Decimal("38.5"),
                                      longitude=Decimal("-90.2"),
                                      recorded_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    # Shown to the supervisor on an alarm only.
    auth.logout()
    auth.as_role("supervisor")
    assert "Latest position" not in text(client.get(f"/safety/alarms/{c.id}"))
    auth.logout()
    auth.as_role("worker")
    client.post("/safety/sos")
    auth.logout()
    auth.as_role("supervisor")
    assert "38.581234, -90.245678 (±12 m)" in text(client.get(f"/safety/alarms/{c.id}"))
    before = _version(app, org)
    with app.app_context():
        assert alerts.escalate().purged == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SafetyPosition)) == 1
    assert _version(app, org) == before
    auth.logout()
    auth.as_role("worker")
    client.post(f"/safety/{c.id}/safe", data={})
    assert client.post(f"/safety/{c.id}/position", data=where).status_code == 409


@pytest.mark.parametrize("status", ["safe", "alarm", "closed"])
def test_duress_reads_as_safe_to_the_worker_whatever_happens_next(status):
    c = SafetyCheckin(status=status, alarm_kind="duress")
    assert svc.worker_status(c) == "safe" and svc.worker_label(c) == "Safe"


def test_two_escalation_runs_at_once_alert_each_step_once(client, auth, world, app, monkeypatch):
    """Two cron runs in the same minute (two hosts): one raises the alarm and alerts step 1,
    the other finds the claim taken. The first holds its transaction while it sends."""
    import threading
    import time

    auth.as_role("worker")
    start(client, minutes="15")
    due = only(app).due_at
    sent = []

    def slow_mail(to, subject, body):
        sent.append(to)
        time.sleep(0.3)

    monkeypatch.setattr(alerts, "send_mail", slow_mail)
    tallies, errors = [], []

    def run():
        try:
            with app.app_context():
                tallies.append(alerts.escalate(due + timedelta(minutes=6)))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sent == ["supervisor@a.example.org"]
    assert sorted(t.raised for t in tallies) == [0, 1]
    assert only(app).alert_step == 1
