"""`run.py --nodes N [--chaos]`: more "nodes" beside the first, each a web and the two
workers with its own process groups and its own worker hostnames (`interactive@node2`,
`background@node2`), all on the one PostgreSQL, Redis and sandbox; beat stays one for
all (its lock, txtcrm/beat.py). The agents are spread over the nodes' web processes as a
load balancer would; TxtSync's webhooks keep going to PUBLIC_BASE_URL (node 1).

--chaos: halfway through, the last node's web and interactive worker are SIGKILLed (a
crash, not a shutdown) and started again DOWN_SECONDS later. Afterwards the run checks
what must survive that: no SMS sent twice (the sandbox's own table), every webhook
applied once, the agents' replies not left behind, the budget still shared (no 429, no
window over the limit).
"""

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from deploy import processes
from deploy import prod_check as shape

SERVICES = ("web", "worker-interactive", "worker-background")  # beat: one for every node
VICTIMS = ("web", "worker-interactive")
DOWN_SECONDS = 15


def node_command(name: str, node: int, var: Path) -> list[str]:
    """deploy/processes.py's command for `name`, as node `node` runs it."""
    command = [arg.replace("@%h", f"@node{node}") for arg in processes.SERVICES[name]]
    if name == "web":  # gunicorn's control socket is per machine by default
        command += ["--control-socket", str(var / f"node{node}.ctl")]
    return command


@dataclass
class Node:
    number: int
    procs: shape.Processes
    url: str
    var: Path

    def start(self, name: str) -> None:
        self.procs.start(name, node_command(name, self.number, self.var))

    def answers(self) -> bool:
        self.procs.assert_alive()
        try:
            return requests.get(f"{self.url}/login/", timeout=5).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # still booting
            return False


def start_nodes(env: dict, count: int, var: Path) -> list[Node]:
    """Nodes 2..count, started and answering."""
    nodes = []
    for number in range(2, count + 1):
        port = shape.free_port()
        node_env = env | {"GUNICORN_BIND": f"127.0.0.1:{port}"}
        procs = shape.Processes(node_env, var / "logs" / f"node{number}")
        node = Node(number, procs, f"http://127.0.0.1:{port}", var)
        for name in SERVICES:
            node.start(name)
        shape.wait_until(f"node {number} to answer", node.answers, timeout=90, every=0.5)
        nodes.append(node)
    return nodes


def chaos(node: Node, after: float, notes: list[str]) -> threading.Thread:
    """A thread that crashes `node`'s VICTIMS after `after` seconds and restarts them."""

    def crash_and_restart() -> None:
        time.sleep(after)
        for name in VICTIMS:
            node.procs.kill(name)
        began = time.monotonic()
        time.sleep(DOWN_SECONDS)
        for name in VICTIMS:
            node.start(name)
        notes.append(
            f"Chaos: node {node.number}'s {' and '.join(VICTIMS)} SIGKILLed {after:.0f} s in, "
            f"started again {time.monotonic() - began:.0f} s later (its agents' requests "
            "in between are errors: no load balancer here to route around it)."
        )

    thread = threading.Thread(target=crash_and_restart, daemon=True)
    thread.start()
    return thread


def duplicate_sms(since) -> int:
    """Outbound SMS in the sandbox's own table sent twice (same number, same text)."""
    from django.db.models import Count

    from sandbox.models import SMS, Direction

    sent = SMS.objects.filter(direction=Direction.OUTBOUND, created_date__gte=since)
    pairs = sent.values("to_number", "message").annotate(n=Count("id")).filter(n__gt=1)
    return pairs.count()
