"""`make run`: the whole product in one command, with no server to install.

Migrates, creates the admin user and sandbox credentials on first run, then
starts a Celery worker with beat (filesystem broker) and the development web
server. Ctrl-C stops all of it.
"""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from messaging.tasks import subscribe_webhooks
from startup import bootstrap


def worker_command() -> list[str]:
    """The one worker of the embedded default: every queue (interactive, campaigns,
    sync; txtcrm/queues.py) and beat, in a single process."""
    command = [sys.executable, "-m", "celery", "-A", "txtcrm", "worker", "--beat"]
    command += ["--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    command += ["--queues", ",".join(queue.name for queue in settings.CELERY_TASK_QUEUES)]
    command += ["--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
    return command


class Command(BaseCommand):
    help = "Run web server, Celery worker and beat with the embedded defaults."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args, addrport, no_worker, **options):
        if os.environ.get("RUN_MAIN") == "true":
            # The autoreloader's child process: everything else is already running.
            call_command("runserver", addrport)
            return
        # Ctrl-C must stop everything even when started from a shell that ignores SIGINT
        # (a background job): Python leaves an inherited "ignore" in place, and so would
        # the web server's process, which inherits it from this one.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        call_command("migrate", interactive=False, verbosity=0)
        admin = bootstrap.ensure_admin()
        sandbox_pairs = bootstrap.ensure_sandbox_credentials() if self._sandbox() else {}
        worker = None if no_worker else self._start_worker()
        if worker and sandbox_pairs:
            subscribe_webhooks.delay()  # the worker does it once the server answers
        try:
            self._print_banner(addrport, admin, sandbox_pairs)
            call_command("runserver", addrport)
        except KeyboardInterrupt:
            pass
        finally:
            if worker:
                self._stop(worker)

    def _sandbox(self) -> bool:
        return settings.SANDBOX_ENABLED and bootstrap.uses_builtin_sandbox()

    def _start_worker(self) -> subprocess.Popen:
        return subprocess.Popen(worker_command(), cwd=settings.BASE_DIR)  # noqa: S603

    def _stop(self, worker: subprocess.Popen) -> None:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()

    def _print_banner(self, addrport: str, admin: bootstrap.AdminLogin, pairs: dict) -> None:
        url = f"http://{addrport}/"
        lines = ["", "txtcrm is starting", f"  Open        {url}"]
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
