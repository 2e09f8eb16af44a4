"""The contact wire format of the contract: PascalCase in, PascalCase out, in one place.

Parsing checks JSON types and lengths and normalises numbers, so a service
only ever sees clean values; a bad field raises ValidationFailed naming it
before anything is written.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from sandbox.models import SMS, Contact, Direction
from txtsync.segments import count_segments


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


def contact_full(
    contact: Contact, date: Callable[[datetime | None], str | None] = format_date
) -> dict[str, Any]:
    """SearchContact's and GetContactByExternalReference's element; `date` writes dates."""
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
            "LastCommunicationDate": date(contact.last_communication_date),
        }
    )
    return body


# --- SMS ------------------------------------------------------------------------------

SENDER_ID = re.compile(r"[A-Za-z0-9 ]{1,11}")
MAX_SEGMENTS = 10
BULK_MAX_TO = 1000
SMS_TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "RegardingReference": ("regarding_reference", 200),
    "RegardingSchema": ("regarding_schema", 200),
    "Custom01": ("custom01", 500),
    "Custom02": ("custom02", 500),
    "Custom03": ("custom03", 500),
}


@dataclass
class SendInput:
    from_number: str
    to_number: str
    message: str
    scheduled_date: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)  # model attribute -> value


@dataclass
class BulkInput:
    from_number: str
    message: str
    to_numbers: list[str]
    tag_names: list[str]


def _require_object(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise ValidationFailed({"Body": "must be a JSON object"})
    return payload


def _parse_sender(raw: Any, errors: dict[str, str], region: str) -> str:
    if isinstance(raw, str) and raw.startswith("+"):
        number = normalise_number(raw, region) if len(raw) <= NUMBER_MAX_LENGTH else None
        if number:
            return number
    elif isinstance(raw, str) and SENDER_ID.fullmatch(raw) and raw.strip():
        return raw
    if raw is None or raw == "":
        errors["From"] = "is required"
    else:
        errors["From"] = (
            "must be an E.164 number or an alphanumeric sender id of 1-11 characters "
            "(letters, digits, spaces)"
        )
    return ""


def _parse_recipient(raw: Any, name: str, errors: dict[str, str], region: str) -> str:
    if raw is None or raw == "":
        errors[name] = "is required"
    elif not isinstance(raw, str):
        errors[name] = 'must be a string, e.g. "+447911123456"'
    else:
        number = normalise_number(raw, region) if len(raw) <= NUMBER_MAX_LENGTH else None
        if number:
            return number
        errors[name] = f"is not a valid phone number: {raw[:NUMBER_MAX_LENGTH]!r}"
    return ""


def _parse_message(raw: Any, errors: dict[str, str]) -> str:
    if not isinstance(raw, str) or not raw.strip():
        errors["Message"] = "is required" if raw in (None, "") else "must be a non-empty string"
        return ""
    segments = count_segments(raw).segments
    if segments > MAX_SEGMENTS:
        errors["Message"] = f"is {segments} segments long; the maximum is {MAX_SEGMENTS}"
    return raw


def _parse_date(raw: Any, name: str, errors: dict[str, str]) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        value = (
            datetime.fromisoformat(raw.replace("Z", "+00:00")) if isinstance(raw, str) else None
        )
    except ValueError:
        value = None
    if value is None:
        errors[name] = 'must be an ISO 8601 date-time, e.g. "2026-12-01T09:30:00Z"'
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_send(payload: Any, *, region: str) -> SendInput:
    payload = _require_object(payload)
    errors: dict[str, str] = {}
    data = SendInput(
        from_number=_parse_sender(payload.get("From"), errors, region),
        to_number=_parse_recipient(payload.get("To"), "To", errors, region),
        message=_parse_message(payload.get("Message"), errors),
        scheduled_date=_parse_date(payload.get("ScheduledDate"), "ScheduledDate", errors),
    )
    for name, (attr, max_length) in SMS_TEXT_FIELDS.items():
        if name in payload:
            value = _text(payload[name], max_length, name, errors)
            if value is not None:
                data.extra[attr] = value
    if errors:
        raise ValidationFailed(errors)
    return data


def _string_list(raw: Any, name: str, errors: dict[str, str]) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        errors[name] = "must be an array of strings"
        return []
    return raw


def parse_bulk(payload: Any, *, region: str) -> BulkInput:
    payload = _require_object(payload)
    errors: dict[str, str] = {}
    data = BulkInput(
        from_number=_parse_sender(payload.get("From"), errors, region),
        message=_parse_message(payload.get("Message"), errors),
        to_numbers=[],
        tag_names=[],
    )
    raw_numbers = _string_list(payload.get("To"), "To", errors)
    if len(raw_numbers) > BULK_MAX_TO:
        errors["To"] = f"has {len(raw_numbers)} numbers; the maximum per call is {BULK_MAX_TO}"
        raw_numbers = []
    for index, raw in enumerate(raw_numbers):
        number = _parse_recipient(raw, f"To[{index}]", errors, region)
        if number:
            data.to_numbers.append(number)
    data.tag_names = [
        name.strip()
        for name in _string_list(payload.get("ToTagName"), "ToTagName", errors)
        if name.strip()
    ]
    if not raw_numbers and not data.tag_names and "To" not in errors:
        errors["To"] = "or ToTagName is required: give numbers, tag names, or both"
    if errors:
        raise ValidationFailed(errors)
    return data


def parse_hook(payload: Any) -> str:
    url = _require_object(payload).get("URL")
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/?#]+\S*", url):
        raise ValidationFailed({"URL": "must be an absolute http:// or https:// URL"})
    if len(url) > 2000:
        raise ValidationFailed({"URL": "must be at most 2000 characters"})
    return url


def _money(value: Decimal) -> float:
    return float(round(value, 4))


def sms_json(sms: SMS) -> dict[str, Any]:
    """The contract's SMS object."""
    application = sms.application
    links = [
        {
            "URL": link.url,
            "Clicks": link.clicks,
            "FirstClickedDate": format_date(link.first_clicked_at),
        }
        for link in sms.links.all()
    ]
    return {
        "SMSID": sms.pk,
        "FromNumber": sms.from_number,
        "ToNumber": sms.to_number,
        "ContactID": sms.contact_id,
        "ContactName": _or_null(sms.contact_name),
        "Direction": sms.direction,
        "Message": sms.message,
        "CreatedDate": format_date(sms.created_date),
        "DeliveredDate": format_date(sms.delivered_date),
        "Segments": sms.segments,
        "Status": sms.status,
        "ErrorCode": sms.error_code,
        "CampaignID": sms.campaign_id,
        "ApplicationID": application.pk if application else None,
        "ApplicationName": application.name if application else None,
        "UserID": None,
        "UserName": None,
        "ProfileURL": None,
        "LinkDetails": json.dumps(links) if links else None,
        "IsFlagged": sms.is_flagged,
        "FlaggedDate": format_date(sms.flagged_date),
        "FlaggedDescription": _or_null(sms.flagged_description),
        "CurrencyCode": sms.currency_code,
        "CostLocal": _money(sms.cost_local),
        "CostGBP": _money(sms.cost_gbp),
    }


def notification_sms(sms: SMS) -> dict[str, Any]:
    """An SMS as webhook notifications carry it: CreatedDate (outbound) or DeliveredDate."""
    body = {
        "SMSID": sms.pk,
        "ContactID": sms.contact_id,
        "ContactName": _or_null(sms.contact_name),
        "FromNumber": sms.from_number,
        "ToNumber": sms.to_number,
        "Message": sms.message,
    }
    if sms.direction == Direction.INBOUND:
        body["DeliveredDate"] = format_date(sms.delivered_date)
    else:
        body["CreatedDate"] = format_date(sms.created_date)
    return body
