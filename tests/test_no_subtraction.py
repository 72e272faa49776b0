"""No wellbeing figure can be recovered by subtracting one published table from another
(issue 16): the views of every viewer (each provider's leader, with and without a site filter,
and the funder), over ranges a day apart, publish cells of one suppressed tree.

For random numbers of people with exposures per site, every pair of published cells where one
covers the other differs by nobody or by at least SUPPRESSION_MIN people; a scope shows the same
figure in every view; no hidden cell's people are the difference of two published cells'."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.dashboard import service
from portal.extensions import db
from portal.models import Engagement, Exposure, User, UserRole
from tests.factories import local, make_user

MIN = 11
TODAY = date(2026, 12, 3)
RANGES = [  # each touches 2026 Q1 only, or Q1 and Q2; a day apart moves nothing
    {"from": "2026-01-01", "to": "2026-03-31"},
    {"from": "2026-01-02", "to": "2026-03-31"},
    {"from": "2026-01-01", "to": "2026-03-30"},
    {"from": "2026-02-01", "to": "2026-02-28"},
    {"from": "2026-01-01", "to": "2026-06-30"},
]
SITES = ("a1", "a2", "b1")


def leader_b(app, world) -> int:
    with app.app_context():
        user = make_user("Leader B", "leader@b.example.org", {"leader"}, world["org"]["b"])
        db.session.commit()
        return user.id


def viewers(app, world, b_leader: int) -> list[tuple[str, int, dict]]:
    """(who, user id, args) of every view."""
    u, s = world["user"], world["site"]
    views = []
    for args in RANGES:
        views.append(("funder", u["funder_city"], args))
        views.append(("leader a", u["leader"], args))
        views.append(("leader b", b_leader, args))
        for site in ("a1", "a2"):
            views.append(("leader a", u["leader"], {**args, "site": str(s[site])}))
    return views


def scopes(world) -> dict[tuple[str, str], frozenset]:
    """The sites a (viewer, line) covers."""
    return {
        ("leader a", "Dutchtown"): frozenset({"a1"}),
        ("leader a", "Walnut Park"): frozenset({"a2"}),
        ("leader a", "All sites"): frozenset({"a1", "a2"}),
        ("leader b", "Hamilton Heights"): frozenset({"b1"}),
        ("leader b", "All sites"): frozenset({"b1"}),
        ("funder", "Provider A"): frozenset({"a1", "a2"}),
        ("funder", "Provider B"): frozenset({"b1"}),
        ("funder", "All funded organisations"): frozenset(SITES),
    }


people_per_site = st.fixed_dictionaries(
    {site: st.integers(min_value=0, max_value=16) for site in SITES}
)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(people_per_site)
def test_no_two_published_tables_subtract_to_a_small_figure(app, world, people):
    b_leader = leader_b(app, world) if "b_leader" not in world else world["b_leader"]
    world["b_leader"] = b_leader
    made = []
    with app.app_context():
        for site, count in people.items():
            org = world["org"][site[0]]
            for n in range(count):
                w = make_user("P", f"p{site}-{n}@x.example.org", {"worker"}, org,
                              world["site"][site], hired_on=None)  # fmt: skip
                made.append(w.id)
                db.session.add(Exposure(worker_id=w.id, organisation_id=org,
                                        occurred_at=local(date(2026, 1, 2 + n), "10:00"),
                                        category="witnessed_violence", severity=2))  # fmt: skip
        db.session.commit()
    # the people with an exposure in 2026 Q1 behind each site (the world's own workers have none)
    truth = dict(people)
    try:
        published: dict[frozenset, set] = {}
        hidden: set[frozenset] = set()
        with app.app_context():
            app.config["SUPPRESSION_MIN"] = MIN
            area = scopes(world)
            for who, user_id, args in viewers(app, world, b_leader):
                user = db.session.get(User, user_id)
                tables = service.viewer_tables(user, args, TODAY).tables
                table = tables["wellbeing"]
                col = table.columns.index("Exposures")
                for row in table.rows:
                    if row[0] != "2026 Q1":
                        continue
                    scope = area[(who, row[1])]
                    if row[col] is None:
                        hidden.add(scope)
                    else:
                        published.setdefault(scope, set()).add(row[col])
                        assert row[col] == sum(truth[s] for s in scope)
        for scope, values in published.items():
            assert len(values) == 1, f"{set(scope)} reads {values} in different views"
            assert scope not in hidden, f"{set(scope)} is hidden in one view, shown in another"
            assert sum(truth[s] for s in scope) >= MIN
        for a, b in combinations(published, 2):
            big, small = (a, b) if a >= b else (b, a)
            if not big >= small:
                continue
            gap = sum(truth[s] for s in big - small)
            assert gap == 0 or gap >= MIN, f"{set(big)} - {set(small)} shows {gap} people"
            assert big - small not in hidden or gap == 0, f"{set(big - small)} recovered"
    finally:
        with app.app_context():
            db.session.execute(sa.delete(Exposure).where(Exposure.worker_id.in_(made)))
            db.session.execute(sa.delete(Engagement).where(Engagement.user_id.in_(made)))
            db.session.execute(sa.delete(UserRole).where(UserRole.user_id.in_(made)))
            db.session.execute(sa.delete(User).where(User.id.in_(made)))
            db.session.commit()


def test_the_issues_example_no_longer_subtracts(client, auth, app, world):
    """All sites minus one site gave the other site; the funder's total minus the leader's gave
    the other provider: Walnut Park and Provider B have a few people each."""
    counts = {"a1": 30, "a2": 4, "b1": 5}
    with app.app_context():
        for site, count in counts.items():
            org = world["org"][site[0]]
            for n in range(count):
                w = make_user("P", f"q{site}-{n}@x.example.org", {"worker"}, org,
                              world["site"][site], hired_on=None)  # fmt: skip
                db.session.add(Exposure(worker_id=w.id, organisation_id=org,
                                        occurred_at=local(date(2026, 2, 3), "10:00"),
                                        category="witnessed_violence", severity=2))  # fmt: skip
        db.session.commit()
    rng = {"from": "2026-01-01", "to": "2026-03-31"}

    def exposures(**args):
        rows = client.get("/dashboard/wellbeing.csv", query_string={**rng, **args})
        lines = rows.get_data(as_text=True).strip().splitlines()
        header = lines[0].split(",")
        col = header.index("Exposures")
        return {line.split(",")[1]: line.split(",")[col] for line in lines[1:]}

    auth.as_role("leader")
    all_sites = exposures()
    dutchtown = exposures(site=world["site"]["a1"])
    assert all_sites["All sites"] == "34"
    assert all_sites["Walnut Park"] == "hidden (small numbers)"
    assert dutchtown["Dutchtown"] == all_sites["Dutchtown"] == "hidden (small numbers)"
    assert exposures(to="2026-03-30") == all_sites, "a day less: the same whole quarter"
    auth.logout()
    auth.as_role("funder")
    funder = exposures()
    assert funder["Provider A"] == "34"
    assert funder["Provider B"] == funder["All funded organisations"] == "hidden (small numbers)"
