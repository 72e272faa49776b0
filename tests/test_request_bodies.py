"""What no page of the portal sends is refused or cleaned before a view reads it (portal/web.py)."""

from __future__ import annotations

import io

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
