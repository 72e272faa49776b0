"""Response headers, cookies, request size and error pages, in the test and production configs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.models import AuditEvent
from tests.factories import email_for


@pytest.fixture
def prod(database_url, tmp_path):
    """The production configuration (a real secret key, HTTPS assumed)."""
    app = create_app(
        "production", SECRET_KEY="x" * 40, SQLALCHEMY_DATABASE_URI=database_url,
        MAIL_DIR=str(tmp_path / "mail"),
    )  # fmt: skip
    yield app
    with app.app_context():
        db.engine.dispose()


def test_every_page_sends_the_security_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in headers["Permissions-Policy"]
    assert headers["Cache-Control"] == "no-store"  # no page kept for the back button
    assert "Strict-Transport-Security" not in headers  # not outside production


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_sends_hsts(prod):
    headers = prod.test_client().get("/login", base_url="https://localhost").headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["Referrer-Policy"] == "same-origin"


def test_production_cookies(prod):
    """__Host-session: Secure, HttpOnly, SameSite=Lax, path /, no domain."""
    assert prod.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert prod.config["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    assert prod.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert prod.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    response = prod.test_client().get("/login", base_url="https://localhost")
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-")]
    parts = [p.strip() for p in cookie.split(";")]
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= set(parts)
    assert not any(p.startswith("Domain=") for p in parts)


def test_a_host_cookie_without_https_is_refused_at_start(database_url):
    """Browsers drop a __Host- cookie that is not Secure: say so instead of failing sign-in."""
    with pytest.raises(RuntimeError, match="__Host-"):
        create_app(
            "production", SECRET_KEY="x" * 40, SQLALCHEMY_DATABASE_URI=database_url,
            SESSION_COOKIE_SECURE=False,
        )  # fmt: skip


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("secret_column went wrong in no_such_table"),
        sa.exc.ProgrammingError(
            "SELECT secret_column FROM no_such_table", {}, Exception("no_such_table")
        ),
    ],
)
def test_production_error_pages_leak_nothing(prod, error):
    """An exception in a view gives the plain 500 page: no trace, no SQL, no message."""

    @prod.route("/boom")
    def boom():
        raise error

    response = prod.test_client().get("/boom", base_url="https://localhost")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    for leak in ("Traceback", "no_such_table", "secret_column", "SELECT", "sqlalchemy", "File \""):
        assert leak not in page, leak
    assert not prod.debug and not prod.testing


def test_oversized_posts_get_a_friendly_413(app, client, world, auth):
    """Bodies above MAX_CONTENT_LENGTH (2 MB) are refused before anything is read or saved."""
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    big = "x" * (2 * 1024 * 1024 + 1)
    response = client.post("/forgot-password", data={"email": big})
    assert response.status_code == 413
    assert "larger than the portal accepts at once (2.0 MB)" in response.get_data(as_text=True)
    auth.as_role("hr")
    response = client.post(
        "/hr/benchmarks/import",
        data={"file": (__import__("io").BytesIO(big.encode()), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "Nothing was saved" in response.get_data(as_text=True)


def test_the_largest_benchmark_file_fits(app):
    """The HR upload limit (1 MB, benchmarks/service.py) is under the request limit."""
    from portal.benchmarks.service import MAX_BYTES

    assert MAX_BYTES + 64 * 1024 < app.config["MAX_CONTENT_LENGTH"]


@pytest.mark.parametrize(("hops", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_proxy_fix_is_configurable(database_url, tmp_path, world, hops, expected):
    """PROXY_FIX=n trusts n proxies' X-Forwarded-For: the audit then has the real address."""
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, MAIL_DIR=str(tmp_path), PROXY_FIX=hops
    )
    app.test_client().post(
        "/forgot-password", data={"email": email_for("worker")},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )  # fmt: skip
    with app.app_context():
        ip = db.session.scalar(
            sa.select(AuditEvent.ip).where(AuditEvent.action == "password.reset_requested")
        )
        db.engine.dispose()
    assert ip == expected
