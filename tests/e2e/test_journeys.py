"""One journey per role, in a real browser, asserting what the person sees.

Each journey stands alone (any order, any subset): it uses a demo account or a demo worker no
other journey touches, or makes what it needs first. The seeded data end at yesterday's close
and pay periods count from today (tests/e2e/server.py), so the demo provider's latest period
has just ended and is HR's to close.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.server import age_session, approve_ended_period, submitted_shift

ZONE = ZoneInfo("America/Chicago")


def _alert(page):
    """The flash messages and error summaries on the page."""
    return page.locator(".flashes, [role=alert]")


def test_worker_logs_a_shift(sign_in, page):
    """A worker logs a shift from the form and finds it waiting for approval in their list."""
    sign_in(page, "worker")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My shifts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My shifts")
    page.get_by_role("link", name="Log a shift").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a shift")

    # Three hours (real time, whatever the clocks do) starting within the next hour or two: the
    # seeded shifts all ended yesterday.
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    start, end = start.astimezone(ZONE), (start + timedelta(hours=3)).astimezone(ZONE)
    page.get_by_label("Date").fill(start.date().isoformat())
    page.get_by_label("Start").fill(start.strftime("%H:%M"))
    page.get_by_label("End", exact=True).fill(end.strftime("%H:%M"))
    page.get_by_label("Type").select_option(label="Street outreach")
    page.get_by_label("Unpaid break (minutes)").fill("30")
    page.get_by_label("Conflicts interrupted").fill("2")
    page.get_by_label("Individuals engaged").fill("5")
    page.get_by_label("Referrals made").fill("1")
    page.get_by_label("Note").fill("Walked the corridor with the team (browser test).")
    page.get_by_role("button", name="Save shift").click()

    expect(_alert(page)).to_contain_text("Shift saved: 2.50 hours, waiting for approval.")
    expect(page.get_by_role("heading", level=1)).to_have_text("My shifts")
    title = f"{start:%a %b} {start.day}, {start:%H:%M}–{end:%H:%M}"
    card = page.locator("li.card", has_text=title)
    expect(card).to_contain_text("Waiting for approval")
    expect(card).to_contain_text("2.50 h · Street outreach")
    card.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Shift on {start:%a %b} {start.day}, {start.year}"
    )
    expect(page.locator(".badge")).to_have_text("Waiting for approval")
    details = page.locator("dl.details")
    expect(details).to_contain_text("2.50")
    expect(details).to_contain_text("Walked the corridor with the team (browser test).")


def test_worker_logs_an_exposure(sign_in, page):
    """A worker logs something hard they saw; it is saved privately."""
    sign_in(page, "worker")
    page.goto("/exposures/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log an exposure")
    page.get_by_role("group", name="What happened?").get_by_label("Witnessed violence").check()
    page.get_by_role("group", name="How heavy was it?").get_by_label("2 – Moderate").check()
    when = (datetime.now(UTC) - timedelta(minutes=30)).astimezone(ZONE)
    page.get_by_label("Date").fill(when.date().isoformat())
    page.get_by_label("Time").fill(when.strftime("%H:%M"))
    page.get_by_label("Note").fill("Argument outside the store turned physical (browser test).")
    page.get_by_role("button", name="Save").click()

    expect(_alert(page)).to_contain_text("Saved. Only you can see it.")
    expect(page.locator("main")).to_contain_text("Witnessed violence")
    expect(page.locator("main")).to_contain_text(
        "Argument outside the store turned physical (browser test)."
    )


def test_worker_checks_in(sign_in, page):
    """A worker answers the five WHO-5 statements and sees their score."""
    sign_in(page, "worker")
    page.goto("/checkins/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check in")
    answers = [
        "Most of the time",
        "More than half of the time",
        "More than half of the time",
        "Less than half of the time",
        "Most of the time",
    ]  # 4 + 3 + 3 + 2 + 4 = 16, x 4 = 64
    groups = page.locator("form fieldset")
    expect(groups).to_have_count(5)
    for n, answer in enumerate(answers):
        groups.nth(n).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Save check-in").click()

    expect(_alert(page)).to_contain_text("Check-in saved. Thank you for taking the time.")
    expect(page.locator("main")).to_contain_text("Score: 64 out of 100")


def test_worker_books_and_cancels_a_counselling_session(sign_in, page, live_server):
    """A worker books an open time from /counseling, then cancels it; the time opens again."""
    email, _name = live_server.facts["colleagues"][1]
    sign_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Counselling").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Counselling")

    # The last day shown is days away: the session can be cancelled without being late.
    open_times = page.locator("section[aria-labelledby=open-heading]")
    day = open_times.locator("h3").last
    day_text = day.inner_text()
    card = open_times.locator("ul.cards").last.locator("li.card").first
    slot_time = card.locator(".card-title").inner_text().strip()
    card.get_by_role("button", name="Book").click()

    expect(_alert(page)).to_contain_text("Booked:")
    expect(page.get_by_role("heading", level=1)).to_have_text("Counselling session")
    expect(page.locator(".badge").first).to_have_text("Booked")
    when = page.locator("dl.details")
    expect(when).to_contain_text(slot_time)
    booking_url = page.url

    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(_alert(page)).to_contain_text("Session cancelled. The time is free for someone else.")
    expect(page.locator(".badge").first).to_have_text("Cancelled")
    assert page.url == booking_url

    page.goto("/counseling")
    reopened = page.locator("section[aria-labelledby=open-heading]")
    expect(reopened.get_by_role("heading", name=day_text, exact=True)).to_be_visible()
    expect(reopened).to_contain_text(slot_time)


def test_supervisor_approves_a_submitted_shift(sign_in, page, live_server):
    """A supervisor ticks a worker's submitted shift and approves it; it leaves the list."""
    email, name = live_server.facts["colleagues"][0]
    shift = submitted_shift(live_server, email, time(0, 15), hours=4)
    sign_in(page, "supervisor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approve shifts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Shifts waiting for approval")

    box = page.locator(f"#shift-{shift['id']}")
    card = page.locator("li.card", has=box)
    expect(card).to_contain_text(name)
    expect(card).to_contain_text("00:15–04:15")
    box.check()
    page.get_by_role("button", name="Approve ticked shifts").click()

    expect(_alert(page)).to_contain_text("Approved 1 shift.")
    expect(page.locator(f"#shift-{shift['id']}")).to_have_count(0)
    page.goto(f"/shifts/{shift['id']}")
    expect(page.locator(".badge")).to_have_text("Approved")
    expect(page.locator("dl.details")).to_contain_text("Denise Holloway")


def test_hr_changes_a_rate_and_closes_the_pay_period(sign_in, page, context, browse, live_server):
    """HR gives a worker a raise, then closes the period that just ended (confirming who they
    are, as after a few minutes away) and gets the frozen statements."""
    _email, name = live_server.facts["colleagues"][2]
    approve_ended_period(live_server)  # the supervisors' part, done before HR closes
    sign_in(page, "hr")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pay & rates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay and rates")

    page.get_by_role("link", name=re.compile(re.escape(name))).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.get_by_label("Takes effect on").fill(live_server.today.isoformat())
    page.get_by_role("group", name="Classification").get_by_label(
        "Employee (non-exempt, hourly)"
    ).check()
    page.get_by_label("Hourly rate ($ an hour)").fill("21.75")
    page.get_by_label("Reason").fill("Annual raise (browser test)")
    with page.expect_navigation():
        page.get_by_role("button", name="Add change").click()
    browse.confirm_identity_if_asked(page)

    expect(_alert(page)).to_contain_text(f"Saved: {name}, Employee (non-exempt, hourly), $21.75/h")
    today_panel = page.locator("section[aria-labelledby=current-heading]")
    expect(today_panel).to_contain_text("$21.75/h")

    # Back after a coffee: closing a period asks who is at the keyboard first.
    age_session(context, live_server, minutes=10)
    page.goto("/hr/periods")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay periods")
    heading = page.locator("#next-heading")
    expect(heading).to_contain_text("Next to close:")
    last_day = live_server.today - timedelta(days=1)
    expect(heading).to_contain_text(f"{last_day:%b} {last_day.day}, {last_day.year}")
    page.get_by_role("button", name="Close this period").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    expect(_alert(page)).to_contain_text("confirm it's you before you close a pay period")
    assert browse.confirm_identity_if_asked(page)
    expect(page).to_have_url(live_server.url + "/hr/periods")  # back, nothing closed yet
    page.get_by_role("button", name="Close this period").click()

    expect(_alert(page)).to_contain_text("Closed the period")
    expect(_alert(page)).to_contain_text("Statements are frozen")
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/hr/periods/\d+$"))
    expect(page.locator("main")).to_contain_text(name)


def _download_first_csv(page) -> tuple[list[str], list[list[str]]]:
    """Click the first table's "Download CSV"; return the page's column headers and the file."""
    section = page.locator("main section").first
    headers = [h.strip() for h in section.locator("thead th").all_inner_texts()]
    with page.expect_download() as info:
        section.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    with open(download.path(), newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    return headers, rows


def test_leader_reads_the_dashboard_and_downloads_a_table(sign_in, page):
    """A leader sees their organisation's figures and downloads one table as CSV."""
    sign_in(page, "leader")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("main")).to_contain_text("Your organisation's programme and workforce")
    expect(page.locator("table.data").first).to_be_visible()
    headers, rows = _download_first_csv(page)
    assert rows and rows[0] == headers, (rows[:1], headers)
    assert len(rows) > 1


def test_funder_reads_the_dashboard_and_downloads_a_table(sign_in, page):
    """A funder sees every provider side by side and downloads one table as CSV."""
    sign_in(page, "funder")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("main")).to_contain_text("Every provider organisation side by side")
    headers, rows = _download_first_csv(page)
    assert rows and rows[0] == headers, (rows[:1], headers)
    body = "\n".join(",".join(r) for r in rows[1:])
    assert "Riverbend Peace Alliance (demo)" in body or "Dutchtown" in body, body[:500]


def test_counsellor_acknowledges_a_support_request(sign_in, page, browse, live_server):
    """A worker asks for support; a counsellor finds it in the queue and acknowledges it."""
    email, name = live_server.facts["colleagues"][3]
    sign_in(page, email)
    page.goto("/support/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for support")
    page.get_by_role("group", name="What would help?").get_by_label("Peer support").check()
    page.get_by_role("group", name="How soon?").get_by_label("In the next few days").check()
    page.get_by_role("group", name="How should someone contact you?").get_by_label(
        "Text message"
    ).check()
    page.get_by_label("When is a good time?").fill("weekday mornings")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".badge").first).to_have_text("Waiting for a counsellor")
    request_path = browse.path(page)
    with page.expect_navigation():  # sign out on the server (clearing cookies races a response)
        page.get_by_role("button", name="Sign out").click()

    sign_in(page, "counselor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Support queue")
    card = page.locator("li.card", has_text=f"Peer support: {name}")
    expect(card).to_contain_text("Waiting for a counsellor")
    card.get_by_role("link").click()
    expect(page).to_have_url(live_server.url + request_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Peer support")
    expect(page.locator("dl.details")).to_contain_text("weekday mornings")
    page.get_by_role("button", name="Acknowledge").click()

    expect(page.locator(".badge").first).to_have_text("A counsellor has it")
    expect(page.locator("dl.details")).to_contain_text("Mara Quinlan")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)


def test_an_urgent_request_at_night_asks_for_nothing_more(sign_in, page, browse, live_server):
    """Today, as soon as possible: the form hides what does not apply (the day off, a good time),
    shows the number field for a call, and the counsellor sees that number on the request."""
    email, name = live_server.facts["colleagues"][5]
    sign_in(page, email)
    page.goto("/support/new")
    day_off = page.get_by_label("Day off (for a wellness day)")
    good_time = page.get_by_label("When is a good time?")
    number = page.get_by_label("Your number for a call or a text")
    expect(day_off).to_be_hidden()
    kinds = page.get_by_role("group", name="What would help?")
    kinds.get_by_label("A paid wellness day").check()
    expect(day_off).to_be_visible()
    kinds.get_by_label("A talk after an incident").check()
    expect(day_off).to_be_hidden()
    expect(good_time).to_be_visible()
    page.get_by_role("group", name="How soon?").get_by_label("Today, as soon as possible").check()
    expect(good_time).to_be_hidden()
    expect(number).to_be_hidden()
    page.get_by_role("group", name="How should someone contact you?").get_by_label(
        "Phone call"
    ).check()
    expect(number).to_be_visible()
    number.fill("314 555 0177")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".badge").first).to_have_text("Waiting for a counsellor")
    expect(page.locator("#next-heading + p")).to_contain_text(
        re.compile(r"by phone, (today, by|by \d\d:\d\d tomorrow)")
    )
    request_path = browse.path(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()

    sign_in(page, "counselor")
    page.goto("/support/queue")
    card = page.locator(f'li.card:has(a[href="{request_path}"])')
    expect(card).to_contain_text(f"A talk after an incident: {name}")
    expect(card).to_contain_text("Contact promised")
    expect(card).not_to_contain_text("555-0177")  # the queue never shows the number
    page.goto(request_path)
    expect(page.locator("dl.details")).to_contain_text("(314) 555-0177")


def test_supervisor_publishes_an_on_call_period_and_the_worker_sees_it(sign_in, page, live_server):
    """A supervisor puts a colleague on call two weeks ahead (no seeded rota there), publishes
    the week, and the colleague finds the period under On call. (A refused period answers 422,
    which the browser logs as a console error: tests/test_oncall.py covers those.)"""
    email, name = live_server.facts["colleagues"][4]
    sign_in(page, "supervisor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="On-call rota").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("On-call rota")
    page.get_by_role("link", name="Next week →").click()
    page.get_by_role("link", name="Next week →").click()
    sunday = live_server.today - timedelta(days=(live_server.today.weekday() + 1) % 7)
    friday = sunday + timedelta(days=14 + 5)  # the Friday of the week shown
    page.get_by_label("Worker").select_option(label=name)
    page.locator("#start_day").fill(friday.isoformat())
    page.locator("#start_time").fill("18:00")
    page.locator("#end_day").fill((friday + timedelta(days=1)).isoformat())
    page.locator("#end_time").fill("06:00")
    page.get_by_role("button", name="Add to the rota").click()
    expect(_alert(page)).to_contain_text(f"Added {name}")
    page.get_by_role("button", name=re.compile(r"Publish the week")).click()
    expect(_alert(page)).to_contain_text("Published 1 period")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="On call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("On call")
    expect(page.get_by_text(f"{friday:%a %b %-d} 18:00")).to_be_visible()


def test_hr_records_a_training_session_and_the_worker_sees_it(sign_in, page):
    """HR records a session the demo worker attended; the worker finds it on /training, paid."""
    # 04:00 today (yesterday before 06:00): in the open or the last unclosed period, and at an
    # hour no other journey or seeded shift of the worker's reaches
    now = datetime.now(ZONE)
    start = (now if now.hour >= 6 else now - timedelta(days=1)).replace(
        hour=4, minute=0, second=0, microsecond=0
    )
    end = start + timedelta(hours=1)
    sign_in(page, "hr")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Training").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Training")
    page.get_by_role("link", name="Record a session").first.click()
    page.get_by_label("Course").select_option(label="First aid / Stop the Bleed")
    page.get_by_label("Site").select_option(label="Dutchtown")
    page.get_by_label("Date").fill(start.date().isoformat())
    page.get_by_label("Start").fill(start.strftime("%H:%M"))
    page.get_by_label("End", exact=True).fill(end.strftime("%H:%M"))
    page.get_by_label("Trainer").fill("Browser-test trainer")
    page.get_by_role("checkbox", name=re.compile(r"Jordan Avery")).check()
    page.get_by_role("button", name="Record session").click()
    expect(_alert(page)).to_contain_text("Recorded 1 attendee")
    expect(page.get_by_role("heading", level=1)).to_contain_text("First aid / Stop the Bleed")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "worker")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My training").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My training")
    history = page.locator("section", has=page.get_by_role("heading", name="Sessions I attended"))
    expect(history).to_contain_text("Browser-test trainer")
    expect(history).to_contain_text("Approved, paid with the next close")


PHONE = {"width": 360, "height": 780}


def test_safety_worker_starts_a_check_in_on_a_phone_and_says_they_are_safe(sign_in, page):
    """On a phone: a check-in for 30 minutes, the countdown, more time, then "I'm safe"."""
    page.set_viewport_size(PHONE)
    sign_in(page, "worker")  # the demo worker, who set codes (safe code 2468)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Safety").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Safety check-in")
    page.get_by_label("Where are you going?").fill("Corner of Gravois and Chippewa (browser test)")
    page.get_by_role("group", name="Back in").get_by_label("30 min").check()
    page.get_by_role("button", name="Start check-in").click()
    expect(_alert(page)).to_contain_text("Check-in started.")
    expect(page.locator(".safety-left")).to_contain_text(re.compile(r"(29|30) min left"))
    page.get_by_role("button", name="+15 min").click()
    expect(_alert(page)).to_contain_text("More time: now due back at")
    expect(page.locator(".safety-left")).to_contain_text(re.compile(r"(44|45) min left"))
    page.get_by_label("Your safe code").fill("2468")
    page.get_by_role("button", name="I'm safe").click()
    expect(_alert(page)).to_contain_text("Good to hear you're safe. Your check-in has ended.")
    card = page.locator("li.card", has_text="Corner of Gravois and Chippewa (browser test)")
    expect(card).to_contain_text("Safe at")


def test_safety_sos_on_a_phone_reaches_the_supervisor_who_closes_it(sign_in, page, live_server):
    """A colleague presses SOS (one tap, then confirm); the site's supervisor sees the alarm,
    who was alerted, and closes it with a note."""
    email, name = live_server.facts["colleagues"][6]
    page.set_viewport_size(PHONE)
    sign_in(page, email)
    page.goto("/safety")
    page.get_by_label("Where are you going?").fill("Meramec St vigil (browser test)")
    page.get_by_role("button", name="Start check-in").click()
    page.get_by_role("link", name="SOS").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send SOS?")
    page.get_by_role("button", name="Send SOS now").click()
    expect(page.locator(".flashes")).to_contain_text("SOS sent.")
    expect(page.get_by_role("heading", level=2).first).to_have_text("SOS sent")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()

    sign_in(page, "supervisor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Safety alarms").click()
    page.get_by_role("link", name=re.compile(f"{name}: SOS")).click()
    expect(page.locator("dl.facts")).to_contain_text("Meramec St vigil (browser test)")
    expect(page.locator("#steps-heading + p")).to_contain_text("Step 1 of 3 (Supervisor on duty)")
    page.get_by_label("How was the worker reached?").fill("Reached by phone, safe (browser test).")
    page.get_by_role("button", name="Close the alarm").click()
    expect(_alert(page)).to_contain_text(f"Alarm closed: {name}.")
