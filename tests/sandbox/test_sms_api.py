"""Conformance of SendSMS and SendBulkSMS, over real HTTP."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from sandbox import messaging
from sandbox.models import SMS, Campaign, Contact, Status

ANN = "+447911123456"
BEN = "+447912345678"
CAT = "+14155550123"

SMS_FORM = {
    "SMSID": int,
    "FromNumber": str,
    "ToNumber": str,
    "ContactID": (int, type(None)),
    "ContactName": (str, type(None)),
    "Direction": int,
    "Message": str,
    "CreatedDate": str,
    "DeliveredDate": (str, type(None)),
    "Segments": int,
    "Status": int,
    "ErrorCode": int,
    "CampaignID": (int, type(None)),
    "ApplicationID": (int, type(None)),
    "ApplicationName": (str, type(None)),
    "UserID": (int, type(None)),
    "UserName": (str, type(None)),
    "ProfileURL": (str, type(None)),
    "LinkDetails": (str, type(None)),
    "IsFlagged": bool,
    "FlaggedDate": (str, type(None)),
    "FlaggedDescription": (str, type(None)),
    "CurrencyCode": str,
    "CostLocal": (int, float),
    "CostGBP": (int, float),
}


def send(api, **fields):
    body = {"From": "Acme", "To": ANN, "Message": "Hello", **fields}
    response = api.post("sms/send", json=body, headers={"x-zapier": "true"})
    assert response.status_code == 200, response.text
    [sms] = response.json()
    return sms


def add_contact(api, number, **fields):
    response = api.post("contacts", json={"MobileNumber": number, **fields})
    assert response.status_code == 200, response.text
    return response.json()["ContactID"]


def assert_rejected(response, field):
    assert response.status_code == 400, response.text
    assert field in response.json()["Errors"]
    assert field in response.json()["Message"]


# --- SendSMS -------------------------------------------------------------------------------


def test_send_returns_an_array_with_one_sms_in_the_contract_shape(api, sandbox):
    contact_id = add_contact(api, ANN, FirstName="Ann", LastName="Lee")

    sms = send(api, To="07911 123456", Message="Hi Ann")

    assert set(sms) == set(SMS_FORM)
    for name, expected in SMS_FORM.items():
        assert isinstance(sms[name], expected), name
    assert (sms["ToNumber"], sms["FromNumber"], sms["Direction"]) == (ANN, "Acme", 0)
    assert (sms["ContactID"], sms["ContactName"]) == (contact_id, "Ann Lee")
    assert (sms["Status"], sms["ErrorCode"], sms["Segments"]) == (Status.QUEUED, 0, 1)
    assert (sms["ApplicationID"], sms["ApplicationName"]) == (sandbox.application_id, "default")
    assert (sms["CurrencyCode"], sms["CostGBP"], sms["CostLocal"]) == ("GBP", 0.035, 0.035)
    assert sms["DeliveredDate"] is None and sms["LinkDetails"] is None
    assert datetime.fromisoformat(sms["CreatedDate"]).tzinfo is not None


def test_a_number_without_a_contact_is_sent_with_no_contact_and_none_is_created(api):
    sms = send(api, To=CAT)

    assert (sms["ContactID"], sms["ContactName"]) == (None, None)
    assert not Contact.objects.exists()


def test_segments_and_cost_follow_the_text_and_destination(api):
    long_gsm = send(api, To=CAT, Message="x" * 161)
    emoji = send(api, To=ANN, Message="Hi 😀")

    assert (long_gsm["Segments"], long_gsm["CostGBP"]) == (2, 0.024)
    assert (emoji["Segments"], emoji["CostGBP"]) == (1, 0.035)


def test_links_are_listed_in_link_details(api):
    sms = send(api, Message="See https://example.com/a and http://x.test/b?c=1 now")

    links = json.loads(sms["LinkDetails"])
    assert [(link["URL"], link["Clicks"]) for link in links] == [
        ("https://example.com/a", 0),
        ("http://x.test/b?c=1", 0),
    ]


def test_regarding_and_custom_fields_are_kept(api):
    sms = send(api, RegardingReference="case-9", RegardingSchema="incident", Custom03="z")

    stored = SMS.objects.get(pk=sms["SMSID"])
    assert (stored.regarding_reference, stored.regarding_schema, stored.custom03) == (
        "case-9",
        "incident",
        "z",
    )


@pytest.mark.parametrize("sender", ["Acme", "Acme Ltd 24", "A", "12345", "+447911123456"])
def test_valid_senders(api, sender):
    assert send(api, From=sender)["FromNumber"] == sender


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"From": ""}, "From"),
        ({"From": None}, "From"),
        ({"From": "Acme Limited"}, "From"),  # 12 characters
        ({"From": "Acme-Ltd"}, "From"),
        ({"From": "+123"}, "From"),
        ({"From": 447911123456}, "From"),
        ({"To": ""}, "To"),
        ({"To": "12345"}, "To"),
        ({"To": 447911123456}, "To"),
        ({"Message": ""}, "Message"),
        ({"Message": "   "}, "Message"),
        ({"Message": 5}, "Message"),
        ({"Message": "x" * (153 * 10 + 1)}, "Message"),
        ({"ScheduledDate": "tomorrow"}, "ScheduledDate"),
        ({"ScheduledDate": 1767225600}, "ScheduledDate"),
        ({"RegardingReference": "r" * 201}, "RegardingReference"),
        ({"Custom01": ["x"]}, "Custom01"),
    ],
)
def test_each_invalid_field_is_a_400_naming_it_and_nothing_is_stored(api, fields, field):
    body = {"From": "Acme", "To": ANN, "Message": "Hello", **fields}

    assert_rejected(api.post("sms/send", json=body), field)
    assert not SMS.objects.exists()


def test_ten_segments_is_the_maximum(api):
    assert send(api, Message="x" * 1530)["Segments"] == 10


def test_sending_to_an_opted_out_contact_is_refused(api):
    contact_id = add_contact(api, ANN)
    api.put(f"contacts/{contact_id}", json={"AllowSMS": False})

    response = api.post("sms/send", json={"From": "Acme", "To": ANN, "Message": "Hi"})

    assert_rejected(response, "To")
    assert "opted out" in response.json()["Message"]
    assert not SMS.objects.exists()


def test_a_future_scheduled_date_holds_the_sms_until_then(api):
    when = datetime.now(UTC) + timedelta(hours=2)

    sms = send(api, ScheduledDate=when.isoformat())

    assert sms["Status"] == Status.SCHEDULED
    messaging.advance_network(now=when - timedelta(minutes=1))
    assert SMS.objects.get(pk=sms["SMSID"]).status == Status.SCHEDULED
    messaging.advance_network(now=when + timedelta(seconds=1))
    assert SMS.objects.get(pk=sms["SMSID"]).status == Status.QUEUED


@pytest.mark.parametrize("when", ["2020-01-01T00:00:00Z", "2020-01-01T00:00:00", None])
def test_a_past_or_absent_scheduled_date_sends_now(api, when):
    assert send(api, ScheduledDate=when)["Status"] == Status.QUEUED


# --- SendBulkSMS ----------------------------------------------------------------------------


def bulk(api, **fields):
    return api.post(
        "sms/send/bulk", json={"From": "Acme", "Message": "Sale!", **fields},
        headers={"x-zapier": "true"},
    )  # fmt: skip


def test_bulk_to_numbers_sends_one_sms_per_distinct_number_in_one_campaign(api):
    response = bulk(api, To=[ANN, "07911 123456", BEN, CAT])

    assert response.status_code == 200
    assert isinstance(response.json(), str)
    assert "3 SMS queued" in response.json()
    campaign = Campaign.objects.get()
    assert sorted(campaign.sms_set.values_list("to_number", flat=True)) == sorted([ANN, BEN, CAT])
    assert f"CampaignID {campaign.pk}" in response.json()


def test_bulk_by_tag_skips_opted_out_contacts_and_says_how_many(api):
    add_contact(api, ANN, TagNames="VIP")
    ben = add_contact(api, BEN, TagNames="vip,News")
    add_contact(api, CAT, TagNames="News")
    api.put(f"contacts/{ben}", json={"AllowSMS": False})

    response = bulk(api, ToTagName=["VIP", "news"], To=[CAT])

    assert response.status_code == 200
    assert "2 SMS queued" in response.json() and "1 skipped as opted out" in response.json()
    sent = SMS.objects.order_by("to_number")
    assert [(s.to_number, s.contact is not None) for s in sent] == [(CAT, True), (ANN, True)]
    assert len({s.campaign_id for s in sent}) == 1


def test_bulk_with_an_unknown_tag_is_a_400_naming_it(api):
    add_contact(api, ANN, TagNames="VIP")

    response = bulk(api, ToTagName=["VIP", "Ghosts"])

    assert_rejected(response, "ToTagName")
    assert "Ghosts" in response.json()["Message"]
    assert not SMS.objects.exists()


def test_bulk_to_a_tag_with_no_contacts_is_a_400(api):
    contact_id = add_contact(api, ANN, TagNames="Empty")
    api.delete(f"contacts/{contact_id}")

    response = bulk(api, ToTagName=["Empty"])

    assert_rejected(response, "ToTagName")
    assert "no contacts" in response.json()["Message"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "To"),
        ({"To": []}, "To"),
        ({"To": ANN}, "To"),
        ({"To": [ANN, "nope", BEN]}, "To[1]"),
        ({"To": [ANN] * 1001}, "To"),
        ({"ToTagName": "VIP"}, "ToTagName"),
        ({"To": [ANN], "Message": ""}, "Message"),
        ({"To": [ANN], "From": "Too long sender"}, "From"),
    ],
)
def test_bulk_rejects_bad_input_naming_the_field(api, fields, field):
    assert_rejected(bulk(api, **fields), field)
    assert not SMS.objects.exists()


def test_bulk_accepts_up_to_1000_numbers(api):
    numbers = [f"+1415555{n:04d}" for n in range(1000)]

    response = bulk(api, To=numbers)

    assert response.status_code == 200, response.text
    assert SMS.objects.count() == 1000
