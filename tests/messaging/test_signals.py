"""What messaging tells others (messaging/signals.py) about assignments and notes, and
the automatic mark a send of an automation carries."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from messaging import conversations, signals, writer
from messaging.models import Conversation, Note
from messaging.services import queue_outbound

ANN = "+447911123456"


@pytest.fixture
def ann(db) -> Conversation:
    return writer.conversation_with(ANN)


@pytest.fixture
def heard():
    seen = []

    def listen(signal):
        def receiver(sender, **kwargs):
            seen.append((signal, kwargs))

        signal.connect(receiver, weak=False)
        return receiver

    receivers = {s: listen(s) for s in (signals.conversation_assigned, signals.note_added)}
    yield seen
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def test_an_assignment_says_to_whom_and_by_whom(ann, heard, django_user_model):
    boss = django_user_model.objects.create_user("boss")
    agent = django_user_model.objects.create_user("agent")

    conversations.assign(ann, agent.pk, by=boss)
    assert heard[0][1]["conversation"].assignee == agent
    conversations.assign(ann, None)

    assert [(s, k["assignee"], k["by"]) for s, k in heard] == [
        (signals.conversation_assigned, agent, boss),
        (signals.conversation_assigned, None, None),
    ]


def test_a_note_is_announced_with_its_author(ann, heard):
    author = get_user_model().objects.create_user("writer")

    note = conversations.add_note(ann, author, "  call back after 5  ")

    assert heard == [(signals.note_added, {"signal": signals.note_added, "note": note})]
    assert Note.objects.get().body == "call back after 5"


def test_an_automations_send_is_marked_automatic_and_a_persons_is_not(ann):
    with transaction.atomic():
        automatic = queue_outbound(ANN, "We are closed until 9am.", automatic=True)
        typed = queue_outbound(ANN, "Hello")

    automatic.refresh_from_db()
    typed.refresh_from_db()
    assert (automatic.automatic, typed.automatic) == (True, False)
