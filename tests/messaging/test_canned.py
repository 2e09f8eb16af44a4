"""Canned replies for everyone (messaging/canned.py, messaging/views/canned_replies.py):
personal and team replies, who may change which, the composer's search, merge fields and
[[placeholders]], which a reply may not keep."""

import pytest
from django.urls import reverse

from messaging import canned, conversations
from messaging.conversations import ReplyRefused
from messaging.models import CannedReply, Direction, Message
from tests.support.inbox import converse, said_in

CLEO = "+447911123456"


@pytest.fixture
def replies(agent_ann, agent_bob):
    return {
        "team": CannedReply.objects.create(title="Opening hours", body="We open at 9."),
        "ann": CannedReply.objects.create(
            owner=agent_ann, title="Ready", body="Hi {FirstName|there}, ready at [[time]]."
        ),
        "bob": CannedReply.objects.create(owner=agent_bob, title="Bob's own", body="Bob here."),
    }


# --- The use cases ------------------------------------------------------------------------


def test_everyone_sees_their_own_and_the_teams_replies(agent_ann, agent_bob, replies):
    assert [r.title for r in canned.visible_to(agent_ann)] == ["Opening hours", "Ready"]
    assert [r.title for r in canned.visible_to(agent_bob)] == ["Bob's own", "Opening hours"]


def test_search_finds_titles_and_texts_titles_first(agent_ann, replies):
    CannedReply.objects.create(title="Directions", body="We are ready for you on Main St.")

    assert [r.title for r in canned.search(agent_ann, "ready")] == ["Ready", "Directions"]
    assert [r.title for r in canned.search(agent_ann, "bob")] == []  # Bob's are his


def test_agents_manage_their_own_admins_also_the_teams(agent_ann, admin_user, replies):
    mine = canned.create(agent_ann, title="Thanks", body="Thank you!")
    assert mine.owner == agent_ann
    canned.update(agent_ann, mine, title="Thanks!", body="Thank you, {FirstName}!")
    with pytest.raises(canned.NotAllowed):
        canned.create(agent_ann, title="For all", body="x", team=True)
    with pytest.raises(canned.NotAllowed):
        canned.update(agent_ann, replies["team"], title="Changed", body="x")
    with pytest.raises(canned.NotAllowed):
        canned.delete(agent_ann, replies["bob"])

    team = canned.create(admin_user, title="For all", body="Hello all", team=True)
    assert team.owner is None
    canned.update(admin_user, replies["team"], title="Hours", body="We open at 10.")
    canned.delete(agent_ann, mine)
    assert not CannedReply.objects.filter(pk=mine.pk).exists()


def test_titles_are_unique_per_owner(agent_ann, agent_bob, replies):
    with pytest.raises(canned.CannedReplyRefused, match="already"):
        canned.create(agent_ann, title="Ready", body="again")
    canned.create(agent_bob, title="Ready", body="Bob can have his own Ready")


def test_placeholders_are_found_and_a_reply_keeping_one_is_refused(agent_ann):
    assert canned.unfilled("At [[time]] on [[day of week]], [not] [[]]") == [
        "[[time]]",
        "[[day of week]]",
    ]
    conversation = converse(CLEO, said_in("When?"))

    with pytest.raises(ReplyRefused, match=r"Fill in \[\[time\]\]"):
        conversations.reply(conversation, agent_ann, "See you at [[time]]")
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


# --- The page ------------------------------------------------------------------------------


def test_the_page_lists_yours_and_the_teams_read_only_for_agents(ann_client, replies):
    html = ann_client.get(reverse("canned-replies")).content.decode()

    assert "Ready" in html and "Opening hours" in html and "Bob's own" not in html
    assert reverse("canned-reply-edit", args=[replies["ann"].pk]) in html
    assert reverse("canned-reply-edit", args=[replies["team"].pk]) not in html
    assert 'name="team"' not in html  # agents cannot share with the team


def test_an_agent_adds_edits_and_deletes_their_own(ann_client, agent_ann):
    response = ann_client.post(reverse("canned-replies"), {"title": "Hi", "body": "Hi <b>x</b>"})
    assert response.status_code == 302
    reply = CannedReply.objects.get(title="Hi")
    assert reply.owner == agent_ann
    assert "Hi &lt;b&gt;x&lt;/b&gt;" in ann_client.get(reverse("canned-replies")).content.decode()

    url = reverse("canned-reply-edit", args=[reply.pk])
    assert ann_client.post(url, {"title": "Hello", "body": "Hello!"}).status_code == 302
    reply.refresh_from_db()
    assert (reply.title, reply.body) == ("Hello", "Hello!")

    assert ann_client.post(reverse("canned-reply-delete", args=[reply.pk])).status_code == 302
    assert not CannedReply.objects.filter(pk=reply.pk).exists()


def test_an_agent_cannot_make_a_team_reply_even_by_posting_the_field(ann_client, agent_ann):
    ann_client.post(reverse("canned-replies"), {"title": "Sneaky", "body": "x", "team": "on"})

    assert CannedReply.objects.get(title="Sneaky").owner == agent_ann


def test_an_agent_cannot_change_team_replies_nor_anothers(ann_client, replies):
    team, bobs = replies["team"], replies["bob"]
    edit, delete = "canned-reply-edit", "canned-reply-delete"

    assert ann_client.get(reverse(edit, args=[team.pk])).status_code == 403
    assert (
        ann_client.post(reverse(edit, args=[team.pk]), {"title": "x", "body": "y"}).status_code
        == 403
    )
    assert ann_client.post(reverse(delete, args=[team.pk])).status_code == 403
    assert ann_client.get(reverse(edit, args=[bobs.pk])).status_code == 404
    assert ann_client.post(reverse(delete, args=[bobs.pk])).status_code == 404
    team.refresh_from_db()
    assert team.title == "Opening hours"
    assert CannedReply.objects.filter(pk=bobs.pk).exists()


def test_an_admin_manages_the_teams_replies(client, admin_user, replies):
    client.force_login(admin_user)

    client.post(
        reverse("canned-replies"), {"title": "Closed", "body": "Closed today.", "team": "on"}
    )
    assert CannedReply.objects.get(title="Closed").owner is None
    url = reverse("canned-reply-edit", args=[replies["team"].pk])
    assert client.post(url, {"title": "Hours", "body": "9 to 5"}).status_code == 302
    assert CannedReply.objects.get(pk=replies["team"].pk).title == "Hours"
    assert client.get(reverse("canned-reply-edit", args=[replies["bob"].pk])).status_code == 404


def test_a_duplicate_title_is_explained_and_nothing_saved(ann_client, replies):
    response = ann_client.post(reverse("canned-replies"), {"title": "Ready", "body": "again"})

    assert response.status_code == 400
    assert "already a canned reply called" in response.content.decode()
    assert CannedReply.objects.filter(title="Ready").count() == 1


# --- The composer's search ----------------------------------------------------------------


def test_search_needs_a_login(client, db):
    response = client.get(reverse("canned-reply-search"), {"q": "x"})

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_search_renders_merge_fields_for_the_contact_and_keeps_placeholders(ann_client, replies):
    conversation = converse(CLEO, said_in("Hi"), first="Cleo")
    CannedReply.objects.create(title="Evil <b>", body='<script>alert(1)</script> "{FirstName}"')
    url = reverse("canned-reply-search")

    found = ann_client.get(url, {"q": "rea", "c": conversation.pk}).json()["results"]
    assert [(r["title"], r["text"], r["team"]) for r in found] == [
        ("Ready", "Hi Cleo, ready at [[time]].", False)
    ]

    everything = ann_client.get(url, {"c": conversation.pk})
    assert everything["Content-Type"] == "application/json"
    titles = [r["title"] for r in everything.json()["results"]]
    assert titles == ["Evil <b>", "Opening hours", "Ready"]  # not Bob's
    evil = everything.json()["results"][0]
    assert evil["text"] == '<script>alert(1)</script> "Cleo"'  # data: the page uses textContent

    no_contact = ann_client.get(url, {"q": "Ready"}).json()["results"][0]
    assert no_contact["text"] == "Hi {FirstName|there}, ready at [[time]]."
    assert ann_client.get(url, {"c": 999_999}).status_code == 404


def test_the_thread_offers_the_canned_replies_list(ann_client):
    conversation = converse(CLEO, said_in("Hi"))

    html = ann_client.get(reverse("inbox-thread", args=[conversation.pk])).content.decode()

    assert f'data-search="{reverse("canned-reply-search")}?c={conversation.pk}"' in html
    assert "data-canned-open" in html
    assert 'id="inbox-canned"' not in html  # the old drop-down is gone


def test_a_reply_with_a_placeholder_left_is_refused_by_the_page(ann_client):
    conversation = converse(CLEO, said_in("When?"))

    response = ann_client.post(
        reverse("inbox-reply", args=[conversation.pk]),
        {"body": "See you at [[time]]"},
        headers={"HX-Request": "true"},
    )

    assert "Fill in [[time]] before sending." in response.content.decode()
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
