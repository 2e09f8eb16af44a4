"""gunicorn's logger for txtcrm (deploy/gunicorn.conf.py: `logger_class`).

- Access lines never show query strings, referrers or credentials, which may hold
  tokens (password-reset links, API tokens some clients put in URLs), and the
  webhook receiver's path token is blanked: /hooks/txtsync/[redacted]/inbound.
- gunicorn's own lines go through the same redaction, and are JSON when
  LOG_FORMAT=json, like the application's (txtcrm/logs.py).
"""

import logging
import os

from gunicorn.glogging import Logger

from txtcrm.logs import JsonFormatter, redact

# Request headers that may appear in a custom access_log_format: never print them.
_HIDDEN_HEADERS = ("{authorization}i", "{cookie}i", "{proxy-authorization}i", "{x-api-key}i")


class _Redacting(logging.Formatter):
    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


class _AccessJson(JsonFormatter):
    """An access line's request id in its own field, as the application's lines have it."""

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, dict):
            record.request_id = record.args.get("{x-request-id}o") or "-"
        return super().format(record)


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        as_json = os.environ.get("LOG_FORMAT", "").strip().lower() == "json"
        for log, json_formatter in (
            (self.error_log, JsonFormatter),
            (self.access_log, _AccessJson),
        ):
            for handler in log.handlers:
                current = handler.formatter or logging.Formatter()
                handler.setFormatter(json_formatter() if as_json else _Redacting(current))

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact(environ.get("PATH_INFO") or "")
        atoms["U"] = path
        atoms["r"] = f"{atoms['m']} {path} {atoms['H']}"  # the request line, minus its query
        atoms["q"] = "-"
        referer = environ.get("HTTP_REFERER")
        atoms["f"] = redact(referer.split("?", 1)[0]) if referer else "-"
        atoms["u"] = "-"
        for name in _HIDDEN_HEADERS:
            if name in atoms:
                atoms[name] = "-"
        return atoms
