"""Automations with the sandbox over real HTTP, in both profiles: a text sent in outside
business hours comes through the webhook receiver, gets the away reply, which goes out
through the sandbox at INTERACTIVE priority; the reply triggers nothing, and a STOP gets
no answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from automations import rules
from automations.models import Applied
from contacts.models import Contact
from messaging import inbound
from messaging.models import Direction, Message, SendState
from sandbox import messaging as sandbox_network
from sandbox import webhooks as sandbox_webhooks
from sandbox.models import SMS
from tests.support import automations
from txtcrm import txtsync_gateway as gateway

ANN = "+447911123456"


@pytest.fixture
def wired(any_sandbox, settings, live_server):
    return automations.wire_to(any_sandbox, settings, live_server)


def text_in(connection, body):
    response = connection.session().post("_simulate/inbound", json={"From": ANN, "Message": body})
    assert response.status_code == 200, response.text


def deliver_webhooks():
    """The sandbox POSTs its due notifications to our receiver; our apply task runs."""
    sandbox_webhooks.deliver_due(now=timezone.now() + timedelta(hours=1))
    inbound.apply_pending()


def test_a_text_outside_hours_gets_the_away_reply_through_the_sandbox(wired, worker):
    automations.set_up(open_now=False)

    text_in(wired, "Are you open today?")
    deliver_webhooks()
    priorities = worker()

    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.automatic and reply.send_state == SendState.SENT
    assert reply.body == "Hi there, we're closed; back tomorrow at 9."
    assert priorities == [gateway.Priority.INTERACTIVE]
    sent = SMS.objects.get(to_number=ANN)
    assert sent.message == reply.body

    # The reply goes out and the network moves on: nothing comes back to trigger anything
    # (TxtSync keeps our own sends out of the outbound hook), and a second text within
    # the cooldown gets no second away reply.
    sandbox_network.advance_network(now=timezone.now() + timedelta(minutes=2))
    deliver_webhooks()
    text_in(wired, "Hello?")
    deliver_webhooks()
    worker()
    assert Message.objects.filter(automatic=True).count() == 1
    assert SMS.objects.filter(to_number=ANN).count() == 1
    assert list(Applied.objects.values_list("cooldown_key", flat=True)) == [rules.AWAY]


def test_stop_outside_hours_opts_out_and_gets_no_automatic_reply(wired, worker):
    automations.set_up(open_now=False, welcome=True)

    text_in(wired, "STOP")
    deliver_webhooks()
    worker()

    assert Contact.objects.get(mobile_number=ANN).allow_sms is False
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert not SMS.objects.filter(to_number=ANN).exists()
