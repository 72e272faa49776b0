"""The daily totals dashboards read: in step with every way a shift is written, on both
databases."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.models import Shift, ShiftDayTotal, User
from portal.shifts import service as svc
from portal.shifts import totals
from tests.factories import local, make_shift
from tests.test_dashboard import get_csv
from tests.test_shifts import form


def stored(app) -> dict:
    """The rows as {(organisation, site, day): (shifts, minutes, conflicts, engaged, referrals)},
    days where everything went back to zero left out."""
    with app.app_context():
        rows = db.session.execute(sa.select(ShiftDayTotal)).scalars().all()
        return {
            (r.organisation_id, r.site_id, r.day): tuple(getattr(r, n) for n in totals.SUMS)
            for r in rows
            if r.shifts
        }


def differences(app) -> list[str]:
    with app.app_context():
        return totals.check()


def programme_total(client, **dates) -> list[str]:
    """The leader's "Total" line of programme outputs by site (shifts, hours, conflicts, ...)."""
    return get_csv(client, "programme-sites", **dates)[-1][1:]


# --- through the pages ------------------------------------------------------------------------


def test_the_dashboard_follows_a_shift_from_logging_to_approval(client, world, auth, app):
    """A worker logs a shift, the supervisor returns it, the worker corrects it, the supervisor
    approves it: the leader's figures count it only once approved, with the corrected figures;
    a second shift deleted before approval never counts."""
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    dates = {"from": (day - timedelta(days=3)).isoformat(), "to": day.isoformat()}
    auth.as_role("worker")
    assert client.post("/shifts/new", data=form(world, day=day.isoformat())).status_code == 302
    earlier = form(world, day=(day - timedelta(days=1)).isoformat(), conflicts_interrupted=9)
    assert client.post("/shifts/new", data=earlier).status_code == 302
    with app.app_context():
        first, second = db.session.scalars(
            sa.select(Shift.id).where(Shift.worker_id == world["user"]["worker"]).order_by(
                Shift.start_at.desc())
        ).all()  # fmt: skip
    auth.as_role("leader")
    assert programme_total(client, **dates) == ["0", "0.00", "0", "0", "0"]

    auth.as_role("supervisor")
    client.post(f"/shifts/{first}/return", data={"reason": "Check the referrals."})
    auth.as_role("leader")
    assert programme_total(client, **dates) == ["0", "0.00", "0", "0", "0"]

    auth.as_role("worker")
    edited = form(world, day=day.isoformat(), referrals=3, end_time="18:00")
    assert client.post(f"/shifts/{first}/edit", data=edited).status_code == 302
    assert client.post(f"/shifts/{second}/delete").status_code == 302
    auth.as_role("supervisor")
    client.post(f"/shifts/{first}/approve")
    auth.as_role("leader")
    # 09:00-18:00 less a 30-minute break; 2 conflicts, 7 people, 3 referrals (the correction)
    assert programme_total(client, **dates) == ["1", "8.50", "2", "7", "3"]
    assert differences(app) == []


def test_approving_many_at_once_counts_each_day(client, world, auth, app):
    days = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1)]
    with app.app_context():
        ids = [make_shift(world["user"]["worker"], local(d, "20:00"), 5, conflicts_interrupted=1)
               for d in days]  # fmt: skip
        db.session.commit()
    auth.as_role("supervisor")
    client.post("/shifts/review/approve", data={"shift_ids": ids})
    org, site = world["org"]["a"], world["site"]["a1"]
    assert stored(app) == {(org, site, d): (1, 300, 1, 0, 0) for d in days}
    auth.as_role("leader")
    months = get_csv(client, "programme-months", **{"from": "2026-01-01", "to": "2026-02-28"})
    assert [row[:4] for row in months[1:]] == [
        ["2026-01", "2", "10.00", "2"], ["2026-02", "1", "5.00", "1"], ["Total", "3", "15.00", "3"],
    ]  # fmt: skip


# --- the local date a shift counts on ---------------------------------------------------------


def test_a_shift_counts_on_its_local_start_date(app, world):
    """Late evening in Chicago is the next day in UTC; the clocks change on 8 March and
    1 November 2026; each shift counts on the date its worker saw on the clock."""
    org, site, worker = world["org"]["a"], world["site"]["a1"], world["user"]["worker"]
    starts = {
        date(2026, 1, 31): local(date(2026, 1, 31), "23:30"),  # 05:30 UTC on 1 February
        date(2026, 3, 8): local(date(2026, 3, 8), "03:00"),  # an hour after clocks went forward
        date(2026, 3, 7): local(date(2026, 3, 7), "23:59"),
        date(2026, 11, 1): datetime(2026, 11, 1, 6, 30, tzinfo=UTC),  # 01:30, the second time
    }
    with app.app_context():
        for start in starts.values():
            make_shift(worker, start, 1, "approved")
        db.session.commit()
    assert set(stored(app)) == {(org, site, d) for d in starts}
    assert differences(app) == []  # the database's own time zone arithmetic agrees


# --- every kind of write, at random -----------------------------------------------------------

BASE = datetime(2026, 2, 27, tzinfo=UTC)  # spans the end of February and the March clock change
instants = st.integers(0, 12 * 96).map(lambda q: BASE + timedelta(minutes=15 * q))
counts = st.tuples(*(st.integers(min_value=0, max_value=4) for _ in range(3)))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), instants, st.sampled_from(["submitted", "approved"]),
                  st.booleans(), counts),  # fmt: skip
        st.tuples(st.just("approve"), st.integers(0, 20)),
        st.tuples(st.just("return"), st.integers(0, 20)),
        st.tuples(st.just("move"), st.integers(0, 20), instants, st.booleans()),
        st.tuples(st.just("recount"), st.integers(0, 20), counts),
        st.tuples(st.just("reopen"), st.integers(0, 20)),
        st.tuples(st.just("delete"), st.integers(0, 20)),
        st.tuples(st.just("rollback"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=12,
)


def _apply(op, ids: list[int], world) -> None:
    """One write as the portal or an administrator would make it, committed (or rolled back)."""
    kind, *args = op
    sites = [world["site"]["a1"], world["site"]["a2"]]
    supervisor = db.session.get(User, world["user"]["supervisor_all"])
    if kind == "add":
        start, status, other_site, (c, i, r) = args
        ids.append(make_shift(world["user"]["worker"], start, 3, status,
                              site_id=sites[other_site], conflicts_interrupted=c,
                              individuals_engaged=i, referrals=r))  # fmt: skip
        db.session.commit()
        return
    if not ids:
        return
    shift_id = ids[args[0] % len(ids)]
    shift = db.session.get(Shift, shift_id)
    db.session.expire(shift)  # as an object kept from before the last commit: nothing loaded
    if kind == "approve":
        svc.approve_shifts(supervisor, [shift_id])
    elif kind == "return" and svc.can_review(supervisor, shift):
        svc.return_shift(supervisor, shift, "Please check the times.")
    elif kind == "move":  # set before anything is read: the old values must still be found
        shift.start_at, shift.end_at = args[1], args[1] + timedelta(hours=3)
        shift.site_id = sites[args[2]]
    elif kind == "recount":
        shift.conflicts_interrupted, shift.individuals_engaged, shift.referrals = args[1]
    elif kind == "reopen":
        shift.status = "submitted"
    elif kind == "delete":
        ids.remove(shift_id)
        db.session.delete(shift)
    elif kind == "rollback":  # a change flushed, then abandoned
        shift.status = "approved" if shift.status != "approved" else "returned"
        db.session.flush()
        db.session.rollback()
        return
    db.session.commit()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(operations)
def test_totals_agree_with_the_shifts_after_any_writes(app, world, ops):
    with app.app_context():
        db.session.execute(sa.delete(Shift))
        db.session.execute(sa.delete(ShiftDayTotal))
        db.session.commit()
        ids: list[int] = []
        for op in ops:
            _apply(op, ids, world)
            assert totals.check() == [], op
        db.session.remove()


# --- failures and concurrency -----------------------------------------------------------------


def test_a_failed_or_abandoned_save_leaves_the_totals_as_they_were(app, world):
    worker = world["user"]["worker"]
    with app.app_context():
        make_shift(worker, local(date(2026, 1, 5), "09:00"), 8, "approved")
        waiting = make_shift(worker, local(date(2026, 1, 6), "09:00"), 8)
        db.session.commit()
    before = stored(app)
    with app.app_context():
        shift = db.session.get(Shift, waiting)
        shift.status, shift.referrals = "approved", -1  # refused by the database's check
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        savepoint = db.session.begin_nested()  # approved and flushed, then given up
        db.session.get(Shift, waiting).status = "approved"
        db.session.flush()
        savepoint.rollback()
        db.session.commit()
    assert stored(app) == before
    with app.app_context():
        db.session.get(Shift, waiting).status = "approved"
        db.session.commit()
    assert stored(app) == {**before, (world["org"]["a"], world["site"]["a1"], date(2026, 1, 6)):
                           (1, 480, 0, 0, 0)}  # fmt: skip
    assert differences(app) == []


def test_two_supervisors_approving_the_same_day_both_count(app, world):
    """Two approvals of one site's day at the same moment, from two connections: each adds its
    shift (the upsert waits for the other's row instead of overwriting it)."""
    worker, day = world["user"]["worker"], date(2026, 1, 12)
    with app.app_context():
        ids = [make_shift(worker, local(day, clock), 2) for clock in ("08:00", "12:00", "16:00")]
        db.session.commit()
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def approve(shift_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                supervisor = db.session.get(User, world["user"]["supervisor"])
                svc.approve_shifts(supervisor, [shift_id])
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert stored(app) == {(world["org"]["a"], world["site"]["a1"], day): (3, 360, 0, 0, 0)}


# --- repair: the command and the migration ----------------------------------------------------


def test_the_command_finds_and_repairs_totals_a_bulk_write_left_behind(app, world, runner):
    with app.app_context():
        shift_id = make_shift(world["user"]["worker"], local(date(2026, 1, 5), "09:00"), 8)
        db.session.commit()
        # A Core update goes around the session, as a bulk load or hand-written SQL would.
        db.session.execute(sa.update(Shift).where(Shift.id == shift_id).values(status="approved"))
        db.session.commit()
    result = runner.invoke(args=["rebuild-shift-totals", "--check-only"])
    assert result.exit_code == 1
    assert "2026-01-05: stored nothing, shifts give (1, 480, 0, 0, 0)" in result.output
    assert "1 day(s) differ" in result.output
    result = runner.invoke(args=["rebuild-shift-totals"])
    assert result.exit_code == 0 and "1 rows" in result.output
    result = runner.invoke(args=["rebuild-shift-totals", "--check-only"])
    assert result.exit_code == 0 and "agree" in result.output


def test_the_migration_counts_the_shifts_already_there(app, world):
    """An existing deployment upgrading to 0008 gets totals for every approved shift it holds."""
    worker, other = world["user"]["worker"], world["user"]["worker_b"]
    with app.app_context():
        make_shift(worker, local(date(2026, 1, 31), "23:30"), 4, "approved", referrals=2)
        make_shift(worker, local(date(2026, 2, 2), "09:00"), 8, "approved", individuals_engaged=3)
        make_shift(worker, local(date(2026, 2, 3), "09:00"), 8, "submitted")
        make_shift(other, local(date(2026, 2, 2), "09:00"), 6, "approved", break_minutes=30)
        db.session.commit()
    kept_by_the_hook = stored(app)
    with app.app_context():
        db.session.remove()
        downgrade(revision="0007")
        try:
            upgrade()
        finally:
            upgrade()  # leave the shared schema whole whatever happened
            db.session.remove()
    assert stored(app) == kept_by_the_hook
    assert len(kept_by_the_hook) == 3
