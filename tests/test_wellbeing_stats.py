"""Wellbeing aggregates: one tree per funder (providers, their sites), whole quarters, suppressed
below the minimum and wherever subtraction would recover a figure, never a person."""

from datetime import date

import pytest

from portal.extensions import db
from portal.models import CheckIn, Exposure
from portal.wellbeing.stats import (
    ROOT,
    org_node,
    published_quarters,
    quarter_of,
    site_node,
    wellbeing_tree,
)
from tests.factories import local, make_shift, make_user

DAY = date(2026, 2, 10)  # in 2026 Q1
Q1 = quarter_of(DAY)


def add_people(app, world, org_key, site_key, count, score, day=DAY):
    """`count` workers at a site, each with one exposure, one check-in and a 10-hour shift."""
    with app.app_context():
        for n in range(count):
            uid = make_user(
                f"P{site_key}{n}{day}",
                f"p{site_key}{n}.{day}@{org_key}.example.org",
                {"worker"},
                world["org"][org_key],
                world["site"][site_key],
            ).id
            make_shift(uid, local(day, "09:00"), hours=10, status="approved")
            db.session.add(
                Exposure(
                    worker_id=uid,
                    organisation_id=world["org"][org_key],
                    occurred_at=local(day, "12:00"),
                    category="witnessed_violence",
                    severity=2,
                )
            )
            db.session.add(
                CheckIn(
                    worker_id=uid,
                    organisation_id=world["org"][org_key],
                    item1=score, item2=score, item3=score, item4=score, item5=score,
                    score=score * 20, created_at=local(day, "13:00"),
                )
            )  # fmt: skip
        db.session.commit()


def tree(app, world, quarters=(Q1,)):
    with app.app_context():
        return wellbeing_tree([world["org"]["a"], world["org"]["b"]], list(quarters))


def nodes(world, quarter=Q1):
    o, s = world["org"], world["site"]
    return {
        "dutchtown": site_node(o["a"], s["a1"]),
        "walnut": site_node(o["a"], s["a2"]),
        "hamilton": site_node(o["b"], s["b1"]),
        "a": org_node(o["a"]),
        "b": org_node(o["b"]),
        "all": ROOT,
    }


def test_quarters_are_whole_and_ended():
    assert quarter_of(date(2026, 11, 30)).label == "2026 Q4"
    q = published_quarters(date(2025, 12, 1), date(2026, 12, 1), today=date(2026, 12, 3))
    assert [x.label for x in q] == ["2025 Q4", "2026 Q1", "2026 Q2", "2026 Q3"]  # Q4 not ended
    assert (q[0].start, q[-1].end) == (date(2025, 10, 1), date(2026, 10, 1))
    # a day more or less in the range gives the same quarters
    assert published_quarters(date(2025, 12, 2), date(2026, 11, 30), date(2026, 12, 3)) == q
    assert published_quarters(date(2026, 10, 5), date(2026, 11, 1), date(2026, 12, 3)) == []


def test_sites_with_enough_people_are_published(app, world):
    add_people(app, world, "a", "a1", 12, 3)
    add_people(app, world, "a", "a2", 15, 2)
    add_people(app, world, "b", "b1", 11, 4)
    t, n = tree(app, world)["2026 Q1"], nodes(world)
    assert t[n["dutchtown"]]["exposures"] == 12
    assert t[n["dutchtown"]]["exposures_per_100h"] == 10.0  # 12 per 120 h
    assert t[n["dutchtown"]]["who5_mean"] == 60.0
    assert t[n["walnut"]]["who5_low_share"] == 100.0  # 40 is at or below 50
    assert t[n["a"]]["exposures"] == 27
    assert t[n["b"]]["exposures"] == 11
    assert t[n["all"]]["exposures"] == 38


def test_a_small_site_is_hidden_and_so_is_its_complement(app, world):
    add_people(app, world, "a", "a1", 20, 3)
    add_people(app, world, "a", "a2", 4, 1)
    add_people(app, world, "b", "b1", 12, 3)
    t, n = tree(app, world)["2026 Q1"], nodes(world)
    # Walnut Park has 4 people: hidden; Dutchtown is hidden too, or 24 - 20 would reveal it
    assert t[n["walnut"]]["exposures"] is None
    assert t[n["dutchtown"]]["exposures"] is None
    assert t[n["a"]]["exposures"] == 24
    assert t[n["walnut"]]["who5_mean"] is None


def test_a_small_provider_hides_the_funders_total_not_the_others(app, world):
    add_people(app, world, "a", "a1", 20, 3)
    add_people(app, world, "a", "a2", 12, 3)
    add_people(app, world, "b", "b1", 3, 3)
    t, n = tree(app, world)["2026 Q1"], nodes(world)
    assert t[n["b"]]["exposures"] is None
    assert t[n["all"]]["exposures"] is None, "35 - 32 would give provider B's 3"
    assert t[n["a"]]["exposures"] == 32
    assert (t[n["dutchtown"]]["exposures"], t[n["walnut"]]["exposures"]) == (20, 12)


def test_a_site_whose_workers_logged_nothing_still_hides_its_complement(app, world):
    add_people(app, world, "a", "a1", 20, 3)  # Walnut Park's worker logged nothing
    add_people(app, world, "b", "b1", 12, 3)
    t, n = tree(app, world)["2026 Q1"], nodes(world)
    assert t[n["walnut"]]["exposures"] is None
    assert t[n["dutchtown"]]["exposures"] is None, "else 20 of 20: Walnut Park's people had none"
    assert t[n["a"]]["exposures"] == 20


def test_quarters_are_apart(app, world):
    add_people(app, world, "a", "a1", 12, 3)
    add_people(app, world, "a", "a2", 12, 3)
    add_people(app, world, "a", "a1", 2, 3, day=date(2026, 5, 5))  # Q2: two people
    add_people(app, world, "b", "b1", 12, 3)
    both = tree(app, world, [Q1, quarter_of(date(2026, 5, 5))])
    n = nodes(world)
    assert both["2026 Q1"][n["dutchtown"]]["exposures"] == 12
    assert both["2026 Q2"][n["dutchtown"]]["exposures"] is None
    assert both["2026 Q2"][n["a"]]["exposures"] is None


@pytest.mark.parametrize("count", [3, 0])
def test_everything_is_hidden_for_a_tiny_programme(app, world, count):
    if count:
        add_people(app, world, "a", "a1", count, 4)
    t = tree(app, world)["2026 Q1"]
    assert all(v is None for figures in t.values() for v in figures.values())
