"""The simulated network, inbound texts, clicks and engagement, through the services."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from sandbox import messaging, services
from sandbox.models import SMS, Contact, ErrorCode, Status
from sandbox.schema import SendInput, ValidationFailed, sms_json
from txtsync import pricing

pytestmark = pytest.mark.django_db


@pytest.fixture
def application():
    return services.ensure_application("default").application


@pytest.fixture
def account(application):
    return application.account


def send(application, to, message="Hello", **extra):
    return messaging.send_sms(application, SendInput("Acme", to, message, **extra))


def settle(now=None):
    """Run the network until nothing moves (delays measured from `now`)."""
    now = now or timezone.now()
    for step in range(1, 5):
        messaging.advance_network(now=now + timedelta(minutes=step))


@pytest.mark.parametrize(
    ("number", "status", "error"),
    [
        ("+447911120000", Status.FAILED, ErrorCode.NETWORK_FAILURE),
        ("+447911120001", Status.SENT, ErrorCode.NONE),
        ("+447911120002", Status.FAILED, ErrorCode.EXPIRED),
        ("+447911120003", Status.FAILED, ErrorCode.INVALID_NUMBER),
        ("+447911123456", Status.DELIVERED, ErrorCode.NONE),
    ],
)
def test_outcomes_follow_the_documented_number_rules(application, number, status, error):
    sms = send(application, number)

    settle()

    sms.refresh_from_db()
    assert (sms.status, sms.error_code) == (status, error)
    assert (sms.delivered_date is not None) == (status == Status.DELIVERED)
    assert sms.sent_date is None or sms.sent_date  # sent_date is informational


def test_each_step_waits_for_its_delay(application, settings):
    settings.SANDBOX_SEND_DELAY, settings.SANDBOX_DELIVERY_DELAY = 10, 30
    sms = send(application, "+447911123456")
    start = sms.status_changed_at

    messaging.advance_network(now=start + timedelta(seconds=5))
    assert SMS.objects.get(pk=sms.pk).status == Status.QUEUED
    messaging.advance_network(now=start + timedelta(seconds=11))
    assert SMS.objects.get(pk=sms.pk).status == Status.SENT
    messaging.advance_network(now=start + timedelta(seconds=30))
    assert SMS.objects.get(pk=sms.pk).status == Status.SENT
    messaging.advance_network(now=start + timedelta(seconds=42))
    assert SMS.objects.get(pk=sms.pk).status == Status.DELIVERED


def test_a_random_failure_rate_fails_ordinary_numbers(application, settings):
    settings.SANDBOX_RANDOM_FAILURE_RATE = 1.0
    sms = send(application, "+447911123456")

    settle()

    sms.refresh_from_db()
    assert (sms.status, sms.error_code) == (Status.FAILED, ErrorCode.NETWORK_FAILURE)


def test_running_the_network_twice_at_once_counts_each_step_once(application, account):
    contact = Contact.objects.create(account=account, mobile_number="+447911120000")
    send(application, contact.mobile_number)
    now = timezone.now() + timedelta(minutes=1)

    ticks = [messaging.advance_network(now=now) for _ in range(2)]
    ticks += [messaging.advance_network(now=now + timedelta(minutes=1)) for _ in range(2)]

    assert [(t.sent, t.failed) for t in ticks] == [(1, 0), (0, 0), (0, 1), (0, 0)]
    contact.refresh_from_db()
    assert (contact.total_outbound_sms, contact.total_failed_sms) == (1, 1)


def test_delivery_moves_the_contact_counters(application, account):
    contact = Contact.objects.create(account=account, mobile_number="+447911123456")
    send(application, contact.mobile_number, "Offer: https://shop.test/a https://shop.test/b")
    send(application, contact.mobile_number, "Plain text")

    settle()

    contact.refresh_from_db()
    assert (contact.total_outbound_sms, contact.total_links_sent) == (2, 2)
    assert contact.total_failed_sms == 0
    assert contact.last_communication_date is not None
    assert contact.overall_rating == 30  # all delivered (20) + recent (10)


def test_a_scheduled_sms_to_a_contact_who_opted_out_since_is_cancelled(application, account):
    contact = Contact.objects.create(account=account, mobile_number="+447911123456")
    when = timezone.now() + timedelta(hours=1)
    sms = send(application, contact.mobile_number, scheduled_date=when)
    contact.allow_sms = False
    contact.save()

    messaging.advance_network(now=when + timedelta(seconds=1))

    sms.refresh_from_db()
    assert (sms.status, sms.error_code) == (Status.CANCELLED, ErrorCode.OPTED_OUT)


# --- Inbound ---------------------------------------------------------------------------------


def test_texting_in_creates_the_contact_and_counts_the_reply(account):
    sms = messaging.receive_inbound(account, "07911 123456", "", "Hello there")

    contact = Contact.objects.get(mobile_number="+447911123456")
    assert (sms.direction, sms.status, sms.contact) == (1, Status.DELIVERED, contact)
    assert sms.to_number == account.virtual_number
    assert sms.delivered_date is not None
    assert (contact.total_inbound_sms, contact.allow_sms) == (1, True)
    assert contact.overall_rating == 18  # one reply (8) + recent (10)


@pytest.mark.parametrize(
    ("text", "before", "after"),
    [
        ("STOP", True, False),
        ("stop", True, False),
        (" Unsubscribe. ", True, False),
        ("END", True, False),
        ("quit", True, False),
        ("CANCEL", True, False),
        ("OptOut", True, False),
        ("STOPALL", True, False),
        ("please stop texting me", True, True),
        ("Start again?", False, False),
        ("START", False, True),
        ("unstop", False, True),
        ("yes", False, True),
    ],
)
def test_keywords_change_allow_sms(account, text, before, after):
    Contact.objects.create(account=account, mobile_number="+447911123456", allow_sms=before)

    messaging.receive_inbound(account, "+447911123456", "", text)

    assert Contact.objects.get().allow_sms is after


def test_inbound_from_an_invalid_number_is_refused(account):
    with pytest.raises(ValidationFailed) as error:
        messaging.receive_inbound(account, "12", "", "Hi")

    assert "From" in error.value.errors
    assert not SMS.objects.exists()


# --- Clicks ------------------------------------------------------------------------------------


def test_clicks_count_in_link_details_and_distinct_links_on_the_contact(application, account):
    contact = Contact.objects.create(account=account, mobile_number="+447911123456")
    sms = send(application, contact.mobile_number, "A https://a.test B https://b.test")

    messaging.click(account, sms.pk)
    messaging.click(account, sms.pk)
    messaging.click(account, sms.pk, "https://b.test")

    links = json.loads(sms_json(SMS.objects.get(pk=sms.pk))["LinkDetails"])
    assert [(link["URL"], link["Clicks"]) for link in links] == [
        ("https://a.test", 2),
        ("https://b.test", 1),
    ]
    assert all(link["FirstClickedDate"] for link in links)
    contact.refresh_from_db()
    assert contact.total_distinct_link_clicks == 2


def test_a_click_on_an_sms_without_links_is_refused(application, account):
    sms = send(application, "+447911123456", "No links")

    with pytest.raises(ValidationFailed):
        messaging.click(account, sms.pk)


# --- Rating and prices -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counters", "days_ago", "rating"),
    [
        ({}, None, 0),
        ({"total_inbound_sms": 10, "total_distinct_link_clicks": 10}, 1, 80),
        ({"total_outbound_sms": 4, "total_failed_sms": 4}, 100, 0),
        ({"total_outbound_sms": 4, "total_failed_sms": 1}, 60, 15),
        (
            {"total_outbound_sms": 2, "total_inbound_sms": 5, "total_distinct_link_clicks": 5},
            0,
            100,
        ),
    ],
)
def test_overall_rating_formula(counters, days_ago, rating):
    now = timezone.now()
    last = now - timedelta(days=days_ago) if days_ago is not None else None
    contact = Contact(last_communication_date=last, **counters)

    assert messaging.overall_rating(contact, now) == rating


@pytest.mark.parametrize(
    ("number", "segments", "currency", "local", "gbp"),
    [
        ("+447911123456", 1, "GBP", "0.0350", "0.0350"),
        ("+353871234567", 2, "GBP", "0.1100", "0.1100"),
        ("+14155550123", 3, "USD", "0.0457", "0.0360"),
        ("+33612345678", 1, "EUR", "0.0761", "0.0650"),
        ("+81312345678", 1, "GBP", "0.0800", "0.0800"),
    ],
)
def test_price_table(number, segments, currency, local, gbp):
    assert pricing.cost(number, segments, currency) == (Decimal(local), Decimal(gbp))
