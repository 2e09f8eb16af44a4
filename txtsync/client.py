"""The TxtSync API client: one method per contract operation, over one requests.Session.

Plain Python (requests, no Django), so any part of txtcrm, a worker or a script can
use it. The contract is docs/txtsync-contract.md; this client relies on
nothing it does not promise: any 2xx is success, unknown fields are ignored, missing
optional fields are None (see `txtsync.records`).

How failures map to exceptions (`txtsync.errors`). "State-changing" means every
operation but the two read-only ones (SearchContact, GetContactByExternalReference):

=================================================  ===================  ==================
what happened                                      read-only operation  state-changing
=================================================  ===================  ==================
never sent: DNS failure, refused, connect          ConnectionFailed     ConnectionFailed
timeout, or a request that could not be built
read timeout, connection broken after sending      ServerError (None)   OutcomeUnknown
5xx                                                ServerError          OutcomeUnknown
2xx to SendSMS without a readable SMS (204, empty,  -                    None: accepted,
``[]``, not JSON, no SMSID): see `send_sms`                             no record given
2xx whose body cannot be read (other operations)   ProtocolError        ProtocolError
1xx / 3xx (redirects are not followed)             ProtocolError        OutcomeUnknown
400 / 422                                          ValidationError      ValidationError
401 (the Client Key / Client Secret)               AuthenticationError  AuthenticationError
                                                   likely_cause "credentials"
403 (the x-api-key gateway key, TXTSYNC_API_KEY)   AuthenticationError  AuthenticationError
                                                   likely_cause "api_key"
404, 429                                           NotFoundError, RateLimited
any other 4xx                                      TxtSyncError         TxtSyncError
=================================================  ===================  ==================

A SendSMS answered with any 2xx was accepted: the contract promises only "200 with an
array of SMS", so a 2xx without one (a 201/202/204, an empty or unreadable body, `[]`,
an object without SMSID, a .NET default object whose SMSID is 0) returns None, which
means "TxtSync accepted it and gave no record", never OutcomeUnknown.

Error bodies are read in every shape `txtsync.errors.error_body` knows (the sandbox's
{"Message", "Errors"}, ASP.NET's ModelState, ProblemDetails, plain text), so
`ValidationError.field` names the field in each.

The rule for timeouts: a read timeout or a connection broken after the request went
out raises `OutcomeUnknown` for any operation that changes state, because the
service may have acted on it (a retried send would text the customer twice). For the
read-only operations nothing can have changed, so the same failure raises
`ServerError` with `status` None: safe to retry. A 5xx follows the same split (a
gateway may answer 502/503 after the service has already acted).

Redirects are not followed: requests would replay a redirected POST as a GET, and
a redirect is no part of the contract. The client secret is sent only in the
Authorization header, and the API key (if given) only in the `x-api-key` header, on
every request, as the certified connector does; neither is ever logged, and both are
scrubbed from every error message.
"""

from __future__ import annotations

import base64
import json as jsonlib
import logging
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.auth import HTTPBasicAuth
from urllib3.exceptions import ConnectTimeoutError

from txtsync.errors import (
    AuthenticationError,
    ConnectionFailed,
    NotFoundError,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    ServerError,
    TxtSyncError,
    ValidationError,
    error_body,
    parse_retry_after,
)
from txtsync.records import SMS, Contact, ContactSummary, Hook, contact_write_body

__all__ = ["OnResponse", "TxtSyncClient", "was_never_sent"]

logger = logging.getLogger("txtsync")

OnResponse = Callable[[str, int], None]

# Causes that can only happen before the first byte of the request is written.
# urllib3's ConnectTimeoutError covers NewConnectionError and NameResolutionError.
_NEVER_SENT_CAUSES = (
    ConnectTimeoutError,
    ConnectionRefusedError,
    socket.gaierror,
    ssl.SSLCertVerificationError,  # the TLS handshake precedes the request
)
# requests errors raised before connecting: a timeout connecting, or a request that
# could not even be built (bad URL or header, a body that is not valid JSON).
_NEVER_SENT_ERRORS = (
    requests.exceptions.ConnectTimeout,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidJSONError,
)
_REDACTED = "[redacted]"
_SNIPPET = 200


def was_never_sent(exc: BaseException) -> bool:
    """True if `exc`, raised by requests, proves the request never left this machine."""
    if isinstance(exc, _NEVER_SENT_ERRORS):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    return any(isinstance(cause, _NEVER_SENT_CAUSES) for cause in _causes(exc))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything it wraps: requests and urllib3 nest errors in args and .reason."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        stack.extend(e for e in [*linked, *current.args] if isinstance(e, BaseException))


class TxtSyncClient:
    """A client for one TxtSync application (one Client Key / Client Secret)."""

    def __init__(
        self,
        base_url: str,
        client_key: str,
        client_secret: str,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        session: requests.Session | None = None,
        user_agent: str = "txtcrm/0.1",
        on_response: OnResponse | None = None,
        api_key: str = "",
    ) -> None:
        """`on_response(operation, status)` is called after every HTTP response (metrics).
        `api_key` is sent as `x-api-key` on every request; empty: the header is not sent."""
        self.base_url = _normalise_base_url(base_url)
        self.client_key = client_key
        self._secrets = _secret_forms(client_key, client_secret) + _nonempty(api_key)
        # Auth and headers go with each request rather than onto the session, so a
        # session passed in (shared connection pool) is never altered.
        self._auth = HTTPBasicAuth(client_key, client_secret)
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": user_agent,
            **({"x-api-key": api_key} if api_key else {}),
        }
        self._timeout = (connect_timeout, read_timeout)
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.on_response = on_response

    def __repr__(self) -> str:
        return f"TxtSyncClient(base_url={self.base_url!r}, client_key={self.client_key!r})"

    def close(self) -> None:
        """Close the connection pool, if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> TxtSyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- SMS ---------------------------------------------------------------------------

    def send_sms(
        self,
        from_: str,
        to: str,
        message: str,
        *,
        scheduled_date: datetime | str | None = None,
        regarding_reference: str | None = None,
        regarding_schema: str | None = None,
        custom01: str | None = None,
        custom02: str | None = None,
        custom03: str | None = None,
    ) -> SMS | None:
        """Send one SMS (operationId SendSMS) and return it as the service recorded it.

        None means TxtSync accepted it (any 2xx) but gave no readable SMS record (no
        SMSID to keep): the message is sent, and only its record is missing. A naive
        `scheduled_date` is taken as UTC. Any failure after the request may have gone
        out raises OutcomeUnknown: check before sending again.
        """
        body = _present(
            From=from_,
            To=to,
            Message=message,
            ScheduledDate=_format_date(scheduled_date),
            RegardingReference=regarding_reference,
            RegardingSchema=regarding_schema,
            Custom01=custom01,
            Custom02=custom02,
            Custom03=custom03,
        )
        response = self._request("SendSMS", "POST", "sms/send", json=body, is_send=True)
        sms = _sent_sms(_json_or_none(response))
        if sms is None:
            status = response.status_code
            logger.info("TxtSync accepted SendSMS (HTTP %s) without an SMS record", status)
        return sms

    def send_bulk_sms(
        self,
        from_: str,
        message: str,
        *,
        to: Sequence[str] | None = None,
        to_tag_names: Sequence[str] | None = None,
    ) -> str:
        """Send one message to many numbers and/or tags (operationId SendBulkSMS).

        Returns the service's summary text (how many SMS were queued).
        """
        body = _present(
            From=from_, Message=message, To=_names(to, "to"), ToTagName=_names(to_tag_names, "tag")
        )
        response = self._request("SendBulkSMS", "POST", "sms/send/bulk", json=body, is_send=True)
        return _text(response)

    # --- Contacts ------------------------------------------------------------------------

    def search_contacts(self, search: str = "", search_number: str | None = None) -> list[Contact]:
        """Contacts matching a name, number or external reference (operationId SearchContact).

        `search_number` matches numbers only; it is sent only when given.
        """
        params = {"search": search}
        if search_number is not None:
            params["searchNumber"] = search_number
        response = self._request("SearchContact", "GET", "contacts", params=params)
        with self._reading("SearchContact", response):
            return _contacts(_json(response))

    def add_contact(self, fields: Mapping[str, Any]) -> ContactSummary:
        """Create a contact (operationId AddContact); `fields` as in `ContactFields`."""
        body = contact_write_body(fields, update=False)
        response = self._request("AddContact", "POST", "contacts", json=body)
        with self._reading("AddContact", response):
            return ContactSummary.from_wire(_json(response))

    def update_contact(self, contact_id: int, fields: Mapping[str, Any]) -> str:
        """Change only the given fields of a contact (operationId UpdateContact)."""
        body = contact_write_body(fields, update=True)
        path = f"contacts/{_segment(contact_id)}"
        return _text(self._request("UpdateContact", "PUT", path, json=body))

    def delete_contact(self, contact_id: int) -> str:
        """Delete a contact by id (operationId DeleteContact)."""
        path = f"contacts/{_segment(contact_id)}"
        return _text(self._request("DeleteContact", "DELETE", path))

    def get_contact_by_external_reference(self, ref: str) -> list[Contact]:
        """Contacts with this external reference (operationId GetContactByExternalReference)."""
        operation = "GetContactByExternalReference"
        response = self._request(operation, "GET", _reference_path(ref))
        with self._reading(operation, response):
            return _contacts(_json(response))

    def update_contact_by_external_reference(self, ref: str, fields: Mapping[str, Any]) -> str:
        """Change only the given fields (operationId UpdateContactByExternalReference)."""
        body = contact_write_body(fields, update=True)
        operation = "UpdateContactByExternalReference"
        return _text(self._request(operation, "PUT", _reference_path(ref), json=body))

    def delete_contact_by_external_reference(self, ref: str) -> str:
        """Delete a contact by reference (operationId DeleteContactByExternalReference)."""
        operation = "DeleteContactByExternalReference"
        return _text(self._request(operation, "DELETE", _reference_path(ref)))

    # --- Webhook triggers ----------------------------------------------------------------

    def subscribe_inbound(self, url: str) -> Hook:
        """Have `url` notified of every SMS received (operationId InboundSMS)."""
        return self._subscribe("InboundSMS", 0, url)

    def subscribe_outbound(self, url: str) -> Hook:
        """Have `url` notified of every SMS sent (operationId OutboundSMS)."""
        return self._subscribe("OutboundSMS", 5, url)

    def delete_trigger(self, hook_id: str) -> str:
        """Unsubscribe a webhook (operationId DeleteTrigger) by the id TxtSync gave
        (`Hook.hook_id`, text, URL-encoded once; an int is taken as its decimal text)."""
        path = f"system/applications/webhooks/{_segment(hook_id)}"
        return _text(self._request("DeleteTrigger", "DELETE", path))

    def _subscribe(self, operation: str, trigger_type: int, url: str) -> Hook:
        path = f"system/applications/webhooks/type/{trigger_type}"
        response = self._request(operation, "POST", path, json={"URL": url})
        with self._reading(operation, response):
            return Hook.from_wire(_json_or_none(response), response.headers.get("Location"))

    # --- HTTP ----------------------------------------------------------------------------

    def _request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        is_send: bool = False,
    ) -> requests.Response:
        """One call; returns a 2xx response or raises the matching TxtSyncError."""
        changes_state = method != "GET"  # the contract's only reads are GETs
        headers = {**self._headers, **({"x-zapier": "true"} if is_send else {})}
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers=headers,
                auth=self._auth,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise self._transport_error(operation, exc, changes_state) from exc
        logger.debug("TxtSync %s: HTTP %s", operation, response.status_code)
        self._notify(operation, response.status_code)
        if 200 <= response.status_code < 300:
            return response
        raise self._status_error(operation, response, changes_state)

    def _notify(self, operation: str, status: int) -> None:
        if self.on_response is None:
            return
        try:
            self.on_response(operation, status)
        except Exception:
            # Metrics must never turn a completed call (perhaps a send) into a failure
            # that a caller would retry.
            logger.exception("on_response hook failed for %s", operation)

    def _transport_error(
        self, operation: str, exc: requests.RequestException, changes_state: bool
    ) -> TxtSyncError:
        detail = f"{type(exc).__name__}: {exc}"
        if was_never_sent(exc):
            cls, what = ConnectionFailed, "the request was never sent"
        elif changes_state:
            cls, what = OutcomeUnknown, "no complete answer; the request may have been acted on"
        else:
            cls, what = ServerError, "no complete answer (nothing changed; safe to retry)"
        return cls(self._redact(f"{what} ({detail})"), status=None, operation=operation)

    def _status_error(
        self, operation: str, response: requests.Response, changes_state: bool
    ) -> TxtSyncError:
        status = response.status_code
        body = _json_or_none(response)
        message, errors = error_body(_snippet(response) if body is None else body)
        message = self._redact(message or f"HTTP {status}")
        common: dict[str, Any] = {"status": status, "operation": operation}
        if status in (400, 422):
            errors = {name: self._redact(text) for name, text in errors.items()}
            return ValidationError(message, errors=errors, **common)
        if status in (401, 403):
            refused = f"{self._refused(status)}. TxtSync said: {message}"
            return AuthenticationError(refused, **common)
        if status == 404:
            return NotFoundError(message, **common)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RateLimited(message, retry_after=retry_after, **common)
        if 400 <= status < 500:
            return TxtSyncError(message, **common)
        if changes_state:
            return OutcomeUnknown(message, **common)
        return (ServerError if status >= 500 else ProtocolError)(message, **common)

    def _refused(self, status: int) -> str:
        """What a 401 / 403 most likely means, as the contract says, and what to set."""
        if status == 403:
            sent = "one was sent" if self._sends_api_key else "none was sent"
            return (
                "TxtSync refused the API key (x-api-key): missing or wrong "
                f"({sent}) — set TXTSYNC_API_KEY"
            )
        return (
            "TxtSync refused our credentials (Client Key / Client Secret): check "
            "TXTSYNC_CLIENT_KEY and TXTSYNC_CLIENT_SECRET"
        )

    @property
    def _sends_api_key(self) -> bool:
        return "x-api-key" in self._headers

    @contextmanager
    def _reading(self, operation: str, response: requests.Response) -> Iterator[None]:
        """Turn a 2xx body we cannot read into ProtocolError."""
        try:
            yield
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            what = "the answer could not be read"
            message = self._redact(f"{what} ({exc}); body: {_snippet(response)!r}")
            raise ProtocolError(message, status=response.status_code, operation=operation) from exc

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text


# --- Helpers ---------------------------------------------------------------------------------


def _normalise_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.username is not None or parts.password is not None:
        # Not echoed: the URL would hold a secret.
        raise ValueError("base_url must not hold credentials; pass client_key, client_secret")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError("base_url must not have a query or fragment")
    return base_url.strip().rstrip("/") + "/"


def _secret_forms(client_key: str, client_secret: str) -> tuple[str, ...]:
    """The secret, and the Authorization value that carries it, for scrubbing messages."""
    if not client_secret:
        return ()
    token = base64.b64encode(f"{client_key}:{client_secret}".encode("latin-1", "replace"))
    return (token.decode("ascii"), client_secret)


def _nonempty(*values: str) -> tuple[str, ...]:
    return tuple(value for value in values if value)


def _present(**fields: Any) -> dict[str, Any]:
    """Only the fields given: the contract's optional fields are left out, not sent as null."""
    return {name: value for name, value in fields.items() if value is not None}


def _names(values: Sequence[str] | None, what: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of strings, not one string")
    return list(values)


def _format_date(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _segment(value: int | str) -> str:
    """An id as one path segment, URL-encoded once."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"an id must be an int or str, got {type(value).__name__}")
    text = str(value)
    if not text:
        raise ValueError("an id must not be empty")
    return quote(text, safe="")


def _reference_path(ref: str) -> str:
    if not isinstance(ref, str) or not ref:
        raise ValueError("an external reference must be non-empty text")
    if ref in (".", ".."):
        # URL libraries resolve dot segments, which would address another path.
        raise ValueError(f"the external reference {ref!r} cannot be put in a URL path")
    return f"contacts/external/{quote(ref, safe='')}"


def _json(response: requests.Response) -> Any:
    # From bytes, so json detects UTF-8/16/32 itself (RFC 8259) whatever the headers say.
    return jsonlib.loads(response.content)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return _json(response)
    except ValueError:
        return None


def _text(response: requests.Response) -> str:
    """A string answer: JSON-encoded ("Contact 1 updated") decoded, any other text as is."""
    body = _json_or_none(response)
    return body if isinstance(body, str) else response.text


def _sent_sms(data: Any) -> SMS | None:
    """SendSMS's record: the first item of the array the contract promises (or a bare
    object); None when there is no readable one (the send was accepted all the same)."""
    item = (data[0] if data else None) if isinstance(data, list) else data
    try:
        return SMS.from_wire(item)
    except (TypeError, ValueError):
        return None


def _contacts(data: Any) -> list[Contact]:
    if not isinstance(data, list):
        raise TypeError(f"expected an array of contacts, got {type(data).__name__}")
    return [Contact.from_wire(item) for item in data]


def _snippet(response: requests.Response) -> str:
    return response.text[:_SNIPPET].strip()
