"""GET /healthz: what a load balancer or Docker asks before sending traffic."""

import contextlib
import socket
import threading

import pytest
from django.db import OperationalError
from kombu import Connection

from tests.support.polling import wait_until
from tests.support.processes import free_port
from txtcrm import health
from txtcrm.celery import app as celery_app


@pytest.fixture(autouse=True)
def fresh_txtsync_check():
    health.clear_cache()
    yield
    health.clear_cache()


MARKER = b"the test's own connection"


class Listener:
    """A TCP port that accepts connections and records the bytes it is sent."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.connections: list[bytes] = []  # handled (accepted, read, closed): what each sent
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            conn.settimeout(0.5)
            received = b""
            with contextlib.suppress(OSError):
                received = conn.recv(1024)
            conn.close()
            self.connections.append(received)

    @property
    def accepted(self) -> int:
        return len(self.connections)

    @property
    def received(self) -> bytes:
        return b"".join(self.connections)

    def wait_for(self, accepted: int) -> None:
        """The check's connect returns before this thread has accepted: wait for it."""
        wait_until(lambda: self.accepted >= accepted, timeout=5)

    def count_all(self) -> int:
        """How many connections were made until now, once all are handled: a last one of
        our own, with a marker, is handled after them (first come, first served)."""
        with socket.create_connection(("127.0.0.1", self.port)) as last:
            last.sendall(MARKER)
        wait_until(lambda: MARKER in self.connections, timeout=5, interval=0.02)
        return self.connections.index(MARKER)

    def close(self):
        self.server.close()


@pytest.fixture
def txtsync_listener(settings):
    listener = Listener()
    settings.TXTSYNC_BASE_URL = f"http://127.0.0.1:{listener.port}/"
    yield listener
    listener.close()


def test_healthy_answers_200_with_each_check_and_needs_no_login(client, db, txtsync_listener):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "txtsync", "webhooks"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


def test_no_secrets_or_addresses_in_the_answer(client, db, settings, txtsync_listener):
    settings.TXTSYNC_CLIENT_SECRET = "s3cret-client-secret-value"

    text = client.get("/healthz").content.decode()

    for secret in (
        settings.TXTSYNC_CLIENT_SECRET,
        settings.SECRET_KEY,
        settings.CELERY_BROKER_URL,
    ):
        assert secret not in text
    assert "127.0.0.1" not in text


def test_txtsync_is_checked_by_tcp_without_a_request_or_credentials(client, db, txtsync_listener):
    client.get("/healthz")

    txtsync_listener.wait_for(1)
    assert txtsync_listener.accepted == 1
    assert txtsync_listener.received == b""  # not one byte: no HTTP, no Basic auth


def test_txtsync_result_is_remembered_for_60_seconds(db, txtsync_listener):
    first = health.check_txtsync(now=1000.0)
    again = health.check_txtsync(now=1059.0)
    later = health.check_txtsync(now=1061.0)

    assert (first["cached"], again["cached"], later["cached"]) == (False, True, False)
    assert txtsync_listener.count_all() == 2


def test_txtsync_unreachable_is_reported_but_the_web_is_still_healthy(client, db, settings):
    settings.TXTSYNC_BASE_URL = f"http://127.0.0.1:{free_port()}/"  # nothing listens

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["txtsync"] == {
        "ok": False,
        "error": "ConnectionRefusedError",
        "ms": response.json()["checks"]["txtsync"]["ms"],
        "method": "tcp",
        "cached": False,
    }


def test_broker_down_is_503(client, db, monkeypatch, txtsync_listener):
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setattr(
        celery_app, "connection_for_write", lambda: Connection(unreachable, connect_timeout=1)
    )

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert unreachable not in response.content.decode()


def test_database_down_is_503(client, db, monkeypatch, txtsync_listener):
    class BrokenConnection:
        def cursor(self):
            raise OperationalError("could not connect to server: password=hunter2hunter2")

    monkeypatch.setattr(health, "connection", BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "error": "OperationalError",
        "ms": response.json()["checks"]["database"]["ms"],
    }
    assert "hunter2" not in response.content.decode()


def test_only_get(client, db):
    assert client.post("/healthz").status_code == 405
