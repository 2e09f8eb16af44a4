"""The call budget across real worker processes against the sandbox's real limit.

Short windows keep it fast; nothing here asserts how long anything took.
"""

import json
import subprocess
import sys

import pytest
import requests

from sandbox.models import ApiCall
from tests.support.processes import ROOT, child_env
from tests.support.sandbox import make_connection
from txtcrm import txtsync_gateway as gateway


class Probes:
    """Worker processes calling TxtSync through the shared budget (budget_probe.py in
    tests/support)."""

    def __init__(self, connection, budget: str, priority: str, count: int, operation: str,
                 processes: int):  # fmt: skip
        env = child_env(
            TXTSYNC_BASE_URL=connection.base_url,
            TXTSYNC_CLIENT_KEY=connection.client_key,
            TXTSYNC_CLIENT_SECRET=connection.client_secret,
            TXTSYNC_BUDGET=budget,
            TXTSYNC_BUDGET_MARGIN="0.05",
        )
        probe = "tests.support.budget_probe"
        command = [sys.executable, "-m", probe, priority, str(count), operation]
        self.processes = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(processes)
        ]

    def wait_started(self) -> None:
        """Until each process has finished its first call."""
        for process in self.processes:
            assert process.stdout.readline(), "a probe died"

    def results(self) -> list[dict]:
        records = []
        for process in self.processes:
            out, _ = process.communicate(timeout=240)
            assert process.returncode == 0
            records += [json.loads(line) for line in out.splitlines()]
        return records


@pytest.fixture
def connection(live_server, transactional_db, settings):
    """A sandbox application limited to 20 calls / 2 s, and txtcrm configured for it."""
    connection = make_connection(live_server, "budget", rate="20/2")
    settings.TXTSYNC_BASE_URL = connection.base_url
    settings.TXTSYNC_CLIENT_KEY = connection.client_key
    settings.TXTSYNC_CLIENT_SECRET = connection.client_secret
    settings.TXTSYNC_BUDGET, settings.TXTSYNC_BUDGET_MARGIN = "20/2", 0.05
    return connection


def sandbox_429s(connection) -> int:
    stats = connection.session().get("_stats").json()
    return stats["applications"]["budget"]["rate_limited"]


def test_four_processes_share_one_budget_and_cause_no_429(connection):
    probes = Probes(connection, "20/2", "CAMPAIGN", 38, "search", processes=4)

    records = probes.results()

    assert len(records) == 152
    assert all(record["result"] == "ok" for record in records)
    assert sandbox_429s(connection) == 0
    assert gateway.budget().snapshot()["totals"]["rate_limited"] == 0


def test_a_429_caused_by_another_client_pauses_every_process(connection):
    probes = Probes(connection, "20/2", "CAMPAIGN", 12, "search", processes=4)
    probes.wait_started()

    other_client = requests.Session()
    other_client.auth = (connection.client_key, connection.client_secret)
    while other_client.get(f"{connection.base_url}contacts", timeout=10).status_code != 429:
        pass  # another integration on the same connection uses up the window
    records = probes.results()

    assert all(record["result"] == "ok" for record in records)
    our_429s = sandbox_429s(connection) - 1  # the other client stopped at its first
    assert 1 <= our_429s <= 2  # the first one blocks everyone until Retry-After
    assert gateway.budget().snapshot()["totals"]["rate_limited"] == our_429s
    assert any("429" in reason for record in records for reason in record.get("waits", []))


def test_an_interactive_call_overtakes_a_busy_campaign(connection):
    campaign = Probes(connection, "20/2", "CAMPAIGN", 25, "search", processes=6)
    campaign.wait_started()
    reply = Probes(connection, "20/2", "INTERACTIVE", 1, "lookup", processes=1)
    [asked] = reply.results()
    campaign.results()

    log = list(ApiCall.objects.filter(counted=True).order_by("at").values("operation", "at"))
    lookup = next(i for i, call in enumerate(log) if call["operation"].startswith("GetContact"))
    campaign_calls_before_reply = [
        call for call in log[:lookup] if call["at"].timestamp() > asked["asked"]
    ]
    assert asked["result"] == "NotFoundError"  # it reached TxtSync
    assert len(campaign_calls_before_reply) <= 3
