"""Automations applied to texts as the webhook receiver applies them: the replies, tags
and assignments, and the guards (STOP, opted out, cooldown, no loops, once per event,
the call budget's priority)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from automations import receivers, rules, services
from automations.models import Applied, Availability, KeywordRule, TagRoute
from contacts import services as contacts
from contacts.models import Contact, OptOutSource
from messaging import tasks as messaging_tasks
from messaging.models import Activity, ActivityKind, Conversation, Direction, Message, SendState
from tests.support import automations
from tests.support.inbound import post
from txtcrm import txtsync_gateway as gateway
from txtcrm.celery import app

ANN = "+447911123456"


def notification(sms_id, message, sender=ANN):
    sms = {"SMSID": sms_id, "ContactID": None, "ContactName": None, "FromNumber": sender,
           "ToNumber": "+447860000000", "Message": message,
           "DeliveredDate": "2026-11-29T10:00:00Z"}  # fmt: skip
    return {"Content": {"SMS": sms, "Contact": {"ExternalReference": None}}}


@pytest.fixture
def text(client, token, django_capture_on_commit_callbacks, run_queued):
    """A text comes in (the receiver, then the apply task), and the automations' task
    that its commit enqueued runs; returns what the automations did."""
    sms_ids = iter(range(1000, 2000))

    def texted(body, sender=ANN, sms_id=None, run=True):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, token, "inbound", notification(sms_id or next(sms_ids), body,
                                                                   sender))  # fmt: skip
        assert response.status_code == 200
        return run_queued() if run else []

    return texted


def automatic_replies():
    return list(Message.objects.filter(direction=Direction.OUTBOUND, automatic=True))


def test_outside_hours_a_text_gets_the_away_reply_shown_in_the_thread(text):
    automations.set_up(open_now=False)
    Contact.objects.create(mobile_number=ANN, first_name="Ann")

    done = text("Are you open?")

    [reply] = automatic_replies()
    assert done == [rules.Reply(rules.AWAY, automations.AWAY)]
    assert reply.body == "Hi Ann, we're closed; back tomorrow at 9."  # merge fields
    assert (reply.to_number, reply.send_state, reply.author) == (ANN, SendState.QUEUED, None)
    line = Activity.objects.get(kind=ActivityKind.AUTOMATIC_REPLY)
    assert line.actor is None and line.detail == "away message"
    assert line.conversation == reply.conversation


def test_in_hours_no_away_reply(text):
    automations.set_up(open_now=True)

    assert text("Are you open?") == []
    assert automatic_replies() == []


def test_a_burst_of_texts_gets_one_away_reply(text):
    automations.set_up(open_now=False)

    for n in range(6):
        text(f"Hello? ({n})")

    assert len(automatic_replies()) == 1
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 6


def test_the_away_reply_again_after_its_cooldown(text, settings):
    settings.AUTOMATIONS_AWAY_COOLDOWN_HOURS = 12
    automations.set_up(open_now=False)
    text("Hello?")
    Applied.objects.update(created_at=timezone.now() - timedelta(hours=12, minutes=1))

    text("Anyone there?")

    assert len(automatic_replies()) == 2


def test_the_same_event_twice_replies_once(text):
    automations.set_up(open_now=False)
    text("Hello?", sms_id=77)
    text("Hello?", sms_id=77)  # TxtSync repeats a notification: stored once
    message = Message.objects.get(direction=Direction.INBOUND)

    assert services.respond(message.pk) == []  # the task run again (a redelivery)
    assert services.respond(message.pk, now=timezone.now() + timedelta(days=1)) == []

    assert len(automatic_replies()) == 1


@pytest.mark.parametrize("keyword", ["STOP", "stop", " Stop! ", "START", "yes", "UNSUBSCRIBE"])
def test_never_an_answer_to_an_opt_out_or_opt_in_keyword(text, keyword):
    automations.set_up(open_now=False, welcome=True, assignment=rules.ROUND_ROBIN)
    KeywordRule.objects.create(match=rules.CONTAINS, text="o", reply="A rule's reply")

    assert text(keyword) == []

    assert automatic_replies() == [] and Applied.objects.count() == 0
    assert Conversation.objects.get().assignee is None


def test_stop_opts_out_and_the_next_text_gets_nothing(text):
    automations.set_up(open_now=False)

    text("STOP")
    text("Why did you text me?")

    assert Contact.objects.get().allow_sms is False
    assert automatic_replies() == []


def test_never_a_reply_to_an_opted_out_contact_but_still_a_tag(text):
    automations.set_up(open_now=False, welcome=True)
    contact = Contact.objects.create(mobile_number=ANN)
    contacts.set_allow_sms(contact, False, source=OptOutSource.AGENT, push=False)
    KeywordRule.objects.create(
        match=rules.EQUALS, text="hours", reply="9 to 5", tag=contacts.tags_named(["asked"])[0]
    )

    text("hours")

    assert automatic_replies() == []
    assert list(contact.tags.values_list("name", flat=True)) == ["asked"]


def test_our_automatic_sends_never_trigger_automations(db, queued):
    """Only an inbound text triggers (no loops): the automatic reply itself, or any
    outbound message, enqueues nothing and is ignored if asked."""
    automations.set_up(open_now=False)
    contact = Contact.objects.create(mobile_number=ANN)
    conversation = Conversation.objects.create(contact=contact)
    sent = Message.objects.create(
        direction=Direction.OUTBOUND, conversation=conversation, contact=contact,
        from_number="Acme", to_number=ANN, body="Away", automatic=True,
    )  # fmt: skip

    receivers.on_message_received(sender=Message, message=sent)

    assert queued == []
    assert services.respond(sent.pk) == []
    assert Message.objects.count() == 1


def test_only_recent_texts_are_answered(text, settings):
    """After an outage, texts applied late get no automatic reply."""
    settings.AUTOMATIONS_MAX_AGE_MINUTES = 15
    automations.set_up(open_now=False)
    text("Hello?", run=False)
    message = Message.objects.get()

    late = services.respond(message.pk, now=message.created_at + timedelta(minutes=16))

    assert late == [] and automatic_replies() == []
    assert services.respond(message.pk, now=message.created_at + timedelta(minutes=15))


def test_welcome_to_a_first_time_texter_once(text):
    automations.set_up(open_now=True, welcome=True)

    text("Hi, first time here")
    text("Hello again")

    [reply] = automatic_replies()
    assert reply.body == automations.WELCOME
    assert Activity.objects.get(kind=ActivityKind.AUTOMATIC_REPLY).detail == "welcome message"


def test_a_keyword_rule_replies_tags_and_assigns(text, agent_bob):
    automations.set_up(open_now=False)
    KeywordRule.objects.create(
        match=rules.CONTAINS, text="quote", reply="Bob will call you, {FirstName|there}.",
        tag=contacts.tags_named(["sales"])[0], assign_to=agent_bob,
    )  # fmt: skip

    text("Can I get a QUOTE please?")

    [reply] = automatic_replies()
    assert reply.body == "Bob will call you, there."  # the rule's reply, not the away one
    contact = Contact.objects.get()
    assert [tag.name for tag in contact.tags.all()] == ["sales"]
    conversation = Conversation.objects.get()
    assert conversation.assignee == agent_bob
    assert Activity.objects.get(kind=ActivityKind.ASSIGNED).actor is None
    assert Activity.objects.get(kind=ActivityKind.AUTOMATIC_REPLY).detail == "keyword “quote”"


def test_round_robin_among_available_active_users(text, agent_ann, agent_bob, admin_user):
    Availability.objects.create(user=admin_user, available=False)
    carl = type(agent_ann).objects.create_user("carl", is_active=False)
    automations.set_up(open_now=True, away=False, assignment=rules.ROUND_ROBIN,
                       available_ids={agent_ann.pk, agent_bob.pk, carl.pk})  # fmt: skip

    for n in range(4):
        text("Hello", sender=f"+4479111234{n:02}")

    assignees = [c.assignee for c in Conversation.objects.order_by("pk")]
    assert assignees == [agent_ann, agent_bob, agent_ann, agent_bob]
    text("Me again", sender="+447911123400")  # already assigned: stays
    assert Conversation.objects.order_by("pk").first().assignee == agent_ann


def test_by_tag(text, agent_ann, agent_bob):
    automations.set_up(open_now=True, away=False, assignment=rules.BY_TAG)
    vip, north = contacts.tags_named(["VIP", "North"])
    TagRoute.objects.create(tag=north, user=agent_ann, position=1)
    TagRoute.objects.create(tag=vip, user=agent_bob, position=2)
    contacts.create_contact({"mobile_number": ANN}, tag_names=["VIP"])

    text("Hello")
    text("Hello", sender="+447911000000")  # no tag: stays unassigned

    assert [c.assignee for c in Conversation.objects.order_by("pk")] == [agent_bob, None]


def test_automatic_replies_go_at_interactive_priority(text, monkeypatch):
    """The reply's send task is on the `replies` queue, as a person's reply, and asks the
    call budget for an INTERACTIVE slot; the automations' own task is `interactive`."""
    automations.set_up(open_now=False)
    text("Hello?")
    [reply] = automatic_replies()
    asked = []

    def call(priority, operation, patience):
        asked.append(priority)
        raise gateway.BudgetWait(30, "test")

    monkeypatch.setattr(gateway, "call", call)

    messaging_tasks.send_message(reply.pk)

    assert asked == [gateway.Priority.INTERACTIVE]
    route = app.amqp.router.route
    assert route({}, "automations.respond")["queue"].name.endswith("interactive")
    assert route({}, "messaging.send_message")["queue"].name.endswith("replies")


@pytest.mark.django_db(transaction=True)
def test_a_burst_answered_by_several_workers_at_once_gets_one_away_reply():
    """Five texts of one contact, their tasks run at the same moment in five threads (as
    several workers would): the conversation's lock lets one away reply through."""
    automations.set_up(open_now=False)
    contact = Contact.objects.create(mobile_number=ANN)
    conversation = Conversation.objects.create(contact=contact)
    ids = [
        Message.objects.create(
            direction=Direction.INBOUND, conversation=conversation, contact=contact,
            from_number=ANN, to_number="Acme", body=f"Hello? ({n})",
        ).pk
        for n in range(5)
    ]  # fmt: skip
    start = threading.Barrier(len(ids))

    def worker(message_id):
        try:
            start.wait()
            return services.respond(message_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(len(ids)) as pool:
        done = [action for actions in pool.map(worker, ids) for action in actions]

    assert done == [rules.Reply(rules.AWAY, automations.AWAY)]
    assert len(automatic_replies()) == 1


def test_every_automation_off_costs_three_queries(text, queued, django_assert_num_queries):
    text("Hello", run=False)
    [message_id] = queued

    with django_assert_num_queries(3):  # the message, the switches, any rule on
        assert services.respond(message_id) == []
