"""Celery queues per priority, and which task goes where.

The call budget (txtcrm/budget.py) orders *TxtSync calls* by priority; these queues keep
*workers* from being tied up by lower-priority work, so an inbox reply or a webhook's
effects never wait behind a 10-second campaign slice or a full contact import:

- `replies`: sending a reply (a person's or an automatic one; Priority.INTERACTIVE). A
  queue of its own so that a reply never waits behind a backlog of webhook effects: the
  interactive worker consumes `replies,interactive`, and kombu takes from the queues in
  turn (round robin), not one after the other (the load run of issue 17 saw a reply wait
  78 s behind 1,980 queued `apply_events` when they shared one FIFO queue).
- `interactive`: what else a person is waiting for: the effects of inbound/outbound
  notifications, automatic replies' decisions, and the sweeper that re-queues both.
- `campaigns`: campaign runs and the campaign tick (Priority.CAMPAIGN).
- `sync`: contact push, refresh, full pull and CSV imports (Priority.SYNC_PUSH and
  REFRESH), outgoing webhooks, the built-in sandbox's own network and webhook
  deliveries, and any task not named below (the default queue).

Production runs a worker per queue group (deploy/processes.py: one for
`replies,interactive`, one for `campaigns,sync`); `make run`'s single worker and the
tests' workers consume every queue. Names get an optional prefix (CELERY_QUEUE_PREFIX)
so that test runs sharing one Redis never share a queue.
"""

from kombu import Exchange, Queue

REPLIES = "replies"
INTERACTIVE = "interactive"
CAMPAIGNS = "campaigns"
SYNC = "sync"
QUEUES = (REPLIES, INTERACTIVE, CAMPAIGNS, SYNC)
DEFAULT = SYNC

# Task name (or glob) -> queue. Anything else goes to DEFAULT.
ROUTES: dict[str, str] = {
    "messaging.send_message": REPLIES,
    "messaging.apply_events": INTERACTIVE,
    "messaging.sweep": INTERACTIVE,
    "messaging.subscribe_webhooks": INTERACTIVE,
    "automations.*": INTERACTIVE,  # automatic replies: a texter is waiting
    "campaigns.*": CAMPAIGNS,
    "contacts.*": SYNC,
    "sandbox.*": SYNC,
    "integrations.*": SYNC,  # outgoing webhooks to other systems
}


def queue_name(queue: str, prefix: str = "") -> str:
    return f"{prefix}{queue}"


def prefix_consumed(selected, prefix: str) -> None:
    """`celery worker --queues interactive` names a queue without the prefix, so that one
    command serves every installation (deploy/processes.py, docker-compose.yml): the
    worker consumes the prefixed queue instead. `selected` is app.amqp.queues."""
    if not prefix:
        return
    for name in list(selected.consume_from):
        if name in QUEUES:
            selected.deselect(name)
            selected.select_add(selected[queue_name(name, prefix)])


def celery_settings(prefix: str = "") -> dict:
    """CELERY_TASK_QUEUES / _ROUTES / _DEFAULT_QUEUE for settings (and settings_test)."""
    names = {queue: queue_name(queue, prefix) for queue in QUEUES}
    return {
        # Declared, so a worker started without -Q consumes every one of them.
        "CELERY_TASK_QUEUES": [
            Queue(name, Exchange(name, type="direct"), routing_key=name) for name in names.values()
        ],
        "CELERY_TASK_ROUTES": {task: {"queue": names[queue]} for task, queue in ROUTES.items()},
        "CELERY_TASK_DEFAULT_QUEUE": names[DEFAULT],
        "CELERY_TASK_DEFAULT_EXCHANGE": names[DEFAULT],
        "CELERY_TASK_DEFAULT_ROUTING_KEY": names[DEFAULT],
    }
