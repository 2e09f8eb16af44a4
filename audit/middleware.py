"""Where a request comes from, for the audit entries recorded without it: the admin site's
changes reach the log through its LogEntry rows (audit/receivers.py), which carry the
user but not the address. Kept in a context variable for the request's length only."""

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from accounts.throttling import client_ip

request_ip: ContextVar[str | None] = ContextVar("audit_request_ip", default=None)


class RequestAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            request_ip.reset(token)
