"""HR's pay policy page: defaults, saving, refusals, differentials and stipends."""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import PayDifferential, PayPeriod, PayPolicy, ShiftStipend, User
from portal.pay import rates, rules
from tests.factories import PEOPLE, email_for, make_user

NOT_HR = [(key, org) for key, roles, org, _site in PEOPLE if "hr" not in roles]


def body(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def text(response) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", body(response)).split())


def policy_row(app, organisation_id: int) -> tuple | None:
    """What the database holds as an organisation's policy."""
    with app.app_context():
        p = db.session.get(PayPolicy, organisation_id)
        if p is None:
            return None
        return (
            p.workweek_start,
            p.period_days,
            p.period_anchor,
            p.overtime_threshold,
            p.overtime_multiplier,
        )


def differential_rows(app) -> list[tuple]:
    """(organisation, name, start, end, per hour) of every differential."""
    with app.app_context():
        return [
            (d.organisation_id, d.name, d.start_time, d.end_time, d.per_hour)
            for d in db.session.scalars(sa.select(PayDifferential).order_by(PayDifferential.id))
        ]


def stipend_rows(app) -> dict[tuple[int, str], Decimal]:
    """Every stipend by (organisation, shift type)."""
    with app.app_context():
        return {
            (s.organisation_id, s.shift_type): s.amount
            for s in db.session.scalars(sa.select(ShiftStipend))
        }


def policy(**fields) -> dict:
    """A policy form post: Sunday workweeks, biweekly from Jan 4 2026, 40 h at 1.5x."""
    return {
        "workweek_start": "6",
        "period_days": "14",
        "period_anchor": "2026-01-04",
        "overtime_threshold": "40",
        "overtime_multiplier": "1.5",
        **fields,
    }


def differential(**fields) -> dict:
    """A differential form post: nights 22:00-06:00 +$2.00."""
    return {
        "name": "Nights",
        "start_time": "22:00",
        "end_time": "06:00",
        "per_hour": "2.00",
        **fields,
    }


def stipends(**amounts) -> dict:
    """A stipend form post: blank for every type unless given."""
    from portal.models import SHIFT_TYPES

    return {key: amounts.get(key, "") for key in SHIFT_TYPES}


POSTS = [
    ("/hr/policy", policy()),
    ("/hr/policy/differentials", differential()),
    ("/hr/policy/stipends", stipends(on_call="40")),
]


# --- who may change it --------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "org"), NOT_HR)
def test_only_hr_reaches_the_policy(client, auth, world, app, key, org):
    auth.login(email_for(key, org))
    assert client.get("/hr/policy").status_code == 404
    for url, data in POSTS:
        assert client.post(url, data=data).status_code == 404, url
    assert policy_row(app, world["org"]["a"]) is None
    assert differential_rows(app) == []
    assert stipend_rows(app) == {}


def test_a_non_hr_cannot_remove_a_differential(client, auth, world, app):
    with app.app_context():
        db.session.add(
            PayDifferential(
                organisation_id=world["org"]["a"],
                name="Nights",
                start_time=time(22),
                end_time=time(6),
                per_hour=Decimal("2.00"),
            )
        )
        db.session.commit()
        diff_id = db.session.scalar(sa.select(PayDifferential.id))
    auth.as_role("admin")
    assert client.post(f"/hr/policy/differentials/{diff_id}/remove").status_code == 404
    assert len(differential_rows(app)) == 1


# --- the policy itself --------------------------------------------------------------------------


def test_defaults_are_shown_until_saved(client, auth, world, app):
    auth.as_role("hr")
    response = client.get("/hr/policy")
    assert response.status_code == 200
    html = body(response)
    assert "Not saved yet" in html
    assert '<option selected value="6">Sunday</option>' in html
    assert re.search(r'<input checked[^>]*name="period_days"[^>]*value="14"', html)
    assert 'value="2026-01-04"' in html
    assert 'name="overtime_threshold" type="text" value="40"' in html
    assert 'name="overtime_multiplier" type="text" value="1.5"' in html
    assert "<legend>Pay period</legend>" in html
    assert policy_row(app, world["org"]["a"]) is None
    with app.app_context():
        default = rates.policy_for(world["org"]["a"])
        assert (default.workweek_start, default.period_days, default.period_anchor) == (
            6,
            14,
            date(2026, 1, 4),
        )


def test_saving_creates_then_updates_the_policy(client, auth, world, app):
    auth.as_role("hr")
    response = client.post("/hr/policy", data=policy())
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/hr/policy"
    assert policy_row(app, world["org"]["a"]) == (
        6,
        14,
        date(2026, 1, 4),
        Decimal("40.00"),
        Decimal("1.50"),
    )
    page = client.get("/hr/policy")
    assert "Pay policy saved." in text(page)
    assert "Not saved yet" not in body(page)
    response = client.post(
        "/hr/policy",
        data=policy(
            workweek_start="0",
            period_days="7",
            period_anchor="2026-01-05",
            overtime_threshold="37.5",
            overtime_multiplier="2",
        ),
    )
    assert response.status_code == 302
    assert policy_row(app, world["org"]["a"]) == (
        0,
        7,
        date(2026, 1, 5),
        Decimal("37.50"),
        Decimal("2.00"),
    )
    assert policy_row(app, world["org"]["b"]) is None
    with app.app_context():
        saved = db.session.get(PayPolicy, world["org"]["a"])
        assert saved.updated_by_id == world["user"]["hr"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayPolicy)) == 1


POLICY_REFUSALS = [
    (
        "anchor not on the workweek start",
        policy(period_anchor="2026-01-05"),
        "Jan 5, 2026 is a Monday: choose a Sunday, the day the workweek starts",
    ),
    (
        "anchor on a Sunday for a Monday workweek",
        policy(workweek_start="0"),
        "Jan 4, 2026 is a Sunday: choose a Monday",
    ),
    ("no anchor", policy(period_anchor=""), "Enter the date pay periods count from."),
    ("zero threshold", policy(overtime_threshold="0"), "Enter a number of hours above zero."),
    ("threshold over 40", policy(overtime_threshold="45"), "requires overtime after 40 hours"),
    ("huge threshold", policy(overtime_threshold="1e30"), "requires overtime after 40 hours"),
    ("no threshold", policy(overtime_threshold=""), "Enter the weekly hours after which"),
    ("threshold in words", policy(overtime_threshold="forty"), "Enter a number like 40."),
    ("multiplier under 1.5", policy(overtime_multiplier="1"), "at least time and a half"),
    ("multiplier over 3", policy(overtime_multiplier="3.5"), "Enter a multiplier of 3 or less."),
    ("multiplier decimals", policy(overtime_multiplier="1.555"), "at most two decimals"),
    ("period length", policy(period_days="30"), "Not a valid choice"),
    ("no period length", policy(period_days=""), "Choose how often pay periods run."),
]


@pytest.mark.parametrize(
    ("data", "message"), [r[1:] for r in POLICY_REFUSALS], ids=[r[0] for r in POLICY_REFUSALS]
)
def test_refused_policies_say_why_and_save_nothing(client, auth, world, app, data, message):
    auth.as_role("hr")
    response = client.post("/hr/policy", data=data)
    assert response.status_code == 422
    assert 'role="alert"' in body(response)
    assert message in text(response)
    assert policy_row(app, world["org"]["a"]) is None
    for name in ("overtime_threshold", "overtime_multiplier", "period_anchor"):
        if data[name]:
            assert f'value="{data[name]}"' in body(response)


def test_a_refused_save_keeps_the_saved_policy(client, auth, world, app):
    auth.as_role("hr")
    assert client.post("/hr/policy", data=policy(overtime_threshold="38")).status_code == 302
    response = client.post(
        "/hr/policy",
        data=policy(overtime_threshold="38", period_days="7", period_anchor="2026-01-06"),
    )
    assert response.status_code == 422
    assert policy_row(app, world["org"]["a"])[:4] == (6, 14, date(2026, 1, 4), Decimal("38.00"))


def test_after_closed_periods_the_next_period_starts_where_the_last_ended(client, auth, world, app):
    with app.app_context():
        db.session.add(
            PayPeriod(
                organisation_id=world["org"]["a"],
                start_date=date(2026, 1, 4),
                end_date=date(2026, 1, 18),
            )
        )
        db.session.commit()
    auth.as_role("hr")
    # Biweekly from Jan 11 would cut through the closed period's end (Jan 18).
    response = client.post("/hr/policy", data=policy(period_anchor="2026-01-11"))
    assert response.status_code == 422
    assert "the next period starts on Jan 18, 2026" in text(response)
    # A Monday workweek cannot follow a period closed on a Saturday night.
    response = client.post(
        "/hr/policy", data=policy(workweek_start="0", period_anchor="2026-01-19")
    )
    assert response.status_code == 422
    assert "workweeks keep starting on Sunday" in text(response)
    assert policy_row(app, world["org"]["a"]) is None
    # Weekly periods from Jan 25 line up with Jan 18.
    response = client.post("/hr/policy", data=policy(period_days="7", period_anchor="2026-01-25"))
    assert response.status_code == 302
    assert policy_row(app, world["org"]["a"])[1:3] == (7, date(2026, 1, 25))


def test_each_provider_has_its_own_policy(client, auth, world, app):
    with app.app_context():
        make_user("HR B", email_for("hr", "b"), {"hr"}, world["org"]["b"])
        db.session.commit()
    auth.login(email_for("hr", "b"))
    assert client.post("/hr/policy", data=policy(overtime_multiplier="2")).status_code == 302
    assert policy_row(app, world["org"]["b"])[4] == Decimal("2.00")
    assert policy_row(app, world["org"]["a"]) is None


# --- differentials ------------------------------------------------------------------------------


def test_add_a_differential_that_crosses_midnight_and_remove_it(client, auth, world, app):
    auth.as_role("hr")
    response = client.post("/hr/policy/differentials", data=differential(name="  Nights "))
    assert response.status_code == 302
    assert differential_rows(app) == [
        (world["org"]["a"], "Nights", time(22), time(6), Decimal("2.00"))
    ]
    page = text(client.get("/hr/policy"))
    assert "Differential added: Nights." in page
    assert "Nights : +$2.00 an hour, 22:00–06:00 (past midnight)" in page
    assert (
        client.post(
            "/hr/policy/differentials",
            data=differential(
                name="Weekend days", start_time="08:00", end_time="16:00", per_hour="1.25"
            ),
        ).status_code
        == 302
    )
    with app.app_context():
        nights = db.session.scalar(
            sa.select(PayDifferential.id).where(PayDifferential.name == "Nights")
        )
    response = client.post(f"/hr/policy/differentials/{nights}/remove")
    assert response.status_code == 302
    assert [row[1] for row in differential_rows(app)] == ["Weekend days"]
    assert "Differential removed: Nights." in text(client.get("/hr/policy"))
    # A second click finds it gone: no error page.
    response = client.post(f"/hr/policy/differentials/{nights}/remove")
    assert response.status_code == 302
    assert "That differential was already removed." in text(client.get("/hr/policy"))


DIFFERENTIAL_REFUSALS = [
    ("same start and end", differential(end_time="22:00"), "must end at a different time"),
    ("zero", differential(per_hour="0"), "Enter an amount above zero."),
    ("negative", differential(per_hour="-2"), "Enter an amount above zero."),
    ("no amount", differential(per_hour=""), "Enter an amount, e.g. 2.00."),
    ("fraction of a cent", differential(per_hour="2.005"), "at most two decimals"),
    ("absurd", differential(per_hour="250"), "above $100.00 an hour"),
    ("huge", differential(per_hour="1e30"), "above $100.00 an hour"),
    ("no name", differential(name=" "), "Name the differential"),
    ("no start", differential(start_time=""), "Enter the time it starts."),
    ("bad end", differential(end_time="10pm"), "Enter a time like 21:30."),
]


@pytest.mark.parametrize(
    ("data", "message"),
    [r[1:] for r in DIFFERENTIAL_REFUSALS],
    ids=[r[0] for r in DIFFERENTIAL_REFUSALS],
)
def test_refused_differentials_say_why(client, auth, world, app, data, message):
    auth.as_role("hr")
    response = client.post("/hr/policy/differentials", data=data)
    assert response.status_code == 422
    assert 'role="alert"' in body(response)
    assert message in text(response)
    assert differential_rows(app) == []
    if data["per_hour"]:
        assert f'value="{data["per_hour"]}"' in body(response)


def test_a_differential_name_is_used_once(client, auth, world, app):
    auth.as_role("hr")
    assert client.post("/hr/policy/differentials", data=differential()).status_code == 302
    response = client.post("/hr/policy/differentials", data=differential(name="nights"))
    assert response.status_code == 422
    assert "There is already a differential called nights" in text(response)
    assert len(differential_rows(app)) == 1


def test_another_providers_differential_cannot_be_removed(client, auth, world, app):
    with app.app_context():
        theirs = PayDifferential(
            organisation_id=world["org"]["b"],
            name="B nights",
            start_time=time(22),
            end_time=time(6),
            per_hour=Decimal("3.00"),
        )
        db.session.add(theirs)
        db.session.commit()
        theirs_id = theirs.id
    auth.as_role("hr")
    page = client.get("/hr/policy")
    assert "B nights" not in body(page)
    response = client.post(f"/hr/policy/differentials/{theirs_id}/remove")
    assert response.status_code == 302
    assert [row[1] for row in differential_rows(app)] == ["B nights"]


# --- stipends -----------------------------------------------------------------------------------


def test_stipends_are_saved_updated_and_cleared_together(client, auth, world, app):
    org = world["org"]["a"]
    auth.as_role("hr")
    response = client.post("/hr/policy/stipends", data=stipends(on_call="40", training="$10.50"))
    assert response.status_code == 302
    assert stipend_rows(app) == {
        (org, "on_call"): Decimal("40.00"),
        (org, "training"): Decimal("10.50"),
    }
    html = body(client.get("/hr/policy"))
    assert 'name="on_call" type="text" value="40.00"' in html
    assert "Stipends saved." in html
    response = client.post("/hr/policy/stipends", data=stipends(on_call="45", training="0"))
    assert response.status_code == 302
    assert stipend_rows(app) == {(org, "on_call"): Decimal("45.00")}
    assert client.post("/hr/policy/stipends", data=stipends()).status_code == 302
    assert stipend_rows(app) == {}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", "Enter an amount above zero, or leave blank for none."),
        ("forty", "Enter a number like 40.00."),
        ("40.001", "at most two decimals"),
        ("5000", "above $1,000.00 a shift"),
        ("1e30", "above $1,000.00 a shift"),
    ],
)
def test_refused_stipends_change_nothing(client, auth, world, app, amount, message):
    org = world["org"]["a"]
    auth.as_role("hr")
    assert client.post("/hr/policy/stipends", data=stipends(on_call="40")).status_code == 302
    response = client.post("/hr/policy/stipends", data=stipends(on_call="50", training=amount))
    assert response.status_code == 422
    assert 'role="alert"' in body(response)
    assert message in text(response)
    assert f'value="{amount}"' in body(response)
    assert stipend_rows(app) == {(org, "on_call"): Decimal("40.00")}


# --- the service, without the client ------------------------------------------------------------


def test_rules_policy_gathers_everything_the_arithmetic_needs(app, world):
    with app.app_context():
        hr = db.session.get(User, world["user"]["hr"])
        zone = ZoneInfo("America/Chicago")
        assert rates.rules_policy(hr.organisation_id, zone) == rules.Policy(zone=zone)
        rates.save_policy(hr, 0, 7, date(2026, 1, 5), Decimal("40"), Decimal("1.5"))
        rates.add_differential(hr, "Nights", time(22), time(6), Decimal("2.00"))
        rates.save_stipends(hr, {"on_call": Decimal("40"), "training": None})
        got = rates.rules_policy(hr.organisation_id, zone)
        assert (got.workweek_start, got.period_days) == (0, 7)
        assert got.differentials == (
            rules.Differential("Nights", time(22), time(6), Decimal("2.00")),
        )
        assert got.stipends == (("on_call", Decimal("40.00")),)
        assert got.stipend_for("on_call") == 40
        db.session.rollback()
