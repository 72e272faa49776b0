"""The leader's fair-pay trend: past month-ends read from snapshots, today worked out live."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from portal.extensions import db
from portal.models import FairPaySnapshot, PayRate
from portal.pay import fairness
from portal.timeutil import local_today
from tests.factories import make_rate
from tests.test_fair_pay import setup_org


def _trend_rows(page: str) -> list[str]:
    """The trend table's rows as text: month, share at or above target, yearly cost."""
    table = page[page.index('id="fairpay-months-caption"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table, flags=re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", row).strip() for row in rows]


def test_month_ends_are_the_eleven_before_this_month():
    ends = fairness.month_ends(date(2026, 3, 15))
    assert ends[0] == date(2025, 4, 30) and ends[-1] == date(2026, 2, 28)
    assert len(ends) == 11
    assert fairness.month_ends(date(2024, 3, 1))[-1] == date(2024, 2, 29)  # a leap year


def test_snapshots_show_the_same_trend_as_working_it_out(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("leader")
    live = _trend_rows(client.get("/").get_data(as_text=True))
    assert len(live) == 12
    result = app.test_cli_runner().invoke(args=["snapshot-fair-pay"])
    assert result.exit_code == 0, result.output
    assert "Recorded 22 fair-pay month-end(s) for 2 provider(s)." in result.output
    assert _trend_rows(client.get("/").get_data(as_text=True)) == live
    again = app.test_cli_runner().invoke(args=["snapshot-fair-pay"])
    assert "Recorded 0 fair-pay month-end(s)" in again.output  # each month once
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FairPaySnapshot)) == 22


def test_a_recorded_month_stands_and_today_moves(client, world, auth, app):
    """A raise back-dated after a month was recorded changes today's figure, not the record."""
    setup_org(app, world)
    with app.app_context():
        fairness.record_snapshots(world["org"]["a"], local_today())
        db.session.commit()
    auth.as_role("leader")
    before = _trend_rows(client.get("/").get_data(as_text=True))
    with app.app_context():
        # Worker A (18.50 against a 24.93 target) raised to 30.00 from a year ago.
        db.session.execute(sa.delete(PayRate).where(PayRate.worker_id == world["user"]["worker"]))
        make_rate(world["user"]["worker"], "30.00", since=date(2020, 1, 1))
        db.session.commit()
    after = _trend_rows(client.get("/").get_data(as_text=True))
    assert after[:11] == before[:11]  # the months as recorded at their end
    assert after[11] != before[11] and "100.0%" in after[11]  # today: both now at target


def test_months_without_a_snapshot_are_worked_out(client, world, auth, app):
    """A month the nightly command has not recorded yet is not left out of the trend."""
    setup_org(app, world)
    with app.app_context():
        fairness.record_snapshots(world["org"]["a"], local_today())
        oldest = fairness.month_ends(local_today())[0]
        stored = db.session.scalar(sa.select(FairPaySnapshot).where(FairPaySnapshot.day == oldest))
        stored.at_or_above = 0  # tampered with, to tell a stored figure from a worked-out one
        db.session.execute(sa.delete(FairPaySnapshot).where(FairPaySnapshot.day != oldest))
        db.session.commit()
    auth.as_role("leader")
    rows = _trend_rows(client.get("/").get_data(as_text=True))
    assert len(rows) == 12
    assert "0.0%" in rows[0]  # the stored month is read, not worked out again
    assert all("50.0%" in row for row in rows[1:])  # the others are worked out


def test_snapshots_belong_to_their_organisation(client, world, auth, app):
    """Provider B's leader never reads provider A's record (snapshots are per organisation)."""
    setup_org(app, world)
    with app.app_context():
        fairness.record_snapshots(world["org"]["a"], local_today())
        db.session.commit()
        owners = db.session.scalars(sa.select(FairPaySnapshot.organisation_id).distinct()).all()
    assert owners == [world["org"]["a"]]
    with app.app_context():
        trend_b = fairness.trend(world["org"]["b"], local_today())
    assert all(t.workers == 1 and t.compared == 0 for _day, t in trend_b)
