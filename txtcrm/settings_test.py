"""Settings for the test suite: the product's settings, with local state (SQLite test
database, broker folders) in a folder of its own per test run, so tests never share
a queue or a file with a running `make run`. Child processes started by tests
inherit TXTCRM_VAR_DIR and so find the same folder."""

import os
from pathlib import Path

os.environ.setdefault(
    "TXTCRM_VAR_DIR",
    str(Path(__file__).resolve().parent.parent / "var" / f"test-run-{os.getpid()}"),
)

from txtcrm.settings import *  # noqa: F403
from txtcrm.settings import DATABASES, VAR_DIR

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so extra server and worker processes share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# A queue of its own, so a shared Redis broker never mixes runs.
CELERY_TASK_DEFAULT_QUEUE = f"txtcrm-{VAR_DIR.name}"
TXTSYNC_BUDGET_REDIS_PREFIX = f"txtcrm-{VAR_DIR.name}:budget:"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test logins
