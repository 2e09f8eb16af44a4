"""Fixtures for the campaign tests: the sandbox with room for a test's calls, and real
Celery workers started on demand."""

import pytest

from tests.support.processes import Worker
from tests.support.sandbox import make_connection
from tests.support.txtsync import use_txtsync


@pytest.fixture
def txtsync(live_server, transactional_db, settings):
    """The sandbox with room for a test's calls; returns its HTTP session."""
    connection = make_connection(live_server, "default", rate="2000/60")
    use_txtsync(settings, connection.base_url, connection.client_key, connection.client_secret)
    settings.TXTSYNC_READ_TIMEOUT = 10
    settings.TXTSYNC_BUDGET = "2000/60"
    return connection.session()


@pytest.fixture
def stage(txtsync, settings):
    """Campaign rehearsals reach the live server's sandbox for their stage; returns the
    `default` application's session (the configured TxtSync, which a rehearsal must never
    call)."""
    settings.SANDBOX_REHEARSAL_URL = txtsync.base_url
    return txtsync


def worker_env(settings, **extra: str) -> dict[str, str]:
    """The worker's settings: it reads them from its environment, not from this process."""
    return {
        "TXTSYNC_BASE_URL": settings.TXTSYNC_BASE_URL,
        "TXTSYNC_CLIENT_KEY": settings.TXTSYNC_CLIENT_KEY,
        "TXTSYNC_CLIENT_SECRET": settings.TXTSYNC_CLIENT_SECRET,
        "TXTSYNC_FROM": settings.TXTSYNC_FROM,
        "TXTSYNC_BUDGET": settings.TXTSYNC_BUDGET,
        "TXTSYNC_CONNECT_TIMEOUT": str(settings.TXTSYNC_CONNECT_TIMEOUT),
        "TXTSYNC_READ_TIMEOUT": str(settings.TXTSYNC_READ_TIMEOUT),
        "CAMPAIGN_SENDING_LEASE_SECONDS": str(settings.CAMPAIGN_SENDING_LEASE_SECONDS),
        "SANDBOX_NETWORK_TICK": "3600",  # the simulated network plays no part here
        "SANDBOX_WEBHOOK_RETRY_TICK": "3600",
        **extra,
    }


@pytest.fixture
def start_worker(txtsync, settings):
    """Start Celery workers with beat (`--pool=solo`, as the embedded default runs them)
    on demand, with the settings of the moment they start (worker_env), `extra` settings
    and `worker_args` options; every one is stopped at the end."""
    started: list[Worker] = []

    def start(*worker_args: str, **extra: str) -> Worker:
        worker = Worker(*worker_args, **worker_env(settings, **extra))
        started.append(worker)
        return worker.wait_ready()

    yield start
    for number, worker in enumerate(started):
        if worker.process.poll() is None:
            worker.stop()
        # pytest shows this only when the test failed: what each worker said.
        print(f"--- worker {number} ---\n" + "".join(worker.output[-60:]))
