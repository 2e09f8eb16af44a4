"""The notification pages and badge.json: each user sees and changes only their own."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from messaging import conversations
from notifications import services
from notifications.models import Email, Kind, Notification, Preference
from tests.support.inbox import converse, said_in


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def mentioned(conversation, admin_user, agent_ann):
    """Ada mentioned Ann in a note on Cleo's conversation."""
    conversations.add_note(conversation, admin_user, "@ann <script>x()</script> call her")
    return Notification.objects.get(user=agent_ann)


def test_the_badge_counts_the_users_unread_notifications(mentioned, agent_ann, agent_bob):
    answer = signed_in(agent_ann).get(reverse("notifications-badge"))

    assert answer.status_code == 200
    assert answer.json() == {"unread": 1, "last_id": mentioned.pk, "new": []}
    assert answer.headers["Cache-Control"] == "no-store"
    assert signed_in(agent_bob).get(reverse("notifications-badge")).json()["unread"] == 0


def test_the_badge_brings_what_is_new_since_the_last_seen_id(
    mentioned, conversation, admin_user, agent_ann
):
    Preference.objects.create(user=agent_ann, kind=Kind.ASSIGNED, browser=False, sound=True)
    conversations.assign(conversation, agent_ann.pk, by=admin_user)
    client = signed_in(agent_ann)

    answer = client.get(reverse("notifications-badge"), {"after": mentioned.pk - 1}).json()

    assigned = Notification.objects.get(kind=Kind.ASSIGNED)
    assert answer["unread"] == 2 and answer["last_id"] == assigned.pk
    assert answer["new"] == [
        {"id": mentioned.pk, "title": "ada mentioned you on Cleo",
         "body": "@ann <script>x()</script> call her",  # JSON: the script sets it as text
         "url": f"/inbox/c/{conversation.pk}/", "browser": True, "sound": False},
        {"id": assigned.pk, "title": "ada assigned Cleo to you", "body": "Hello?",
         "url": f"/inbox/c/{conversation.pk}/", "browser": False, "sound": True},
    ]  # fmt: skip
    assert client.get(reverse("notifications-badge"), {"after": assigned.pk}).json()["new"] == []


def test_an_idle_badge_poll_is_cheap(mentioned, agent_ann, django_assert_max_num_queries):
    client = signed_in(agent_ann)
    with django_assert_max_num_queries(3):  # session, user, the count
        client.get(reverse("notifications-badge"), {"after": mentioned.pk})


def test_the_badge_refuses_strangers_and_bad_input(agent_ann):
    assert Client().get(reverse("notifications-badge")).status_code == 401
    bad = signed_in(agent_ann).get(reverse("notifications-badge"), {"after": "x"})
    assert bad.status_code == 400


def test_the_list_shows_only_the_users_own_notifications_escaped(mentioned, agent_ann, agent_bob):
    page = signed_in(agent_ann).get(reverse("notifications")).content.decode()

    assert "ada mentioned you on Cleo" in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page
    assert (
        "ada mentioned you"
        not in signed_in(agent_bob).get(reverse("notifications")).content.decode()
    )


def test_opening_one_marks_it_read_and_opens_the_conversation(mentioned, agent_ann, agent_bob):
    url = reverse("notification-open", args=[mentioned.pk])

    assert signed_in(agent_bob).post(url).url == reverse("notifications")  # not his
    mentioned.refresh_from_db()
    assert mentioned.read_at is None

    answer = signed_in(agent_ann).post(url)

    assert answer.url == reverse("inbox-thread", args=[mentioned.conversation_id])
    mentioned.refresh_from_db()
    assert mentioned.read_at is not None


def test_mark_all_read(mentioned, agent_ann):
    signed_in(agent_ann).post(reverse("notifications-read"))

    assert services.badge(agent_ann, None).unread == 0


def test_each_user_saves_their_own_preferences(agent_ann, agent_bob):
    client = signed_in(agent_ann)
    page = client.get(reverse("notification-preferences"))
    assert page.status_code == 200
    assert b"Turn on browser notifications" in page.content
    form = {f"{kind}-email": "" for kind in Kind.values}
    form |= {"mention-browser": "on", "mention-sound": "on", "mention-email": Email.IMMEDIATE}
    form |= {"assigned-email": Email.DIGEST}

    answer = client.post(reverse("notification-preferences"), form)

    assert answer.status_code == 302
    assert services.preferences(agent_ann) == {
        "unassigned": {"browser": False, "email": "", "sound": False},
        "assigned": {"browser": False, "email": "digest", "sound": False},
        "my_text": {"browser": False, "email": "", "sound": False},
        "mention": {"browser": True, "email": "immediate", "sound": True},
    }
    assert services.preferences(agent_bob)["mention"] == {
        "browser": True, "email": "", "sound": False
    }  # fmt: skip
    assert (
        client.post(reverse("notification-preferences"), {"mention-email": "x"}).status_code == 200
    )


def test_the_top_bar_has_the_bell_the_manifest_and_the_favicon(agent_ann):
    page = signed_in(agent_ann).get(reverse("home")).content.decode()

    assert 'id="notif-bell"' in page and reverse("notifications-badge") in page
    assert f'rel="manifest" href="{reverse("webapp-manifest")}"' in page
    assert 'rel="icon" href="/static/icons/favicon.ico"' in page
    assert 'src="/static/js/notifications.js"' in page


def test_the_bell_costs_the_page_no_query(agent_ann, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    template = Template("{% load notifications %}{% notification_bell %}")
    with django_assert_num_queries(0):
        html = template.render(Context({"user": agent_ann, "request": request}))
    assert 'data-interval="10' in html


def test_the_profile_links_to_the_notification_settings(agent_ann):
    page = signed_in(agent_ann).get(reverse("profile")).content.decode()

    assert reverse("notification-preferences") in page


def test_answers_are_json(mentioned, agent_ann):
    answer = signed_in(agent_ann).get(reverse("notifications-badge"))
    assert answer.headers["Content-Type"] == "application/json"
    json.loads(answer.content)


def test_opening_a_conversation_reads_what_told_of_it_and_only_that(agent_ann):
    first = converse("+447911123456", said_in("Hello"))
    other = converse("+447911123457", said_in("Hi"))
    for conversation in (first, other):
        Notification.objects.create(
            user=agent_ann, kind=Kind.UNASSIGNED, conversation=conversation, text="t"
        )
    client = signed_in(agent_ann)
    url = reverse("notifications-conversation-read", args=[first.pk])

    assert client.get(url).status_code == 405  # a GET never writes
    response = client.post(url)

    assert response.json() == {"unread": 1}
    unread = Notification.objects.filter(read_at__isnull=True)
    assert list(unread.values_list("conversation", flat=True)) == [other.pk]
