"""Wellbeing aggregates: per site, suppressed below the minimum, never a person."""

from datetime import timedelta

from portal.extensions import db
from portal.models import CheckIn, Exposure
from portal.timeutil import local_today, utcnow
from portal.wellbeing.stats import wellbeing_by_site
from tests.factories import make_shift, make_user, recent_start


def add_people(app, world, site_key, count, score):
    """`count` workers at a site, each with one exposure, one check-in and a shift."""
    with app.app_context():
        for n in range(count):
            uid = make_user(
                f"P{site_key}{n}",
                f"p{site_key}{n}@a.example.org",
                {"worker"},
                world["org"]["a"],
                world["site"][site_key],
            ).id
            make_shift(uid, recent_start(2, "09:00"), hours=10, status="approved")
            db.session.add(
                Exposure(
                    worker_id=uid,
                    organisation_id=world["org"]["a"],
                    occurred_at=utcnow() - timedelta(days=2),
                    category="witnessed_violence",
                    severity=2,
                )
            )
            db.session.add(
                CheckIn(
                    worker_id=uid,
                    organisation_id=world["org"]["a"],
                    item1=score,
                    item2=score,
                    item3=score,
                    item4=score,
                    item5=score,
                    score=score * 20,
                )
            )
        db.session.commit()


def table(app, world):
    with app.app_context():
        today = local_today()
        return wellbeing_by_site(
            world["org"]["a"], today - timedelta(days=30), today + timedelta(days=1)
        )


def test_sites_with_enough_people_are_published(app, world):
    add_people(app, world, "a1", 12, 3)
    add_people(app, world, "a2", 15, 2)
    t = table(app, world)
    assert t.rows["Dutchtown"]["exposures"] == 12
    assert t.rows["Dutchtown"]["exposures_per_100h"] == 10.0  # 12 per 120 h
    assert t.rows["Dutchtown"]["who5_mean"] == 60.0
    assert t.rows["Walnut Park"]["who5_low_share"] == 100.0  # 40 is at or below 50
    assert t.total["exposures"] == 27


def test_a_small_site_is_hidden_and_so_is_its_complement(app, world):
    add_people(app, world, "a1", 20, 3)
    add_people(app, world, "a2", 4, 1)
    t = table(app, world)
    # Walnut Park has 4 people: hidden; Dutchtown is hidden too, or 24 - 20 would reveal it
    assert t.rows["Walnut Park"]["exposures"] is None
    assert t.rows["Dutchtown"]["exposures"] is None
    assert t.total["exposures"] == 24
    assert t.rows["Walnut Park"]["who5_mean"] is None


def test_everything_is_hidden_for_a_tiny_programme(app, world):
    add_people(app, world, "a1", 3, 4)
    t = table(app, world)
    assert all(v is None for v in t.rows["Dutchtown"].values())
    assert all(v is None for v in t.total.values())
