"""Log formatters: plain text (default) or JSON lines (LOG_FORMAT=json), both of which
blank out secrets before a line leaves the process.

JSON lines carry `time` (ISO 8601, UTC), `level`, `logger`, `message`, `request_id`
("-" outside a web request), `exc_info` when there is a traceback, and any `extra=`
fields.

Secrets are kept out of log calls in the first place; this is the safety net for
what slips through (an exception message quoting a URL, a third-party library's debug
line): the TxtSync Client Secret, SECRET_KEY, the passwords in DATABASE_URL and the
Redis URLs, and the token in webhook receiver paths (/hooks/txtsync/<token>/...) are
replaced by "[redacted]" in the final text, traceback included.
"""

import json
import logging
import re
from functools import lru_cache
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8  # shorter values are too likely to be ordinary words
HOOK_TOKEN = re.compile(r"(/hooks/txtsync/)[^/\s?#\"'\\]+")


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


@lru_cache(maxsize=8)
def _secrets(values: tuple[str, ...]) -> tuple[str, ...]:
    """Each secret as written, and as JSON escapes it; longest first."""
    found = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
    found |= {json.dumps(v)[1:-1] for v in found}
    return tuple(sorted(found, key=len, reverse=True))


def configured_secrets() -> tuple[str, ...]:
    try:
        from django.conf import settings

        database = settings.DATABASES.get("default", {})
        values = (
            settings.TXTSYNC_CLIENT_SECRET,
            settings.SECRET_KEY,
            database.get("PASSWORD") or "",
            settings.EMAIL_HOST_PASSWORD,  # an SMTP error may quote the login
            *(
                _url_password(url)
                for url in (
                    settings.CELERY_BROKER_URL,
                    settings.REDIS_URL,
                    settings.TXTSYNC_BUDGET_STORE,
                    settings.CELERY_BEAT_LOCK_URL,
                )
            ),
        )
    except Exception:  # settings not configured (e.g. gunicorn's master): patterns only
        return ()
    return _secrets(tuple(str(v) for v in values))


def redact(text: str) -> str:
    for secret in configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return HOOK_TOKEN.sub(rf"\g<1>{REDACTED}", text)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter with our field names, and redaction."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        # Django attaches the request object to its request log lines; its repr holds
        # the query string, which may hold tokens.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_data, record, message_dict)
        rest = [(k, v) for k, v in log_data.items() if k != "time"]  # time first, for eyes
        time = log_data.get("time")
        log_data.clear()
        log_data["time"] = time
        log_data.update(rest)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return redact(super().format(record))


class ExpectedRefusals(logging.Filter):
    """Django's report of a PermissionDenied (an agent opening an admin page) in one line,
    without its traceback: a refusal the roles expect, not an error to debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = record.exc_text = None
        return True
