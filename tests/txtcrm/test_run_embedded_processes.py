"""Issue 15 (item 6): `make run` runs its worker and beat in a process group of its own
and stops the whole group however it ends; a worker that dies takes its beat with it,
and a beat left behind cannot make periodic tasks run twice. Real processes."""

import os
import signal

import pytest

from tests.support.embedded import start
from tests.support.polling import wait_until
from txtcrm import beat
from txtcrm.celery import app as celery_app


def run_embedded(run) -> dict:
    """The run_embedded command's process (the autoreloader's parent, not its child)."""
    shell = run.process.pid  # `sh -c "… manage.py run_embedded …"`
    commands = [p for p in run.processes() if "manage.py run_embedded" in p["args"]]
    commands = [p for p in commands if p["pid"] != shell]
    pids = {p["pid"] for p in commands}
    [parent] = [p for p in commands if p["ppid"] not in pids]
    return parent


def test_the_worker_and_beat_run_in_a_group_of_their_own(tmp_path):
    run, _login = start(tmp_path)
    try:
        worker = run.worker()
        assert worker["pgid"] == worker["pid"] != os.getpgid(run.process.pid)
        beats = [p for p in run.group(worker["pgid"]) if p["ppid"] == worker["pid"]]
        assert len(beats) == 1  # the embedded beat, in the worker's group
    finally:
        run.interrupt()  # and Ctrl-C still stops every one of them


def test_when_the_worker_dies_its_beat_and_make_run_stop_too(tmp_path):
    run, _login = start(tmp_path)
    try:
        worker = run.worker()
        group = worker["pgid"]
        assert len(run.group(group)) == 2  # the worker and its beat

        os.kill(worker["pid"], signal.SIGKILL)  # the OOM killer, say

        assert wait_until(lambda: run.group(group) == [], timeout=30), run.group(group)
        run.process.wait(timeout=45)
        assert run.process.returncode != 0
        assert "The Celery worker stopped unexpectedly" in "".join(run.output)
        run.assert_all_gone("the worker's death")
    finally:
        run.kill_all()

    again, _login = start(tmp_path)  # the next `make run` starts cleanly: one beat
    try:
        worker = again.worker()
        assert len(again.group(worker["pgid"])) == 2
    finally:
        again.interrupt()


def test_when_make_run_is_killed_outright_the_worker_and_beat_stop(tmp_path):
    run, _login = start(tmp_path)
    try:
        group = run.worker()["pgid"]
        parent = run_embedded(run)

        os.kill(parent["pid"], signal.SIGKILL)  # nothing of it runs after this

        assert wait_until(lambda: run.group(group) == [], timeout=30), run.group(group)
        run.assert_all_gone("SIGKILL")  # the web server too
    finally:
        run.kill_all()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_make_run_stops_the_whole_group(tmp_path, signum):
    run, _login = start(tmp_path)
    try:
        group = run.worker()["pgid"]
        parent = run_embedded(run)

        os.kill(parent["pid"], signum)

        assert wait_until(lambda: run.group(group) == [], timeout=30), run.group(group)
        run.assert_all_gone(signal.Signals(signum).name)
    finally:
        run.kill_all()


def test_a_second_beat_on_the_same_schedule_stands_by_until_the_first_is_gone(tmp_path):
    """A beat left behind by an earlier run holds the schedule's lock file: a new beat
    sends nothing until it is gone (then takes over at once)."""
    path = str(tmp_path / "celerybeat-schedule.lock")
    leftover, new = beat.FileBeatLock(path), beat.FileBeatLock(path)

    assert leftover.hold() is True
    assert new.hold() is False
    assert beat.wait_for(new, stop_waiting=lambda: True) is False

    leftover.release()  # what the kernel does when the leftover dies
    assert new.hold() is True
    assert leftover.hold() is False
    new.release()


def test_an_embedded_beat_holds_its_schedules_lock_file_while_it_runs(settings, tmp_path):
    settings.CELERY_BEAT_LOCK_URL = ""  # the embedded default
    schedule = str(tmp_path / "celerybeat-schedule")
    scheduler = beat.LockedScheduler(app=celery_app, schedule_filename=schedule, lazy=True)
    other = beat.FileBeatLock(f"{schedule}.lock")
    try:
        assert other.hold() is False  # a second beat on this schedule would stand by
    finally:
        scheduler.close()
    assert other.hold() is True
    other.release()
