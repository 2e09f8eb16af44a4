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
from txtsync.errors import error_body, field_from_message, parse_retry_after
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
        # .NET without an offset: 7 fractional digits, or none, or any count between
        ("2026-03-04T12:00:00.1234567", NOON.replace(microsecond=123456)),
        ("2026-03-04T14:00:00.1234567+02:00", NOON.replace(microsecond=123456)),
        ("2026-03-04T12:00:00.12", NOON.replace(microsecond=120000)),
        ("2026-03-04T12:00:00.0000000", NOON),
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
    "value",
    [
        "0001-01-01T00:00:00",  # .NET DateTime.MinValue, the default for "no date"
        "0001-01-01T00:00:00.0000000",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before datetime.min in UTC: must not overflow
        "0001-01-01T00:00:00-05:00",
        "0001-06-30T10:00:00",
        "9999-12-31T23:59:59.9999999-05:00",  # MaxValue with an offset: beyond datetime.max
    ],
)
def test_dotnet_default_and_out_of_range_dates_are_none(value):
    assert parse_datetime(value) is None


def test_a_dotnet_default_sms_reads_as_nulls_without_an_error():
    """A LastSMSOutbound-style object .NET fills with defaults for "nothing"."""
    data = {
        "SMSID": 5, "ContactID": 0, "CampaignID": 0, "ApplicationID": 0, "UserID": 0,
        "Message": None, "Direction": 0, "DeliveredDate": "0001-01-01T00:00:00",
        "CreatedDate": "0001-01-01T00:00:00",
    }  # fmt: skip

    sms = SMS.from_wire(data)

    assert (sms.contact_id, sms.campaign_id, sms.application_id, sms.user_id) == (None,) * 4
    assert (sms.delivered_date, sms.created_date, sms.message) == (None, None, None)
    assert sms.direction == 0  # not an id: 0 is outbound


@pytest.mark.parametrize("sms_id", [0, "0", None, "abc", 2**63, -1])
def test_an_sms_whose_id_is_0_absent_unreadable_or_beyond_int64_has_no_id(sms_id):
    with pytest.raises(ValueError, match="SMSID"):
        SMS.from_wire({"SMSID": sms_id, "Message": "Hi"})


def test_numbers_given_as_text_are_numbers_and_garbage_is_none():
    contact = Contact.from_wire(
        {
            "ContactID": "42",
            "OverallRating": "87",
            "TotalOutboundSMS": 3.0,
            "TotalFailedSMS": " 1 ",
            "TotalInboundSMS": "lots",
            "TotalLinksSent": 2.5,
            "TotalDistinctLinkClicks": True,
            "MobileNumber": 447911123456,
            "FirstName": {"nested": "object"},
        }
    )

    assert contact.contact_id == 42
    assert (contact.overall_rating, contact.total_outbound_sms, contact.total_failed_sms) == (
        87,
        3,
        1,
    )
    assert contact.total_inbound_sms is None
    assert (contact.total_links_sent, contact.total_distinct_link_clicks) == (None, None)
    assert contact.mobile_number == "447911123456"
    assert contact.first_name is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (True, True), (False, False), ("true", True), ("false", False), ("False", False),
        ("TRUE", True), (" true ", True), ("0", False), ("1", True), (0, False), (1, True),
        ("no idea", None), (2, None), (None, None), ([], None),
    ],
)  # fmt: skip
def test_booleans_given_as_text_or_numbers_are_booleans(given, expected):
    assert Contact.from_wire({"ContactID": 1, "AllowSMS": given}).allow_sms is expected
    assert SMS.from_wire({"SMSID": 1, "IsFlagged": given}).is_flagged is expected


@pytest.mark.parametrize("contact_id", [0, "0", 2**63])
def test_a_contact_whose_id_is_0_or_beyond_int64_has_no_id(contact_id):
    with pytest.raises(ValueError, match="ContactID"):
        ContactSummary.from_wire({"ContactID": contact_id, "MobileNumber": "+447911123456"})


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


GUID = "3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b"


@pytest.mark.parametrize(
    ("body", "location", "expected"),
    [
        ({"Id": 5}, None, "5"),
        ({"Id": "6"}, "/system/applications/webhooks/9", "6"),
        ({"id": GUID}, None, GUID),  # any case
        ({"ID": 9223372036854775808}, None, "9223372036854775808"),  # text: no range
        (None, "/system/applications/webhooks/7", "7"),
        ("", "https://api.txtsync.com/system/applications/webhooks/8/", "8"),
        (None, f"/system/applications/webhooks/{GUID}", GUID),
        ({"Ok": True}, "/system/applications/webhooks/a%20b", "a b"),  # decoded once
        ({"Id": True}, "/system/applications/webhooks/10", "10"),
        (11, None, "11"),  # a bare id as the whole body
        (GUID, None, GUID),
    ],
)
def test_hook_ids_are_text_from_the_body_or_the_location(body, location, expected):
    hook = Hook.from_wire(body, location)

    assert hook == Hook(expected, location or None)
    assert isinstance(hook.hook_id, str)


@pytest.mark.parametrize(
    ("body", "location"),
    [(None, None), ({"Id": True}, None), ({"Id": ""}, ""), ("Webhook created", None),
     ({"Id": None}, "")],
)  # fmt: skip
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


@pytest.mark.parametrize(
    ("body", "message", "errors"),
    [
        (  # the sandbox
            {"Message": "MobileNumber is already used", "Errors": {"MobileNumber": "in use"}},
            "MobileNumber is already used",
            {"MobileNumber": "in use"},
        ),
        (  # ASP.NET Web API
            {
                "Message": "The request is invalid.",
                "ModelState": {"contact.MobileNumber": ["is already used", "is taken"]},
            },
            "The request is invalid.",
            {"MobileNumber": "is already used; is taken"},
        ),
        (  # ASP.NET Core ProblemDetails
            {
                "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                "title": "One or more validation errors occurred.",
                "status": 400,
                "errors": {"MobileNumber": ["The MobileNumber field is required."]},
            },
            "One or more validation errors occurred.",
            {"MobileNumber": "The MobileNumber field is required."},
        ),
        (  # keys in any case; a JSON-path key; a body-level ("") error
            {"message": "Bad", "modelState": {"$.AllowSMS": ["not a bool"], "": ["x"]}},
            "Bad",
            {"AllowSMS": "not a bool"},
        ),
        ({"ModelState": {"": ["A non-empty request body is required."]}},
         "A non-empty request body is required.", {}),
        ("MobileNumber is already used", "MobileNumber is already used", {}),  # JSON string
        ("  ", None, {}),
        ([1, 2], None, {}),
        (None, None, {}),
    ],
)  # fmt: skip
def test_error_bodies_of_every_shape(body, message, errors):
    assert error_body(body) == (message, errors)


@pytest.mark.parametrize(
    "body",
    [
        {"Message": "The request is invalid.",
         "ModelState": {"contact.MobileNumber": ["The number is already in use."]}},
        {"title": "One or more validation errors occurred.",
         "errors": {"MobileNumber": ["The number is already in use."]}},
        {"Message": "Invalid", "Errors": {"MobileNumber": "is already used by contact 3"}},
        "MobileNumber is already used by contact 3",
    ],
)  # fmt: skip
def test_the_field_is_mobile_number_in_every_duplicate_number_shape(body):
    message, errors = error_body(body)

    assert ValidationError(message or "", errors=errors).field == "MobileNumber"


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
