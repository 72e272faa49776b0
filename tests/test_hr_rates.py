"""HR's worker list and rate history: who may see them, adding changes, every refusal, floors."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Benchmark, PayPeriod, PayRate, User
from portal.pay import rates
from portal.timeutil import local_today
from tests.factories import PEOPLE, email_for, make_user

NOT_HR = [(key, org) for key, roles, org, _site in PEOPLE if "hr" not in roles]


def body(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def text(response) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", body(response)).split())


def card_titles(response) -> list[str]:
    """The names on the worker list, in order."""
    return re.findall(r'class="card-title">([^<]+)<', body(response))


def make_rate(
    worker_id: int,
    day: date,
    classification: str = "employee_nonexempt",
    hourly: str | None = "18.50",
    salary: str | None = None,
    reason: str = "Starting rate",
    set_by_id: int | None = None,
) -> int:
    """A rate saved directly (bypassing the rules); returns its id."""
    worker = db.session.get(User, worker_id)
    exempt = classification == "employee_exempt"
    rate = PayRate(
        worker_id=worker_id,
        organisation_id=worker.organisation_id,
        effective_from=day,
        classification=classification,
        hourly_rate=None if exempt else Decimal(hourly),
        annual_salary=Decimal(salary) if exempt else None,
        reason=reason,
        set_by_id=set_by_id,
    )
    db.session.add(rate)
    db.session.flush()
    return rate.id


def rate_rows(app, worker_id: int) -> list[tuple]:
    """(effective date, classification, hourly, salary, reason) of a worker, oldest first."""
    with app.app_context():
        return [
            (r.effective_from, r.classification, r.hourly_rate, r.annual_salary, r.reason)
            for r in db.session.scalars(
                sa.select(PayRate)
                .where(PayRate.worker_id == worker_id)
                .order_by(PayRate.effective_from, PayRate.id)
            )
        ]


def today(app) -> date:
    """Today in the portal's time zone."""
    with app.app_context():
        return local_today()


def hr_b(app, world) -> str:
    """An HR officer at provider B (the world fixture has none); returns their e-mail."""
    with app.app_context():
        make_user("HR B", email_for("hr", "b"), {"hr"}, world["org"]["b"])
        db.session.commit()
    return email_for("hr", "b")


def change(**fields) -> dict:
    """A rate-change form post: a valid non-exempt raise unless fields say otherwise."""
    return {
        "effective_from": "2026-03-01",
        "classification": "employee_nonexempt",
        "hourly_rate": "19.25",
        "annual_salary": "",
        "reason": "Annual raise",
        **fields,
    }


# --- who may see what ---------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "org"), NOT_HR)
def test_only_hr_reaches_the_rate_pages(client, auth, world, app, key, org):
    worker = world["user"]["worker"]
    auth.login(email_for(key, org))
    assert client.get("/hr/").status_code == 404
    assert client.get(f"/hr/workers/{worker}").status_code == 404
    assert client.post(f"/hr/workers/{worker}", data=change()).status_code == 404
    assert rate_rows(app, worker) == []


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get(f"/hr/workers/{world['user']['worker']}")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


@pytest.mark.parametrize("who", ["worker_b", "supervisor", "hr", "admin", "unknown"])
def test_people_who_are_not_own_workers_are_404(client, auth, world, app, who):
    user_id = world["user"].get(who, 999_999)
    auth.as_role("hr")
    assert client.get(f"/hr/workers/{user_id}").status_code == 404
    assert client.post(f"/hr/workers/{user_id}", data=change()).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayRate)) == 0


def test_hr_of_another_provider_cannot_see_or_change_a_worker(client, auth, world, app):
    worker = world["user"]["worker"]
    with app.app_context():
        make_rate(worker, date(2026, 1, 1), hourly="21.00", reason="a-private-reason")
        db.session.commit()
    auth.login(hr_b(app, world))
    for response in (
        client.get(f"/hr/workers/{worker}"),
        client.post(f"/hr/workers/{worker}", data=change()),
    ):
        assert response.status_code == 404
        assert "a-private-reason" not in body(response)
    listing = client.get("/hr/")
    assert listing.status_code == 200
    assert card_titles(listing) == ["Worker B"]
    assert len(rate_rows(app, worker)) == 1


# --- the worker list ----------------------------------------------------------------------------


def test_list_shows_rates_and_puts_workers_without_one_first(client, auth, world, app):
    users = world["user"]
    now = today(app)
    with app.app_context():
        make_rate(users["worker"], now - timedelta(days=30), hourly="18.50")
        make_rate(users["worker3"], now - timedelta(days=3), "employee_exempt", salary="52000.00")
        make_rate(users["worker3"], now + timedelta(days=20), "employee_exempt", salary="54000")
        db.session.commit()
    auth.as_role("hr")
    response = client.get("/hr/")
    assert response.status_code == 200
    page = text(response)
    # Worker 2 has no rate: first and marked; then the others by name.
    assert page.index("Worker2 A") < page.index("Worker A") < page.index("Worker3 A")
    assert "Worker2 A No rate yet" in page
    assert "$18.50/h · Employee (non-exempt, hourly) · since" in page
    assert "$52,000.00/yr · Employee (exempt, salaried)" in page
    scheduled_on = rates.day_text(now + timedelta(days=20))
    assert f"Scheduled: $54,000.00/yr from {scheduled_on}" in page
    # Only workers of HR's own organisation, and only people with the worker role.
    assert card_titles(response) == ["Worker2 A", "Worker A", "Worker3 A"]


def test_list_runs_a_fixed_number_of_queries(client, auth, world, app, count_queries):
    def add_workers(count: int, start: int) -> None:
        with app.app_context():
            for i in range(start, start + count):
                user = make_user(
                    f"Extra {i:02d}",
                    f"extra{i}@a.example.org",
                    {"worker"},
                    world["org"]["a"],
                    world["site"]["a1"],
                )
                make_rate(user.id, date(2025, 6, 1), hourly="17.00")
                make_rate(user.id, date(2026, 1, 1), hourly="18.00")
                make_rate(user.id, local_today() + timedelta(days=10), hourly="19.00")
            db.session.commit()

    auth.as_role("hr")
    client.get("/hr/")  # warm-up: the first request of a test loads templates
    with count_queries() as few:
        assert client.get("/hr/").status_code == 200
    add_workers(17, 0)  # 3 workers -> 20 workers
    with count_queries() as many:
        response = client.get("/hr/")
    assert response.status_code == 200
    assert text(response).count("Scheduled:") == 17
    assert few() == many(), "the worker list must not run a query per worker"


# --- one worker's history -----------------------------------------------------------------------


def test_history_is_newest_first_with_who_set_it(client, auth, world, app):
    worker, hr = world["user"]["worker"], world["user"]["hr"]
    now = today(app)
    with app.app_context():
        make_rate(worker, date(2025, 3, 1), hourly="14.00", reason="Starting rate", set_by_id=hr)
        make_rate(worker, now + timedelta(days=40), hourly="20.00", reason="Promised raise")
        make_rate(worker, date(2026, 1, 1), hourly="15.50", reason="Minimum wage went up")
        db.session.commit()
    auth.as_role("hr")
    response = client.get(f"/hr/workers/{worker}")
    assert response.status_code == 200
    page = text(response)
    future = page.index("Promised raise")
    assert future < page.index("Minimum wage went up") < page.index("Starting rate")
    assert f"From {rates.day_text(now + timedelta(days=40))} Scheduled" in page
    assert "From Jan 1, 2026 Current" in page
    assert "Set by Hr A," in page
    # "Today" shows the rate in force, not the scheduled one.
    assert "Rate $15.50/h Since Jan 1, 2026" in page


def test_adding_a_rate_saves_it_and_redirects(client, auth, world, app):
    worker, hr = world["user"]["worker"], world["user"]["hr"]
    auth.as_role("hr")
    response = client.post(
        f"/hr/workers/{worker}",
        data=change(effective_from="2026-02-01", hourly_rate="$18.50", reason=" Starting rate "),
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/hr/workers/{worker}"
    assert rate_rows(app, worker) == [
        (date(2026, 2, 1), "employee_nonexempt", Decimal("18.50"), None, "Starting rate")
    ]
    with app.app_context():
        saved = db.session.scalar(sa.select(PayRate))
        assert saved.set_by_id == hr
        assert saved.organisation_id == world["org"]["a"]
        # the benchmark figures in force that day are kept with the change, for a later audit
        floors = {b["name"]: b for b in saved.benchmarks_in_force if b["kind"] == "legal_floor"}
        assert floors["Missouri minimum wage"]["hourly_usd"] == "15.00"
        assert floors["Missouri minimum wage"]["effective_from"] == "2026-01-01"
        assert any(b["kind"] == "living_wage" for b in saved.benchmarks_in_force)
    page = text(client.get(f"/hr/workers/{worker}"))
    assert "Saved: Worker A, Employee (non-exempt, hourly), $18.50/h from Feb 1, 2026." in page


def test_an_exempt_salary_and_a_contractor_rate(client, auth, world, app):
    worker = world["user"]["worker"]
    auth.as_role("hr")
    exempt = change(
        effective_from="2026-02-01",
        classification="employee_exempt",
        hourly_rate="",
        annual_salary="52,000",
        reason="Promoted to site lead",
    )
    assert client.post(f"/hr/workers/{worker}", data=exempt).status_code == 302
    contractor = change(effective_from="2026-03-01", classification="contractor", hourly_rate="25")
    assert client.post(f"/hr/workers/{worker}", data=contractor).status_code == 302
    assert [row[:4] for row in rate_rows(app, worker)] == [
        (date(2026, 2, 1), "employee_exempt", None, Decimal("52000.00")),
        (date(2026, 3, 1), "contractor", Decimal("25.00"), None),
    ]


def test_a_future_change_is_scheduled_not_current(client, auth, world, app):
    worker = world["user"]["worker"]
    now = today(app)
    with app.app_context():
        make_rate(worker, now - timedelta(days=10), hourly="18.00")
        db.session.commit()
    auth.as_role("hr")
    later = now + timedelta(days=30)
    response = client.post(
        f"/hr/workers/{worker}",
        data=change(effective_from=later.isoformat(), hourly_rate="19.00"),
    )
    assert response.status_code == 302
    page = text(client.get(f"/hr/workers/{worker}"))
    assert f"$19.00/h scheduled from {rates.day_text(later)}" in page
    assert "Rate $18.00/h" in page
    with app.app_context():
        assert rates.rate_on(worker, world["org"]["a"], now).hourly_rate == Decimal("18.00")
        assert rates.rate_on(worker, world["org"]["a"], later).hourly_rate == Decimal("19.00")
        line = next(x for x in rates.roster(world["org"]["a"], now) if x.worker.id == worker)
        assert line.current.hourly_rate == Decimal("18.00")
        assert line.scheduled.hourly_rate == Decimal("19.00")


# --- refusals -----------------------------------------------------------------------------------

REFUSALS = [
    ("zero", change(hourly_rate="0"), "Enter an hourly rate above zero."),
    ("negative", change(hourly_rate="-18.00"), "Enter an hourly rate above zero."),
    ("fraction of a cent", change(hourly_rate="18.505"), "at most two decimals"),
    ("decimal comma", change(hourly_rate="18,50"), "Use a dot for cents, like 18.50."),
    ("not a number", change(hourly_rate="eighteen"), "Enter a number like 18.50."),
    ("missing amount", change(hourly_rate=""), "Enter the hourly rate."),
    ("absurd amount", change(hourly_rate="52000"), "Check the rate: it is above $500.00 an hour."),
    ("huge", change(hourly_rate="1e30"), "Check the rate: it is above $500.00 an hour."),
    (
        "huge salary",
        change(classification="employee_exempt", hourly_rate="", annual_salary="1e30"),
        "Check the salary: it is above $1,000,000.00 a year.",
    ),
    (
        "below the 2026 minimum wage",
        change(effective_from="2026-02-01", hourly_rate="14.00"),
        "$14.00 an hour is below the Missouri minimum wage of $15.00 an hour in force from "
        "Jan 1, 2026 (Missouri Proposition A (2024)).",
    ),
    (
        "below the 2025 minimum wage",
        change(effective_from="2025-06-01", hourly_rate="13.50"),
        "below the Missouri minimum wage of $13.75 an hour in force from Jan 1, 2025",
    ),
    (
        "contractor below the minimum wage",
        change(classification="contractor", hourly_rate="12.00"),
        "below the Missouri minimum wage of $15.00",
    ),
    (
        "exempt salary below the minimum wage",
        change(classification="employee_exempt", hourly_rate="", annual_salary="25000"),
        "$25,000.00 a year is $12.02 an hour over 2,080 hours, below the FLSA exempt salary "
        "threshold",
    ),
    (
        "exempt salary below the FLSA threshold",
        change(classification="employee_exempt", hourly_rate="", annual_salary="34000"),
        "below the FLSA exempt salary threshold (weekly 684.00) of $17.10 an hour",
    ),
    (
        "salary typed for an hourly worker",
        change(hourly_rate="", annual_salary="40000"),
        "leave the annual salary blank, or choose the exempt classification",
    ),
    (
        "hourly rate typed for exempt staff",
        change(classification="employee_exempt", hourly_rate="20", annual_salary=""),
        "Exempt staff are paid an annual salary: leave the hourly rate blank.",
    ),
    ("no classification", change(classification=""), "Choose a classification."),
    ("unknown classification", change(classification="intern"), "Not a valid choice"),
    ("no reason", change(reason="   "), "Say why the rate changes"),
    ("no date", change(effective_from=""), "Enter the date the change takes effect."),
    ("bad date", change(effective_from="01/03/2026"), "Enter a date like 2026-11-26."),
    ("before 1990", change(effective_from="1989-12-31"), "Enter a date from Jan 1, 1990 on."),
]


@pytest.mark.parametrize(
    ("data", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refused_changes_say_why_and_save_nothing(client, auth, world, app, data, message):
    worker = world["user"]["worker"]
    auth.as_role("hr")
    response = client.post(f"/hr/workers/{worker}", data=data)
    assert response.status_code == 422
    html = body(response)
    assert 'role="alert"' in html
    assert message in text(response)
    assert rate_rows(app, worker) == []
    # The input is kept.
    for name in ("hourly_rate", "annual_salary"):
        if data[name]:
            assert f'value="{data[name]}"' in html
    assert data["reason"] in html


def test_more_than_two_years_ahead_is_refused(client, auth, world, app):
    worker = world["user"]["worker"]
    far = today(app) + timedelta(days=2 * 366 + 1)
    auth.as_role("hr")
    response = client.post(f"/hr/workers/{worker}", data=change(effective_from=far.isoformat()))
    assert response.status_code == 422
    assert "can be scheduled up to 2 years ahead" in text(response)
    assert rate_rows(app, worker) == []
    near = today(app) + timedelta(days=700)
    response = client.post(f"/hr/workers/{worker}", data=change(effective_from=near.isoformat()))
    assert response.status_code == 302


def test_a_second_change_on_the_same_day_is_refused(client, auth, world, app):
    worker = world["user"]["worker"]
    with app.app_context():
        make_rate(worker, date(2026, 3, 1), hourly="19.00", reason="Annual raise")
        db.session.commit()
    auth.as_role("hr")
    response = client.post(
        f"/hr/workers/{worker}", data=change(hourly_rate="21.00", reason="Correction")
    )
    assert response.status_code == 422
    assert "A change already takes effect on Mar 1, 2026; add another date." in text(response)
    assert rate_rows(app, worker) == [
        (date(2026, 3, 1), "employee_nonexempt", Decimal("19.00"), None, "Annual raise")
    ]
    # The same day at another worker is fine.
    other = world["user"]["worker2"]
    assert client.post(f"/hr/workers/{other}", data=change()).status_code == 302


def test_a_date_inside_a_closed_pay_period_is_refused(client, auth, world, app):
    """Once the worker has a rate there (a first rate may reach back: test_pay_unstuck.py)."""
    worker = world["user"]["worker"]
    with app.app_context():
        make_rate(worker, date(2025, 6, 1), hourly="17.00")
        db.session.add(
            PayPeriod(
                organisation_id=world["org"]["a"],
                start_date=date(2026, 1, 4),
                end_date=date(2026, 1, 18),
            )
        )
        db.session.commit()
    auth.as_role("hr")
    response = client.post(f"/hr/workers/{worker}", data=change(effective_from="2026-01-17"))
    assert response.status_code == 422
    assert (
        "Pay up to Jan 17, 2026 is closed: a change can take effect from Jan 18, 2026 on."
        in text(response)
    )
    assert len(rate_rows(app, worker)) == 1
    response = client.post(f"/hr/workers/{worker}", data=change(effective_from="2026-01-18"))
    assert response.status_code == 302


def test_the_form_defaults_to_today_and_the_current_classification(client, auth, world, app):
    worker = world["user"]["worker"]
    with app.app_context():
        make_rate(worker, date(2025, 6, 1), "contractor", hourly="30.00")
        db.session.commit()
    auth.as_role("hr")
    html = body(client.get(f"/hr/workers/{worker}"))
    assert f'value="{today(app).isoformat()}"' in html
    assert re.search(r'<input checked[^>]*value="contractor"', html)
    assert "<legend>Classification</legend>" in html
    for field in ("effective_from", "hourly_rate", "annual_salary", "reason"):
        assert f'<label for="{field}">' in html


# --- the service, without the client ------------------------------------------------------------


def test_minimum_wage_on_a_date(app):
    with app.app_context():
        assert rates.minimum_wage_on(date(2025, 6, 1)).hourly_usd == Decimal("13.75")
        assert rates.minimum_wage_on(date(2026, 6, 1)).hourly_usd == Decimal("15.00")
        assert rates.minimum_wage_on(date(2026, 1, 1)).hourly_usd == Decimal("15.00")
        assert rates.minimum_wage_on(date(2025, 12, 31)).hourly_usd == Decimal("13.75")
        assert rates.minimum_wage_on(date(2024, 12, 31)) is None
        floor = rates.minimum_wage_on(date(2026, 6, 1))
        assert (floor.name, floor.source) == (
            "Missouri minimum wage",
            "Missouri Proposition A (2024)",
        )
        # The FLSA exempt threshold applies to exempt staff only.
        assert rates.legal_floor_for(date(2026, 6, 1), "employee_exempt").hourly_usd == Decimal(
            "17.10"
        )
        assert rates.legal_floor_for(date(2026, 6, 1), "contractor").hourly_usd == Decimal("15.00")


def test_minimum_wage_takes_the_latest_figure_of_each_name_then_the_highest(app):
    def floor(name, usd, day, applies_to="all workers"):
        return Benchmark(
            kind="legal_floor",
            name=name,
            region="Somewhere",
            applies_to=applies_to,
            hourly_usd=Decimal(usd),
            effective_from=day,
            source="Test ordinance",
            source_url="https://example.org/",
        )

    with app.app_context():
        db.session.add_all(
            [
                # A local floor that was cut: its latest figure counts, not its highest.
                floor("City minimum wage", "20.00", date(2025, 1, 1)),
                floor("City minimum wage", "14.00", date(2025, 6, 1)),
                # A higher floor for some workers only is not the minimum wage for all.
                floor("Hospital workers wage", "25.00", date(2025, 1, 1), "hospital workers"),
            ]
        )
        db.session.flush()
        assert rates.minimum_wage_on(date(2025, 3, 1)).hourly_usd == Decimal("20.00")
        assert rates.minimum_wage_on(date(2025, 7, 1)).hourly_usd == Decimal("14.00")
        assert rates.minimum_wage_on(date(2026, 7, 1)).name == "Missouri minimum wage"
        db.session.rollback()


def test_an_exempt_salary_is_held_to_the_minimum_wage_too(app, world):
    with app.app_context():
        # Without the FLSA threshold figure, the minimum wage for all workers still binds.
        db.session.execute(sa.delete(Benchmark).where(Benchmark.applies_to == "employee_exempt"))
        hr = db.session.get(User, world["user"]["hr"])
        worker = db.session.get(User, world["user"]["worker"])
        with pytest.raises(rates.PaySettingError) as refused:
            rates.add_rate(
                hr,
                worker,
                date(2026, 2, 1),
                "employee_exempt",
                Decimal("25000"),
                "Exempt",
                today=date(2026, 1, 10),
            )
        assert refused.value.errors["amount"] == [
            "$25,000.00 a year is $12.02 an hour over 2,080 hours, below the Missouri minimum "
            "wage of $15.00 an hour in force from Jan 1, 2026 (Missouri Proposition A (2024))."
        ]
        rate = rates.add_rate(
            hr,
            worker,
            date(2026, 2, 1),
            "employee_exempt",
            Decimal("31200"),
            "Exempt",
            today=date(2026, 1, 10),
        )
        assert rates.rate_text(rate) == "$31,200.00/yr"
        db.session.rollback()


def test_add_rate_service(app, world):
    with app.app_context():
        hr = db.session.get(User, world["user"]["hr"])
        worker = db.session.get(User, world["user"]["worker"])
        rate = rates.add_rate(
            hr,
            worker,
            date(2026, 1, 1),
            "employee_nonexempt",
            Decimal("15.00"),
            "Starting rate",
            today=date(2026, 1, 10),
        )
        assert (rate.hourly_rate, rate.annual_salary, rate.set_by_id) == (
            Decimal("15.00"),
            None,
            hr.id,
        )
        assert rates.rate_text(rate) == "$15.00/h"
        with pytest.raises(rates.PaySettingError) as refused:
            rates.add_rate(
                hr,
                worker,
                date(2028, 1, 11),
                "employee_nonexempt",
                Decimal("15.00"),
                "Later",
                today=date(2026, 1, 10),
            )
        assert list(refused.value.errors) == ["effective_from"]
        with pytest.raises(rates.PaySettingError) as refused:
            rates.add_rate(
                hr,
                worker,
                date(2026, 2, 1),
                "employee_exempt",
                Decimal("31200"),
                "Exempt",
                today=date(2026, 1, 10),
            )
        assert "$15.00 an hour" in refused.value.errors["amount"][0]
        # Exactly the floor is allowed: $17.10 x 2,080 = $35,568.00.
        rates.add_rate(
            hr,
            worker,
            date(2026, 2, 1),
            "employee_exempt",
            Decimal("35568"),
            "Exempt",
            today=date(2026, 1, 10),
        )
        worker_b = db.session.get(User, world["user"]["worker_b"])
        with pytest.raises(PermissionError):
            rates.add_rate(
                hr,
                worker_b,
                date(2026, 1, 1),
                "contractor",
                Decimal("20"),
                "x",
                today=date(2026, 1, 10),
            )
        by_worker = rates.rates_by_worker(world["org"]["a"])
        assert [r.effective_from for r in by_worker[worker.id]] == [
            date(2026, 1, 1),
            date(2026, 2, 1),
        ]
        rule_rates = rates.to_rule_rates(by_worker[worker.id])
        assert rule_rates[1].classification == "employee_exempt"
        assert rule_rates[1].annual_salary == Decimal("35568.00")
        assert rates.rates_by_worker(world["org"]["a"], until=date(2026, 1, 31)) == {
            worker.id: [by_worker[worker.id][0]]
        }
        db.session.rollback()
