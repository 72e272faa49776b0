"""Fair pay: floors and targets, the gap page, its CSV, warnings, and what-if raises."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.models import PayRate, User, WageStandard
from portal.timeutil import local_today
from tests.factories import make_rate, make_shift, make_user, recent_start

CHW = "BLS OEWS median Community Health Workers (SOC 21-1094)"  # $24.93
LIVING = "MIT living wage 1 adult 1 child (proxy: St. Clair County IL in the St. Louis MSA)"


def setup_org(app, world, hours_per_week: int = 30):
    """Titles, a target, rates and 12 weeks of approved hours for the three workers of org A."""
    u = world["user"]
    with app.app_context():
        for key, title in (
            ("worker", "Interrupter"),
            ("worker2", "Interrupter"),
            ("worker3", "Outreach"),
        ):
            db.session.get(User, u[key]).job_title = title
        db.session.add(
            WageStandard(
                organisation_id=world["org"]["a"],
                role="target",
                job_title="Interrupter",
                benchmark_name=CHW,
                effective_from=date(2025, 1, 1),
            )
        )
        make_rate(u["worker"], "18.50")
        make_rate(u["worker2"], "26.00")
        make_rate(u["worker3"], "52000", classification="employee_exempt")
        for key in ("worker", "worker2", "worker3"):
            for week in range(12):
                make_shift(
                    u[key],
                    recent_start(7 * week + 2, "09:00"),
                    hours=hours_per_week,
                    status="approved",
                ) if hours_per_week <= 16 else [
                    make_shift(
                        u[key], recent_start(7 * week + d, "09:00"), hours=10, status="approved"
                    )
                    for d in (2, 3, 4)
                ]
        db.session.commit()


def test_fair_pay_page_lists_gaps_largest_first(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("hr")
    page = client.get("/hr/fair-pay").get_data(as_text=True)
    # worker: 18.50 against 24.93: gap 6.43 (25.8%), 30 h a week -> 1,560 h a year -> 10,030.80
    assert "$6.43" in page and "25.8%" in page and "0.742" in page and "$10,030.80" in page
    # worker2 above target: no gap, compa-ratio 26.00 / 24.93
    assert "1.043" in page
    assert page.index("Worker A") < page.index("Worker2 A")
    # the salaried worker has no target (Outreach): counted but not compared
    assert "1 worker cannot be compared yet" in page
    assert "50.0%" in page  # one of the two compared is at or above target
    assert "$15.00" in page  # the floor: Missouri minimum wage by default


def test_fair_pay_filters_and_csv(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("hr")
    page = client.get("/hr/fair-pay?below=1").get_data(as_text=True)
    assert "Worker A" in page and "Worker2 A" not in page
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/hr/fair-pay.csv?title=Interrupter").get_data(as_text=True))
        )
    )
    assert [r["worker_name"] for r in rows] == ["Worker A", "Worker2 A"]
    first = rows[0]
    assert (first["gap_per_hour"], first["gap_percent"], first["annual_cost_to_close"]) == (
        "6.43",
        "25.8",
        "10030.80",
    )
    assert first["target_name"] == CHW and first["target_hourly"] == "24.93"


def test_salaried_effective_rate_uses_hours_worked(client, world, auth, app):
    setup_org(app, world, hours_per_week=30)
    with app.app_context():
        db.session.get(User, world["user"]["worker3"]).job_title = "Interrupter"
        db.session.commit()
    auth.as_role("hr")
    rows = {
        r["worker_name"]: r
        for r in csv.DictReader(io.StringIO(client.get("/hr/fair-pay.csv").get_data(as_text=True)))
    }
    # 52,000 / 52 x 12 = 12,000 over 360 h = 33.33/h
    assert rows["Worker3 A"]["effective_hourly"] == "33.33"


def test_choosing_a_target_and_a_floor(client, world, auth, app):
    auth.as_role("hr")
    with app.app_context():
        today = local_today()
    response = client.post(
        "/hr/fair-pay/standards/target",
        data={
            "job_title": "Hospital responder",
            "benchmark_name": LIVING,
            "effective_from": today.isoformat(),
            "reason": "Living wage pledge",
        },
        follow_redirects=True,
    )
    assert "Saved the target for Hospital responder" in response.get_data(as_text=True)
    page = client.get("/hr/fair-pay/standards").get_data(as_text=True)
    assert "Target: Hospital responder" in page and "$32.68/h" in page
    assert "newsbreak.com" in page  # the source is shown
    client.post(
        "/hr/fair-pay/standards/floor",
        data={
            "benchmark_name": "City of St. Louis starting wage for city employees",
            "effective_from": (today + timedelta(days=30)).isoformat(),
        },
    )
    page = client.get("/hr/fair-pay/standards").get_data(as_text=True)
    assert "Scheduled" in page  # a floor from next month is not in force yet


def test_refused_standard_choices(client, world, auth, app):
    auth.as_role("hr")
    response = client.post(
        "/hr/fair-pay/standards/target",
        data={"job_title": "", "benchmark_name": CHW, "effective_from": "2026-01-01"},
    )
    assert response.status_code == 422
    assert "Enter the job title this target is for." in response.get_data(as_text=True)
    response = client.post(
        "/hr/fair-pay/standards/floor",
        data={"benchmark_name": "Made-up wage", "effective_from": "2026-01-01"},
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WageStandard)) == 0


def test_a_chosen_floor_never_undercuts_the_legal_minimum(app, world):
    from portal.pay import fairness

    with app.app_context():
        db.session.add(
            WageStandard(
                organisation_id=world["org"]["a"],
                role="floor",
                benchmark_name="Reported violence interrupter pay (Los Angeles 2021)",
                effective_from=date(2025, 1, 1),
            )
        )
        db.session.commit()
        standards, benchmarks = fairness.load_standards(world["org"]["a"])
        assert fairness.floor_for(standards, benchmarks, date(2026, 6, 1)).hourly_usd == Decimal(
            "16.00"
        )
        # without a choice, the legal minimum in force that day
        assert fairness.floor_for([], benchmarks, date(2025, 6, 1)).hourly_usd == Decimal("13.75")


def test_hr_sets_a_job_title(client, world, auth, app):
    auth.as_role("hr")
    w = world["user"]["worker"]
    response = client.post(
        f"/hr/workers/{w}/job-title", data={"job_title": " Interrupter "}, follow_redirects=True
    )
    assert "job title is now Interrupter" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, w).job_title == "Interrupter"
    assert (
        client.post(
            f"/hr/workers/{world['user']['worker_b']}/job-title", data={"job_title": "x"}
        ).status_code
        == 404
    )


def test_contractor_working_like_an_employee_is_flagged(client, world, auth, app):
    w = world["user"]["worker"]
    with app.app_context():
        make_rate(
            w, "17.00", since=local_today() - timedelta(days=200), classification="contractor"
        )
        for week in range(12):
            for d in (1, 2):
                make_shift(w, recent_start(7 * week + d, "09:00"), hours=9, status="approved")
        db.session.commit()
    auth.as_role("hr")
    page = client.get("/hr/fair-pay").get_data(as_text=True)
    assert "review whether they should be an employee" in page


def test_exempt_salary_under_the_flsa_threshold_is_flagged(client, world, auth, app):
    with app.app_context():
        row = PayRate(
            worker_id=world["user"]["worker"],
            organisation_id=world["org"]["a"],
            effective_from=date(2024, 1, 1),
            classification="employee_exempt",
            annual_salary=Decimal("30000"),
            reason="before the threshold rose",
        )
        db.session.add(row)
        db.session.commit()
    auth.as_role("hr")
    assert "under the FLSA salary threshold" in client.get("/hr/fair-pay").get_data(as_text=True)


def test_fair_pay_runs_a_fixed_number_of_queries(client, world, auth, app, count_queries):
    setup_org(app, world)
    auth.as_role("hr")
    with count_queries() as few:
        client.get("/hr/fair-pay")
    with app.app_context():
        for n in range(15):
            uid = make_user(
                f"More {n}",
                f"more{n}@a.example.org",
                {"worker"},
                world["org"]["a"],
                world["site"]["a2"],
            ).id
            make_rate(uid, "17.00", classification="contractor" if n % 2 else "employee_nonexempt")
            make_shift(uid, recent_start(3, "09:00"), hours=6, status="approved")
        db.session.commit()
    with count_queries() as many:
        client.get("/hr/fair-pay")
    assert few() == many()


def test_what_if_prices_then_applies_all_or_nothing(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("hr")
    page = client.get("/hr/fair-pay/what-if?scenario=to_target").get_data(as_text=True)
    assert "1 worker would change · $10,030.80 a year" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayRate)) == 3
    with app.app_context():
        start = local_today() + timedelta(days=20)
    response = client.post(
        "/hr/fair-pay/what-if",
        data={
            "scenario": "to_target",
            "effective_from": start.isoformat(),
            "reason": "Raise to the market median",
        },
        follow_redirects=True,
    )
    assert "Scheduled 1 rate change" in response.get_data(as_text=True)
    with app.app_context():
        new = db.session.scalar(sa.select(PayRate).where(PayRate.effective_from == start))
        assert new.worker_id == world["user"]["worker"]
        assert new.hourly_rate == Decimal("24.93") and new.reason == "Raise to the market median"


def test_what_if_percent_and_floor(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("hr")
    page = client.get(
        "/hr/fair-pay/what-if?scenario=percent&title=Interrupter&percent=10"
    ).get_data(as_text=True)
    assert "2 workers would change" in page and "$20.35" in page and "$28.60" in page
    page = client.get("/hr/fair-pay/what-if?scenario=floor&floor=20").get_data(as_text=True)
    assert "1 worker would change" in page  # only the $18.50 worker is under $20
    bad = client.get("/hr/fair-pay/what-if?scenario=percent&percent=abc")
    assert "Enter a number like 5." in bad.get_data(as_text=True)
    assert "Choose the job title to raise." in bad.get_data(as_text=True)


def test_what_if_refuses_everything_when_one_change_fails(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("hr")
    response = client.post(
        "/hr/fair-pay/what-if",
        data={
            "scenario": "percent",
            "title": "Interrupter",
            "percent": "10",
            "effective_from": "1980-01-01",
            "reason": "x",
        },
    )
    assert response.status_code == 422
    assert "Nothing was saved." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayRate)) == 3


def test_worker_sees_their_rate_beside_floor_and_target_with_sources(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("worker")
    page = client.get("/pay").get_data(as_text=True)
    assert "How your rate compares" in page
    assert "Missouri minimum wage" in page and "$15.00/h" in page
    assert "Target for Interrupter" in page and "$24.93/h" in page
    assert "https://www.bls.gov/oes/current/oes211094.htm" in page


def test_a_rate_below_target_needs_a_written_reason(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("hr")
    w = world["user"]["worker"]
    with app.app_context():
        day = local_today() + timedelta(days=30)
    data = {
        "effective_from": day.isoformat(),
        "classification": "employee_nonexempt",
        "hourly_rate": "19.00",
        "annual_salary": "",
        "reason": "Raise",
    }
    response = client.post(f"/hr/workers/{w}", data=data)
    assert response.status_code == 422
    assert "This is below the target for Interrupter ($24.93/h" in response.get_data(as_text=True)
    data["reason"] = "Step one of three towards the market median by 2027."
    assert client.post(f"/hr/workers/{w}", data=data).status_code == 302
    data.update(
        effective_from=(day + timedelta(days=1)).isoformat(),
        hourly_rate="25.00",
        reason="At target",
    )  # at or above target: a short reason is fine
    assert client.post(f"/hr/workers/{w}", data=data).status_code == 302


def test_leader_sees_the_organisation_summary_and_its_trend(client, world, auth, app):
    setup_org(app, world)
    auth.as_role("leader")
    page = client.get("/").get_data(as_text=True)
    assert "Fair pay in Provider A" in page
    assert "50.0%" in page and "$10,030.80" in page
    assert page.count("<meter") == 12  # eleven month-ends and today
    assert "Worker A" not in page  # aggregates only, never a person


def test_a_rate_below_the_chosen_floor_is_refused(client, world, auth, app):
    with app.app_context():
        db.session.add(
            WageStandard(
                organisation_id=world["org"]["a"],
                role="floor",
                benchmark_name="City of St. Louis starting wage for city employees",
                effective_from=date(2025, 7, 1),
            )
        )
        db.session.commit()
        day = local_today() + timedelta(days=3)
    auth.as_role("hr")
    response = client.post(
        f"/hr/workers/{world['user']['worker']}",
        data={
            "effective_from": day.isoformat(),
            "classification": "employee_nonexempt",
            "hourly_rate": "19.00",
            "annual_salary": "",
            "reason": "A long enough reason, really.",
        },
    )
    assert response.status_code == 422
    assert "below the organisation&#39;s floor, City of St. Louis starting wage" in (
        response.get_data(as_text=True)
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayRate)) == 0
