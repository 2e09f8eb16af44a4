"""The records TxtSync answers with, and the contact fields txtcrm writes.

The wire speaks PascalCase; Python speaks snake_case. The mapping between
the two lives only in the tables below (`CONTACT_FIELDS`, `SMS_FIELDS`),
used both to parse responses and to build contact write bodies.

Parsing is lenient, because the client must not break if the real service
(a .NET back end) differs from the sandbox. How a field is read follows only
from its type hint (`_converter`), never from per-field code:

* unknown fields are ignored, and field names match case-insensitively
  (``ContactId`` is read as ``ContactID``);
* a missing optional field is ``None``; only the record's id is required;
* dates become timezone-aware UTC datetimes ("Z", offsets, naive = UTC,
  0 to 7 or more fractional digits); .NET's ``DateTime.MinValue``
  (``0001-01-01T00:00:00``: any date in year 1, with or without an offset) and
  an unparseable date are ``None``, not an error;
* integers also come as numeric text (``"42"``) or integral floats; anything
  else, or a number outside a signed 64-bit range, is ``None``;
* ids (`Id`: SMSID, ContactID, CampaignID, ApplicationID, UserID) of ``0``
  are .NET's default for "none" and read as ``None``, as are negative ones (a
  record whose own id is 0 has no id, and is refused like one without);
* booleans also come as text ("true", "False", "0", "1") or as 0 / 1;
* text given as a number becomes its decimal text; an object or array where
  text is due is ``None``;
* money (``CostLocal``, ``CostGBP``) becomes a ``Decimal`` built from the
  number's decimal text, so 0.035 stays exactly 0.035 (a float would not) and
  sums of costs are exact.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Annotated, Any, Final, TypedDict
from urllib.parse import unquote, urlsplit

__all__ = [
    "CONTACT_FIELDS",
    "FINAL_STATUSES",
    "SMS",
    "SMS_FIELDS",
    "Contact",
    "ContactFields",
    "ContactSummary",
    "Hook",
    "Id",
    "SmsStatus",
    "contact_write_body",
    "parse_bool",
    "parse_datetime",
    "parse_decimal",
    "parse_id",
    "parse_int",
]

# snake_case attribute -> contract field name, for Contact (both forms and writes).
CONTACT_FIELDS: Final[dict[str, str]] = {
    "contact_id": "ContactID",
    "first_name": "FirstName",
    "last_name": "LastName",
    "mobile_number": "MobileNumber",
    "company_name": "CompanyName",
    "external_reference": "ExternalReference",
    "email_address": "EmailAddress",
    "address_line1": "AddressLine1",
    "address_line2": "AddressLine2",
    "city": "City",
    "county": "County",
    "postcode": "Postcode",
    "country": "Country",
    **{f"custom0{n}": f"Custom0{n}" for n in range(1, 6)},
    "allow_sms": "AllowSMS",
    "tag_names": "TagNames",  # write-only: the full form has no tags
    "full_name": "FullName",
    "overall_rating": "OverallRating",
    "total_distinct_link_clicks": "TotalDistinctLinkClicks",
    "total_links_sent": "TotalLinksSent",
    "total_inbound_sms": "TotalInboundSMS",
    "total_outbound_sms": "TotalOutboundSMS",
    "total_failed_sms": "TotalFailedSMS",
    "last_communication_date": "LastCommunicationDate",
}

# snake_case attribute -> contract field name, for SMS.
SMS_FIELDS: Final[dict[str, str]] = {
    "sms_id": "SMSID",
    "from_number": "FromNumber",
    "to_number": "ToNumber",
    "contact_id": "ContactID",
    "contact_name": "ContactName",
    "direction": "Direction",
    "message": "Message",
    "created_date": "CreatedDate",
    "delivered_date": "DeliveredDate",
    "segments": "Segments",
    "status": "Status",
    "error_code": "ErrorCode",
    "campaign_id": "CampaignID",
    "application_id": "ApplicationID",
    "application_name": "ApplicationName",
    "user_id": "UserID",
    "user_name": "UserName",
    "profile_url": "ProfileURL",
    "link_details": "LinkDetails",
    "is_flagged": "IsFlagged",
    "flagged_date": "FlaggedDate",
    "flagged_description": "FlaggedDescription",
    "currency_code": "CurrencyCode",
    "cost_local": "CostLocal",
    "cost_gbp": "CostGBP",
}


# --- Value parsing ---------------------------------------------------------------------


_INT64 = range(-(2**63), 2**63)
_TRUE_TEXTS = frozenset({"true", "1"})
_FALSE_TEXTS = frozenset({"false", "0"})


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text, or None if absent, unparseable or
    .NET's DateTime.MinValue (year 1, the value a .NET back end sends for "no date")."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.year == 1:
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)  # the contract's dates are UTC
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:00-05:00 and the like
        return None


def parse_decimal(value: Any) -> Decimal | None:
    """A Decimal from a JSON number or numeric text, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        # str() first: Decimal(0.035) would carry the float's binary error.
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def parse_int(value: Any) -> int | None:
    """An int from a JSON integer, an integral float or numeric text ("42"); None for
    anything else, or a number that does not fit a signed 64-bit integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        exact = parse_decimal(value)
        if exact is None or exact != exact.to_integral_value():
            return None
        number = int(exact)
    return number if number in _INT64 else None


def parse_id(value: Any) -> int | None:
    """An id: as `parse_int`, but 0 (.NET's default for "none") and negatives are None."""
    number = parse_int(value)
    return number if number is not None and number > 0 else None


def parse_bool(value: Any) -> bool | None:
    """A bool from JSON true/false, 0/1, or text ("true", "False", "0", "1"); else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE_TEXTS or text in _FALSE_TEXTS:
            return text in _TRUE_TEXTS
    return None


def parse_text(value: Any) -> str | None:
    """Text as given; a number as its decimal text; None for objects, arrays, booleans."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


# The hint of an id field: an int whose 0 means "none" (see `parse_id`).
Id = Annotated[int, "id: 0 is none"]

# Plain types -> how to read them; Annotated[..., "id..."] is read by parse_id.
_PARSERS: Final[dict[Any, Callable[[Any], Any]]] = {
    datetime: parse_datetime,
    Decimal: parse_decimal,
    bool: parse_bool,
    int: parse_int,
    str: parse_text,
}


def _converter(annotation: Any) -> Callable[[Any], Any]:
    """How to read a field, chosen from its type hint (so the tables hold only names)."""
    members = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    for member in members:
        if member == Id:
            return parse_id
        if member in _PARSERS:
            return _PARSERS[member]
    return _as_given


def _as_given(value: Any) -> Any:
    return value


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _lookup(data: Mapping[str, Any], name: str) -> Any:
    """data[name], falling back to a case-insensitive match; None when absent."""
    if name in data:
        return data[name]
    folded = name.casefold()
    for key, value in data.items():
        if isinstance(key, str) and key.casefold() == folded:
            return value
    return None


Reader = tuple[str, str, Callable[[Any], Any]]  # attribute, wire name, converter
_READERS: dict[type, tuple[Reader, ...]] = {}


def _readers(cls: type, table: Mapping[str, str]) -> tuple[Reader, ...]:
    if cls not in _READERS:  # type hints are costly to resolve: once per record type
        hints = typing.get_type_hints(cls, include_extras=True)  # keep Annotated (Id)
        _READERS[cls] = tuple(
            (field.name, table[field.name], _converter(hints[field.name]))
            for field in dataclasses.fields(cls)
        )
    return _READERS[cls]


def _from_wire(cls: type, table: Mapping[str, str], data: Any, required: str) -> Any:
    if not isinstance(data, Mapping):
        raise TypeError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}")
    values = {attr: read(_lookup(data, wire)) for attr, wire, read in _readers(cls, table)}
    if values[required] is None:  # absent, unreadable, or 0 (.NET's "none")
        raise ValueError(f"{cls.__name__} has no {table[required]}")
    return cls(**values)


# --- Records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactSummary:
    """AddContact's answer: the contact's short form."""

    contact_id: Id
    first_name: str | None = None
    last_name: str | None = None
    mobile_number: str | None = None
    email_address: str | None = None
    full_name: str | None = None

    @classmethod
    def from_wire(cls, data: Any) -> ContactSummary:
        return _from_wire(cls, CONTACT_FIELDS, data, "contact_id")


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact's full form, as SearchContact and GetContactByExternalReference answer."""

    contact_id: Id
    first_name: str | None = None
    last_name: str | None = None
    mobile_number: str | None = None
    company_name: str | None = None
    external_reference: str | None = None
    email_address: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    county: str | None = None
    postcode: str | None = None
    country: str | None = None
    custom01: str | None = None
    custom02: str | None = None
    custom03: str | None = None
    custom04: str | None = None
    custom05: str | None = None
    allow_sms: bool | None = None
    full_name: str | None = None
    overall_rating: int | None = None
    total_distinct_link_clicks: int | None = None
    total_links_sent: int | None = None
    total_inbound_sms: int | None = None
    total_outbound_sms: int | None = None
    total_failed_sms: int | None = None
    last_communication_date: datetime | None = None

    @classmethod
    def from_wire(cls, data: Any) -> Contact:
        return _from_wire(cls, CONTACT_FIELDS, data, "contact_id")


class SmsStatus(IntEnum):
    """An SMS's `Status` number. The contract leaves the numbers to the provider
    (docs/txtsync-contract.md): this is the sandbox's documented table (docs/sandbox.md,
    "Status and ErrorCode"); a number not in it is kept as given and shown as such."""

    QUEUED = 0
    SENT = 1
    DELIVERED = 2
    FAILED = 3  # not delivered (ErrorCode says why)
    SCHEDULED = 4
    CANCELLED = 5


# An SMS in one of these is done with: its status is never moved back.
FINAL_STATUSES: Final = frozenset({SmsStatus.DELIVERED, SmsStatus.FAILED, SmsStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class SMS:
    """One SMS. Status (see SmsStatus) and error codes are the provider's numbers, kept as
    given."""

    sms_id: Id
    from_number: str | None = None
    to_number: str | None = None
    contact_id: Id | None = None
    contact_name: str | None = None
    direction: int | None = None  # 0 outbound, 1 inbound
    message: str | None = None
    created_date: datetime | None = None
    delivered_date: datetime | None = None
    segments: int | None = None
    status: int | None = None
    error_code: int | None = None
    campaign_id: Id | None = None
    application_id: Id | None = None
    application_name: str | None = None
    user_id: Id | None = None
    user_name: str | None = None
    profile_url: str | None = None
    link_details: str | None = None  # JSON text, as the contract defines it
    is_flagged: bool | None = None
    flagged_date: datetime | None = None
    flagged_description: str | None = None
    currency_code: str | None = None
    cost_local: Decimal | None = None
    cost_gbp: Decimal | None = None

    @classmethod
    def from_wire(cls, data: Any) -> SMS:
        return _from_wire(cls, SMS_FIELDS, data, "sms_id")


@dataclass(frozen=True, slots=True)
class Hook:
    """A webhook subscription (trigger).

    `hook_id` is text, as the contract types DeleteTrigger's `hook_Id`: a number in
    the answer becomes its decimal text, a GUID stays as given. `location` is the
    answer's Location header as given (None without one).
    """

    hook_id: str
    location: str | None = None

    @classmethod
    def from_wire(cls, body: Any, location: str | None) -> Hook:
        """The id from the body's `Id` (any case), else the last segment of `Location`,
        else a body that is nothing but an id (a number, or text without spaces)."""
        hook_id = (
            _id_text(_lookup(body, "Id") if isinstance(body, Mapping) else None)
            or _last_segment(location)
            or (None if isinstance(body, Mapping) else _id_text(body))
        )
        if hook_id is None:
            raise ValueError("the answer names no hook id (no Id in the body, no Location)")
        return cls(hook_id, location or None)


def _id_text(value: Any) -> str | None:
    """A hook id given as a JSON number or as text; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip() and not any(c.isspace() for c in value.strip()):
        return value.strip()
    return None


def _last_segment(location: str | None) -> str | None:
    """The last path segment of a Location header, decoded (the client encodes it again)."""
    if not location:
        return None
    segment = urlsplit(location.strip()).path.rstrip("/").rpartition("/")[2]
    return unquote(segment) or None


# --- Contact writes --------------------------------------------------------------------


class ContactFields(TypedDict, total=False):
    """Fields for AddContact / UpdateContact, snake_case.

    Only the keys present are sent (partial update). A text field set to None
    is sent as null, which the service takes as "clear it". `tag_names`
    replaces the contact's tags (an empty list removes them all; None or
    absent leaves them alone). `allow_sms` is update-only, as the contract says.
    """

    first_name: str | None
    last_name: str | None
    mobile_number: str | None
    company_name: str | None
    external_reference: str | None
    email_address: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    county: str | None
    postcode: str | None
    country: str | None
    custom01: str | None
    custom02: str | None
    custom03: str | None
    custom04: str | None
    custom05: str | None
    allow_sms: bool
    tag_names: list[str] | None


def contact_write_body(fields: Mapping[str, Any], *, update: bool) -> dict[str, Any]:
    """The PascalCase body for AddContact (update=False) or UpdateContact (update=True)."""
    unknown = sorted(set(fields) - ContactFields.__optional_keys__)
    if unknown:
        raise TypeError(f"unknown contact field(s): {', '.join(unknown)}")
    if not update and "allow_sms" in fields:
        # The service ignores it on add; refusing says so instead of silently dropping it.
        raise ValueError("allow_sms is update-only (new contacts allow SMS)")
    body = {CONTACT_FIELDS[name]: value for name, value in fields.items() if name != "tag_names"}
    if fields.get("tag_names") is not None:
        body[CONTACT_FIELDS["tag_names"]] = _tags_csv(fields["tag_names"])
    return body


def _tags_csv(names: Any) -> str:
    if isinstance(names, str):
        raise TypeError("tag_names must be a list of names, not one string")
    names = list(names)
    for name in names:
        if not isinstance(name, str) or "," in name:
            raise ValueError(f"a tag name must be text without commas: {name!r}")
    return ",".join(names)
