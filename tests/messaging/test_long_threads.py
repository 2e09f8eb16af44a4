"""A long thread shows its newest messages and offers the earlier ones: a thread of
20,000 texts took 6.6 s to show whole in issue 17's load run."""

import html
import re

import pytest
from django.urls import reverse

from messaging import conversations
from messaging.models import Message, Note, SendState
from messaging.views import inbox
from tests.support.inbox import converse, said_in, said_out

NUMBER = "+447911123456"


@pytest.fixture
def three_newest(monkeypatch):
    monkeypatch.setattr(inbox, "THREAD_NEWEST", 3)


def long_thread(agent, texts=8):
    """`texts` messages a minute apart ("text 0" the oldest), a note before the newest
    three and one among them."""
    said = [said_in(f"text {n}", texts - n) if n % 2 else said_out(f"text {n}", texts - n)
            for n in range(texts)]  # fmt: skip
    conversation = converse(NUMBER, *said)
    messages = list(conversation.messages.order_by("message_date"))
    for body, message in (("old note", messages[1]), ("new note", messages[-2])):
        note = Note.objects.create(conversation=conversation, author=agent, body=body)
        Note.objects.filter(pk=note.pk).update(created_at=message.message_date)
    return conversation


def bodies(response) -> list[str]:
    page = response.content.decode()
    return re.findall(r'<div class="inbox-body">([^<]*)</div>', page)


def test_a_long_thread_shows_its_newest_messages_and_the_lines_among_them(
    ann_client, agent_ann, three_newest
):
    conversation = long_thread(agent_ann)

    page = ann_client.get(reverse("inbox-thread", args=[conversation.pk]))

    assert bodies(page) == ["text 5", "text 6", "new note", "text 7"]
    text = page.content.decode()
    assert "5 earlier messages not shown" in text
    more = html.unescape(re.search(r'<a href="([^"]+)">Show earlier</a>', text)[1])
    assert more == reverse("inbox-thread", args=[conversation.pk]) + "?shown=6"

    earlier = ann_client.get(more)
    assert bodies(earlier)[:2] == ["text 2", "text 3"]
    assert "2 earlier messages not shown" in earlier.content.decode()
    assert "shown=6" in re.search(r'id="inbox-poll"[^>]*', earlier.content.decode())[0]


def test_a_short_thread_shows_everything_without_the_link(ann_client, agent_ann, three_newest):
    conversation = converse(NUMBER, said_in("only", 2), said_out("two", 1))

    page = ann_client.get(reverse("inbox-thread", args=[conversation.pk]))

    assert bodies(page) == ["only", "two"]
    assert "earlier message" not in page.content.decode()


def test_a_reply_not_sent_yet_counts_among_the_newest(agent_ann):
    conversation = converse(NUMBER, *[said_in(f"text {n}", 10 - n) for n in range(5)])
    Message.objects.create(
        conversation=conversation, contact=conversation.contact, direction=2,
        to_number=NUMBER, body="later", send_state=SendState.SCHEDULED, author=agent_ann,
    )  # fmt: skip

    thread = conversations.thread(conversation, newest=2)

    assert [entry.message.body for entry in thread.entries] == ["text 4", "later"]
    assert thread.earlier == 4
    assert conversations.thread(conversation).earlier == 0  # whole: nothing earlier
