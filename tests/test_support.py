"""Support requests: workers ask and follow them, counsellors work a queue, nobody else sees."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    SUPPORT_KINDS,
    AuditEvent,
    CheckIn,
    Exposure,
    SupportNote,
    SupportRequest,
    User,
)
from portal.timeutil import utcnow
from portal.wellbeing import support_service as svc
from portal.wellbeing.requests import create_request
from tests.factories import CHICAGO, email_for, make_user

MARKER = "zq-private-marker-7731"  # put in a worker's note: must never leak
NOTE_MARKER = "zq-counsellor-note-5512"  # put in a counsellor's note


# --- helpers ----------------------------------------------------------------------------------


def today() -> date:
    """Today in Chicago (the portal's time zone in tests)."""
    return datetime.now(CHICAGO).date()


def form(**overrides) -> dict:
    """A valid request: peer support, soon, by phone, evenings."""
    data = {
        "kind": "peer_support",
        "urgency": "soon",
        "contact_method": "phone",
        "contact_time": "evenings after 6",
        "wellness_date": "",  # what a browser sends for the blank date
        "note": "",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def make_request(app, worker_id: int, kind: str = "peer_support", hours_ago: float = 1, **fields):
    """A request created through the one door, then aged; returns its id."""
    with app.app_context():
        worker = db.session.get(User, worker_id)
        status = fields.pop("status", "open")
        moves = {k: fields.pop(k) for k in ("counselor_id", "closed_at") if k in fields}
        req = create_request(worker, kind, **fields)
        req.created_at = utcnow() - timedelta(hours=hours_ago)
        req.status = status
        for key, value in moves.items():
            setattr(req, key, value)
        db.session.commit()
        return req.id


def get_request(app, request_id: int) -> SupportRequest:
    with app.app_context():
        req = db.session.get(SupportRequest, request_id)
        db.session.expunge(req)
        return req


def requests_of(app, worker_id: int) -> list[SupportRequest]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(SupportRequest)
                .where(SupportRequest.worker_id == worker_id)
                .order_by(SupportRequest.id)
            )
        )
        db.session.expunge_all()
        return rows


def add_note(app, request_id: int, author_id: int, body: str = NOTE_MARKER) -> None:
    with app.app_context():
        db.session.add(SupportNote(request_id=request_id, author_id=author_id, body=body))
        db.session.commit()


def audit_rows(app) -> list[AuditEvent]:
    """Audit events about records (signing in and out are audited too, and left out here)."""
    with app.app_context():
        query = sa.select(AuditEvent).where(
            ~AuditEvent.action.startswith("auth."), ~AuditEvent.action.startswith("2fa.")
        )
        rows = list(db.session.scalars(query.order_by(AuditEvent.id)))
        db.session.expunge_all()
        return rows


@pytest.fixture
def counselor_b(app, world) -> int:
    """A counsellor of provider B (the world has one in provider A only)."""
    with app.app_context():
        user = make_user(
            "Counselor B", email_for("counselor", "b"), {"counselor"}, world["org"]["b"]
        )
        db.session.commit()
        return user.id


@pytest.fixture
def named_counselor(app, world) -> int:
    """The world's counsellor with a first and a last name."""
    with app.app_context():
        db.session.get(User, world["user"]["counselor"]).name = "Mara Quinlan"
        db.session.commit()
    return world["user"]["counselor"]


# --- the worker asks --------------------------------------------------------------------------


def test_ask_page_has_plain_radio_groups_and_a_date_for_wellness_days(client, world, auth):
    auth.as_role("worker")
    page = client.get("/support/new").get_data(as_text=True)
    assert page.count("<fieldset") == 3 and page.count("<legend>") == 3
    for label in ("What would help?", "How soon?", "How should someone contact you?"):
        assert f"<legend>{label}</legend>" in page
    for label in SUPPORT_KINDS.values():
        assert label in page
    assert 'type="radio"' in page and "checked" not in page
    assert 'type="date"' in page and f'min="{today().isoformat()}"' in page
    assert '<label for="contact_time">When is a good time?</label>' in page
    assert "never why" in page  # the date's help says what HR and supervisors see


@pytest.mark.parametrize("kind", list(SUPPORT_KINDS))
def test_worker_asks_for_each_kind(client, world, auth, app, kind):
    auth.as_role("worker")
    day = today() + timedelta(days=3)
    response = client.post(
        "/support/new",
        data=form(kind=kind, urgency="urgent", contact_method="text", note="  Thanks.  ")
        | {"wellness_date": day.isoformat()},
    )
    [req] = requests_of(app, world["user"]["worker"])
    assert response.status_code == 302
    assert response.headers["Location"] == f"/support/{req.id}"
    assert (req.kind, req.urgency, req.contact_method) == (kind, "urgent", "text")
    assert (req.contact_time, req.note, req.source, req.status) == (
        "evenings after 6",
        "Thanks.",
        "worker",
        "open",
    )
    assert req.organisation_id == world["org"]["a"]
    assert req.wellness_date == (day if kind == "wellness_day" else None)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your request is with the counsellors." in page
    assert SUPPORT_KINDS[kind] in page and "Waiting for a counsellor" in page


def test_a_link_preselects_the_kind_and_records_a_care_offer(client, world, auth, app):
    auth.as_role("worker")
    url = "/support/new?kind=wellness_day&source=care_offer"
    page = client.get(url).get_data(as_text=True)
    assert '<input checked id="kind-4" name="kind" type="radio" value="wellness_day">' in page
    day = today()
    response = client.post(url, data=form(kind="wellness_day") | {"wellness_date": day.isoformat()})
    assert response.status_code == 302
    [req] = requests_of(app, world["user"]["worker"])
    assert (req.kind, req.source, req.wellness_date) == ("wellness_day", "care_offer", day)


@pytest.mark.parametrize(
    "query", ["?source=after_incident", "?source=checkin", "?source=", "?kind=nonsense&source=x"]
)
def test_a_link_cannot_record_any_other_source(client, world, auth, app, query):
    auth.as_role("worker")
    page = client.get("/support/new" + query).get_data(as_text=True)
    assert "checked" not in page
    assert client.post("/support/new" + query, data=form()).status_code == 302
    assert requests_of(app, world["user"]["worker"])[0].source == "worker"


def test_an_empty_form_is_refused_clearly(client, world, auth, app):
    auth.as_role("worker")
    response = client.post(
        "/support/new", data={"note": "Kept text " + MARKER, "wellness_date": ""}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in page
    for message in (
        "Choose what kind of support you would like.",
        "Choose how soon you would like to hear from someone.",
        "Choose how you would like to be contacted.",
        "Say when suits you",
    ):
        assert message in page
    assert "Kept text " + MARKER in page  # the input is kept
    assert "Enter a date like" not in page  # a blank date is no date, not a bad one
    for name in ("kind", "urgency", "contact_method"):  # the summary's links land on the group
        assert (
            f'href="#{name}"' in page
            and f'<fieldset class="field checkboxes has-error" id="{name}"' in page
        )
    assert requests_of(app, world["user"]["worker"]) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "wellness_day"}, "Choose the day you would like off."),
        ({"kind": "wellness_day", "wellness_date": "yesterday"}, "Enter a date like"),
        ({"kind": "wellness_day", "wellness_date": -1}, "Choose today or a day after today."),
        ({"kind": "wellness_day", "wellness_date": 61}, "within the next 60 days"),
        ({"kind": "a_holiday"}, "Choose what kind of support you would like."),
        ({"urgency": "yesterday"}, "Choose how soon"),
        ({"contact_method": "pigeon"}, "Choose how you would like to be contacted."),
        ({"contact_time": "   "}, "Say when suits you"),
        ({"contact_time": "x" * 121}, "Keep this under 120 characters."),
        ({"note": "x" * 2001}, "Keep the note under 2,000 characters."),
    ],
)
def test_bad_input_is_refused_with_the_input_kept(client, world, auth, app, overrides, message):
    auth.as_role("worker")
    if isinstance(overrides.get("wellness_date"), int):
        overrides["wellness_date"] = (
            today() + timedelta(days=overrides["wellness_date"])
        ).isoformat()
    response = client.post("/support/new", data=form(**overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in page and message in page
    if "contact_time" not in overrides:
        assert 'value="evenings after 6"' in page
    assert requests_of(app, world["user"]["worker"]) == []


def test_the_last_allowed_wellness_day_is_accepted_and_other_kinds_ignore_the_date(
    client, world, auth, app
):
    auth.as_role("worker")
    last = today() + timedelta(days=60)
    assert (
        client.post(
            "/support/new", data=form(kind="wellness_day", wellness_date=last.isoformat())
        ).status_code
        == 302
    )
    past = (today() - timedelta(days=5)).isoformat()
    assert (
        client.post("/support/new", data=form(kind="peer_support", wellness_date=past)).status_code
        == 302
    )
    first, second = requests_of(app, world["user"]["worker"])
    assert first.wellness_date == last and second.wellness_date is None


def test_service_refuses_what_the_form_would(app, world):
    with app.app_context():
        worker = db.session.get(User, world["user"]["worker"])
        data = svc.SupportInput(kind="x", urgency=None, contact_method="phone", contact_time="")
        with pytest.raises(svc.SupportError) as refused:
            svc.ask(worker, data, source="checkin")
        assert set(refused.value.errors) == {"kind", "urgency", "contact_time"}
        req = svc.ask(
            worker,
            svc.SupportInput("peer_support", "soon", "email", "mornings"),
            source="after_incident",  # not a source a link may set
        )
        assert req.source == "worker"
        db.session.rollback()


# --- the worker follows their requests ----------------------------------------------------------


def test_worker_sees_own_requests_newest_first_with_what_happens_next(
    client, world, auth, app, named_counselor
):
    u = world["user"]
    old = make_request(app, u["worker"], "financial_help", hours_ago=50, contact_method="email")
    mid = make_request(
        app,
        u["worker"],
        "counselling_session",
        hours_ago=20,
        status="acknowledged",
        counselor_id=named_counselor,
    )
    new = make_request(app, u["worker"], "peer_support", hours_ago=1, urgency="urgent")
    make_request(app, u["worker2"], "after_incident", note=MARKER)
    auth.as_role("worker")
    page = client.get("/support").get_data(as_text=True)
    assert 'href="/support/new"' in page and "Ask for support" in page
    positions = [page.index(f'href="/support/{i}"') for i in (new, mid, old)]
    assert positions == sorted(positions)
    assert "Waiting for a counsellor" in page and "A counsellor has it" in page
    assert "Mara has your request and will contact you by phone" in page
    assert "Quinlan" not in page
    assert "Urgent requests are picked up first" in page
    assert "contact you by e-mail" in page
    assert MARKER not in page and "A talk after an incident" not in page  # worker2's


def test_worker_cancels_own_open_request(client, world, auth, app):
    req_id = make_request(app, world["user"]["worker"])
    auth.as_role("worker")
    page = client.get(f"/support/{req_id}").get_data(as_text=True)
    assert ">Cancel request</button>" in page
    response = client.post(f"/support/{req_id}/cancel", follow_redirects=True)
    assert "Request cancelled." in response.get_data(as_text=True)
    req = get_request(app, req_id)
    assert req.status == "closed" and req.closed_at is not None and req.counselor_id is None
    page = client.get("/support").get_data(as_text=True)
    assert "Cancelled" in page and "You cancelled this request." in page


def test_worker_cannot_cancel_once_a_counsellor_has_it(client, world, auth, app):
    u = world["user"]
    req_id = make_request(app, u["worker"], status="acknowledged", counselor_id=u["counselor"])
    auth.as_role("worker")
    page = client.get(f"/support/{req_id}").get_data(as_text=True)
    assert "Cancel request" not in page
    response = client.post(f"/support/{req_id}/cancel", follow_redirects=True)
    assert "A counsellor already has this request" in response.get_data(as_text=True)
    assert get_request(app, req_id).status == "acknowledged"


def test_a_worker_cannot_cancel_someone_elses_request(client, world, auth, app):
    req_id = make_request(app, world["user"]["worker2"])
    auth.as_role("worker")
    assert client.post(f"/support/{req_id}/cancel").status_code == 404
    assert get_request(app, req_id).status == "open"


# --- the counsellors' queue ---------------------------------------------------------------------


def test_time_since_in_words():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert svc.time_since(now - timedelta(seconds=20), now) == "just now"
    assert svc.time_since(now - timedelta(minutes=12), now) == "12 min ago"
    assert svc.time_since(now - timedelta(hours=3, minutes=40), now) == "3 h ago"
    assert svc.time_since(now - timedelta(hours=47), now) == "47 h ago"
    assert svc.time_since(now - timedelta(days=4, hours=2), now) == "4 days ago"
    assert svc.time_since(now + timedelta(minutes=1), now) == "just now"


def test_queue_is_urgent_first_then_oldest_with_time_since(client, world, auth, app):
    u = world["user"]
    ids = {
        "whenever_old": make_request(app, u["worker"], urgency="whenever", hours_ago=100),
        "soon_new": make_request(app, u["worker2"], urgency="soon", hours_ago=2),
        "urgent_new": make_request(app, u["worker3"], urgency="urgent", hours_ago=3.5),
        "soon_old": make_request(
            app,
            u["worker"],
            "financial_help",
            urgency="soon",
            hours_ago=30,
            status="scheduled",
            counselor_id=u["counselor"],
        ),
        "urgent_old": make_request(
            app,
            u["worker2"],
            urgency="urgent",
            hours_ago=5,
            status="acknowledged",
            counselor_id=u["counselor"],
            contact_method="in_person",
            contact_time="at the office",
        ),
        "closed": make_request(
            app,
            u["worker3"],
            hours_ago=400,
            status="closed",
            counselor_id=u["counselor"],
            closed_at=utcnow() - timedelta(days=1),
        ),
        "other_org": make_request(app, u["worker_b"], urgency="urgent", hours_ago=9),
    }
    auth.as_role("counselor")
    page = client.get("/support/queue").get_data(as_text=True)
    order = ["urgent_old", "urgent_new", "soon_old", "soon_new", "whenever_old"]
    positions = [page.index(f'href="/support/{ids[k]}"') for k in order]
    assert positions == sorted(positions)
    assert f'href="/support/{ids["closed"]}"' not in page
    assert f'href="/support/{ids["other_org"]}"' not in page
    assert "3 h ago" in page and "5 h ago" in page and "4 days ago" in page
    assert "Today, as soon as possible" in page and "When there is time" in page
    assert "Contact: In person, at the office" in page
    assert "Financial or benefits help: Worker A" in page
    assert "5 requests." in page
    closed = client.get("/support/queue?show=closed").get_data(as_text=True)
    assert f'href="/support/{ids["closed"]}"' in closed
    assert f'href="/support/{ids["urgent_old"]}"' not in closed
    assert "16 days ago" in closed


def test_queue_lists_no_notes_of_requests_exposures_or_checkins(client, world, auth, app):
    u = world["user"]
    with app.app_context():
        worker = db.session.get(User, u["worker"])
        exposure = Exposure(
            worker_id=worker.id,
            organisation_id=worker.organisation_id,
            occurred_at=utcnow() - timedelta(hours=5),
            category="threatened_assaulted",
            severity=5,
            note="exposure " + MARKER,
        )
        checkin = CheckIn(
            worker_id=worker.id,
            organisation_id=worker.organisation_id,
            item1=1,
            item2=1,
            item3=1,
            item4=1,
            item5=1,
            score=20,
            note="checkin " + MARKER,
            wants_outreach=True,
        )
        db.session.add_all([exposure, checkin])
        db.session.commit()
        exposure_id, checkin_id = exposure.id, checkin.id
    from_incident = make_request(
        app,
        u["worker"],
        "after_incident",
        source="incident_offer",
        exposure_id=exposure_id,
        note="request " + MARKER,
    )
    from_checkin = make_request(app, u["worker"], checkin_id=checkin_id, source="checkin")
    add_note(app, from_incident, u["counselor"], "note " + MARKER)
    auth.as_role("counselor")
    page = client.get("/support/queue").get_data(as_text=True)
    assert MARKER not in page
    assert "A talk after an incident: Worker A" in page
    detail = client.get(f"/support/{from_incident}").get_data(as_text=True)
    assert "request " + MARKER in detail and "note " + MARKER in detail
    assert "exposure " + MARKER not in detail and "checkin " + MARKER not in detail
    assert "Accepted the offer of a talk after a critical incident" in detail
    detail = client.get(f"/support/{from_checkin}").get_data(as_text=True)
    assert "checkin " + MARKER not in detail
    assert "From a check-in" in detail


def _checkin(app, worker_id, **flags) -> int:
    with app.app_context():
        worker = db.session.get(User, worker_id)
        checkin = CheckIn(
            worker_id=worker.id,
            organisation_id=worker.organisation_id,
            item1=2,
            item2=2,
            item3=2,
            item4=2,
            item5=2,
            score=40,
            **flags,
        )
        db.session.add(checkin)
        db.session.commit()
        return checkin.id


@pytest.mark.parametrize(
    ("flags", "visible"),
    [
        ({"wants_outreach": True}, True),
        ({"share_with_counsellors": True}, True),
        ({}, False),
    ],
)
def test_request_links_its_checkin_only_where_counsellors_may_read_it(
    client, world, auth, app, flags, visible
):
    u = world["user"]
    checkin_id = _checkin(app, u["worker"], **flags)
    req_id = make_request(app, u["worker"], checkin_id=checkin_id, source="checkin")
    auth.as_role("counselor")
    page = client.get(f"/support/{req_id}").get_data(as_text=True)
    link = f'href="/checkins/{checkin_id}"'
    endpoint_exists = "wellbeing.checkin" in app.view_functions
    assert (link in page) is (visible and endpoint_exists)
    with app.app_context():
        counsellor = db.session.get(User, u["counselor"])
        req = db.session.get(SupportRequest, req_id)
        assert (svc.linked_checkin_id(req, counsellor) == checkin_id) is visible
        owner = db.session.get(User, u["worker"])
        assert svc.linked_checkin_id(req, owner) == checkin_id  # the owner always


def test_queue_runs_a_fixed_number_of_queries(client, world, auth, app, count_queries):
    u = world["user"]
    workers = [u["worker"], u["worker2"], u["worker3"]]
    for n in range(3):
        make_request(app, workers[n], urgency=["urgent", "soon", "whenever"][n], hours_ago=n)
    auth.as_role("counselor")
    client.get("/support/queue")  # warm up (the session user is loaded the same way each time)
    with count_queries() as few:
        page = client.get("/support/queue").get_data(as_text=True)
    assert page.count('class="card"') == 3
    for n in range(27):
        make_request(
            app,
            workers[n % 3],
            urgency=["urgent", "soon", "whenever"][n % 3],
            hours_ago=n + 5,
            status=["open", "acknowledged", "scheduled"][n % 3],
            counselor_id=None if n % 3 == 0 else u["counselor"],
        )
    with count_queries() as many:
        page = client.get("/support/queue").get_data(as_text=True)
    assert page.count('class="card"') == 30
    assert few() == many()


def test_a_counsellors_own_request_is_not_in_their_queue(client, world, auth, app):
    u = world["user"]
    with app.app_context():
        db.session.get(User, u["counselor"]).roles = {"counselor", "worker"}
        db.session.commit()
    own = make_request(app, u["counselor"], note=MARKER)
    auth.as_role("counselor")
    assert f'href="/support/{own}"' not in client.get("/support/queue").get_data(as_text=True)
    response = client.post(f"/support/{own}/acknowledge", follow_redirects=True)
    assert "This is your own request" in response.get_data(as_text=True)
    assert get_request(app, own).status == "open"


# --- the counsellor works a request -----------------------------------------------------------


def test_counsellor_acknowledges_records_contact_schedules_and_closes(
    client, world, auth, app, named_counselor
):
    u = world["user"]
    req_id = make_request(app, u["worker"], "counselling_session", note=MARKER)
    auth.as_role("counselor")
    page = client.get(f"/support/{req_id}").get_data(as_text=True)
    assert ">Acknowledge</button>" in page and MARKER in page and "Worker A" in page
    assert f"/support/{req_id}/schedule" not in page  # not before it is acknowledged

    response = client.post(f"/support/{req_id}/acknowledge", follow_redirects=True)
    assert "Acknowledged" in response.get_data(as_text=True)
    req = get_request(app, req_id)
    assert (req.status, req.counselor_id) == ("acknowledged", named_counselor)
    assert req.acknowledged_at is not None

    response = client.post(f"/support/{req_id}/notes", data={"body": "  Called. " + NOTE_MARKER})
    assert response.status_code == 302
    with app.app_context():
        [note] = db.session.scalars(sa.select(SupportNote)).all()
        assert (note.request_id, note.author_id, note.body) == (
            req_id,
            named_counselor,
            "Called. " + NOTE_MARKER,
        )

    day = today() + timedelta(days=2)
    response = client.post(
        f"/support/{req_id}/schedule", data={"day": day.isoformat(), "time": "14:30"}
    )
    assert response.status_code == 302
    req = get_request(app, req_id)
    assert req.status == "scheduled"
    assert req.scheduled_for == datetime.combine(
        day, datetime.strptime("14:30", "%H:%M").time(), tzinfo=CHICAGO
    ).astimezone(UTC)
    page = client.get(f"/support/{req_id}").get_data(as_text=True)
    assert "Move the time" in page and 'value="14:30"' in page
    assert "Mara Quinlan" in page and NOTE_MARKER in page

    # moving a scheduled time is allowed
    later = (day + timedelta(days=1)).isoformat()
    client.post(f"/support/{req_id}/schedule", data={"day": later, "time": "09:00"})
    assert get_request(app, req_id).scheduled_for.astimezone(CHICAGO).date().isoformat() == later

    response = client.post(f"/support/{req_id}/close", follow_redirects=True)
    assert "Request closed." in response.get_data(as_text=True)
    req = get_request(app, req_id)
    assert req.status == "closed" and req.closed_at is not None

    client.post("/logout")
    auth.as_role("worker")
    page = client.get(f"/support/{req_id}").get_data(as_text=True)
    assert "Called. " + NOTE_MARKER in page
    assert "Mara," in page and "Quinlan" not in page  # first name and time only
    assert "This request is closed." in page


def test_illegal_moves_are_refused_with_a_clear_message(client, world, auth, app):
    u = world["user"]
    req_id = make_request(app, u["worker"])
    auth.as_role("counselor")
    day = (today() + timedelta(days=1)).isoformat()

    response = client.post(
        f"/support/{req_id}/schedule", data={"day": day, "time": "10:00"}, follow_redirects=True
    )
    assert "Acknowledge the request first" in response.get_data(as_text=True)
    assert get_request(app, req_id).status == "open"

    client.post(f"/support/{req_id}/acknowledge")
    response = client.post(f"/support/{req_id}/acknowledge", follow_redirects=True)
    assert "A counsellor already has this request." in response.get_data(as_text=True)

    client.post(f"/support/{req_id}/close")
    for action, message in [
        ("acknowledge", "This request is closed: it cannot be acknowledged."),
        ("close", "This request is already closed."),
        ("schedule", "This request is closed: it cannot be scheduled."),
    ]:
        response = client.post(
            f"/support/{req_id}/{action}",
            data={"day": day, "time": "10:00"},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert message in page and 'role="alert"' in page
    assert get_request(app, req_id).scheduled_for is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "", "time": "10:00"}, "Enter the date."),
        ({"day": "2026-02-30", "time": "10:00"}, "Enter a date like"),
        ({"day": "2020-01-06", "time": "10:00"}, "Choose a date and time from now on."),
        ({"day": "tomorrow", "time": "25:00"}, "Enter a time like 21:30."),
    ],
)
def test_a_bad_schedule_is_refused_on_the_page(client, world, auth, app, data, message):
    u = world["user"]
    req_id = make_request(app, u["worker"], status="acknowledged", counselor_id=u["counselor"])
    auth.as_role("counselor")
    response = client.post(f"/support/{req_id}/schedule", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page and 'role="alert"' in page
    assert get_request(app, req_id).status == "acknowledged"


def test_a_time_the_clocks_skip_is_refused(app, world):
    u = world["user"]
    req_id = make_request(app, u["worker"], status="acknowledged", counselor_id=u["counselor"])
    with app.app_context():
        counsellor = db.session.get(User, u["counselor"])
        req = db.session.get(SupportRequest, req_id)
        spring = date(2026, 3, 8)  # 02:30 does not exist in Chicago that night
        with pytest.raises(svc.SupportError) as refused:
            svc.schedule(
                counsellor,
                req,
                spring,
                datetime.strptime("02:30", "%H:%M").time(),
                CHICAGO,
                now=datetime(2026, 3, 1, tzinfo=UTC),
            )
        assert "the clocks skip that hour" in refused.value.errors["time"][0]


def test_an_empty_note_is_refused(client, world, auth, app):
    req_id = make_request(app, world["user"]["worker"])
    auth.as_role("counselor")
    for body in ("", "   ", "x" * 2001):
        response = client.post(f"/support/{req_id}/notes", data={"body": body})
        assert response.status_code == 422
        assert 'role="alert"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupportNote)) == 0


# --- nobody else ------------------------------------------------------------------------------


RECORD_ROUTES = [
    ("GET", "/support/{id}"),
    ("POST", "/support/{id}/cancel"),
    ("POST", "/support/{id}/acknowledge"),
    ("POST", "/support/{id}/notes"),
    ("POST", "/support/{id}/schedule"),
    ("POST", "/support/{id}/close"),
]
LIST_ROUTES = [("GET", "/support"), ("GET", "/support/new"), ("GET", "/support/queue")]


def _login(auth, app, who, world, counselor_b):
    if who == "counselor_b":
        auth.login(email_for("counselor", "b"))
    elif who == "worker_b":
        auth.login(email_for("worker", "b"))
    else:
        auth.as_role(who)


@pytest.mark.parametrize(
    "who", ["supervisor", "supervisor_all", "hr", "leader", "funder", "admin", "anonymous"]
)
def test_every_support_route_is_404_for_roles_without_access(
    client, world, auth, app, counselor_b, who
):
    u = world["user"]
    req_id = make_request(
        app, u["worker"], "wellness_day", note=MARKER, wellness_date=today() + timedelta(days=2)
    )
    add_note(app, req_id, u["counselor"])
    if who != "anonymous":
        auth.as_role(who)
    for method, url in LIST_ROUTES + RECORD_ROUTES:
        response = client.open(
            url.format(id=req_id),
            method=method,
            data={"body": "x", "day": "2030-01-01", "time": "10:00"},
        )
        expected = 302 if who == "anonymous" else 404
        assert response.status_code == expected, f"{method} {url} as {who}"
        text = response.get_data(as_text=True)
        assert MARKER not in text and NOTE_MARKER not in text
    req = get_request(app, req_id)
    assert (req.status, req.counselor_id) == ("open", None)


@pytest.mark.parametrize("who", ["worker2", "worker_b", "counselor_b"])
def test_other_workers_and_other_organisations_counsellors_get_404(
    client, world, auth, app, counselor_b, who
):
    u = world["user"]
    req_id = make_request(app, u["worker"], note=MARKER, urgency="urgent")
    add_note(app, req_id, u["counselor"])
    _login(auth, app, who, world, counselor_b)
    for method, url in RECORD_ROUTES:
        response = client.open(
            url.format(id=req_id),
            method=method,
            data={"body": "x", "day": "2030-01-01", "time": "10:00"},
        )
        assert response.status_code == 404, f"{method} {url} as {who}"
        text = response.get_data(as_text=True)
        assert MARKER not in text and NOTE_MARKER not in text
    for _method, url in LIST_ROUTES:
        text = client.get(url).get_data(as_text=True)
        assert MARKER not in text and NOTE_MARKER not in text
        assert f'href="/support/{req_id}"' not in text
    req = get_request(app, req_id)
    assert (req.status, req.counselor_id) == ("open", None)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupportNote)) == 1
    assert audit_rows(app) == []  # nothing was read


def test_notes_are_seen_by_the_worker_and_the_organisations_counsellors_only(
    client, world, auth, app, counselor_b
):
    u = world["user"]
    req_id = make_request(app, u["worker"], status="acknowledged", counselor_id=u["counselor"])
    add_note(app, req_id, u["counselor"])
    auth.as_role("worker")
    assert NOTE_MARKER in client.get(f"/support/{req_id}").get_data(as_text=True)
    client.post("/logout")
    auth.as_role("counselor")
    assert NOTE_MARKER in client.get(f"/support/{req_id}").get_data(as_text=True)
    client.post("/logout")
    auth.login(email_for("counselor", "b"))
    assert client.get(f"/support/{req_id}").status_code == 404


# --- audit ------------------------------------------------------------------------------------


def test_a_counsellors_read_writes_one_audit_row_without_content(client, world, auth, app):
    u = world["user"]
    req_id = make_request(app, u["worker"], note=MARKER)
    auth.as_role("worker")
    client.get(f"/support/{req_id}")
    assert audit_rows(app) == []  # the owner's own reads are not audited
    client.post("/logout")
    auth.as_role("counselor")
    before = len(audit_rows(app))
    assert client.get(f"/support/{req_id}").status_code == 200
    reads = audit_rows(app)[before:]
    assert len(reads) == 1
    [event] = reads
    assert (event.actor_id, event.subject_id, event.record_type, event.record_id) == (
        u["counselor"],
        u["worker"],
        "support_requests",
        req_id,
    )
    assert event.action == "wellbeing.read"
    with app.app_context():
        row = db.session.execute(sa.select(AuditEvent.__table__).where(AuditEvent.id == event.id))
        assert MARKER not in repr(row.one())


# --- time off for supervisors and HR ----------------------------------------------------------


def test_wellness_days_off_are_name_and_date_only(app, world, counselor_b):
    u = world["user"]
    now = today()
    soon, later = now + timedelta(days=2), now + timedelta(days=10)
    make_request(app, u["worker"], "wellness_day", wellness_date=later, note=MARKER)
    make_request(app, u["worker3"], "wellness_day", wellness_date=soon, note=MARKER)
    # cancelled by the worker (closed, no counsellor): not time off
    make_request(
        app, u["worker2"], "wellness_day", wellness_date=now, status="closed", closed_at=utcnow()
    )
    # arranged and closed by a counsellor: still time off
    make_request(
        app,
        u["worker2"],
        "wellness_day",
        wellness_date=later,
        status="closed",
        counselor_id=u["counselor"],
        closed_at=utcnow(),
    )
    make_request(app, u["worker"], "peer_support", note=MARKER)
    make_request(app, u["worker_b"], "wellness_day", wellness_date=soon)
    with app.app_context():
        # an old one, written straight in (the form refuses past days)
        past = make_request(app, u["worker"], "wellness_day", wellness_date=now)
        db.session.get(SupportRequest, past).wellness_date = now - timedelta(days=1)
        db.session.commit()
        days = svc.wellness_days_off(world["org"]["a"])
        assert days[0] == ("Worker3 A", soon)
        assert sorted(days[1:]) == [("Worker A", later), ("Worker2 A", later)]
        assert all(len(row) == 2 for row in days) and MARKER not in repr(days)
        assert svc.wellness_days_off(world["org"]["a"], site_id=world["site"]["a2"]) == [
            ("Worker3 A", soon)
        ]
        assert sorted(svc.wellness_days_off(world["org"]["a"], since=later)) == [
            ("Worker A", later),
            ("Worker2 A", later),
        ]
        assert svc.wellness_days_off(world["org"]["b"]) == [("Worker B", soon)]


def test_time_off_partial_shows_name_and_date_only(app, world):
    from flask import render_template

    u = world["user"]
    day = today() + timedelta(days=3)
    make_request(
        app,
        u["worker"],
        "wellness_day",
        wellness_date=day,
        note=MARKER,
        urgency="urgent",
        source="care_offer",
    )
    with app.test_request_context("/"):
        html = render_template(
            "wellbeing/support_time_off.html",
            days_off=svc.wellness_days_off(world["org"]["a"]),
        )
    assert "Time off" in html and "wellness" not in html.lower()
    assert "Worker A" in html and day.strftime("%a %b %-d, %Y") in html
    for secret in (MARKER, "urgent", "Today", "care", "Waiting", "counsell"):
        assert secret not in html
    with app.test_request_context("/"):
        empty = render_template("wellbeing/support_time_off.html", days_off=[])
    assert "No time off coming up." in empty


def test_counsellor_home_counts_what_waits(client, world, auth, app):
    from portal.models import User
    from portal.wellbeing.requests import create_request

    with app.app_context():
        worker = db.session.get(User, world["user"]["worker"])
        create_request(worker, "peer_support", urgency="urgent", note="home-count-marker")
        create_request(worker, "financial_help", urgency="whenever")
        db.session.commit()
    auth.as_role("counselor")
    page = client.get("/").get_data(as_text=True)
    assert "<dt>Requests waiting</dt><dd>2</dd>" in page
    assert "<dt>Urgent</dt><dd>1</dd>" in page
    assert "home-count-marker" not in page
