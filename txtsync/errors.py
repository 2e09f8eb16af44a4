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
    "error_body",
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


API_KEY = "api_key"
CREDENTIALS = "credentials"


class AuthenticationError(TxtSyncError):
    """401/403: TxtSync refused who we are. `likely_cause` says what to fix:
    "api_key" (a 403: the x-api-key gateway key, TXTSYNC_API_KEY, missing or wrong) or
    "credentials" (a 401: the Client Key / Client Secret). The message names it too."""

    def __init__(
        self,
        message: str,
        *,
        likely_cause: str | None = None,
        status: int | None = None,
        operation: str = "",
    ) -> None:
        super().__init__(message, status=status, operation=operation)
        self.likely_cause = likely_cause or (API_KEY if status == 403 else CREDENTIALS)


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


# Where the field errors are, by shape: the sandbox's "Errors" ({field: text}), ASP.NET
# Web API's "ModelState" ({"contact.MobileNumber": [text]}), ASP.NET Core
# ProblemDetails' "errors" ({"MobileNumber": [text]}); matched case-insensitively.
_ERRORS_KEYS = ("errors", "modelstate")
# The summary: the sandbox's and ASP.NET's "Message", ProblemDetails' "title"/"detail".
_MESSAGE_KEYS = ("message", "title", "detail")


def error_body(body: Any) -> tuple[str | None, dict[str, str]]:
    """The message and the {field: text} errors of an error body, whatever its shape:
    a JSON object as above, a JSON string or plain text (the message is the text).

    A field is named by what follows its last dot ("contact.MobileNumber" and
    "$.MobileNumber" name "MobileNumber"); several texts for it are joined with "; ".
    """
    if isinstance(body, str):
        return (body.strip() or None), {}
    if not isinstance(body, Mapping):
        return None, {}
    fields = {str(key).casefold(): value for key, value in body.items()}
    errors: dict[str, str] = {}
    for key in _ERRORS_KEYS:
        if isinstance(fields.get(key), Mapping):
            for name, texts in fields[key].items():
                _add_error(errors, str(name).rpartition(".")[2], _joined(texts))
    unnamed = errors.pop("", None)  # ModelState's "" key: about the whole body
    message = next((fields[k] for k in _MESSAGE_KEYS if isinstance(fields.get(k), str)), None)
    return message or unnamed, errors


def _add_error(errors: dict[str, str], field: str, text: str) -> None:
    errors[field] = f"{errors[field]}; {text}" if field in errors else text


def _joined(texts: Any) -> str:
    if isinstance(texts, list | tuple):
        return "; ".join(str(text) for text in texts)
    return str(texts)
