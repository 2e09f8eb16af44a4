"""Who is told what: the receivers of messaging's signals, through the real writers (the
webhook receiver, conversations.assign and add_note)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from messaging import conversations, inbound
from messaging.models import Conversation, EventKind
from notifications import services
from notifications.models import Email, Kind, Notification, Preference

CLEO = "+447700900555"


def text_arrives(token, message="Hi", sms_id=1, number=CLEO):
    """TxtSync's inbound notification, received and applied as the receiver and its task do."""
    sms = {"SMSID": sms_id, "ContactID": None, "ContactName": None, "FromNumber": number,
           "ToNumber": "+447860000000", "Message": message,
           "DeliveredDate": "2026-11-29T10:00:00Z"}  # fmt: skip
    body = json.dumps({"Content": {"SMS": sms, "Contact": {"ExternalReference": None}}})
    assert inbound.receive(token, EventKind.INBOUND, body.encode()).status == 200
    assert inbound.apply_pending() == 1


def told(kind=None):
    rows = Notification.objects.order_by("user__username", "pk")
    if kind:
        rows = rows.filter(kind=kind)
    return [(n.user.username, n.kind, n.text) for n in rows]


def test_a_first_text_tells_every_active_user_of_a_new_unassigned_conversation(
    token, admin_user, agent_ann, agent_bob
):
    agent_bob.is_active = False
    agent_bob.save()

    text_arrives(token, "Is my order ready?")

    assert told() == [
        ("ada", Kind.UNASSIGNED, "Is my order ready?"),
        ("ann", Kind.UNASSIGNED, "Is my order ready?"),
    ]
    assert Notification.objects.first().conversation == Conversation.objects.get()


def test_more_texts_before_anyone_reads_make_no_second_unassigned_notification(
    token, agent_ann, agent_bob
):
    text_arrives(token, "Hello?", sms_id=1)
    services.open_one(agent_ann, Notification.objects.get(user=agent_ann).pk)

    text_arrives(token, "Anyone there?", sms_id=2)

    assert told() == [
        ("ann", Kind.UNASSIGNED, "Hello?"),  # read: told again
        ("ann", Kind.UNASSIGNED, "Anyone there?"),
        ("bob", Kind.UNASSIGNED, "Hello?"),  # still unread: not again
    ]


def test_a_text_in_an_assigned_conversation_tells_its_assignee_only(token, agent_ann, agent_bob):
    text_arrives(token, "Hello?", sms_id=1)
    conversation = Conversation.objects.get()
    conversations.assign(conversation, agent_ann.pk, by=agent_ann)  # herself: not told
    Notification.objects.all().delete()

    text_arrives(token, "It's about my order", sms_id=2)

    assert told() == [("ann", Kind.MY_TEXT, "It's about my order")]


def test_a_text_to_a_closed_assigned_conversation_tells_the_assignee(token, agent_ann):
    text_arrives(token, "Hello?", sms_id=1)
    conversation = Conversation.objects.get()
    conversations.assign(conversation, agent_ann.pk)
    conversations.close(conversation)
    Notification.objects.all().delete()

    text_arrives(token, "One more thing", sms_id=2)

    assert told() == [("ann", Kind.MY_TEXT, "One more thing")]


def test_assigning_tells_the_assignee_not_the_one_who_assigned(
    conversation, admin_user, agent_ann
):
    conversations.assign(conversation, agent_ann.pk, by=admin_user)
    conversations.assign(conversation, admin_user.pk, by=admin_user)  # to herself
    conversations.assign(conversation, None, by=admin_user)  # to nobody

    [notification] = Notification.objects.all()
    assert (notification.user, notification.kind, notification.actor) == (
        agent_ann, Kind.ASSIGNED, admin_user
    )  # fmt: skip
    assert notification.text == "Hello?"  # the conversation's last message
    assert services.title(notification) == "ada assigned Cleo to you"


def test_an_automatic_assignment_tells_the_assignee(conversation, agent_ann):
    conversations.assign(conversation, agent_ann.pk, by=None)

    [notification] = Notification.objects.all()
    assert services.title(notification) == "Cleo was assigned to you"


def test_a_note_tells_whom_it_mentions_but_not_its_author(
    conversation, admin_user, agent_ann, agent_bob
):
    conversations.add_note(conversation, agent_ann, "@bob @ann @ada see above; ann@example.com")

    assert told() == [
        ("ada", Kind.MENTION, "@bob @ann @ada see above; ann@example.com"),
        ("bob", Kind.MENTION, "@bob @ann @ada see above; ann@example.com"),
    ]
    assert services.title(Notification.objects.first()) == "ann mentioned you on Cleo"


def test_a_note_without_mentions_tells_nobody(conversation, agent_ann, agent_bob):
    conversations.add_note(conversation, agent_ann, "Called them back.")

    assert not Notification.objects.exists()


def test_the_email_choice_is_taken_from_each_users_preference(
    conversation, admin_user, agent_ann, agent_bob
):
    Preference.objects.create(user=agent_ann, kind=Kind.MENTION, email=Email.DIGEST)
    Preference.objects.create(user=agent_bob, kind=Kind.MENTION, email=Email.IMMEDIATE)
    Preference.objects.create(user=agent_bob, kind=Kind.ASSIGNED, email=Email.DIGEST)

    conversations.add_note(conversation, admin_user, "@ann @bob")

    assert dict(Notification.objects.values_list("user__username", "email")) == {
        "ann": Email.DIGEST,
        "bob": Email.IMMEDIATE,
    }


def test_notifications_roll_back_with_the_change(conversation, agent_ann, agent_bob):
    with pytest.raises(RuntimeError), transaction.atomic():
        conversations.add_note(conversation, agent_ann, "@bob")
        raise RuntimeError

    assert not Notification.objects.exists()


def test_a_text_for_a_bigger_team_costs_no_more_queries(token, agent_ann, agent_bob):
    """One INSERT for everyone told, whatever the team's size."""
    make_agents(0, 20)
    with CaptureQueriesContext(connection) as small:
        text_arrives(token, "first", sms_id=1, number="+447700900222")
    make_agents(20, 40)
    with CaptureQueriesContext(connection) as large:
        text_arrives(token, "second", sms_id=2, number="+447700900333")

    assert ours(large) == ours(small) <= 5
    assert Notification.objects.filter(text="second").count() == 42


def ours(captured) -> int:
    """The queries about users and notifications (the receiver's and its warm-up's aside)."""
    names = ("notifications_", '"auth_user"')
    return sum(1 for q in captured.captured_queries if any(n in q["sql"] for n in names))


def make_agents(start, end):
    for n in range(start, end):
        get_user_model().objects.create_user(f"agent{n}")
