"""A request id on every log line a web request causes, and on its response.

The id comes from the proxy's `X-Request-ID` when it looks like one (so a line in
the proxy's log and ours can be matched), else a fresh one; the response carries it
back (`X-Request-ID`), and gunicorn's access log prints it (deploy/gunicorn.conf.py).
Lines logged outside a request (workers, beat, commands) have request_id "-".
"""

import logging
import re
import uuid
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._-]{8,64}")
_current: ContextVar[str] = ContextVar("request_id", default="-")


def current() -> str:
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        request_id = offered if _ACCEPTABLE.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` (for the JSON format and any custom format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs 4xx/5xx responses after the middleware has returned, with the
            # request attached: its id is still the right one.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or _current.get()
        return True
