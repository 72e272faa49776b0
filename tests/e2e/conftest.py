"""Browser fixtures: one portal server and one Chromium for the whole run, a fresh context (no
cookies) per test.

The server runs the real app with CSRF on over a database of its own (SQLite in tmp, or
``<TEST_DATABASE_URL's database>_e2e`` on PostgreSQL), migrated and loaded with seed-demo. When
Chromium is missing the tests error (they never pass unrun); `make test` leaves this folder out
then and says so.
"""

from __future__ import annotations

import pytest

from tests.e2e.server import (
    DEMO_ACCOUNTS,
    MISSING_CHROMIUM,
    chromium_path,
    confirm_identity_if_asked,
    drop_e2e_database,
    e2e_database_url,
    launch_browser,
    start_server,
)
from tests.e2e.server import sign_in as sign_in_as

DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000


# Package scope: one server and one browser for all of tests/e2e, stopped as soon as its tests
# are done (the rest of the suite does not need them running).
@pytest.fixture(scope="package")
def live_server(tmp_path_factory):
    """The seeded portal on 127.0.0.1 (a free port), stopped and its database dropped after."""
    tmp = tmp_path_factory.mktemp("e2e")
    url = e2e_database_url(tmp)
    live = start_server(url, tmp)
    yield live
    live.stop()
    drop_e2e_database(url)


@pytest.fixture(scope="package")
def browser():
    """Debian's Chromium, headless; an error (not a skip) when it is not installed."""
    if chromium_path() is None:
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, live_server):
    """A clean browser profile for one test, at desktop size."""
    ctx = browser.new_context(
        base_url=live_server.url,
        viewport=DESKTOP,
        locale="en-US",
        timezone_id="America/Chicago",
        accept_downloads=True,
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A tab that records script errors and console errors; the test fails if any happened
    (a page whose script breaks, or a Content-Security-Policy refusal, is a bug)."""
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text} ({tab.url})")
            if msg.type == "error"
            else None
        ),
    )
    yield tab
    assert not problems, "\n".join(problems)


@pytest.fixture
def sign_in(live_server):
    """``sign_in(page, "hr")`` or ``sign_in(page, "someone@example.org")``: the real sign-in
    form, and the two-factor step with the seeded TOTP secret when the portal asks for it."""

    def _sign_in(page, who: str) -> None:
        sign_in_as(page, live_server, DEMO_ACCOUNTS.get(who, who))

    return _sign_in


class Browse:
    """Small helpers bound to the live server."""

    def __init__(self, live):
        self.live = live

    def confirm_identity_if_asked(self, page) -> bool:
        """Give the password on /reauth when a sensitive action asks for it."""
        return confirm_identity_if_asked(page, self.live)

    def path(self, page) -> str:
        """The current address without the server part."""
        return page.url.removeprefix(self.live.url)


@pytest.fixture
def browse(live_server):
    """``browse.path(page)``, ``browse.confirm_identity_if_asked(page)``."""
    return Browse(live_server)
