"""Keyword opt-in (docs/consent.md): a rule such as JOIN tags the contact, records their
marketing consent (source keyword, wording: the text and the confirmation) and sends the
confirmation through the sandbox; never to an opted-out number until they text START.
A rule can also withdraw consent ("STOP PROMO")."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from automations import rules
from automations.models import Applied, KeywordRule
from contacts.models import Contact, Tag
from messaging import inbound
from messaging.models import Direction, Message, SendState
from sandbox import webhooks as sandbox_webhooks
from sandbox.models import SMS
from tests.support import automations
from txtcrm import txtsync_gateway as gateway

ANN = "+447911123456"
CONFIRMATION = "Thanks {FirstName|there}! Offers by text from Acme. Reply STOP to end."
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)

# --- The rule (automations.rules, no database) -----------------------------------------------

JOIN = rules.Rule(1, rules.EQUALS, "join", "Thanks!", tag_id=5, consent=rules.OPT_IN)
STOP_PROMO = rules.Rule(2, rules.EQUALS, "stop promo", consent=rules.OPT_OUT)
CONFIG = rules.Config(rules=(JOIN, STOP_PROMO))


def decide(body, **text):
    return rules.decide(CONFIG, rules.Text(body=body, received_at=NOW, **text), NOW, {})


def test_join_records_consent_replies_and_tags():
    assert decide("Join!") == [
        rules.Consent(rules.OPT_IN, 1),
        rules.Reply(rules.KEYWORD, "Thanks!", 1),
        rules.AddTag(5, 1),
    ]


def test_join_from_an_opted_out_contact_records_no_consent_and_sends_nothing():
    assert decide("join", allow_sms=False) == [rules.AddTag(5, 1)]


def test_an_opt_out_of_marketing_is_recorded_even_for_an_opted_out_contact():
    assert decide("stop promo", allow_sms=False) == [rules.Consent(rules.OPT_OUT, 2)]


# --- The rule's form ---------------------------------------------------------------------------


@pytest.fixture
def ada(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_opt_in_rule_needs_its_confirmation(ada):
    form = {"match": rules.EQUALS, "position": 0, "text": "JOIN", "enabled": "on"}

    refused = ada.post(reverse("automation-rule-new"), {**form, "marketing_consent": "given"})
    saved = ada.post(
        reverse("automation-rule-new"),
        {**form, "marketing_consent": "given", "reply": CONFIRMATION, "tag_name": "Offers"},
    )

    assert "Write the confirmation" in refused.content.decode()
    assert saved.status_code == 302
    rule = KeywordRule.objects.get()
    assert (rule.marketing_consent, rule.tag.name) == ("given", "Offers")
    assert "Marketing consent: opt in" in ada.get(reverse("automations")).content.decode()


def test_an_opt_out_of_marketing_rule_needs_nothing_else(ada):
    ada.post(
        reverse("automation-rule-new"),
        {"match": rules.EQUALS, "position": 0, "text": "STOP PROMO",
         "marketing_consent": "withdrawn", "enabled": "on"},
    )  # fmt: skip

    assert KeywordRule.objects.get().marketing_consent == "withdrawn"


# --- End to end, with the sandbox over real HTTP ------------------------------------------------


@pytest.fixture
def wired(sandbox, settings, live_server):
    return automations.wire_to(sandbox, settings, live_server)


def text_in(connection, body):
    response = connection.session().post("_simulate/inbound", json={"From": ANN, "Message": body})
    assert response.status_code == 200, response.text
    sandbox_webhooks.deliver_due(now=timezone.now() + timedelta(hours=1))
    inbound.apply_pending()


@pytest.fixture
def join_rule(wired):
    automations.set_up(open_now=True, away=False)
    tag = Tag.objects.create(name="Offers")
    return KeywordRule.objects.create(
        text="JOIN", reply=CONFIRMATION, tag=tag, marketing_consent=rules.OPT_IN
    )


def test_join_records_consent_tags_and_confirms_through_the_sandbox(wired, worker, join_rule):
    Contact.objects.create(mobile_number=ANN, first_name="Ann")

    text_in(wired, "Join")
    priorities = worker()

    contact = Contact.objects.get(mobile_number=ANN)
    assert contact.marketing_consent == "given"
    assert list(contact.tags.values_list("name", flat=True)) == ["Offers"]
    event = contact.consent_events.get()
    assert (event.consent, event.source, event.actor) == ("given", "keyword", None)
    confirmation = "Thanks Ann! Offers by text from Acme. Reply STOP to end."
    assert event.wording == f"texted “Join”; confirmation: {confirmation}"
    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert (reply.automatic, reply.send_state, reply.body) == (True, SendState.SENT, confirmation)
    assert priorities == [gateway.Priority.INTERACTIVE]  # through the budget
    assert SMS.objects.get(to_number=ANN).message == confirmation


def test_an_opted_out_number_gets_no_confirmation_until_it_texts_start(wired, worker, join_rule):
    text_in(wired, "STOP")
    text_in(wired, "JOIN")
    worker()

    contact = Contact.objects.get(mobile_number=ANN)
    assert contact.allow_sms is False
    assert contact.marketing_consent == "withdrawn"  # by the STOP
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert not SMS.objects.filter(to_number=ANN).exists()
    assert not Applied.objects.filter(key=rules.Consent.key).exists()

    text_in(wired, "START")
    text_in(wired, "JOIN")
    worker()

    contact.refresh_from_db()
    assert (contact.allow_sms, contact.marketing_consent) == (True, "given")
    assert list(contact.consent_events.order_by("pk").values_list("consent", "source")) == [
        ("withdrawn", "keyword"), ("given", "keyword"),
    ]  # fmt: skip
    assert SMS.objects.filter(to_number=ANN).count() == 1
