"""Mentions in a note: @username, @First, @First Last; never an e-mail address."""

from types import SimpleNamespace

import pytest

from notifications.mentions import mentioned, mentioned_in


def user(pk, username, first="", last=""):
    full = f"{first} {last}".strip()
    return SimpleNamespace(
        pk=pk, first_name=first, get_username=lambda: username, get_full_name=lambda: full
    )


ANN = user(1, "ann", "Ann", "Lee")
ANN_B = user(2, "ann.b", "Annabel")
BOB = user(3, "bob", "Robert", "Smith")
ROB = user(4, "rob", "Robert", "Jones")
TEAM = [ANN, ANN_B, BOB, ROB]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("@ann can you call them?", [ANN]),
        ("Thanks @ANN.", [ANN]),  # case, and punctuation after the name
        ("@ann.b please", [ANN_B]),  # the longest name at the @ wins
        ("@Annabel and @bob", [ANN_B, BOB]),
        ("ask @Ann Lee", [ANN]),  # the full name
        ("@Robert knows", [BOB, ROB]),  # a first name two users share: both
        ("@robert smith knows", [BOB]),
        ("mail ann@example.com or bob@x.org", []),  # e-mail addresses mention nobody
        ("@annie is not a user", []),  # a name must end where the word does
        ("no mention here", []),
        ("@", []),
        ("(@bob)", [BOB]),
    ],
)
def test_who_a_note_mentions(body, expected):
    assert mentioned(body, TEAM) == expected


def test_only_active_users_are_mentioned(agent_ann, agent_bob):
    agent_bob.is_active = False
    agent_bob.save()

    assert mentioned_in("@ann and @bob") == [agent_ann]


def test_a_note_without_an_at_costs_no_query(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        assert mentioned_in("nothing to see") == []
