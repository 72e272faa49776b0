"""Sign-in throttling shared by several processes through Redis (RATELIMIT_STORAGE_URI).

A second process stands in for another gunicorn worker or host. Runs when TEST_REDIS_URL names
a Redis server; CI sets it (redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from portal import create_app
from portal.extensions import limiter
from tests import factories

REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()

pytestmark = [
    pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to a Redis server"),
    pytest.mark.xdist_group("redis"),  # one Redis database for the tests: one worker at a time
]

OTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from portal import create_app
    url, storage, email = sys.argv[1:4]
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_STORAGE_URI=storage,
                     LOGIN_LIMIT_PER_ACCOUNT="4 per 5 minutes")
    client = app.test_client()
    for _ in range(2):
        print(client.post("/login", data={"email": email, "password": "wrong"}).status_code)
    """
)


def make_app(database_url, storage):
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_STORAGE_URI=storage,
        LOGIN_LIMIT_PER_ACCOUNT="4 per 5 minutes",
    )


def test_failed_sign_ins_in_two_processes_count_toward_one_limit(database_url, world):
    app = make_app(database_url, REDIS_URL)
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    email = factories.email_for("worker")
    try:
        other = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", OTHER_PROCESS, database_url, REDIS_URL, email],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert other.stdout.split() == ["200", "200"]
        for _ in range(2):
            assert client.post("/login", data={"email": email, "password": "x"}).status_code == 200
        # four failures across two processes: the fifth is refused, even with the right password
        response = client.post("/login", data={"email": email, "password": factories.PASSWORD})
        assert response.status_code == 429
        assert "Too many failed sign-ins" in response.get_data(as_text=True)
    finally:
        with app.app_context():
            limiter.reset()
