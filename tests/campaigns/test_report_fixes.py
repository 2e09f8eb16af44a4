"""Issue 14, item 7, in the campaign pages: the list and the report count "Failed" alike,
failures are worded (not TxtSync's numbers), a STOP is no reply, a scheduled campaign is
not "Launched", and the saving in API calls is said right."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone, translation

from campaigns import reports, services
from campaigns.models import Campaign, RecipientState
from contacts import services as contacts
from messaging import keywords
from messaging.delivery_errors import not_delivered_reason
from messaging.models import Direction, Message

ANN, BEN, CAT = "+447911123456", "+447912345678", "+447911200001"


def person(first, number):
    return contacts.create_contact({"first_name": first, "mobile_number": number})


def launched(numbers):
    campaign = Campaign.objects.create(
        name="Spring sale", sender="txtcrm", template="Hi {FirstName|there}",
        audience={"numbers": numbers},
    )  # fmt: skip
    return services.launch(campaign)


def sent(campaign, contact, status=1, error_code=None, at=None):
    at = at or timezone.now() - timedelta(hours=2)
    message = Message.objects.create(
        direction=Direction.OUTBOUND, contact=contact, from_number="txtcrm",
        to_number=contact.mobile_number, body="Hi", status=status, error_code=error_code,
    )  # fmt: skip
    campaign.recipients.filter(number=contact.mobile_number).update(
        state=RecipientState.SENT, sent_at=at, message=message
    )
    return at


def texted(contact, body, at):
    Message.objects.create(
        direction=Direction.INBOUND, contact=contact, from_number=contact.mobile_number,
        to_number="txtcrm", body=body, message_date=at,
    )  # fmt: skip


def test_the_list_and_the_report_say_the_same_failed(admin_client):
    ann, ben, _cat = person("Ann", ANN), person("Ben", BEN), person("Cat", CAT)
    sale = launched([ANN, BEN, CAT])
    sent(sale, ann, status=3, error_code=3)  # accepted, then not delivered
    sale.recipients.filter(number=BEN).update(state=RecipientState.FAILED, reason="refused")
    del ben

    listed = admin_client.get(reverse("campaigns")).context["rows"][0][1]
    report = admin_client.get(reverse("campaign", args=[sale.pk])).context

    assert listed["failed_total"] == report["summary"].failed_total == 2
    assert report["summary"].done == 2  # Ann sent (and failed), Ben refused: not counted twice
    html = admin_client.get(reverse("campaigns")).content.decode()
    assert '<td class="campaigns-num error">2</td>' in html


def test_failures_are_worded_in_the_readers_language(admin_client):
    ann, ben = person("Ann", ANN), person("Ben", BEN)
    sale = launched([ANN, BEN])
    sent(sale, ann, status=3, error_code=1)
    sent(sale, ben, status=3, error_code=42)

    html = admin_client.get(reverse("campaign", args=[sale.pk])).content.decode()
    assert "not delivered: the number is invalid or unknown" in html
    assert "not delivered (TxtSync code 42)" in html
    assert "error 1" not in html

    with translation.override("it"):
        assert not_delivered_reason(1) == "non consegnato: il numero non è valido o è sconosciuto"
        assert not_delivered_reason(42) == "non consegnato (codice TxtSync 42)"
        assert not_delivered_reason(None) == "non consegnato"


def test_the_thread_words_a_failed_delivery(client, agent_ann):
    from tests.support.inbox import converse, said_in

    conversation = converse(ANN, said_in("Hi"))
    Message.objects.create(
        direction=Direction.OUTBOUND, conversation=conversation, contact=conversation.contact,
        from_number="txtcrm", to_number=ANN, body="Hello", status=3, error_code=3,
        sent_at=timezone.now(),
    )  # fmt: skip
    client.force_login(agent_ann)
    html = client.get(reverse("inbox-thread", args=[conversation.pk])).content.decode()
    assert "Not delivered: a network failure" in html
    assert "error code" not in html


def test_stop_and_start_are_not_replies(admin_client):
    ann, ben, cat = person("Ann", ANN), person("Ben", BEN), person("Cat", CAT)
    sale = launched([ANN, BEN, CAT])
    for contact, body in ((ann, "Yes please, tomorrow"), (ben, " stop! "), (cat, "START.")):
        at = sent(sale, contact)
        texted(contact, body, at + timedelta(minutes=5))
    Campaign.objects.filter(pk=sale.pk).update(launched_at=at - timedelta(minutes=1))
    sale.refresh_from_db()
    assert keywords.is_keyword(" stop! ") and keywords.is_keyword("START.")
    assert not keywords.is_keyword("Yes please, tomorrow") and not keywords.is_keyword("ST.OP")

    assert reports.summary(sale).replies == 1
    assert sum(replies for _hour, _d, replies in reports.timeline(sale)) == 1


def test_the_plan_mentions_a_saving_only_when_there_is_one(admin_client):
    person("Ann", ANN)
    one = Campaign.objects.create(
        name="One", sender="txtcrm", template="Hi", audience={"numbers": [ANN]}
    )
    html = admin_client.get(reverse("campaign", args=[one.pk])).content.decode()
    assert "1 API call" in html and "instead of" not in html

    many = Campaign.objects.create(
        name="Many", sender="txtcrm", template="Hi", audience={"numbers": [ANN, BEN, CAT]}
    )
    html = admin_client.get(reverse("campaign", args=[many.pk])).content.decode()
    assert "1 API call" in html and "instead of 3 (one per recipient)" in html


def test_a_scheduled_campaign_says_when_it_starts_not_launched(admin_client):
    person("Ann", ANN)
    start = timezone.now() + timedelta(days=2)
    campaign = Campaign.objects.create(
        name="Later", sender="txtcrm", template="Hi", audience={"numbers": [ANN]},
        scheduled_at=start,
    )  # fmt: skip
    campaign = services.launch(campaign)
    assert campaign.status == "scheduled"

    html = admin_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert "<dt>Scheduled for</dt>" in html and "<dt>Launched</dt>" not in html

    response = admin_client.get(reverse("campaign-launch", args=[campaign.pk]), follow=True)
    assert "This campaign is scheduled already, for" in response.content.decode()


def test_the_csv_does_not_call_a_stop_a_reply_either(admin_client):
    ann, ben = person("Ann", ANN), person("Ben", BEN)
    sale = launched([ANN, BEN])
    for contact, body in ((ann, "Thanks!"), (ben, "STOP")):
        texted(contact, body, sent(sale, contact) + timedelta(minutes=5))

    response = admin_client.get(reverse("campaign-recipients-csv", args=[sale.pk]))

    rows = b"".join(response.streaming_content).decode().splitlines()
    replied = {row.split(",")[0]: row.split(",")[-1] for row in rows[1:]}
    assert replied == {ANN: "yes", BEN: "no"}
