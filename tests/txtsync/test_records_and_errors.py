"""Records, contact write bodies, error parsing and the never-sent test: pure functions."""

import dataclasses
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.client import RemoteDisconnected

import pytest
import requests
from urllib3.connection import HTTPConnection
from urllib3.exceptions import (
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError as Urllib3ProtocolError

from txtsync import SMS, Contact, ContactFields, ContactSummary, Hook, ValidationError
from txtsync.client import was_never_sent
from txtsync.errors import field_from_message, parse_retry_after
from txtsync.records import (
    CONTACT_FIELDS,
    SMS_FIELDS,
    contact_write_body,
    parse_datetime,
    parse_decimal,
)

# --- Tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "table"),
    [(Contact, CONTACT_FIELDS), (ContactSummary, CONTACT_FIELDS), (SMS, SMS_FIELDS)],
)
def test_every_record_field_has_a_wire_name(record, table):
    assert {field.name for field in dataclasses.fields(record)} <= set(table)


def test_contact_fields_are_the_writable_ones_and_all_have_wire_names():
    assert set(ContactFields.__optional_keys__) <= set(CONTACT_FIELDS)
    assert "contact_id" not in ContactFields.__optional_keys__


def test_the_contact_table_covers_the_full_form_exactly():
    full_form = {CONTACT_FIELDS[f.name] for f in dataclasses.fields(Contact)}
    assert full_form == {
        "ContactID", "FirstName", "LastName", "MobileNumber", "CompanyName",
        "ExternalReference", "EmailAddress", "AddressLine1", "AddressLine2", "City",
        "County", "Postcode", "Country", "Custom01", "Custom02", "Custom03", "Custom04",
        "Custom05", "AllowSMS", "FullName", "OverallRating", "TotalDistinctLinkClicks",
        "TotalLinksSent", "TotalInboundSMS", "TotalOutboundSMS", "TotalFailedSMS",
        "LastCommunicationDate",
    }  # fmt: skip


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Contact(contact_id=1).first_name = "x"  # type: ignore[misc]


# --- Parsing ---------------------------------------------------------------------------------

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04T12:00:00Z", NOON),
        ("2026-03-04T12:00:00.000Z", NOON),
        ("2026-03-04T14:00:00+02:00", NOON),
        ("2026-03-04T07:00:00-0500", NOON),
        ("2026-03-04T12:00:00", NOON),  # naive = UTC
        ("2026-03-04 12:00:00", NOON),
        ("2026-03-04T12:00:00.1234567Z", NOON.replace(microsecond=123456)),  # .NET ticks
        ("2026-03-04T12:00:00.5", NOON.replace(microsecond=500000)),
    ],
)
def test_dates_become_aware_utc(text, expected):
    parsed = parse_datetime(text)

    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "yesterday", "2026-13-01T00:00:00Z", 1700000000]
)
def test_unparseable_dates_are_none(value):
    assert parse_datetime(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.035, Decimal("0.035")), (1, Decimal(1)), ("0.1", Decimal("0.1")), (None, None),
     ("free", None), (True, None), ("NaN", None)],
)  # fmt: skip
def test_money_is_decimal(value, expected):
    assert parse_decimal(value) == expected


def test_field_names_match_case_insensitively_and_exact_names_win():
    contact = Contact.from_wire({"contactId": 3, "FIRSTNAME": "Ann", "LastName": "Lee"})

    assert (contact.contact_id, contact.first_name, contact.last_name) == (3, "Ann", "Lee")


@pytest.mark.parametrize("data", [{}, {"ContactID": None}, [], "Ann", None])
def test_a_contact_without_an_id_or_not_an_object_is_refused(data):
    with pytest.raises((TypeError, ValueError)):
        ContactSummary.from_wire(data)


@pytest.mark.parametrize(
    ("body", "location", "expected"),
    [
        ({"Id": 5}, None, 5),
        ({"Id": "6"}, "/system/applications/webhooks/9", 6),
        (None, "/system/applications/webhooks/7", 7),
        ("", "https://api.txtsync.com/system/applications/webhooks/8/", 8),
    ],
)
def test_hook_ids_come_from_the_body_or_the_location(body, location, expected):
    assert Hook.from_wire(body, location) == Hook(expected)


@pytest.mark.parametrize(
    ("body", "location"), [(None, None), ({"Id": True}, None), (None, "/webhooks/abc")]
)
def test_no_readable_hook_id_is_an_error(body, location):
    with pytest.raises(ValueError):
        Hook.from_wire(body, location)


# --- Contact write bodies ----------------------------------------------------------------------


def test_add_body_is_pascal_case_with_tags_as_csv():
    fields = ContactFields(mobile_number="+447911123456", first_name="Ann", tag_names=["A", "B"])

    assert contact_write_body(fields, update=False) == {
        "MobileNumber": "+447911123456",
        "FirstName": "Ann",
        "TagNames": "A,B",
    }


def test_update_body_keeps_nulls_and_empty_tag_lists_but_drops_tag_none():
    body = contact_write_body(
        {"email_address": None, "allow_sms": True, "tag_names": []}, update=True
    )

    assert body == {"EmailAddress": None, "AllowSMS": True, "TagNames": ""}
    assert contact_write_body({"tag_names": None}, update=True) == {}


def test_unknown_fields_and_allow_sms_on_add_are_refused():
    with pytest.raises(TypeError, match="mobile"):
        contact_write_body({"mobile": "+447911123456"}, update=True)
    with pytest.raises(ValueError, match="update-only"):
        contact_write_body({"mobile_number": "+447911123456", "allow_sms": True}, update=False)


@pytest.mark.parametrize("tags", ["VIP", ["a,b"], [1]])
def test_tag_names_must_be_a_list_of_names_without_commas(tags):
    with pytest.raises((TypeError, ValueError)):
        contact_write_body({"tag_names": tags}, update=True)


# --- Errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("MobileNumber is not a valid phone number: '123'", "MobileNumber"),
        ("To is required", "To"),
        ("To[3] is not a valid phone number", "To[3]"),
        ("To or ToTagName is required", "To"),
        ("URL must be an absolute http:// or https:// URL", "URL"),
        ("From: too long", "From"),
        ("The request is invalid", None),
        ("Invalid", None),
        ("bad input", None),
        ("", None),
        (None, None),
    ],
)
def test_field_from_message(message, field):
    assert field_from_message(message) == field


def test_validation_error_prefers_the_first_errors_key():
    error = ValidationError(
        "From is required; To is required", errors={"To": "x", "From": "y"}, operation="SendSMS"
    )

    assert (error.field, error.status, error.operation) == ("To", 400, "SendSMS")
    assert str(error) == "SendSMS failed (HTTP 400): From is required; To is required"


def test_retry_after():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 12 ") == 12.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0  # past: now
    for unusable in (None, "", "-3", "nan", "inf", "in a bit", "Thu, 99 Foo"):
        assert parse_retry_after(unusable) is None


# --- Never sent? ------------------------------------------------------------------------------


def _connection() -> HTTPConnection:
    return HTTPConnection("txtsync.test", 443)


def _wrapped(reason: Exception) -> requests.exceptions.ConnectionError:
    """A ConnectionError as requests raises it: urllib3's MaxRetryError with a reason."""
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/sms/send", reason))


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectTimeout(),
        _wrapped(NewConnectionError(_connection(), "Connection refused")),
        _wrapped(NameResolutionError("txtsync.test", _connection(), socket.gaierror(-2, "x"))),
        requests.exceptions.ConnectionError(ConnectionRefusedError(111, "refused")),
    ],
    ids=["connect-timeout", "new-connection", "name-resolution", "refused"],
)
def test_failures_before_sending_are_recognised(exc):
    assert was_never_sent(exc)


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ReadTimeout(),
        requests.exceptions.ChunkedEncodingError(),
        requests.exceptions.ConnectionError(
            Urllib3ProtocolError("Connection aborted.", RemoteDisconnected("closed"))
        ),
        requests.exceptions.ConnectionError(ReadTimeoutError(None, "/", "read timed out")),
        requests.exceptions.ConnectionError(ConnectionResetError(104, "reset")),
        requests.exceptions.ConnectionError("something else"),
        ValueError("not a requests error"),
    ],
    ids=["read-timeout", "chunked", "aborted", "body-timeout", "reset", "opaque", "other"],
)
def test_failures_after_sending_may_have_been_acted_on(exc):
    assert not was_never_sent(exc)
