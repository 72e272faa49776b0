"""`flask seed-bench`: a tiny build is consistent (engagements, pay, wellbeing) and refuses where it
must; the dashboards work on it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.models import (
    Booking,
    CheckIn,
    CounselingSlot,
    Engagement,
    Exposure,
    FairPaySnapshot,
    Organisation,
    PayPeriod,
    PayStatement,
    Shift,
    ShiftDayTotal,
    Site,
    SupportRequest,
    User,
    UserRole,
)
from portal.pay import rates as pay_rates
from portal.pay import service as pay_service
from portal.seedbench import (
    BENCH_PASSWORD,
    DETAILED_PERIODS,
    DOMAIN,
    FUNDER_EMAIL,
    _clock,
    seed_bench,
)
from portal.shifts import totals as shift_totals
from portal.timeutil import local_midnight_utc, local_today, local_zone

WORKERS, YEARS = 12, 1
LEADER = f"leader@p001.{DOMAIN}"


@pytest.fixture
def built(app, runner):
    """A tiny bench build through the real command; returns its output."""
    result = runner.invoke(args=["seed-bench", "--workers", str(WORKERS), "--years", str(YEARS)])
    assert result.exit_code == 0, result.output
    return result.output


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_counts_are_in_the_expected_ranges(app, built):
    assert "Bench data created in" in built  # the command says how long it took, and the rows
    assert "shifts" in built and "pay_statements" in built and BENCH_PASSWORD in built
    with app.app_context():
        providers = db.session.scalars(
            sa.select(Organisation).where(Organisation.kind == "provider")
        ).all()
        funder = db.session.scalar(sa.select(Organisation).where(Organisation.kind == "funder"))
        assert len(providers) == 2 and all(p.funded_by_id == funder.id for p in providers)
        sites = db.session.execute(
            sa.select(Site.organisation_id, sa.func.count()).group_by(Site.organisation_id)
        ).all()
        assert all(2 <= n <= 4 for _org, n in sites)
        workers = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).join(UserRole)
            .where(UserRole.role == "worker", User.active.is_(True))
        )  # fmt: skip
        assert WORKERS * 0.75 <= workers <= WORKERS
        for role in ("leader", "hr", "counselor", "supervisor", "funder"):
            assert db.session.scalar(
                sa.select(sa.func.count()).select_from(UserRole).where(UserRole.role == role)
            ), role
        weeks = 52 * YEARS
        assert WORKERS * weeks * 4 <= _count(Shift) <= WORKERS * weeks * 6
        assert _count(Engagement) >= WORKERS
        assert _count(Exposure) > 0 and _count(CheckIn) > 0
        assert _count(CounselingSlot) > _count(Booking) > 0
        acknowledged = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SupportRequest)
            .where(SupportRequest.acknowledged_at.is_not(None))
        )
        assert 0 < acknowledged <= _count(SupportRequest)
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Exposure).where(Exposure.severity >= 4)
        )
        per_provider = db.session.execute(
            sa.select(PayPeriod.organisation_id, sa.func.count()).group_by(
                PayPeriod.organisation_id
            )
        ).all()
        # Every fortnight that has ended is closed, for each provider.
        assert len(per_provider) == len(providers)
        assert all(abs(n - 26 * YEARS) <= 1 for _org, n in per_provider)
        # Each leader's trend is recorded: the last eleven month-ends of every provider.
        assert _count(FairPaySnapshot) == 11 * len(providers)


def test_every_shift_falls_in_an_engagement_of_its_worker(app, built):
    with app.app_context():
        zone = local_zone()
        spells = defaultdict(list)
        for user_id, org, start, end in db.session.execute(
            sa.select(Engagement.user_id, Engagement.organisation_id, Engagement.started_on,
                      Engagement.ended_on)
        ):  # fmt: skip
            spells[user_id].append((org, start, end))
        shifts = db.session.execute(
            sa.select(Shift.worker_id, Shift.organisation_id, Shift.start_at, Shift.end_at,
                      Shift.worked_minutes, Shift.break_minutes)
        ).all()  # fmt: skip
        for worker, org, start, end, worked, pause in shifts:
            day = start.astimezone(zone).date()
            assert any(o == org and s <= day and (e is None or day <= e)
                       for o, s, e in spells[worker]), (worker, day)  # fmt: skip
            assert worked == int((end - start).total_seconds()) // 60 - pause
            assert timedelta(0) < end - start <= timedelta(hours=16)
        # One open engagement at most per person, and only active accounts have one.
        active = dict(db.session.execute(sa.select(User.id, User.active)).all())
        for user_id, rows in spells.items():
            open_ = [r for r in rows if r[2] is None]
            assert len(open_) == (1 if active[user_id] else 0)
            ordered = sorted(rows, key=lambda r: r[1])
            for (_o, _s, end), (_o2, start, _e) in zip(ordered, ordered[1:], strict=False):
                assert end is not None and end < start


def test_closed_periods_lock_their_shifts_into_matching_statements(app, built):
    with app.app_context():
        for org_id in db.session.scalars(
            sa.select(Organisation.id).where(Organisation.kind == "provider")
        ):
            policy = pay_service.load_policy(org_id)
            current = policy.period_of(local_today())
            # HR's next period to close is the current one: nothing older is left unpaid.
            assert pay_service.next_period_to_close(org_id, policy) == current
            opens = local_midnight_utc(current.start, local_zone())
            unpaid_old = db.session.scalar(
                sa.select(sa.func.count()).select_from(Shift).where(
                    Shift.organisation_id == org_id, Shift.start_at < opens,
                    Shift.paid_in_period_id.is_(None),
                )
            )  # fmt: skip
            paid_new = db.session.scalar(
                sa.select(sa.func.count()).select_from(Shift).where(
                    Shift.organisation_id == org_id, Shift.start_at >= opens,
                    Shift.paid_in_period_id.is_not(None),
                )
            )  # fmt: skip
            assert unpaid_old == 0 and paid_new == 0

        # Each statement pays exactly the hours of the shifts locked into its period.
        minutes = {
            (period, worker): total
            for period, worker, total in db.session.execute(
                sa.select(Shift.paid_in_period_id, Shift.worker_id,
                          sa.func.sum(Shift.worked_minutes))
                .where(Shift.paid_in_period_id.is_not(None))
                .group_by(Shift.paid_in_period_id, Shift.worker_id)
            )
        }  # fmt: skip
        statements = db.session.scalars(sa.select(PayStatement)).all()
        assert len(statements) >= len(minutes)
        for st in statements:
            paid = Decimal(minutes.get((st.period_id, st.worker_id), 0)) / 60
            assert st.hours == paid.quantize(Decimal("0.01")), st.id
            lines = st.regular_pay + st.differential_pay + st.stipends + st.overtime_premium
            assert st.gross_pay == lines + st.adjustments
            if st.classification == "employee_nonexempt":
                # Each figure is rounded on its own (a break is spread over a shift that
                # crosses into the next workweek), so they may differ by a cent of an hour.
                assert abs(st.regular_hours + st.overtime_hours - st.hours) <= Decimal("0.01")
            else:
                assert st.overtime_hours == 0


def test_the_last_closed_period_is_what_closing_it_would_store(app, built):
    """Re-price the last closed period of the first provider from the stored rows, as
    close_period does: every figure and the breakdown are the same."""
    with app.app_context():
        org_id = db.session.scalar(
            sa.select(sa.func.min(Organisation.id)).where(Organisation.kind == "provider")
        )
        period_row = db.session.scalars(
            sa.select(PayPeriod).where(PayPeriod.organisation_id == org_id)
            .order_by(PayPeriod.start_date.desc()).limit(1)
        ).one()  # fmt: skip
        policy = pay_service.load_policy(org_id)
        period = policy.period_of(period_row.start_date)
        rates = pay_rates.rates_by_worker(org_id)
        shifts = defaultdict(list)
        for shift in db.session.scalars(
            sa.select(Shift).where(Shift.paid_in_period_id == period_row.id)
            .order_by(Shift.start_at, Shift.id)
        ):  # fmt: skip
            shifts[shift.worker_id].append(shift)
        stored = db.session.scalars(
            sa.select(PayStatement).where(PayStatement.period_id == period_row.id)
        ).all()
        assert stored and DETAILED_PERIODS >= 1
        for st in stored:
            priced = pay_service.price(
                st.worker_id, period, policy, rates[st.worker_id], shifts[st.worker_id], [], []
            )
            expected = pay_service.statement_row(period_row.id, org_id, st.worker_id, priced,
                                                 policy)  # fmt: skip
            for column, value in expected.items():
                assert getattr(st, column) == value, (st.id, column)


def test_the_dashboards_daily_totals_count_every_approved_shift(app, built):
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ShiftDayTotal)) > 100
        assert shift_totals.check() == []


def test_the_dashboards_render_for_the_bench_leader_and_funder(app, built, client, auth):
    for email in (LEADER, FUNDER_EMAIL):
        response = auth.login(email, BENCH_PASSWORD)
        assert response.status_code == 302, email
        page = client.get("/dashboard")
        assert page.status_code == 200, email
        assert "Programme outputs" in page.get_data(as_text=True)
        auth.logout()


def test_refuses_a_database_with_data_unless_reset(app, built, runner):
    with app.app_context():
        users, shifts = _count(User), _count(Shift)
    again = runner.invoke(args=["seed-bench", "--workers", str(WORKERS), "--years", "1"])
    assert again.exit_code != 0
    assert "--reset" in again.output and "Nothing was written" in again.output
    with app.app_context():
        assert (_count(User), _count(Shift)) == (users, shifts)
    reset = runner.invoke(args=["seed-bench", "--workers", str(WORKERS), "--years", "1",
                                "--reset"])  # fmt: skip
    assert reset.exit_code == 0, reset.output
    with app.app_context():
        assert _count(User) == users  # replaced, not added to
        assert abs(_count(Shift) - shifts) <= WORKERS  # the same but for today's last hours


def test_the_same_moment_gives_the_same_data(app):
    now = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)  # just after the spring DST change
    with app.app_context():
        first = seed_bench(WORKERS, YEARS, now=now)["counts"]
        minutes = db.session.scalar(sa.select(sa.func.sum(Shift.worked_minutes)))
        second = seed_bench(WORKERS, YEARS, reset=True, now=now)["counts"]
        assert first == second
        assert db.session.scalar(sa.select(sa.func.sum(Shift.worked_minutes))) == minutes


def test_refuses_with_the_production_config(app, database_url):
    production = create_app("production", SECRET_KEY="x", SQLALCHEMY_DATABASE_URI=database_url)
    result = production.test_cli_runner().invoke(args=["seed-bench", "--workers", "2"])
    with production.app_context():
        db.engine.dispose()
    assert result.exit_code != 0
    assert "production" in result.output and "Nothing was written" in result.output
    with app.app_context():
        assert _count(User) == 0 and _count(Organisation) == 0


def test_shift_times_agree_with_timeutil_across_dst_changes(app):
    """The builder's cached UTC offsets give the same instants as portal.timeutil every day of
    a year with both DST changes, or hand over to it where a wall-clock time does not exist."""
    from portal.seedbench import _Builder
    from portal.timeutil import NonexistentLocalTime, local_span_to_utc

    with app.app_context():
        builder = _Builder.__new__(_Builder)
        builder.zone = local_zone()
        builder.first_day, builder.today = date(2026, 1, 1), date(2026, 12, 31)
        builder.offsets = builder._offsets()
        day = builder.first_day
        while day <= date(2026, 12, 31):
            for start, end in ((60, 180), (120, 150), (22 * 60, 6 * 60), (18 * 60, 2 * 60 + 30),
                               (9 * 60, 17 * 60), (23 * 60 + 30, 1 * 60 + 15)):  # fmt: skip
                try:
                    expected = local_span_to_utc(day, _clock(start), _clock(end), builder.zone)
                except NonexistentLocalTime:
                    with pytest.raises(NonexistentLocalTime):
                        builder._span(day, start, end)
                    continue
                assert builder._span(day, start, end) == expected, (day, start, end)
            day += timedelta(days=1)
