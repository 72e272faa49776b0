"""WHO-5 check-ins: scoring and its words, the form, outreach, history, deletion, counsellors'
reads, who may reach each page, and the weekly reminder."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, CheckIn, SupportRequest, User
from portal.timeutil import local_midnight_utc, local_today, local_zone, utcnow
from portal.wellbeing import who5
from portal.wellbeing.checkin_service import (
    trend_chart,
)
from portal.wellbeing.requests import create_request
from tests.factories import email_for, make_user

MARKER = "CHK-NOTE-MARKER-4b8e1d"


def make_checkin(
    worker_id: int,
    items=(3, 3, 3, 3, 3),
    note: str = "",
    *,
    ago: timedelta = timedelta(0),
    outreach: bool = False,
    share: bool = False,
) -> int:
    """A check-in saved directly; returns its id."""
    worker = db.session.get(User, worker_id)
    checkin = CheckIn(
        worker_id=worker_id,
        organisation_id=worker.organisation_id,
        item1=items[0],
        item2=items[1],
        item3=items[2],
        item4=items[3],
        item5=items[4],
        score=who5.score(list(items)),
        note=note,
        wants_outreach=outreach,
        share_with_counsellors=share,
        created_at=utcnow() - ago,
    )
    db.session.add(checkin)
    db.session.flush()
    return checkin.id


def is_checked(html: str, input_id: str) -> bool:
    """Whether the input with this id is rendered ticked."""
    tag = re.search(rf'<input[^>]*\bid="{input_id}"[^>]*>', html)
    assert tag, f"no input {input_id}"
    return " checked" in tag.group(0)


def answers(*items, **extra) -> dict:
    """Form data for five answers (None leaves an item out)."""
    data = {f"item{i}": str(v) for i, v in enumerate(items, start=1) if v is not None}
    data.update(extra)
    return data


def checkins_of(app, worker_id) -> list[CheckIn]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(CheckIn).where(CheckIn.worker_id == worker_id).order_by(CheckIn.id)
            )
        )


def requests_of(app, worker_id) -> list[SupportRequest]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(SupportRequest).where(SupportRequest.worker_id == worker_id)
            )
        )


def audit_rows(app, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(db.session.scalars(query))


# --- who5: pure scoring and words --------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "score", "level", "low"),
    [
        ((3, 3, 3, 3, 3), 60, who5.WELL, ()),
        ((1, 1, 1, 2, 2), 28, who5.STRONG, (1, 2, 3)),
        ((5, 5, 5, 5, 1), 84, who5.TALK, (5,)),
        ((0, 0, 0, 0, 0), 0, who5.STRONG, (1, 2, 3, 4, 5)),
        ((5, 5, 5, 5, 5), 100, who5.WELL, ()),
        ((2, 2, 2, 2, 2), 40, who5.TALK, ()),
        ((2, 2, 2, 2, 3), 44, who5.TALK, ()),
        ((3, 3, 3, 2, 2), 52, who5.WELL, ()),
        ((2, 2, 2, 2, 4), 48, who5.TALK, ()),
        ((3, 2, 2, 3, 3), 52, who5.WELL, ()),
        ((1, 2, 2, 2, 1), 32, who5.TALK, (1, 5)),
        ((4, 4, 4, 4, 0), 64, who5.TALK, (5,)),
    ],
)
def test_who5_scores_and_what_they_suggest(items, score, level, low):
    reading = who5.reading(list(items))
    assert who5.score(list(items)) == score
    assert reading.score == score
    assert reading.level == level
    assert reading.low_items == low
    assert reading.suggests_talking is (level != who5.WELL)


def test_who5_thresholds_are_inclusive():
    # Scores move in steps of 4: 28 is reachable (a strong signal), 50 is not (48 and 52 are).
    assert who5.reading([2, 2, 2, 1, 0]).level == who5.STRONG  # 28
    assert who5.reading([2, 2, 2, 1, 1]).level == who5.TALK  # 32
    assert who5.reading([3, 3, 2, 2, 2]).level == who5.TALK  # 48
    assert who5.reading([3, 3, 3, 2, 2]).level == who5.WELL  # 52
    assert who5.reading([3, 3, 3, 3, 1]).level == who5.TALK  # 52, but an item at 1


@pytest.mark.parametrize(
    "bad", [[3, 3, 3, 3], [3, 3, 3, 3, 3, 3], [3, 3, 3, 3, 6], [3, 3, 3, 3, -1], [3, 3, 3, 3, "3"]]
)
def test_who5_refuses_answers_it_cannot_score(bad):
    with pytest.raises(ValueError):
        who5.score(bad)


def test_who5_words_are_kind_not_clinical():
    words = set()
    for items in ([0, 0, 0, 0, 0], [2, 2, 2, 2, 2], [5, 5, 5, 5, 1], [4, 4, 4, 4, 4]):
        r = who5.reading(items)
        words.add(f"{r.headline} {r.message} {r.summary}".lower())
    text = " ".join(words)
    for word in ("depress", "disorder", "risk", "clinical", "danger", "alarm", "warning",
                 "diagnos", "symptom", "patient", "emergency", "screen"):  # fmt: skip
        assert word not in text
    assert "talk" in who5.reading([0, 0, 0, 0, 0]).message.lower()
    assert "talk" in who5.reading([5, 5, 5, 5, 1]).message


def test_who5_source_is_credited():
    assert "World Health Organization, 1998" in who5.SOURCE
    assert "Psychiatric Research Unit, Mental Health Centre North Zealand" in who5.SOURCE
    assert "public domain" in who5.SOURCE
    assert [label for _, label in who5.ANSWER_CHOICES][0] == "At no time"
    assert [label for _, label in who5.ANSWER_CHOICES][-1] == "All of the time"


def test_trend_chart_geometry():
    assert trend_chart([]) is None
    chart = trend_chart([("Jan 1, 2026", 20), ("Jan 8, 2026", 60), ("Jan 15, 2026", 100)])
    ys = [p.y for p in chart.points]
    assert ys[0] > ys[1] > ys[2]  # higher score, higher on the page
    assert chart.points[0].x == chart.left and chart.points[-1].x == chart.right
    assert chart.grid[0].value == 0 and chart.grid[-1].value == 100
    bottom, top = chart.grid[0].y, chart.grid[-1].y
    assert chart.points[2].y == top
    assert chart.points[0].y == pytest.approx(bottom - 0.2 * (bottom - top))
    assert "Lowest 20, highest 100, latest 100" in chart.aria_label
    one = trend_chart([("Jan 1, 2026", 40)])
    assert len(one.points) == 1 and "Score 40" in one.aria_label


# --- The form ----------------------------------------------------------------------------------


def test_checkin_form_shows_five_items_six_answers_and_the_source(client, world, auth):
    auth.as_role("worker")
    response = client.get("/checkins/new")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<fieldset") == 5
    assert html.count("<legend>") == 5
    assert html.count('type="radio"') == 30
    assert "Over the last two weeks" in html
    for item in who5.ITEMS:
        assert item in html
    for _, label in who5.ANSWER_CHOICES:
        assert html.count(f">{label}</label>") == 5
    assert "I&#39;d like someone to reach out" in html or "I'd like someone to reach out" in html
    assert "Counsellors may read my check-ins" in html
    assert "World Health Organization, 1998" in html
    assert "Mental Health Centre North Zealand" in html
    assert not is_checked(html, "share_with_counsellors")


def test_consent_defaults_to_the_last_checkins_choice(client, world, auth, app):
    with app.app_context():
        make_checkin(world["user"]["worker"], share=False, ago=timedelta(days=9))
        make_checkin(world["user"]["worker"], share=True, ago=timedelta(days=2))
        db.session.commit()
    auth.as_role("worker")
    html = client.get("/checkins/new").get_data(as_text=True)
    assert is_checked(html, "share_with_counsellors")
    assert not is_checked(html, "wants_outreach")


def test_unanswered_items_are_refused_with_clear_messages_and_answers_kept(
    client, world, auth, app
):
    auth.as_role("worker")
    response = client.post(
        "/checkins/new", data=answers(4, None, 2, None, None, note="Kept note", wants_outreach="y")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html
    assert html.count("Choose an answer for this statement.") == 3 * 2  # summary + field
    assert is_checked(html, "item1-4") and not is_checked(html, "item1-3")
    assert is_checked(html, "item3-2")
    assert not any(is_checked(html, f"item2-{v}") for v in range(6))
    assert "Kept note" in html
    assert is_checked(html, "wants_outreach")
    assert 'href="#item2"' in html and 'id="item2"' in html
    assert checkins_of(app, world["user"]["worker"]) == []
    assert requests_of(app, world["user"]["worker"]) == []


@pytest.mark.parametrize("value", ["6", "-1", "abc", "3.5", ""])
def test_an_answer_outside_the_six_is_refused(client, world, auth, app, value):
    auth.as_role("worker")
    response = client.post("/checkins/new", data=answers(3, 3, 3, 3, 3, item5=value))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose an answer for this statement." in html
    assert "Not a valid choice" not in html and "could not coerce" not in html
    assert checkins_of(app, world["user"]["worker"]) == []


def test_a_long_note_is_refused_and_kept(client, world, auth, app):
    auth.as_role("worker")
    note = "x" * 2001
    response = client.post("/checkins/new", data=answers(3, 3, 3, 3, 3, note=note))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Keep the note under 2,000 characters." in html
    assert note in html
    assert checkins_of(app, world["user"]["worker"]) == []


# --- Saving -------------------------------------------------------------------------------------


def test_checking_in_saves_and_shows_the_score_and_words(client, world, auth, app):
    auth.as_role("worker")
    response = client.post("/checkins/new", data=answers(3, 3, 3, 3, 3, note=" A fine week "))
    assert response.status_code == 302
    [saved] = checkins_of(app, world["user"]["worker"])
    assert response.headers["Location"] == f"/checkins/{saved.id}"
    assert saved.items == [3, 3, 3, 3, 3]
    assert saved.score == 60
    assert saved.note == "A fine week"
    assert not saved.wants_outreach and not saved.share_with_counsellors
    assert requests_of(app, world["user"]["worker"]) == []
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Score: 60 out of 100" in html
    assert who5.reading([3, 3, 3, 3, 3]).headline in html
    assert "Check-in saved" in html
    assert "More than half of the time" in html
    assert "World Health Organization, 1998" in html
    assert "You don&#39;t have to carry this alone" not in html  # no care offer at 60


@pytest.mark.parametrize(
    ("items", "urgency"), [((1, 1, 1, 2, 2), "urgent"), ((3, 3, 3, 3, 3), "soon")]
)
def test_outreach_creates_exactly_one_peer_support_request(
    client, world, auth, app, items, urgency
):
    auth.as_role("worker")
    response = client.post("/checkins/new", data=answers(*items, wants_outreach="y"))
    assert response.status_code == 302
    [saved] = checkins_of(app, world["user"]["worker"])
    assert saved.wants_outreach
    [req] = requests_of(app, world["user"]["worker"])
    assert req.kind == "peer_support"
    assert req.source == "checkin"
    assert req.checkin_id == saved.id
    assert req.urgency == urgency
    assert req.status == "open"
    assert req.organisation_id == world["org"]["a"]
    assert req.note == ""  # the check-in's note is not copied anywhere
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "will reach out to you" in html
    assert "You asked for someone to reach out" in html


def test_a_low_score_shows_the_strong_words_and_the_care_offer(client, world, auth, app):
    auth.as_role("worker")
    response = client.post("/checkins/new", data=answers(1, 1, 1, 2, 2))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Score: 28 out of 100" in html
    assert who5.reading([1, 1, 1, 2, 2]).headline in html
    assert "carry this alone" in html  # the SPEC §4 care offer
    assert "kind=wellness_day" in html
    assert requests_of(app, world["user"]["worker"]) == []  # offered, never forced


def test_a_single_low_item_suggests_talking(client, world, auth, app):
    auth.as_role("worker")
    response = client.post("/checkins/new", data=answers(5, 5, 5, 5, 1))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Score: 84 out of 100" in html
    assert who5.reading([5, 5, 5, 5, 1]).headline in html
    assert "Ask someone to reach out" in html
    assert "kind=peer_support" in html


# --- History ------------------------------------------------------------------------------------


def test_history_has_a_chart_and_a_table_with_the_right_numbers(client, world, auth, app):
    with app.app_context():
        for days, items in [(21, (1, 1, 1, 2, 2)), (14, (2, 2, 2, 2, 2)), (7, (3, 3, 3, 3, 3))]:
            make_checkin(world["user"]["worker"], items, ago=timedelta(days=days))
        make_checkin(world["user"]["worker2"], (5, 5, 5, 5, 5))
        db.session.commit()
    auth.as_role("worker")
    response = client.get("/checkins")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg
    label = re.search(r'aria-label="([^"]*)"', svg).group(1)
    assert "3 check-ins" in label
    assert "Lowest 28, highest 60, latest 60" in label
    assert svg.count("<circle") == 3
    assert "<polyline" in svg
    assert "style=" not in html  # the Content-Security-Policy forbids inline styles
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    cells = re.findall(r"<td>(\d+)</td>", table)
    assert cells == ["60", "40", "28"]  # newest first
    assert who5.reading([1, 1, 1, 2, 2]).summary in table
    assert '<th scope="col">Date</th>' in table
    assert "100" not in cells  # not another worker's
    assert 'action="/checkins/reminders"' in html
    assert "Turn on weekly reminders" in html
    assert 'href="/checkins/new"' in html


def test_history_without_checkins_invites_a_first_one(client, world, auth):
    auth.as_role("worker")
    html = client.get("/checkins").get_data(as_text=True)
    assert "<svg" not in html
    assert "You have not checked in yet" in html


def test_history_runs_a_fixed_number_of_queries(client, world, auth, app, count_queries):
    auth.as_role("worker")
    with app.app_context():
        make_checkin(world["user"]["worker"])
        db.session.commit()
    with count_queries() as few:
        assert client.get("/checkins").status_code == 200
    with app.app_context():
        for days in range(1, 30):
            make_checkin(world["user"]["worker"], ago=timedelta(days=days))
        db.session.commit()
    with count_queries() as many:
        assert client.get("/checkins").status_code == 200
    assert many() == few()


# --- Deleting -----------------------------------------------------------------------------------


def test_delete_really_deletes_with_an_audit_row_without_content(client, world, auth, app):
    with app.app_context():
        checkin_id = make_checkin(world["user"]["worker"], note=MARKER, outreach=True)
        worker = db.session.get(User, world["user"]["worker"])
        req_id = create_request(worker, "peer_support", source="checkin", checkin_id=checkin_id).id
        db.session.commit()
    auth.as_role("worker")
    response = client.post(f"/checkins/{checkin_id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/checkins"
    with app.app_context():
        assert db.session.get(CheckIn, checkin_id) is None
        # The request it led to stays in the counsellors' queue, unlinked.
        assert db.session.get(SupportRequest, req_id).checkin_id is None
    [row] = audit_rows(app, "checkin.deleted")
    assert row.record_type == "checkins"
    assert row.record_id == checkin_id
    assert row.subject_id == world["user"]["worker"]
    assert row.actor_id == world["user"]["worker"]
    assert MARKER not in " ".join(str(vars(r)) for r in audit_rows(app))
    assert client.get(f"/checkins/{checkin_id}").status_code == 404
    assert MARKER not in client.get("/checkins").get_data(as_text=True)


def test_delete_is_post_only(client, world, auth, app):
    with app.app_context():
        checkin_id = make_checkin(world["user"]["worker"])
        db.session.commit()
    auth.as_role("worker")
    assert client.get(f"/checkins/{checkin_id}/delete").status_code == 405
    assert len(checkins_of(app, world["user"]["worker"])) == 1


# --- Counsellors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outreach", "share", "readable"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_counsellor_reads_a_checkin_only_with_outreach_or_consent(
    client, world, auth, app, outreach, share, readable
):
    with app.app_context():
        checkin_id = make_checkin(
            world["user"]["worker"], (1, 1, 1, 2, 2), MARKER, outreach=outreach, share=share
        )
        db.session.commit()
    auth.as_role("counselor")
    response = client.get(f"/checkins/{checkin_id}")
    html = response.get_data(as_text=True)
    reads = audit_rows(app, "wellbeing.read")
    if readable:
        assert response.status_code == 200
        assert MARKER in html
        assert "Score: 28 out of 100" in html
        assert "Worker A" in html
        assert "carry this alone" not in html  # the worker's care offer is theirs
        assert "Delete check-in" not in html
        [row] = reads
        assert row.actor_id == world["user"]["counselor"]
        assert row.actor_role == "counselor"
        assert row.subject_id == world["user"]["worker"]
        assert (row.record_type, row.record_id) == ("checkins", checkin_id)
        assert MARKER not in str(vars(row))
    else:
        assert response.status_code == 404
        assert MARKER not in html
        assert reads == []
    # Reading is all: a counsellor can never delete a worker's check-in.
    assert client.post(f"/checkins/{checkin_id}/delete").status_code == 404
    assert len(checkins_of(app, world["user"]["worker"])) == 1


def test_the_owner_reading_leaves_no_audit_row(client, world, auth, app):
    with app.app_context():
        checkin_id = make_checkin(world["user"]["worker"], share=True)
        db.session.commit()
    auth.as_role("worker")
    assert client.get(f"/checkins/{checkin_id}").status_code == 200
    assert audit_rows(app, "wellbeing.read") == []


# --- Who may reach what -------------------------------------------------------------------------


OUTSIDERS = [
    ("supervisor", None),
    ("supervisor_all", None),
    ("hr", None),
    ("leader", None),
    ("funder", None),
    ("admin", None),
    ("worker2", None),
    ("worker", "b"),
    ("supervisor", "b"),
    ("counselor", "b"),
]
NON_WORKERS = {"supervisor", "supervisor_all", "hr", "leader", "funder", "admin", "counselor"}


@pytest.mark.parametrize(("role", "org"), OUTSIDERS)
def test_every_checkin_route_is_404_for_everyone_else(client, world, auth, app, role, org):
    with app.app_context():
        make_user(
            "Counselor B", email_for("counselor", "b"), {"counselor"}, world["org"]["b"], None
        )
        # Outreach and consent both given: still nobody's but the worker's and their own
        # organisation's counsellors'.
        checkin_id = make_checkin(
            world["user"]["worker"], (1, 1, 1, 2, 2), MARKER, outreach=True, share=True
        )
        db.session.commit()
    auth.as_role(role, org=org)
    worker_pages = role not in NON_WORKERS
    for method, url, expected in [
        ("GET", f"/checkins/{checkin_id}", 404),
        ("POST", f"/checkins/{checkin_id}/delete", 404),
        ("GET", "/checkins", 200 if worker_pages else 404),
        ("GET", "/checkins/new", 200 if worker_pages else 404),
        ("POST", "/checkins/new", 422 if worker_pages else 404),
        ("POST", "/checkins/reminders", 302 if worker_pages else 404),
    ]:
        response = client.open(url, method=method, data={"reminders": "on"})
        assert response.status_code == expected, f"{method} {url} as {role} {org or ''}"
        body = response.get_data(as_text=True)
        assert MARKER not in body
        assert "Score: 28" not in body
    assert len(checkins_of(app, world["user"]["worker"])) == 1
    assert audit_rows(app, "wellbeing.read") == []


def test_anonymous_visitors_are_sent_to_sign_in(client, world, app):
    with app.app_context():
        checkin_id = make_checkin(world["user"]["worker"], note=MARKER)
        db.session.commit()
    for method, url in [
        ("GET", "/checkins"),
        ("GET", "/checkins/new"),
        ("GET", f"/checkins/{checkin_id}"),
        ("POST", f"/checkins/{checkin_id}/delete"),
        ("POST", "/checkins/reminders"),
    ]:
        response = client.open(url, method=method)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
        assert MARKER not in response.get_data(as_text=True)


# --- The weekly reminder ------------------------------------------------------------------------


def test_worker_switches_reminders_on_and_off(client, world, auth, app):
    auth.as_role("worker")
    response = client.post("/checkins/reminders", data={"reminders": "on"})
    assert response.status_code == 302 and response.headers["Location"] == "/checkins"
    with app.app_context():
        assert db.session.get(User, world["user"]["worker"]).checkin_reminders is True
    html = client.get("/checkins").get_data(as_text=True)
    assert "Weekly reminders are on" in html
    assert "Turn off weekly reminders" in html
    client.post("/checkins/reminders", data={"reminders": "off"})
    with app.app_context():
        assert db.session.get(User, world["user"]["worker"]).checkin_reminders is False
    client.post("/checkins/reminders", data={"reminders": "sideways"})
    with app.app_context():
        assert db.session.get(User, world["user"]["worker"]).checkin_reminders is False


def mails(app) -> list[email.message.Message]:
    folder = Path(app.config["MAIL_DIR"])
    if not folder.exists():
        return []
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


@pytest.fixture
def remind(app, runner):
    """Run `flask send-checkin-reminders` and return its output."""
    assert "send-checkin-reminders" in app.cli.commands

    def run(*args):
        result = runner.invoke(args=["send-checkin-reminders", *args])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def test_reminders_go_to_the_right_people_once(app, world, remind):
    u = world["user"]
    with app.app_context():
        zone = local_zone()
        seven_days_ago_late = local_midnight_utc(
            local_today() - timedelta(days=6), zone
        ) - timedelta(minutes=1)
        people = {
            "never": u["worker"],  # never checked in
            "week": u["worker2"],  # last check-in 7 local days ago, late in the evening
            "recent": u["worker3"],  # checked in 2 days ago (an older one does not count)
            "off": u["worker_b"],  # reminders off
        }
        inactive = make_user("Gone Worker", "gone@a.example.org", {"worker"}, world["org"]["a"])
        inactive.active = False
        counsellor = db.session.get(User, u["counselor"])  # not a worker
        for key in ("never", "week", "recent"):
            db.session.get(User, people[key]).checkin_reminders = True
        inactive.checkin_reminders = True
        counsellor.checkin_reminders = True
        week = db.session.get(CheckIn, make_checkin(people["week"], note=MARKER))
        week.created_at = seven_days_ago_late
        make_checkin(people["recent"], note=MARKER, ago=timedelta(days=30))
        make_checkin(people["recent"], note=MARKER, ago=timedelta(days=2))
        make_checkin(people["off"], ago=timedelta(days=30))
        db.session.commit()

    output = remind("--base-url", "https://portal.example.org")
    assert "Check-in reminders sent: 2." in output
    sent = mails(app)
    assert sorted(m["To"] for m in sent) == sorted([email_for("worker"), email_for("worker2")])
    for message in sent:
        body = message.get_payload(decode=True).decode()
        assert "https://portal.example.org/checkins/new" in body
        assert MARKER not in body
        assert "score" not in body.lower()
        assert "check-in" not in message["Subject"].lower()  # nothing telling in an inbox list
    with app.app_context():
        reminded = db.session.scalars(
            sa.select(User.id).where(User.checkin_reminder_sent_on.is_not(None))
        ).all()
        # nothing about reminders in the audit log, which admins read
        assert not db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.like("%remind%"))
        ).all()
    assert sorted(reminded) == sorted([people["never"], people["week"]])

    # Twice the same day: nothing sent twice.
    assert "Check-in reminders sent: 0." in remind("--base-url", "https://portal.example.org")
    assert len(mails(app)) == 2


def test_a_reminder_goes_again_a_week_later(app, world, remind):
    u = world["user"]
    with app.app_context():
        first = db.session.get(User, u["worker"])
        first.checkin_reminders = True
        first.checkin_reminder_sent_on = local_today() - timedelta(days=8)
        db.session.get(User, u["worker2"]).checkin_reminder_sent_on = local_today() - timedelta(
            days=3
        )
        db.session.get(User, u["worker2"]).checkin_reminders = True
        db.session.commit()
    assert "Check-in reminders sent: 1." in remind()
    [message] = mails(app)
    assert message["To"] == email_for("worker")
    assert "http://127.0.0.1:5000/checkins/new" in message.get_payload(decode=True).decode()


def test_reminder_command_refuses_a_bad_base_url(app, world, runner, remind):
    with app.app_context():
        db.session.get(User, world["user"]["worker"]).checkin_reminders = True
        db.session.commit()
    result = runner.invoke(args=["send-checkin-reminders", "--base-url", "portal.example.org"])
    assert result.exit_code != 0
    assert "not an http(s) address" in result.output
    assert mails(app) == []
