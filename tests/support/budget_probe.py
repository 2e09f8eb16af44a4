"""A worker process for the call-budget tests: makes N calls through the shared budget.

Usage: python -m tests.support.budget_probe PRIORITY N OPERATION
Prints one JSON line per call: when it was asked for, when it ran, and how it went.
"""

import json
import sys
import time

import django

django.setup()

from txtcrm import txtsync_gateway as gateway  # noqa: E402
from txtsync import TxtSyncError  # noqa: E402

OPERATIONS = {
    "search": lambda txtsync: txtsync.search_contacts(search_number="000"),
    "lookup": lambda txtsync: txtsync.get_contact_by_external_reference("probe"),
}


def main(priority: str, count: int, operation: str) -> None:
    for _ in range(count):
        asked = time.time()
        record = {"asked": asked, "priority": priority}
        while True:
            try:
                gateway.call(gateway.Priority[priority], OPERATIONS[operation], patience=120)
                record["result"] = "ok"
            except gateway.BudgetWait as wait:
                record.setdefault("waits", []).append(wait.reason)
                time.sleep(wait.seconds)
                continue
            except TxtSyncError as error:
                record["result"] = type(error).__name__
            break
        record["done"] = time.time()
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
