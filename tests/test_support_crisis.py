"""The crisis path (issue 16): urgent and after-incident requests alert the counsellors on call
once and say nothing of the request; a second urgent ask joins the first; the queue marks what is
past its promised contact; severity 5 promises the same day; a worker's private number reaches
counsellors only, on a phone or text request."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal.extensions import db
from portal.models import AuditEvent, Exposure, SupportRequest, TimeOff, User
from portal.timeutil import utcnow
from portal.wellbeing import support_alerts
from portal.wellbeing import support_service as svc
from portal.wellbeing.requests import create_request
from tests.factories import CHICAGO, email_for, make_user
from tests.test_support import requests_of

MARKER = "zq-crisis-words-8842"  # what a worker types: never in an alert
NUMBER, SHOWN = "+13145550199", "(314) 555-0199"


# --- helpers ----------------------------------------------------------------------------------


def form(**overrides) -> dict:
    """A valid urgent request: peer support, today as soon as possible, by phone."""
    data = {
        "kind": "peer_support",
        "urgency": "urgent",
        "contact_method": "phone",
        "contact_time": "",
        "contact_phone": "",
        "wellness_date": "",
        "note": "",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def mails(app) -> list:
    """Every message the portal wrote to its mail folder, oldest first."""
    folder = app.config["MAIL_DIR"]
    if not os.path.isdir(folder):
        return []
    return [
        message_from_bytes(open(os.path.join(folder, name), "rb").read(), policy=policy.default)
        for name in sorted(os.listdir(folder))
    ]


def texts(app) -> list[str]:
    """Every text message the outbox sender wrote, oldest first."""
    folder = app.config["SMS_DIR"]
    if not os.path.isdir(folder):
        return []
    names = sorted(os.listdir(folder))
    return [open(os.path.join(folder, n), encoding="utf-8").read() for n in names]


def alert_events(app) -> list[AuditEvent]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.action.startswith("support.alert"))
                .order_by(AuditEvent.id)
            )
        )
        db.session.expunge_all()
        return rows


def age(app, request_id: int, **delta) -> None:
    """Move a request (and its promise) back in time: the tests' clock."""
    with app.app_context():
        req = db.session.get(SupportRequest, request_id)
        req.created_at -= timedelta(**delta)
        req.contact_due_at -= timedelta(**delta)
        db.session.commit()


def make_request(app, worker_id: int, urgency: str = "soon", **fields) -> int:
    """A request made through the one door (then moved to a status, where given)."""
    moves = {k: fields.pop(k) for k in ("status", "counselor_id") if k in fields}
    with app.app_context():
        req = create_request(db.session.get(User, worker_id), "peer_support", urgency=urgency,
                             **fields)  # fmt: skip
        for key, value in moves.items():
            setattr(req, key, value)
        db.session.commit()
        return req.id


def set_phone(app, user_id: int, number: str | None = NUMBER) -> None:
    with app.app_context():
        db.session.get(User, user_id).contact_phone = number
        db.session.commit()


def offered_exposure(app, worker_id: int, severity: int, when: datetime | None = None,
                     category: str = "shooting_scene") -> int:  # fmt: skip
    """A critical incident the worker logged, its offer of a talk standing; returns its id."""
    with app.app_context():
        worker = db.session.get(User, worker_id)
        exposure = Exposure(worker_id=worker.id, organisation_id=worker.organisation_id,
                            occurred_at=(when or utcnow()) - timedelta(hours=1), category=category,
                            severity=severity, note=MARKER, offer_status="offered")  # fmt: skip
        db.session.add(exposure)
        db.session.commit()
        return exposure.id


@pytest.fixture
def counsellors(app, world) -> dict:
    """Provider A's counsellors: the world's, a second with a number for texts, one inactive, one
    on time off now; and provider B's. Returns their ids by name."""
    org_a, org_b = world["org"]["a"], world["org"]["b"]
    with app.app_context():
        second = make_user("Second Counsellor", "second@a.example.org", {"counselor"}, org_a)
        second.contact_phone = "+13145550111"
        gone = make_user("Gone Counsellor", "gone@a.example.org", {"counselor"}, org_a,
                         active=False)  # fmt: skip
        away = make_user("Away Counsellor", "away@a.example.org", {"counselor"}, org_a)
        db.session.add(TimeOff(counselor_id=away.id, start_at=utcnow() - timedelta(hours=1),
                               end_at=utcnow() + timedelta(hours=8)))  # fmt: skip
        other = make_user("Counselor B", email_for("counselor", "b"), {"counselor"}, org_b)
        db.session.commit()
        return {"first": world["user"]["counselor"], "second": second.id, "gone": gone.id,
                "away": away.id, "other_org": other.id}  # fmt: skip


# --- alerts -----------------------------------------------------------------------------------


def test_an_urgent_request_alerts_the_counsellors_on_call_once_and_says_nothing_of_it(
    client, world, auth, app, counsellors
):
    auth.as_role("worker")
    response = client.post("/support/new", data=form(note="I am not okay " + MARKER))
    assert response.status_code == 302
    [req] = requests_of(app, world["user"]["worker"])
    assert req.alerted_at is not None

    sent = mails(app)
    assert sorted(m["To"] for m in sent) == ["counselor@a.example.org", "second@a.example.org"]
    for message in sent:  # not the inactive one, not the one away, not provider B's
        body = message.get_body().get_content()
        assert message["Subject"] == "An urgent support request is waiting"
        assert "/support/queue" in body
        for secret in (MARKER, "Worker A", "worker@a.example.org", "Peer support", "peer"):
            assert secret not in body and secret not in message["Subject"]
    [text] = texts(app)  # the counsellor who keeps a number gets a text as well
    assert text.startswith("To: +13145550111") and "urgent support request is waiting" in text
    assert MARKER not in text and "Worker A" not in text

    events = alert_events(app)  # each message: the counsellor alerted, how, about which request
    assert sorted((e.action, e.actor_id, e.outcome) for e in events) == sorted([
        ("support.alert_mail", counsellors["first"], "ok"),
        ("support.alert_mail", counsellors["second"], "ok"),
        ("support.alert_sms", counsellors["second"], "ok"),
    ])  # fmt: skip
    assert {(e.record_type, e.record_id, e.subject_id) for e in events} == {
        ("support_requests", req.id, world["user"]["worker"])
    }

    # never twice: the request page, an acknowledgement, a second call of the alert itself
    client.get(f"/support/{req.id}")
    with app.app_context():
        again = db.session.get(SupportRequest, req.id)
        assert support_alerts.alert_on_call(again) == []
        db.session.commit()
    client.post("/logout")
    auth.as_role("counselor")
    client.post(f"/support/{req.id}/acknowledge")
    assert len(mails(app)) == 2 and len(texts(app)) == 1 and len(alert_events(app)) == 3

    # the admin's audit log names the counsellors alerted, never whose request it was
    client.post("/logout")
    auth.as_role("admin")
    log = client.get("/admin/audit?action=support.alert").get_data(as_text=True)
    assert "Second Counsellor" in log and "Worker A" not in log


@pytest.mark.parametrize("urgency", ["soon", "whenever"])
def test_requests_that_are_not_urgent_alert_nobody(client, world, auth, app, counsellors,
                                                   urgency):  # fmt: skip
    auth.as_role("worker")
    client.post("/support/new", data=form(urgency=urgency, contact_time="evenings"))
    [req] = requests_of(app, world["user"]["worker"])
    assert req.alerted_at is None
    assert mails(app) == [] and texts(app) == [] and alert_events(app) == []


@pytest.mark.parametrize("severity", [4, 5])
def test_a_yes_after_a_critical_incident_alerts_whatever_its_urgency(
    client, world, auth, app, counsellors, severity
):
    eid = offered_exposure(app, world["user"]["worker"], severity)
    auth.as_role("worker")
    client.post(f"/exposures/{eid}/offer/accept")
    client.post(f"/exposures/{eid}/offer/accept")  # a double tap
    [req] = requests_of(app, world["user"]["worker"])
    assert req.urgency == ("urgent" if severity == 5 else "soon")
    assert len(mails(app)) == 2  # once each for the two counsellors on call
    assert all(MARKER not in m.get_body().get_content() for m in mails(app))


def test_a_checkin_asking_for_outreach_with_a_strong_signal_alerts(client, world, auth, app):
    auth.as_role("worker")
    answers = {f"item{i}": "1" for i in range(1, 6)}
    client.post("/checkins/new", data=answers | {"wants_outreach": "y", "note": MARKER})
    [req] = requests_of(app, world["user"]["worker"])
    assert req.urgency == "urgent" and req.alerted_at is not None
    [message] = mails(app)
    assert message["To"] == "counselor@a.example.org"
    assert MARKER not in message.get_body().get_content()


def test_when_every_counsellor_is_away_all_are_alerted_and_the_worker_never(app, world):
    """Nobody on call is worse than one alert too many; a counsellor's own request is theirs."""
    u = world["user"]
    with app.app_context():
        counsellor = db.session.get(User, u["counselor"])
        counsellor.roles = {"counselor", "worker"}
        colleague = make_user("Colleague", "colleague@a.example.org", {"counselor"},
                              world["org"]["a"])  # fmt: skip
        for person in (colleague, counsellor):
            db.session.add(TimeOff(counselor_id=person.id, start_at=utcnow() - timedelta(hours=1),
                                   end_at=utcnow() + timedelta(hours=1)))  # fmt: skip
        db.session.commit()
        own = create_request(counsellor, "peer_support", urgency="urgent")
        assert [c.email for c in support_alerts.on_call(own)] == ["colleague@a.example.org"]
        worker = db.session.get(User, u["worker"])
        req = create_request(worker, "peer_support", urgency="urgent")
        assert {c.email for c in support_alerts.on_call(req)} == {
            "colleague@a.example.org", "counselor@a.example.org"
        }
        db.session.rollback()


def test_a_failing_mail_server_loses_nothing_and_is_audited(client, world, auth, app,
                                                            counsellors, monkeypatch):  # fmt: skip
    def broken(*_args, **_kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(support_alerts, "send_mail", broken)
    auth.as_role("worker")
    response = client.post("/support/new", data=form(note=MARKER), follow_redirects=True)
    assert response.status_code == 200
    assert "Your request is with the counsellors." in response.get_data(as_text=True)
    [req] = requests_of(app, world["user"]["worker"])
    assert req.note == MARKER and req.alerted_at is not None
    outcomes = sorted((e.action, e.outcome) for e in alert_events(app))
    assert outcomes == [("support.alert_mail", "failed"), ("support.alert_mail", "failed"),
                        ("support.alert_sms", "ok")]  # fmt: skip


class RecordingSms:
    """A provider stand-in named by SMS_SENDER (the setting a real provider's class goes in)."""

    sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> None:
        RecordingSms.sent.append((to, body))


def test_the_sms_sender_is_chosen_by_config(client, world, auth, app, counsellors):
    app.config["SMS_SENDER"] = "tests.test_support_crisis:RecordingSms"
    RecordingSms.sent = []
    auth.as_role("worker")
    client.post("/support/new", data=form())
    assert [to for to, _body in RecordingSms.sent] == ["+13145550111"]
    assert texts(app) == []  # not the outbox


# --- a second urgent ask joins the first ------------------------------------------------------


def test_a_second_urgent_ask_within_minutes_joins_the_first(client, world, auth, app,
                                                            counsellors):  # fmt: skip
    auth.as_role("worker")
    client.post("/support/new", data=form(note="first words"))
    response = client.post(
        "/support/new",
        data=form(kind="after_incident", contact_method="text", note="second words"),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    [req] = requests_of(app, world["user"]["worker"])
    assert "this was added to that open request" in page
    assert f"/support/{req.id}" in response.request.path
    assert "first words" in req.note and "second words" in req.note  # nothing typed is lost
    assert "A talk after an incident" in req.note
    assert req.contact_method == "text"  # the newest way to reach them
    assert len(mails(app)) == 2  # the first ask's alert only
    assert len(alert_events(app)) == 3


def test_an_urgent_ask_after_the_join_window_is_a_new_request(client, world, auth, app,
                                                              counsellors):  # fmt: skip
    app.config["SUPPORT_URGENT_JOIN_MINUTES"] = 15
    auth.as_role("worker")
    client.post("/support/new", data=form())
    [first] = requests_of(app, world["user"]["worker"])
    age(app, first.id, minutes=16)
    client.post("/support/new", data=form())
    assert len(requests_of(app, world["user"]["worker"])) == 2
    assert len(mails(app)) == 4  # each request alerted once


def test_only_urgent_asks_join_and_only_open_ones(client, world, auth, app):
    u = world["user"]
    auth.as_role("worker")
    client.post("/support/new", data=form(urgency="soon", contact_time="any time"))
    client.post("/support/new", data=form(urgency="soon", contact_time="any time"))
    assert len(requests_of(app, u["worker"])) == 2  # not urgent: two requests
    make_request(app, u["worker"], urgency="urgent", status="closed")  # e.g. cancelled
    client.post("/support/new", data=form())
    assert len(requests_of(app, u["worker"])) == 4  # a closed one is not joined
    client.post("/logout")
    auth.as_role("worker2")  # another worker's urgent ask is their own
    client.post("/support/new", data=form())
    assert len(requests_of(app, u["worker2"])) == 1


# --- promises and the overdue -----------------------------------------------------------------


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, datetime.strptime(clock, "%H:%M").time(),
                            tzinfo=CHICAGO).astimezone(UTC)  # fmt: skip


def test_promise_words_follow_the_clock(app):
    day = date(2026, 3, 10)
    with app.app_context():
        urgent, soon = timedelta(hours=12), timedelta(hours=72)
        two_am = at(day, "02:00")
        assert svc.promise_words(two_am + urgent, urgent, two_am) == "today, by 14:00"
        late = at(day, "22:00")
        assert svc.promise_words(late + urgent, urgent, late) == "by 10:00 tomorrow"
        three_days = svc.promise_words(late + soon, soon, late)
        assert three_days == "within 72 hours, by Fri Mar 13 at 22:00"
        week = timedelta(hours=168)
        assert svc.promise_words(late + week, week, late).startswith("within 7 days, by Tue Mar 17")


def test_severity_5_promises_the_same_day_everywhere(client, world, auth, app, counsellors,
                                                    monkeypatch):  # fmt: skip
    """The yes at 2 a.m. after a shooting: contact by 14:00 the same day, on the confirmation,
    the worker's list and the counsellors' queue; never "within 72 hours"."""
    two_am = at(date(2026, 3, 10), "02:00")
    monkeypatch.setattr("portal.wellbeing.requests.utcnow", lambda: two_am)
    five_past = two_am + timedelta(minutes=5)
    for module in ("portal.wellbeing.support_service", "portal.wellbeing.support"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: five_past)
    eid = offered_exposure(app, world["user"]["worker"], 5, when=two_am)
    auth.as_role("worker")
    offer = client.get(f"/exposures/{eid}").get_data(as_text=True)
    assert "they will reach out today, by 14:05" in offer  # the offer, five minutes later
    confirmation = client.post(f"/exposures/{eid}/offer/accept", follow_redirects=True)
    page = confirmation.get_data(as_text=True)
    assert "will reach out to you today, by 14:00." in page
    assert "72 hours" not in page
    listing = client.get("/support").get_data(as_text=True)
    assert "by phone, today, by 14:00." in listing and "72 hours" not in listing
    [req] = requests_of(app, world["user"]["worker"])
    assert req.urgency == "urgent" and req.contact_due_at == two_am + timedelta(hours=12)
    client.post("/logout")
    auth.as_role("counselor")
    queue = client.get("/support/queue").get_data(as_text=True)
    assert "Contact promised today, by 14:00" in queue and "72 hours" not in queue


def test_severity_4_keeps_the_72_hour_promise(client, world, auth, app):
    eid = offered_exposure(app, world["user"]["worker"], 4, category="witnessed_violence")
    auth.as_role("worker")
    page = client.post(f"/exposures/{eid}/offer/accept", follow_redirects=True).get_data(
        as_text=True)  # fmt: skip
    assert "will reach out to you within 72 hours, by" in page
    [req] = requests_of(app, world["user"]["worker"])
    assert req.contact_due_at - req.created_at == timedelta(hours=72)


def test_the_queue_marks_requests_past_their_promise(client, world, auth, app):
    u = world["user"]
    late_urgent = make_request(app, u["worker"], urgency="urgent")
    age(app, late_urgent, hours=13)  # promised within 12 hours
    on_time_urgent = make_request(app, u["worker2"], urgency="urgent")
    age(app, on_time_urgent, hours=11)
    late_soon = make_request(app, u["worker3"])
    age(app, late_soon, hours=75)
    taken = make_request(app, u["worker"], status="acknowledged", counselor_id=u["counselor"])
    age(app, taken, hours=80)  # a counsellor has it: not waiting for anyone
    auth.as_role("counselor")
    page = client.get("/support/queue").get_data(as_text=True)
    cards = {}
    for block in page.split('<li class="card"')[1:]:
        rid = int(block.split('href="/support/', 1)[1].split('"', 1)[0])
        cards[rid] = block.split("</li>", 1)[0]
    assert 'data-overdue="true"' in cards[late_urgent] and "Overdue by 1 h" in cards[late_urgent]
    assert 'data-overdue="true"' in cards[late_soon] and "Overdue by 3 h" in cards[late_soon]
    for rid in (on_time_urgent, taken):
        assert "Overdue" not in cards[rid] and "data-overdue" not in cards[rid]
    assert "<strong>2 overdue</strong>" in page
    assert "asked 13 h ago" in page and "asked 11 h ago" in page  # how long each has waited
    detail = client.get(f"/support/{late_urgent}").get_data(as_text=True)
    assert "Overdue by 1 h" in detail


def test_overdue_is_open_past_the_promise(app, world):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with app.app_context():
        req = SupportRequest(urgency="urgent", status="open", created_at=now - timedelta(hours=12),
                             contact_due_at=now)  # fmt: skip
        assert not svc.is_overdue(req, now)
        assert svc.is_overdue(req, now + timedelta(seconds=1))
        req.status = "acknowledged"
        assert not svc.is_overdue(req, now + timedelta(hours=5))
        legacy = SupportRequest(urgency="soon", status="open", created_at=now)  # before 0011
        assert svc.due_at(legacy) == now + timedelta(hours=72)


# --- the support form -------------------------------------------------------------------------


def test_today_as_soon_as_possible_asks_for_nothing_more(client, world, auth, app):
    auth.as_role("worker")
    page = client.get("/support/new").get_data(as_text=True)
    assert "js/support_form.js" in page
    assert '<div data-show-when="kind=wellness_day">' in page
    assert '<div data-hide-when="urgency=urgent">' in page
    assert '<div data-show-when="contact_method=phone,text">' in page
    response = client.post("/support/new", data=form(contact_time=""))
    assert response.status_code == 302
    [req] = requests_of(app, world["user"]["worker"])
    assert req.contact_time == "As soon as possible" and req.wellness_date is None
    assert client.get("/static/js/support_form.js").status_code == 200


def test_other_urgencies_still_ask_when_suits(client, world, auth, app):
    auth.as_role("worker")
    response = client.post("/support/new", data=form(urgency="soon", note=MARKER))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in page
    assert "Say when suits you" in page and MARKER in page
    assert requests_of(app, world["user"]["worker"]) == []


BAD_NUMBERS = ["12345", "call me", "(014) 555-0142", "+1 314 555 01", "٣١٤٥٥٥٠١٤٢", "3" * 31]


@pytest.mark.parametrize("typed", BAD_NUMBERS)
def test_a_bad_number_is_refused_on_the_form_with_the_input_kept(client, world, auth, app, typed):
    auth.as_role("worker")
    response = client.post("/support/new", data=form(contact_phone=typed, note=MARKER))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in page
    assert "Enter a phone number like (314) 555-0142" in page and MARKER in page
    assert requests_of(app, world["user"]["worker"]) == []
    response = client.post("/support/contact-number", data={"contact_phone": typed})
    assert response.status_code == 422
    assert "Enter a phone number like (314) 555-0142" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world["user"]["worker"]).contact_phone is None


def test_a_number_typed_on_the_form_is_kept_on_the_account(client, world, auth, app):
    auth.as_role("worker")
    client.post("/support/new", data=form(contact_phone="314.555.0199"))
    with app.app_context():
        assert db.session.get(User, world["user"]["worker"]).contact_phone == NUMBER
    page = client.get("/support/new").get_data(as_text=True)
    assert f"the number you keep: {SHOWN}" in page
    client.post("/support/new", data=form(urgency="soon", contact_time="any time"))  # blank
    with app.app_context():
        assert db.session.get(User, world["user"]["worker"]).contact_phone == NUMBER


def test_the_number_page_saves_changes_and_removes(client, world, auth, app):
    auth.as_role("worker")
    page = client.get("/support/contact-number").get_data(as_text=True)
    assert '<label for="contact_phone">Phone number</label>' in page and "Nobody else" in page
    response = client.post("/support/contact-number", data={"contact_phone": "1 (314) 555-0199"})
    assert response.status_code == 302
    assert f'value="{SHOWN}"' in client.get("/support/contact-number").get_data(as_text=True)
    client.post("/support/contact-number", data={"contact_phone": "+44 20 7946 0958"})
    with app.app_context():
        assert db.session.get(User, world["user"]["worker"]).contact_phone == "+442079460958"
    response = client.post("/support/contact-number", data={"contact_phone": " "},
                           follow_redirects=True)  # fmt: skip
    assert "Number removed." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world["user"]["worker"]).contact_phone is None


# --- the private number: counsellors only, phone or text requests only -----------------------


@pytest.mark.parametrize(("method", "shown"), [("phone", "tel"), ("text", "sms"),
                                               ("email", None), ("in_person", None)])  # fmt: skip
def test_counsellors_see_the_number_only_on_a_phone_or_text_request(
    client, world, auth, app, method, shown
):
    u = world["user"]
    set_phone(app, u["worker"])
    rid = make_request(app, u["worker"], contact_method=method)
    auth.as_role("counselor")
    page = client.get(f"/support/{rid}").get_data(as_text=True)
    if shown:
        assert f'<a href="{shown}:{NUMBER}">{SHOWN}</a>' in page
    else:
        assert SHOWN not in page and NUMBER not in page
    queue = client.get("/support/queue").get_data(as_text=True)
    assert SHOWN not in queue and NUMBER not in queue  # lists never show it


@pytest.mark.parametrize("who", ["worker2", "worker_b", "counselor_b", "supervisor", "hr",
                                 "leader", "funder", "admin"])  # fmt: skip
def test_nobody_else_gets_the_number(client, world, auth, app, who):
    u = world["user"]
    set_phone(app, u["worker"])
    rid = make_request(app, u["worker"], contact_method="phone", note=MARKER)
    with app.app_context():
        make_user("Counselor B", email_for("counselor", "b"), {"counselor"}, world["org"]["b"])
        db.session.commit()
    if who in ("worker_b", "counselor_b"):
        auth.login(email_for(who.removesuffix("_b"), "b"))
    else:
        auth.as_role(who)
    assert client.get(f"/support/{rid}").status_code == 404
    pages = ["/", "/dashboard", "/support", "/support/queue", f"/hr/workers/{u['worker']}",
             f"/admin/users/{u['worker']}", "/admin/audit", "/my-data"]  # fmt: skip
    for url in pages:
        response = client.get(url)
        assert response.status_code < 500, url
        text = response.get_data(as_text=True)
        assert SHOWN not in text and NUMBER not in text and "555-0199" not in text, url


def test_the_worker_sees_their_own_number_only_on_their_number_page(client, world, auth, app):
    u = world["user"]
    set_phone(app, u["worker"])
    rid = make_request(app, u["worker"], contact_method="phone")
    auth.as_role("worker")
    assert SHOWN not in client.get(f"/support/{rid}").get_data(as_text=True)
    assert SHOWN not in client.get("/").get_data(as_text=True)
    assert SHOWN in client.get("/support/contact-number").get_data(as_text=True)


# --- migration 0011 ---------------------------------------------------------------------------


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def test_migration_0011_up_and_down(app, world):
    """Down to 0010 drops the columns and keeps the rows; up again brings them back empty."""
    rid = make_request(app, world["user"]["worker"], urgency="urgent")
    set_phone(app, world["user"]["worker"])
    with app.app_context():
        db.session.remove()
        try:
            downgrade(revision="0010")
            assert "contact_phone" not in _columns("users")
            assert not {"contact_due_at", "alerted_at"} & _columns("support_requests")
            with db.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM support_requests")).scalar() == 1
            upgrade()
            assert "contact_phone" in _columns("users")
            assert {"contact_due_at", "alerted_at"} <= _columns("support_requests")
        finally:
            upgrade()  # leave the shared schema whole whatever happened
            db.session.remove()
        req = db.session.get(SupportRequest, rid)
        assert req.contact_due_at is None  # worked out from created_at from now on
        assert svc.due_at(req) == req.created_at + timedelta(hours=12)
        assert db.session.get(User, world["user"]["worker"]).contact_phone is None
