"""Extra server processes for tests that need more than the live server's one."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from tests.support.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """DATABASE_URL of the database the running tests use, for other processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_until(listening, timeout, interval=0.1)


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": test_database_url(), **extra}


@contextmanager
def web_servers(count: int):
    """Start `count` web server processes on the test database; yield their base URLs."""
    processes, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=child_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
        for process, url in zip(processes, urls, strict=True):
            wait_for_port(int(url.rsplit(":", 1)[1]), process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


class Worker:
    """A real Celery worker with beat, in its own process group (as a terminal would start
    it, so that kill() takes beat's child process with it), on the test database and
    broker; worker_args add to (or override) its options, settings_env adds settings,
    read from its environment."""

    def __init__(self, *worker_args: str, **settings_env: str):
        command = [sys.executable, "-m", "celery", "-A", "txtcrm", "worker", "--beat"]
        command += ["--pool=solo", "--loglevel=INFO"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        schedule = Path(os.environ["TXTCRM_VAR_DIR"]) / f"beat-{free_port()}"
        command += ["--schedule", str(schedule), *worker_args]
        self.output: list[str] = []
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env(**settings_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def wait_ready(self, timeout: float = 60) -> "Worker":
        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError("Celery worker did not start:\n" + "".join(self.output))
            return any(" ready." in line for line in self.output)

        wait_until(ready, timeout, interval=0.05)
        return self

    def said(self, *texts: str) -> int:
        """How many lines of its output so far contain every one of `texts`."""
        return sum(all(text in line for text in texts) for line in self.output)

    def kill(self) -> None:
        """SIGKILL the whole group, as a power cut or the OOM killer would."""
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, signum)


@contextmanager
def celery_worker(*worker_args: str, **settings_env: str):
    """Run a worker (with beat) for the duration of the block."""
    worker = Worker(*worker_args, **settings_env)
    try:
        yield worker.wait_ready()
    finally:
        worker.stop()


REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def redis_reachable() -> bool:
    host_port = REDIS_TEST_URL.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False
