"""The main menu: each role's links, the current page marked, kept per role set."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import User

NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def menu(client, url: str) -> list[tuple[str, str, bool]]:
    """(label, href, current) of every menu link on a page."""
    response = client.get(url)
    assert response.status_code == 200, url
    nav = NAV.search(response.get_data(as_text=True)).group(1)
    return [(label, href, bool(cur)) for href, cur, label in LINK.findall(nav)]


WORKER_MENU = [
    "Home", "Safety", "My shifts", "My pay", "On call", "Counselling", "Wellbeing", "My training",
    "Account",
]  # fmt: skip
SUPERVISOR_MENU = ["Home", "Safety alarms", "Approve shifts", "On-call rota", "Account"]


@pytest.mark.parametrize(
    "role, url, labels, current",
    [
        ("worker", "/shifts/new", WORKER_MENU, "My shifts"),
        ("supervisor", "/shifts/review", SUPERVISOR_MENU, "Approve shifts"),
        ("supervisor", "/oncall/rota", SUPERVISOR_MENU, "On-call rota"),
        ("supervisor", "/safety/alarms", SUPERVISOR_MENU, "Safety alarms"),
        ("worker", "/safety", WORKER_MENU, "Safety"),
        ("worker", "/safety/settings", WORKER_MENU, "Safety"),
        ("worker", "/oncall", WORKER_MENU, "On call"),
        ("counselor", "/checkins/shared",
         ["Home", "Support queue", "Shared check-ins", "Sessions", "Availability", "Account"],
         "Shared check-ins"),
        ("hr", "/hr/fair-pay/what-if",
         ["Home", "Pay &amp; rates", "Fair pay", "Benchmarks", "Training", "Account"], "Fair pay"),
        ("hr", "/hr/policy",
         ["Home", "Pay &amp; rates", "Fair pay", "Benchmarks", "Training", "Account"],
         "Pay &amp; rates"),
        ("leader", "/dashboard", ["Home", "Dashboard", "Training completion", "Account"],
         "Dashboard"),
        ("hr", "/hr/training/due",
         ["Home", "Pay &amp; rates", "Fair pay", "Benchmarks", "Training", "Account"],
         "Training"),
        ("worker", "/training", WORKER_MENU, "My training"),
        ("funder", "/", ["Home", "Dashboard", "Account"], "Home"),
        ("admin", "/admin/organisations/new",
         ["Home", "People", "Organisations", "Audit log", "Account"], "Organisations"),
        ("admin", "/admin/users/new",
         ["Home", "People", "Organisations", "Audit log", "Account"], "People"),
        ("worker", "/account/two-factor", WORKER_MENU, "Account"),
    ],
)  # fmt: skip
def test_each_role_gets_its_links_and_the_page_is_marked(
    client, auth, world, role, url, labels, current
):
    auth.as_role(role)
    links = menu(client, url)
    assert [label for label, _href, _cur in links] == labels
    assert [label for label, _href, cur in links if cur] == [current]
    assert all(href.startswith("/") for _label, href, _cur in links)


def test_a_new_role_shows_at_once(app, client, auth, world):
    """The menu is kept per role set, not per person: a role given is a menu changed."""
    auth.as_role("supervisor")
    assert "Dashboard" not in [label for label, _h, _c in menu(client, "/")]
    with app.app_context():
        user = db.session.get(User, world["user"]["supervisor"])
        user.roles = {"supervisor", "leader"}
        db.session.commit()
    labels = [label for label, _h, _c in menu(client, "/")]
    # in menu order
    assert labels == ["Home", "Safety alarms", "Approve shifts", "On-call rota", "Dashboard",
                      "Training completion",
                      "Account"]
    with app.app_context():
        db.session.get(User, world["user"]["supervisor"]).roles = {"supervisor"}
        db.session.commit()
    assert "Dashboard" not in [label for label, _h, _c in menu(client, "/")]


def test_the_menu_follows_the_script_root(app, client, auth, world):
    """Behind a proxy that mounts the portal under a path, the links carry that path."""
    auth.as_role("leader")
    response = client.get("/dashboard", environ_overrides={"SCRIPT_NAME": "/portal"})
    nav = NAV.search(response.get_data(as_text=True)).group(1)
    assert '<a href="/portal/dashboard" aria-current="page">Dashboard</a>' in nav
    assert '<a href="/dashboard"' in NAV.search(client.get("/").get_data(as_text=True)).group(1)
