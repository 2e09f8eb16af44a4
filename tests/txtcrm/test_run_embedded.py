"""`make run`'s command end to end: one process tree, a working system, Ctrl-C stops it all."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import requests

from tests.support.processes import ROOT, free_port

EMBEDDED_ONLY = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "TXTSYNC_BASE_URL")


class EmbeddedRun:
    """`manage.py run_embedded` in its own process group, its output collected."""

    def __init__(self, var_dir, port: int):
        env = {k: v for k, v in os.environ.items() if k not in EMBEDDED_ONLY}
        env |= {"TXTCRM_VAR_DIR": str(var_dir), "DEBUG": "1"}
        env |= {"DJANGO_SETTINGS_MODULE": "txtcrm.settings"}  # the product's, not the tests'
        env |= {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
        env.pop("TXTSYNC_CLIENT_KEY", None)
        env.pop("TXTSYNC_CLIENT_SECRET", None)
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_embedded", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, as a terminal would give it
        )
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


def sign_in(url: str, username: str, password: str) -> requests.Response:
    session = requests.Session()
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
    run = EmbeddedRun(var_dir, free_port())
    login = run.wait_for(r"Sign in\s+(\S+) / (\S+)")
    key = run.wait_for(r"TXTSYNC_CLIENT_KEY=(\S+)")[1]
    secret = run.wait_for(r"TXTSYNC_CLIENT_SECRET=(\S+)")[1]
    run.wait_for(r"celery@\S+ ready")
    run.wait_for(r"Starting development server")
    return run, {"user": login[1], "password": login[2], "key": key, "secret": secret}


def test_one_command_runs_web_worker_and_beat_and_ctrl_c_stops_them(tmp_path):
    run, first = start(tmp_path)
    try:
        run.wait_for(r"beat: Starting")
        home = sign_in(run.url, first["user"], first["password"])
        assert home.url == f"{run.url}/" and "Inbox" in home.text
        contacts = requests.get(
            f"{run.url}/sandbox/contacts",
            params={"search": ""},
            auth=(first["key"], first["secret"]),
            timeout=10,
        )
        assert (contacts.status_code, contacts.json()) == (200, [])
        deadline = time.monotonic() + 60
        while "Webhooks: subscribed" not in run.manage("txtsync_webhooks", "status"):
            assert time.monotonic() < deadline, "make run did not subscribe the webhooks"
            time.sleep(0.5)
    finally:
        run.interrupt()

    run, second = start(tmp_path)
    try:
        assert second == first  # the same admin login and sandbox credentials
    finally:
        run.interrupt()
