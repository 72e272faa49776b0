"""Trauma exposures: a worker logs them privately, is offered a talk after a critical incident,
sees their history and monthly counts, and can delete them for good. Nobody else sees any of it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, Exposure, SupportRequest, User
from tests.factories import CHICAGO, local, make_shift, recent_start

MARKER = "zebra-lantern-4471"
OFFER = "Would you like to talk about it?"
CARE = "You don't have to carry this alone"


def now_local() -> datetime:
    return datetime.now(CHICAGO)


def form(**overrides) -> dict:
    """A valid exposure form: witnessed violence, heavy (3), yesterday 21:30, no shift."""
    data = {
        "category": "witnessed_violence",
        "severity": "3",
        "day": (now_local().date() - timedelta(days=1)).isoformat(),
        "clock": "21:30",
        "shift_id": "0",
        "note": "Saw it from the corner.",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return {k: v for k, v in data.items() if v != "<absent>"}


def make_exposure(worker_id: int, occurred_at: datetime, **fields) -> int:
    """An exposure saved directly; returns its id."""
    worker = db.session.get(User, worker_id)
    exposure = Exposure(
        worker_id=worker_id,
        organisation_id=worker.organisation_id,
        occurred_at=occurred_at,
        category=fields.pop("category", "witnessed_violence"),
        severity=fields.pop("severity", 2),
        **fields,
    )
    db.session.add(exposure)
    db.session.flush()
    return exposure.id


def exposures_of(app, worker_id) -> list[Exposure]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Exposure).where(Exposure.worker_id == worker_id).order_by(Exposure.id)
            )
        )


def requests_of(app, worker_id) -> list[SupportRequest]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(SupportRequest).where(SupportRequest.worker_id == worker_id)
            )
        )


def log(client, **overrides):
    """Post the form; return the response."""
    return client.post("/exposures/new", data=form(**overrides))


# --- logging ----------------------------------------------------------------------------------


def test_form_is_quick_to_fill_on_a_phone(client, world, auth, app):
    with app.app_context():
        mine = make_shift(world["user"]["worker"], recent_start(1, "09:00"))
        old = make_shift(world["user"]["worker"], recent_start(6, "09:00"))
        theirs = make_shift(world["user"]["worker2"], recent_start(1, "09:00"))
        db.session.commit()
    auth.as_role("worker")
    page = client.get("/exposures/new").get_data(as_text=True)
    # radio groups in fieldsets, with the plain labels and words
    assert "<legend>What happened?</legend>" in page
    assert "<legend>How heavy was it?</legend>" in page
    assert page.count('type="radio"') == 8 + 5
    assert "Threatened or assaulted personally" in page
    assert "5 – Overwhelming: I am not okay" in page
    # when defaults to now, on the local clock
    assert f'value="{now_local().date().isoformat()}"' in page or (
        f'value="{(now_local() - timedelta(minutes=5)).date().isoformat()}"' in page
    )
    for label in ("Date", "Time", "On which shift?", "Private note"):
        assert f">{label}</label>" in page
    # only the worker's own recent shifts are offered
    select = page[page.index("<select") :]
    select = select[: select.index("</select>")]
    assert ">No shift</option>" in select
    assert f'value="{mine}"' in select and "Dutchtown" in select
    assert f'value="{old}"' not in select and f'value="{theirs}"' not in select


def test_worker_logs_an_exposure_stored_in_utc_shown_in_local_time(client, world, auth, app):
    auth.as_role("worker")
    response = log(client, day="2026-01-15", clock="21:30", note=f"Heavy night. {MARKER}")
    assert response.status_code == 302
    [exposure] = exposures_of(app, world["user"]["worker"])
    assert response.headers["Location"] == f"/exposures/{exposure.id}"
    # 21:30 in Chicago in January (CST, UTC-6) is 03:30 UTC the next day
    assert exposure.occurred_at == datetime(2026, 1, 16, 3, 30, tzinfo=UTC)
    assert (exposure.category, exposure.severity, exposure.shift_id) == (
        "witnessed_violence",
        3,
        None,
    )
    assert exposure.organisation_id == world["org"]["a"]
    assert exposure.offer_status is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved. Only you can see it." in page
    assert "Thu Jan 15, 2026 21:30" in page
    assert "Witnessed violence" in page and "3 – Heavy: it shook me" in page
    assert MARKER in page
    assert OFFER not in page


def test_summer_time_is_converted_too(client, world, auth, app):
    auth.as_role("worker")
    assert log(client, day="2025-07-04", clock="23:15").status_code == 302
    [exposure] = exposures_of(app, world["user"]["worker"])
    assert exposure.occurred_at == datetime(2025, 7, 5, 4, 15, tzinfo=UTC)  # CDT, UTC-5


def test_exposure_can_name_one_of_the_workers_recent_shifts(client, world, auth, app):
    with app.app_context():
        shift = make_shift(world["user"]["worker"], recent_start(1, "09:00"))
        db.session.commit()
    auth.as_role("worker")
    response = log(client, shift_id=shift)
    assert response.status_code == 302
    [exposure] = exposures_of(app, world["user"]["worker"])
    assert exposure.shift_id == shift
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/shifts/{shift}"' in page


def test_a_few_minutes_ahead_is_allowed_for_clock_drift(client, world, auth, app):
    auth.as_role("worker")
    soon = now_local() + timedelta(minutes=10)
    response = log(client, day=soon.date().isoformat(), clock=soon.strftime("%H:%M"))
    assert response.status_code == 302
    assert len(exposures_of(app, world["user"]["worker"])) == 1


def _future():
    later = now_local() + timedelta(hours=2)
    return {"day": later.date().isoformat(), "clock": later.strftime("%H:%M")}


REFUSALS = {
    "future": (_future, "That time is still to come. Enter when it happened."),
    "no category": (lambda: {"category": "<absent>"}, "Choose what happened."),
    "no severity": (lambda: {"severity": "<absent>"}, "Choose how heavy it was, from 1 to 5."),
    "severity out of range": (
        lambda: {"severity": "9"},
        "Choose how heavy it was, from 1 to 5.",
    ),
    "severity not a number": (
        lambda: {"severity": "lots"},
        "Choose how heavy it was, from 1 to 5.",
    ),
    "unknown category": (lambda: {"category": "parking"}, "Choose what happened."),
    "no date": (lambda: {"day": ""}, "Enter the date it happened."),
    "bad time": (lambda: {"clock": "half nine"}, "Enter a time like 21:30."),
    "skipped spring hour": (
        lambda: {"day": "2026-03-08", "clock": "02:30"},
        "the clocks skip that hour",
    ),
    "far-off year": (lambda: {"day": "9999-12-31", "clock": "23:59"}, "still to come"),
    "ancient year": (lambda: {"day": "0001-01-01"}, "Enter the date it happened, like"),
    "note too long": (lambda: {"note": "x" * 2001}, "Keep the note under 2,000 characters."),
    "not a shift number": (lambda: {"shift_id": "abc"}, "Choose one of your own shifts"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_with_a_clear_message_and_nothing_saved(client, world, auth, app, case):
    overrides, message = REFUSALS[case]
    auth.as_role("worker")
    response = log(client, **{"note": MARKER, **overrides()})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert message in page
    assert MARKER in page or case == "note too long"  # the input is kept
    assert exposures_of(app, world["user"]["worker"]) == []


@pytest.mark.parametrize("owner", ["worker2", "worker_b", "old"])
def test_a_shift_that_is_not_the_workers_recent_own_is_refused(client, world, auth, app, owner):
    with app.app_context():
        if owner == "old":
            shift = make_shift(world["user"]["worker"], recent_start(8, "09:00"))
        else:
            shift = make_shift(world["user"][owner], recent_start(1, "09:00"))
        db.session.commit()
    auth.as_role("worker")
    response = log(client, shift_id=shift)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "Choose one of your own shifts from the last three days, or No shift." in page
    assert exposures_of(app, world["user"]["worker"]) == []


def test_nul_characters_in_the_note_do_not_break_saving(client, world, auth, app):
    auth.as_role("worker")
    assert log(client, note="before\x00after").status_code == 302
    [exposure] = exposures_of(app, world["user"]["worker"])
    assert exposure.note == "beforeafter"


# --- the offer after a critical incident --------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "severity", "offered"),
    [
        ("witnessed_violence", 4, True),
        ("shooting_scene", 5, True),
        ("threatened_assaulted", 1, True),
        ("threatened_assaulted", 3, True),
        ("witnessed_violence", 3, False),
        ("child_victim", 1, False),
    ],
)
def test_critical_incident_gets_the_offer(client, world, auth, app, category, severity, offered):
    auth.as_role("worker")
    response = log(client, category=category, severity=severity)
    [exposure] = exposures_of(app, world["user"]["worker"])
    assert exposure.offer_status == ("offered" if offered else None)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (OFFER in page) is offered
    assert ("Yes, I&#39;d like to talk" in page) is offered
    assert (">Not now</button>" in page) is offered
    assert requests_of(app, world["user"]["worker"]) == []  # offered, never started for them


def _critical(app, world) -> int:
    with app.app_context():
        eid = make_exposure(
            world["user"]["worker"],
            datetime.now(UTC) - timedelta(hours=1),
            severity=5,
            offer_status="offered",
        )
        db.session.commit()
    return eid


def test_yes_creates_one_after_incident_request(client, world, auth, app):
    eid = _critical(app, world)
    auth.as_role("worker")
    response = client.post(f"/exposures/{eid}/offer/accept")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/exposures/{eid}"
    page = client.get(f"/exposures/{eid}").get_data(as_text=True)
    [req] = requests_of(app, world["user"]["worker"])
    # severity 5: the same day (12 hours), not "within 72 hours" (tests/test_support_crisis.py)
    assert req.contact_due_at - req.created_at == timedelta(hours=12)
    assert "within 72 hours" not in page
    same_day = r"A counsellor or peer will reach out to you (today, by|by \d\d:\d\d tomorrow)"
    assert re.search(same_day, page)
    assert OFFER not in page
    # a second tap changes nothing
    client.post(f"/exposures/{eid}/offer/accept")
    client.post(f"/exposures/{eid}/offer/decline")
    [req] = requests_of(app, world["user"]["worker"])
    assert (req.kind, req.urgency, req.source, req.exposure_id, req.status) == (
        "after_incident",
        "urgent",
        "after_incident",
        eid,
        "open",
    )
    assert req.organisation_id == world["org"]["a"]
    [exposure] = exposures_of(app, world["user"]["worker"])
    assert exposure.offer_status == "accepted"


def test_not_now_creates_nothing_and_is_not_asked_again(client, world, auth, app):
    eid = _critical(app, world)
    auth.as_role("worker")
    assert client.post(f"/exposures/{eid}/offer/decline").status_code == 302
    assert client.post(f"/exposures/{eid}/offer/decline").status_code == 302
    assert requests_of(app, world["user"]["worker"]) == []
    [exposure] = exposures_of(app, world["user"]["worker"])
    assert exposure.offer_status == "declined"
    for _ in range(2):
        page = client.get(f"/exposures/{eid}").get_data(as_text=True)
        assert OFFER not in page and "Yes, I&#39;d like to talk" not in page
    assert OFFER not in client.get("/exposures").get_data(as_text=True)


def test_changing_ones_mind_after_not_now_is_still_heard(client, world, auth, app):
    eid = _critical(app, world)
    auth.as_role("worker")
    client.post(f"/exposures/{eid}/offer/decline")
    client.post(f"/exposures/{eid}/offer/accept")  # the button of a page left open
    assert len(requests_of(app, world["user"]["worker"])) == 1


def test_no_offer_no_request_for_an_ordinary_exposure(client, world, auth, app):
    with app.app_context():
        eid = make_exposure(world["user"]["worker"], datetime.now(UTC), severity=2)
        db.session.commit()
    auth.as_role("worker")
    client.post(f"/exposures/{eid}/offer/accept")
    client.post(f"/exposures/{eid}/offer/decline")
    assert requests_of(app, world["user"]["worker"]) == []
    assert exposures_of(app, world["user"]["worker"])[0].offer_status is None


# --- history and monthly counts -----------------------------------------------------------------


def test_history_is_newest_first_and_paginated(client, world, auth, app):
    app.config["EXPOSURES_PER_PAGE"] = 2
    now = datetime.now(UTC)
    with app.app_context():
        for days, category in [
            (3, "hospital_bedside"),
            (1, "shooting_scene"),
            (2, "death_notification"),
        ]:
            make_exposure(world["user"]["worker"], now - timedelta(days=days), category=category)
        make_exposure(world["user"]["worker2"], now, category="child_victim")
        db.session.commit()
    auth.as_role("worker")
    first = client.get("/exposures").get_data(as_text=True)
    assert first.index("Responded to a shooting scene") < first.index("Death notification or vigil")
    assert "Hospital bedside" not in first and "Page 1 of 2" in first
    second = client.get("/exposures?page=2").get_data(as_text=True)
    assert "Hospital bedside with a victim" in second
    assert "Victim was a child" not in first + second  # another worker's
    assert 'href="/exposures/new"' in first


def test_monthly_counts_follow_local_months_for_this_worker_only(app, world):
    from portal.wellbeing.exposure_service import monthly_counts

    worker = world["user"]["worker"]
    with app.app_context():
        for day, clock in [
            (date(2026, 3, 1), "00:30"),  # March in Chicago, though 06:30 UTC
            (date(2026, 3, 8), "03:30"),  # after the spring change
            (date(2026, 2, 28), "23:30"),  # February in Chicago, March 1 in UTC
            (date(2025, 4, 1), "00:10"),  # the first month shown
            (date(2025, 3, 31), "23:50"),  # thirteen months back: not shown
        ]:
            make_exposure(worker, local(day, clock))
        make_exposure(world["user"]["worker2"], local(date(2026, 3, 2), "12:00"))
        db.session.commit()
        counts = monthly_counts(
            db.session.get(User, worker), now=datetime(2026, 3, 15, 17, 0, tzinfo=UTC)
        )
    assert [(m.year, m.month) for m in counts] == [(2025, m) for m in range(4, 13)] + [
        (2026, 1),
        (2026, 2),
        (2026, 3),
    ]
    by_month = {(m.year, m.month): m.count for m in counts}
    assert by_month[(2026, 3)] == 2
    assert by_month[(2026, 2)] == 1
    assert by_month[(2025, 4)] == 1
    assert sum(by_month.values()) == 4
    assert counts[-1].label == "March 2026"


def test_history_page_shows_the_monthly_table(client, world, auth, app):
    now = datetime.now(UTC)
    with app.app_context():
        for hours in (1, 2, 3):
            make_exposure(world["user"]["worker"], now - timedelta(hours=hours))
        db.session.commit()
    auth.as_role("worker")
    page = client.get("/exposures").get_data(as_text=True)
    this_month = now.astimezone(CHICAGO)
    assert "By month" in page
    assert page.count('<th scope="row">') == 12
    assert f'<th scope="row">{this_month:%B %Y}</th>' in page or this_month.day == 1
    assert 'value="3"' in page  # the meter of the busiest month
    assert "style=" not in page  # the CSP forbids inline styles


def test_history_page_runs_a_fixed_number_of_queries(client, world, auth, app, count_queries):
    auth.as_role("worker")
    counts = []
    for extra in (1, 30):
        with app.app_context():
            for i in range(extra):
                make_exposure(
                    world["user"]["worker"], datetime.now(UTC) - timedelta(days=i % 300, hours=1)
                )
            db.session.commit()
        with count_queries() as n:
            assert client.get("/exposures").status_code == 200
        counts.append(n())
    assert counts[0] == counts[1]


# --- deletion -----------------------------------------------------------------------------------


def test_delete_really_deletes_and_audits_without_content(client, world, auth, app):
    with app.app_context():
        eid = make_exposure(
            world["user"]["worker"],
            datetime.now(UTC),
            severity=5,
            note=MARKER,
            offer_status="offered",
        )
        db.session.commit()
    auth.as_role("worker")
    client.post(f"/exposures/{eid}/offer/accept")
    response = client.post(f"/exposures/{eid}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/exposures"
    assert "Deleted. It is gone for good." in client.get("/exposures").get_data(as_text=True)
    assert client.get(f"/exposures/{eid}").status_code == 404
    assert exposures_of(app, world["user"]["worker"]) == []
    with app.app_context():
        events = list(
            db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "exposure.deleted"))
        )
        assert len(events) == 1
        event = events[0]
        assert (event.record_type, event.record_id, event.subject_id, event.actor_id) == (
            "exposures",
            eid,
            world["user"]["worker"],
            world["user"]["worker"],
        )
        for row in db.session.execute(sa.select(AuditEvent.__table__)).all():
            assert MARKER not in repr(tuple(row))
    # the support request stays with the counsellors, no longer linked to a deleted record
    [req] = requests_of(app, world["user"]["worker"])
    assert req.exposure_id is None


# --- confidentiality ----------------------------------------------------------------------------

OTHERS = [
    ("supervisor", "a"),
    ("counselor", "a"),
    ("hr", "a"),
    ("leader", "a"),
    ("funder", "city"),
    ("admin", "a"),
    ("worker2", "a"),
    ("worker", "b"),
]


@pytest.mark.parametrize(("role", "org"), OTHERS)
def test_nobody_but_the_owner_reaches_an_exposure(client, world, auth, app, role, org):
    with app.app_context():
        eid = make_exposure(
            world["user"]["worker"],
            datetime.now(UTC) - timedelta(hours=1),
            severity=5,
            note=MARKER,
            offer_status="offered",
        )
        db.session.commit()
    auth.as_role(role, org)
    own_log = 200 if role.startswith("worker") else 404
    for method, url, expected in [
        ("GET", f"/exposures/{eid}", 404),
        ("POST", f"/exposures/{eid}/offer/accept", 404),
        ("POST", f"/exposures/{eid}/offer/decline", 404),
        ("POST", f"/exposures/{eid}/delete", 404),
        ("GET", "/exposures", own_log),
        ("GET", "/exposures/new", own_log),
        ("GET", "/", 200),
    ]:
        response = client.open(url, method=method)
        assert response.status_code == expected, f"{method} {url} as {role}@{org}"
        assert MARKER not in response.get_data(as_text=True)
    [exposure] = exposures_of(app, world["user"]["worker"])
    assert exposure.offer_status == "offered"
    assert requests_of(app, world["user"]["worker"]) == []


def test_signed_out_visitors_are_sent_to_sign_in(client, world, app):
    eid = _critical(app, world)
    for method, url in [
        ("GET", "/exposures"),
        ("GET", "/exposures/new"),
        ("GET", f"/exposures/{eid}"),
        ("POST", f"/exposures/{eid}/offer/accept"),
        ("POST", f"/exposures/{eid}/delete"),
    ]:
        response = client.open(url, method=method)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    assert len(exposures_of(app, world["user"]["worker"])) == 1


def test_state_changes_need_the_csrf_token(client, world, auth, app):
    eid = _critical(app, world)
    auth.as_role("worker")
    app.config["WTF_CSRF_ENABLED"] = True
    for action in ("offer/accept", "offer/decline", "delete"):
        assert client.post(f"/exposures/{eid}/{action}").status_code in (302, 400)
    assert client.post("/exposures/new", data=form()).status_code in (400, 422)
    assert len(exposures_of(app, world["user"]["worker"])) == 1
    assert requests_of(app, world["user"]["worker"]) == []
    assert exposures_of(app, world["user"]["worker"])[0].offer_status == "offered"


# --- the care offer (SPEC §4) -------------------------------------------------------------------


@pytest.mark.parametrize(("heavy", "shown"), [(2, False), (3, True)])
def test_care_offer_after_three_heavy_exposures_in_two_weeks(
    client, world, auth, app, heavy, shown
):
    now = datetime.now(UTC)
    with app.app_context():
        make_exposure(world["user"]["worker"], now - timedelta(days=20), severity=5)  # too old
        make_exposure(world["user"]["worker"], now - timedelta(days=1), severity=2)  # too light
        for i in range(heavy - 1):
            make_exposure(world["user"]["worker"], now - timedelta(days=2 + i), severity=3)
        db.session.commit()
    auth.as_role("worker")
    response = log(client, severity=3)  # the last one, logged through the form
    assert response.status_code == 302
    after_saving = client.get(response.headers["Location"]).get_data(as_text=True)
    history = client.get("/exposures").get_data(as_text=True)
    assert (CARE in after_saving) is shown
    assert (CARE in history) is shown
