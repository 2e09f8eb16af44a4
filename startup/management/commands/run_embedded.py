"""`make run`: the whole product in one command, with no server to install.

Migrates, creates the admin user and sandbox credentials on first run, then
starts a Celery worker with beat (filesystem broker) and the development web
server. Ctrl-C stops all of it.

The worker and its beat child run in a process group of their own, which is stopped as
a whole (SIGTERM, then SIGKILL) however this command ends: Ctrl-C, SIGTERM, SIGHUP, an
error. If the worker dies, what is left of its group is stopped too and so is this
command, with a message. If this command is killed outright, the kernel stops the
worker (txtcrm.process_tree.die_with_parent), and the worker's death its beat
(txtcrm/beat.py); a beat left over all the same holds the schedule's lock file, so a
new one stands by rather than sending every periodic task twice.

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
from django.core.management.base import BaseCommand, CommandError

from messaging.tasks import subscribe_webhooks
from startup import bootstrap
from txtcrm.process_tree import die_with_parent, group_members

STARTUP_SECONDS = 60  # after this, the banner is printed whatever is still starting
STOP_SECONDS = 15  # the worker's warm shutdown (the task in hand) before SIGKILL
# Celery warns about root on every start; `make run` as root (a container, a VM) is
# a developer's choice, not news. Production images run as a user of their own.
ROOT_WARNING = "ignore:You're running the worker with superuser privileges"


def worker_command() -> list[str]:
    """The one worker of the embedded default: every queue (replies, interactive, campaigns,
    sync; txtcrm/queues.py) and beat, in a single process; --quiet: no start-up banner
    (ours is the one to read)."""
    command = [sys.executable, "-m", "celery", "-A", "txtcrm", "--quiet", "worker", "--beat"]
    command += ["--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    command += ["--queues", ",".join(queue.name for queue in settings.CELERY_TASK_QUEUES)]
    command += ["--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
    return command


class Worker:
    """The worker process, in a process group of its own (it and its beat child), its
    output passed on line by line, so that we see when it is ready and when a given task
    has finished; `on_death` is called if it exits before stop()."""

    def __init__(self, out, on_death=lambda returncode: None):
        self._awaited: list[tuple[re.Pattern, threading.Event]] = []
        self._stopping = threading.Event()
        warnings = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), ROOT_WARNING]))
        self.process = subprocess.Popen(  # noqa: S603
            worker_command(),
            cwd=settings.BASE_DIR,
            env=os.environ
            | {"PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": warnings, "TXTCRM_EMBEDDED_BEAT": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            process_group=0,  # its own group: stopped as a whole, beat with it
            preexec_fn=die_with_parent,
        )
        self.group = self.process.pid
        self.ready = self.seen(r"celery@\S+ ready\.")
        threading.Thread(target=self._pass_on, args=(out,), daemon=True).start()
        threading.Thread(target=self._watch, args=(on_death,), daemon=True).start()

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

    def _watch(self, on_death) -> None:
        returncode = self.process.wait()
        if not self._stopping.is_set():
            self.stop_group()  # its beat child, or anything else left of it
            on_death(returncode)

    def stop(self) -> None:
        self._stopping.set()
        self.stop_group()

    def stop_group(self) -> None:
        """SIGTERM to the worker's whole group (a warm shutdown: the worker finishes the
        task in hand and stops beat), then SIGKILL to whatever is left."""
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while group_members(self.group) and time.monotonic() < deadline:
            time.sleep(0.1)
        self._signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.group, signum)


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
            # The autoreloader's child process: everything else is already running. It
            # ends with its parent, even one killed outright, as the worker does.
            die_with_parent()
            call_command(Runserver(), addrport)
            return
        # Ctrl-C must stop everything even when started from a shell that ignores SIGINT
        # (a background job): Python leaves an inherited "ignore" in place, and so would
        # the web server's process, which inherits it from this one.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # A closed terminal stops everything as Ctrl-C does. (SIGTERM: the autoreloader's
        # handler raises SystemExit, which the `finally` below sees too.)
        signal.signal(signal.SIGHUP, signal.default_int_handler)
        call_command("migrate", interactive=False, verbosity=0)
        admin = bootstrap.ensure_admin()
        sandbox_pairs = bootstrap.ensure_sandbox_credentials() if self._sandbox() else {}
        self.worker_died: int | None = None
        worker = None if no_worker else Worker(self.stdout, on_death=self._worker_died)
        announce = (addrport, admin, sandbox_pairs, worker)
        threading.Thread(target=self._announce, args=announce, daemon=True).start()
        try:
            call_command(Runserver(), addrport)
        except KeyboardInterrupt:
            pass
        finally:
            if worker:
                worker.stop()
        if self.worker_died is not None:
            raise CommandError(
                f"The Celery worker stopped unexpectedly (exit status {self.worker_died}), "
                "so txtcrm stopped too: periodic tasks and sending need it. Run `make run` "
                "again."
            )

    def _worker_died(self, returncode: int) -> None:
        """Stop the web server too (as Ctrl-C would): a txtcrm without its worker would
        take replies it never sends."""
        self.worker_died = returncode
        os.kill(os.getpid(), signal.SIGINT)

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
