"""Administration of people: who may reach it, the list, creating, editing, (de)activating."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import User
from tests import factories
from tests.conftest import AuthActions
from tests.factories import PASSWORD, PEOPLE, email_for

EVERYONE = [(key, org) for key, _roles, org, _site in PEOPLE]
NOT_ADMINS = [(key, org) for key, roles, org, _site in PEOPLE if "admin" not in roles]


def body(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def location(response) -> str:
    """The path (and query) a redirect points to."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def mails(app) -> list:
    """Every message written to the mail folder, oldest first."""
    folder = Path(app.config["MAIL_DIR"])
    if not folder.exists():
        return []
    return [
        message_from_bytes(p.read_bytes(), policy=default_policy)
        for p in sorted(folder.glob("*.eml"))
    ]


def user_state(app, user_id: int) -> dict | None:
    """What the database holds for a user, read afresh."""
    with app.app_context():
        user = db.session.get(User, user_id)
        if user is None:
            return None
        return {
            "name": user.name,
            "email": user.email,
            "roles": user.roles,
            "active": user.active,
            "organisation_id": user.organisation_id,
            "site_id": user.site_id,
            "session_version": user.session_version,
            "password_hash": user.password_hash,
        }


def user_count(app) -> int:
    """How many accounts exist."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def user_id_for(app, email: str) -> int | None:
    """The id of the account with this e-mail."""
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def signed_in(client) -> bool:
    """Whether the client's session still signs it in."""
    return client.get("/").status_code == 200


def new_person(world, **changes) -> dict:
    """A valid form for a new account."""
    data = {
        "name": "Dana Doe",
        "email": "dana.doe@a.example.org",
        "roles": ["worker"],
        "organisation_id": world["org"]["a"],
        "site_id": world["site"]["a1"],
    }
    data.update(changes)
    return data


def form_of(app, user_id: int, **changes) -> dict:
    """The edit form as the admin would post it unchanged, with some changes."""
    state = user_state(app, user_id)
    data = {
        "name": state["name"],
        "email": state["email"],
        "roles": sorted(state["roles"]),
        "organisation_id": state["organisation_id"],
        "site_id": state["site_id"] or 0,
    }
    data.update(changes)
    return data


def alert_text(page: str) -> str:
    """The error summary of a refused form."""
    match = re.search(r'<div class="alert alert-error" role="alert".*?</div>', page, re.S)
    assert match, page
    return match.group(0)


# --- who may reach administration --------------------------------------------------------------


def admin_urls(world) -> list[tuple[str, str]]:
    """Every administration route, with a real user id where one is needed."""
    uid = world["user"]["worker2"]
    return [
        ("GET", "/admin/"),
        ("GET", "/admin/users"),
        ("GET", "/admin/users?status=inactive&q=x"),
        ("GET", "/admin/users/new"),
        ("POST", "/admin/users/new"),
        ("GET", f"/admin/users/{uid}"),
        ("POST", f"/admin/users/{uid}"),
        ("POST", f"/admin/users/{uid}/deactivate"),
        ("POST", f"/admin/users/{uid}/reactivate"),
        ("POST", f"/admin/users/{uid}/send-link"),
        ("POST", f"/admin/users/{uid}/reset-two-factor"),
    ]


@pytest.mark.parametrize(("key", "org"), EVERYONE)
def test_only_admins_reach_the_people_list(client, world, auth, key, org):
    """The people list answers 200 to admins and 404 to every other role."""
    auth.login(email_for(key, org))
    response = client.get("/admin/users")
    if key == "admin":
        assert response.status_code == 200
        assert "<h1>People</h1>" in body(response)
    else:
        assert response.status_code == 404
        assert "Page not found" in body(response)
        assert "People</h1>" not in body(response)


@pytest.mark.parametrize(("key", "org"), NOT_ADMINS)
def test_no_admin_route_is_open_to_other_roles(app, client, world, auth, key, org):
    """Every administration route, read or write, answers 404 to a non-admin; nothing changes."""
    auth.login(email_for(key, org))
    before = user_state(app, world["user"]["worker2"])
    count = user_count(app)
    for method, url in admin_urls(world):
        data = new_person(world) if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url)
    assert user_state(app, world["user"]["worker2"]) == before
    assert user_count(app) == count
    assert mails(app) == []


def test_anonymous_visitors_are_sent_to_sign_in(app, client, world):
    """Without a session every administration route redirects to the sign-in page."""
    for method, url in admin_urls(world):
        response = client.open(url, method=method, data={})
        assert response.status_code == 302, (method, url)
        assert location(response).startswith("/login?next=%2Fadmin%2F")
    assert user_state(app, world["user"]["worker2"])["active"] is True


def test_admin_reaches_every_page(client, world, auth):
    """The admin sees each administration page."""
    auth.as_role("admin")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert location(response) == "/admin/users"
    for url in ("/admin/users", "/admin/users/new", f"/admin/users/{world['user']['worker']}"):
        assert client.get(url).status_code == 200, url


def test_navigation_shows_people_only_to_admins(client, world, auth):
    """The "People" link appears in the menu for admins only."""
    auth.as_role("admin")
    assert 'href="/admin/users"' in body(client.get("/"))
    auth.logout()
    auth.as_role("hr")
    assert 'href="/admin/users"' not in body(client.get("/"))


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("POST", ""),
        ("POST", "/deactivate"),
        ("POST", "/reactivate"),
        ("POST", "/send-link"),
        ("POST", "/reset-two-factor"),
    ],
)
def test_unknown_user_is_404(client, world, auth, method, suffix):
    """A user id that does not exist answers 404, whatever the action."""
    auth.as_role("admin")
    response = client.open(f"/admin/users/999999{suffix}", method=method, data={})
    assert response.status_code == 404
    assert "Page not found" in body(response)


# --- the list ----------------------------------------------------------------------------------


def listed(response) -> list[str]:
    """The names on a people list page, in order."""
    assert response.status_code == 200
    return re.findall(r'<span class="card-title">([^<]+)</span>', body(response))


def test_list_shows_everyone_with_details(client, world, auth):
    """Each person shows with e-mail, roles and organisation."""
    auth.as_role("admin")
    response = client.get("/admin/users")
    names = listed(response)
    assert len(names) == len(PEOPLE)
    assert names == sorted(names)
    page = body(response)
    assert "worker@a.example.org · Worker · Provider A · Dutchtown" in page
    assert "funder@city.example.org · Funder · City Office" in page
    # Every filter control has a label.
    for field in ("q", "organisation", "status"):
        assert f'<label for="{field}">' in page


def test_list_filters_by_organisation(client, world, auth):
    """Choosing an organisation shows only its people."""
    auth.as_role("admin")
    names = listed(client.get(f"/admin/users?organisation={world['org']['b']}"))
    assert sorted(names) == ["Supervisor B", "Worker B"]
    page = body(client.get(f"/admin/users?organisation={world['org']['b']}"))
    assert f'<option value="{world["org"]["b"]}" selected>Provider B</option>' in page


def test_list_filters_by_status(app, client, world, auth):
    """Deactivated people can be listed apart, and are marked."""
    with app.app_context():
        factories.make_user(
            "Zed Former", "former@a.example.org", {"worker"}, world["org"]["a"], active=False
        )
        db.session.commit()
    auth.as_role("admin")
    assert listed(client.get("/admin/users?status=inactive")) == ["Zed Former"]
    active = listed(client.get("/admin/users?status=active"))
    assert "Zed Former" not in active and len(active) == len(PEOPLE)
    page = body(client.get("/admin/users"))
    assert re.search(r"Zed Former</span>\s*<span class=\"badge badge-inactive\">Deactivated", page)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("supervisor", ["Supervisor A", "Supervisor All A", "Supervisor B"]),
        ("SUPERVISOR ALL", ["Supervisor All A"]),
        ("@b.example", ["Supervisor B", "Worker B"]),
        ("  Funder  ", ["Funder CITY"]),
        ("nobody-like-this", []),
        ("%", []),
        ("_", ["Supervisor All A"]),
    ],
)
def test_list_search(client, world, auth, q, expected):
    """The search finds people by name or e-mail, ignoring case; % and _ are plain characters."""
    auth.as_role("admin")
    response = client.get("/admin/users", query_string={"q": q})
    assert sorted(listed(response)) == expected
    if not expected:
        assert "No one matches." in body(response)


def test_list_filters_combine(client, world, auth):
    """Search and organisation together narrow the list."""
    auth.as_role("admin")
    names = listed(
        client.get("/admin/users", query_string={"q": "worker", "organisation": world["org"]["a"]})
    )
    assert names == ["Worker A", "Worker2 A", "Worker3 A"]


def test_list_ignores_nonsense_filters(client, world, auth):
    """Malformed filter values show everyone rather than failing."""
    auth.as_role("admin")
    response = client.get("/admin/users?organisation=abc&status=weird&page=zz")
    assert len(listed(response)) == len(PEOPLE)


# --- creating an account -----------------------------------------------------------------------


def test_new_user_form_is_labelled(client, world, auth):
    """Every field is labelled; roles are checkboxes in a fieldset with a legend."""
    auth.as_role("admin")
    page = body(client.get("/admin/users/new"))
    for field, label in [
        ("name", "Name"),
        ("email", "E-mail"),
        ("organisation_id", "Organisation"),
        ("site_id", "Home site"),
    ]:
        assert f'<label for="{field}">{label}</label>' in page
    assert "<legend>Roles</legend>" in page
    assert page.count('type="checkbox"') == 7
    assert "Create and send link" in page


def test_create_user(app, client, world, auth):
    """An admin creates an account; the person is e-mailed a link to set a password."""
    auth.as_role("admin")
    count = user_count(app)
    response = client.post(
        "/admin/users/new",
        data=new_person(world, email="  Dana.Doe@A.Example.org ", roles=["worker", "supervisor"]),
    )
    assert response.status_code == 302
    new_id = user_id_for(app, "dana.doe@a.example.org")
    assert new_id is not None
    assert location(response) == f"/admin/users/{new_id}"
    assert user_count(app) == count + 1
    state = user_state(app, new_id)
    assert state["name"] == "Dana Doe"
    assert state["roles"] == {"worker", "supervisor"}
    assert state["organisation_id"] == world["org"]["a"]
    assert state["site_id"] == world["site"]["a1"]
    assert state["active"] is True
    assert state["password_hash"] is None

    page = body(client.get(location(response)))
    assert "Account created. dana.doe@a.example.org has been sent a link to set a password." in page
    assert "Has not set a password yet" in page

    sent = mails(app)
    assert len(sent) == 1
    assert sent[0]["To"] == "dana.doe@a.example.org"
    assert "/set-password/" in sent[0].get_content()


def test_create_user_without_site(app, client, world, auth):
    """People without a home site (HR, leaders) are created with "No site"."""
    auth.as_role("admin")
    response = client.post("/admin/users/new", data=new_person(world, roles=["hr"], site_id=0))
    assert response.status_code == 302
    assert user_state(app, user_id_for(app, "dana.doe@a.example.org"))["site_id"] is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "WORKER@a.example.org"}, "email", "Another account already uses this e-mail."),
        ({"email": " worker@A.EXAMPLE.ORG "}, "email", "Another account already uses this e-mail."),
        ({"roles": []}, "roles", "Give the person at least one role."),
        (
            {"site_id": "SITE_B1"},
            "site_id",
            "Choose a site of the person's organisation, or no site.",
        ),
        ({"email": "not-an-address"}, "email", "Enter a valid e-mail address."),
        ({"email": ""}, "email", "Enter an e-mail address."),
        ({"name": "  "}, "name", "Enter the person&#39;s name."),
        ({"roles": ["worker", "emperor"]}, "roles", "is not a valid choice"),
        ({"organisation_id": 999999}, "organisation_id", "Not a valid choice"),
        ({"site_id": "SITE_CLOSED"}, "site_id", "closed"),
    ],
)
def test_create_user_refusals(app, client, world, auth, changes, field, message):
    """Each bad input is refused with its message, status 422, input kept, nothing saved."""
    auth.as_role("admin")
    count = user_count(app)
    sites = {"SITE_B1": world["site"]["b1"], "SITE_CLOSED": world["site"]["a_closed"]}
    changes = {k: sites.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    data = new_person(world, **{"name": "Kept Name", **changes})
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 422
    page = body(response)
    summary = alert_text(page)
    assert message.replace("'", "&#39;") in summary or message in summary
    assert f'id="{field}-errors"' in page or field == "roles"
    # The input is kept.
    if data["name"].strip():
        assert 'value="Kept Name"' in page
    if data["email"].strip():
        assert f'value="{data["email"].strip()}"' in page
    for role in data["roles"]:
        if role != "emperor":
            assert re.search(
                rf'<input[^>]*checked[^>]*value="{role}"|value="{role}"[^>]*checked', page
            )
    assert user_count(app) == count
    assert mails(app) == []


def test_create_user_reports_several_problems_at_once(app, client, world, auth):
    """Two problems, two messages."""
    auth.as_role("admin")
    response = client.post(
        "/admin/users/new",
        data=new_person(world, email="worker@a.example.org", roles=[], site_id=world["site"]["b1"]),
    )
    assert response.status_code == 422
    summary = alert_text(body(response))
    assert "Another account already uses this e-mail." in summary
    assert "Give the person at least one role." in summary
    assert "Choose a site of the person&#39;s organisation, or no site." in summary


def test_create_user_when_mail_fails(app, client, world, auth, monkeypatch):
    """If the e-mail cannot be sent the account still exists and the admin is told."""
    import portal.admin.service as svc

    def broken(*_args, **_kwargs):
        raise OSError("mail server unreachable")

    monkeypatch.setattr(svc, "send_mail", broken)
    auth.as_role("admin")
    response = client.post("/admin/users/new", data=new_person(world))
    assert response.status_code == 302
    assert user_id_for(app, "dana.doe@a.example.org") is not None
    page = body(client.get(location(response)))
    assert "could not be sent" in page
    assert "Send a new password link" in page


# --- editing -----------------------------------------------------------------------------------


def test_edit_form_shows_current_values(client, world, auth):
    """The edit page is prefilled with the person's details and roles."""
    auth.as_role("admin")
    page = body(client.get(f"/admin/users/{world['user']['worker']}"))
    assert "<h1>Worker A</h1>" in page
    assert 'value="worker@a.example.org"' in page
    assert re.search(r'<input[^>]*checked[^>]*value="worker"', page)
    assert not re.search(r'<input[^>]*checked[^>]*value="admin"', page)
    assert re.search(rf'<option selected value="{world["site"]["a1"]}">', page)
    assert "Send a new password link" in page
    assert ">Deactivate</button>" in page


def test_edit_roles(app, client, world, auth):
    """An admin changes someone's roles; the change takes effect on their next page."""
    uid = world["user"]["worker"]
    person = app.test_client()
    person.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    assert "Approve shifts" not in body(person.get("/"))

    auth.as_role("admin")
    response = client.post(
        f"/admin/users/{uid}", data=form_of(app, uid, roles=["worker", "supervisor"])
    )
    assert response.status_code == 302
    assert location(response) == f"/admin/users/{uid}"
    assert "Account saved." in body(client.get(location(response)))
    assert user_state(app, uid)["roles"] == {"worker", "supervisor"}
    assert "Approve shifts" in body(person.get("/"))

    client.post(f"/admin/users/{uid}", data=form_of(app, uid, roles=["supervisor"]))
    assert user_state(app, uid)["roles"] == {"supervisor"}


def test_edit_details(app, client, world, auth):
    """Name, e-mail (normalised) and site can change."""
    uid = world["user"]["worker"]
    auth.as_role("admin")
    response = client.post(
        f"/admin/users/{uid}",
        data=form_of(
            app,
            uid,
            name="Worker Renamed",
            email="RENAMED@a.example.org",
            site_id=world["site"]["a2"],
        ),
    )
    assert response.status_code == 302
    state = user_state(app, uid)
    assert (state["name"], state["email"], state["site_id"]) == (
        "Worker Renamed",
        "renamed@a.example.org",
        world["site"]["a2"],
    )
    # Keeping one's own e-mail is not a duplicate.
    response = client.post(f"/admin/users/{uid}", data=form_of(app, uid))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "Worker2@A.example.org"}, "Another account already uses this e-mail."),
        ({"roles": []}, "Give the person at least one role."),
        ({"site_id": "SITE_B1"}, "Choose a site of the person&#39;s organisation, or no site."),
        ({"email": "nope"}, "Enter a valid e-mail address."),
    ],
)
def test_edit_refusals(app, client, world, auth, changes, message):
    """A refused edit is shown again with the message, 422, the typed input kept, nothing saved."""
    uid = world["user"]["worker"]
    if changes.get("site_id") == "SITE_B1":
        changes["site_id"] = world["site"]["b1"]
    auth.as_role("admin")
    before = user_state(app, uid)
    response = client.post(
        f"/admin/users/{uid}", data=form_of(app, uid, name="Typed Name", **changes)
    )
    assert response.status_code == 422
    page = body(response)
    assert message in alert_text(page)
    assert 'value="Typed Name"' in page
    assert user_state(app, uid) == before


def test_moving_a_person_to_another_organisation_needs_a_matching_site(app, client, world, auth):
    """Changing organisation while keeping the old site is refused; with no site it works."""
    uid = world["user"]["worker"]
    auth.as_role("admin")
    response = client.post(
        f"/admin/users/{uid}", data=form_of(app, uid, organisation_id=world["org"]["b"])
    )
    assert response.status_code == 422
    response = client.post(
        f"/admin/users/{uid}",
        data=form_of(app, uid, organisation_id=world["org"]["b"], site_id=world["site"]["b1"]),
    )
    assert response.status_code == 302
    assert user_state(app, uid)["organisation_id"] == world["org"]["b"]


# --- deactivating and reactivating -------------------------------------------------------------


def test_deactivate_and_reactivate(app, client, world, auth):
    """Deactivation ends the person's sessions and stops sign-in; reactivation restores it."""
    uid = world["user"]["worker"]
    person = app.test_client()
    person.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    assert signed_in(person)

    auth.as_role("admin")
    response = client.post(f"/admin/users/{uid}/deactivate")
    assert response.status_code == 302
    assert location(response) == f"/admin/users/{uid}"
    page = body(client.get(location(response)))
    assert "Worker A is deactivated." in page
    assert "badge-inactive" in page and ">Reactivate</button>" in page
    assert ">Deactivate</button>" not in page
    assert user_state(app, uid)["active"] is False

    # The existing session has ended, and signing in again is refused.
    assert not signed_in(person)
    response = person.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    assert response.status_code == 200
    assert "match an active account" in body(response)

    response = client.post(f"/admin/users/{uid}/reactivate")
    assert response.status_code == 302
    assert "Worker A is active again." in body(client.get(location(response)))
    assert user_state(app, uid)["active"] is True
    response = person.post("/login", data={"email": email_for("worker"), "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in(person)


def test_deactivate_twice_keeps_one_bump(app, client, world, auth):
    """Deactivating an already deactivated account changes nothing further."""
    uid = world["user"]["worker"]
    auth.as_role("admin")
    client.post(f"/admin/users/{uid}/deactivate")
    version = user_state(app, uid)["session_version"]
    client.post(f"/admin/users/{uid}/deactivate")
    assert user_state(app, uid)["session_version"] == version
    assert user_state(app, uid)["active"] is False


def test_deactivation_is_post_only(app, client, world, auth):
    """A link (GET) cannot deactivate anyone."""
    auth.as_role("admin")
    response = client.get(f"/admin/users/{world['user']['worker']}/deactivate")
    assert response.status_code == 405
    assert user_state(app, world["user"]["worker"])["active"] is True


# --- sending a new link ------------------------------------------------------------------------


def test_send_a_new_password_link(app, client, world, auth):
    """The admin sends a fresh link; it arrives and works."""
    uid = world["user"]["worker"]
    auth.as_role("admin")
    response = client.post(f"/admin/users/{uid}/send-link")
    assert response.status_code == 302
    page = body(client.get(location(response)))
    assert "A link to set a password has been sent to worker@a.example.org." in page
    sent = mails(app)
    assert len(sent) == 1
    assert sent[0]["To"] == "worker@a.example.org"
    path = re.search(r"https?://[^/\s]+(/set-password/\S+)", sent[0].get_content()).group(1)
    auth.logout()
    assert client.get(path).status_code == 200


def test_no_link_for_a_deactivated_account(app, client, world, auth):
    """A deactivated person gets no link until reactivated."""
    uid = world["user"]["worker"]
    auth.as_role("admin")
    client.post(f"/admin/users/{uid}/deactivate")
    response = client.post(f"/admin/users/{uid}/send-link")
    assert response.status_code == 302
    page = body(client.get(location(response)))
    assert "Reactivate the account before sending a link." in page
    assert mails(app) == []


# --- never lose the last admin -----------------------------------------------------------------


def test_last_admin_cannot_remove_own_admin_role(app, client, world, auth):
    """The only active admin keeps the admin role, with a clear message."""
    uid = world["user"]["admin"]
    auth.as_role("admin")
    before = user_state(app, uid)
    response = client.post(f"/admin/users/{uid}", data=form_of(app, uid, roles=["hr"]))
    assert response.status_code == 422
    assert (
        "You cannot remove your own admin role: no other active admin would remain."
        in alert_text(body(response))
    )
    assert user_state(app, uid) == before
    assert client.get("/admin/users").status_code == 200


def test_last_admin_may_add_roles_to_self(app, client, world, auth):
    """Keeping the admin role while adding others is fine."""
    uid = world["user"]["admin"]
    auth.as_role("admin")
    response = client.post(f"/admin/users/{uid}", data=form_of(app, uid, roles=["admin", "hr"]))
    assert response.status_code == 302
    assert user_state(app, uid)["roles"] == {"admin", "hr"}


def test_last_admin_cannot_deactivate_self(app, client, world, auth):
    """The only active admin cannot deactivate their own account."""
    uid = world["user"]["admin"]
    auth.as_role("admin")
    response = client.post(f"/admin/users/{uid}/deactivate")
    assert response.status_code == 302
    page = body(client.get(location(response)))
    assert "The last active admin cannot be deactivated." in page
    assert 'role="alert"' in page
    state = user_state(app, uid)
    assert state["active"] is True
    assert signed_in(client)


@pytest.fixture
def second_admin(app, world) -> int:
    """Another active admin in provider A."""
    with app.app_context():
        user = factories.make_user(
            "Second Admin", "admin2@a.example.org", {"admin"}, world["org"]["a"]
        )
        db.session.commit()
        return user.id


def test_with_two_admins_one_can_remove_the_other(app, client, world, auth, second_admin):
    """With another admin active, an admin's role can be removed; then the last one is kept."""
    auth.as_role("admin")
    response = client.post(
        f"/admin/users/{second_admin}", data=form_of(app, second_admin, roles=["hr"])
    )
    assert response.status_code == 302
    assert user_state(app, second_admin)["roles"] == {"hr"}
    # Now the first admin is the last one.
    uid = world["user"]["admin"]
    response = client.post(f"/admin/users/{uid}", data=form_of(app, uid, roles=["hr"]))
    assert response.status_code == 422
    assert "admin" in user_state(app, uid)["roles"]


def test_with_two_admins_one_can_step_down(app, client, world, auth, second_admin):
    """An admin who is not the last may remove their own admin role, and lands on home."""
    uid = world["user"]["admin"]
    auth.as_role("admin")
    response = client.post(f"/admin/users/{uid}", data=form_of(app, uid, roles=["hr"]))
    assert response.status_code == 302
    assert location(response) == "/"
    assert user_state(app, uid)["roles"] == {"hr"}
    assert client.get("/admin/users").status_code == 404


def test_deactivated_admin_does_not_count(app, client, world, auth, second_admin):
    """An admin who is deactivated cannot stand in as "another admin"."""
    auth.as_role("admin")
    assert client.post(f"/admin/users/{second_admin}/deactivate").status_code == 302
    assert user_state(app, second_admin)["active"] is False
    uid = world["user"]["admin"]
    response = client.post(f"/admin/users/{uid}", data=form_of(app, uid, roles=["hr"]))
    assert response.status_code == 422
    response = client.post(f"/admin/users/{uid}/deactivate")
    assert "The last active admin cannot be deactivated." in body(client.get(location(response)))
    assert user_state(app, uid)["active"] is True


def test_second_admin_deactivation_ends_their_session(app, client, world, auth, second_admin):
    """An admin deactivated by another admin is signed out at once."""
    other = app.test_client()
    AuthActions(other).login("admin2@a.example.org")  # both steps: admins have two-factor
    assert other.get("/admin/users").status_code == 200
    auth.as_role("admin")
    client.post(f"/admin/users/{second_admin}/deactivate")
    response = other.get("/admin/users")
    assert response.status_code == 302
    assert location(response).startswith("/login")


def test_person_at_a_closed_site_can_still_be_edited(app, client, world, auth):
    """A site closing later does not block edits to the people already there."""
    uid = world["user"]["worker"]
    with app.app_context():
        db.session.get(User, uid).site_id = world["site"]["a_closed"]
        db.session.commit()
    auth.as_role("admin")
    page = body(client.get(f"/admin/users/{uid}"))
    assert "Old Site (Provider A) - closed" in page
    response = client.post(f"/admin/users/{uid}", data=form_of(app, uid, name="Still Here"))
    assert response.status_code == 302
    assert user_state(app, uid)["site_id"] == world["site"]["a_closed"]


def test_email_taken_by_a_simultaneous_request_is_a_form_error(app, world):
    """The unique constraint settles a race the pre-check cannot see: no 500, nothing saved."""
    from unittest import mock

    import sqlalchemy as sa

    from portal.admin import service as svc
    from portal.extensions import db
    from portal.models import User

    with app.test_request_context():
        with mock.patch.object(svc, "_validate"):  # as if the other request had not committed yet
            try:
                svc.create_user("Twin", "worker@a.example.org", {"worker"}, world["org"]["a"], None)
            except svc.AccountError as exc:
                assert exc.errors == {"email": ["Another account already uses this e-mail."]}
            else:
                raise AssertionError("a duplicate e-mail was accepted")
        db.session.commit()
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.email == "worker@a.example.org")
        )
    assert count == 1
