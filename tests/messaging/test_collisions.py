"""No collisions (messaging/presence.py, messaging/send_guard.py): who else has a
conversation open or is typing, told by the inbox's own poll; and the send guard, which
holds a reply back once when the thread moved on since its writer's page showed it."""

import re
import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging import conversations, presence
from messaging.models import Direction, Message, Note, SendState
from tests.support.api import token_client
from tests.support.inbox import converse, said_in

CLEO = "+447911123456"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def marks(html: str) -> dict:
    """The send guard's marks the composer carries."""
    return {
        name: re.search(rf'name="{name}" value="(\d+)"', html)[1]
        for name in ("seen_up_to", "seen_note")
    }


def open_thread(client, conversation) -> str:
    return client.get(reverse("inbox-thread", args=[conversation.pk])).content.decode()


def send(client, conversation, body, seen, htmx=True):
    return client.post(
        reverse("inbox-reply", args=[conversation.pk]),
        {"body": body, **seen},
        headers=HTMX if htmx else {},
    )


def sent_by(user):
    return list(
        Message.objects.filter(direction=Direction.OUTBOUND, author=user).values_list(
            "body", flat=True
        )
    )


# --- The send guard -------------------------------------------------------------------------


def test_a_text_that_arrived_since_holds_the_reply_back_once(agent_ann):
    conversation = converse(CLEO, said_in("Is it ready?"), first="Cleo")
    ann = signed_in(agent_ann)
    seen = marks(open_thread(ann, conversation))
    Message.objects.create(
        direction=Direction.INBOUND, conversation=conversation, contact=conversation.contact,
        from_number=CLEO, to_number="Acme", body="Never mind, <b>cancel</b> it",
    )  # fmt: skip

    held = send(ann, conversation, "Yes, it is ready!", seen).content.decode()

    assert sent_by(agent_ann) == []
    assert "New activity since you opened this: review, then send again." in held
    assert "Cleo:</span> Never mind, &lt;b&gt;cancel&lt;/b&gt; it" in held  # escaped
    assert "Yes, it is ready!</textarea>" in held  # the reply is kept for a second look
    again = marks(held)
    assert again != seen

    send(ann, conversation, "Yes, it is ready!", again)  # the second press sends
    assert sent_by(agent_ann) == ["Yes, it is ready!"]


def test_a_reply_scheduled_for_later_is_held_back_the_same_way(agent_ann, agent_bob):
    conversation = converse(CLEO, said_in("Is it ready?"), first="Cleo")
    ann = signed_in(agent_ann)
    seen = marks(open_thread(ann, conversation))
    conversations.reply(conversation, agent_bob, "Bob: ready at 5")

    def schedule(marks_seen):
        return ann.post(
            reverse("inbox-schedule", args=[conversation.pk]),
            {"body": "Ready tomorrow", "later": "1h", **marks_seen},
            headers=HTMX,
        ).content.decode()

    held = schedule(seen)
    assert "New activity since you opened this: review, then send again." in held
    assert not Message.objects.filter(send_state=SendState.SCHEDULED).exists()

    schedule(marks(held))  # the second press schedules it
    assert Message.objects.get(send_state=SendState.SCHEDULED).body == "Ready tomorrow"


def test_a_teammates_reply_or_note_holds_it_back_ones_own_do_not(agent_ann, agent_bob):
    conversation = converse(CLEO, said_in("Hello?"))
    ann = signed_in(agent_ann)
    seen = marks(open_thread(ann, conversation))

    conversations.reply(conversation, agent_ann, "One moment")  # mine, from another tab
    conversations.add_note(conversation, agent_ann, "my own note")
    send(ann, conversation, "Checking now", seen)
    assert sent_by(agent_ann) == ["One moment", "Checking now"]

    seen = marks(open_thread(ann, conversation))
    conversations.reply(conversation, agent_bob, "Bob here, on it")
    held = send(ann, conversation, "Me too", seen).content.decode()
    assert "bob:</span> Bob here, on it" in held
    assert sent_by(agent_ann) == ["One moment", "Checking now"]

    seen = marks(held)
    conversations.add_note(conversation, agent_bob, "I called them")
    held = send(ann, conversation, "Me too", seen).content.decode()
    assert "bob (note):</span> I called them" in held
    send(ann, conversation, "Me too", marks(held))
    assert sent_by(agent_ann)[-1] == "Me too"


def test_without_marks_there_is_no_guard(agent_ann):
    """A client that sends no `seen_up_to` (an old page) sends as before."""
    conversation = converse(CLEO, said_in("Hello?"))
    ann = signed_in(agent_ann)

    send(ann, conversation, "Hi", {})

    assert sent_by(agent_ann) == ["Hi"]


def test_without_htmx_the_page_says_so_and_the_second_press_sends(agent_ann, agent_bob):
    conversation = converse(CLEO, said_in("Hello?"))
    ann = signed_in(agent_ann)
    seen = marks(open_thread(ann, conversation))
    conversations.reply(conversation, agent_bob, "Bob here")

    page = send(ann, conversation, "Ann here", seen, htmx=False)

    assert page.status_code == 200
    html = page.content.decode()
    assert "New activity since you opened this: review, then send again." in html
    assert sent_by(agent_ann) == []
    send(ann, conversation, "Ann here", marks(html), htmx=False)
    assert sent_by(agent_ann) == ["Ann here"]


def test_the_marks_are_the_newest_message_and_note_shown(agent_ann):
    conversation = converse(CLEO, said_in("one"), said_in("two"))
    note = Note.objects.create(conversation=conversation, author=agent_ann, body="n")

    seen = marks(open_thread(signed_in(agent_ann), conversation))

    newest = conversation.messages.order_by("-pk").first()
    assert seen == {"seen_up_to": str(newest.pk), "seen_note": str(note.pk)}


# --- Presence -------------------------------------------------------------------------------


def poll(client, conversation, **params):
    cursor = timezone.now().isoformat()
    return client.get(reverse("inbox-poll"), {"cursor": cursor, "c": conversation.pk, **params})


def test_two_people_see_each_other_and_who_is_typing(agent_ann, agent_bob):
    agent_bob.first_name, agent_bob.last_name = "Bob", "Baker"
    agent_bob.save()
    conversation = converse(CLEO, said_in("Hi"))
    ann, bob = signed_in(agent_ann), signed_in(agent_bob)

    assert 'data-token=""' in open_thread(ann, conversation)  # alone
    bob_page = open_thread(bob, conversation)
    assert "ann is viewing this too" in bob_page

    answer = poll(ann, conversation, presence="")  # nothing else changed: the line only
    assert answer.status_code == 200
    line = answer.content.decode()
    assert 'id="inbox-presence"' in line and 'hx-swap-oob="true"' in line
    assert "Bob Baker is viewing this too" in line
    token = re.search(r'data-token="([^"]*)"', line)[1]
    assert poll(ann, conversation, presence=token).status_code == 204  # unchanged: cheap

    poll(bob, conversation, presence="", typing="1")
    typing = poll(ann, conversation, presence=token).content.decode()
    assert "Bob Baker is typing a reply…" in typing
    assert "viewing" not in typing


def test_presence_fades_when_the_heartbeats_stop(agent_ann, agent_bob, monkeypatch, settings):
    conversation = converse(CLEO, said_in("Hi"))
    presence.heartbeat(conversation.pk, agent_bob, typing=True)
    assert presence.viewers(conversation.pk, agent_ann).typing == ["bob"]

    now = time.time()
    monkeypatch.setattr(presence.time, "time", lambda: now + presence.TYPING_SECONDS + 1)
    assert presence.viewers(conversation.pk, agent_ann).viewing == ["bob"]  # no longer typing

    later = now + presence.lifetime() + 1
    monkeypatch.setattr(presence.time, "time", lambda: later)
    assert presence.viewers(conversation.pk, agent_ann).people == ()


def test_names_are_escaped(agent_ann, agent_bob):
    agent_bob.first_name = "<img src=x onerror=alert(1)>"
    agent_bob.save()
    conversation = converse(CLEO, said_in("Hi"))
    presence.heartbeat(conversation.pk, agent_bob)

    html = open_thread(signed_in(agent_ann), conversation)

    assert "&lt;img src=x onerror=alert(1)&gt; is viewing this too" in html
    assert "<img src=x" not in html


def test_an_idle_poll_with_presence_costs_no_more_queries(
    agent_ann, agent_bob, django_assert_max_num_queries
):
    conversation = converse(CLEO, said_in("Hi"))
    presence.heartbeat(conversation.pk, agent_bob)
    ann = signed_in(agent_ann)
    token = presence.viewers(conversation.pk, agent_ann).token

    # Session, user, and the one "anything changed?" query: presence is in the cache.
    with django_assert_max_num_queries(3):
        assert poll(ann, conversation, presence=token).status_code == 204
    with django_assert_max_num_queries(3):
        assert poll(ann, conversation, presence="").status_code == 200


# --- The REST API: the guard when the reply says what it saw ---------------------------------


def test_the_api_refuses_with_409_when_seen_up_to_is_behind(agent_ann, agent_bob):
    conversation = converse(CLEO, said_in("Is it ready?"))
    seen = conversation.messages.get().pk
    api = token_client(agent_ann)
    url = f"/api/conversations/{conversation.pk}/messages/"
    conversations.reply(conversation, agent_bob, "Bob: yes")

    held = api.post(url, {"body": "Ann: yes", "seen_up_to": seen}, format="json")

    assert held.status_code == 409
    assert [m["body"] for m in held.json()["new_messages"]] == ["Bob: yes"]
    assert sent_by(agent_ann) == []
    again = {"body": "Ann: yes", "seen_up_to": held.json()["seen_up_to"]}
    assert api.post(url, again, format="json").status_code == 201
    assert api.post(url, {"body": "No seen_up_to: no guard"}, format="json").status_code == 201
    assert sent_by(agent_ann) == ["Ann: yes", "No seen_up_to: no guard"]


def test_the_api_refuses_a_reply_with_a_placeholder_left(agent_ann):
    conversation = converse(CLEO, said_in("When?"))
    url = f"/api/conversations/{conversation.pk}/messages/"

    response = token_client(agent_ann).post(url, {"body": "At [[time]]"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"body": ["Fill in [[time]] before sending."]}
