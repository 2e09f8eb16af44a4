"""Names the Locust users (locustfile.py) and the run's report (run.py) share; kept apart
so that run.py never imports the locustfile (importing Locust patches the process with
gevent)."""

WEBHOOK_ROUTE = "/hooks/txtsync/[token]/[kind]"  # every webhook POST, one row in the table
VISIBLE = "inbound visible"  # METRIC: an inbound text's POST answered -> an agent sees it
SIGN_IN = "/login/"  # a password hash by design: reported, not held to the page targets
