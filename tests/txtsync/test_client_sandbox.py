"""The TxtSync client against the real sandbox, over HTTP: every operation, every error."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sandbox import services as sandbox_services
from sandbox.models import Application
from tests.support.sandbox import make_connection
from txtsync import (
    SMS,
    AuthenticationError,
    Contact,
    ContactSummary,
    Hook,
    NotFoundError,
    RateLimited,
    TxtSyncClient,
    ValidationError,
)

ANN = "+447911123456"
BEN = "+447912345678"
ODD_REFERENCE = "team a/7 b"  # a slash and spaces: one path segment, encoded once


def client_for(connection, **kwargs) -> TxtSyncClient:
    return TxtSyncClient(
        connection.base_url, connection.client_key, connection.client_secret, **kwargs
    )


@pytest.fixture
def calls() -> list[tuple[str, int]]:
    """What the client's on_response hook was told."""
    return []


@pytest.fixture
def txtsync(sandbox, calls):
    with client_for(sandbox, on_response=lambda *call: calls.append(call)) as client:
        yield client


def only(contacts: list[Contact]) -> Contact:
    assert len(contacts) == 1, contacts
    return contacts[0]


# --- Contacts ---------------------------------------------------------------------------------


def test_add_returns_the_short_form(txtsync):
    added = txtsync.add_contact(
        {"first_name": "Ann", "last_name": "Lee", "mobile_number": "07911 123456"}
    )

    assert isinstance(added, ContactSummary)
    assert isinstance(added.contact_id, int)
    assert (added.mobile_number, added.full_name, added.email_address) == (ANN, "Ann Lee", None)


def test_search_returns_full_contacts_with_typed_fields(txtsync):
    added = txtsync.add_contact(
        {"first_name": "Ann", "mobile_number": ANN, "company_name": "Acme", "custom05": "z"}
    )
    txtsync.add_contact({"first_name": "Ben", "mobile_number": BEN})

    ann = only(txtsync.search_contacts("ann"))

    assert ann.contact_id == added.contact_id
    assert (ann.company_name, ann.custom05, ann.city, ann.allow_sms) == ("Acme", "z", None, True)
    assert (ann.total_outbound_sms, ann.total_failed_sms) == (0, 0)
    assert isinstance(ann.overall_rating, int)
    assert ann.last_communication_date is None
    assert len(txtsync.search_contacts()) == 2  # empty search: every contact
    assert only(txtsync.search_contacts(search_number="07912")).first_name == "Ben"
    assert txtsync.search_contacts("ann", search_number="07912") == []


def test_get_update_and_delete_by_an_external_reference_with_slash_and_spaces(txtsync):
    added = txtsync.add_contact(
        {"mobile_number": ANN, "first_name": "Ann", "external_reference": ODD_REFERENCE}
    )

    fetched = only(txtsync.get_contact_by_external_reference(ODD_REFERENCE))
    updated = txtsync.update_contact_by_external_reference(ODD_REFERENCE, {"city": "Leeds"})
    after = only(txtsync.get_contact_by_external_reference(ODD_REFERENCE))
    deleted = txtsync.delete_contact_by_external_reference(ODD_REFERENCE)

    assert (fetched.contact_id, fetched.external_reference) == (added.contact_id, ODD_REFERENCE)
    assert updated == f"Contact {added.contact_id} updated"
    assert (after.city, after.first_name) == ("Leeds", "Ann")
    assert deleted == f"Contact {added.contact_id} deleted"
    with pytest.raises(NotFoundError):
        txtsync.get_contact_by_external_reference(ODD_REFERENCE)


def test_update_by_id_changes_only_the_fields_given(txtsync):
    added = txtsync.add_contact(
        {"mobile_number": ANN, "first_name": "Ann", "last_name": "Lee", "city": "York"}
    )

    answer = txtsync.update_contact(
        added.contact_id, {"last_name": "Ray", "city": None, "allow_sms": False}
    )

    ann = only(txtsync.search_contacts(search_number=ANN))
    assert answer == f"Contact {added.contact_id} updated"
    assert (ann.first_name, ann.last_name, ann.full_name) == ("Ann", "Ray", "Ann Ray")
    assert (ann.city, ann.allow_sms, ann.mobile_number) == (None, False, ANN)


def test_tag_names_are_sent_as_csv_and_replace_the_tags(txtsync):
    ann = txtsync.add_contact({"mobile_number": ANN, "tag_names": ["VIP", "News"]})
    ben = txtsync.add_contact({"mobile_number": BEN, "tag_names": ["News"]})

    txtsync.update_contact(ann.contact_id, {"tag_names": ["Gold"]})
    txtsync.update_contact(ben.contact_id, {"first_name": "Ben"})  # tags left alone

    assert txtsync.send_bulk_sms("Acme", "Hi", to_tag_names=["news"]).startswith("1 SMS queued")
    assert txtsync.send_bulk_sms("Acme", "Hi", to_tag_names=["Gold"]).startswith("1 SMS queued")
    with pytest.raises(ValidationError) as info:
        txtsync.send_bulk_sms("Acme", "Hi", to_tag_names=["VIP"])  # VIP now has nobody
    assert info.value.field == "ToTagName"


def test_delete_by_id(txtsync):
    added = txtsync.add_contact({"mobile_number": ANN})

    assert txtsync.delete_contact(added.contact_id) == f"Contact {added.contact_id} deleted"
    assert txtsync.search_contacts() == []
    with pytest.raises(NotFoundError) as info:
        txtsync.delete_contact(added.contact_id)
    assert (info.value.status, info.value.operation) == (404, "DeleteContact")


# --- SMS -----------------------------------------------------------------------------------------


def test_send_sms_returns_a_typed_sms(txtsync, sandbox):
    added = txtsync.add_contact({"mobile_number": ANN, "first_name": "Ann"})
    before = datetime.now(UTC)

    sms = txtsync.send_sms("Acme", "07911 123456", "Hi Ann https://acme.test/o/1", custom01="c")

    assert isinstance(sms, SMS)
    assert isinstance(sms.sms_id, int)
    assert (sms.from_number, sms.to_number, sms.direction) == ("Acme", ANN, 0)
    assert (sms.contact_id, sms.contact_name) == (added.contact_id, "Ann")
    assert (sms.status, sms.error_code, sms.segments) == (0, 0, 1)
    assert (sms.application_id, sms.application_name) == (sandbox.application_id, "default")
    assert sms.created_date.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= sms.created_date <= datetime.now(UTC)
    assert sms.delivered_date is None
    assert (sms.currency_code, sms.cost_gbp, sms.cost_local) == (
        "GBP",
        Decimal("0.035"),
        Decimal("0.035"),
    )
    assert "acme.test/o/1" in sms.link_details
    assert (sms.user_id, sms.is_flagged) == (None, False)


def test_a_scheduled_sms_is_scheduled(txtsync):
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)  # naive = UTC

    sms = txtsync.send_sms("Acme", ANN, "Later", scheduled_date=later)

    assert sms.status == 4
    assert sms.contact_id is None  # no contact for this number, and none created
    assert txtsync.search_contacts() == []


def test_send_bulk_sms_returns_the_summary(txtsync):
    summary = txtsync.send_bulk_sms("Acme", "Hello all", to=[ANN, BEN, "07911 123456"])

    assert summary.startswith("2 SMS queued (CampaignID ")
    assert "1 duplicates removed" in summary


# --- Webhook triggers ----------------------------------------------------------------------------


def test_subscribe_inbound_and_outbound_then_delete(txtsync):
    inbound = txtsync.subscribe_inbound("https://crm.test/hooks/in-secret-token")
    again = txtsync.subscribe_inbound("https://crm.test/hooks/in-secret-token")
    outbound = txtsync.subscribe_outbound("https://crm.test/hooks/out-secret-token")

    assert isinstance(inbound, Hook) and isinstance(inbound.hook_id, str)
    assert inbound.location == f"/system/applications/webhooks/{inbound.hook_id}"
    assert again == inbound  # the same URL and trigger: the existing hook
    assert outbound.hook_id != inbound.hook_id
    assert txtsync.delete_trigger(inbound.hook_id) == f"Webhook {inbound.hook_id} deleted"
    assert txtsync.delete_trigger(inbound.hook_id)  # already deleted: still 2xx
    with pytest.raises(NotFoundError):
        txtsync.delete_trigger(f"{outbound.hook_id}000")


def test_on_response_hears_every_call(txtsync, calls):
    txtsync.subscribe_inbound("https://crm.test/hooks/x")
    txtsync.search_contacts()
    with pytest.raises(NotFoundError):
        txtsync.delete_contact(424242)

    assert calls == [("InboundSMS", 201), ("SearchContact", 200), ("DeleteContact", 404)]


# --- Errors -------------------------------------------------------------------------------


def test_a_wrong_secret_is_an_authentication_error(sandbox):
    secret = "wrong-" + sandbox.client_secret
    client = TxtSyncClient(sandbox.base_url, sandbox.client_key, secret)
    with client, pytest.raises(AuthenticationError) as info:
        client.search_contacts()

    error = info.value
    assert (error.status, error.operation) == (401, "SearchContact")
    assert error.likely_cause == "credentials" and "Client Key / Client Secret" in str(error)
    assert secret not in str(error) and sandbox.client_secret not in str(error)


@pytest.fixture
def published(sandbox):
    """The sandbox application switched to the published profile, requiring an API key."""
    application = Application.objects.get(pk=sandbox.application_id)
    sandbox_services.set_access(application, profile="published", api_key="gw-key-1")
    return sandbox


def test_a_missing_or_wrong_api_key_is_a_403_naming_the_api_key(published):
    for api_key, sent in (("", "none was sent"), ("gw-key-2", "one was sent")):
        with (
            client_for(published, api_key=api_key) as client,
            pytest.raises(AuthenticationError) as info,
        ):
            client.search_contacts()

        assert (info.value.status, info.value.likely_cause) == (403, "api_key")
        assert "TXTSYNC_API_KEY" in info.value.message and sent in info.value.message


def test_the_published_profile_works_end_to_end_with_the_api_key(published):
    """Only what the Swagger promises: 7-field SMS, .NET dates, GUID hooks in Location."""
    with client_for(published, api_key="gw-key-1") as client:
        added = client.add_contact({"mobile_number": ANN, "first_name": "Ann"})
        sms = client.send_sms("Acme", ANN, "Hi Ann")
        hook = client.subscribe_inbound("https://crm.test/hooks/in-secret-token")
        deleted = client.delete_trigger(hook.hook_id)
        [ann] = client.search_contacts(search_number=ANN)

    assert (sms.contact_id, sms.message, sms.status) == (added.contact_id, "Hi Ann", None)
    assert sms.created_date.utcoffset() == timedelta(0)
    assert len(hook.hook_id) == 36  # a GUID, given only in Location
    assert hook.location == f"/system/applications/webhooks/{hook.hook_id}"
    assert deleted
    assert (ann.contact_id, ann.first_name, ann.allow_sms) == (added.contact_id, "Ann", True)


def test_an_api_key_is_sent_to_the_sandbox_without_harm(sandbox):
    """The sandbox's default profile does not enforce a key: sending one changes nothing."""
    with client_for(sandbox, api_key="gw-key") as client:
        assert client.search_contacts() == []


def test_an_invalid_mobile_number_is_a_validation_error_naming_it(txtsync):
    with pytest.raises(ValidationError) as info:
        txtsync.add_contact({"mobile_number": "123"})

    error = info.value
    assert (error.status, error.field, error.operation) == (400, "MobileNumber", "AddContact")
    assert "MobileNumber" in error.errors
    assert "not a valid phone number" in str(error)


def test_an_invalid_recipient_is_a_validation_error_naming_to(txtsync):
    with pytest.raises(ValidationError) as info:
        txtsync.send_sms("Acme", "123", "Hi")

    assert (info.value.field, info.value.operation) == ("To", "SendSMS")


def test_unknown_ids_and_references_are_not_found(txtsync):
    for call in (
        lambda: txtsync.update_contact(424242, {"first_name": "X"}),
        lambda: txtsync.get_contact_by_external_reference("nobody/here"),
        lambda: txtsync.update_contact_by_external_reference("nobody", {"city": "X"}),
        lambda: txtsync.delete_contact_by_external_reference("nobody"),
    ):
        with pytest.raises(NotFoundError) as info:
            call()
        assert info.value.status == 404


def test_over_the_rate_limit_is_rate_limited_with_retry_after(live_server, transactional_db):
    slow = make_connection(live_server, "slow", rate="2/60")
    with client_for(slow) as client:
        client.search_contacts()
        client.search_contacts()
        with pytest.raises(RateLimited) as info:
            client.search_contacts()

    assert info.value.status == 429
    assert 0 < info.value.retry_after <= 60


def test_the_base_url_may_omit_the_trailing_slash(sandbox):
    base = sandbox.base_url.rstrip("/")
    with TxtSyncClient(base, sandbox.client_key, sandbox.client_secret) as client:
        assert client.search_contacts() == []
