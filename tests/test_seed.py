"""`flask seed-demo`: the SPEC accounts sign in, the programme looks real, the shifts are sound."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.orm import aliased

from portal import create_app
from portal.extensions import db
from portal.models import (
    MAX_SHIFT_HOURS,
    SHIFT_TYPES,
    Engagement,
    Organisation,
    Shift,
    ShiftDayTotal,
    Site,
    User,
    UserRole,
)
from portal.pay import fairness
from portal.pay.periods import period_containing
from portal.seed import ALREADY_PRESENT, DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo
from portal.shifts import totals as shift_totals
from portal.shifts.service import current_period
from portal.timeutil import local_midnight_utc, local_today, local_zone, utcnow
from tests.conftest import _empty_tables

SPEC_ACCOUNTS = {
    "worker@example.org": "worker",
    "supervisor@example.org": "supervisor",
    "counselor@example.org": "counselor",
    "hr@example.org": "hr",
    "leader@example.org": "leader",
    "funder@example.org": "funder",
    "admin@example.org": "admin",
}
SITES = {"Dutchtown", "Walnut Park", "Hamilton Heights/Wells Goodfellow"}


@pytest.fixture
def seeded(runner):
    """The demo data, loaded through the real command; returns the command's result."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _table_counts() -> dict[str, int]:
    """Row counts of every table, plus a checksum of the shifts."""
    counts = {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
    counts["worked_minutes"] = db.session.scalar(sa.select(sa.func.sum(Shift.worked_minutes)))
    counts["max_updated"] = db.session.scalar(sa.select(sa.func.max(Shift.updated_at)))
    return counts


def _wipe() -> None:
    """Back to the migrated state (what the app fixture does after a test), to seed again
    within one. (TRUNCATE on PostgreSQL: audit_events refuses DELETE.)"""
    db.session.remove()
    _empty_tables()


def _period_bounds(period) -> tuple[datetime, datetime]:
    zone = local_zone()
    return local_midnight_utc(period.start, zone), local_midnight_utc(period.end, zone)


# --- accounts and sign-in -----------------------------------------------------------------------


def test_creates_the_spec_accounts_and_each_signs_in(app, client, seeded):
    with app.app_context():
        for email, role in SPEC_ACCOUNTS.items():
            user = _user(email)
            assert user is not None, email
            assert user.roles == {role}, email
            assert user.active
        worker, supervisor = _user("worker@example.org"), _user("supervisor@example.org")
        assert worker.organisation.kind == "provider"
        assert worker.site.name == "Dutchtown"
        assert supervisor.site_id == worker.site_id
        assert supervisor.organisation_id == worker.organisation_id
        assert _user("funder@example.org").organisation.kind == "funder"
        for email in ("counselor@example.org", "hr@example.org", "leader@example.org"):
            assert _user(email).organisation_id == worker.organisation_id

    for email, role in SPEC_ACCOUNTS.items():
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        if role in ("hr", "counselor", "admin", "funder"):  # the published demo secret
            assert response.headers["Location"] == "/login/two-factor", email
            with app.app_context():
                _user(email).totp_last_step = None  # the same code again for the next account
                db.session.commit()
            code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
            response = client.post("/login/two-factor", data={"code": code})
            assert response.status_code == 302, email
        assert client.get("/").status_code == 200, email
        client.post("/logout")
    wrong = client.post("/login", data={"email": "worker@example.org", "password": "demo-pass"})
    assert wrong.status_code != 302

    assert "worker@example.org" in seeded.output
    assert DEMO_PASSWORD in seeded.output
    assert DEMO_TOTP_SECRET in seeded.output


def test_demo_worker_sees_their_returned_shift_and_this_period(app, client, seeded):
    with app.app_context():
        worker = _user("worker@example.org")
        start, end = _period_bounds(current_period(worker.organisation_id))
        in_period = db.session.scalars(
            sa.select(Shift).where(
                Shift.worker_id == worker.id, Shift.start_at >= start, Shift.start_at < end
            )
        ).all()
        assert len(in_period) >= 2
        returned = [s for s in in_period if s.status == "returned"]
        assert 1 <= len(returned) <= 2
        assert all(s.return_reason for s in returned)
        assert {s.reviewed_by.email for s in returned} == {"supervisor@example.org"}
        shift_id, reason = returned[0].id, returned[0].return_reason
        assert {s.status for s in in_period} - {"returned"}  # something else too

    client.post("/login", data={"email": "worker@example.org", "password": DEMO_PASSWORD})
    page = client.get(f"/shifts/{shift_id}")
    assert page.status_code == 200
    assert str(escape(reason)) in page.get_data(as_text=True)
    assert client.get("/shifts").status_code == 200


def test_demo_worker_has_safety_codes_a_contact_and_a_past_safe_check_in(app, client, seeded):
    from portal.seed import DEMO_SAFE_CODE

    client.post("/login", data={"email": "worker@example.org", "password": DEMO_PASSWORD})
    page = client.get("/safety").get_data(as_text=True)
    assert "Your safe code" not in page  # nothing running: the start form
    assert "your codes are set" in page and "Sam Avery" in page
    assert "Vigil on Gravois Ave" in page and "Safe at" in page
    client.post("/safety", data={"place": "Demo corner", "minutes": "15"})
    with app.app_context():
        from portal.models import SafetyCheckin

        running = db.session.scalar(sa.select(SafetyCheckin).where(
            SafetyCheckin.status == "active"))  # fmt: skip
        running_id = running.id
    assert "Your safe code" in client.get("/safety").get_data(as_text=True)
    client.post(f"/safety/{running_id}/safe", data={"code": DEMO_SAFE_CODE})
    with app.app_context():
        from portal.models import SafetyCheckin

        assert db.session.get(SafetyCheckin, running_id).status == "safe"


def _checkins_started(org_id: int, quarter, site_id=None, alarms=False) -> tuple[int, int]:
    """(check-ins, distinct workers) started in ``quarter`` by the provider's workers (those of
    one home site when given), or of those that raised an alarm: counted afresh."""
    from portal.models import SafetyCheckin

    zone = local_zone()
    where = [SafetyCheckin.organisation_id == org_id, User.organisation_id == org_id,
             SafetyCheckin.started_at >= local_midnight_utc(quarter.start, zone),
             SafetyCheckin.started_at < local_midnight_utc(quarter.end, zone)]  # fmt: skip
    if site_id is not None:
        where.append(User.site_id == site_id)
    if alarms:
        where.append(SafetyCheckin.alarm_kind.is_not(None))
    return tuple(db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(SafetyCheckin.worker_id)))
        .join(User, User.id == SafetyCheckin.worker_id).where(*where)
    ).one())  # fmt: skip


def test_the_field_safety_table_shows_figures_and_keeps_small_sites_hidden(app, seeded):
    """The demo's past check-ins (field shifts of the ended quarters, a few alarms) give the
    leader's and the funder's Field safety table real counts, each the count of the check-ins
    behind it, while the small sites stay hidden. No position is seeded."""
    from portal.dashboard import service
    from portal.models import SafetyCheckin, SafetyPosition
    from portal.wellbeing.stats import published_quarters

    with app.app_context():
        minimum = app.config["SUPPRESSION_MIN"]
        today = local_today()
        sites = {s.name: s.id for s in db.session.scalars(sa.select(Site))}
        orgs = {o.name: o.id for o in db.session.scalars(sa.select(Organisation))}
        leader = _user("leader@example.org")
        published = hidden = 0
        for viewer in (leader, _user("funder@example.org")):
            figures = service.viewer_tables(viewer, {}, today)
            quarters = {q.label: q for q in published_quarters(figures.rng.start,
                                                               figures.rng.end, today)}
            table = figures.tables["safety"]
            assert table.rows, viewer.email
            shown = {m: 0 for m in ("checkins", "alarms")}
            for label, line, checkins, alarms in table.rows:
                if line in sites:
                    org_id, site_id = leader.organisation_id, sites[line]
                elif line in orgs:
                    org_id, site_id = orgs[line], None
                elif line == "All sites":
                    org_id, site_id = leader.organisation_id, None
                else:  # the funder's total: hidden, as one of its providers is
                    assert checkins is None and alarms is None, line
                    continue
                for metric, value in (("checkins", checkins), ("alarms", alarms)):
                    count, people = _checkins_started(org_id, quarters[label], site_id,
                                                      alarms=metric == "alarms")  # fmt: skip
                    if value is None:
                        hidden += 1
                        continue
                    assert value == count, (viewer.email, label, line, metric)
                    assert people >= minimum
                    shown[metric] += 1
            assert shown["checkins"] and shown["alarms"], (viewer.email, shown)
            published += sum(shown.values())
        assert published and hidden
        walnut_park = [row for row in service.viewer_tables(leader, {}, today).tables[
            "safety"].rows if row[1] == "Walnut Park"]  # fmt: skip
        assert walnut_park and all(row[2] is None for row in walnut_park)  # 9 workers
        kinds = set(db.session.scalars(sa.select(SafetyCheckin.alarm_kind).distinct()))
        assert kinds == {None, "missed", "sos"}  # mostly safe; never a duress alarm
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SafetyPosition)) == 0
        assert not db.session.scalar(sa.select(sa.func.count()).select_from(SafetyCheckin)
                                     .where(SafetyCheckin.status.in_(("active", "alarm"))))


def test_hr_finds_one_ended_period_left_to_close_and_closes_it(app, client, seeded):
    """Every earlier period is closed into statements but the last that ended: HR's home lists
    it as due, with a link, and HR can close it."""
    from portal.models import PayPeriod
    from portal.pay import service as pay_service

    with app.app_context():
        org = _user("hr@example.org").organisation_id
        policy = pay_service.load_policy(org)
        nxt = pay_service.next_period_to_close(org, policy)
        assert nxt.end <= local_today() < nxt.end + timedelta(days=policy.period_days)
        assert db.session.scalar(
            sa.select(sa.func.count(PayPeriod.id)).where(PayPeriod.organisation_id == org)
        )
        _user("hr@example.org").totp_last_step = None
        db.session.commit()
    assert "the last one that ended left for HR to close" in seeded.output
    client.post("/login", data={"email": "hr@example.org", "password": DEMO_PASSWORD})
    client.post("/login/two-factor", data={"code": pyotp.TOTP(DEMO_TOTP_SECRET).now()})
    home = client.get("/hr/").get_data(as_text=True)
    assert "1 pay period ended and not closed" in home and 'href="/hr/periods"' in home
    closed = client.post(
        "/hr/periods/close", data={"period_start": nxt.start.isoformat()}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Closed the period" in closed
    assert "pay period ended and not closed" not in client.get("/hr/").get_data(as_text=True)


# --- the programme ------------------------------------------------------------------------------


def test_programme_has_two_providers_three_sites_and_about_thirty_workers(app, seeded):
    with app.app_context():
        orgs = db.session.scalars(sa.select(Organisation)).all()
        assert sorted(o.kind for o in orgs) == ["funder", "provider", "provider"]
        assert all("(demo)" in o.name for o in orgs)
        sites = db.session.scalars(sa.select(Site)).all()
        assert {s.name for s in sites} == SITES
        by_name = {s.name: s for s in sites}
        assert by_name["Dutchtown"].organisation_id == by_name["Walnut Park"].organisation_id
        assert (
            by_name["Hamilton Heights/Wells Goodfellow"].organisation_id
            != by_name["Dutchtown"].organisation_id
        )
        assert all(s.organisation.kind == "provider" for s in sites)

        workers = db.session.scalars(
            sa.select(User).join(UserRole).where(UserRole.role == "worker")
        ).all()
        assert 25 <= len(workers) <= 35
        assert all(w.site is not None for w in workers)
        assert {w.site.name for w in workers} == SITES
        assert len({w.name for w in workers}) == len(workers)

        for site in sites:  # every site has a supervisor of its own organisation
            supervisor = db.session.scalar(
                sa.select(User)
                .join(UserRole)
                .where(UserRole.role == "supervisor", User.site_id == site.id)
            )
            assert supervisor is not None, site.name
            assert supervisor.organisation_id == site.organisation_id

        users = db.session.scalars(sa.select(User)).all()
        assert all(u.email.endswith("@example.org") or u.email.endswith(".example") for u in users)
        assert all(u.password_hash for u in users)

        # Every worker has shifts, and they cover about twelve months ending today.
        per_worker = dict(
            db.session.execute(
                sa.select(Shift.worker_id, sa.func.count()).group_by(Shift.worker_id)
            ).all()
        )
        assert set(per_worker) == {w.id for w in workers if w.active}

        # Every active worker has one open engagement from before their first shift; the
        # former workers' engagements ended within the last year.
        spells = db.session.execute(
            sa.select(Engagement.user_id, Engagement.started_on, Engagement.ended_on)
        ).all()
        first_shift = dict(
            db.session.execute(
                sa.select(Shift.worker_id, sa.func.min(Shift.start_at)).group_by(Shift.worker_id)
            ).all()
        )
        open_spells = {uid: start for uid, start, end in spells if end is None}
        assert set(open_spells) == {w.id for w in workers if w.active}
        assert all(open_spells[uid] <= at.date() for uid, at in first_shift.items())
        former = [w for w in workers if not w.active]
        assert len(former) == 5
        ended = [end for uid, _start, end in spells if end is not None]
        assert len(ended) == 5
        assert all(utcnow().date() - end < timedelta(days=366) for end in ended)
        first, last = db.session.execute(
            sa.select(sa.func.min(Shift.start_at), sa.func.max(Shift.start_at))
        ).one()
        now = utcnow()
        assert timedelta(days=355) < now - first < timedelta(days=367)
        assert now - last < timedelta(days=2)
        # About 3-5 shifts a week for someone there all year.
        weeks = (last - first).days / 7
        assert 3 <= per_worker[_user("worker@example.org").id] / weeks <= 5


def test_running_twice_changes_nothing(app, runner, seeded):
    with app.app_context():
        before = _table_counts()
    assert before["shifts"] > 5000

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert ALREADY_PRESENT in again.output

    with app.app_context():
        assert _table_counts() == before


def test_refuses_with_the_production_config(app, database_url):
    production = create_app("production", SECRET_KEY="x", SQLALCHEMY_DATABASE_URI=database_url)
    result = production.test_cli_runner().invoke(args=["seed-demo"])
    with production.app_context():
        db.engine.dispose()

    assert result.exit_code != 0
    assert "production" in result.output
    assert "Nothing was written" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_says_to_migrate_when_the_database_has_no_tables(tmp_path):
    bare = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'bare.db'}")
    result = bare.test_cli_runner().invoke(args=["seed-demo"])
    with bare.app_context():
        db.engine.dispose()
    assert result.exit_code != 0
    assert "db upgrade" in result.output


# --- the shifts are sound -----------------------------------------------------------------------


def test_no_worker_has_overlapping_shifts(app, seeded):
    with app.app_context():
        a, b = aliased(Shift), aliased(Shift)
        overlaps = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(a)
            .join(
                b,
                sa.and_(
                    a.worker_id == b.worker_id,
                    a.id < b.id,
                    a.start_at < b.end_at,
                    b.start_at < a.end_at,
                ),
            )
        )
        assert overlaps == 0


def test_the_dashboards_daily_totals_count_every_approved_shift(app, seeded):
    """The demo's shifts are bulk-inserted around the session: the load rebuilds the totals."""
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ShiftDayTotal)) > 100
        assert shift_totals.check() == []


def test_the_leaders_trend_is_recorded_and_matches_working_it_out(app, seeded):
    """Each provider's last eleven month-ends are recorded, as the nightly command would."""
    with app.app_context():
        providers = db.session.scalars(
            sa.select(Organisation.id).where(Organisation.kind == "provider")
        ).all()
        today = local_today()
        for org_id in providers:
            stored = fairness.stored_snapshots(org_id, fairness.month_ends(today))
            assert len(stored) == 11
            oldest = min(stored)
            assert stored[oldest] == fairness.fair_pay(org_id, oldest).total
            assert any(t.compared for t in stored.values())  # the demo has targets to meet


def test_shift_sites_and_organisations_match_the_worker(app, seeded):
    with app.app_context():
        mismatched = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Shift)
            .join(User, User.id == Shift.worker_id)
            .join(Site, Site.id == Shift.site_id)
            .where(
                sa.or_(
                    Shift.organisation_id != User.organisation_id,
                    Site.organisation_id != User.organisation_id,
                )
            )
        )
        assert mismatched == 0
        not_workers = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Shift)
            .where(
                ~Shift.worker_id.in_(sa.select(UserRole.user_id).where(UserRole.role == "worker"))
            )
        )
        assert not_workers == 0


def test_every_shift_is_within_the_rules(app, seeded):
    with app.app_context():
        shifts = db.session.scalars(sa.select(Shift)).all()
        zone = local_zone()
        now = utcnow()
        for s in shifts:
            elapsed = s.end_at - s.start_at
            assert timedelta(0) < elapsed <= timedelta(hours=MAX_SHIFT_HOURS), s.id
            assert s.worked_minutes == elapsed.total_seconds() // 60 - s.break_minutes, s.id
            assert 0 <= s.break_minutes < elapsed.total_seconds() / 60
            assert 0 <= s.conflicts_interrupted <= 3
            assert 0 <= s.individuals_engaged <= 12
            assert 0 <= s.referrals <= 3
            assert s.start_at <= now + timedelta(days=1), s.id
            assert s.created_at <= s.updated_at <= now
            assert s.start_at.astimezone(zone).minute % 15 == 0  # typed on a wall clock
        assert {s.shift_type for s in shifts} == set(SHIFT_TYPES)
        overnight = [
            s
            for s in shifts
            if s.start_at.astimezone(zone).date() < s.end_at.astimezone(zone).date()
        ]
        assert len(overnight) > len(shifts) / 20
        assert any(
            s.start_at.astimezone(zone).time() == time(22) and s.end_at.astimezone(zone).hour == 6
            for s in overnight
        )
        assert sum(s.conflicts_interrupted for s in shifts) > 0
        assert sum(s.referrals for s in shifts) > 0

        # Short notes on some shifts, and never a person's name in them.
        notes = [s.note for s in shifts if s.note]
        assert len(shifts) / 10 < len(notes) < len(shifts)
        names = {part for n in db.session.scalars(sa.select(User.name)) for part in n.split()}
        assert not [note for note in notes if names & set(note.replace(";", " ").split())]


def test_statuses_follow_the_pay_period(app, seeded):
    with app.app_context():
        start, _end = _period_bounds(current_period(_user("worker@example.org").organisation_id))
        supervisors = {
            u.id: u
            for u in db.session.scalars(
                sa.select(User).join(UserRole).where(UserRole.role == "supervisor")
            )
        }
        earlier = db.session.scalars(sa.select(Shift).where(Shift.start_at < start)).all()
        assert earlier
        # training shifts are approved by the HR officer who recorded the session attended
        hr = {u.id: u for u in db.session.scalars(
            sa.select(User).join(UserRole).where(UserRole.role == "hr"))}  # fmt: skip
        for s in earlier:
            assert s.status == "approved", s.id
            assert s.reviewed_at is not None and s.reviewed_at >= s.created_at
            if s.shift_type == "training" and s.note.startswith("Training: "):
                assert hr[s.reviewed_by_id].organisation_id == s.organisation_id
                continue
            reviewer = supervisors[s.reviewed_by_id]
            assert reviewer.organisation_id == s.organisation_id
            assert reviewer.site_id == s.worker.site_id

        current = db.session.scalars(sa.select(Shift).where(Shift.start_at >= start)).all()
        statuses = {s.status for s in current}
        assert {"submitted", "approved"} <= statuses
        returned = [s for s in current if s.status == "returned"]
        assert {s.worker.email for s in returned} == {"worker@example.org"}
        for s in current:
            assert (s.status == "submitted") == (s.reviewed_at is None)


# --- the generator ------------------------------------------------------------------------------


def _snapshot() -> list[tuple]:
    rows = db.session.execute(
        sa.select(
            User.email,
            Shift.start_at,
            Shift.end_at,
            Shift.shift_type,
            Shift.status,
            Shift.worked_minutes,
            Shift.individuals_engaged,
            Shift.note,
        )
        .join(User, User.id == Shift.worker_id)
        .order_by(User.email, Shift.start_at)
    ).all()
    return [tuple(row) for row in rows]


def test_first_hour_of_a_pay_period_is_deterministic_and_covers_the_demo_worker(app):
    """Just after a period opens the demo worker still has shifts in it, one returned.

    The twelve months before include both daylight-saving changes.
    """
    with app.app_context():
        zone = local_zone()
        period = period_containing(
            date(2026, 3, 20),
            date.fromisoformat(app.config["PAY_PERIOD_ANCHOR"]),
            app.config["PAY_PERIOD_DAYS"],
        )
        now = datetime.combine(period.start, time(0, 30), tzinfo=zone).astimezone(UTC)
        summary = seed_demo(now=now)
        assert summary["created"] is True
        assert summary["period"] == period
        first = _snapshot()

        start = local_midnight_utc(period.start, zone)
        worker = _user("worker@example.org")
        mine = db.session.scalars(
            sa.select(Shift).where(Shift.worker_id == worker.id, Shift.start_at >= start)
        ).all()
        assert len(mine) >= 2
        assert any(s.status == "returned" and s.return_reason for s in mine)
        latest = db.session.scalar(sa.select(sa.func.max(Shift.start_at)))
        assert latest <= now + timedelta(days=1)
        assert db.session.scalar(sa.select(sa.func.max(Shift.reviewed_at))) <= now

        assert seed_demo(now=now) == {"created": False}
        _wipe()
        assert seed_demo(now=now)["created"] is True
        assert _snapshot() == first
