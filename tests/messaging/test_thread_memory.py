"""A thread that remembers (issue 14, item 6) and send later in the pages: activity lines
(who assigned, closed, snoozed, opted out...) interleaved with messages and notes, the
Snoozed and Scheduled folders, "snooze until they reply", the side panel's contact edit,
and scheduling, editing and cancelling a reply from the thread."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import services as contacts
from contacts.models import Contact, OptOutSource
from messaging import activity, conversations, send_later, writer
from messaging.models import Activity, ActivityKind, Conversation, Message, SendState
from tests.support.inbox import converse, said_in

ANN = "+447911123456"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def ann_client(client, agent_ann):
    agent_ann.first_name, agent_ann.last_name = "Ann", "Lee"
    agent_ann.save()
    client.force_login(agent_ann)
    return client


@pytest.fixture
def chat(db):
    return converse(ANN, said_in("Hello, is my order ready?", 30), first="Maria")


def thread_url(conversation, query=""):
    return reverse("inbox-thread", args=[conversation.pk]) + query


def page(client, conversation) -> str:
    response = client.get(thread_url(conversation))
    assert response.status_code == 200
    return response.content.decode()


def lines(html: str) -> list[str]:
    """The activity lines' texts, in the thread's order."""
    found = re.findall(r'<li class="inbox-entry inbox-activity"[^>]*><p>(.*?) · <time', html)
    return [re.sub(r"\s+", " ", line) for line in found]


def names_in(html: str) -> list[str]:
    return re.findall(r'<span class="inbox-row-name">([^<]*)</span>', html)


# --- Activity lines ---------------------------------------------------------------------------


def test_assign_close_reopen_and_snooze_leave_lines_saying_who_and_when(
    ann_client, chat, agent_bob
):
    agent_bob.first_name = "Bob"
    agent_bob.save()
    url = lambda name: reverse(name, args=[chat.pk])  # noqa: E731

    ann_client.post(url("inbox-assign"), {"assignee": agent_bob.pk})
    ann_client.post(url("inbox-assign"), {"assignee": ""})
    ann_client.post(url("inbox-close"))
    ann_client.post(url("inbox-reopen"))
    ann_client.post(url("inbox-snooze"), {"duration": "reply"})

    assert lines(page(ann_client, chat)) == [
        "Ann Lee assigned it to Bob",
        "Ann Lee unassigned it",
        "Ann Lee closed it",
        "Ann Lee reopened it",
        "Ann Lee snoozed it until they reply",
    ]
    assert set(Activity.objects.values_list("actor__username", flat=True)) == {"ann"}


def test_lines_are_interleaved_with_messages_and_notes_by_time(ann_client, chat, agent_ann):
    conversations.close(chat, by=agent_ann)
    Activity.objects.update(created_at=timezone.now() - timedelta(minutes=40))
    conversations.add_note(chat, agent_ann, "Checked the stock")

    html = page(ann_client, chat)

    closed = html.index("Ann Lee closed it")
    said = html.index("Hello, is my order ready?")  # 30 minutes ago
    noted = html.index("Checked the stock")
    assert closed < said < noted


def test_opting_out_and_back_in_leave_lines_with_the_source(ann_client, chat, agent_ann):
    contacts.set_allow_sms(chat.contact, False, source=OptOutSource.KEYWORD, reason="STOP")
    contacts.set_allow_sms(chat.contact, True, source=OptOutSource.AGENT, actor=agent_ann)

    assert lines(page(ann_client, chat)) == [
        "The contact opted out of SMS (keyword (STOP/START))",
        "Ann Lee opted the contact back in to SMS (agent)",
    ]


def test_a_contact_without_a_conversation_opts_out_without_a_line(db):
    contact = contacts.create_contact({"mobile_number": "+447911000009"})

    contacts.set_allow_sms(contact, False, source=OptOutSource.API)

    assert not Activity.objects.exists()
    assert not Conversation.objects.filter(contact=contact).exists()


def test_an_automation_line_and_an_automatic_message_say_so(ann_client, chat):
    activity.record(chat, ActivityKind.AUTOMATIC_REPLY, detail="away")
    activity.record(chat, ActivityKind.ASSIGNED, detail="Bob")
    Message.objects.create(
        direction=0, conversation=chat, contact=chat.contact, from_number="Acme",
        to_number=ANN, body="We are closed now", automatic=True, send_state="sent",
        message_date=timezone.now(),
    )  # fmt: skip

    html = page(ann_client, chat)

    assert lines(html) == ["Automatic reply sent (away)", "Assigned to Bob automatically"]
    assert re.search(r'class="inbox-automatic">Automatic</span>[^<]*<time', html)


def test_names_in_lines_are_escaped(ann_client, chat, agent_bob):
    agent_bob.first_name = "<b>Bob</b>"
    agent_bob.save()
    conversations.close(chat, by=agent_bob)

    html = page(ann_client, chat)

    assert "&lt;b&gt;Bob&lt;/b&gt; closed it" in html
    assert "<b>Bob</b>" not in html


def test_the_thread_page_reads_lines_and_notes_in_one_query(ann_client, chat, agent_ann):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert ann_client.get(thread_url(chat)).status_code == 200
        return len(captured)

    conversations.add_note(chat, agent_ann, "first note")
    page(ann_client, chat)  # read: the next ones do not mark it read
    before = queries()
    for n in range(5):
        conversations.close(chat, by=agent_ann)
        conversations.reopen(chat, by=agent_ann)
        conversations.add_note(chat, agent_ann, f"note {n}")

    assert queries() == before


# --- Snoozed folder, snooze until they reply --------------------------------------------------


def test_snoozed_until_they_reply_waits_in_snoozed_and_their_text_wakes_it(ann_client, chat):
    other = converse("+447911000002", said_in("Hi there", 10), first="Zed")
    ann_client.post(reverse("inbox-snooze", args=[chat.pk]), {"duration": "reply"})
    chat.refresh_from_db()
    assert (chat.snoozed_until_reply, chat.snoozed_until) == (True, None)

    all_ = ann_client.get(reverse("inbox")).content.decode()
    snoozed = ann_client.get(reverse("inbox") + "?folder=snoozed").content.decode()
    assert (names_in(all_), names_in(snoozed)) == (["Zed"], ["Maria"])
    assert 'href="/inbox/?folder=snoozed"' in all_

    message = Message.objects.create(
        direction=1, conversation=chat, contact=chat.contact, from_number=ANN, to_number="Acme",
        body="Any news?", message_date=timezone.now(),
    )  # fmt: skip
    writer.touch_for(message, unread=True)

    chat.refresh_from_db()
    assert (chat.snoozed_until_reply, chat.unread) == (False, True)
    assert names_in(ann_client.get(reverse("inbox")).content.decode()) == ["Maria", "Zed"]
    assert other.pk  # still there
    assert names_in(ann_client.get(reverse("inbox") + "?folder=snoozed").content.decode()) == []


def test_a_timed_snooze_is_in_snoozed_until_due(ann_client, chat, agent_ann):
    conversations.snooze(chat, timezone.now() + timedelta(hours=1), by=agent_ann)
    assert list(conversations.in_folder("snoozed", agent_ann)) == [chat]

    Conversation.objects.filter(pk=chat.pk).update(snoozed_until=timezone.now())
    assert list(conversations.in_folder("snoozed", agent_ann)) == []
    assert list(conversations.in_folder("all", agent_ann)) == [chat]


def test_unread_counts_cover_the_new_folders(chat, agent_ann):
    Conversation.objects.filter(pk=chat.pk).update(unread=True, snoozed_until_reply=True)

    counts = conversations.unread_counts(agent_ann)

    assert (counts["all"], counts["snoozed"], counts["scheduled"]) == (0, 1, 0)


# --- The side panel's contact edit ------------------------------------------------------------


def test_a_number_that_just_texted_in_can_be_named_and_tagged_from_the_panel(ann_client, db):
    conversation = converse("+447911000077", said_in("Hi, who is this?"))
    assert conversation.contact.full_name == ""
    assert "Add a name and tags" in page(ann_client, conversation)

    response = ann_client.post(
        reverse("inbox-contact-edit", args=[conversation.pk]),
        {"first_name": " Jo ", "last_name": "Bloggs", "tags": "VIP, north"},
        headers=HTMX,
    )

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == thread_url(conversation)
    contact = Contact.objects.get(pk=conversation.contact_id)
    assert contact.full_name == "Jo Bloggs"
    assert sorted(tag.name for tag in contact.tags.all()) == ["VIP", "north"]
    assert contact.sync_version > 0  # through the contacts writer: pushed to TxtSync
    html = page(ann_client, conversation)
    assert "Saved Jo Bloggs." in html
    assert lines(html) == ["Ann Lee edited the contact"]
    assert 'value="VIP, north"' in html or 'value="north, VIP"' in html


def test_invalid_input_comes_back_with_its_errors_and_changes_nothing(ann_client, chat):
    response = ann_client.post(
        reverse("inbox-contact-edit", args=[chat.pk]),
        {"first_name": "<script>x</script>", "last_name": "", "tags": "x" * 200},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="inbox-contact-edit" open' in html
    assert "Tag names can be at most" in html
    assert 'value="&lt;script&gt;x&lt;/script&gt;"' in html
    assert "<script>x" not in html
    assert Contact.objects.get(pk=chat.contact_id).first_name == "Maria"


def test_a_name_is_escaped_wherever_the_thread_shows_it(ann_client, chat):
    ann_client.post(
        reverse("inbox-contact-edit", args=[chat.pk]),
        {"first_name": "<img src=x onerror=alert(1)>", "last_name": "", "tags": ""},
    )

    html = page(ann_client, chat)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_nothing_changed_saves_nothing(ann_client, chat):
    version = chat.contact.sync_version
    ann_client.post(
        reverse("inbox-contact-edit", args=[chat.pk]),
        {"first_name": "Maria", "last_name": "", "tags": ""},
    )

    assert not Activity.objects.exists()
    assert Contact.objects.get(pk=chat.contact_id).sync_version == version


def test_the_panel_edit_needs_a_login(client, chat):
    response = client.post(reverse("inbox-contact-edit", args=[chat.pk]), {"first_name": "X"})

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert Contact.objects.get(pk=chat.contact_id).first_name == "Maria"


# --- Send later in the thread -----------------------------------------------------------------


def schedule(client, conversation, **data):
    return client.post(
        reverse("inbox-schedule", args=[conversation.pk]),
        {"body": "Your order ships tomorrow", **data},
        headers=HTMX,
    )


def test_a_reply_scheduled_from_the_composer_shows_as_scheduled_with_its_time(ann_client, chat):
    response = schedule(ann_client, chat, later="1h")

    html = response.content.decode()
    assert response.status_code == 200
    message = Message.objects.get(send_state=SendState.SCHEDULED)
    assert message.scheduled_for > timezone.now() + timedelta(minutes=58)
    assert re.search(r'data-state="scheduled">.*?Your order ships tomorrow.*?Scheduled for', html,
                     re.S)  # fmt: skip
    assert "Scheduled for" in html and 'role="status"' in html
    assert f'action="{reverse("inbox-scheduled-cancel", args=[chat.pk, message.pk])}' in html
    scheduled = ann_client.get(reverse("inbox") + "?folder=scheduled").content.decode()
    assert names_in(scheduled) == ["Maria"]


def test_a_chosen_time_is_read_in_the_users_time_zone(ann_client, chat, settings):
    settings.TIME_ZONE = "Europe/Rome"  # the user's: 09:00 typed is 09:00 in Rome
    with timezone.override("Europe/Rome"):
        local = timezone.localtime(timezone.now() + timedelta(days=2)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
    schedule(ann_client, chat, later="at", send_at=local.strftime("%Y-%m-%dT%H:%M"))

    scheduled_for = Message.objects.get(send_state=SendState.SCHEDULED).scheduled_for
    assert scheduled_for == local
    assert timezone.localtime(scheduled_for, local.tzinfo).hour == 9


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"later": "at", "send_at": ""}, "Choose when to send it."),
        ({"later": "at", "send_at": "2020-01-01T09:00"}, "at least a minute from now"),
        ({"later": "at", "send_at": "not a time"}, "Enter a valid date/time."),
    ],
)
def test_a_missing_or_past_time_is_shown_and_nothing_is_stored(ann_client, chat, data, error):
    response = schedule(ann_client, chat, **data)

    html = response.content.decode()
    assert error in html
    assert '<details class="inbox-later" open>' in html
    assert "Your order ships tomorrow" in html  # kept, to correct
    assert not Message.objects.filter(direction=0).exists()


def test_an_opted_out_contact_cannot_be_scheduled_a_reply_from_the_page(ann_client, chat):
    contacts.set_allow_sms(chat.contact, False, source=OptOutSource.AGENT)

    response = schedule(ann_client, chat, later="tomorrow")

    assert "opted out" in response.content.decode()
    assert not Message.objects.filter(direction=0).exists()


def test_a_scheduled_reply_is_edited_and_cancelled_from_the_thread(ann_client, chat, agent_ann):
    message = send_later.schedule(
        chat, agent_ann, "Ships tomorrow", timezone.now() + timedelta(hours=2)
    )
    new_time = timezone.localtime(timezone.now() + timedelta(hours=5)).replace(
        second=0, microsecond=0
    )

    edited = ann_client.post(
        reverse("inbox-scheduled-edit", args=[chat.pk, message.pk]),
        {"body": "Ships on Friday", "send_at": new_time.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    message.refresh_from_db()
    assert (message.body, message.scheduled_for) == ("Ships on Friday", new_time)
    assert "Scheduled message saved" in edited.content.decode()

    cancelled = ann_client.post(
        reverse("inbox-scheduled-cancel", args=[chat.pk, message.pk]), follow=True
    )
    html = cancelled.content.decode()
    assert state_of(message) == SendState.CANCELLED
    assert "Scheduled message cancelled: it will not be sent." in html
    assert lines(html)[-1].startswith("Ann Lee cancelled a scheduled message (")
    assert 'data-state="scheduled"' not in html

    again = ann_client.post(
        reverse("inbox-scheduled-cancel", args=[chat.pk, message.pk]), follow=True
    )
    assert "no longer scheduled" in again.content.decode()


def test_a_scheduled_reply_goes_last_and_the_list_preview_stays_on_what_was_said(
    ann_client, chat, agent_ann
):
    send_later.schedule(chat, agent_ann, "Ships tomorrow", timezone.now() + timedelta(hours=2))

    listing = ann_client.get(reverse("inbox")).content.decode()
    assert "Hello, is my order ready?" in listing
    assert "Ships tomorrow" not in listing


def state_of(message: Message) -> str:
    message.refresh_from_db()
    return message.send_state


def test_closing_and_reopening_through_the_api_say_who_did_it(client, chat, agent_ann):
    client.force_login(agent_ann)
    url = f"/api/conversations/{chat.pk}/"

    assert client.post(f"{url}close/").status_code == 200
    assert client.post(f"{url}reopen/").status_code == 200

    assert list(Activity.objects.order_by("pk").values_list("kind", "actor")) == [
        (ActivityKind.CLOSED, agent_ann.pk),
        (ActivityKind.REOPENED, agent_ann.pk),
    ]
