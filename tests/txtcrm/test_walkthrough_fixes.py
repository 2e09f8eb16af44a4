"""Issue 14, item 7: what the walk-through found, each fixed and kept fixed (the page
tests here; the browser ones in tests/txtcrm/test_walkthrough_browser.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from messaging.models import Direction, Message, SendState
from tests.support.inbox import converse, said_in

ANN_NUMBER = "+447911123456"


@pytest.fixture
def ann_client(client, agent_ann):
    client.force_login(agent_ann)
    return client


# --- The contact page's "Conversation" link -----------------------------------------------


def test_the_contact_link_opens_their_conversation(ann_client):
    conversation = converse(ANN_NUMBER, said_in("Hi"))
    response = ann_client.get(reverse("inbox") + f"?contact={conversation.contact.pk}")
    assert response.status_code == 302
    assert response.url == reverse("inbox-thread", args=[conversation.pk])


def test_the_contact_link_without_a_conversation_prefills_a_new_one(ann_client):
    contact = Contact.objects.create(mobile_number=ANN_NUMBER, first_name="Ann")
    response = ann_client.get(reverse("inbox") + f"?contact={contact.pk}", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("inbox-new"))
    assert f'value="{ANN_NUMBER}"' in response.content.decode()


def test_the_contact_link_to_nobody_is_not_found(ann_client, db):
    assert ann_client.get(reverse("inbox") + "?contact=999").status_code == 404
    assert ann_client.get(reverse("inbox") + "?contact=x").status_code == 404


# --- The thread's contact panel -----------------------------------------------------------


def panel(html: str) -> str:
    return html.split('class="inbox-contact"')[1].split("</aside>")[0]


def test_the_contact_panel_counts_our_own_texts_at_once(ann_client):
    conversation = converse(ANN_NUMBER, said_in("Hi", 10), said_in("Anyone?", 5))
    Message.objects.create(
        direction=Direction.OUTBOUND, conversation=conversation, contact=conversation.contact,
        from_number="txtcrm", to_number=ANN_NUMBER, body="Yes!", send_state=SendState.SENT,
        message_date=timezone.now(), sent_at=timezone.now(),
    )  # fmt: skip
    Message.objects.create(
        direction=Direction.OUTBOUND, conversation=conversation, contact=conversation.contact,
        from_number="txtcrm", to_number=ANN_NUMBER, body="Still queued",
        send_state=SendState.QUEUED,
    )  # fmt: skip
    assert conversation.contact.total_inbound_sms == 0  # TxtSync's counters: not yet re-read

    html = panel(ann_client.get(reverse("inbox-thread", args=[conversation.pk])).content.decode())

    assert "<dd>2 / 1</dd>" in html
    assert "never" not in html


def test_the_contact_panel_keeps_txtsyncs_larger_counts(ann_client):
    conversation = converse(ANN_NUMBER, said_in("Hi"))
    Contact.objects.filter(pk=conversation.contact.pk).update(
        total_inbound_sms=40, total_outbound_sms=12, total_failed_sms=1
    )
    html = panel(ann_client.get(reverse("inbox-thread", args=[conversation.pk])).content.decode())
    assert "<dd>40 / 12 <span" in html and "1 failed" in html


# --- The sandbox console ------------------------------------------------------------------


def test_the_sandbox_console_keeps_what_was_typed_when_the_number_is_refused(admin_client):
    console = reverse("sandbox:console")
    typed = {"action": "inbound", "from": "12", "to": "+447860000000", "message": "Hi <b>there"}

    response = admin_client.post(console, typed)

    html = response.content.decode()
    assert response.status_code == 400 and "From is not a valid phone number" in html
    assert 'name="from" placeholder="+447911123456" required value="12"' in html
    assert 'value="+447860000000"' in html
    assert ">Hi &lt;b&gt;there</textarea>" in html  # kept, and still escaped


# --- People by name -----------------------------------------------------------------------


def test_assignees_are_shown_and_chosen_by_name(ann_client, agent_ann, agent_bob):
    agent_bob.first_name, agent_bob.last_name = "Bob", "Rossi"
    agent_bob.save()
    conversation = converse(ANN_NUMBER, said_in("Hi"), assignee=agent_bob)

    html = ann_client.get(reverse("inbox-thread", args=[conversation.pk])).content.decode()
    assert f'<option value="{agent_bob.pk}" selected>Bob Rossi</option>' in html
    assert f'<option value="{agent_ann.pk}">ann (me)</option>' in html  # no name: username
    assert '<span class="inbox-row-assignee">Bob Rossi</span>' in html
    assert "Assigned to Bob Rossi" in html

    response = ann_client.post(
        reverse("inbox-assign", args=[conversation.pk]), {"assignee": agent_bob.pk}, follow=True
    )
    assert "Assigned to Bob Rossi." in response.content.decode()


# --- The start page -----------------------------------------------------------------------


def test_an_agents_start_page_offers_only_what_they_may_open(ann_client):
    html = ann_client.get(reverse("home")).content.decode()
    main = html.split("<main>")[1]

    for page in ("inbox", "contacts"):
        assert f'href="{reverse(page)}"' in main
    for page in ("campaigns", "settings", "users", "txtsync-settings", "sandbox:console"):
        assert f'href="{reverse(page)}"' not in html, page
    assert "Nothing here yet" not in html
    for name in ("campaigns", "settings"):  # and agents may indeed not open them
        assert ann_client.get(reverse(name)).status_code == 403


def test_the_first_run_page_says_what_to_do_first(admin_client, settings):
    settings.SANDBOX_ENABLED = True
    html = admin_client.get(reverse("home")).content.decode()
    steps = html.split('id="home-start"')[1]
    assert f'href="{reverse("sandbox:console")}"' in steps and "<code>make run</code>" in steps
    assert f'href="{reverse("txtsync-settings")}"' in steps  # production: subscribe webhooks
    assert f'href="{reverse("contacts-import")}"' in steps
    assert f'href="{reverse("campaigns")}"' in html

    settings.SANDBOX_ENABLED = False
    html = admin_client.get(reverse("home")).content.decode()
    assert "sandbox console" not in html


@pytest.mark.parametrize("sandbox", [True, False])
def test_the_empty_inbox_says_how_a_first_text_arrives(admin_client, settings, sandbox):
    settings.SANDBOX_ENABLED = sandbox
    html = admin_client.get(reverse("inbox")).content.decode()
    help_text = html.split('class="inbox-first-text"')[1].split("</div>")[0]
    if sandbox:
        assert f'href="{reverse("sandbox:console")}"' in help_text
    else:
        assert f'href="{reverse("txtsync-settings")}"' in help_text
    assert f'href="{reverse("inbox-new")}"' in help_text

    searched = admin_client.get(reverse("inbox") + "?q=nobody").content.decode()
    assert "inbox-first-text" not in searched


# --- Smaller things -----------------------------------------------------------------------


def test_the_403_page_links_back_as_a_button(ann_client):
    html = ann_client.get(reverse("campaigns")).content.decode()
    assert f'<a class="button-link" href="{reverse("home")}">' in html


def test_the_invitation_forms_labels_have_no_colons(admin_client):
    html = admin_client.get(reverse("user-invite")).content.decode()
    assert '<label for="id_email">Email</label>' in html
    assert ":</label>" not in html
