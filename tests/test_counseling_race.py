"""One slot, one booking: several workers press "Book" at the same instant, from several threads.

The database decides (bookings.active_slot_id is UNIQUE; on SQLite writers also queue behind
BEGIN IMMEDIATE). Exactly one wins; the others get 409 with the "just taken" message, never 500.
Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Booking
from tests.factories import PASSWORD, make_slot, make_user

THREADS = 6
TAKEN = "That time was just taken by someone else — pick another."


def test_concurrent_bookings_of_one_slot_leave_exactly_one(app, world):
    with app.app_context():
        slot_id = make_slot(world["user"]["counselor"])
        emails = []
        for n in range(THREADS):
            email = f"racer{n}@a.example.org"
            make_user(f"Racer {n}", email, {"worker"}, world["org"]["a"], world["site"]["a1"])
            emails.append(email)
        db.session.commit()

    clients = []
    for email in emails:  # signed in one by one; only the Book presses race
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        clients.append(client)

    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, str]] = [None] * THREADS  # type: ignore[list-item]
    errors: list[BaseException] = []

    def press(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = clients[i].post(f"/counseling/slots/{slot_id}/book")
            results[i] = (response.status_code, response.get_data(as_text=True))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    statuses = sorted(code for code, _body in results)
    assert statuses == [302] + [409] * (THREADS - 1), statuses
    for code, body in results:
        if code == 409:
            assert TAKEN in body and 'role="alert"' in body

    with app.app_context():
        rows = list(db.session.scalars(sa.select(Booking).where(Booking.slot_id == slot_id)))
    assert len(rows) == 1
    assert rows[0].active_slot_id == slot_id and rows[0].status == "booked"
