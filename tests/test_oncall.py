"""The on-call roster: supervisors add and publish periods per site and week, workers see only
published ones and swap with a colleague's acceptance and a supervisor's approval. Refusals are
shown on the form (422, input kept); other sites' and organisations' records answer 404."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, OnCallPeriod, OnCallSwap, PayPeriod
from portal.oncall import service as svc
from tests.factories import CHICAGO, local, make_user


def text(response) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def mails(app) -> list[str]:
    """Every message written to the test mail folder, as text."""
    folder = app.config["MAIL_DIR"]
    if not os.path.isdir(folder):
        return []
    return [
        open(os.path.join(folder, n), encoding="utf-8").read() for n in sorted(os.listdir(folder))
    ]


def next_week() -> tuple:
    """Next week's first day (Sunday workweeks) and its Saturday."""
    week = svc.week_of(datetime.now(CHICAGO).date(), 6) + timedelta(days=7)
    return week, week + timedelta(days=6)


def make_period(worker_id, start, hours=12, status="published", site_id=None, **fields) -> int:
    """A period saved directly; returns its id."""
    from portal.models import User

    worker = db.session.get(User, worker_id)
    period = OnCallPeriod(
        organisation_id=worker.organisation_id, site_id=site_id or worker.site_id,
        worker_id=worker_id, start_at=start, end_at=start + timedelta(hours=hours),
        status=status, **fields,
    )  # fmt: skip
    db.session.add(period)
    db.session.flush()
    return period.id


def add(client, site_id, week, worker_id, start_day, start, end_day, end):
    return client.post(
        f"/oncall/rota/sites/{site_id}/periods?week={week.isoformat()}",
        data={"worker_id": worker_id, "start_day": start_day.isoformat(), "start_time": start,
              "end_day": end_day.isoformat(), "end_time": end},
    )  # fmt: skip


def periods(app) -> list[OnCallPeriod]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OnCallPeriod).order_by(OnCallPeriod.id)))


def test_supervisor_adds_publishes_and_the_worker_sees_it_and_is_mailed(client, auth, world, app):
    week, saturday = next_week()
    u, site = world["user"], world["site"]["a1"]
    auth.as_role("supervisor")
    response = add(client, site, week, u["worker"], saturday, "18:00",
                   saturday + timedelta(days=1), "06:00")  # fmt: skip
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Worker A" in page and "Draft" in page and "Publish the week (1 draft)" in page
    auth.logout()
    auth.as_role("worker")
    assert "You have no on-call periods coming up." in text(client.get("/oncall"))
    auth.logout()

    auth.as_role("supervisor")
    published = client.post(f"/oncall/rota/sites/{site}/publish?week={week.isoformat()}")
    assert published.status_code == 302
    assert "Published 1 period; 1 worker was mailed." in text(
        client.get(published.headers["Location"])
    )
    sent = [m for m in mails(app) if "To: worker@a.example.org" in m]
    assert len(sent) == 1 and "You are on call at Dutchtown" in sent[0]
    auth.logout()

    auth.as_role("worker")
    page = text(client.get("/oncall"))
    assert f"{saturday:%a %b %-d} 18:00" in page and "12.00 h" in page
    rota = text(client.get(f"/oncall?week={week.isoformat()}"))
    assert "Dutchtown rota" in rota and "You" in rota
    with app.app_context():
        actions = {e.action for e in db.session.scalars(sa.select(AuditEvent))}
    assert {"oncall.period_added", "oncall.published"} <= actions


def test_bad_periods_are_refused_on_the_form_with_the_input_kept(client, auth, world, app):
    week, saturday = next_week()
    u, site = world["user"], world["site"]["a1"]
    auth.as_role("supervisor")
    cases = [
        ((saturday, "18:00", saturday, "17:00"), "The end must be after the start."),
        ((saturday, "18:00", saturday + timedelta(days=4), "06:00"), "at most 72 hours"),
        ((saturday, "18:00", saturday, "18:10"), "at least 30 minutes"),
    ]
    for (sd, st, ed, et), message in cases:
        response = add(client, site, week, u["worker"], sd, st, ed, et)
        assert response.status_code == 422
        assert message in text(response)
        assert 'role="alert"' in response.get_data(as_text=True)
        assert f'value="{sd.isoformat()}"' in response.get_data(as_text=True)
    bad = client.post(f"/oncall/rota/sites/{site}/periods",
                      data={"worker_id": u["worker"], "start_day": "tomorrow",
                            "start_time": "25:00",
                            "end_day": "", "end_time": "06:00"})  # fmt: skip
    assert bad.status_code == 422
    page = text(bad)
    assert "Enter a date like 2026-11-26." in page and "Enter a time like 21:30." in page
    # a worker of another site, or of another organisation, is not a choice
    for other in (u["worker3"], u["worker_b"], u["supervisor"]):
        refused = add(client, site, week, other, saturday, "18:00", saturday, "23:00")
        assert refused.status_code == 422
    assert periods(app) == []


def test_overlaps_are_refused_for_one_worker_even_across_sites(client, auth, world, app):
    week, saturday = next_week()
    u = world["user"]
    with app.app_context():
        make_period(u["worker"], local(saturday, "20:00"), hours=10, status="draft",
                    site_id=world["site"]["a2"])  # fmt: skip
        db.session.commit()
    auth.as_role("supervisor")
    response = add(client, world["site"]["a1"], week, u["worker"], saturday, "18:00",
                   saturday + timedelta(days=1), "06:00")  # fmt: skip
    assert response.status_code == 422
    assert "Worker A is already on call" in text(response) and "at another site" in text(response)
    # back to back is fine
    ok = add(client, world["site"]["a1"], week, u["worker"], saturday, "12:00", saturday, "20:00")
    assert ok.status_code == 302


def test_inactive_worker_and_closed_pay_period_are_refused(client, auth, world, app):
    week, saturday = next_week()
    with app.app_context():
        gone = make_user("Gone A", "gone@a.example.org", {"worker"}, world["org"]["a"],
                         world["site"]["a1"], active=False).id  # fmt: skip
        today = datetime.now(CHICAGO).date()
        db.session.add(PayPeriod(organisation_id=world["org"]["a"],
                                 start_date=today - timedelta(days=20),
                                 end_date=today - timedelta(days=6)))  # fmt: skip
        db.session.commit()
    auth.as_role("supervisor")
    # an inactive worker is not offered (and not accepted)
    assert (
        add(
            client, world["site"]["a1"], week, gone, saturday, "18:00", saturday, "23:00"
        ).status_code
        == 422
    )
    past = datetime.now(CHICAGO).date() - timedelta(days=10)
    response = add(
        client, world["site"]["a1"], week, world["user"]["worker"], past, "18:00", past, "23:00"
    )
    assert response.status_code == 422 and "That pay period is closed" in text(response)


def test_remove_a_draft_but_never_a_published_period(client, auth, world, app):
    _week, saturday = next_week()
    u = world["user"]
    with app.app_context():
        draft = make_period(u["worker"], local(saturday, "08:00"), status="draft")
        live = make_period(u["worker2"], local(saturday, "08:00"))
        db.session.commit()
    auth.as_role("supervisor")
    client.post(f"/oncall/rota/periods/{draft}/remove")
    response = client.post(f"/oncall/rota/periods/{live}/remove", follow_redirects=True)
    assert "This period is published" in text(response)
    assert [p.id for p in periods(app)] == [live]


def test_drafts_are_hidden_from_workers(client, auth, world, app):
    week, saturday = next_week()
    with app.app_context():
        draft = make_period(world["user"]["worker"], local(saturday, "08:00"), status="draft")
        db.session.commit()
    auth.as_role("worker")
    assert client.get(f"/oncall/periods/{draft}").status_code == 404
    assert "Nothing published for this week yet." in text(client.get(f"/oncall?week={week}"))


def swap_world(app, world, hours_ahead=48) -> int:
    """A published period of worker (site a1) starting ``hours_ahead`` from now."""
    with app.app_context():
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours_ahead)
        pid = make_period(world["user"]["worker"], start)
        db.session.commit()
    return pid


def test_swap_happy_path_asked_accepted_approved(client, auth, world, app):
    pid = swap_world(app, world)
    u = world["user"]
    auth.as_role("worker")
    page = client.get(f"/oncall/periods/{pid}")
    assert page.status_code == 200 and "Worker2 A" in text(page)
    assert "Worker3 A" not in text(page)  # another site's worker is not offered
    asked = client.post(
        f"/oncall/periods/{pid}/swap",
        data={"to_worker_id": u["worker2"], "reason": "My sister's wedding"},
    )
    assert asked.status_code == 302
    assert "Asked Worker2 A" in text(client.get("/oncall"))
    assert any("To: worker2@a.example.org" in m and "wedding" in m for m in mails(app))
    with app.app_context():
        swap_id = db.session.scalar(sa.select(OnCallSwap.id))
    # asking twice is refused
    again = client.post(f"/oncall/periods/{pid}/swap", data={"to_worker_id": u["worker2"]})
    assert again.status_code == 422 and "already asked" in text(again)
    # the asker cannot accept their own request
    assert client.post(f"/oncall/swaps/{swap_id}/accept").status_code == 404
    auth.logout()

    auth.as_role("worker2")
    assert "Worker A asks you to take" in text(client.get("/oncall"))
    client.post(f"/oncall/swaps/{swap_id}/accept")
    auth.logout()
    with app.app_context():
        assert db.session.get(OnCallPeriod, pid).worker_id == u["worker"]  # not yet
    assert any("To: supervisor@a.example.org" in m for m in mails(app))

    auth.as_role("supervisor")
    rota = text(client.get("/oncall/rota"))
    assert "Swaps to approve" in rota and "Worker2 A takes Worker A's" in rota
    client.post(f"/oncall/swaps/{swap_id}/approve")
    with app.app_context():
        assert db.session.get(OnCallPeriod, pid).worker_id == u["worker2"]
        assert db.session.get(OnCallSwap, swap_id).status == "approved"
        actions = [
            e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert [a for a in actions if a.startswith("oncall.swap")] == [
        "oncall.swap_asked",
        "oncall.swap_accepted",
        "oncall.swap_approved",
    ]
    assert any("To: worker@a.example.org" in m and "approved" in m for m in mails(app))
    # approving twice says so and changes nothing
    twice = client.post(f"/oncall/swaps/{swap_id}/approve", follow_redirects=True)
    assert "not waiting for approval" in text(twice)


def test_declines_and_withdrawals_leave_the_period_alone(client, auth, world, app):
    pid = swap_world(app, world)
    u = world["user"]
    auth.as_role("worker")
    client.post(f"/oncall/periods/{pid}/swap", data={"to_worker_id": u["worker2"]})
    auth.logout()
    auth.as_role("worker2")
    with app.app_context():
        first = db.session.scalar(sa.select(OnCallSwap.id))
    client.post(f"/oncall/swaps/{first}/decline", data={"reason": "Working that night"})
    auth.logout()
    assert any("To: worker@a.example.org" in m and "Working that night" in m for m in mails(app))
    auth.as_role("worker")
    client.post(f"/oncall/periods/{pid}/swap", data={"to_worker_id": u["worker2"]})
    with app.app_context():
        second = db.session.scalar(sa.select(sa.func.max(OnCallSwap.id)))
    client.post(f"/oncall/swaps/{second}/withdraw")
    auth.logout()
    auth.as_role("worker2")
    late = client.post(f"/oncall/swaps/{second}/accept", follow_redirects=True)
    assert "no longer waiting for you" in text(late)
    with app.app_context():
        assert db.session.get(OnCallPeriod, pid).worker_id == u["worker"]
        statuses = [
            s.status for s in db.session.scalars(sa.select(OnCallSwap).order_by(OnCallSwap.id))
        ]
    assert statuses == ["declined", "withdrawn"]


def test_supervisor_declines_an_accepted_swap(client, auth, world, app):
    pid = swap_world(app, world)
    with app.app_context():
        swap = OnCallSwap(organisation_id=world["org"]["a"], period_id=pid,
                          from_worker_id=world["user"]["worker"],
                          to_worker_id=world["user"]["worker2"], status="accepted")  # fmt: skip
        db.session.add(swap)
        db.session.commit()
        swap_id = swap.id
    auth.as_role("supervisor")
    client.post(f"/oncall/swaps/{swap_id}/refuse", data={"reason": "Worker2 needs rest"})
    with app.app_context():
        assert db.session.get(OnCallSwap, swap_id).status == "declined"
        assert db.session.get(OnCallPeriod, pid).worker_id == world["user"]["worker"]


def test_a_started_period_cannot_be_swapped(client, auth, world, app):
    pid = swap_world(app, world, hours_ahead=-1)
    auth.as_role("worker")
    page = text(client.get(f"/oncall/periods/{pid}"))
    assert "has started" in page
    response = client.post(
        f"/oncall/periods/{pid}/swap", data={"to_worker_id": world["user"]["worker2"]}
    )
    assert response.status_code == 422 and "has started" in text(response)


def test_a_colleague_already_on_call_cannot_be_asked(client, auth, world, app):
    pid = swap_world(app, world)
    with app.app_context():
        start = db.session.get(OnCallPeriod, pid).start_at
        make_period(world["user"]["worker2"], start + timedelta(hours=2))
        db.session.commit()
    auth.as_role("worker")
    response = client.post(
        f"/oncall/periods/{pid}/swap", data={"to_worker_id": world["user"]["worker2"]}
    )
    assert response.status_code == 422 and "Worker2 A is already on call" in text(response)
    bogus = client.post(f"/oncall/periods/{pid}/swap", data={"to_worker_id": "99999"})
    assert bogus.status_code == 422


def test_other_sites_and_organisations_get_404(client, auth, world, app):
    pid = swap_world(app, world)
    with app.app_context():
        swap = OnCallSwap(organisation_id=world["org"]["a"], period_id=pid,
                          from_worker_id=world["user"]["worker"],
                          to_worker_id=world["user"]["worker2"], status="accepted")  # fmt: skip
        db.session.add(swap)
        db.session.commit()
        swap_id = swap.id
    auth.as_role("supervisor", "b")
    assert client.get(f"/oncall/periods/{pid}").status_code == 404
    assert client.post(f"/oncall/swaps/{swap_id}/approve").status_code == 404
    assert client.post(f"/oncall/rota/periods/{pid}/remove").status_code == 404
    assert client.get(f"/oncall/rota?site={world['site']['a1']}").status_code == 404
    assert client.post(f"/oncall/rota/sites/{world['site']['a1']}/publish").status_code == 404
    auth.logout()
    auth.as_role("worker3")  # same organisation, other site
    assert client.get(f"/oncall/periods/{pid}").status_code == 404
    assert client.post(f"/oncall/swaps/{swap_id}/accept").status_code == 404
    with app.app_context():
        assert db.session.get(OnCallSwap, swap_id).status == "accepted"


def test_supervisor_of_all_sites_chooses_a_site(client, auth, world, app):
    auth.as_role("supervisor_all")
    page = text(client.get(f"/oncall/rota?site={world['site']['a2']}"))
    assert "Walnut Park, week of" in page
    assert client.get("/oncall/rota?site=abc&week=not-a-date").status_code == 200
    assert client.get(f"/oncall/rota?site={world['site']['a_closed']}").status_code == 404
