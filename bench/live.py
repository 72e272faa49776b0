"""What bench/load.py and bench/soak.py share: gunicorn on loopback, and a small HTTP client.

``Server`` starts ``gunicorn wsgi:app`` (sync workers, 127.0.0.1, a free port) with the
production config against a given DATABASE_URL, its log in a file, and stops it again (its own
process group, by id). ``Browser`` is one person: http.client keeping the connection when the
server does, a cookie jar, the CSRF token of the last form, and the real sign-in (password, then
the two-factor code for the roles that need one).
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pyotp

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Ids of the processes whose parent is ``pid`` (gunicorn's workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with ``workers`` sync workers on 127.0.0.1, production config, one database."""

    def __init__(self, database_url: str, workers: int, log: Path, mail_dir: Path | None = None):
        if not GUNICORN.exists():
            sys.exit(f"{GUNICORN} is missing: run `make load` (it installs the deploy extras)")
        self.port = free_port()
        self.secret_key = secrets.token_hex(32)
        self.log = log
        env = {
            **os.environ,
            "FAIRSHIFT_CONFIG": "production",
            "SECRET_KEY": self.secret_key,
            "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback: the cookie is "session"
            "DATABASE_URL": database_url,
            "MAIL_DIR": str(mail_dir or log.parent / "mail"),
        }
        for name in ("MAIL_SERVER", "FAIRSHIFT_MAIL_SERVER", "SQLALCHEMY_ECHO"):
            env.pop(name, None)
        self.out = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn, fixed args
            [
                str(GUNICORN), "wsgi:app", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(workers), "--worker-class", "sync", "--timeout", "60",
                "--backlog", "2048", "--error-logfile", "-", "--log-level", "warning",
            ],
            cwd=ROOT, env=env, stdout=self.out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _body = Browser(self.port).get("/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"gunicorn did not start; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by gunicorn and its workers (not the database server)."""
        pid = self.process.pid
        return process_cpu(pid) + sum(process_cpu(child) for child in children(pid))

    def memory_mb(self) -> float:
        """Resident memory of gunicorn's workers, MB (summed)."""
        total = 0
        for child in children(self.process.pid):
            try:
                status = Path(f"/proc/{child}/status").read_text()
            except OSError:
                continue
            found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            total += int(found.group(1)) if found else 0
        return total / 1024

    def stop(self) -> None:
        """SIGTERM to gunicorn's own process group (it started it), then wait."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.out.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.stop()


class Browser:
    """One person's client: cookies, the last CSRF token, keep-alive when offered."""

    def __init__(self, port: int, timeout: float = 60):
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.location = ""

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        """One request; returns (status, body). Redirects are not followed (see .location)."""
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):  # a kept connection the server closed meanwhile: once more
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2 or method != "GET":
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close" or response.will_close:
            self.close()
        self.location = response.getheader("Location", "") or ""
        found = CSRF.search(data)
        if found:
            self.csrf = unescape(found.group(1))
        return response.status, data

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> tuple[int, str]:
        """POST a form with the CSRF token of the last page that had one."""
        return self.request("POST", path, {"csrf_token": self.csrf or "", **form})

    def sign_in(self, email: str, password: str, totp_secret: str | None = None) -> None:
        """The sign-in form, and the two-factor step (a code is accepted once per account:
        when the current one was used already, wait for the next)."""
        self.get("/login")
        status, body = self.post("/login", {"email": email, "password": password, "next": ""})
        if status != 302:
            raise RuntimeError(f"sign-in as {email}: {status} {body[:300]}")
        if self.location.endswith("/login/two-factor"):
            if not totp_secret:
                raise RuntimeError(f"{email} needs a two-factor code")
            totp = pyotp.TOTP(totp_secret)
            for _ in range(4):
                self.get("/login/two-factor")
                status, _body = self.post("/login/two-factor", {"code": totp.now()})
                if status == 302 and not self.location.endswith("/login/two-factor"):
                    break
                time.sleep(31 - time.time() % 30)  # the next code
            else:
                raise RuntimeError(f"two-factor step for {email} failed: {status}")
        if "/login" in self.location:
            raise RuntimeError(f"sign-in as {email} ended at {self.location}")
