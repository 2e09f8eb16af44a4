"""Reading a TxtSync webhook notification: what the receiver accepts, and what applying
it may rely on. Pure functions, no database.

The contract promises little (connector-api.md): a 7-field `SMS`, dates that may have
no offset, objects that a .NET back end fills with default values (`SMSID: 0`,
`"0001-01-01T00:00:00"`, nulls) instead of leaving them out, numbers that may come as
text. So:

* `parse` checks, at receipt, what the stored event will be keyed and applied by: a
  JSON object no deeper than MAX_DEPTH, numbers that are finite, `Content.SMS` with an
  SMSID and (if any) a ContactID that fit int64 (as numbers or numeric text), and the
  numbers and text as strings. Anything else raises `Rejected` (HTTP 400, kept in the
  rejected log), never a server error. Text is cleaned of what a database refuses
  (NUL, lone surrogates).
* `read` turns a stored payload into a `Notification`. Only the SMS is required; the
  optional parts (`Contact`, `LastSMSOutbound`) are dropped when unusable, with a note
  that says why, so a bad optional part never costs the SMS itself.
"""

import json
from dataclasses import dataclass, replace
from typing import Any

from txtsync import SMS
from txtsync.records import parse_decimal

INT64_MAX = 2**63 - 1
MAX_DEPTH = 20  # a notification is 3 levels deep
NUMBER_MAX_LENGTH = 16  # E.164 with its "+", or an 11-character sender id


class Rejected(Exception):
    """A notification that cannot be accepted: 400, and kept in the rejected log."""


@dataclass(frozen=True)
class Notification:
    sms: SMS
    reference: str | None  # Content.Contact.ExternalReference
    last_outbound: SMS | None  # inbound only: our last SMS to that contact, if usable
    notes: tuple[str, ...] = ()  # optional parts left out, and why


def parse(raw: bytes) -> tuple[dict, int]:
    """The payload, cleaned, and its SMSID; or Rejected saying what is wrong."""
    try:
        payload = json.loads(raw, parse_constant=_no_constant)
    except RecursionError as error:
        raise Rejected("Body is nested too deeply") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(f"Body is not valid JSON ({error})") from error
    payload = _clean(payload, depth=0)
    content = payload.get("Content") if isinstance(payload, dict) else None
    sms = content.get("SMS") if isinstance(content, dict) else None
    if not isinstance(sms, dict):
        raise Rejected("Body has no Content.SMS object")
    sms_id = _id(sms, "SMSID", required=True)
    _id(sms, "ContactID", required=False)
    for name in ("FromNumber", "ToNumber"):
        value = sms.get(name)
        if not isinstance(value, str) or not value.strip():
            raise Rejected(f"Content.SMS.{name} is missing")
        if len(value) > NUMBER_MAX_LENGTH:
            raise Rejected(f"Content.SMS.{name} is longer than {NUMBER_MAX_LENGTH} characters")
    if not isinstance(sms.get("Message"), str | None):
        raise Rejected("Content.SMS.Message is not text")
    return payload, sms_id


def read(payload: dict) -> Notification:
    """A stored (parsed) payload as typed records; optional parts that are unusable are
    left out with a note."""
    content = payload["Content"]
    sms = _sms(content["SMS"])
    notes: list[str] = []
    return Notification(
        sms=sms,
        reference=_reference(content.get("Contact"), notes),
        last_outbound=_last_outbound(content.get("LastSMSOutbound"), notes),
        notes=tuple(notes),
    )


def _sms(data: dict) -> SMS:
    """The record, with its ids as checked here (whatever form the wire gave them in)."""
    ids = {"sms_id": _id(data, "SMSID", required=True)}
    ids["contact_id"] = _id(data, "ContactID", required=False)
    return replace(SMS.from_wire({**data, "SMSID": ids["sms_id"]}), **ids)


def _no_constant(name: str) -> None:
    raise Rejected(f"Body holds {name}, which is not a JSON number")


def _clean(value: Any, depth: int) -> Any:
    """The JSON value with text a database accepts; Rejected if too deep or a number is
    not finite (1e999 reads as infinity)."""
    if depth > MAX_DEPTH:
        raise Rejected("Body is nested too deeply")
    if isinstance(value, dict):
        return {clean_text(key): _clean(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, depth + 1) for item in value]
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise Rejected("Body holds a number out of range")
    return value


def clean_text(value: str) -> str:
    # PostgreSQL refuses NUL in text and JSON; lone surrogates cannot be encoded at all.
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _id(sms: dict, name: str, *, required: bool) -> int | None:
    """An id as int64. Absent, null and 0 (a .NET default) mean none."""
    value = sms.get(name)
    if value in (None, 0, "", "0") and not isinstance(value, bool):
        if required:
            raise Rejected(f"Content.SMS.{name} is missing")
        return None
    number = _int(value)
    if number is None:
        raise Rejected(f"Content.SMS.{name} is not a number")
    if not 0 < number <= INT64_MAX:
        raise Rejected(f"Content.SMS.{name} is out of range (1 to 2^63-1)")
    return number


def _int(value: Any) -> int | None:
    """An integer as the client reads one (a JSON number or numeric text, exactly), of any
    size: the range is checked by the caller, to say so."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    exact = parse_decimal(value)
    if exact is None or exact != exact.to_integral_value():
        return None
    return int(exact)


def _reference(contact: Any, notes: list[str]) -> str | None:
    if contact is None:
        return None
    reference = contact.get("ExternalReference") if isinstance(contact, dict) else None
    if isinstance(reference, str) and reference.strip():
        return reference.strip()
    if reference is not None or not isinstance(contact, dict):
        notes.append("Contact ignored: ExternalReference is not text")
    return None


def _last_outbound(data: Any, notes: list[str]) -> SMS | None:
    """Our last SMS to the contact, if it is one: a .NET default object (SMSID 0) or
    null means there is none."""
    if data is None or (isinstance(data, dict) and data.get("SMSID") in (None, 0, "0")):
        return None
    try:
        if not isinstance(data, dict):
            raise Rejected("not an object")
        last = _sms(data)
        if not isinstance(last.to_number, str) or not isinstance(last.message, str):
            raise Rejected("ToNumber or Message is missing")
    except (Rejected, TypeError, ValueError) as error:
        notes.append(f"LastSMSOutbound ignored: {error}")
        return None
    return last
