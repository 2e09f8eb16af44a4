"""The sandbox's "published" profile over real HTTP: it answers exactly what the published
Swagger promises, as a .NET back end writes it, and asks for the application's API key.

The rich profile (the default) is what every other test in tests/sandbox checks; here it
is checked only where both profiles meet (one account, two subscribers).
"""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone

from sandbox import messaging, profiles, services
from sandbox.models import SMS, ApiCall, Application, WebhookSubscription
from startup import bootstrap
from tests.support.sandbox import PUBLISHED_API_KEY, deliver, make_connection, subscribe, text_in
from txtcrm.envfile import read_env_file

ANN = "+447911123456"
SEND = {"From": "Acme", "To": ANN, "Message": "Your order shipped"}
NET_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}")
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SENT_SMS_KEYS = {
    "FromNumber", "ToNumber", "ContactID", "Direction", "Message", "CreatedDate", "SMSID",
}  # fmt: skip
NOTIFIED_SMS_KEYS = {
    "ContactID", "ContactName", "DeliveredDate", "FromNumber", "Message", "SMSID", "ToNumber",
}  # fmt: skip
CONTACT_FULL_KEYS = {
    "ContactID", "FirstName", "LastName", "MobileNumber", "CompanyName", "ExternalReference",
    "EmailAddress", "AddressLine1", "AddressLine2", "City", "County", "Postcode", "Country",
    "Custom01", "Custom02", "Custom03", "Custom04", "Custom05", "AllowSMS", "FullName",
    "OverallRating", "TotalDistinctLinkClicks", "TotalLinksSent", "TotalInboundSMS",
    "TotalOutboundSMS", "TotalFailedSMS", "LastCommunicationDate",
}  # fmt: skip
CONTACT_SHORT_KEYS = {
    "ContactID",
    "FirstName",
    "LastName",
    "MobileNumber",
    "EmailAddress",
    "FullName",
}


@pytest.fixture
def pub(published_sandbox):
    """An HTTP session of the published `default` application, API key included."""
    return published_sandbox.session()


def send_and_mark_sent(session, **fields) -> dict:
    response = session.post("sms/send", json={**SEND, **fields})
    assert response.status_code == 200, response.text
    messaging.advance_network(now=timezone.now() + timedelta(minutes=1))
    return response.json()[0]


def assert_net_date(value):
    assert isinstance(value, str) and NET_DATE.fullmatch(value), value


# --- Choosing the profile and the API key -----------------------------------------------------


@pytest.mark.django_db
def test_new_applications_are_rich_unless_the_setting_says_published(settings):
    assert services.ensure_application("first").application.profile == "rich"

    settings.SANDBOX_PROFILE = "published"
    assert services.ensure_application("second").application.profile == "published"
    # The setting is for new applications: an existing one keeps its profile.
    assert services.ensure_application("first").application.profile == "rich"


@pytest.mark.django_db
def test_an_unknown_profile_setting_is_a_configuration_error(settings):
    settings.SANDBOX_PROFILE = "dotnet"

    with pytest.raises(ImproperlyConfigured, match="SANDBOX_PROFILE"):
        services.ensure_application("first")


@pytest.mark.django_db
def test_the_credentials_command_sets_profile_and_api_key(capsys):
    call_command("sandbox_credentials", "--profile", "published", "--api-key", "gw-1")
    out = capsys.readouterr().out

    application = Application.objects.get(name="default")
    assert (application.profile, application.api_key) == ("published", "gw-1")
    assert "TXTSYNC_API_KEY=gw-1" in out.splitlines()
    assert "# sandbox profile: published" in out

    call_command("sandbox_credentials", "--profile", "rich", "--api-key", "")
    application.refresh_from_db()
    assert (application.profile, application.api_key) == ("rich", "")
    assert "TXTSYNC_API_KEY" not in capsys.readouterr().out


@pytest.mark.django_db
def test_the_credentials_command_refuses_an_unknown_profile():
    with pytest.raises(CommandError, match="published"):
        call_command("sandbox_credentials", "--profile", "dotnet")


def test_simulate_profile_switches_an_application_at_run_time(api):
    assert api.get("_simulate/profile").json() == {"Profile": "rich", "ApiKeyRequired": False}

    changed = api.post("_simulate/profile", json={"Profile": "published"})

    assert changed.json() == {"Profile": "published", "ApiKeyRequired": False}
    assert set(api.post("sms/send", json=SEND).json()[0]) == SENT_SMS_KEYS


def test_simulate_profile_sets_and_clears_the_api_key(api):
    assert api.post("_simulate/profile", json={"ApiKey": "gw-2"}).json()["ApiKeyRequired"]
    assert api.post("sms/send", json=SEND).status_code == 403
    # The sandbox-only endpoints ask for no API key: the test drives them either way.
    assert api.post("_simulate/profile", json={"ApiKey": ""}).json()["ApiKeyRequired"] is False
    assert api.post("sms/send", json=SEND).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"Profile": "dotnet"}, "Profile"),
        ({"ApiKey": 5}, "ApiKey"),
        ({"ApiKey": "a\nb"}, "ApiKey"),
    ],
)
def test_simulate_profile_refuses_bad_values(api, body, field):
    response = api.post("_simulate/profile", json=body)

    assert response.status_code == 400
    assert field in response.json()["Errors"]


# --- The API key -----------------------------------------------------------------------------


def test_a_call_without_the_api_key_is_403_and_says_so(published_sandbox, pub):
    del pub.headers["x-api-key"]

    response = pub.post("sms/send", json=SEND)

    assert response.status_code == 403
    assert "x-api-key" in response.json()["Message"]
    assert "missing" in response.json()["Message"]
    assert not SMS.objects.exists()


def test_a_wrong_api_key_is_403_and_not_counted_against_the_limit(published_sandbox, pub):
    pub.headers["x-api-key"] = PUBLISHED_API_KEY + "x"

    response = pub.get("contacts")

    assert response.status_code == 403
    assert "wrong" in response.json()["Message"]
    call = ApiCall.objects.get()
    assert (call.operation, call.status_code, call.counted) == ("SearchContact", 403, False)


def test_the_right_api_key_opens_every_operation(pub):
    assert pub.get("contacts").status_code == 200
    assert pub.post("sms/send", json=SEND).status_code == 200


def test_bad_credentials_are_401_before_the_api_key_is_looked_at(published_sandbox):
    response = requests.get(
        f"{published_sandbox.base_url}contacts",
        auth=(published_sandbox.client_key, "wrong-secret"),
        headers={"x-api-key": PUBLISHED_API_KEY},
        timeout=10,
    )

    assert response.status_code == 401


# --- Published answers -----------------------------------------------------------------------


def test_send_sms_answers_the_seven_swagger_fields(pub):
    contact_id = pub.post("contacts", json={"MobileNumber": ANN}).json()["ContactID"]

    response = pub.post("sms/send", json=SEND)

    assert response.status_code == 200
    [item] = response.json()
    assert set(item) == SENT_SMS_KEYS
    assert (item["ContactID"], item["Direction"], item["ToNumber"]) == (contact_id, 0, ANN)
    assert item["SMSID"] == SMS.objects.get().pk
    assert_net_date(item["CreatedDate"])


def test_a_send_to_a_number_without_a_contact_has_contact_id_0(pub):
    [item] = pub.post("sms/send", json=SEND).json()

    assert item["ContactID"] == 0


def test_dates_are_utc_without_offset_with_seven_fractional_digits():
    when = datetime(2026, 12, 6, 10, 0, 0, 123456, tzinfo=UTC)

    assert profiles.net_date(when) == "2026-12-06T10:00:00.1234560"
    assert profiles.net_date(when.replace(microsecond=0)) == "2026-12-06T10:00:00.0000000"
    assert profiles.net_date(None) is None


def test_subscribe_answers_201_with_a_guid_location_and_no_body(pub, receiver):
    response = subscribe(pub, 0, f"{receiver.url}/in")

    assert response.status_code == 201
    assert response.content == b""
    hook_id = re.fullmatch(f"/system/applications/webhooks/({GUID})", response.headers["Location"])
    assert hook_id
    assert str(WebhookSubscription.objects.get().guid) == hook_id[1]
    again = subscribe(pub, 0, f"{receiver.url}/in")
    assert again.headers["Location"] == response.headers["Location"]


def test_delete_takes_the_guid(pub, receiver):
    location = subscribe(pub, 0, f"{receiver.url}/in").headers["Location"]
    hook_id = location.rsplit("/", 1)[1]

    deleted = pub.delete(f"system/applications/webhooks/{hook_id}")

    assert deleted.status_code == 200
    assert deleted.json() == f"Webhook {hook_id} deleted"
    assert WebhookSubscription.objects.get().deleted_at is not None
    assert pub.delete(f"system/applications/webhooks/{hook_id}").status_code == 200
    unknown = "00000000-0000-0000-0000-000000000000"
    assert pub.delete(f"system/applications/webhooks/{unknown}").status_code == 404


def test_updates_deletes_and_bulk_sends_answer_a_plain_json_string(pub):
    pub.post("contacts", json={"MobileNumber": ANN, "ExternalReference": "crm-1"})
    answers = [
        pub.put("contacts/external/crm-1", json={"FirstName": "Ann", "TagNames": "VIP"}),
        pub.post("sms/send/bulk", json={"From": "Acme", "Message": "Sale", "ToTagName": ["VIP"]}),
        pub.delete("contacts/external/crm-1"),
    ]
    contact_id = pub.post("contacts", json={"MobileNumber": ANN}).json()["ContactID"]
    answers += [
        pub.put(f"contacts/{contact_id}", json={"LastName": "Smith"}),
        pub.delete(f"contacts/{contact_id}"),
    ]

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "application/json"
        assert isinstance(answer.json(), str) and answer.json()


def test_validation_errors_have_the_asp_net_model_state_shape(pub):
    add = pub.post("contacts", json={"MobileNumber": "12"})
    send = pub.post("sms/send", json={"From": "Acme", "To": "nonsense"})

    assert add.status_code == send.status_code == 400
    assert add.json() == {
        "Message": "The request is invalid.",
        "ModelState": {"contact.MobileNumber": ["MobileNumber is not a valid phone number: '12'"]},
    }
    assert send.json()["Message"] == "The request is invalid."
    assert set(send.json()["ModelState"]) == {"request.To", "request.Message"}
    assert all(isinstance(texts, list) for texts in send.json()["ModelState"].values())
    hook = pub.post("system/applications/webhooks/type/0", json={"URL": "ftp://x.test/"})
    assert list(hook.json()["ModelState"]) == ["webhook.URL"]


def test_a_duplicate_number_is_refused_in_the_model_state_shape(pub):
    first = pub.post("contacts", json={"MobileNumber": ANN}).json()["ContactID"]

    response = pub.post("contacts", json={"MobileNumber": "07911 123456"})

    assert response.status_code == 400
    assert response.json() == {
        "Message": "The request is invalid.",
        "ModelState": {
            "contact.MobileNumber": [f"MobileNumber is already used by contact {first}"]
        },
    }


def test_a_body_that_is_not_json_is_refused_under_the_parameter_name(pub):
    response = pub.post("contacts", data=b"{not json")

    assert response.status_code == 400
    assert list(response.json()["ModelState"]) == ["contact"]


def test_contacts_have_only_the_contract_fields_and_net_dates(pub):
    added = pub.post(
        "contacts", json={"MobileNumber": ANN, "FirstName": "Ann", "ExternalReference": "crm-7"}
    ).json()
    text_in(pub)  # sets LastCommunicationDate

    [found] = pub.get("contacts", params={"searchNumber": ANN}).json()
    [by_reference] = pub.get("contacts/external/crm-7").json()

    assert set(added) == CONTACT_SHORT_KEYS
    assert set(found) == set(by_reference) == CONTACT_FULL_KEYS
    assert found == by_reference
    assert (found["ContactID"], found["FullName"], found["TotalInboundSMS"]) == (
        added["ContactID"],
        "Ann",
        1,
    )
    assert_net_date(found["LastCommunicationDate"])


# --- Notifications to a published subscriber ---------------------------------------------


def test_an_inbound_notification_has_the_seven_field_sms_and_last_outbound(pub, receiver):
    subscribe(pub, 0, f"{receiver.url}/in")
    contact_id = pub.post(
        "contacts", json={"MobileNumber": ANN, "FirstName": "Ann", "ExternalReference": "crm-7"}
    ).json()["ContactID"]
    shipped = send_and_mark_sent(pub)
    sms = text_in(pub, message="Thanks!")

    deliver()

    [body] = receiver.bodies
    content = body["Content"]
    assert set(body) == {"Content"} and set(content) == {"SMS", "Contact", "LastSMSOutbound"}
    assert set(content["SMS"]) == set(content["LastSMSOutbound"]) == NOTIFIED_SMS_KEYS
    assert content["SMS"]["SMSID"] == sms["SMSID"]
    assert (content["SMS"]["ContactID"], content["SMS"]["ContactName"]) == (contact_id, "Ann")
    assert (content["SMS"]["FromNumber"], content["SMS"]["Message"]) == (ANN, "Thanks!")
    assert_net_date(content["SMS"]["DeliveredDate"])
    assert content["Contact"] == {"ExternalReference": "crm-7"}
    last = content["LastSMSOutbound"]
    assert (last["SMSID"], last["ToNumber"], last["Message"]) == (
        shipped["SMSID"],
        ANN,
        SEND["Message"],
    )
    sent_at = SMS.objects.get(pk=shipped["SMSID"]).sent_date
    assert last["DeliveredDate"] == profiles.net_date(sent_at)


def test_an_inbound_with_no_outbound_before_gets_the_net_default_object(pub, receiver):
    subscribe(pub, 0, f"{receiver.url}/in")

    text_in(pub, sender="+14155550123")
    deliver()

    [body] = receiver.bodies
    assert body["Content"]["LastSMSOutbound"] == {
        "ContactID": 0,
        "ContactName": None,
        "DeliveredDate": "0001-01-01T00:00:00",
        "FromNumber": None,
        "Message": None,
        "SMSID": 0,
        "ToNumber": None,
    }
    assert body["Content"]["Contact"] == {"ExternalReference": None}
    assert body["Content"]["SMS"]["ContactName"] is None


def test_an_outbound_notification_is_dated_by_its_send_time(pub, receiver):
    subscribe(pub, 5, f"{receiver.url}/out")
    pub.post("_simulate/outbound", json={"To": ANN, "Message": "From the portal"})

    messaging.advance_network(now=timezone.now() + timedelta(minutes=1))
    deliver()

    [body] = receiver.bodies
    assert set(body["Content"]) == {"SMS", "Contact"}
    sms = body["Content"]["SMS"]
    assert set(sms) == NOTIFIED_SMS_KEYS
    assert sms["DeliveredDate"] == profiles.net_date(SMS.objects.get().sent_date)
    assert (sms["Message"], sms["ContactID"]) == ("From the portal", 0)


def test_each_subscriber_gets_the_shape_of_its_own_profile(live_server, pub, receiver):
    rich = make_connection(live_server, "zapier", profile="rich").session()
    subscribe(pub, 0, f"{receiver.url}/published")
    subscribe(rich, 0, f"{receiver.url}/rich")
    rich_hook = subscribe(rich, 5, f"{receiver.url}/rich-out")
    send_and_mark_sent(pub)  # the rich application hears of it; the sender does not

    text_in(pub, message="Thanks!")
    deliver()

    by_path = dict(zip(receiver.paths, receiver.bodies, strict=True))
    assert set(by_path) == {"/published", "/rich", "/rich-out"}
    assert set(by_path["/published"]["Content"]["LastSMSOutbound"]) == NOTIFIED_SMS_KEYS
    assert "Status" in by_path["/rich"]["Content"]["LastSMSOutbound"]
    assert by_path["/rich"]["Content"]["SMS"]["DeliveredDate"].endswith("Z")
    assert "CreatedDate" in by_path["/rich-out"]["Content"]["SMS"]
    assert isinstance(rich_hook.json()["Id"], int)


# --- What tests inspect keeps working ----------------------------------------------------


def test_stats_and_simulations_answer_alike_for_a_published_application(pub):
    [sms] = pub.post("_simulate/inbound", json={"From": ANN, "Message": "Hi"}).json()

    assert "Status" in sms  # the sandbox-only endpoints keep the full object
    stats = pub.get("_stats").json()["applications"]["default"]
    assert stats["profile"] == "published"
    assert stats["calls"] == {}


def test_the_console_lists_a_published_hook_by_its_guid(pub, receiver, admin_user, client):
    location = subscribe(pub, 0, f"{receiver.url}/in").headers["Location"]
    client.force_login(admin_user)

    html = client.get("/sandbox/console/").content.decode()

    assert f"#{location.rsplit('/', 1)[1]} InboundSMS of default (published)" in html


@pytest.mark.django_db
def test_make_run_passes_the_sandbox_api_key_to_txtcrm(settings, tmp_path):
    settings.SANDBOX_ENV_FILE = tmp_path / "sandbox.env"
    settings.SANDBOX_PROFILE = "published"
    settings.TXTSYNC_CLIENT_KEY = settings.TXTSYNC_CLIENT_SECRET = ""
    assert "TXTSYNC_API_KEY" not in bootstrap.ensure_sandbox_credentials()
    call_command("sandbox_credentials", "--api-key", "gw-run", stdout=io.StringIO())

    pairs = bootstrap.ensure_sandbox_credentials()

    assert pairs["TXTSYNC_API_KEY"] == settings.TXTSYNC_API_KEY == "gw-run"
    assert read_env_file(settings.SANDBOX_ENV_FILE)["TXTSYNC_API_KEY"] == "gw-run"
    assert Application.objects.get(name="default").profile == "published"


# --- The fixtures for end-to-end flows against both profiles --------------------------------


def test_any_sandbox_runs_a_test_once_per_profile_with_a_working_session(any_sandbox, sandbox):
    application = Application.objects.get(pk=any_sandbox.application_id)

    [item] = any_sandbox.session().post("sms/send", json=SEND).json()

    assert any_sandbox.client_key == sandbox.client_key
    assert any_sandbox.client_secret == sandbox.client_secret
    assert (application.profile, application.api_key) == (any_sandbox.profile, any_sandbox.api_key)
    if any_sandbox.profile == "published":
        assert (set(item), any_sandbox.api_key) == (SENT_SMS_KEYS, PUBLISHED_API_KEY)
    else:
        assert ("Status" in item, any_sandbox.api_key) == (True, "")
