"""`make run` end to end: one process tree, a working system, Ctrl-C stops it all; the
address from ADDR, and a banner that is the last thing printed and stays so."""

import shlex
import time

import requests

from tests.support.embedded import BANNER_END, make_run, sign_in, start


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
