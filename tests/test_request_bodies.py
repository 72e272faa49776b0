"""What no page of the portal sends is refused or cleaned before a view reads it (portal/web.py)."""

from __future__ import annotations

import io

import pytest

from tests.factories import email_for


def test_a_json_body_on_a_form_is_415_and_says_why(client, world):
    response = client.post("/login", json={"email": email_for("worker"), "password": 1})
    assert response.status_code == 415
    assert "only reads what its own forms send" in response.get_data(as_text=True)


def test_a_file_where_a_form_has_none_is_400(client, world, auth):
    auth.as_role("worker")
    response = client.post("/shifts/new", data={"note": (io.BytesIO(b"x"), "note.txt")},
                           content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400
    assert "could not read what was sent" in response.get_data(as_text=True)


def test_nul_characters_are_dropped_not_a_500(client, world):
    response = client.post("/login", data={"email": "worker\x00@a.example.org",
                                           "password": "wrong password here"})  # fmt: skip
    # the address is read without its NUL: the usual refusal, not a database error
    assert response.status_code == 200
    assert "match an active account" in response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "url"), [
    ("worker", "/shifts"), ("worker", "/exposures"), ("admin", "/admin/users"),
    ("admin", "/admin/audit"), ("counselor", "/checkins/shared"),
])  # fmt: skip
def test_any_page_number_gets_a_page(client, world, auth, role, url):
    """Paged lists take whatever ?page= says: a page (perhaps empty), never a 500. A 20-digit
    page overflowed the database's OFFSET before."""
    auth.as_role(role)
    for page in ("99999999999999999999", "100001", "-3", "0", "x", ""):
        response = client.get(url, query_string={"page": page})
        assert response.status_code == 200, (url, page)
