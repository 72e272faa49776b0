"""A supervisor takes a published on-call period back (issue 15): cancels it before it starts, or
ends it now while it is under way, always with a reason its worker is mailed. A cancelled period
is kept (its worker opens its page from the mail) but never paid, listed or swapped; an ended one
is paid up to its new end. Refusals show the form again (422, reason kept); other sites' periods
answer 404."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal.extensions import db
from portal.models import AuditEvent, OnCallPeriod, OnCallSwap, PayStatement, Shift
from portal.oncall import service as svc
from tests.conftest import AuthActions
from tests.factories import local, make_rate, make_shift
from tests.test_kept_pages import keep  # noqa: F401 - the fixture
from tests.test_kept_pages import page as kept_page
from tests.test_oncall import mails, make_period, next_week
from tests.test_oncall import text as tagless
from tests.test_pay import at, close, periods
from tests.test_pay_oncall import set_policy

REASON = "Site closed for the holiday"


def text(response) -> str:
    """The page's visible words, entities read ("Worker A's")."""
    return html.unescape(tagless(response))


def soon(app, world, hours_ahead=48, worker="worker", **fields) -> int:
    """A published period of a worker of Dutchtown starting ``hours_ahead`` from now."""
    with app.app_context():
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=hours_ahead)
        pid = make_period(world["user"][worker], start, **fields)
        db.session.commit()
    return pid


def cancel(client, pid, reason=REASON, **args):
    query = "".join(f"&{k}={v}" for k, v in args.items()).replace("&", "?", 1)
    return client.post(f"/oncall/rota/periods/{pid}/cancel{query}",
                       data={f"period-{pid}-reason": reason})  # fmt: skip


def end_now(client, pid, reason="Worker fell ill", **args):
    query = "".join(f"&{k}={v}" for k, v in args.items()).replace("&", "?", 1)
    return client.post(f"/oncall/rota/periods/{pid}/end{query}",
                       data={f"period-{pid}-reason": reason})  # fmt: skip


def local_text(app, instant: datetime, fmt: str) -> str:
    with app.app_context():
        return svc.to_local(instant).strftime(fmt)


def week_of(app, pid) -> str:
    """The rota week (Sunday workweeks) a period starts in."""
    start = get(app, pid).start_at
    with app.app_context():
        return svc.week_of(svc.to_local(start).date(), 6).isoformat()


def get(app, pid) -> OnCallPeriod:
    with app.app_context():
        period = db.session.get(OnCallPeriod, pid)
        db.session.expunge(period)
        return period


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def freeze(monkeypatch, instant: datetime) -> None:
    """The on-call rules' clock (and the pages', which read it from the service) at ``instant``."""
    monkeypatch.setattr(svc, "utcnow", lambda: instant)


# --- cancel ----------------------------------------------------------------------------------


def test_cancel_ends_open_swaps_mails_both_and_leaves_every_list(client, auth, world, app):
    pid = soon(app, world)
    u = world["user"]
    with app.app_context():
        swap = OnCallSwap(organisation_id=world["org"]["a"], period_id=pid,
                          from_worker_id=u["worker"], to_worker_id=u["worker2"],
                          status="asked")  # fmt: skip
        db.session.add(swap)
        db.session.commit()
        swap_id = swap.id
    week = week_of(app, pid)
    auth.as_role("supervisor")
    rota = client.get(f"/oncall/rota?week={week}").get_data(as_text=True)
    assert "Cancel…" in rota and f'for="period-{pid}-reason"' in rota
    assert f'action="/oncall/rota/periods/{pid}/cancel"' in rota
    response = cancel(client, pid, "  Site closed\nfor the holiday ")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Cancelled Worker A's on-call period" in page
    assert "Cancelled" in page and f"“{REASON}”" in page
    assert "<s>" in client.get(f"/oncall/rota?week={week}").get_data(as_text=True)
    assert "Cancel…" not in text(client.get(f"/oncall/rota?week={week}"))

    period = get(app, pid)
    assert (period.status, period.cancel_reason) == ("cancelled", REASON)
    assert period.cancelled_by_id == u["supervisor"] and period.cancelled_at is not None
    with app.app_context():
        closed = db.session.get(OnCallSwap, swap_id)
        assert (closed.status, closed.status_label) == ("cancelled", "Cancelled with the period")
        assert closed.decided_by_id == u["supervisor"]
    assert actions(app)[-2:] == ["oncall.period_cancelled", "oncall.swap_cancelled"]
    sent = mails(app)
    to_worker = [m for m in sent if "To: worker@a.example.org" in m]
    assert len(to_worker) == 1 and REASON in to_worker[0]
    assert f"/oncall/periods/{pid}" in to_worker[0] and "not on call then" in to_worker[0]
    assert any("To: worker2@a.example.org" in m and "Nothing changes for you" in m for m in sent)
    auth.logout()

    auth.as_role("worker")
    mine = text(client.get("/oncall"))
    assert "You have no on-call periods coming up." in mine and "Swaps" not in mine
    assert "Nothing published for this week yet." in text(client.get(f"/oncall?week={week}"))
    shown = client.get(f"/oncall/periods/{pid}")
    assert shown.status_code == 200
    assert "Cancelled" in text(shown) and REASON in text(shown) and "Supervisor A" in text(shown)
    assert "Ask to swap" not in text(shown)
    refused = client.post(f"/oncall/periods/{pid}/swap", data={"to_worker_id": u["worker2"]})
    assert refused.status_code == 422 and "cancelled" in text(refused)
    assert "On call: nothing published for you yet" in text(client.get("/"))
    auth.logout()

    # the worker is free again then: a new period at the same time is not an overlap
    auth.as_role("supervisor")
    with app.app_context():
        start, end = svc.to_local(period.start_at), svc.to_local(period.end_at)
    added = client.post(
        f"/oncall/rota/sites/{world['site']['a1']}/periods?week={week}",
        data={"worker_id": u["worker"], "start_day": start.date().isoformat(),
              "start_time": f"{start:%H:%M}", "end_day": end.date().isoformat(),
              "end_time": f"{end:%H:%M}"},
    )  # fmt: skip
    assert added.status_code == 302, text(added)


def test_cancel_refusals_are_shown_with_the_reason_kept(client, auth, world, app):
    pid = soon(app, world)
    draft = soon(app, world, hours_ahead=100, status="draft")
    paid = soon(app, world, hours_ahead=150)
    with app.app_context():
        from portal.models import PayPeriod

        today = datetime.now(UTC).date()
        pay = PayPeriod(organisation_id=world["org"]["a"], start_date=today - timedelta(days=30),
                        end_date=today - timedelta(days=16))  # fmt: skip
        db.session.add(pay)
        db.session.flush()
        db.session.get(OnCallPeriod, paid).paid_in_period_id = pay.id
        db.session.commit()
    auth.as_role("supervisor")
    blank = cancel(client, pid, "   ")
    assert blank.status_code == 422
    assert 'role="alert"' in blank.get_data(as_text=True) and "Say why you cancel it" in text(blank)
    assert "<details" in blank.get_data(as_text=True) and " open>" in blank.get_data(as_text=True)
    long = "x" * 501
    too_long = cancel(client, pid, long)
    assert too_long.status_code == 422 and "under 500 characters" in text(too_long)
    assert long in too_long.get_data(as_text=True)  # the input is kept
    assert get(app, pid).status == "published"

    for other, message in ((draft, "This period is a draft"), (paid, "paid on a closed statement")):
        refused = cancel(client, other)
        assert refused.status_code == 422 and message in text(refused), message
    assert cancel(client, pid).status_code == 302
    again = cancel(client, pid, "Twice")
    assert again.status_code == 422 and "already cancelled" in text(again)
    assert get(app, pid).cancel_reason == REASON  # nothing saved is lost

    # from the period's page, its page comes back
    started = soon(app, world, hours_ahead=-1, worker="worker2")
    shown = cancel(client, started, **{"from": "period"})
    assert shown.status_code == 422
    assert "has started: end it now instead" in text(shown) and "End it now" in text(shown)
    assert get(app, started).status == "published"
    assert [a for a in actions(app) if "cancel" in a] == ["oncall.period_cancelled"]
    # the rota shown again is the row's own week, however far ahead (not "this week")
    far = soon(app, world, hours_ahead=24 * 365 * 4, worker="worker2")
    blank = cancel(client, far, "")
    assert blank.status_code == 422 and "Say why: its worker reads it" in text(blank)


def test_other_sites_supervisors_and_workers_get_404(client, auth, world, app):
    pid = soon(app, world)
    elsewhere = soon(app, world, worker="worker3")  # Walnut Park: not supervisor A's site
    now = soon(app, world, hours_ahead=-2, worker="worker2")
    auth.as_role("supervisor", "b")
    for target in (pid, now):
        assert cancel(client, target).status_code == 404
        assert end_now(client, target).status_code == 404
    auth.logout()
    auth.as_role("supervisor")
    assert cancel(client, elsewhere).status_code == 404
    assert end_now(client, elsewhere).status_code == 404
    assert client.get(f"/oncall/periods/{elsewhere}").status_code == 404
    auth.logout()
    for role in ("worker", "worker3", "hr"):
        auth.as_role(role)
        assert cancel(client, pid).status_code == 404
        assert end_now(client, now).status_code == 404
        auth.logout()
    with app.app_context():
        statuses = set(db.session.scalars(sa.select(OnCallPeriod.status)))
        assert statuses == {"published"}
        assert db.session.scalar(sa.select(sa.func.max(OnCallPeriod.planned_end_at))) is None
    # the supervisor of every site may act on Walnut Park's
    auth.as_role("supervisor_all")
    assert cancel(client, elsewhere).status_code == 302
    # a worker never sees another's cancelled period
    auth.logout()
    auth.as_role("worker2")
    assert client.get(f"/oncall/periods/{elsewhere}").status_code == 404


# --- end now ---------------------------------------------------------------------------------


def test_end_now_keeps_it_published_up_to_the_minute_and_mails(client, auth, world, app,
                                                               monkeypatch):  # fmt: skip
    pid = soon(app, world, hours_ahead=-3)  # 12 hours from 3 hours ago
    planned = get(app, pid).end_at
    moment = get(app, pid).start_at + timedelta(hours=3, seconds=42, microseconds=123)
    freeze(monkeypatch, moment)
    auth.as_role("supervisor")
    page = client.get(f"/oncall/periods/{pid}")
    assert "End this period now" in text(page) and "End it now" in text(page)
    refused = cancel(client, pid)
    assert refused.status_code == 422 and "end it now instead" in text(refused)
    response = end_now(client, pid, **{"from": "period"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/oncall/periods/{pid}")
    shown = text(client.get(response.headers["Location"]))
    assert f"Ended Worker A's on-call period at {local_text(app, moment, '%H:%M')}" in shown
    assert "Ended early" in shown and "Worker fell ill" in shown
    period = get(app, pid)
    assert period.status == "published"
    assert period.end_at == moment.replace(second=0, microsecond=0)
    assert period.planned_end_at == planned
    assert period.ended_early_by_id == world["user"]["supervisor"]
    assert period.hours == Decimal("3.00")
    assert actions(app)[-1] == "oncall.period_ended_early"
    sent = [m for m in mails(app) if "To: worker@a.example.org" in m]
    assert len(sent) == 1 and "ended your on-call period" in sent[0]
    assert "Worker fell ill" in sent[0]
    again = end_now(client, pid)
    assert again.status_code == 422 and "already ended" in text(again)
    assert get(app, pid).end_at == period.end_at
    auth.logout()
    auth.as_role("worker")
    mine = text(client.get(f"/oncall/periods/{pid}"))
    assert "Ended early" in mine and "The time on call until then is paid" in mine
    assert "You have no on-call periods coming up." in text(client.get("/oncall"))


def test_end_now_in_the_first_minute_cancels_and_before_the_start_is_refused(
    client, auth, world, app, monkeypatch
):
    pid = soon(app, world, hours_ahead=5)
    start = get(app, pid).start_at
    freeze(monkeypatch, start - timedelta(minutes=5))
    auth.as_role("supervisor")
    early = end_now(client, pid)
    assert early.status_code == 422 and "has not started: cancel it instead" in text(early)
    freeze(monkeypatch, start + timedelta(seconds=40))
    assert end_now(client, pid).status_code == 302
    period = get(app, pid)
    assert period.status == "cancelled" and period.cancel_reason == "Worker fell ill"
    assert period.planned_end_at is None
    assert actions(app)[-1] == "oncall.period_cancelled"


def test_a_call_back_logged_after_the_new_end_refuses_it(client, auth, world, app, monkeypatch):
    pid = soon(app, world, hours_ahead=-1)
    start = get(app, pid).start_at
    with app.app_context():
        make_shift(world["user"]["worker"], start + timedelta(hours=4), hours=2, call_back=True,
                   on_call_period_id=pid, shift_type="hospital_response")  # fmt: skip
        db.session.commit()
    freeze(monkeypatch, start + timedelta(hours=3))
    auth.as_role("supervisor")
    refused = end_now(client, pid)
    assert refused.status_code == 422
    assert "logged a call-back in this period starting" in text(refused)
    assert "end before it" in text(refused)
    assert get(app, pid).planned_end_at is None
    # after the call-back began it may end: the call-back still starts inside it
    freeze(monkeypatch, start + timedelta(hours=5))
    assert end_now(client, pid).status_code == 302
    assert get(app, pid).end_at == (start + timedelta(hours=5)).replace(second=0)
    # a period with a call-back cannot be cancelled at all
    later = soon(app, world, hours_ahead=30)
    later_start = get(app, later).start_at
    with app.app_context():
        make_shift(world["user"]["worker"], later_start + timedelta(hours=1),
                   hours=1, call_back=True, on_call_period_id=later)  # fmt: skip
        db.session.commit()
    refused = cancel(client, later)
    assert refused.status_code == 422 and "untick call-back" in text(refused)


# --- pay -------------------------------------------------------------------------------------


def _take_back_in_the_past(client, monkeypatch, pid, instant, how):
    """Cancel (or end) a period of the previous pay period as if it were ``instant``."""
    with monkeypatch.context() as patched:
        freeze(patched, instant)
        response = (cancel if how == "cancel" else end_now)(client, pid)
    assert response.status_code == 302, text(response)


def test_a_cancelled_period_pays_nothing_at_close(client, auth, world, app, monkeypatch):
    _, previous = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    set_policy(app, world["org"]["a"], stipend="40.00")
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(previous, 1), hours=9, status="approved")
        gone = make_period(w, at(previous, 2, "18:00"), hours=12)
        kept = make_period(w, at(previous, 5, "18:00"), hours=12)
        db.session.commit()
    auth.as_role("supervisor")
    _take_back_in_the_past(client, monkeypatch, gone, at(previous, 2, "12:00"), "cancel")
    auth.logout()
    auth.as_role("hr")
    assert "Closed the period" in text(close(client, previous))
    with app.app_context():
        st_ = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w))
        assert st_.stipends == Decimal("40.00") and st_.gross_pay == Decimal("220.00")
        on_call = [o["id"] for wk in st_.details["weeks"] for o in wk.get("on_call", [])]
        assert on_call == [kept]
        assert db.session.get(OnCallPeriod, gone).paid_in_period_id is None


def test_an_ended_restrictive_period_pays_up_to_its_new_end(client, auth, world, app,
                                                            monkeypatch):  # fmt: skip
    _, previous = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    set_policy(app, world["org"]["a"], restrictive=True)
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(previous, 1), hours=4, status="approved")
        pid = make_period(w, at(previous, 2, "18:00"), hours=12)
        db.session.commit()
    auth.as_role("supervisor")
    moment = at(previous, 2, "21:30") + timedelta(seconds=45)
    _take_back_in_the_past(client, monkeypatch, pid, moment, "end")
    auth.logout()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        st_ = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w))
        assert st_.hours == Decimal("7.50")  # 4 h shift + 3.5 h on call, not 12
        assert st_.gross_pay == Decimal("150.00")
        assert db.session.get(OnCallPeriod, pid).paid_in_period_id == st_.period_id


def test_an_ended_stipend_period_is_still_paid_once(client, auth, world, app, monkeypatch):
    _, previous = periods(app, world["org"]["a"])
    w = world["user"]["worker"]
    set_policy(app, world["org"]["a"], stipend="40.00")
    with app.app_context():
        make_rate(w, "20.00")
        make_shift(w, at(previous, 1), hours=9, status="approved")
        pid = make_period(w, at(previous, 2, "18:00"), hours=12)
        db.session.commit()
    auth.as_role("supervisor")
    _take_back_in_the_past(client, monkeypatch, pid, at(previous, 2, "19:00"), "end")
    auth.logout()
    auth.as_role("hr")
    close(client, previous)
    with app.app_context():
        st_ = db.session.scalar(sa.select(PayStatement).where(PayStatement.worker_id == w))
        assert st_.stipends == Decimal("40.00") and st_.gross_pay == Decimal("220.00")
    with app.app_context():
        from portal.pay import service as pay_service

        assert pay_service.unpaid_on_call(datetime.now(UTC) + timedelta(days=400)) == {}


# --- kept pages ------------------------------------------------------------------------------


def test_the_workers_kept_home_and_on_call_page_show_a_cancel_at_once(app, client, auth, world,
                                                                      keep):  # noqa: F811
    pid = soon(app, world, hours_ahead=30)
    auth.as_role("worker")
    assert "On call next:" in kept_page(client, "/")
    assert "You have no on-call periods coming up." not in kept_page(client, "/oncall")
    supervisor = app.test_client()
    AuthActions(supervisor).as_role("supervisor")
    assert cancel(supervisor, pid).status_code == 302
    assert "On call: nothing published for you yet" in kept_page(client, "/")
    assert "You have no on-call periods coming up." in kept_page(client, "/oncall")


# --- the migration ---------------------------------------------------------------------------


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


NEW_COLUMNS = {"cancelled_at", "cancelled_by_id", "cancel_reason", "planned_end_at",
               "ended_early_by_id", "end_early_reason"}  # fmt: skip


def test_migration_0017_up_and_down(client, auth, world, app, monkeypatch):
    """Down to 0016 keeps every row (a cancelled period as a draft, its swap declined) with the
    swaps and call-backs that point at them; up again, the columns come back empty."""
    pid = soon(app, world)
    ended = soon(app, world, hours_ahead=-2, worker="worker2")
    ended_start = get(app, ended).start_at
    with app.app_context():
        db.session.add(OnCallSwap(organisation_id=world["org"]["a"], period_id=pid,
                                  from_worker_id=world["user"]["worker"],
                                  to_worker_id=world["user"]["worker2"], status="asked"))
        make_shift(world["user"]["worker2"], ended_start + timedelta(minutes=30),
                   hours=1, call_back=True, on_call_period_id=ended)  # fmt: skip
        db.session.commit()
    auth.as_role("supervisor")
    assert cancel(client, pid).status_code == 302
    assert end_now(client, ended).status_code == 302
    with app.app_context():
        db.session.remove()
        try:
            downgrade(revision="0016")
            assert not NEW_COLUMNS & _columns("on_call_periods")
            with db.engine.connect() as conn:
                rows = dict(conn.execute(sa.text("SELECT id, status FROM on_call_periods")).all())
                assert rows == {pid: "draft", ended: "published"}
                swaps = conn.execute(sa.text("SELECT status FROM on_call_swaps")).scalars().all()
                assert swaps == ["declined"]
                linked = conn.execute(sa.text("SELECT on_call_period_id FROM shifts")).scalar()
                assert linked == ended
                with pytest.raises(sa.exc.IntegrityError):  # the old constraint is back
                    conn.execute(
                        sa.text("UPDATE on_call_periods SET status = 'cancelled' WHERE id = :id"),
                        {"id": pid},
                    )
            upgrade()
            assert NEW_COLUMNS <= _columns("on_call_periods")
            if db.engine.dialect.name == "sqlite":  # foreign keys are enforced again
                with db.engine.connect() as conn:
                    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        finally:
            upgrade()  # leave the shared schema whole whatever happened
            db.session.remove()
        assert db.session.get(OnCallPeriod, pid).cancelled_at is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 1


def test_the_rota_gives_each_row_its_own_labelled_form(client, auth, world, app):
    week, saturday = next_week()
    with app.app_context():
        first = make_period(world["user"]["worker"], local(saturday, "06:00"))
        second = make_period(world["user"]["worker2"], local(saturday, "18:00"))
        draft = make_period(world["user"]["worker3"], local(saturday, "08:00"), status="draft",
                            site_id=world["site"]["a1"])  # fmt: skip
        db.session.commit()
    auth.as_role("supervisor")
    html = client.get(f"/oncall/rota?week={week.isoformat()}").get_data(as_text=True)
    assert re.findall(r'id="(period-\d+-reason)"', html) == [
        f"period-{first}-reason", f"period-{second}-reason"
    ]  # a draft is removed, never cancelled
    assert f'<label for="period-{first}-reason">Reason</label>' in html
    assert f'name="period-{second}-csrf_token"' in html
    assert f"/oncall/rota/periods/{draft}/remove" in html
    assert f"/oncall/rota/periods/{draft}/cancel" not in html
