"""The production processes, as commands: the one source for docker-compose.yml (each
service's `command`, checked by tests/txtcrm/test_deploy.py) and `make prod-check`
(deploy/prod_check.py starts exactly these, with .venv/bin first on PATH).

Settings come from the environment (docs/operations.md, "Production"), never from these
commands, so the same commands run in a container and on this machine.

Layout: one web (gunicorn, several processes x threads), one worker for what people
wait for (`replies,interactive`: replies, webhook effects), one for the rest (`campaigns`,
`sync`: campaign runs, contact sync, imports, the built-in sandbox's own network),
and exactly one beat (a second one stands by: txtcrm/beat.py). Scale by running more
copies of a worker; the queue split is txtcrm/queues.py.
"""

MANAGE = ["python", "manage.py"]
MIGRATE = [*MANAGE, "migrate", "--noinput"]
COLLECTSTATIC = [*MANAGE, "collectstatic", "--noinput"]

WEB = ["gunicorn", "--config", "deploy/gunicorn.conf.py"]

_WORKER = ["celery", "-A", "txtcrm", "worker", "--loglevel", "INFO"]
_WORKER += ["--without-gossip", "--without-mingle"]  # less broker chatter on Redis
WORKER_INTERACTIVE = [
    *_WORKER,
    *("--queues", "replies,interactive", "--hostname", "interactive@%h", "--concurrency", "4"),
    # Take one task at a time per process, so a reply queued behind a burst of webhook
    # effects is next, not behind 16 tasks already prefetched (txtcrm/queues.py).
    *("--prefetch-multiplier", "1"),
]
# One task at a time per process: a 10 s campaign slice must not hold prefetched
# contact pushes (or the sandbox's webhooks) hostage.
WORKER_BACKGROUND = [
    *_WORKER,
    *("--queues", "campaigns,sync", "--hostname", "background@%h", "--concurrency", "4"),
    *("--prefetch-multiplier", "1"),
]

BEAT = ["celery", "-A", "txtcrm", "beat", "--loglevel", "INFO"]

# docker-compose.yml service name -> command.
SERVICES = {
    "migrate": MIGRATE,
    "web": WEB,
    "worker-interactive": WORKER_INTERACTIVE,
    "worker-background": WORKER_BACKGROUND,
    "beat": BEAT,
}
# Services that run for good (migrate runs once, before them).
LONG_RUNNING = ("web", "worker-interactive", "worker-background", "beat")
