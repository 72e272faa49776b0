"""The worker's home: what is next on call, which swaps wait for them, what training is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.extensions import db
from portal.models import OnCallSwap
from tests.test_oncall import make_period, text
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
