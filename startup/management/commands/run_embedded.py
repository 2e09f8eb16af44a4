"""`make run`: the whole product in one command, with no server to install.

Migrates, creates the admin user and sandbox credentials on first run, then
starts a Celery worker with beat (filesystem broker) and the development web
server. Ctrl-C stops all of it.

The banner (where to open it, how to sign in) is printed last, once the worker is
ready, the server answers and the webhooks are subscribed, so that it is not scrolled
away by start-up lines.
"""

import contextlib
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from django.conf import settings
from django.contrib.staticfiles.management.commands import runserver
from django.core.management import call_command
from django.core.management.base import BaseCommand

from messaging.tasks import subscribe_webhooks
from startup import bootstrap

STARTUP_SECONDS = 60  # after this, the banner is printed whatever is still starting
# Celery warns about root on every start; `make run` as root (a container, a VM) is
# a developer's choice, not news. Production images run as a user of their own.
ROOT_WARNING = "ignore:You're running the worker with superuser privileges"


def worker_command() -> list[str]:
    """The one worker of the embedded default: every queue (interactive, campaigns,
    sync; txtcrm/queues.py) and beat, in a single process; --quiet: no start-up banner
    (ours is the one to read)."""
    command = [sys.executable, "-m", "celery", "-A", "txtcrm", "--quiet", "worker", "--beat"]
    command += ["--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    command += ["--queues", ",".join(queue.name for queue in settings.CELERY_TASK_QUEUES)]
    command += ["--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
    return command


class Worker:
    """The worker process, its output passed on line by line, so that we see when it
    is ready and when a given task has finished."""

    def __init__(self, out):
        self._awaited: list[tuple[re.Pattern, threading.Event]] = []
        warnings = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), ROOT_WARNING]))
        self.process = subprocess.Popen(  # noqa: S603
            worker_command(),
            cwd=settings.BASE_DIR,
            env=os.environ | {"PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": warnings},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self.ready = self.seen(r"celery@\S+ ready\.")
        threading.Thread(target=self._pass_on, args=(out,), daemon=True).start()

    def seen(self, pattern: str) -> threading.Event:
        """Set once a line of the worker's output matches `pattern`."""
        event = threading.Event()
        self._awaited = [*self._awaited, (re.compile(pattern), event)]  # read by _pass_on
        return event

    def finished(self, task_id: str) -> threading.Event:
        return self.seen(rf"\[{task_id}\] (succeeded|raised|failed)")

    def _pass_on(self, out) -> None:
        for line in self.process.stdout:
            out.write(line, ending="")
            out.flush()
            for pattern, event in self._awaited:
                if pattern.search(line):
                    event.set()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Runserver(runserver.Command):
    """Django's development server without its start-up lines: the banner says where
    it is and how to stop it."""

    def on_bind(self, server_port: int) -> None:
        pass


def local_address(addrport: str) -> tuple[str, int]:
    """Where this machine reaches a server started on `addrport` (runserver's syntax:
    PORT, HOST:PORT, [IPv6]:PORT; no host or 0 means every interface)."""
    host, _colon, port = addrport.rpartition(":")
    host = host.strip("[]")
    with contextlib.suppress(ValueError):
        if host in ("", "0") or ipaddress.ip_address(host).is_unspecified:
            host = "localhost"
    return host, int(port)


def wait_until_listening(addrport: str, deadline: float) -> None:
    address = local_address(addrport)
    while time.monotonic() < deadline:
        try:
            socket.create_connection(address, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)


class Command(BaseCommand):
    help = "Run web server, Celery worker and beat with the embedded defaults."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args, addrport, no_worker, **options):
        if os.environ.get("RUN_MAIN") == "true":
            # The autoreloader's child process: everything else is already running.
            call_command(Runserver(), addrport)
            return
        # Ctrl-C must stop everything even when started from a shell that ignores SIGINT
        # (a background job): Python leaves an inherited "ignore" in place, and so would
        # the web server's process, which inherits it from this one.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        call_command("migrate", interactive=False, verbosity=0)
        admin = bootstrap.ensure_admin()
        sandbox_pairs = bootstrap.ensure_sandbox_credentials() if self._sandbox() else {}
        worker = None if no_worker else Worker(self.stdout)
        announce = (addrport, admin, sandbox_pairs, worker)
        threading.Thread(target=self._announce, args=announce, daemon=True).start()
        try:
            call_command(Runserver(), addrport)
        except KeyboardInterrupt:
            pass
        finally:
            if worker:
                worker.stop()

    def _sandbox(self) -> bool:
        return settings.SANDBOX_ENABLED and bootstrap.uses_builtin_sandbox()

    def _announce(self, addrport, admin, pairs, worker: Worker | None) -> None:
        """The banner, once everything is up (or STARTUP_SECONDS have passed)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        if worker:
            worker.ready.wait(STARTUP_SECONDS)
        wait_until_listening(addrport, deadline)
        if worker and pairs:
            task_id = str(uuid.uuid4())
            subscribed = worker.finished(task_id)
            subscribe_webhooks.apply_async(task_id=task_id)
            subscribed.wait(max(0, deadline - time.monotonic()))
        self._print_banner(addrport, admin, pairs)

    def _print_banner(self, addrport: str, admin: bootstrap.AdminLogin, pairs: dict) -> None:
        url = f"http://{addrport}/"
        lines = ["", "txtcrm is running", f"  Open        {url}"]
        if admin.password:
            lines.append(f"  Sign in     {admin.username} / {admin.password}")
        else:
            lines.append(f"  Sign in     {admin.username} (password changed since first run)")
        if pairs:
            key, secret = pairs["TXTSYNC_CLIENT_KEY"], pairs["TXTSYNC_CLIENT_SECRET"]
            lines += [
                f"  Sandbox     {settings.TXTSYNC_BASE_URL}",
                f"  TXTSYNC_CLIENT_KEY={key}",
                f"  TXTSYNC_CLIENT_SECRET={secret}",
                f"  Try         curl -u {key}:{secret} '{url}sandbox/contacts?search='",
            ]
        lines += ["  Stop        Ctrl-C", ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
