"""The contact wire format of the contract: PascalCase in, PascalCase out, in one place.

Parsing checks JSON types and lengths and normalises numbers, so a service
only ever sees clean values; a bad field raises ValidationFailed naming it
before anything is written.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from sandbox.models import Contact


class ValidationFailed(Exception):
    """Bad input: `errors` maps each contract field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return "; ".join(f"{name} {problem}" for name, problem in self.errors.items())


# Writable text fields: contract name -> (model attribute, maximum length).
TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "FirstName": ("first_name", 100),
    "LastName": ("last_name", 100),
    "CompanyName": ("company_name", 200),
    "ExternalReference": ("external_reference", 100),
    "EmailAddress": ("email_address", 254),
    "AddressLine1": ("address_line1", 200),
    "AddressLine2": ("address_line2", 200),
    "City": ("city", 100),
    "County": ("county", 100),
    "Postcode": ("postcode", 20),
    "Country": ("country", 100),
    **{f"Custom0{n}": (f"custom0{n}", 500) for n in range(1, 6)},
}
TAG_NAME_MAX_LENGTH = 100
NUMBER_MAX_LENGTH = 32


@dataclass
class ContactInput:
    """The fields a request sent, cleaned. Absent fields are absent, so updates are partial."""

    values: dict[str, Any] = field(default_factory=dict)  # model attribute -> value
    tag_names: list[str] | None = None  # None: leave tags as they are


def normalise_number(raw: str, region: str) -> str | None:
    """E.164 form of `raw` (international, or national for `region`), or None if invalid."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_contact(payload: Any, *, region: str, creating: bool) -> ContactInput:
    if not isinstance(payload, dict):
        raise ValidationFailed({"Body": "must be a JSON object"})
    errors: dict[str, str] = {}
    cleaned = ContactInput()
    for name, (attr, max_length) in TEXT_FIELDS.items():
        if name in payload:
            value = _text(payload[name], max_length, name, errors)
            if value is not None:
                cleaned.values[attr] = value
    _parse_email(cleaned, errors)
    if cleaned.values.get("external_reference") == "":
        cleaned.values["external_reference"] = None  # unset, so it never collides
    _parse_number(payload, cleaned, errors, region=region, creating=creating)
    if not creating and "AllowSMS" in payload:
        # The contract makes AllowSMS update-only; on add it is ignored.
        if isinstance(payload["AllowSMS"], bool):
            cleaned.values["allow_sms"] = payload["AllowSMS"]
        else:
            errors["AllowSMS"] = "must be true or false (a JSON boolean)"
    _parse_tags(payload, cleaned, errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _text(value: Any, max_length: int, name: str, errors: dict[str, str]) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = "must be a string"
        return None
    value = value.strip()
    if len(value) > max_length:
        errors[name] = f"must be at most {max_length} characters (got {len(value)})"
        return None
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        errors[name] = "must not contain control characters"
        return None
    return value


def _parse_email(cleaned: ContactInput, errors: dict[str, str]) -> None:
    email = cleaned.values.get("email_address")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["EmailAddress"] = "is not a valid email address"


def _parse_number(
    payload: dict, cleaned: ContactInput, errors: dict[str, str], *, region: str, creating: bool
) -> None:
    raw = payload.get("MobileNumber")
    if raw is None or raw == "":
        if creating or "MobileNumber" in payload:
            errors["MobileNumber"] = "is required"
        return
    if not isinstance(raw, str):
        errors["MobileNumber"] = 'must be a string, e.g. "+447700900123"'
        return
    number = normalise_number(raw, region) if len(raw) <= NUMBER_MAX_LENGTH else None
    if number is None:
        errors["MobileNumber"] = f"is not a valid phone number: {raw[:NUMBER_MAX_LENGTH]!r}"
        return
    cleaned.values["mobile_number"] = number


def _parse_tags(payload: dict, cleaned: ContactInput, errors: dict[str, str]) -> None:
    raw = payload.get("TagNames")
    if raw is None:
        return
    if not isinstance(raw, str):
        errors["TagNames"] = 'must be a comma-separated string, e.g. "VIP,Newsletter"'
        return
    names: dict[str, str] = {}
    for name in (part.strip() for part in raw.split(",")):
        if len(name) > TAG_NAME_MAX_LENGTH:
            errors["TagNames"] = f"each tag name must be at most {TAG_NAME_MAX_LENGTH} characters"
            return
        if name:
            names.setdefault(name.casefold(), name)
    cleaned.tag_names = list(names.values())


def format_date(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _or_null(value: str | None) -> str | None:
    return value or None


def contact_short(contact: Contact) -> dict[str, Any]:
    """AddContact's response."""
    return {
        "ContactID": contact.pk,
        "FirstName": _or_null(contact.first_name),
        "LastName": _or_null(contact.last_name),
        "MobileNumber": contact.mobile_number,
        "EmailAddress": _or_null(contact.email_address),
        "FullName": _or_null(contact.full_name),
    }


def contact_full(contact: Contact) -> dict[str, Any]:
    """SearchContact's and GetContactByExternalReference's element."""
    body: dict[str, Any] = {"ContactID": contact.pk, "MobileNumber": contact.mobile_number}
    for name, (attr, _max_length) in TEXT_FIELDS.items():
        body[name] = _or_null(getattr(contact, attr))
    body.update(
        {
            "AllowSMS": contact.allow_sms,
            "FullName": _or_null(contact.full_name),
            "OverallRating": contact.overall_rating,
            "TotalDistinctLinkClicks": contact.total_distinct_link_clicks,
            "TotalLinksSent": contact.total_links_sent,
            "TotalInboundSMS": contact.total_inbound_sms,
            "TotalOutboundSMS": contact.total_outbound_sms,
            "TotalFailedSMS": contact.total_failed_sms,
            "LastCommunicationDate": format_date(contact.last_communication_date),
        }
    )
    return body
