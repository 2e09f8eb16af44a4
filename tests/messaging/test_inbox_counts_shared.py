"""The team folders' unread counts are counted once for every agent for a moment
(INBOX_COUNTS_MAX_AGE), Mine stays live: at a busy team's webhook rate every poll re-reads
the counts, and 50 agents each counting the whole backlog outran 2 cores (issue 17)."""

import re
from datetime import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import conversations
from messaging.views import inbox
from tests.support.inbox import converse, said_in

LANGUAGES = [code for code, _name in settings.LANGUAGES]


@pytest.fixture
def shared_counts(settings):
    settings.INBOX_COUNTS_MAX_AGE = 60
    rows = [f"inbox:rows:{lang}:{staff}::" for lang in LANGUAGES for staff in (0, 1)]
    keys = [conversations.TEAM_COUNTS_KEY, *rows]
    cache.delete_many(keys)  # nothing another test's inbox left
    yield
    cache.delete_many(keys)


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


def test_a_poll_s_rows_are_rendered_once_for_every_agent_on_the_same_list(
    shared_counts, client, agent_ann, agent_bob
):
    from django.urls import reverse
    from django.utils import timezone

    first = converse("+447911000001", said_in("first", 2), unread=True)
    second = converse("+447911000002", said_in("second", 1), unread=True)
    cursor = (timezone.now() - timezone.timedelta(minutes=5)).isoformat()
    poll = reverse("inbox-poll")
    client.force_login(agent_ann)
    ann_sees = client.get(poll, {"cursor": cursor, "c": first.pk}).content.decode()
    shared_at_latest = timezone.now()
    client.force_login(agent_bob)
    with CaptureQueriesContext(connection) as queries:
        bob_sees = client.get(poll, {"cursor": cursor, "c": second.pk}).content.decode()

    assert not any("LIMIT 51" in q["sql"] for q in queries)  # no page of rows read
    for html, mine, other in ((ann_sees, first, second), (bob_sees, second, first)):
        assert f'data-conversation="{mine.pk}" aria-current="true"' in html
        assert f'data-conversation="{other.pk}" aria-current' not in html
    # Bob's cursor is no later than what he was shown (made for Ann): a change they did
    # not show yet makes his next poll read them again.
    next_cursor = datetime.fromisoformat(re.search(r'data-cursor="([^"]+)"', bob_sees)[1])
    assert next_cursor <= shared_at_latest - inbox.CURSOR_OVERLAP


def test_an_empty_inbox_shows_admins_their_setup_links_and_agents_not(
    shared_counts, client, admin_user, agent_ann
):
    from django.urls import reverse
    from django.utils import timezone

    cursor = (timezone.now() - timezone.timedelta(minutes=5)).isoformat()
    converse("+447911000001", said_in("gone", 1))  # a change, then no conversation left
    from messaging.models import Conversation

    Conversation.objects.update(last_activity_at=None)  # none in any list
    client.force_login(admin_user)
    admin_sees = client.get(reverse("inbox-poll"), {"cursor": cursor}).content.decode()
    client.force_login(agent_ann)
    ann_sees = client.get(reverse("inbox-poll"), {"cursor": cursor}).content.decode()

    console = reverse("sandbox:console")
    assert console in admin_sees and console not in ann_sees
