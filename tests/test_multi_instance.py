"""Two app instances in two OS processes behave as one site (docs/deploy.md, "Several instances").

Both serve the test database (SQLite: two processes on one file; PostgreSQL with
TEST_DATABASE_URL), share one SECRET_KEY and, with TEST_REDIS_URL, one Redis for the throttle
counters; one cookie jar plays the browser whose requests a load balancer sends to either.
Nothing a person does may depend on which instance answers: the session and CSRF token made by
one are good on the other, a sign-out on one ends the session on both, failed sign-ins add up
across both, and a booking race across both leaves one booking.
"""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa
from limits.storage import storage_from_string

from portal.counseling.booking_service import TAKEN
from portal.extensions import db
from portal.models import Booking
from tests import factories
from tests.factories import make_slot
from tests.instances import Browser, start_instance

REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to a Redis server")
pytestmark = pytest.mark.xdist_group("redis")  # one Redis database for the tests (make test)

RACERS = 6  # half press "Book" on each instance


@pytest.fixture(scope="module")
def instances(database_url, tmp_path_factory):
    """Two instances, started once for this module and ended after it."""
    directory = tmp_path_factory.mktemp("instances")
    storage = REDIS_URL or "memory://"
    one = start_instance("one", directory, database_url, storage)
    try:
        two = start_instance("two", directory, database_url, storage)
    except BaseException:
        one.stop()
        raise
    yield one, two
    one.stop()
    two.stop()


def add_slot(app, world, days: int = 3) -> int:
    """An open counselling slot of provider A's counsellor, committed; returns its id."""
    with app.app_context():
        slot_id = make_slot(world["user"]["counselor"], days)
        db.session.commit()
        return slot_id


def bookings_of(app, slot_id: int) -> list[Booking]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Booking).where(Booking.slot_id == slot_id)))


def test_a_session_and_its_csrf_token_work_on_both_instances(app, world, instances):
    one, two = instances
    slot_id = add_slot(app, world)
    browser = Browser()

    signed_in = browser.sign_in(one.base, factories.email_for("worker"))
    assert signed_in.status == 302 and signed_in.location == "/", signed_in.text[:500]
    home = browser.get(two.base, "/")  # the next request lands on the other instance
    assert home.status == 200, two.output()
    assert "Signed in as Worker A" in home.text

    # The token printed by instance one is accepted by instance two...
    token = browser.csrf_token(one.base, "/counseling")
    booked = browser.post(two.base, f"/counseling/slots/{slot_id}/book", {"csrf_token": token})
    assert booked.status == 302 and booked.location.startswith("/bookings/"), booked.text[:500]
    assert browser.get(one.base, booked.location).status == 200
    assert len(bookings_of(app, slot_id)) == 1
    # ...and checking it is really on: a forged token is refused there.
    other = add_slot(app, world, days=4)
    forged = browser.post(two.base, f"/counseling/slots/{other}/book", {"csrf_token": "forged"})
    assert forged.status == 400 and "Please try that again" in forged.text
    assert bookings_of(app, other) == []

    # Signing out on two ends the session everywhere, even for a copy of the cookie kept before.
    kept = browser.copy()
    token = browser.csrf_token(one.base, "/")
    signed_out = browser.post(two.base, "/logout", {"csrf_token": token})
    assert signed_out.status == 302 and signed_out.location == "/login"
    for instance in (one, two):
        for who in (browser, kept):
            page = who.get(instance.base, "/")
            assert page.status == 302 and page.location == "/login", instance.name


def test_two_factor_sign_in_started_on_one_instance_ends_on_the_other(app, world, instances):
    one, two = instances
    browser = Browser()
    password_step = browser.sign_in(one.base, factories.email_for("hr"))
    assert password_step.status == 302 and password_step.location == "/login/two-factor"

    token = browser.csrf_token(two.base, "/login/two-factor")
    code_step = browser.post(
        two.base, "/login/two-factor", {"code": factories.totp_code(), "csrf_token": token}
    )
    assert code_step.status == 302 and code_step.location == "/", code_step.text[:500]
    home = browser.get(one.base, "/")
    assert home.status == 200 and "Signed in as Hr A" in home.text


@needs_redis
def test_failed_sign_ins_on_both_instances_count_toward_one_throttle(world, instances):
    counters = storage_from_string(REDIS_URL)
    counters.reset()  # this Redis database is the tests' own (TEST_REDIS_URL)
    try:
        email = factories.email_for("worker")
        for attempt in range(5):  # the account's limit: 5 failures in 5 minutes
            instance = instances[attempt % 2]
            failed = Browser().sign_in(instance.base, email, password="wrong password")
            assert failed.status == 200, (attempt, instance.name, failed.status)
            assert "don&#39;t match an active account" in failed.text
        # Three failures went to one, two to two: each alone is under the limit, together not.
        # The sixth is refused on two, even with the right password.
        refused = Browser().sign_in(instances[1].base, email)
        assert refused.status == 429
        assert "Too many failed sign-ins" in refused.text
        assert Browser().sign_in(instances[0].base, email).status == 429
    finally:
        counters.reset()


def test_a_booking_race_across_both_instances_leaves_one_booking(app, world, instances):
    slot_id = add_slot(app, world)
    with app.app_context():
        emails = []
        for n in range(RACERS):
            email = f"racer{n}@a.example.org"
            factories.make_user(
                f"Racer {n}", email, {"worker"}, world["org"]["a"], world["site"]["a1"]
            )
            emails.append(email)
        db.session.commit()

    # Signed in one by one, each on the instance it will book on; only the presses race.
    racers = []
    for n, email in enumerate(emails):
        instance = instances[n % 2]
        browser = Browser()
        assert browser.sign_in(instance.base, email).status == 302
        racers.append((instance, browser, browser.csrf_token(instance.base, "/counseling")))

    barrier = threading.Barrier(RACERS)
    results: list = [None] * RACERS
    errors: list[BaseException] = []

    def press(n: int) -> None:
        instance, browser, token = racers[n]
        try:
            barrier.wait(timeout=30)
            path = f"/counseling/slots/{slot_id}/book"
            results[n] = browser.post(instance.base, path, {"csrf_token": token})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=press, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    statuses = sorted(page.status for page in results)
    assert statuses == [302] + [409] * (RACERS - 1), (statuses, [i.output() for i in instances])
    for page in results:
        if page.status == 409:
            assert TAKEN in page.text and 'role="alert"' in page.text
    # Refusals came from both processes (each had three presses, only one can have won).
    refused_by = {racers[n][0].name for n, page in enumerate(results) if page.status == 409}
    assert refused_by == {"one", "two"}

    rows = bookings_of(app, slot_id)
    assert len(rows) == 1
    assert rows[0].active_slot_id == slot_id and rows[0].status == "booked"
