"""The worker's home: what is next on call, which swaps wait for them, what training is due,
and the safety check-in: one tap away, and a notice at the top while one runs."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from portal import kept_pages
from portal.extensions import db
from portal.keeping import KeptFigures
from portal.models import OnCallSwap, Organisation, SafetyCheckin
from portal.safety import alerts
from portal.safety import service as safety_service
from tests.test_oncall import make_period, text
from tests.test_safety import only, set_codes
from tests.test_safety import start as start_checkin
from tests.test_training import add_course, attend, today_in


def panel(client) -> str:
    page = text(client.get("/"))
    start = page.index("On call and training")
    return page[start : page.index("Look after yourself", start)]


def test_nothing_on_call_and_nothing_due_says_so(client, auth, world):
    auth.as_role("worker")
    words = panel(client)
    assert "On call: nothing published for you yet" in words
    assert "nothing due in the next 30 days" in words


def test_the_next_published_period_and_swaps_to_answer_show_with_links(client, auth, world, app):
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=30)
    with app.app_context():
        make_period(world["user"]["worker"], soon + timedelta(days=3))
        make_period(world["user"]["worker"], soon)  # the sooner one is named
        make_period(world["user"]["worker"], soon - timedelta(hours=20), status="draft")
        asked = make_period(world["user"]["worker2"], soon + timedelta(days=1))
        db.session.add(OnCallSwap(
            organisation_id=world["org"]["a"], period_id=asked, status="asked",
            from_worker_id=world["user"]["worker2"], to_worker_id=world["user"]["worker"],
        ))  # fmt: skip
        db.session.commit()
        from portal.oncall.service import span_text

        expected = span_text(soon, soon + timedelta(hours=12))
    auth.as_role("worker")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/oncall"' in page and 'href="/training"' in page
    words = panel(client)
    assert f"On call next: {expected}" in words
    assert "1 swap to answer" in words


def test_a_period_under_way_says_now_and_an_ended_one_is_gone(client, auth, world, app):
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        make_period(world["user"]["worker"], now - timedelta(hours=30))  # ended
        make_period(world["user"]["worker"], now - timedelta(hours=2))  # under way
        db.session.commit()
    auth.as_role("worker")
    assert "On call now:" in panel(client)


def test_training_due_counts_overdue_and_due_soon_but_not_done(client, auth, world, app):
    org = world["org"]["a"]
    add_course(app, org, name="Orientation", renewal=None, due=30)  # hired 2020: overdue
    first_aid = add_course(app, org, name="First aid", renewal=12)
    add_course(app, org, name="De-escalation", renewal=12)  # never done, no deadline
    today = today_in(app)
    attend(app, world, first_aid, "worker", today - timedelta(days=350))  # expires within 30 days
    auth.as_role("worker")
    assert "2 courses due (1 overdue)" in panel(client)

    # done afresh: only the orientation is left
    attend(app, world, first_aid, "worker", today - timedelta(days=1))
    words = panel(client)
    assert "1 course due (1 overdue)" in words


def test_the_panel_is_the_worker_s_only(client, auth, world, app):
    with app.app_context():
        make_period(world["user"]["worker2"], datetime.now(UTC) + timedelta(hours=5))
        db.session.commit()
    auth.as_role("worker")
    assert "nothing published for you yet" in panel(client)
    auth.as_role("supervisor")
    assert "On call and training" not in text(client.get("/"))


def test_home_queries_stay_fixed_with_many_periods_and_courses(
    client, auth, world, app, count_queries
):
    # one of each first: with no course at all the attendance query is not needed
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    add_course(app, world["org"]["a"], name="Orientation", due=30)
    auth.as_role("worker")
    with count_queries() as few:
        client.get("/")
    with app.app_context():
        for n in range(8):
            make_period(world["user"]["worker"], start + timedelta(days=n))
        db.session.commit()
    for n in range(4):
        add_course(app, world["org"]["a"], name=f"Course {n}", due=30)
    with count_queries() as many:
        client.get("/")
    assert few() == many()


# --- the safety check-in, one tap away ---------------------------------------------------------


@pytest.fixture
def keep(app):
    """Home pages kept as deployed (60 s), so the tests see what a kept page would show."""
    app.config["PAGE_KEEP_SECONDS"] = 60
    pages = KeptFigures(60)
    app.extensions[kept_pages.EXTENSION] = pages
    yield pages
    app.extensions.pop(kept_pages.EXTENSION, None)


def notice(client) -> str:
    """The words of the home's running check-in notice ("" when there is none)."""
    page = client.get("/").get_data(as_text=True)
    if 'class="safety-notice' not in page:
        return ""
    start = page.index('class="safety-notice')
    assert start < page.index('aria-label="Help and support"'), "the notice comes first"
    section = page[start : page.index("</section>", start)]
    assert "<form" not in section and "I'm safe" not in section and "I&#39;m safe" not in section
    assert 'href="/safety"' in section
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(section)).split())


def due_text(app) -> str:
    """The running check-in's due time as the pages show it (the local clock)."""
    with app.app_context():
        return safety_service.time_text(only(app).due_at)


def version(app, org_id: int) -> int:
    with app.app_context():
        return db.session.get(Organisation, org_id).data_version


def test_the_safety_check_in_is_the_first_button_of_the_home(client, auth, world):
    auth.as_role("worker")
    page = client.get("/").get_data(as_text=True)
    quick = page.index('aria-label="Help and support"')
    strip = page[quick : page.index("</nav>", quick)]
    first = re.search(r'<a class="([^"]*)" href="([^"]*)">([^<]*)</a>', strip)
    assert first.group(2, 3) == ("/safety", "Safety check-in")
    assert "primary" in first.group(1) and "big" in first.group(1)
    assert notice(client) == ""  # nothing running: no notice


def test_a_running_check_in_shows_at_the_top_and_goes_when_it_ends(client, auth, world, app,
                                                                   keep):  # fmt: skip
    """Start and end are writes: the kept home shows the notice, then drops it, at once."""
    org = world["org"]["a"]
    auth.as_role("worker")
    assert notice(client) == ""
    client.get("/")
    assert keep.hits == 1  # the home without a check-in is kept
    before = version(app, org)
    assert start_checkin(client, place="Gravois and Meramec", minutes="30").status_code == 302
    assert version(app, org) > before
    words = notice(client)
    assert "Check-in running" in words and "Gravois and Meramec" in words
    assert f"Due back at {due_text(app)}" in words and "min left" in words
    page = client.get("/").get_data(as_text=True)
    quick = page.index('aria-label="Help and support"')
    assert 'href="/safety"' not in page[quick : page.index("</nav>", quick)]  # the notice's own
    hits = keep.hits
    notice(client)
    assert keep.hits == hits  # worked out afresh while it runs (its words change with the clock)

    checkin_id = only(app).id
    before = version(app, org)
    assert client.post(f"/safety/{checkin_id}/safe").status_code == 302
    assert version(app, org) > before
    assert notice(client) == ""  # (with "Good to hear you're safe": not kept, as any message)
    assert notice(client) == ""
    client.get("/")
    assert keep.hits == hits + 1  # kept again once it has ended


def test_another_worker_s_check_in_is_never_shown(client, auth, world, app):
    auth.as_role("worker2")
    start_checkin(client, place="Behind the rec centre")
    assert "Behind the rec centre" in notice(client)
    auth.logout()
    auth.as_role("worker")
    assert notice(client) == ""
    assert "Behind the rec centre" not in client.get("/").get_data(as_text=True)


def test_a_check_in_ended_with_the_duress_code_looks_ended_on_the_home(client, auth, world, app,
                                                                      keep):  # fmt: skip
    auth.as_role("worker")
    set_codes(client)
    start_checkin(client)
    assert "Check-in running" in notice(client)
    client.post(f"/safety/{only(app).id}/safe", data={"code": "1357"})
    with app.app_context():
        assert db.session.get(SafetyCheckin, only(app).id).alarm_kind == "duress"
    assert notice(client) == ""  # as after the safe code: nothing for a bystander to read


def test_overdue_wording_follows_the_clock_without_a_write(client, auth, world, app, keep,
                                                           monkeypatch):  # fmt: skip
    """No write marks the due time passing: the home says "overdue" all the same, then that
    the supervisor was alerted once the escalation has raised the alarm."""
    org = world["org"]["a"]
    auth.as_role("worker")
    start_checkin(client, minutes="15")
    notice(client)
    due = only(app).due_at
    due_at = due_text(app)
    before = version(app, org)
    monkeypatch.setattr("portal.safety.service.utcnow", lambda: due + timedelta(minutes=2))
    words = notice(client)
    assert version(app, org) == before  # nothing written, and the words moved on
    assert "Check-in overdue" in words and f"Overdue since {due_at}" in words
    assert "will be alerted unless you end it now" in words
    assert "min left" not in words and "Due back at" not in words

    with app.app_context():
        alerts.escalate(now=due + timedelta(minutes=6))
    assert only(app).status == "alarm"
    words = notice(client)
    assert f"Overdue since {due_at}" in words and "Your supervisor was alerted" in words


def test_an_sos_shows_as_sent(client, auth, world, app):
    auth.as_role("worker")
    start_checkin(client, minutes="60")
    client.post("/safety/sos")
    assert only(app).alarm_kind == "sos"
    words = notice(client)
    assert "SOS sent" in words and "911" in words and "overdue" not in words.lower()


def test_a_running_check_in_costs_no_more_statements(client, auth, world, app, count_queries):
    auth.as_role("worker")
    client.get("/")
    with count_queries() as without:
        client.get("/")
    start_checkin(client, buddy=str(world["user"]["worker2"]))
    client.get("/")  # the "check-in started" message is shown once
    with count_queries() as running:
        client.get("/")
    assert "Check-in running" in notice(client)
    assert running() == without()
