"""The TxtSync client against a misbehaving server: a real local HTTP server, no mocks.

Each test tells the server how to answer (or not answer); the client talks real HTTP
to it, so timeouts, hang-ups and refused connections are the genuine article.
"""

import base64
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime
from typing import Any, NamedTuple

import pytest

from tests.support.fake_txtsync import Behaviour, FakeTxtSync, answer, hang, hang_up
from txtsync import (
    SMS,
    AuthenticationError,
    ConnectionFailed,
    Contact,
    Hook,
    NotFoundError,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    ServerError,
    TxtSyncClient,
    TxtSyncError,
    ValidationError,
)

KEY = "tsk_test_key"
SECRET = "s3cret-Value-that-must-never-leak"
API_KEY = "gw-Api-Key-that-must-never-leak"
GUID = "3f2b8c1e-9d4a-4b6e-8f0a-1c2d3e4f5a6b"
ANN = "+447911123456"
READ_TIMEOUT = 0.5
NAN: Any = float("nan")  # not representable in JSON


@pytest.fixture
def fake():
    server = FakeTxtSync()
    yield server
    server.close()


@pytest.fixture
def client(fake):
    with TxtSyncClient(
        fake.url, KEY, SECRET, connect_timeout=2, read_timeout=READ_TIMEOUT
    ) as txtsync:
        yield txtsync


@pytest.fixture
def refused_url() -> str:
    """A URL on a port nobody listens on: bound, read, released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def raised(expected: type[TxtSyncError], call: Callable[[], Any]) -> TxtSyncError:
    """Run `call`, check it raises `expected` exactly, and that no secret leaks into it."""
    with pytest.raises(TxtSyncError) as info:
        call()
    error = info.value
    assert type(error) is expected, repr(error)
    assert_no_secret(error)
    return error


def assert_no_secret(error: BaseException) -> None:
    token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    for text in (str(error), repr(error), getattr(error, "message", "")):
        assert SECRET not in text
        assert token not in text
        assert API_KEY not in text


@pytest.fixture
def keyed(fake):
    """A client that sends an API key."""
    with TxtSyncClient(fake.url, KEY, SECRET, read_timeout=READ_TIMEOUT, api_key=API_KEY) as c:
        yield c


# --- Every operation, with a valid answer and its expected request ------------------------

CONTACT_JSON = {"ContactID": 1, "FirstName": "Ann", "MobileNumber": ANN}
SMS_JSON = {
    "SMSID": 9,
    "FromNumber": "Acme",
    "ToNumber": ANN,
    "Direction": 0,
    "CreatedDate": "2026-01-02T03:04:05.123Z",
    "Segments": 1,
    "Status": 0,
    "CostGBP": 0.035,
}


class Operation(NamedTuple):
    call: Callable[[TxtSyncClient], Any]
    method: str
    path: str  # under the base URL
    ok: Behaviour
    read_only: bool = False
    send: bool = False


OPERATIONS: dict[str, Operation] = {
    "SendSMS": Operation(
        lambda c: c.send_sms("Acme", ANN, "Hi"), "POST", "sms/send", answer(200, [SMS_JSON]),
        send=True,
    ),
    "SendBulkSMS": Operation(
        lambda c: c.send_bulk_sms("Acme", "Hi", to=[ANN]), "POST", "sms/send/bulk",
        answer(200, "1 SMS queued"), send=True,
    ),
    "SearchContact": Operation(
        lambda c: c.search_contacts("ann"), "GET", "contacts?search=ann",
        answer(200, [CONTACT_JSON]), read_only=True,
    ),
    "AddContact": Operation(
        lambda c: c.add_contact({"mobile_number": ANN}), "POST", "contacts",
        answer(200, CONTACT_JSON),
    ),
    "UpdateContact": Operation(
        lambda c: c.update_contact(1, {"first_name": "Ann"}), "PUT", "contacts/1",
        answer(200, "Contact 1 updated"),
    ),
    "DeleteContact": Operation(
        lambda c: c.delete_contact(1), "DELETE", "contacts/1", answer(200, "Contact 1 deleted")
    ),
    "GetContactByExternalReference": Operation(
        lambda c: c.get_contact_by_external_reference("r-1"), "GET", "contacts/external/r-1",
        answer(200, [CONTACT_JSON]), read_only=True,
    ),
    "UpdateContactByExternalReference": Operation(
        lambda c: c.update_contact_by_external_reference("r-1", {"city": "Leeds"}), "PUT",
        "contacts/external/r-1", answer(200, "Contact 1 updated"),
    ),
    "DeleteContactByExternalReference": Operation(
        lambda c: c.delete_contact_by_external_reference("r-1"), "DELETE",
        "contacts/external/r-1", answer(200, "Contact 1 deleted"),
    ),
    "InboundSMS": Operation(
        lambda c: c.subscribe_inbound("https://crm.test/hook/x"), "POST",
        "system/applications/webhooks/type/0", answer(201, {"Id": 4}),
    ),
    "OutboundSMS": Operation(
        lambda c: c.subscribe_outbound("https://crm.test/hook/y"), "POST",
        "system/applications/webhooks/type/5", answer(201, {"Id": 5}),
    ),
    "DeleteTrigger": Operation(
        lambda c: c.delete_trigger("4"), "DELETE", "system/applications/webhooks/4",
        answer(200, "Webhook 4 deleted"),
    ),
}  # fmt: skip
READ_ONLY = [name for name, op in OPERATIONS.items() if op.read_only]
STATE_CHANGING = [name for name, op in OPERATIONS.items() if not op.read_only]


def in_doubt(name: str) -> type[TxtSyncError]:
    """What a failure after the request went out raises for this operation."""
    return ServerError if OPERATIONS[name].read_only else OutcomeUnknown


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_operation_sends_its_method_path_and_headers(fake, client, name):
    operation = OPERATIONS[name]
    fake.behaviour = operation.ok

    operation.call(client)

    request = fake.last
    assert (request.method, request.path) == (operation.method, "/api/" + operation.path)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == "txtcrm/0.1"
    expected_auth = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert request.headers["authorization"] == expected_auth
    assert request.headers.get("x-zapier") == ("true" if operation.send else None)
    assert "x-api-key" not in request.headers  # none configured: the header is not sent


@pytest.mark.parametrize("name", OPERATIONS)
def test_the_api_key_is_sent_as_x_api_key_on_every_operation(fake, keyed, name):
    fake.behaviour = OPERATIONS[name].ok

    OPERATIONS[name].call(keyed)

    assert fake.last.headers["x-api-key"] == API_KEY


def test_the_api_key_is_never_logged_nor_shown(fake, keyed, caplog):
    caplog.set_level(logging.DEBUG)
    fake.behaviour = answer(200, [SMS_JSON])
    keyed.send_sms("Acme", ANN, "Hi")
    fake.behaviour = answer(400, {"Message": f"Bad key {API_KEY}", "Errors": {"Key": API_KEY}})

    error = raised(ValidationError, lambda: keyed.search_contacts())

    assert error.errors == {"Key": "[redacted]"}
    assert API_KEY not in caplog.text and API_KEY not in repr(keyed)


@pytest.mark.parametrize(("api_key", "sent"), [("", "none was sent"), (API_KEY, "one was sent")])
def test_403_names_the_api_key_and_whether_one_was_sent(fake, api_key, sent):
    fake.behaviour = answer(403, {"message": "Forbidden"})

    with TxtSyncClient(fake.url, KEY, SECRET, api_key=api_key) as c:
        error = raised(AuthenticationError, lambda: c.send_sms("Acme", ANN, "Hi"))

    assert error.likely_cause == "api_key"
    assert "TxtSync refused the API key (x-api-key): missing or wrong" in error.message
    assert sent in error.message and "TXTSYNC_API_KEY" in error.message
    assert "Forbidden" in error.message  # what TxtSync said, too


def test_401_names_the_client_key_and_secret(fake, keyed):
    fake.behaviour = answer(401, {"Message": "Authorization has been denied"})

    error = raised(AuthenticationError, lambda: keyed.search_contacts())

    assert error.likely_cause == "credentials"
    assert "Client Key / Client Secret" in error.message
    assert "API key" not in error.message
    assert "Authorization has been denied" in error.message


@pytest.mark.parametrize("name", OPERATIONS)
def test_on_response_is_told_every_operation_and_status(fake, name):
    seen = []
    fake.behaviour = OPERATIONS[name].ok
    with TxtSyncClient(fake.url, KEY, SECRET, on_response=lambda *args: seen.append(args)) as c:
        OPERATIONS[name].call(c)
        fake.behaviour = answer(404, {"Message": "Not found"})
        with pytest.raises(TxtSyncError):
            OPERATIONS[name].call(c)

    first_status = 201 if name.endswith("boundSMS") else 200
    assert seen == [(name, first_status), (name, 404)]


def test_a_failing_on_response_hook_does_not_fail_the_call(fake):
    def broken(operation: str, status: int) -> None:
        raise RuntimeError("metrics are down")

    fake.behaviour = answer(200, [SMS_JSON])
    with TxtSyncClient(fake.url, KEY, SECRET, on_response=broken) as c:
        assert c.send_sms("Acme", ANN, "Hi").sms_id == 9


# --- Transport failures ---------------------------------------------------------------------


def test_read_timeout_on_send_sms_is_outcome_unknown(fake, client):
    fake.behaviour = hang

    error = raised(OutcomeUnknown, lambda: client.send_sms("Acme", ANN, "Hi"))

    assert (error.status, error.operation) == (None, "SendSMS")
    assert len(fake.requests) == 1  # never retried behind the caller's back


def test_read_timeout_on_search_is_a_retry_safe_server_error(fake, client):
    fake.behaviour = hang

    error = raised(ServerError, lambda: client.search_contacts("ann"))

    assert (error.status, error.operation) == (None, "SearchContact")


@pytest.mark.parametrize("name", OPERATIONS)
def test_read_timeout_is_in_doubt_only_for_state_changing_operations(fake, client, name):
    fake.behaviour = hang

    error = raised(in_doubt(name), lambda: OPERATIONS[name].call(client))

    assert error.operation == name


@pytest.mark.parametrize("name", OPERATIONS)
def test_a_hang_up_after_the_request_is_in_doubt_for_state_changing_operations(fake, client, name):
    fake.behaviour = hang_up

    error = raised(in_doubt(name), lambda: OPERATIONS[name].call(client))

    assert (error.status, error.operation) == (None, name)
    assert len(fake.requests) == 1


def test_hang_up_on_send_sms_is_outcome_unknown(fake, client):
    fake.behaviour = hang_up

    raised(OutcomeUnknown, lambda: client.send_sms("Acme", ANN, "Hi"))


@pytest.mark.parametrize("name", OPERATIONS)
def test_connection_refused_is_connection_failed_for_every_operation(refused_url, name):
    with TxtSyncClient(refused_url, KEY, SECRET, connect_timeout=2) as c:
        error = raised(ConnectionFailed, lambda: OPERATIONS[name].call(c))

    assert (error.status, error.operation) == (None, name)


def test_an_unresolvable_host_is_connection_failed():
    # ".invalid" never resolves (RFC 6761); the resolver answers without the network.
    with TxtSyncClient("http://txtsync.invalid/", KEY, SECRET, connect_timeout=2) as c:
        raised(ConnectionFailed, lambda: c.send_sms("Acme", ANN, "Hi"))


# --- Error statuses ---------------------------------------------------------------------------


def test_500_on_send_is_outcome_unknown(fake, client):
    fake.behaviour = answer(500, {"Message": "Internal error"})

    error = raised(OutcomeUnknown, lambda: client.send_sms("Acme", ANN, "Hi"))

    assert (error.status, error.operation) == (500, "SendSMS")
    assert "Internal error" in str(error)


def test_500_on_search_is_server_error(fake, client):
    fake.behaviour = answer(500, raw=b"<h1>Server Error</h1>")

    error = raised(ServerError, lambda: client.search_contacts("ann"))

    assert error.status == 500
    assert "Server Error" in error.message


def test_503_on_add_contact_is_outcome_unknown(fake, client):
    fake.behaviour = answer(503, raw=b"Service Unavailable")

    error = raised(OutcomeUnknown, lambda: client.add_contact({"mobile_number": ANN}))

    assert (error.status, error.operation) == (503, "AddContact")


@pytest.mark.parametrize("name", OPERATIONS)
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_in_doubt_only_for_state_changing_operations(fake, client, name, status):
    fake.behaviour = answer(status, {"Message": "Down"})

    error = raised(in_doubt(name), lambda: OPERATIONS[name].call(client))

    assert error.status == status


def test_400_names_the_field_from_errors(fake, client):
    fake.behaviour = answer(
        400,
        {"Message": "To is not a valid phone number: '1'", "Errors": {"To": "is not valid"}},
    )

    error = raised(ValidationError, lambda: client.send_sms("Acme", "1", "Hi"))

    assert (error.field, error.errors, error.status) == ("To", {"To": "is not valid"}, 400)
    assert error.message == "To is not a valid phone number: '1'"


def test_400_without_errors_takes_the_field_from_the_message(fake, client):
    fake.behaviour = answer(400, {"Message": "MobileNumber is required"})

    error = raised(ValidationError, lambda: client.add_contact({"first_name": "Ann"}))

    assert (error.field, error.errors) == ("MobileNumber", {})


@pytest.mark.parametrize(
    "body",
    [
        {"Message": "The request is invalid.",
         "ModelState": {"contact.MobileNumber": ["The number is already in use."]}},
        {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
         "title": "One or more validation errors occurred.", "status": 400,
         "errors": {"MobileNumber": ["The number is already in use."]}},
    ],
    ids=["aspnet-modelstate", "problem-details"],
)  # fmt: skip
def test_400_in_aspnet_shapes_names_the_field(fake, client, body):
    fake.behaviour = answer(400, body)

    error = raised(ValidationError, lambda: client.add_contact({"mobile_number": ANN}))

    assert error.field == "MobileNumber"
    assert error.errors == {"MobileNumber": "The number is already in use."}


def test_400_as_a_json_string_takes_the_field_from_the_text(fake, client):
    fake.behaviour = answer(400, "MobileNumber is already used by contact 3")

    error = raised(ValidationError, lambda: client.add_contact({"mobile_number": ANN}))

    assert (error.field, error.message) == (
        "MobileNumber",
        "MobileNumber is already used by contact 3",
    )


def test_400_with_a_plain_sentence_names_no_field(fake, client):
    fake.behaviour = answer(400, raw=b"The request is invalid")

    error = raised(ValidationError, lambda: client.add_contact({"first_name": "Ann"}))

    assert error.field is None
    assert error.message == "The request is invalid"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, NotFoundError),
        (422, ValidationError),
        (405, TxtSyncError),
        (409, TxtSyncError),
    ],
)
def test_4xx_statuses_map_to_refusals(fake, client, status, expected):
    fake.behaviour = answer(status, {"Message": "No"})

    error = raised(expected, lambda: client.delete_contact(1))

    assert (error.status, error.message) == (status, "No")


def test_429_without_retry_after(fake, client):
    fake.behaviour = answer(429, {"Message": "Slow down"})

    error = raised(RateLimited, lambda: client.search_contacts())

    assert (error.status, error.retry_after) == (429, None)


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("0.5", 0.5), ("soon", None)])
def test_429_retry_after_in_seconds(fake, client, header, expected):
    fake.behaviour = answer(429, {"Message": "Slow down"}, headers={"Retry-After": header})

    error = raised(RateLimited, lambda: client.send_sms("Acme", ANN, "Hi"))

    assert error.retry_after == expected


def test_429_retry_after_as_an_http_date(fake, client):
    when = datetime.now(UTC) + timedelta(seconds=10)
    headers = {"Retry-After": format_datetime(when, usegmt=True)}
    fake.behaviour = answer(429, {"Message": "Slow down"}, headers=headers)

    error = raised(RateLimited, lambda: client.search_contacts())

    assert 5 <= error.retry_after <= 11


def test_redirects_are_not_followed(fake, client):
    fake.behaviour = answer(302, headers={"Location": "/elsewhere"})

    raised(OutcomeUnknown, lambda: client.send_sms("Acme", ANN, "Hi"))
    raised(ProtocolError, lambda: client.search_contacts())

    assert [r.path for r in fake.requests] == ["/api/sms/send", "/api/contacts?search="]


def test_the_secret_is_scrubbed_even_when_the_server_echoes_it(fake, client):
    token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    fake.behaviour = answer(
        400,
        {"Message": f"Bad password {SECRET} (Basic {token})", "Errors": {"Secret": SECRET}},
    )

    error = raised(ValidationError, lambda: client.search_contacts())

    assert error.errors == {"Secret": "[redacted]"}
    assert "Bad password [redacted]" in error.message


def test_the_client_repr_does_not_show_the_secret(client):
    assert SECRET not in repr(client)


# --- Bodies that cannot be read --------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["SearchContact", "GetContactByExternalReference", "AddContact", "InboundSMS"]
)
@pytest.mark.parametrize(
    "body", [b"{not json", b"<html>ok</html>", b"", b'{"Unexpected": "shape"}', b"[1, 2]"]
)
def test_unreadable_2xx_on_a_non_send_is_protocol_error(fake, client, name, body):
    fake.behaviour = answer(200, raw=body)

    error = raised(ProtocolError, lambda: OPERATIONS[name].call(client))

    assert (error.status, error.operation) == (200, name)


@pytest.mark.parametrize("status", [200, 201, 202])
@pytest.mark.parametrize(
    "body",
    [b"<html>ok</html>", b"", b"[]", b'{"no": "SMSID"}', b"[1]", b'"queued"', b"{not json",
     b'[{"SMSID": 0, "Message": null, "CreatedDate": "0001-01-01T00:00:00"}]'],
)  # fmt: skip
def test_a_2xx_to_send_sms_without_a_readable_sms_is_accepted_without_a_record(
    fake, client, status, body
):
    fake.behaviour = answer(status, raw=body)

    assert client.send_sms("Acme", ANN, "Hi") is None
    assert len(fake.requests) == 1


def test_a_204_to_send_sms_is_accepted_without_a_record(fake, client):
    fake.behaviour = answer(204)

    assert client.send_sms("Acme", ANN, "Hi") is None


def test_send_sms_reads_the_published_seven_field_item(fake, client):
    """What the Swagger types: 7 fields, a date without offset and with 7 digits."""
    item = {
        "FromNumber": "Acme", "ToNumber": ANN, "ContactID": "0", "Direction": "0",
        "Message": "Hi", "CreatedDate": "2026-01-02T03:04:05.1234567", "SMSID": "77",
    }  # fmt: skip
    fake.behaviour = answer(200, [item])

    sms = client.send_sms("Acme", ANN, "Hi")

    assert (sms.sms_id, sms.contact_id, sms.direction) == (77, None, 0)
    assert sms.created_date == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def test_string_answers_are_decoded_when_json_and_kept_when_text(fake, client):
    fake.behaviour = answer(200, "Contact 1 updated")
    assert client.update_contact(1, {"first_name": "A"}) == "Contact 1 updated"

    fake.behaviour = answer(200, raw=b"3 SMS queued")
    assert client.send_bulk_sms("Acme", "Hi", to=[ANN]) == "3 SMS queued"

    fake.behaviour = answer(204)
    assert client.delete_trigger(4) == ""


def test_any_2xx_is_success(fake, client):
    fake.behaviour = answer(202, [SMS_JSON])

    assert client.send_sms("Acme", ANN, "Hi").sms_id == 9


# --- Lenient parsing ---------------------------------------------------------------------------


def test_unknown_fields_are_ignored_and_missing_ones_are_none(fake, client):
    fake.behaviour = answer(
        200, [{"ContactID": 7, "FirstName": "Ann", "Shoe": 42, "TagNames": "VIP"}]
    )

    [contact] = client.search_contacts("ann")

    assert contact == Contact(contact_id=7, first_name="Ann")
    assert contact.last_communication_date is None
    assert contact.total_inbound_sms is None


def test_sms_fields_are_typed_and_unknown_ones_ignored(fake, client):
    fake.behaviour = answer(
        200,
        [
            {
                **SMS_JSON,
                "DeliveredDate": "2026-01-02T05:04:05+02:00",
                "FlaggedDate": "not a date",
                "CostLocal": 0.041,
                "BrandNewField": {"x": 1},
            }
        ],
    )

    sms = client.send_sms("Acme", ANN, "Hi")

    assert isinstance(sms, SMS)
    assert sms.created_date == datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    assert sms.delivered_date == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert sms.flagged_date is None
    assert (sms.cost_gbp, sms.cost_local) == (Decimal("0.035"), Decimal("0.041"))
    assert (sms.contact_id, sms.user_name, sms.link_details) == (None, None, None)


def test_send_sms_tolerates_a_bare_object_instead_of_an_array(fake, client):
    fake.behaviour = answer(200, SMS_JSON)

    assert client.send_sms("Acme", ANN, "Hi").sms_id == 9


def test_subscribe_reads_the_hook_id_from_location_when_the_body_is_empty(fake, client):
    location = f"/system/applications/webhooks/{GUID}"
    fake.behaviour = answer(201, headers={"Location": location})

    assert client.subscribe_inbound("https://crm.test/hook/x") == Hook(GUID, location)


def test_subscribe_prefers_the_body_id_and_keeps_it_as_text(fake, client):
    location = "https://api.txtsync.com/system/applications/webhooks/99/"
    fake.behaviour = answer(200, {"Id": 12}, headers={"Location": location})

    assert client.subscribe_outbound("https://crm.test/hook/y") == Hook("12", location)


@pytest.mark.parametrize(("hook_id", "path"), [(GUID, GUID), ("a/b c", "a%2Fb%20c"), (12, "12")])
def test_delete_trigger_puts_the_text_id_in_the_path_encoded_once(fake, client, hook_id, path):
    fake.behaviour = answer(200, "Webhook deleted")

    client.delete_trigger(hook_id)

    assert fake.last.path == f"/api/system/applications/webhooks/{path}"


def test_a_guid_hook_from_location_can_be_deleted(fake, client):
    fake.behaviour = answer(201, headers={"Location": f"/system/applications/webhooks/{GUID}"})
    hook = client.subscribe_inbound("https://crm.test/hook/x")
    fake.behaviour = answer(200, "Webhook deleted")

    client.delete_trigger(hook.hook_id)

    assert fake.last.path == f"/api/system/applications/webhooks/{GUID}"


def test_subscribe_without_any_id_is_protocol_error(fake, client):
    fake.behaviour = answer(201, {"Ok": True})

    raised(ProtocolError, lambda: client.subscribe_inbound("https://crm.test/hook/x"))


# --- Request bodies and paths ------------------------------------------------------------------


def test_send_sms_sends_only_the_fields_given_and_dates_in_utc(fake, client):
    fake.behaviour = answer(200, [SMS_JSON])

    client.send_sms("Acme", ANN, "Hi", scheduled_date=datetime(2026, 5, 1, 9, 30), custom02="c")
    naive = fake.last.json()
    paris = timezone(timedelta(hours=2))
    client.send_sms("Acme", ANN, "Hi", scheduled_date=datetime(2026, 5, 1, 11, 30, tzinfo=paris))

    assert naive == {
        "From": "Acme",
        "To": ANN,
        "Message": "Hi",
        "ScheduledDate": "2026-05-01T09:30:00Z",
        "Custom02": "c",
    }
    assert fake.last.json()["ScheduledDate"] == "2026-05-01T09:30:00Z"


def test_send_bulk_sms_sends_lists(fake, client):
    fake.behaviour = answer(200, "2 SMS queued")

    client.send_bulk_sms("Acme", "Hi", to=(ANN, "+447912345678"), to_tag_names=["VIP"])

    assert fake.last.json() == {
        "From": "Acme",
        "Message": "Hi",
        "To": [ANN, "+447912345678"],
        "ToTagName": ["VIP"],
    }
    with pytest.raises(TypeError):
        client.send_bulk_sms("Acme", "Hi", to=ANN)  # type: ignore[arg-type]


def test_search_sends_search_number_only_when_given(fake, client):
    fake.behaviour = answer(200, [])

    client.search_contacts()
    client.search_contacts("Ann Lee", search_number="07911")

    assert [r.path for r in fake.requests] == [
        "/api/contacts?search=",
        "/api/contacts?search=Ann+Lee&searchNumber=07911",
    ]


def test_update_sends_only_the_fields_given_in_pascal_case(fake, client):
    fake.behaviour = answer(200, "Contact 3 updated")

    client.update_contact(
        3, {"city": None, "custom05": "x", "allow_sms": False, "tag_names": ["VIP", "News"]}
    )

    assert fake.last.json() == {
        "City": None,
        "Custom05": "x",
        "AllowSMS": False,
        "TagNames": "VIP,News",
    }


def test_external_references_are_encoded_once_as_one_segment(fake, client):
    fake.behaviour = answer(200, [CONTACT_JSON])

    client.get_contact_by_external_reference("a/b c%2F?#é")

    assert fake.last.path == "/api/contacts/external/a%2Fb%20c%252F%3F%23%C3%A9"


@pytest.mark.parametrize("ref", ["", ".", ".."])
def test_references_that_cannot_be_a_path_segment_are_refused_before_sending(fake, client, ref):
    with pytest.raises(ValueError):
        client.delete_contact_by_external_reference(ref)

    assert fake.requests == []


@pytest.mark.parametrize("base", ["{url}", "{url_without_slash}"])
def test_the_base_url_works_with_or_without_a_trailing_slash(fake, base):
    url = base.format(url=fake.url, url_without_slash=fake.url.rstrip("/"))
    fake.behaviour = answer(200, [])

    with TxtSyncClient(url, KEY, SECRET) as c:
        c.search_contacts()

    assert fake.last.path == "/api/contacts?search="


@pytest.mark.parametrize("url", ["api.txtsync.com", "ftp://api.txtsync.com/", "https://"])
def test_a_base_url_that_is_not_absolute_http_is_refused(url):
    with pytest.raises(ValueError):
        TxtSyncClient(url, KEY, SECRET)


def test_a_request_that_cannot_be_built_is_never_sent(fake, client):
    error = raised(ConnectionFailed, lambda: client.send_sms("Acme", ANN, "Hi", custom01=NAN))

    assert error.operation == "SendSMS"
    assert fake.requests == []


def test_credentials_in_the_base_url_are_refused_without_echoing_them():
    with pytest.raises(ValueError) as info:
        TxtSyncClient(f"https://{KEY}:{SECRET}@api.txtsync.com/", KEY, SECRET)

    assert SECRET not in str(info.value)
