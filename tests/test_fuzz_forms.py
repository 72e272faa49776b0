"""Hypothesis-generated form posts to every POST route: never a 5xx, every refusal readable.

Every POST rule of app.url_map is declared in POST_ROUTES with the roles that may use it and one
that may not, so a new POST route fails the suite until it is given a row here. For each
(route, role) the records its URL names are real and fresh for every example (a shift, an
exposure, a booking... of the world's people), the form's field names and options are read from
the page that shows the form, as a browser would, and hypothesis fills them with a mix of
valid-looking values, blanks, 10,000-character strings, control and other Unicode characters,
numbers at and past the bounds of the database's integers, values of the wrong type, bytes that
are not UTF-8, repeated keys and keys the form does not have.

A refused form must come back as a 4xx (or a 200 re-render) that says what is wrong (SPEC §6:
errors in role="alert"); a 5xx, or an exception escaping the view, fails the test with the
input that caused it.

Examples per case: FUZZ_EXAMPLES (default 6), derandomized so CI is repeatable; set
FUZZ_RANDOM=1 (and a larger FUZZ_EXAMPLES) to explore, FUZZ_SHRINK=1 to shrink a failure.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from portal.api import service as api_service
from portal.auth.service import INVITE, make_password_token
from portal.extensions import db, limiter
from portal.models import (
    AvailabilityRule,
    Booking,
    CheckIn,
    CounselingSlot,
    Exposure,
    OnCallPeriod,
    OnCallSwap,
    Organisation,
    PayDifferential,
    SafetyCheckin,
    Site,
    SupportRequest,
    TimeOff,
    TrainingAttendance,
    TrainingCourse,
    TrainingRequirement,
    TrainingSession,
    User,
)
from tests.conftest import AuthActions
from tests.factories import (
    TOTP_SECRET,
    email_for,
    make_rate,
    make_shift,
    make_user,
    recent_start,
    totp_code,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("FUZZ_RANDOM", "") not in ("", "0")
# A failing example is reported as found (each is a request against a database: shrinking one
# takes minutes); FUZZ_SHRINK=1 shrinks it to the smallest.
PHASES = tuple(Phase) if os.environ.get("FUZZ_SHRINK", "") == "1" else (Phase.generate,)

ANON, PENDING = "anonymous", "pending"  # pending: a counsellor between password and code
W, S, C, HR, L, F, A = "worker", "supervisor", "counselor", "hr", "leader", "funder", "admin"


@dataclass(frozen=True)
class Route:
    """Who may post (``roles``), who may not (``refused``), and the page showing the form.

    ``page`` is a URL template over the record kinds of ``make_records`` (default: the POST
    URL itself, for a GET-and-POST route); ``fresh_session`` signs in again before every
    example, for routes that end or replace the session.
    """

    roles: tuple[str, ...]
    refused: tuple[str, ...] = ()
    page: str | None = None
    fresh_session: bool = False
    ids: dict = field(default_factory=dict)  # URL argument -> record kind, where not the default


POST_ROUTES: dict[str, Route] = {
    "admin.add_organisation_site": Route((A,), (L,), "/admin/organisations/{organisation}"),
    "admin.close_site": Route((A,), (S,), "/admin/organisations/{organisation}"),
    "admin.deactivate_user": Route((A,), (HR,), "/admin/users/{user}"),
    "admin.edit_organisation": Route((A,), (HR,)),
    "admin.edit_site": Route((A,), (C,)),
    "admin.edit_user": Route((A,), (HR,)),
    "admin.issue_token": Route((A,), (L,), "/admin/users/{leader}/tokens",
                               ids={"user_id": "leader"}),
    "admin.new_organisation": Route((A,), (F,)),
    "admin.new_user": Route((A,), (W,)),
    "admin.reopen_site": Route((A,), (W,), "/admin/organisations/{organisation}"),
    "admin.reactivate_user": Route((A,), (S,), "/admin/users/{inactive}",
                                   ids={"user_id": "inactive"}),
    "admin.revoke_token": Route((A,), (L,), "/admin/users/{leader}/tokens",
                                ids={"user_id": "leader"}),
    "admin.reset_two_factor": Route((A,), (HR,), "/admin/users/{user}"),
    "admin.send_link": Route((A,), (C,), "/admin/users/{user}"),
    # Anyone may ask for a link, sign in or sign out: there is no role that may not.
    "auth.forgot_password": Route((ANON, W)),
    "auth.login": Route((ANON, W), fresh_session=True),
    "auth.logout": Route((W, C), (ANON,), "/", fresh_session=True),
    "auth.reauth": Route((W, HR), (ANON,), fresh_session=True),
    "auth.recovery_codes": Route((C,), (W,), "/account"),
    "auth.set_password": Route((ANON,), (W,), fresh_session=True),
    "auth.sign_out_everywhere": Route((W,), (ANON,), "/account", fresh_session=True),
    "auth.two_factor": Route((PENDING,), (ANON,), fresh_session=True),
    # The worker has two-factor on here (optional for workers); a counsellor may not turn it off.
    "auth.two_factor_disable": Route((W,), (C, ANON), "/account", fresh_session=True),
    "auth.two_factor_setup": Route((W,), (ANON,)),
    "benchmarks.import_csv": Route((HR,), (W,)),
    "counseling.add_rule": Route((C,), (W,), "/counseling/availability"),
    "counseling.add_slot": Route((C,), (W,), "/counseling/availability"),
    "counseling.add_time_off": Route((C,), (W,), "/counseling/availability"),
    "counseling.book": Route((W,), (C,), "/counseling"),
    "counseling.book_for_request": Route((C,), (W,)),
    "counseling.cancel": Route((W,), (C,), "/bookings/{booking}"),
    "counseling.cancel_session": Route((C,), (W,), "/counseling/sessions"),
    "counseling.complete_session": Route((C,), (W,), "/counseling/sessions",
                                         ids={"booking_id": "past_booking"}),
    "counseling.delete_booking": Route((W,), (C,), "/bookings/{cancelled_booking}",
                                       ids={"booking_id": "cancelled_booking"}),
    "counseling.missed_session": Route((C,), (W,), "/counseling/sessions",
                                       ids={"booking_id": "past_booking"}),
    "counseling.remove_rule": Route((C,), (W,), "/counseling/availability"),
    "counseling.remove_time_off": Route((C,), (W,), "/counseling/availability"),
    "counseling.reschedule": Route((W,), (C,)),
    "counseling.withdraw_slot": Route((C,), (W,), "/counseling/availability"),
    "hr.add_differential": Route((HR,), (S,), "/hr/policy"),
    "hr.close_period": Route((HR,), (L,), "/hr/periods"),
    "hr.job_title": Route((HR,), (A,), "/hr/workers/{user}"),
    "hr.policy": Route((HR,), (W,)),
    "hr.remove_differential": Route((HR,), (A,), "/hr/policy"),
    "hr.save_standard": Route((HR,), (F,), "/hr/fair-pay/standards", ids={"role": "standard"}),
    "hr.save_stipends": Route((HR,), (S,), "/hr/policy"),
    "hr.save_on_call": Route((HR,), (S,), "/hr/policy"),
    # On call: the worker's published period (swap form), swaps asked of them, asked by them,
    # and accepted ones waiting for the supervisor; the rota of their home site.
    "oncall.ask_swap": Route((W,), (S,), "/oncall/periods/{on_call}"),
    "oncall.accept_swap": Route((W,), (S,), "/oncall", ids={"swap_id": "swap_to_me"}),
    "oncall.decline_swap": Route((W,), (S,), "/oncall", ids={"swap_id": "swap_to_me"}),
    "oncall.withdraw_swap": Route((W,), (S,), "/oncall", ids={"swap_id": "swap_mine"}),
    "oncall.approve_swap": Route((S,), (W,), "/oncall/rota", ids={"swap_id": "swap_accepted"}),
    "oncall.refuse_swap": Route((S,), (W,), "/oncall/rota", ids={"swap_id": "swap_accepted"}),
    "oncall.add_period": Route((S,), (W,), "/oncall/rota", ids={"site_id": "home_site"}),
    "oncall.remove_period": Route((S,), (W,), "/oncall/rota", ids={"on_call_id": "on_call_draft"}),
    # Cancel before the start, end now while under way: the form is on the period's page.
    "oncall.cancel_period": Route((S,), (W,), "/oncall/periods/{on_call}"),
    "oncall.end_period": Route((S,), (W,), "/oncall/periods/{on_call_now}",
                               ids={"on_call_id": "on_call_now"}),  # fmt: skip
    "oncall.publish": Route((S,), (W,), "/oncall/rota", ids={"site_id": "home_site"}),
    "hr.shift_pay": Route((HR,), (W,)),
    # Training: a course with a requirement, a past session the worker attended (paid shift).
    "training.add_course": Route((HR,), (W,), "/hr/training"),
    "training.course": Route((HR,), (W,)),
    "training.add_requirement": Route((HR,), (L,), "/hr/training/courses/{course}"),
    "training.remove_requirement": Route((HR,), (W,), "/hr/training/courses/{course}"),
    "training.new_session": Route((HR,), (S,)),
    "training.session": Route((HR,), (W,)),
    "training.remove_attendance": Route((HR,), (W,), "/hr/training/sessions/{training_session}"),
    "hr.release_shift": Route((HR,), (W,), "/hr/shifts/{shift}"),
    "hr.whatif": Route((HR,), (L,), "/hr/fair-pay/what-if?scenario=floor&floor=20.00"),
    "hr.worker": Route((HR,), (S,)),
    # Safety: the worker's running check-in (the newest, so /safety shows its forms), and an
    # open alarm of a colleague at the supervisor's site.
    "safety.index": Route((W,), (S,)),
    "safety.settings": Route((W,), (C,)),
    "safety.sos": Route((W,), (S,)),
    "safety.safe": Route((W,), (S,), "/safety"),
    "safety.extend": Route((W,), (S,), "/safety"),
    "safety.position": Route((W,), (S,), "/safety"),
    "safety.alarm": Route((S,), (W,), ids={"safety_checkin_id": "safety_alarm"}),
    "shifts.approve": Route((S,), (W,), "/shifts/{shift}"),
    "shifts.approve_many": Route((S,), (W,), "/shifts/review"),
    "shifts.delete": Route((W,), (S,), "/shifts/{shift}"),
    "shifts.edit": Route((W,), (S,)),
    "shifts.new": Route((W,), (HR,)),
    "shifts.return_": Route((S,), (W,), "/shifts/{shift}"),
    "wellbeing.checkin_delete": Route((W,), (C,), "/checkins/{checkin}"),
    "wellbeing.checkin_new": Route((W,), (C,)),
    "wellbeing.checkin_reminders": Route((W,), (HR,), "/checkins"),
    "wellbeing.exposure_delete": Route((W,), (C,), "/exposures/{exposure}"),
    "wellbeing.exposure_new": Route((W,), (S,)),
    "wellbeing.exposure_offer_accept": Route((W,), (C,), "/exposures/{exposure}"),
    "wellbeing.exposure_offer_decline": Route((W,), (C,), "/exposures/{exposure}"),
    "wellbeing.support_acknowledge": Route((C,), (W,), "/support/{request}"),
    "wellbeing.support_cancel": Route((W,), (C,), "/support/{request}"),
    "wellbeing.support_close": Route((C,), (W,), "/support/{request}"),
    "wellbeing.support_new": Route((W,), (S,)),
    "wellbeing.support_note": Route((C,), (W,), "/support/{request}"),
    "wellbeing.support_phone": Route((W, C), (S,)),
    "wellbeing.support_schedule": Route((C,), (W,), "/support/{acknowledged_request}",
                                        ids={"request_id": "acknowledged_request"}),
}  # fmt: skip

# URL argument -> the record kind it names (as in tests/test_record_isolation.py).
KINDS = {
    "shift_id": "shift", "exposure_id": "exposure", "checkin_id": "checkin",
    "request_id": "request", "rule_id": "rule", "slot_id": "slot", "booking_id": "booking",
    "differential_id": "differential", "user_id": "user", "token_id": "token",
    "token": "password_link", "time_off_id": "time_off", "organisation_id": "organisation",
    "site_id": "site", "on_call_id": "on_call", "swap_id": "swap_mine",
    "course_id": "course", "requirement_id": "requirement", "session_id": "training_session",
    "attendance_id": "attendance", "safety_checkin_id": "safety_checkin",
}  # fmt: skip
_SERIAL = itertools.count(1)


def post_rules(app) -> dict[str, object]:
    """endpoint -> its URL rule, for every rule that takes a POST."""
    return {r.endpoint: r for r in app.url_map.iter_rules() if "POST" in r.methods}


def test_every_post_route_is_fuzzed(app):
    assert set(post_rules(app)) == set(POST_ROUTES), "declare each POST route in POST_ROUTES"


# ---------------------------------------------------------------------------------------------
# Records: fresh for every example, so an example that deletes or cancels one leaves the next
# example something to work on.


def make_records(world) -> dict:
    """One record of every kind a POST URL names, owned by the world's worker (or counsellor),
    plus a fresh worker account for the HR and admin pages; ids by kind."""
    n = next(_SERIAL)
    u, org, site = world["user"], world["org"]["a"], world["site"]["a1"]
    worker, counselor = u["worker"], u["counselor"]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = recent_start(1 + n % 20, "09:00")
    person = make_user(f"Fuzz Person {n}", f"fuzz{n}@a.example.org", {"worker"}, org, site)
    make_rate(person.id, "15.00")
    inactive = make_user(f"Fuzz Gone {n}", f"gone{n}@a.example.org", {"worker"}, org, site,
                         active=False)  # fmt: skip
    records = {
        "shift": make_shift(worker, start, note="fuzz"),
        "user": person.id,
        "inactive": inactive.id,
        "leader": u["leader"],
        "standard": ["floor", "target"],
    }

    def slot(days: float, hours: int = 1) -> CounselingSlot:
        at = now + timedelta(days=days)
        row = CounselingSlot(counselor_id=counselor, organisation_id=org, start_at=at,
                             end_at=at + timedelta(hours=hours), mode="phone")  # fmt: skip
        db.session.add(row)
        db.session.flush()
        return row

    rows = {
        "exposure": Exposure(worker_id=worker, organisation_id=org, occurred_at=start,
                             category="witnessed_violence", severity=4, offer_status="offered"),
        "checkin": CheckIn(worker_id=worker, organisation_id=org, item1=1, item2=1, item3=1,
                           item4=1, item5=1, score=20, share_with_counsellors=True),
        "request": SupportRequest(worker_id=worker, organisation_id=org, kind="peer_support"),
        "acknowledged_request": SupportRequest(worker_id=worker, organisation_id=org,
                                               kind="counselling_session", counselor_id=counselor,
                                               status="acknowledged", acknowledged_at=now),
        "rule": AvailabilityRule(counselor_id=counselor, organisation_id=org, weekday=n % 7,
                                 start_time=time(9), end_time=time(12), slot_minutes=60,
                                 mode="phone", valid_from=start.date()),
        "differential": PayDifferential(organisation_id=org, name="Nights", start_time=time(22),
                                        end_time=time(6), per_hour=Decimal("1.50")),
        "time_off": TimeOff(counselor_id=counselor, start_at=now + timedelta(days=30 + n),
                            end_at=now + timedelta(days=30 + n, hours=2)),
    }  # fmt: skip
    db.session.add_all(rows.values())
    db.session.flush()
    records.update({kind: row.id for kind, row in rows.items()})
    provider = Organisation(name=f"Fuzz Provider {n}", kind="provider")
    db.session.add(provider)
    db.session.flush()
    place = Site(organisation_id=provider.id, name=f"Fuzz Site {n}")
    db.session.add(place)
    db.session.flush()
    records["organisation"], records["site"] = provider.id, place.id
    records["home_site"] = site
    w2 = u["worker2"]

    def on_call(owner: int, days: int, status: str = "published") -> int:
        at = now + timedelta(days=days, hours=n % 24)
        row = OnCallPeriod(organisation_id=org, site_id=site, worker_id=owner, start_at=at,
                           end_at=at + timedelta(hours=6), status=status)  # fmt: skip
        db.session.add(row)
        db.session.flush()
        return row.id

    def swap(period: int, frm: int, to: int, status: str) -> int:
        row = OnCallSwap(organisation_id=org, period_id=period, from_worker_id=frm,
                         to_worker_id=to, status=status)  # fmt: skip
        db.session.add(row)
        db.session.flush()
        return row.id

    base = 10 + 7 * n  # a day of its own per example and kind: never an overlap
    records["on_call"] = on_call(worker, base)
    records["on_call_draft"] = on_call(w2, base + 1, "draft")
    records["swap_to_me"] = swap(on_call(w2, base + 2), w2, worker, "asked")
    records["swap_mine"] = swap(on_call(worker, base + 3), worker, w2, "asked")
    records["swap_accepted"] = swap(on_call(w2, base + 4), w2, worker, "accepted")
    under_way = OnCallPeriod(organisation_id=org, site_id=site, worker_id=w2,
                             start_at=now - timedelta(hours=2, minutes=n % 60),
                             end_at=now + timedelta(hours=4), status="published")  # fmt: skip
    db.session.add(under_way)
    db.session.flush()
    records["on_call_now"] = under_way.id
    course = TrainingCourse(organisation_id=org, name=f"Fuzz course {n}", hours=Decimal("8"),
                            renewal_months=12)  # fmt: skip
    db.session.add(course)
    db.session.flush()
    requirement = TrainingRequirement(course_id=course.id, job_title="")
    taught = (now - timedelta(days=30, minutes=5 * n)).replace(hour=5)  # before any other shift
    training = TrainingSession(organisation_id=org, course_id=course.id, site_id=site,
                               start_at=taught, end_at=taught + timedelta(hours=1),
                               trainer="Fuzz trainer")  # fmt: skip
    db.session.add_all([requirement, training])
    db.session.flush()
    attended = make_shift(worker, taught, hours=1, status="approved", shift_type="training")
    attendance = TrainingAttendance(session_id=training.id, worker_id=worker, shift_id=attended)
    db.session.add(attendance)
    db.session.flush()
    records.update(course=course.id, requirement=requirement.id, training_session=training.id,
                   attendance=attendance.id)  # fmt: skip
    records["slot"] = slot(3 + n / 1000).id
    slot(5 + n / 1000)  # another open time, for rescheduling
    for kind, days, status in [("booking", 4, "booked"), ("past_booking", -2, "booked"),
                               ("cancelled_booking", 6, "cancelled")]:  # fmt: skip
        booked = slot(days + n / 1000)
        booking = Booking(slot_id=booked.id, worker_id=worker, organisation_id=org,
                          active_slot_id=booked.id if status == "booked" else None,
                          status=status)  # fmt: skip
        db.session.add(booking)
        db.session.flush()
        records[kind] = booking.id
    leader = db.session.get(User, u["leader"])
    admin = db.session.get(User, u["admin"])
    records["token"] = api_service.issue(leader, f"Fuzz {n}", issued_by=admin)[0].id
    records["password_link"] = make_password_token(person, INVITE)
    for kind, owner, fields in (
        ("safety_checkin", worker, {"status": "active"}),
        ("safety_alarm", w2, {"status": "alarm", "alarm_kind": "sos", "alarm_at": now}),
    ):
        checkin = SafetyCheckin(organisation_id=org, worker_id=owner, site_id=site,
                                place=f"Fuzz place {n}", started_at=now + timedelta(seconds=n),
                                due_at=now + timedelta(seconds=n, minutes=30),
                                **fields)  # fmt: skip
        db.session.add(checkin)
        db.session.flush()
        records[kind] = checkin.id
    return records


def turn_on_two_factor(user_id: int) -> None:
    """Two-factor on for an account whose roles do not require it (it may turn it off)."""
    user = db.session.get(User, user_id)
    user.totp_secret = TOTP_SECRET
    user.totp_enabled_at = datetime(2026, 1, 1, tzinfo=UTC)
    user.totp_last_step = None


def post_url(endpoint: str, rule, records: dict, choose) -> str:
    url = rule.rule
    for arg in rule.arguments:
        kind = POST_ROUTES[endpoint].ids.get(arg) or KINDS[arg]
        value = records[kind]
        if isinstance(value, list):  # one of several values (hr.save_standard's role)
            value = choose(value)
        url = re.sub(rf"<(?:\w+:)?{arg}>", str(value), url)
    return url


def page_url(endpoint: str, rule, url: str, records: dict) -> str | None:
    page = POST_ROUTES[endpoint].page
    if page is None:
        return url if "GET" in rule.methods else None
    return page.format(**records)


# ---------------------------------------------------------------------------------------------
# The form as a browser sees it.


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    values: list[str] = field(default_factory=list)  # options, radio/checkbox values, value=
    attrs: dict = field(default_factory=dict)


class FormParser(HTMLParser):
    """The fields of every POST form of a page, by the path the form posts to."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = urlsplit(page).path  # where a form without an action posts
        self.forms: dict[str, dict[str, Field]] = {}
        self._form: dict[str, Field] | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            action = urlsplit(a.get("action", "")).path or self.page
            self._form = self.forms.setdefault(action, {})
        elif self._form is None:
            return
        elif tag in ("input", "select", "textarea", "button") and a.get("name"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            if kind in ("submit", "button", "reset", "image"):
                return
            f = self._form.setdefault(a["name"], Field(a["name"], kind, attrs=a))
            if tag == "input" and "value" in a:
                f.values.append(a["value"])
            if tag == "select":
                self._select = f
        elif tag == "option" and self._select is not None:
            self._select.values.append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def form_fields(client, page: str | None, action: str) -> list[Field]:
    """The fields of the form on ``page`` that posts to ``action`` (none if it is not there)."""
    if page is None:
        return []
    response = client.get(page)
    parser = FormParser(page)
    parser.feed(response.get_data(as_text=True))
    return list(parser.forms.get(urlsplit(action).path, {}).values())


# ---------------------------------------------------------------------------------------------
# Values.

TODAY = date.today()
BIG = 10_000


class Repeated(str):
    """A long string that prints short in a failing example: 'x' * 10000."""

    def __new__(cls, unit: str, times: int):
        text = super().__new__(cls, unit * times)
        text.shown = f"{unit!r} * {times}"
        return text

    def __repr__(self) -> str:
        return self.shown


HUGE = st.sampled_from([Repeated(u, BIG // len(u)) for u in ["x", "é", "9", "\x00", "<b>", "a\n",
                                                              "😀"]])  # fmt: skip
WEIRD = st.sampled_from([
    "", " ", "\t", "\x00", "a\x00b", "\r\n", "\u202e\u200b", "\ufeff1", "%00", "💥",
    "<script>alert(1)</script>", "' OR 1=1 --", "{{7*7}}", "%s%n", "../../etc/passwd",
    "None", "null", "undefined", "true", "[]", "{}", "on", "off",
])  # fmt: skip
NUMBERS = st.one_of(
    st.sampled_from([
        "0", "-0", "-1", "1", "5", "59", "60", "240", "241", "10000", "10001", "2147483647",
        "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "1e309", "-1e309", "1e-400", "NaN", "-inf", "Infinity",
        "1.5", "0.001", "18,50", "1,234.50", "$18.50", "1_000", "0x10", "٣", "²", "１２",
        "9" * 40, "1" + "0" * 400,
    ]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str),
)  # fmt: skip
DATES = st.one_of(
    st.integers(min_value=-800, max_value=800).map(lambda d: (TODAY + timedelta(days=d))),
    st.dates(),
).map(date.isoformat) | st.sampled_from([
    "2026-02-30", "2026-13-01", "0000-01-01", "0001-01-01", "9999-12-31", "2026-1-5",
    "26/11/2026", "2026-11-26T10:00", "20261126", "2026-11-26\x00",
])  # fmt: skip
TIMES = st.times().map(lambda t: t.strftime("%H:%M")) | st.sampled_from(
    ["00:00", "23:59", "24:00", "23:60", "9:5", "25:00", "12:00:00", "12:00 PM", "-1:00"]
)
EMAILS = (
    st.sampled_from([email_for(k, o) for k, o in [(W, "a"), (A, "a"), (C, "a"), ("nobody", "a")]])
    | st.emails()
)
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)  # any character but surrogates
NOT_UTF8 = st.sampled_from([b"\xff", b"\xc3\x28", b"abc\x80", b"\xed\xa0\x80"])
# Every field at once: digits Python reads as a number but int() refuses, an id past any
# integer column, more digits than int() converts, a NUL (refused by PostgreSQL text).
EDGES = ["²", "9" * 30, Repeated("9", BIG), "a\x00b"]
CSV_HEADER = "name,source,source_date,region,kind,household,occupation,hourly_usd\n"


ADVERSARIAL = st.one_of(WEIRD, HUGE, TEXT, NUMBERS, DATES, TIMES, NOT_UTF8)
PLAIN = st.text(st.characters(min_codepoint=32, max_codepoint=0x24F), min_size=1, max_size=40)
PASSWORDS = ["correct horse battery", "a much longer new passphrase 2026"]
CSV_FILES = [CSV_HEADER, CSV_HEADER + "Floor,MO,2026-01-01,MO,legal_floor,,,15.00\n", "not,a\ncsv"]


@dataclass(frozen=True)
class Pick:
    """One of the field's options (radio, checkbox, select, hidden value), or of the codes an
    authenticator would show: chosen when the request is made, from the page as it is then."""

    index: int


def category(f: Field) -> str:
    """What kind of value a browser sends in this field."""
    name, kind = f.name.lower(), f.kind
    if kind in ("select", "radio", "checkbox", "hidden") and f.values:
        return "choice"
    if name.endswith("code") and kind != "hidden":
        return "code"
    if kind == "date" or re.search(r"(day|date|_on|from|until|period_start)$", name):
        return "date"
    if kind == "time" or name.endswith(("time", "clock")):
        return "time"
    if kind == "email" or "email" in name:
        return "email"
    if kind == "number" or f.attrs.get("inputmode") in ("numeric", "decimal"):
        return "number"
    if kind in ("password", "file"):
        return kind
    return "text"


PICK = st.integers(0, 2**16).map(Pick)
VALID = {
    "choice": PICK, "code": PICK, "date": DATES, "time": TIMES, "email": EMAILS,
    "number": NUMBERS, "password": st.sampled_from(PASSWORDS),
    "file": st.sampled_from(CSV_FILES), "text": PLAIN,
}  # fmt: skip
EXTRA_KEYS = st.sampled_from(["id", "user_id", "roles", "status", "csrf_token"]) | TEXT


@st.composite
def form_body(draw, categories: tuple[str, ...]) -> list[tuple[int | str, object]]:
    """(field number, value) pairs: each field once, left out, or twice, with a valid-looking
    value (two chances in three) or an adversarial one; then maybe a key the form lacks.

    The shape of the draws depends on the form's categories only, which are read once per
    test: hypothesis needs the same draws to make the same example, while the page (names with
    record ids, options) changes from one example to the next.
    """
    plan: list[tuple[int | str, object]] = []
    for i, cat in enumerate(categories):
        value = st.one_of(VALID[cat], VALID[cat], ADVERSARIAL)
        plan.extend((i, draw(value)) for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2]))))
    plan.extend(draw(st.lists(st.tuples(EXTRA_KEYS, ADVERSARIAL), max_size=2)))
    return plan


def resolve(plan, fields: list[Field]) -> list[tuple[str, str | bytes]]:
    """The plan's values for the fields as the page shows them now."""
    pairs = []
    for key, value in plan:
        if isinstance(key, str):
            pairs.append((key, value))
            continue
        f = fields[key]
        if isinstance(value, Pick) and category(f) == "code":
            codes = [totp_code(), totp_code(steps_ahead=-1), "000000", "1a2b-3c4d"]
            value = codes[value.index % len(codes)]
        elif isinstance(value, Pick):
            value = f.values[value.index % len(f.values)] if f.values else ""
        pairs.append((f.name, value))
    return pairs


def shown(pairs) -> str:
    """The pairs for a failure message, long values cut short."""
    return repr([(k, v if len(v) <= 80 else f"{v[:20]!r}... ({len(v)})") for k, v in pairs])


URLENCODED = "application/x-www-form-urlencoded"


def urlencoded(pairs) -> bytes:
    """The body a browser sends; bytes values are sent as they are (possibly not UTF-8)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs).encode()


KEEP = object()
JSON_VALUES = st.one_of(
    st.just(KEEP),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(TEXT, st.integers(), max_size=2),
)


@st.composite
def json_body(draw, pairs) -> object:
    """What Flask-WTF reads when a POST says it is JSON: the form's keys with values of any
    JSON type, or a document that is not an object at all."""
    shape = draw(st.sampled_from(["object", "object", "pairs", "list", "string", "number", "null"]))
    as_text = [(k, v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in pairs]
    if shape == "object":
        typed = [draw(JSON_VALUES) for _ in as_text]
        return {k: v if t is KEEP else t for (k, v), t in zip(as_text, typed, strict=True)}
    return {"pairs": [list(p) for p in as_text], "list": [1], "string": "x", "number": 0,
            "null": None}[shape]  # fmt: skip


def multipart(pairs, file_fields: set[str]) -> MultiDict:
    data = MultiDict()
    for key, value in pairs:
        if key in file_fields or isinstance(value, bytes):
            raw = value if isinstance(value, bytes) else value.encode()
            data.add(key, (io.BytesIO(raw), "figures.csv"))
        else:
            data.add(key, value)
    return data


# ---------------------------------------------------------------------------------------------
# What an answer must be.


class PageText(HTMLParser):
    """The text of role="alert" elements and of the <h1>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.alert, self.h1 = [], []
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "br", "img", "meta", "link", "hr"):
            return
        a = dict(attrs)
        self._stack.append((tag, a.get("role") == "alert"))

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if any(is_alert for _t, is_alert in self._stack):
            self.alert.append(data)
        if any(t == "h1" for t, _a in self._stack):
            self.h1.append(data)


def check_answer(response, request: str = "") -> None:
    """2xx, 3xx or 4xx; a redirect goes somewhere; a refused form (422, or a 200 re-render
    with fields marked invalid) says why in role="alert"; any other 4xx page says something."""
    status = response.status_code
    assert 200 <= status < 500, f"answered {status} {request}"
    if status in (301, 302, 303, 307, 308):
        assert response.headers.get("Location"), "a redirect without a Location"
        return
    if not response.mimetype.startswith("text/html"):
        return
    page = PageText()
    page.feed(response.get_data(as_text=True))
    alert = " ".join("".join(page.alert).split())
    heading = " ".join("".join(page.h1).split())
    marked_invalid = 'aria-invalid="true"' in response.get_data(as_text=True)
    if status == 422 or (status == 200 and marked_invalid):
        assert len(alert) >= 10, f"a refused form ({status}) without a role=alert message {request}"
    elif status >= 400:
        assert len(alert) >= 10 or len(heading) >= 3, f"{status} without a message {request}"


# ---------------------------------------------------------------------------------------------
# The test.


def sign_in(app, role: str):
    """A test client signed in as the world's ``role`` (or anonymous, or half signed in)."""
    client = app.test_client()
    if role == ANON:
        return client
    actions = AuthActions(client)
    if role == PENDING:
        response = actions.login(email_for("counselor"), second_step=False)
        assert response.headers["Location"].endswith("/login/two-factor")
    else:
        actions.as_role(role)
    return client


ENCODINGS = st.sampled_from(["urlencoded", "urlencoded", "urlencoded", "multipart", "json"])
CASES = [(endpoint, role) for endpoint, route in POST_ROUTES.items()
         for role in route.roles + route.refused]  # fmt: skip


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_fuzzed_form_post_never_fails(app, world, endpoint, role):
    route = POST_ROUTES[endpoint]
    rule = post_rules(app)[endpoint]
    allowed = role in route.roles
    if endpoint == "auth.two_factor_disable":
        with app.app_context():
            turn_on_two_factor(world["user"]["worker"])
            db.session.commit()
    clients: dict[str, object] = {}

    def client_for(who: str):
        if who not in clients or route.fresh_session:
            clients[who] = sign_in(app, who)
        return clients[who]

    with app.app_context():
        records = make_records(world)
        db.session.commit()
    first_url = post_url(endpoint, rule, records, lambda values: values[0])
    reader = client_for(route.roles[0])
    # The form's fields as first shown: their number and kinds fix the shape of the draws.
    frozen = form_fields(reader, page_url(endpoint, rule, first_url, records), first_url)
    categories = tuple(category(f) for f in frozen)

    if allowed:  # first every field at once at a few edges, then hypothesis's mixes
        for edge in EDGES:
            with app.app_context():
                limiter.reset()
                records = make_records(world)
                db.session.commit()
            url = post_url(endpoint, rule, records, lambda values: values[-1])
            acting = client_for(role)
            fields = form_fields(acting, page_url(endpoint, rule, url, records), url) or frozen
            pairs = [(f.name, edge) for f in fields]
            request = f"POST {url} as {role}: {shown(pairs)}"
            try:
                response = acting.post(url, data=urlencoded(pairs), content_type=URLENCODED)
            except Exception as exc:  # what would be a 500: say which request made it
                exc.add_note(request)
                raise
            check_answer(response, request)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
              phases=PHASES,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(st.data())
    def post(data):
        with app.app_context():
            limiter.reset()
            records = make_records(world)
            db.session.commit()
        url = post_url(endpoint, rule, records, lambda values: data.draw(st.sampled_from(values)))
        acting = client_for(role)
        reader = acting if allowed else client_for(route.roles[0])
        fields = form_fields(reader, page_url(endpoint, rule, url, records), url)
        if tuple(category(f) for f in fields) != categories:
            fields = frozen  # the form changed (a record's state): post the first one's fields
        pairs = resolve(data.draw(form_body(categories), label="plan"), fields)
        files = {f.name for f in fields if f.kind == "file"}
        encoding = data.draw(ENCODINGS, label="encoding")
        encoding = "multipart" if files else encoding
        note(f"POST {url} as {role} ({encoding}): {shown(pairs)}")
        if encoding == "multipart":
            response = acting.post(url, data=multipart(pairs, files),
                                   content_type="multipart/form-data")  # fmt: skip
        elif encoding == "json":
            response = acting.post(url, json=data.draw(json_body(pairs), label="json"))
        else:
            response = acting.post(url, data=urlencoded(pairs), content_type=URLENCODED)
        check_answer(response)

    post()


# Refusals the fuzzing found answered 422 with nothing on the page to say why: a form posted
# where the page does not show it (a role that must keep two-factor, a request not yet
# acknowledged), and the what-if page posted without a scenario.
REFUSALS = [
    ("counselor", "/account/two-factor/disable", {}),
    ("counselor", "/account/two-factor/disable", {"code": "123456"}),
    ("counselor", "/support/{request}/schedule", {}),
    ("counselor", "/support/{request}/schedule", {"day": "2026-11-26", "time": "10:00"}),
    ("hr", "/hr/fair-pay/what-if", {}),
    ("hr", "/hr/fair-pay/what-if", {"scenario": "nonsense"}),
]


@pytest.mark.parametrize(("role", "url", "body"), REFUSALS)
def test_a_refused_post_says_why(app, world, role, url, body):
    with app.app_context():
        records = make_records(world)
        db.session.commit()
    response = sign_in(app, role).post(url.format(**records), data=body)
    check_answer(response)
