"""Campaign rehearsal (campaigns/rehearsal.py): a draft played over real HTTP on a sandbox
stage of its own, reported, and nothing real touched."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns import rehearsal, rehearsal_hook, services
from campaigns.models import (
    Campaign,
    CampaignCall,
    CampaignStatus,
    Recipient,
    Rehearsal,
    RehearsalStatus,
)
from contacts import services as contacts
from contacts.models import Contact, OptOutEvent, OptOutSource
from messaging.models import Conversation, Message
from sandbox import models as sandbox_models
from tests.support.campaigns import campaign, customers, new_campaign, pushed

ANN, BEN, CAT = "+447911123456", "+447912345678", "+447911200001"
NEW_YORK = "+12125550123"


def ledger(txtsync) -> dict[str, int]:
    """Every call the configured TxtSync (the `default` application) was made, by operation."""
    return txtsync.get("_stats").json()["applications"]["default"]["calls"]


def rehearse(draft: Campaign, **options) -> Rehearsal:
    """Ask for a rehearsal and play it, as the task does."""
    asked = rehearsal.start(draft, options)
    rehearsal.run(asked.pk)
    asked.refresh_from_db()
    assert asked.status == RehearsalStatus.DONE, asked.error
    return asked


def no_stage_left() -> bool:
    return not sandbox_models.Account.objects.filter(rehearsal=True).exists()


# --- What it reports ---------------------------------------------------------------------------


def test_merge_fields_exclusions_and_calls_are_those_of_a_launch(stage):
    numbers = customers(3)
    contacts.set_allow_sms(
        Contact.objects.get(mobile_number=numbers[2]), False, source=OptOutSource.AGENT
    )
    draft = new_campaign([*numbers, "12345"])

    report = rehearse(draft, failure_rate=0, reply_rate=0, opt_out_rate=0).report

    assert report["recipients"] == 2
    assert report["excluded"] == {"opted out": 1, "invalid number": 1}
    assert report["samples"]["texts"] == [
        {"who": "Person4", "text": "Hi Person4, code C0004"},
        {"who": "Person5", "text": "Hi Person5, code C0005"},
    ]
    assert report["calls"] | {"errors": None} == {
        "planned": 2, "made": 2, "refused": 0, "one_per_recipient": 2,
        "by_kind": {"single": 2}, "errors": None,
    }  # fmt: skip
    assert report["outcomes"]["delivered"] == 2
    assert report["elapsed_seconds"] >= 0


def test_a_whole_tag_audience_goes_as_one_send_by_tag_to_the_stage(stage):
    pushed(("Ann", ANN, ["VIP"]), ("Ben", BEN, ["vip", "Staff"]), ("Cat", CAT, ["Staff"]))
    draft = campaign(any_tags=["VIP"])

    report = rehearse(draft, failure_rate=0, reply_rate=0, opt_out_rate=0).report

    # The stage had the copies' tags: its send by tag reached exactly the two VIPs.
    assert report["calls"]["by_kind"] == {"bulk_tag": 1}
    assert (report["calls"]["made"], report["outcomes"]["delivered"]) == (1, 2)
    assert {s["who"] for s in report["samples"]["delivered"]} == {"Ann", "Ben"}


def test_failures_replies_and_opt_outs_follow_the_seed(stage):
    numbers = customers(40)
    draft = new_campaign([*numbers, "+447911120000"], template="Sale today")
    options = {"failure_rate": 0.2, "reply_rate": 0.3, "opt_out_rate": 0.2, "seed": 7}

    first = rehearse(draft, **options).report
    again = rehearse(draft, **options).report
    other = rehearse(draft, **{**options, "seed": 8}).report

    outcomes = first["outcomes"]
    assert outcomes == again["outcomes"] and outcomes != other["outcomes"]
    assert outcomes["failed"]["network failure"] > 1  # ...0000 always fails, and more
    assert outcomes["delivered"] + outcomes["failed_total"] == 41
    assert outcomes["replies"] > 0 and outcomes["opt_outs"] > 0
    assert {s["text"] for s in first["samples"]["opt_outs"]} == {"STOP"}
    assert first["samples"]["replies"][0]["text"] != "STOP"


def test_the_sandbox_number_rules_still_apply(stage):
    draft = new_campaign([*customers(1), "+447911120000", "+447911120003"], template="Hi")

    report = rehearse(draft, failure_rate=0, reply_rate=0, opt_out_rate=0).report

    assert report["outcomes"]["delivered"] == 1
    assert report["outcomes"]["failed"] == {
        "network failure": 1, "invalid or unknown number": 1
    }  # fmt: skip


def test_cost_is_what_the_stage_charged_next_to_the_estimate(stage):
    draft = new_campaign(customers(3), template="Sale today")

    report = rehearse(draft).report

    cost = report["cost"]
    assert Decimal(cost["rehearsed"]) > 0
    assert Decimal(cost["rehearsed"]) == Decimal(cost["estimate"])
    assert cost["currency"] == "GBP"
    assert report["segments"] == {"total": 3, "min": 1, "max": 1}


def test_quiet_hours_put_later_waves_in_the_duration(stage):
    london = timezone.now().astimezone(ZoneInfo("Europe/London"))
    quiet = {
        "quiet_start": (london - timedelta(hours=1)).time().replace(second=0, microsecond=0),
        "quiet_end": (london + timedelta(hours=2)).time().replace(second=0, microsecond=0),
    }
    draft = new_campaign([ANN, NEW_YORK], template="Sale today", **quiet)

    duration = rehearse(draft).report["duration"]

    # New York is awake now; London's wave waits for the end of its quiet hours.
    assert [wave["recipients"] for wave in duration["waves"]] == [1, 1]
    assert duration["seconds"] > 3600
    assert duration["waves"][1]["at"] > duration["waves"][0]["last_call"]


# --- Nothing real, and the stage closed --------------------------------------------------------


def test_nothing_real_is_touched_and_the_stage_is_closed(stage):
    numbers = customers(5)
    draft = new_campaign(numbers)
    changed_at, before = draft.changed_at, ledger(stage)

    rehearse(draft, reply_rate=0.5, opt_out_rate=0.5)

    assert ledger(stage) == before  # not one call to the configured TxtSync
    for model in (Message, Conversation, Recipient, CampaignCall, OptOutEvent):
        assert model.objects.count() == 0, model
    assert set(Contact.objects.values_list("allow_sms", flat=True)) == {True}
    draft.refresh_from_db()
    assert (draft.status, draft.changed_at) == (CampaignStatus.DRAFT, changed_at)
    assert no_stage_left()
    assert not sandbox_models.SMS.objects.exists()


def test_the_stage_is_closed_after_an_error_too(stage, settings):
    draft = new_campaign(customers(2))
    settings.SANDBOX_REHEARSAL_URL = "http://127.0.0.1:9/sandbox/"  # nobody listens there
    asked = rehearsal.start(draft)

    rehearsal.run(asked.pk)

    asked.refresh_from_db()
    assert asked.status == RehearsalStatus.FAILED
    assert asked.error and asked.finished_at
    assert no_stage_left()


def test_a_rehearsal_runs_once(stage):
    asked = rehearsal.start(new_campaign(customers(1)))
    assert rehearsal.run(asked.pk) is not None
    assert rehearsal.run(asked.pk) is None


# --- Refusals ---------------------------------------------------------------------------------


def test_only_a_draft_is_rehearsed(db):
    launched = services.launch(new_campaign(["+447911200000"]))
    with pytest.raises(services.CampaignError, match="only a draft"):
        rehearsal.start(launched)
    assert not Rehearsal.objects.exists()


def test_without_a_stage_a_rehearsal_is_refused(db, settings):
    settings.SANDBOX_ENABLED = False
    with pytest.raises(services.CampaignError, match="sandbox"):
        rehearsal.start(new_campaign(["+447911200000"]))


def test_without_a_registered_stage_a_rehearsal_is_refused(db, monkeypatch):
    monkeypatch.setattr(rehearsal_hook, "_stage", None)
    with pytest.raises(services.CampaignError, match="sandbox"):
        rehearsal.start(new_campaign(["+447911200000"]))


def test_a_rehearsal_of_a_draft_changed_since_is_outdated(stage):
    draft = new_campaign(customers(1))
    done = rehearse(draft)
    assert not done.outdated

    services.update_draft(draft, {"template": "Changed"})

    assert Rehearsal.objects.get(pk=done.pk).outdated


def test_a_rehearsal_whose_worker_died_fails_and_its_stage_is_closed(db):
    draft = new_campaign(["+447911200010"])
    credentials = rehearsal_hook.stage().open({}, [], "GBP")
    long_ago = timezone.now() - rehearsal.RUNNING_LEASE - timedelta(minutes=1)
    stuck = Rehearsal.objects.create(
        campaign=draft, status=RehearsalStatus.RUNNING, started_at=long_ago,
        stage_key=credentials.client_key,
    )  # fmt: skip
    running = Rehearsal.objects.create(
        campaign=draft, status=RehearsalStatus.RUNNING, started_at=timezone.now()
    )

    assert rehearsal.sweep() == [stuck.pk]

    stuck.refresh_from_db()
    assert (stuck.status, bool(stuck.error)) == (RehearsalStatus.FAILED, True)
    assert Rehearsal.objects.get(pk=running.pk).status == RehearsalStatus.RUNNING
    assert no_stage_left()
