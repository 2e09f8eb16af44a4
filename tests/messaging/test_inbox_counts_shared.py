"""The team folders' unread counts are counted once for every agent for a moment
(INBOX_COUNTS_MAX_AGE), Mine stays live: at a busy team's webhook rate every poll re-reads
the counts, and 50 agents each counting the whole backlog outran 2 cores (issue 17)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import conversations
from tests.support.inbox import converse, said_in


@pytest.fixture
def shared_counts(settings):
    settings.INBOX_COUNTS_MAX_AGE = 60
    cache.delete(conversations.TEAM_COUNTS_KEY)
    yield
    cache.delete(conversations.TEAM_COUNTS_KEY)


def test_the_team_counts_are_shared_and_mine_stays_live(shared_counts, agent_ann, agent_bob):
    converse("+447911000001", said_in("nobody's", 1), unread=True)
    before = conversations.unread_counts(agent_ann)
    converse("+447911000002", said_in("bob's", 1), unread=True, assignee=agent_bob)

    with CaptureQueriesContext(connection) as queries:
        bob_sees = conversations.unread_counts(agent_bob)

    assert len(queries) == 1  # Mine only: the team's folders came from Ann's count
    assert (before["all"], bob_sees["all"]) == (1, 1)  # up to INBOX_COUNTS_MAX_AGE old
    assert (before["mine"], bob_sees["mine"]) == (0, 1)  # live

    cache.delete(conversations.TEAM_COUNTS_KEY)  # the moment has passed
    assert conversations.unread_counts(agent_bob)["all"] == 2


def test_counted_for_each_call_when_sharing_is_off(settings, agent_ann):
    settings.INBOX_COUNTS_MAX_AGE = 0
    converse("+447911000001", said_in("first", 1), unread=True)
    assert conversations.unread_counts(agent_ann)["all"] == 1
    converse("+447911000002", said_in("second", 1), unread=True)
    assert conversations.unread_counts(agent_ann)["all"] == 2
