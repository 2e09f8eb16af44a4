"""Campaigns against the sandbox over real HTTP, judged by the sandbox's ledger: the calls
each plan promised, who got what, exclusions, schedule, quiet hours, pause/resume/cancel
and outcomes that must never be resent."""

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import sending, services
from campaigns.models import (
    CallState,
    Campaign,
    CampaignStatus,
    Recipient,
    RecipientState,
)
from contacts import services as contacts
from contacts.models import Contact, OptOutSource
from messaging.models import Message, SendState
from sandbox.models import SMS
from tests.support.campaigns import calls, campaign, pushed, received, run
from tests.support.fake_txtsync import FakeTxtSync, answer
from tests.support.txtsync import use_txtsync

ANN, BEN, CAT, DAN = "+447911123456", "+447912345678", "+447911200001", "+447911200002"


def opt_out(number: str) -> None:
    contact = Contact.objects.get(mobile_number=number)
    contacts.set_allow_sms(contact, False, source=OptOutSource.AGENT)


def states(campaign: Campaign) -> dict[str, tuple[str, str]]:
    return {r.number: (r.state, r.reason) for r in campaign.recipients.all()}


# --- Each plan shape uses the calls it promised ------------------------------------------------


def test_one_text_to_whole_tags_is_one_bulk_call_by_tag(txtsync):
    pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["vip", "Staff"]), ("Cat", CAT, ["Staff"]))
    sale = campaign(any_tags=["VIP", "staff"])

    preview = services.preview(sale)
    assert (preview.recipients, preview.calls, preview.naive_calls) == (3, 1, 3)
    assert preview.tag_send

    sale = run(services.launch(sale))

    assert calls(txtsync) == {"SendBulkSMS": 1}
    assert received() == {n: ["Sale starts today"] for n in (ANN, BEN, CAT)}
    assert (sale.status, sale.planned_calls, sale.used_calls) == ("finished", 1, 1)
    assert {s for s, _ in states(sale).values()} == {RecipientState.SENT}


def test_one_text_to_chosen_numbers_is_bulk_calls_of_at_most_1000(txtsync):
    numbers = [f"+4479112{n:05d}" for n in range(1001)]
    sale = run(services.launch(campaign(numbers=numbers)))

    assert calls(txtsync) == {"SendBulkSMS": 1, "SendSMS": 1}
    assert sorted(received()) == sorted(numbers)
    assert (sale.planned_calls, sale.used_calls) == (2, 2)
    in_inbox = Message.objects.filter(to_number__in=numbers, send_state=SendState.SENT)
    assert in_inbox.count() == 1001  # every recipient's message is in their conversation


def test_personalised_texts_share_calls_where_the_text_is_the_same(txtsync):
    pushed(("Ann", ANN, ["Club"]), ("", BEN, ["Club"]), ("", CAT, ["Club"]),
           ("Dan", DAN, ["Club"]))  # fmt: skip
    sale = campaign("Hi {FirstName|there}, sale today", any_tags=["Club"])

    assert services.preview(sale).calls == 3  # Ann, Dan alone; Ben and Cat share "there"
    run(services.launch(sale))

    assert calls(txtsync) == {"SendSMS": 2, "SendBulkSMS": 1}
    assert received() == {
        ANN: ["Hi Ann, sale today"],
        BEN: ["Hi there, sale today"],
        CAT: ["Hi there, sale today"],
        DAN: ["Hi Dan, sale today"],
    }


def test_a_tag_with_unpushed_changes_is_sent_by_numbers_not_by_tag(txtsync):
    ann, _ = pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["VIP"]))
    contacts.update_contact(ann, {"last_name": "Smith"})  # not yet in TxtSync

    run(services.launch(campaign(any_tags=["VIP"])))

    assert calls(txtsync) == {"SendBulkSMS": 1}
    assert SMS.objects.filter(campaign__isnull=False).count() == 2


# --- Exclusions -----------------------------------------------------------------------------


def test_opted_out_excluded_invalid_and_duplicate_recipients_are_skipped_with_reasons(txtsync):
    pushed(("Ann", ANN, ["Club"]), ("Ben", BEN, ["Club", "Staff"]), ("Cat", CAT, ["Club"]))
    opt_out(CAT)
    typed = ["07911 123456", "12", "+447911200003", "07911 200003"]  # Ann again, bad, twice
    sale = campaign(any_tags=["Club"], excluded_tags=["staff"], numbers=typed)

    preview = services.preview(sale)
    assert preview.recipients == 2
    assert preview.excluded == {"opted out": 1, "excluded tag": 1, "invalid number": 1,
                                "duplicate": 1}  # fmt: skip
    sale = run(services.launch(sale))

    assert received() == {ANN: ["Sale starts today"], "+447911200003": ["Sale starts today"]}
    skipped = sale.recipients.filter(state=RecipientState.SKIPPED)
    assert sorted(skipped.values_list("reason", flat=True)) == [
        "duplicate", "excluded tag", "invalid number", "opted out"
    ]  # fmt: skip


def test_a_recipient_whose_text_renders_empty_is_skipped_not_sent_blank(txtsync):
    pushed(("", ANN, []), ("Ben", BEN, []))

    sale = run(services.launch(campaign("{FirstName}", numbers=[ANN, BEN])))

    assert received() == {BEN: ["Ben"]}
    assert states(sale)[ANN] == (RecipientState.SKIPPED, "empty message")


def test_a_contact_who_opts_out_after_launch_is_not_sent_to(txtsync):
    pushed(("Ann", ANN, []), ("Ben", BEN, []))
    sale = services.launch(campaign(numbers=[ANN, BEN]))
    opt_out(BEN)

    sale = run(sale)

    assert received() == {ANN: ["Sale starts today"]}
    assert states(sale)[BEN] == (RecipientState.SKIPPED, "opted out")


# --- Schedule and quiet hours --------------------------------------------------------------


def test_a_scheduled_campaign_waits_for_its_time(txtsync):
    later = timezone.now() + timedelta(hours=2)
    sale = campaign(numbers=[ANN])
    sale.scheduled_at = later
    sale.save()

    sale = run(services.launch(sale))
    assert sale.status == CampaignStatus.SCHEDULED and not received()

    assert services.start_due(now=later) == [sale.pk]
    assert run(sale, now=later).status == CampaignStatus.FINISHED
    assert received() == {ANN: ["Sale starts today"]}


def test_quiet_hours_hold_each_recipient_until_their_morning(txtsync, settings):
    new_york = "+12125550123"
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # noon in London, 07:00 in New York
    sale = campaign(numbers=[ANN, new_york])
    sale.quiet_start, sale.quiet_end = time(21), time(8)
    sale.save()

    sale = services.launch(sale, now=start)
    run(sale, now=start)
    assert received() == {ANN: ["Sale starts today"]}

    eight_in_new_york = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert run(sale, now=eight_in_new_york).status == CampaignStatus.FINISHED
    assert set(received()) == {ANN, new_york}


# --- Pause, resume, cancel -----------------------------------------------------------------


def test_pause_stops_sending_and_resume_carries_on(txtsync):
    pushed(("Ann", ANN, []), ("Ben", BEN, []))
    sale = services.launch(campaign("Hi {FirstName}", numbers=[ANN, BEN]))

    services.pause(sale)
    assert sending.send_next(sale.pk).sent is False
    assert not received()

    services.resume(sale)
    assert run(sale).status == CampaignStatus.FINISHED
    assert received() == {ANN: ["Hi Ann"], BEN: ["Hi Ben"]}


def test_cancel_stops_what_has_not_been_sent(txtsync):
    pushed(("Ann", ANN, []), ("Ben", BEN, []))
    sale = services.launch(campaign("Hi {FirstName}", numbers=[ANN, BEN]))
    assert sending.send_next(sale.pk).sent

    services.cancel(sale)

    assert sending.send_next(sale.pk).sent is False
    assert received() == {ANN: ["Hi Ann"]}
    assert states(sale)[BEN] == (RecipientState.SKIPPED, "cancelled")
    assert sale.calls.filter(state=CallState.CANCELLED).count() == 1


def test_only_a_draft_with_a_known_template_and_someone_to_send_to_launches(txtsync):
    with pytest.raises(services.CampaignError, match=r"Unknown merge fields: \{Nmae\}"):
        services.launch(campaign("Hi {Nmae}", numbers=[ANN]))
    with pytest.raises(services.CampaignError, match="no recipient"):
        services.launch(campaign(numbers=[]))
    sale = services.launch(campaign(numbers=[ANN]))
    with pytest.raises(services.CampaignError, match="only a draft"):
        services.launch(sale)


# --- Outcomes that must never be resent ----------------------------------------------------


def test_a_call_whose_worker_died_becomes_unknown_and_is_never_resent(txtsync):
    sale = services.launch(campaign(numbers=[ANN]))
    call = sale.calls.get()
    assert sending._claim(call)  # claimed, then the worker died before settling it

    later = timezone.now() + timedelta(minutes=10)
    assert sending.sweep(now=later) == 1

    assert states(sale)[ANN][0] == RecipientState.UNKNOWN
    assert run(sale).status == CampaignStatus.FINISHED
    assert not received()  # listed for a person; never sent automatically
    assert Recipient.objects.get().message.send_state == SendState.UNKNOWN


def test_a_single_send_accepted_without_an_sms_record_ends_sent_not_unknown(settings, db):
    """The contract promises SendSMS only "200 with an array"; a 204 is accepted all the same."""
    server = FakeTxtSync()
    server.behaviour = answer(204)
    use_txtsync(settings, server.url, "tsk_campaign_204", "secret")
    try:
        sale = run(services.launch(campaign(numbers=[ANN])))
    finally:
        server.close()

    assert [r.path for r in server.requests] == ["/api/sms/send"]
    assert sale.status == CampaignStatus.FINISHED
    assert sale.calls.get().state == CallState.DONE
    assert states(sale) == {ANN: (RecipientState.SENT, "")}
    message = Recipient.objects.get().message
    assert (message.send_state, message.sms_id) == (SendState.SENT, None)


# --- The report ----------------------------------------------------------------------------


def test_the_report_counts_sends_deliveries_replies_skips_cost_and_calls(txtsync, client):
    from campaigns import reports
    from messaging import inbound
    from messaging.models import WebhookEndpoint
    from sandbox.messaging import advance_network
    from sandbox.webhooks import payload

    pushed(("Ann", ANN, ["Club"]), ("Ben", BEN, ["Club"]), ("Cat", CAT, ["Club"]))
    opt_out(CAT)
    sale = run(services.launch(campaign("Hi {FirstName}", any_tags=["Club"])))
    for minutes in (1, 2):
        advance_network(now=timezone.now() + timedelta(minutes=minutes))
    reply = txtsync.post("_simulate/inbound", json={"From": ANN, "Message": "Yes please"})
    token = WebhookEndpoint.objects.create(connection="test").token
    sms = SMS.objects.get(pk=reply.json()[0]["SMSID"])
    inbound.receive(token, "inbound", json.dumps(payload(sms)).encode())
    inbound.apply_pending()

    summary = reports.summary(sale)

    assert (summary.recipients, summary.sent, summary.delivered) == (2, 2, 1)
    assert summary.skipped == {"opted out": 1}
    assert (summary.replies, summary.opt_outs, summary.progress) == (1, 0, 100)
    assert summary.cost == Decimal("0.0700")  # 2 x 1 segment to +44 at 0.035
    assert (summary.planned_calls, summary.used_calls) == (2, 2)
    timeline = reports.timeline(sale)
    assert (sum(d for _, d, _ in timeline), sum(r for _, _, r in timeline)) == (1, 1)
    assert reports.headlines([sale])[sale.pk]["sent"] == 2
