"""What can go wrong talking to TxtSync, as exceptions callers can act on.

The classes answer the caller's real question, "may I retry?":

* `ConnectionFailed`: the request was never sent. Retry freely.
* `ServerError`: a read-only call failed server-side or in transit. Retry freely.
* `RateLimited`: retry after `retry_after` seconds (None: the server did not say).
* `OutcomeUnknown`: a state-changing call may or may not have been acted on.
  Do not blindly retry a send; reconcile first (search, or ask the user).
* `AuthenticationError`, `ValidationError`, `NotFoundError`: the request was
  refused; retrying the same request will fail the same way.
* `ProtocolError`: the answer made no sense (unreadable body, unexpected shape
  or status) where that does not leave a send in doubt.

Every error has `.status` (the HTTP status, None when there was no response),
`.operation` (the contract's operationId) and `.message`.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AuthenticationError",
    "ConnectionFailed",
    "NotFoundError",
    "OutcomeUnknown",
    "ProtocolError",
    "RateLimited",
    "ServerError",
    "TxtSyncError",
    "ValidationError",
    "field_from_message",
    "parse_retry_after",
]


class TxtSyncError(Exception):
    """Base class. Also raised as-is for a refusal with an unexpected 4xx status."""

    def __init__(self, message: str, *, status: int | None = None, operation: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.operation = operation

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no response"
        return f"{self.operation or 'TxtSync'} failed ({where}): {self.message}"


class AuthenticationError(TxtSyncError):
    """401/403: the Client Key / Client Secret were refused."""


class ValidationError(TxtSyncError):
    """400: the service refused the input. `field` names the (first) field at fault."""

    def __init__(
        self,
        message: str,
        *,
        errors: Mapping[str, str] | None = None,
        status: int | None = 400,
        operation: str = "",
    ) -> None:
        super().__init__(message, status=status, operation=operation)
        self.errors: dict[str, str] = dict(errors or {})
        self.field: str | None = next(iter(self.errors), None) or field_from_message(message)


class NotFoundError(TxtSyncError):
    """404: no such contact id, external reference or hook."""


class RateLimited(TxtSyncError):
    """429: over the rate limit. `retry_after` is in seconds, None when not given."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        operation: str = "",
    ) -> None:
        super().__init__(message, status=status, operation=operation)
        self.retry_after = retry_after


class ServerError(TxtSyncError):
    """A read-only call failed: 5xx, or a timeout / broken connection. Safe to retry."""


class OutcomeUnknown(TxtSyncError):
    """A state-changing call may have been acted on: do not blindly retry it."""


class ConnectionFailed(TxtSyncError):
    """The request was never sent (DNS, refused, connect timeout). Safe to retry."""


class ProtocolError(TxtSyncError):
    """The answer could not be understood (and no send is left in doubt by that)."""


# A leading field name: "MobileNumber is ...", "To[3] is ...", "URL must ...", "To: ...".
_LEADING_NAME = re.compile(r"([A-Z][A-Za-z0-9]*(?:\[\d+\])?)(?:(:)|\s+(\w+)|$)")
_FIELD_VERBS = frozenset({"is", "are", "must", "has", "have", "or", "and", "was", "cannot"})


def field_from_message(message: str | None) -> str | None:
    """The field a message starts with ("MobileNumber is not valid" -> "MobileNumber").

    A capitalised first word counts only if it looks like a field name: PascalCase
    with an inner capital (MobileNumber, URL), followed by a colon, or followed by
    a verb ("To is ..."), so that plain sentences ("The request is invalid") name
    no field.
    """
    match = _LEADING_NAME.match((message or "").strip())
    if not match:
        return None
    name, colon, next_word = match.groups()
    pascal = any(ch.isupper() for ch in name.partition("[")[0][1:])
    if pascal or colon or (next_word or "").lower() in _FIELD_VERBS:
        return name
    return None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None if absent or unparseable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text, now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_until(http_date: str, now: datetime | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP dates are GMT
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(delta, 0.0)  # a date already past means "now"


def error_body(body: Any) -> tuple[str | None, dict[str, str]]:
    """The `Message` and `Errors` of a JSON error body (any other shape: None, {})."""
    if not isinstance(body, Mapping):
        return None, {}
    message = body.get("Message")
    errors = body.get("Errors")
    errors = {str(k): str(v) for k, v in errors.items()} if isinstance(errors, Mapping) else {}
    return (str(message) if message is not None else None), errors
