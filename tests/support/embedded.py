"""`make run` as a test drives it: the command, started in its own session (as a
terminal would), its output collected, Ctrl-C, and the processes it left."""

import contextlib
import os
import re
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
        self.session = self.process.pid  # start_new_session: the shell leads it
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

    def processes(self) -> list[dict]:
        """Every process still running in the run's session (make, manage.py, the web
        server, the worker's own process group, beat): pid, pgid, ppid, args."""
        table = subprocess.run(["ps", "-ww", "-eo", "sid=,pgid=,pid=,ppid=,stat=,args="],
                               capture_output=True, text=True, check=True).stdout  # fmt: skip
        found = []
        for line in table.splitlines():
            sid, pgid, pid, ppid, stat, args = line.split(None, 5)
            if int(sid) == self.session and not stat.startswith("Z"):
                found.append({"pid": int(pid), "pgid": int(pgid), "ppid": int(ppid),
                              "args": args})  # fmt: skip
        return found

    def worker(self) -> dict:
        """The Celery worker `make run` started (beat runs in a child it forks)."""
        celery = [p for p in self.processes() if "celery" in p["args"] and "worker" in p["args"]]
        pids = {p["pid"] for p in celery}
        [worker] = [p for p in celery if p["ppid"] not in pids]
        return worker

    def group(self, pgid: int) -> list[dict]:
        return [p for p in self.processes() if p["pgid"] == pgid]

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the terminal's process group; everything the run started,
        in any process group, must exit."""
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGINT)
        try:
            self.process.wait(timeout=45)  # the worker finishes the task in hand first
        except subprocess.TimeoutExpired:
            self.kill_all()
            raise AssertionError(f"Ctrl-C left:\n{''.join(self.output)}") from None
        self.assert_all_gone("Ctrl-C")

    def assert_all_gone(self, after: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.processes():
                return
            time.sleep(0.2)
        left = self.processes()
        self.kill_all()
        raise AssertionError(f"processes were left running after {after}: {left}")

    def kill_all(self) -> None:
        for process in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process["pid"], signal.SIGKILL)


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
