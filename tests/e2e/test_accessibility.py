"""Every main page of every role, checked in Chromium: axe-core finds no serious or critical
violation, and at 360 px wide the page itself never scrolls sideways (a wide table may scroll
inside its own ``.table-wrap`` box).

axe-core is vendored in tests/e2e/vendor/axe-core (MPL-2.0). It is run through the DevTools
protocol (``page.evaluate``), so the site's Content-Security-Policy stays on and the pages are
checked as people's browsers render them.
"""

from __future__ import annotations

import json
from datetime import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import (
    Booking,
    CheckIn,
    Exposure,
    PayPeriod,
    PayStatement,
    Shift,
    Site,
    SupportRequest,
)
from portal.seed import DEMO_PASSWORD
from tests.e2e.server import AXE_JS, DEMO_ACCOUNTS, submitted_shift

AXE_SOURCE = AXE_JS.read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")
PHONE = {"width": 360, "height": 780}

# Pages per role; "{name}" parts are filled from the seeded data (see ``ids``).
PAGES = {
    "worker": [
        "/",
        "/help",
        "/shifts",
        "/shifts/new",
        "/shifts/{shift}",
        "/pay",
        "/pay/statements/{statement}",
        "/exposures/new",
        "/exposures",
        "/exposures/{exposure}",
        "/checkins/new",
        "/checkins",
        "/checkins/{checkin}",
        "/support",
        "/support/new",
        "/support/contact-number",
        "/counseling",
        "/bookings/{booking}",
        "/my-data",
        "/account",
        "/safety",
        "/safety/settings",
        "/safety/sos",
    ],
    "supervisor": ["/", "/shifts/review", "/safety/alarms"],
    "hr": [
        "/",
        "/hr/",
        "/hr/workers/{worker}",
        "/hr/periods",
        "/hr/periods/{period}",
        "/hr/shifts/{shift}",
        "/hr/policy",
        "/hr/fair-pay",
        "/hr/fair-pay/standards",
        "/hr/fair-pay/what-if",
        "/hr/fair-pay/what-if?scenario=to_target",
        "/hr/benchmarks/",
        "/hr/benchmarks/import",
    ],
    "counselor": [
        "/",
        "/support/queue",
        "/support/{support_request}",
        "/support/contact-number",
        "/checkins/shared",
        "/counseling/sessions",
        "/counseling/availability",
    ],
    "leader": ["/", "/dashboard", "/dashboard/report"],
    "funder": ["/", "/dashboard", "/dashboard/report"],
    "admin": [
        "/",
        "/admin/users",
        "/admin/users/{worker}",
        "/admin/users/{worker}/tokens",
        "/admin/users/new",
        "/admin/audit",
        "/admin/organisations",
        "/admin/organisations/{organisation}",
        "/admin/organisations/new",
        "/admin/sites/{site}",
    ],
    None: ["/login", "/forgot-password"],
}

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
    nodeImpacts: v.nodes.map(n => n.impact),
  }));
}"""

# Elements wider than the screen that are not inside a box allowed to scroll sideways.
OVERFLOW = """(limit) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-wrap')) continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.right > limit + 0.5) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (el.className && typeof el.className === 'string'
           ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
      out.push(name + ' (right edge ' + Math.round(r.right) + 'px)');
    }
  }
  return out.slice(0, 8);
}"""


@pytest.fixture(scope="module")
def ids(live_server):
    """Ids of seeded records whose pages are checked, and one shift waiting for approval."""
    facts = live_server.facts
    org = facts["organisation_id"]
    with live_server.app.app_context():
        worker = facts["demo_worker_id"]

        def latest(model, *where):
            return db.session.scalar(sa.select(sa.func.max(model.id)).where(*where))

        found = {
            "worker": worker,
            "organisation": org,
            "site": latest(Site, Site.organisation_id == org),
            "shift": latest(Shift, Shift.worker_id == worker),
            "exposure": latest(Exposure, Exposure.worker_id == worker),
            "checkin": latest(CheckIn, CheckIn.worker_id == worker),
            "period": latest(PayPeriod, PayPeriod.organisation_id == org),
            "statement": latest(PayStatement, PayStatement.worker_id == worker),
            "booking": db.session.scalar(
                sa.select(sa.func.min(Booking.id)).where(Booking.worker_id == worker)
            ),
            "support_request": db.session.scalar(
                sa.select(sa.func.min(SupportRequest.id)).where(
                    SupportRequest.organisation_id == org
                )
            ),
        }
        db.session.remove()
    missing = [key for key, value in found.items() if value is None]
    assert not missing, f"the demo data have no {missing}"
    # The review page shows at least one card, whatever the journeys did before.
    submitted_shift(live_server, facts["colleagues"][4][0], time(1, 0), hours=2)
    return found


def _visit(page, browse, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, (
        f"{path}: HTTP {response.status if response else '?'}"
    )
    assert browse.path(page).split("?")[0] == path.split("?")[0], (
        f"{path} went to {browse.path(page)}"
    )


def _axe(page) -> list[dict]:
    """axe-core's violations on the current page with an impact of serious or critical."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    violations = page.evaluate(AXE_RUN)
    return [v for v in violations if v["impact"] in BLOCKING]


def _pages(role, ids) -> list[str]:
    return [path.format(**ids) for path in PAGES[role]]


def _sign_in_as(sign_in, page, role) -> None:
    if role is not None:
        sign_in(page, DEMO_ACCOUNTS[role])


ROLES = list(PAGES)
ROLE_IDS = [role or "anonymous" for role in ROLES]


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_no_serious_accessibility_violations(sign_in, page, browse, ids, role):
    """axe-core (WCAG 2 A/AA and best practices) finds nothing serious or critical."""
    _sign_in_as(sign_in, page, role)
    problems = []
    for path in _pages(role, ids):
        _visit(page, browse, path)
        for v in _axe(page):
            problems.append(
                f"{path}: [{v['impact']}] {v['id']}: {v['help']}\n"
                f"    targets: {json.dumps(v['targets'])}\n    {v['helpUrl']}"
            )
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


def test_sign_in_steps_are_accessible(sign_in, page, browse):
    """The refused sign-in form, the two-factor step and the re-authentication page, reached
    as a person reaches them."""
    problems = []

    def check(label: str) -> None:
        for v in _axe(page):
            problems.append(f"{label}: [{v['impact']}] {v['id']}: {v['help']} {v['targets']}")

    page.goto("/login")
    page.get_by_label("E-mail").fill(DEMO_ACCOUNTS["hr"])
    page.get_by_label("Password").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[role=alert]")).to_contain_text("don't match")
    check("/login (refused)")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert browse.path(page) == "/login/two-factor"
    check("/login/two-factor")
    sign_in(page, "hr")
    page.goto("/reauth?next=/hr/periods")
    check("/reauth")
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_pages_work_on_a_360px_screen(sign_in, page, browse, ids, role):
    """On a small phone the page never scrolls sideways (only tables scroll, in their box),
    and axe-core finds nothing serious there either (a box that scrolls must be reachable by
    keyboard, for instance)."""
    _sign_in_as(sign_in, page, role)
    page.set_viewport_size(PHONE)
    problems = []
    for path in _pages(role, ids):
        _visit(page, browse, path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide = page.evaluate(OVERFLOW, PHONE["width"])
            problems.append(f"{path}: the page is {width}px wide; too wide: {', '.join(wide)}")
        for v in _axe(page):
            problems.append(
                f"{path}: [{v['impact']}] {v['id']}: {v['help']}\n"
                f"    targets: {json.dumps(v['targets'])}\n    {v['helpUrl']}"
            )
    assert not problems, "At 360 px wide:\n" + "\n".join(problems)
