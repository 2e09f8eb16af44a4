"""`make run` end to end: one process tree, a working system, Ctrl-C stops it all; the
address from ADDR, and a banner that is the last thing printed and stays so."""

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import requests

from tests.support.processes import ROOT, free_port

# Unset for `make run`: its defaults are the embedded system (PUBLIC_BASE_URL from ADDR).
EMBEDDED_ONLY = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "TXTSYNC_BASE_URL")
EMBEDDED_ONLY += ("PUBLIC_BASE_URL", "TXTSYNC_CLIENT_KEY", "TXTSYNC_CLIENT_SECRET")
BANNER_END = "  Stop        Ctrl-C\n"


def make_run(*variables: str) -> str:
    """The command `make run` runs (make --dry-run: no install step is taken)."""
    dry_run = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "run", *variables],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return next(line for line in dry_run.splitlines() if "run_embedded" in line)


class EmbeddedRun:
    """`make run ADDR=127.0.0.1:<port>` in its own process group, its output collected."""

    def __init__(self, var_dir, port: int):
        env = {k: v for k, v in os.environ.items() if k not in EMBEDDED_ONLY}
        env |= {"TXTCRM_VAR_DIR": str(var_dir), "DEBUG": "1"}
        env |= {"DJANGO_SETTINGS_MODULE": "txtcrm.settings"}  # the product's, not the tests'
        env |= {"PYTHONUNBUFFERED": "1"}
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            ["sh", "-c", make_run(f"ADDR=127.0.0.1:{port}")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, as a terminal would give it
        )
        self.env = env | {"PUBLIC_BASE_URL": self.url}  # for manage(), as make run sets it
        self.output: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, "".join(self.output), re.MULTILINE)
            if match:
                return match
            assert self.process.poll() is None, "".join(self.output)
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not seen in:\n{''.join(self.output)}")

    def manage(self, *args: str) -> str:
        """Another manage.py command against the same installation."""
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
            capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the whole process group; everything in it must exit."""
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGINT)
        try:
            self.process.wait(timeout=45)  # the worker finishes the task in hand first
        except subprocess.TimeoutExpired:
            table = subprocess.run(["ps", "-eo", "pgid,pid,stat,etime,args"],
                                   capture_output=True, text=True).stdout  # fmt: skip
            still = [line for line in table.splitlines() if line.split()[0] == str(group)]
            os.killpg(group, signal.SIGKILL)
            left = "\n".join(still)
            raise AssertionError(f"Ctrl-C left:\n{left}\n{''.join(self.output)}") from None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        os.killpg(group, signal.SIGKILL)
        raise AssertionError("processes were left running after Ctrl-C")


def sign_in(url: str, username: str, password: str, session=None) -> requests.Response:
    session = session or requests.Session()
    session.get(f"{url}/login/", timeout=10)
    return session.post(
        f"{url}/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{url}/login/"},
        timeout=10,
    )


def start(var_dir) -> tuple[EmbeddedRun, dict[str, str]]:
    """`make run`, once its banner (printed when everything is up) is out."""
    run = EmbeddedRun(var_dir, free_port())
    run.wait_for(re.escape(BANNER_END))
    login = run.wait_for(r"Sign in\s+(\S+) / (\S+)")
    key = run.wait_for(r"TXTSYNC_CLIENT_KEY=(\S+)")[1]
    secret = run.wait_for(r"TXTSYNC_CLIENT_SECRET=(\S+)")[1]
    return run, {"user": login[1], "password": login[2], "key": key, "secret": secret}


def test_make_run_sets_the_address_and_the_public_url_together():
    assert make_run().endswith("manage.py run_embedded 127.0.0.1:8000")  # the default
    assert "PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:8000} " in make_run()

    command = make_run("ADDR=127.0.0.1:8001")

    assert command.endswith("manage.py run_embedded 127.0.0.1:8001")
    assert shlex.split(command)[1] == "PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:8001}"


def test_one_command_runs_web_worker_and_beat_and_ctrl_c_stops_them(tmp_path):
    run, first = start(tmp_path)
    try:
        started = "".join(run.output)
        assert "celery@" in started and "beat: Starting" in started  # before the banner
        assert f"Sandbox     {run.url}/sandbox/" in started  # PUBLIC_BASE_URL from ADDR
        assert "Webhooks: subscribed" in run.manage("txtsync_webhooks", "status")
        home = sign_in(run.url, first["user"], first["password"])
        assert home.url == f"{run.url}/" and "Inbox" in home.text
        contacts = requests.get(
            f"{run.url}/sandbox/contacts",
            params={"search": ""},
            auth=(first["key"], first["secret"]),
            timeout=10,
        )
        assert (contacts.status_code, contacts.json()) == (200, [])
        assert requests.get(f"{run.url}/static/css/app.css", timeout=10).status_code == 200
    finally:
        run.interrupt()

    run, second = start(tmp_path)
    try:
        assert second == first  # the same admin login and sandbox credentials
    finally:
        run.interrupt()


def test_the_banner_is_printed_last_and_stays_last_and_a_403_is_one_line(tmp_path):
    run, _login = start(tmp_path)
    try:
        started = "".join(run.output)
        # Expected warnings are not printed: the file broker has no host, and Celery's
        # about root (this machine runs the tests as root).
        assert "No hostname was supplied" not in started
        assert "superuser privileges" not in started and "Traceback" not in started
        assert started.count("Watching for file changes") == 1  # not once per handler
        # Beat's ticks (the sandbox's network every 2 s) are not logged at INFO: after a
        # few of them, the banner is still the last thing on the screen.
        time.sleep(5)  # a window to observe: nothing may be printed in it
        assert "".join(run.output).endswith(BANNER_END), "".join(run.output)[len(started) :]

        create_agent = "from django.contrib.auth.models import User; "
        create_agent += "User.objects.create_user('agent', password='agent-password-1')"
        run.manage("shell", "-c", create_agent)
        agent = requests.Session()
        sign_in(run.url, "agent", "agent-password-1", agent)
        before = len("".join(run.output))

        assert agent.get(f"{run.url}/settings/", timeout=10).status_code == 403

        run.wait_for(r'"GET /settings/ HTTP/1.1" 403')
        logged = "".join(run.output)[before:]
        assert logged.count("Forbidden (Permission denied): /settings/") == 1, logged
        assert "Traceback" not in logged
    finally:
        run.interrupt()
