"""The conversations and messages REST API: auth, inbox filters, actions, replies, and
query counts that do not grow with the data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from contacts import services as contacts
from messaging import conversations
from messaging.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    SendState,
)
from tests.support.api import token_client
from tests.support.inbox import conversation_with

ANN = "+447911123456"
BEN = "+447912345678"
CAL = "+447400123456"

CONVERSATIONS = "/api/conversations/"


def detail(conversation) -> str:
    return f"{CONVERSATIONS}{conversation.pk}/"


def thread_url(conversation) -> str:
    return f"{detail(conversation)}messages/"


@pytest.fixture
def api(agent_ann) -> APIClient:
    """Ann's API client, authenticated with her token."""
    return token_client(agent_ann)


@pytest.fixture
def inbox(db, agent_ann, agent_bob):
    """Ann's (unread, VIP), Ben's (unassigned, opted out) and Cal's (Bob's, closed)."""
    ann = conversation_with(ANN, "Annie", minutes_ago=1, said="Is my order ready?",
                            tags=["VIP"], unread=True, assignee=agent_ann)  # fmt: skip
    ben = conversation_with(BEN, "Ben", minutes_ago=5, said="Thanks, bye")
    contacts.set_allow_sms(ben.contact, False, source="agent", reason="asked by phone")
    cal = conversation_with(CAL, "Cal", minutes_ago=10, said="Refund please",
                            assignee=agent_bob, status=ConversationStatus.CLOSED)  # fmt: skip
    return ann, ben, cal


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Auth ----------------------------------------------------------------------------------


def test_session_auth_works_and_writes_need_the_csrf_token(agent_ann, inbox):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(request=HttpRequest(), username="ann", password="ann-password-1")

    assert client.get(CONVERSATIONS).status_code == 200
    refused = client.post(f"{detail(inbox[0])}close/")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


# --- List and filters ------------------------------------------------------------------------


def test_the_list_shows_open_conversations_newest_first_with_what_a_row_needs(api, inbox):
    ann, ben, _ = inbox

    response = api.get(CONVERSATIONS)

    assert ids(response) == [ann.pk, ben.pk]
    row = response.json()["results"][0]
    assert row["contact"] == {
        "id": ann.contact.pk, "name": "Annie", "mobile_number": ANN, "allow_sms": True,
    }  # fmt: skip
    assert row["status"] == "open"
    assert row["assignee"] == {"id": ann.assignee.pk, "username": "ann"}
    assert row["unread"] is True
    assert row["last_activity_at"]
    assert row["last_message"]["body"] == "Is my order ready?"
    assert row["last_message"]["direction"] == "inbound"


@pytest.mark.parametrize(
    ("folder", "expected"),
    [("mine", ["ann"]), ("unassigned", ["ben"]), ("all", ["ann", "ben"]), ("closed", ["cal"])],
)
def test_folders(api, inbox, folder, expected):
    by_name = dict(zip(["ann", "ben", "cal"], inbox, strict=True))

    response = api.get(CONVERSATIONS, {"folder": folder})

    assert ids(response) == [by_name[name].pk for name in expected]


def test_a_snoozed_conversation_is_hidden_until_due(api, inbox):
    ann, ben, _ = inbox
    Conversation.objects.filter(pk=ann.pk).update(
        snoozed_until=timezone.now() + timedelta(hours=1)
    )

    assert ids(api.get(CONVERSATIONS)) == [ben.pk]


@pytest.mark.parametrize(
    ("q", "folder", "expected"),
    [
        ("annie", "all", 0),  # contact name, any case
        ("07911 123456", "all", 0),  # number in national format
        ("+44 7912 345 678", "all", 1),  # number with spaces
        ("order ready", "all", 0),  # message text
        ("REFUND", "closed", 2),  # message text, any case
    ],
)
def test_search_by_name_number_and_message_text(api, inbox, q, folder, expected):
    response = api.get(CONVERSATIONS, {"folder": folder, "q": q})

    assert ids(response) == [inbox[expected].pk]


def test_search_lists_a_conversation_matching_on_both_sides_once(api, inbox):
    both = conversation_with("+447400200001", "Refundo", minutes_ago=20, said="A refund?")

    assert ids(api.get(CONVERSATIONS, {"folder": "all", "q": "refund"})) == [both.pk]
    assert ids(api.get(CONVERSATIONS, {"folder": "closed", "q": "refund"})) == [inbox[2].pk]


def test_search_pages_go_on_past_the_newest_conversations(api, inbox, monkeypatch):
    """A page beyond the ones a search finds among the newest conversations."""
    monkeypatch.setattr(conversations, "NEWEST_CHECKED", 4)
    said = [conversation_with(f"+4474002000{n:02d}", f"P{n}", minutes_ago=20 + n,
                              said=f"order {n}") for n in range(5)]  # fmt: skip

    pages = [ids(api.get(CONVERSATIONS, {"q": "order", "page_size": 2, "page": n}))
             for n in (1, 2, 3)]  # fmt: skip

    assert pages == [[inbox[0].pk, said[0].pk], [said[1].pk, said[2].pk],
                     [said[3].pk, said[4].pk]]  # fmt: skip


def test_search_finds_nothing_when_nobody_matches(api, inbox):
    assert ids(api.get(CONVERSATIONS, {"q": "no such words"})) == []


def test_filter_by_tag_name_any_case(api, inbox):
    assert ids(api.get(CONVERSATIONS, {"tag": "vip"})) == [inbox[0].pk]
    assert ids(api.get(CONVERSATIONS, {"tag": "No such tag"})) == []


def test_an_unknown_folder_or_parameter_is_a_400_that_says_what_to_use(api, inbox):
    response = api.get(CONVERSATIONS, {"folder": "inbox", "serach": "x"})

    assert response.status_code == 400
    errors = response.json()
    assert errors["folder"] == [
        "Must be one of: mine, unassigned, all, snoozed, scheduled, closed."
    ]
    assert "Unknown parameter" in errors["serach"][0]
    assert "q" in errors["serach"][0]


def test_the_list_is_paginated_without_a_total_count(api, inbox):
    first = api.get(CONVERSATIONS, {"page_size": 1}).json()

    assert [row["id"] for row in first["results"]] == [inbox[0].pk]
    assert "count" not in first  # counting every match of a search costs more than a page
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [inbox[1].pk]
    assert second["next"] is None
    assert "page=" not in second["previous"]
    assert api.get(CONVERSATIONS, {"page": 3, "page_size": 1}).status_code == 404


# --- One conversation and its actions ----------------------------------------------------------


def test_retrieve_a_conversation_without_marking_it_read(api, inbox):
    ann = inbox[0]

    response = api.get(detail(ann))

    assert response.status_code == 200
    assert response.json()["unread"] is True
    assert response.json()["contact"]["name"] == "Annie"
    ann.refresh_from_db()
    assert ann.unread is True


def test_a_missing_conversation_is_404(api, db):
    assert api.get(f"{CONVERSATIONS}999999/").status_code == 404
    assert api.get(f"{CONVERSATIONS}abc/").status_code == 404


def test_assign_to_a_user_and_unassign(api, inbox, agent_bob):
    ben = inbox[1]

    assigned = api.post(f"{detail(ben)}assign/", {"user": agent_bob.pk}, format="json")

    assert assigned.status_code == 200
    assert assigned.json()["assignee"] == {"id": agent_bob.pk, "username": "bob"}
    ben.refresh_from_db()
    assert ben.assignee == agent_bob

    unassigned = api.post(f"{detail(ben)}assign/", {"user": None}, format="json")

    assert unassigned.json()["assignee"] is None
    ben.refresh_from_db()
    assert ben.assignee is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"user": 999999}, "user", "There is no active user with id 999999."),
        ({}, "user", "This field is required."),
        ({"user": None, "team": 1}, "team", "Unknown field"),
    ],
)
def test_assign_refuses_what_it_cannot_do(api, inbox, body, field, message):
    ben = inbox[1]

    response = api.post(f"{detail(ben)}assign/", body, format="json")

    assert response.status_code == 400
    assert response.json()[field][0].startswith(message)
    ben.refresh_from_db()
    assert ben.assignee is None


def test_assign_refuses_an_inactive_user(api, inbox, agent_bob):
    agent_bob.is_active = False
    agent_bob.save()

    response = api.post(f"{detail(inbox[1])}assign/", {"user": agent_bob.pk}, format="json")

    assert response.status_code == 400


def test_close_and_reopen(api, inbox):
    ann = inbox[0]

    closed = api.post(f"{detail(ann)}close/")

    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["unread"] is False
    assert ids(api.get(CONVERSATIONS, {"folder": "closed"}))[0] == ann.pk

    reopened = api.post(f"{detail(ann)}reopen/")

    assert reopened.json()["status"] == "open"
    ann.refresh_from_db()
    assert ann.status == ConversationStatus.OPEN


def test_actions_are_post_only(api, inbox):
    assert api.get(f"{detail(inbox[0])}close/").status_code == 405


# --- Messages and replies ------------------------------------------------------------------------


def test_messages_in_thread_order_by_their_own_date(api, inbox):
    ann = inbox[0]
    # Arrived after Ann's message but dated before it: the thread follows the dates.
    earlier = Message.objects.create(
        direction=Direction.OUTBOUND,
        conversation=ann,
        contact=ann.contact,
        from_number="Acme",
        to_number=ANN,
        body="Your order shipped",
        message_date=timezone.now() - timedelta(hours=2),
        sms_id=77,
    )

    response = api.get(thread_url(ann))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["body"] for row in rows] == ["Your order shipped", "Is my order ready?"]
    assert rows[0]["id"] == earlier.pk
    assert rows[0]["direction"] == "outbound"
    assert rows[0]["sms_id"] == 77


def test_reply_queues_a_message_and_answers_201(
    api, inbox, agent_ann, django_capture_on_commit_callbacks
):
    ann = inbox[0]
    Conversation.objects.filter(pk=ann.pk).update(status=ConversationStatus.CLOSED)

    with django_capture_on_commit_callbacks() as sends:
        response = api.post(thread_url(ann), {"body": "Yes, ready at 5pm"}, format="json")

    assert response.status_code == 201, response.content
    message = response.json()
    assert message["body"] == "Yes, ready at 5pm"
    assert message["send_state"] == "queued"
    assert message["direction"] == "outbound"
    assert message["to_number"] == ANN
    assert message["conversation"] == ann.pk
    assert message["author"] == {"id": agent_ann.pk, "username": "ann"}
    assert response["Location"].endswith(f"/api/messages/{message['id']}/")
    assert len(sends) == 1  # the send task, enqueued once the row is committed
    ann.refresh_from_db()
    assert ann.status == ConversationStatus.OPEN  # replying reopens it
    assert ann.last_message_id == message["id"]


def test_reply_with_a_sender_id(api, inbox, settings):
    settings.TXTSYNC_SENDERS = ["Acme", "AcmeShop"]

    response = api.post(thread_url(inbox[0]), {"body": "Hi", "sender": "AcmeShop"}, format="json")

    assert response.status_code == 201
    assert response.json()["from_number"] == "AcmeShop"


def test_reply_refuses_a_sender_id_that_is_not_ours(api, inbox, settings):
    settings.TXTSYNC_SENDERS = ["Acme"]

    response = api.post(thread_url(inbox[0]), {"body": "Hi", "sender": "Bank"}, format="json")

    assert response.status_code == 400
    assert response.json()["sender"] == ["'Bank' is not one of your sender ids; use one of: Acme."]


@pytest.mark.parametrize(
    ("who", "body", "reason"),
    [
        (1, "Hello again", "has opted out of SMS (AllowSMS is off): nothing was sent."),
        (0, "   ", "Write a message first."),
        (0, "x" * 1601, "The message is 11 SMS long; the most is 10."),
    ],
)
def test_a_refused_reply_is_a_400_on_body_and_nothing_is_queued(api, inbox, who, body, reason):
    response = api.post(thread_url(inbox[who]), {"body": body}, format="json")

    assert response.status_code == 400
    [message] = response.json()["body"]
    assert message.endswith(reason)
    assert not Message.objects.filter(send_state=SendState.QUEUED).exists()


def test_a_reply_without_body_or_with_unknown_fields_is_a_400(api, inbox):
    response = api.post(thread_url(inbox[0]), {"text": "Hi"}, format="json")

    assert response.status_code == 400
    assert response.json()["body"] == ["This field is required."]
    assert "Unknown field" in response.json()["text"][0]


def test_retrieve_one_message_with_txtsyncs_view_of_it(api, inbox, agent_ann):
    ann = inbox[0]
    sent = Message.objects.create(
        direction=Direction.OUTBOUND, conversation=ann, contact=ann.contact,
        from_number="Acme", to_number=ANN, body="Ready", author=agent_ann,
        message_date=timezone.now(), send_state=SendState.SENT, sms_id=4242, segments=1,
        status=2, error_code=0, currency_code="GBP", cost_local=Decimal("0.0350"),
        cost_gbp=Decimal("0.0350"), last_error="",
    )  # fmt: skip

    response = api.get(f"/api/messages/{sent.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["direction"] == "outbound"
    assert body["send_state"] == "sent"
    assert body["delivery"] == "delivered"
    assert body["sms_id"] == 4242
    assert body["segments"] == 1
    assert body["status"] == 2
    assert body["error_code"] == 0
    assert body["cost_local"] == "0.0350"
    assert body["currency_code"] == "GBP"
    assert body["author"] == {"id": agent_ann.pk, "username": "ann"}
    assert {"message_date", "created_at", "sent_at", "delivered_at", "last_error"} <= set(body)
    assert api.get("/api/messages/").status_code == 404  # no list of every message


# --- Query counts ----------------------------------------------------------------------------


def queries_for(api, path, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path, params or {})
    assert response.status_code == 200, response.content
    return len(queries)


def more_data(agent_bob, start: int, count: int) -> None:
    for i in range(start, start + count):
        conversation = conversation_with(
            f"+4474001{i:05d}", f"Extra{i}", minutes_ago=20 + i, said=f"Message {i}",
            tags=["VIP"], assignee=agent_bob if i % 2 else None,
        )  # fmt: skip
        for n in range(3):
            Message.objects.create(
                direction=Direction.OUTBOUND, conversation=conversation, author=agent_bob,
                contact=conversation.contact, from_number="Acme",
                to_number=conversation.contact.mobile_number, body=f"Reply {n}",
                message_date=timezone.now(),
            )  # fmt: skip


@pytest.mark.parametrize(
    "params", [{}, {"folder": "mine"}, {"q": "message"}, {"tag": "vip"}, {"q": "07400"}]
)
def test_list_queries_do_not_grow_with_the_data(api, inbox, agent_bob, params):
    more_data(agent_bob, 0, 2)
    few = queries_for(api, CONVERSATIONS, params)

    more_data(agent_bob, 2, 8)
    many = queries_for(api, CONVERSATIONS, params)

    assert many == few
    assert many <= 3  # token, (tag,) page


def test_thread_and_message_queries_do_not_grow_with_the_data(api, inbox, agent_bob):
    ann = inbox[0]
    few = queries_for(api, thread_url(ann))
    for n in range(10):
        Message.objects.create(
            direction=Direction.OUTBOUND, conversation=ann, contact=ann.contact, author=agent_bob,
            from_number="Acme", to_number=ANN, body=f"Reply {n}", message_date=timezone.now(),
        )  # fmt: skip

    assert queries_for(api, thread_url(ann)) == few <= 4  # token, conversation, count, page
    assert queries_for(api, detail(ann)) <= 2
    assert queries_for(api, f"/api/messages/{ann.last_message_id}/") <= 2


def test_the_browsable_api_renders_for_a_signed_in_agent(client, agent_ann, inbox):
    client.force_login(agent_ann)
    ann = inbox[0]

    for path in [CONVERSATIONS, detail(ann), thread_url(ann), f"{detail(ann)}assign/"]:
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code in (200, 405), path
        assert "text/html" in response["Content-Type"]


@pytest.mark.parametrize(
    ("fields", "delivery"),
    [
        ({"send_state": SendState.SENT}, "accepted"),
        ({"send_state": SendState.SENT, "checked_at": timezone.now()}, "delivery_not_reported"),
        ({"send_state": SendState.SENT, "status": 3}, "not_delivered"),
        ({"send_state": SendState.UNKNOWN}, "unknown"),
        ({"send_state": ""}, "sent_elsewhere"),
        ({"direction": Direction.INBOUND}, None),
    ],
)
def test_each_message_says_honestly_where_it_stands(api, inbox, fields, delivery):
    ann = inbox[0]
    message = Message.objects.create(
        **{"direction": Direction.OUTBOUND, **fields}, conversation=ann, contact=ann.contact,
        from_number="Acme", to_number=ANN, body="Ready", message_date=timezone.now(),
    )  # fmt: skip

    assert api.get(f"/api/messages/{message.pk}/").json()["delivery"] == delivery
