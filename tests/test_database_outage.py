"""The database goes away under a running instance and comes back; the real server is untouched.

A small TCP proxy (threads in this test) stands between an app instance, in its own process, and
PostgreSQL. Cutting it closes its listener and every forwarded connection, as a database restart
or a network failure would: pages then answer a friendly 503 ("try again"), /healthz answers
503. Re-opened on the same port, the service resumes by itself (pool_pre_ping replaces the dead
pooled connections) and what was saved before the cut is still there.

PostgreSQL only (TEST_DATABASE_URL): SQLite is a file opened by the process itself, with no
connection between them to cut.
"""

from __future__ import annotations

import socket
import threading

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Booking
from tests import factories
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_slot
from tests.instances import Browser, start_instance

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="the outage is a cut TCP proxy in front of PostgreSQL: set TEST_DATABASE_URL "
    "(SQLite is a file, with no connection to cut)",
)

UNAVAILABLE = "FairShift is briefly unavailable"


class CuttableProxy:
    """Forwards TCP connections from 127.0.0.1:<port> to the database server, until cut."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0  # chosen by the system at the first open, kept afterwards
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()

    def open(self) -> None:
        """Listen (again, on the same port) and forward every connection."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.2)  # so that the accept loop notices a cut
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and close every forwarded connection, both ends."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            _close(listener)  # shutdown first: leaves LISTEN at once, even mid-accept()
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            with self._lock:
                if self._listener is not listener:
                    return
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while this one was connecting
                    _close(client)
                    _close(upstream)
                    return
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._sockets -= {source, sink}
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on it
    except OSError:
        pass
    sock.close()


@pytest.fixture
def proxy(database_url):
    """A proxy to the test database's server, open; cut at the end."""
    target = sa.make_url(database_url)
    proxy = CuttableProxy(target.host or "127.0.0.1", target.port or 5432)
    proxy.open()
    yield proxy
    proxy.cut()


@pytest.fixture
def instance(database_url, proxy, world, tmp_path):
    """An app instance that reaches the test database only through the proxy."""
    via_proxy = sa.make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    instance = start_instance("outage", tmp_path, via_proxy.render_as_string(hide_password=False))
    yield instance
    instance.stop()


def add_slot(app, world, days: int) -> int:
    """An open counselling slot of provider A's counsellor, committed; returns its id."""
    with app.app_context():
        slot_id = make_slot(world["user"]["counselor"], days)
        db.session.commit()
        return slot_id


def assert_friendly_503(page, instance) -> None:
    """The error page: says what happened and to try again; no traceback, no driver details."""
    assert page.status == 503, (page.status, page.text[:500], instance.output()[-3000:])
    assert UNAVAILABLE in page.text and "try again" in page.text
    assert page.headers.get_content_type() == "text/html"
    assert page.headers.get("Retry-After") == "60"
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "127.0.0.1"):
        assert leak not in page.text, leak


def test_database_outage_answers_503_and_service_resumes_by_itself(app, world, proxy, instance):
    base = instance.base
    first, second = add_slot(app, world, days=3), add_slot(app, world, days=4)
    browser = Browser()
    assert browser.sign_in(base, factories.email_for("worker")).status == 302
    token = browser.csrf_token(base, "/counseling")
    booked = browser.post(base, f"/counseling/slots/{first}/book", {"csrf_token": token})
    assert booked.status == 302 and booked.location.startswith("/bookings/")  # saved before

    proxy.cut()
    assert_friendly_503(browser.get(base, "/"), instance)  # a signed-in page
    assert_friendly_503(browser.get(base, "/login"), instance)  # a page with no one signed in
    refused = browser.post(base, f"/counseling/slots/{second}/book", {"csrf_token": token})
    assert_friendly_503(refused, instance)  # a form sent during the outage
    api = browser.get(base, "/api/v1/stats/programme", {"Authorization": "Bearer not-a-token"})
    assert api.status == 503 and api.headers.get_content_type() == "application/json"
    assert api.text.strip() == '{"error":"The database is unreachable. Try again in a minute."}'
    health = Browser().get(base, "/healthz")  # as a load balancer asks: without a cookie
    assert health.status == 503 and '"unreachable"' in health.text
    assert "Database error" in instance.output()  # the operator's log has the details

    proxy.open()  # no restart of the instance: the pool notices and reconnects by itself
    assert Browser().get(base, "/healthz").status == 200
    home = browser.get(base, "/")
    assert home.status == 200 and "Signed in as Worker A" in home.text  # still signed in
    assert browser.get(base, booked.location).status == 200
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Booking).where(Booking.slot_id == first)))
        lost = db.session.scalars(sa.select(Booking).where(Booking.slot_id == second)).all()
    assert len(rows) == 1 and rows[0].status == "booked"
    assert lost == []  # the form sent during the outage saved nothing (and said so)


def test_a_blip_between_two_requests_goes_unnoticed(world, proxy, instance):
    """Every pooled connection dies while the instance is idle: pool_pre_ping (config.py) finds
    them dead before use and connects again, so the next page is simply served."""
    browser = Browser()
    assert browser.sign_in(instance.base, factories.email_for("worker")).status == 302
    assert browser.get(instance.base, "/").status == 200  # the pool now holds a connection
    proxy.cut()
    proxy.open()
    for _ in range(3):
        page = browser.get(instance.base, "/")
        assert page.status == 200, (page.status, instance.output()[-3000:])
    assert "Database error" not in instance.output()
