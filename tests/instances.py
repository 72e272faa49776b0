"""Real app instances in their own OS processes, and a browser-like HTTP client for them.

For what an in-process test client cannot show: two processes sharing one database, one Redis and
one SECRET_KEY (tests/test_multi_instance.py), or a database that goes away under a running
instance (tests/test_database_outage.py). Each instance is werkzeug's threaded server (what
``flask run`` uses) on 127.0.0.1 and a port the operating system picks, standing in for one
gunicorn host; its output goes to a log file that failing assertions quote. Loopback only.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from copy import copy
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from tests import factories

ROOT = Path(__file__).resolve().parent.parent
# One key for every instance, as in a deployment (docs/deploy.md, "Several instances").
SECRET_KEY = "multi-instance-test-key-0123456789abcdef"  # noqa: S105 - a test value
# The only variables passed on from the test run: the instance gets its settings from the test.
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")

# Bind first (port 0: the system picks a free one), say which port, then serve. The instance
# also ends when its stdin closes, so that a test run killed outright leaves no server behind.
SERVER = textwrap.dedent(
    """
    import os, sys, threading
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    from werkzeug.serving import make_server
    from wsgi import app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print("PORT", server.server_port, flush=True)
    server.serve_forever()
    """
)

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass
class Instance:
    """One app instance: its process, its address and its log."""

    name: str
    process: subprocess.Popen
    base: str
    log: Path

    def output(self) -> str:
        """What the instance wrote so far (requests, logged errors)."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """End the process (only this one, by its id)."""
        if self.process.stdin:
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_instance(
    name: str, directory: Path, database_url: str, storage: str = "memory://", **settings: str
) -> Instance:
    """Start an instance with the development config (CSRF on, throttled) and wait for /healthz.

    ``settings`` are further environment variables (e.g. ``LOGIN_LIMIT_PER_ACCOUNT``).
    """
    env = {key: os.environ[key] for key in PASSED_ON if key in os.environ}
    env.update(
        FAIRSHIFT_CONFIG="development",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        RATELIMIT_STORAGE_URI=storage,
        MAIL_DIR=str(directory / f"mail-{name}"),
        **settings,
    )
    log = directory / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", SERVER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    instance = Instance(name, process, "", log)
    try:
        port = _wait_for_port(instance)
        instance.base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(instance)
    except BaseException:
        instance.stop()
        raise
    return instance


def _wait_for_port(instance: Instance, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"^PORT (\d+)$", instance.output(), re.MULTILINE)
        if match:
            return int(match.group(1))
        if instance.process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"instance {instance.name} did not start:\n{instance.output()}")


def _wait_until_healthy(instance: Instance, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = Browser().get(instance.base, "/healthz").status
        if status == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"/healthz of {instance.name} answered {status}:\n{instance.output()}")


@dataclass
class Page:
    """An answer: status, headers and body text."""

    status: int
    headers: Message
    text: str

    @property
    def location(self) -> str:
        """The path a redirect points to ("" when it is not one)."""
        return urllib.parse.urlsplit(self.headers.get("Location", "")).path


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None  # the 30x itself is the answer


class Browser:
    """One person's browser: one cookie jar for every instance, redirects not followed.

    Cookies are kept per host, not per port (RFC 6265), so the jar sends the session cookie to
    both instances, as a browser does to one site whose load balancer picks either.
    """

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects()
        )

    def copy(self) -> Browser:
        """Another browser holding a copy of this one's cookies (a stolen or kept cookie)."""
        other = Browser()
        for cookie in self.jar:
            other.jar.set_cookie(copy(cookie))
        return other

    def request(
        self, base: str, path: str, data: dict | None = None, headers: dict | None = None
    ) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            base + path, data=body, headers=headers or {}
        )
        try:
            with self._opener.open(request, timeout=60) as response:
                return Page(response.status, response.headers, response.read().decode())
        except urllib.error.HTTPError as error:
            with error:
                return Page(error.code, error.headers, error.read().decode())

    def get(self, base: str, path: str, headers: dict | None = None) -> Page:
        return self.request(base, path, headers=headers)

    def post(self, base: str, path: str, data: dict) -> Page:
        return self.request(base, path, data)

    def csrf_token(self, base: str, path: str) -> str:
        """The CSRF token in a form of the page at ``path``."""
        page = self.get(base, path)
        assert page.status == 200, (path, page.status, page.text[:500])
        match = TOKEN.search(page.text)
        assert match, f"no csrf_token on {path}"
        return match.group(1) or match.group(2)

    def sign_in(self, base: str, email: str, password: str = factories.PASSWORD) -> Page:
        """The password step, through the real form with its token."""
        token = self.csrf_token(base, "/login")
        return self.post(
            base, "/login", {"email": email, "password": password, "csrf_token": token}
        )
