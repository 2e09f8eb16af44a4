"""gunicorn settings for txtcrm in production (deploy/processes.py: WEB).

Each value can be changed from the environment without editing this file.

- gthread workers: a request spends much of its time waiting (PostgreSQL commits, the
  broker), and the webhook receiver's throughput grows with threads that overlap those
  waits (docs/benchmarks.md, "Webhook receiver throughput"); processes add CPU.
- Timeouts: 30 s per request (every TxtSync call runs in Celery, never in a request),
  30 s to finish in-flight requests on a restart, keep-alive 5 s behind a proxy.
- Access log: method, path (no query string, webhook token blanked), status, bytes,
  duration and request id; never query strings, referrer queries or credentials
  (txtcrm/gunicorn_logging.py).
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
wsgi_app = "txtcrm.wsgi:application"
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", max(2, min(4, multiprocessing.cpu_count())))
threads = _int("GUNICORN_THREADS", 8)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# No recycling by default: a gthread worker that restarts after max_requests resets the
# keep-alive connections it holds (gunicorn#3038, still open; issue 17's load run saw
# those errors), and the 30-minute load run shows flat memory without it. Set it (say
# 5000, staggered by a tenth) if a leak ever needs the safety net.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# Heartbeat files in memory, not on a container's overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# Trust X-Forwarded-* only from these addresses (the reverse proxy).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

loglevel = os.environ.get("LOG_LEVEL", "info").lower()
errorlog = "-"
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") not in {"0", "off", "no"} else None
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}o)s'
logger_class = "txtcrm.gunicorn_logging.RedactingLogger"
