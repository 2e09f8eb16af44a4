"""Settings for the test suite: the product's settings, with local state (SQLite test
database, broker folders, Redis queue and key names) in a folder of its own per test run,
and per pytest-xdist worker, so tests never share a queue or a file with a running
`make run` or with each other. Child processes started by tests inherit TXTCRM_VAR_DIR
and so find the same folder."""

import os
from pathlib import Path


def _run_folder() -> str:
    """This run's folder; an xdist worker (PYTEST_XDIST_WORKER, inherited by the processes
    it starts) gets its own, named after the run's."""
    default = Path(__file__).resolve().parent.parent / "var" / f"test-run-{os.getpid()}"
    folder = os.environ.get("TXTCRM_VAR_DIR", str(default))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and not folder.endswith(f"-{worker}"):
        folder = f"{folder}-{worker}"
    return folder


os.environ["TXTCRM_VAR_DIR"] = _run_folder()

# The product's settings read TXTCRM_VAR_DIR: imported once it is set.
from txtcrm import queues  # noqa: E402
from txtcrm.settings import *  # noqa: E402, F403
from txtcrm.settings import CACHES, DATABASES, VAR_DIR  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so extra server and worker processes share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# Queues of its own (every priority queue, and the default one), so a shared Redis
# broker never mixes runs; workers started by tests (no -Q) consume all of them.
CELERY_QUEUE_PREFIX = f"txtcrm-{VAR_DIR.name}-"
_queues = queues.celery_settings(CELERY_QUEUE_PREFIX)
CELERY_TASK_QUEUES = _queues["CELERY_TASK_QUEUES"]
CELERY_TASK_ROUTES = _queues["CELERY_TASK_ROUTES"]
CELERY_TASK_DEFAULT_QUEUE = _queues["CELERY_TASK_DEFAULT_QUEUE"]
CELERY_TASK_DEFAULT_EXCHANGE = _queues["CELERY_TASK_DEFAULT_EXCHANGE"]
CELERY_TASK_DEFAULT_ROUTING_KEY = _queues["CELERY_TASK_DEFAULT_ROUTING_KEY"]
# Tests start a beat with each worker, and kill workers on purpose: a lock left by a
# killed beat must not hold the next one back (tests/txtcrm/test_queues.py tests it).
CELERY_BEAT_LOCK_URL = ""
CELERY_BEAT_LOCK_KEY = f"{CELERY_QUEUE_PREFIX}txtcrm:beat-lock"
# Plain static names whatever STATIC_ROOT holds: templates render without a manifest.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
TXTSYNC_BUDGET_REDIS_PREFIX = f"txtcrm-{VAR_DIR.name}:budget:"
CACHES["default"]["KEY_PREFIX"] = CELERY_QUEUE_PREFIX  # a shared Redis: keys of its own
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test logins
# Each test's inbox is its own: counts shared across tests (one cache, one key) would be
# another test's. tests/messaging/test_inbox_counts_shared.py turns the sharing on.
INBOX_COUNTS_MAX_AGE = 0
