"""Campaign rehearsal: play a draft on a stage of its own before sending it for real
(docs/campaigns.md, "Rehearsal").

The same preparation as a launch (services.prepare: audience, exclusions, merge fields,
quiet-hours waves, the fewest-call plan), then a copy of the recipients' contacts on an
isolated stage (campaigns/rehearsal_hook.py: the built-in sandbox, an account of its own),
every planned call made for real over HTTP to that stage with txtsync's client, and the
stage's simulated outcomes (deliveries, failures, replies, STOPs) read back into a report.

Nothing real is touched: no message, conversation, contact, recipient or campaign-call
row, no change to the campaign, no call to the configured TxtSync and no call budget.
The stage is closed at the end, also when the rehearsal fails.
"""

import logging
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from campaigns import rehearsal_hook, services
from campaigns.models import Campaign, Rehearsal, RehearsalStatus
from campaigns.planning import Plan
from campaigns.rehearsal_hook import StageContact, StageCredentials, StageOutcomes
from contacts.models import Contact
from txtsync import AuthenticationError, ConnectionFailed, TxtSyncClient, TxtSyncError, pricing

log = logging.getLogger(__name__)

# The simulation's options and their defaults, shown on the form.
OPTIONS = {"failure_rate": 0.02, "reply_rate": 0.05, "opt_out_rate": 0.01, "seed": 1}
SAMPLES = 5
# A contact's fields the stage gets, named as TxtSync's (and the sandbox's) contact fields.
COPIED_FIELDS = ("first_name", "last_name", "mobile_number", "company_name", "email_address",
                 "address_line1", "address_line2", "city", "county", "postcode", "country",
                 "custom01", "custom02", "custom03", "custom04", "custom05", "allow_sms",
                 "external_reference")  # fmt: skip
CHUNK = 2000
# The stage's network settles, answers and opts out within the send itself: a send by tag
# to 100,000 contacts is one long request, not a slow or lost one.
STAGE_READ_TIMEOUT = 600
# Longer than any rehearsal runs (100,000 personalised texts: ~100,000 calls to the stage).
RUNNING_LEASE = timedelta(hours=6)


# --- Asking for one ---------------------------------------------------------------------------

RATES = ("failure_rate", "reply_rate", "opt_out_rate")
MAX_SEED = 2**31 - 1


def options_problem(options: dict) -> str | None:
    """Why the simulation's options cannot be played (each rate 0-1 is the form's and the
    serializer's own check); None when they can."""
    if options.get("reply_rate", 0) + options.get("opt_out_rate", 0) > 1:
        return gettext("The reply and opt-out rates together cannot exceed 100%.")
    return None


def start(campaign: Campaign, options: dict | None = None, created_by=None) -> Rehearsal:
    """A queued rehearsal of the draft, run by the `campaigns.rehearse` task. CampaignError
    when the campaign is no draft, cannot be launched as it is, or there is no stage."""
    services.check_launchable(campaign)
    try:
        rehearsal_hook.stage()
    except rehearsal_hook.StageUnavailable as missing:
        raise services.CampaignError(str(missing)) from missing
    rehearsal = Rehearsal.objects.create(
        campaign=campaign, created_by=created_by, options={**OPTIONS, **(options or {})}
    )
    transaction.on_commit(lambda: _kick(rehearsal.pk))
    return rehearsal


def _kick(rehearsal_id: int) -> None:
    from campaigns.tasks import rehearse  # tasks import this module

    rehearse.delay(rehearsal_id)


# --- Running it -------------------------------------------------------------------------------


def run(rehearsal_id: int) -> Rehearsal | None:
    """Play a queued rehearsal from start to end; None if another run has it already."""
    claimed = Rehearsal.objects.filter(pk=rehearsal_id, status=RehearsalStatus.QUEUED).update(
        status=RehearsalStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    rehearsal = Rehearsal.objects.select_related("campaign").get(pk=rehearsal_id)
    began = time.monotonic()
    credentials: StageCredentials | None = None
    try:
        stage = rehearsal_hook.stage()
        campaign = rehearsal.campaign
        rehearsal.campaign_changed_at = campaign.changed_at
        services.check_launchable(campaign)  # still a draft, and still sendable as it is
        now = timezone.now()
        begin = max(campaign.scheduled_at or now, now)
        prepared = services.prepare(campaign, begin)
        contacts = _copies(prepared.texts)
        credentials = stage.open(rehearsal.options, contacts, settings.TXTCRM_CURRENCY)
        Rehearsal.objects.filter(pk=rehearsal.pk).update(stage_key=credentials.client_key)
        calls = _play(prepared.plan, campaign.sender, credentials)
        stage.answer(credentials.client_key)
        outcomes = stage.outcomes(credentials.client_key)
        report = build_report(prepared, begin, calls, outcomes)
        rehearsal.outcomes = outcome_rows(prepared, outcomes)
    except (services.CampaignError, rehearsal_hook.StageUnavailable, TxtSyncError) as refused:
        _finish(rehearsal, RehearsalStatus.FAILED, error=str(refused))
    except Exception as error:
        log.exception("rehearsal %s failed", rehearsal_id)
        _finish(rehearsal, RehearsalStatus.FAILED, error=f"{type(error).__name__}: {error}")
    else:
        report["elapsed_seconds"] = round(time.monotonic() - began, 2)
        _finish(rehearsal, RehearsalStatus.DONE, report=report)
    finally:
        if credentials is not None:
            _close_stage(credentials.client_key)
    return rehearsal


def _close_stage(client_key: str) -> None:
    try:
        rehearsal_hook.stage().close(client_key)
    except Exception:  # the report stands; a stage left behind is only clutter
        log.exception("could not close the rehearsal stage %s", client_key)


def sweep(now: datetime | None = None) -> list[int]:
    """Rehearsals running for longer than RUNNING_LEASE (their worker died: a task is
    acknowledged early and never redelivered) fail, and their stage is closed."""
    now = now or timezone.now()
    stuck = Rehearsal.objects.filter(
        status=RehearsalStatus.RUNNING, started_at__lt=now - RUNNING_LEASE
    )
    swept = []
    for row in stuck:
        moved = Rehearsal.objects.filter(pk=row.pk, status=RehearsalStatus.RUNNING).update(
            status=RehearsalStatus.FAILED, finished_at=now,
            error=gettext("The rehearsal stopped with its worker; rehearse again."),
        )  # fmt: skip
        if not moved:
            continue  # it finished meanwhile
        if row.stage_key:
            _close_stage(row.stage_key)
        swept.append(row.pk)
    return swept


def _finish(rehearsal: Rehearsal, status: str, *, error: str = "", report=None) -> None:
    rehearsal.status, rehearsal.error, rehearsal.report = status, error[:500], report
    rehearsal.finished_at = timezone.now()
    if report is None:
        rehearsal.outcomes = None
    rehearsal.save(
        update_fields=["status", "error", "report", "outcomes", "finished_at",
                       "campaign_changed_at"]
    )  # fmt: skip


def _copies(texts: list[services.Rendered]) -> list[StageContact]:
    """A copy of every recipient contact, with its tags (a number without a contact is
    texted as it is, as TxtSync would). The rendered contacts hold only what rendering
    reads, so the copied fields are read here, a chunk of ids at a time."""
    ids = [contact.pk for contact, _, _ in texts if contact is not None]
    tags = _tag_names(ids)
    copies = []
    for offset in range(0, len(ids), CHUNK):
        rows = Contact.objects.filter(pk__in=ids[offset : offset + CHUNK]).order_by("pk")
        for row in rows.values("pk", *COPIED_FIELDS):
            fields = {name: row[name] for name in COPIED_FIELDS}
            copies.append(StageContact(fields, tuple(tags.get(row["pk"], ()))))
    return copies


def _tag_names(ids: list[int]) -> dict[int, list[str]]:
    links = Contact.tags.through.objects
    names: dict[int, list[str]] = {}
    for offset in range(0, len(ids), CHUNK):
        chunk = links.filter(contact_id__in=ids[offset : offset + CHUNK])
        for contact_id, name in chunk.values_list("contact_id", "tag__name"):
            names.setdefault(contact_id, []).append(name)
    return names


def _play(plan: Plan, sender: str, credentials: StageCredentials) -> list[dict]:
    """Every planned call, made to the stage; a refused call is noted and the rest go on
    (as a real run would), a stage that cannot be reached or opened stops the rehearsal."""
    made = []
    with TxtSyncClient(
        credentials.base_url,
        credentials.client_key,
        credentials.client_secret,
        api_key=credentials.api_key,
        read_timeout=STAGE_READ_TIMEOUT,
    ) as client:
        for call in plan.calls:
            send = client.send_sms if call.kind == "single" else client.send_bulk_sms
            error = ""
            try:
                send(sender, **call.client_kwargs())
            except (ConnectionFailed, AuthenticationError):
                raise
            except TxtSyncError as refused:
                error = str(refused)
            made.append({"kind": call.kind, "recipients": len(call.keys), "error": error})
    return made


# --- The report -------------------------------------------------------------------------------


def build_report(
    prepared: services.Prepared, begin: datetime, calls: list[dict], outcomes: StageOutcomes
) -> dict:
    """What the rehearsal found, as JSON (campaigns.Rehearsal.report)."""
    texts, plan = prepared.texts, prepared.plan
    who = {number: services._who(contact, number) for contact, number, _ in texts}
    sent = {sms.number: sms for sms in outcomes.sent}
    estimate = pricing.estimate_total(((n, t) for _, n, t in texts), outcomes.currency)
    segments = [sms.segments for sms in outcomes.sent]
    refused = [call for call in calls if call["error"]]
    return {
        "recipients": len(texts),
        "excluded": dict(Counter(str(e.reason) for e in prepared.audience.excluded)),
        "calls": {
            "planned": plan.call_count,
            "made": len(calls) - len(refused),
            "refused": len(refused),
            "one_per_recipient": plan.naive_call_count,
            "by_kind": dict(Counter(call.kind for call in plan.calls)),
            "errors": refused[:SAMPLES],
        },
        "cost": {
            "rehearsed": str(sum((sms.cost for sms in outcomes.sent), Decimal(0))),
            "estimate": str(estimate.cost_local),
            "currency": outcomes.currency,
        },
        "segments": {
            "total": sum(segments),
            "min": min(segments, default=0),
            "max": max(segments, default=0),
        },
        "duration": schedule(prepared, begin),
        "outcomes": _outcomes(texts, sent, outcomes),
        "samples": _samples(texts, who, sent, outcomes),
    }


def schedule(prepared: services.Prepared, begin: datetime) -> dict:
    """When the real campaign's calls would go at the budget's even pacing: each wave
    (quiet hours) starts at its time or after the wave before, whichever is later."""
    wave_of = {index: n for n, (_, indexes) in enumerate(prepared.waves) for index in indexes}
    calls = Counter(wave_of[call.keys[0]] for call in prepared.plan.calls)
    interval = services._duration(2)  # between two calls' starts
    waves, last = [], None
    for n, (when, indexes) in enumerate(prepared.waves):
        if not calls[n]:
            continue
        first = when if last is None else max(when, last + interval)
        last = first + services._duration(calls[n])
        waves.append({"at": first.isoformat(), "recipients": len(indexes), "calls": calls[n],
                      "last_call": last.isoformat()})  # fmt: skip
    last = last or begin
    return {
        "start": begin.isoformat(),
        "waves": waves,
        "last_call": last.isoformat(),
        "seconds": round((last - begin).total_seconds()),
        "sending_seconds": round(services._duration(prepared.plan.call_count).total_seconds()),
    }


def _outcomes(texts, sent: dict, outcomes: StageOutcomes) -> dict:
    failed = Counter(sms.error for sms in outcomes.sent if sms.status == "failed")
    return {
        "delivered": sum(1 for sms in outcomes.sent if sms.status == "delivered"),
        "failed": dict(failed),
        "failed_total": sum(failed.values()),
        "no_report": sum(1 for sms in outcomes.sent if sms.status == "sent"),
        "not_sent": sum(1 for _, number, _ in texts if number not in sent),
        "replies": sum(1 for reply in outcomes.replies if not reply.opted_out),
        "opt_outs": sum(1 for reply in outcomes.replies if reply.opted_out),
    }


def outcome_rows(prepared: services.Prepared, outcomes: StageOutcomes) -> list[list[str]]:
    """[number, who, outcome, reason, answer, text] per recipient, then per contact left
    out (outcome "left out", the preview's reason); for the CSV."""
    sent = {sms.number: sms for sms in outcomes.sent}
    answers = {reply.number: reply.text for reply in outcomes.replies}
    rows = []
    for contact, number, text in prepared.texts:
        sms = sent.get(number)
        rows.append([number, services._who(contact, number), sms.status if sms else "not sent",
                     sms.error if sms else "", answers.get(number, ""), text])  # fmt: skip
    for excluded in prepared.audience.excluded:
        rows.append([excluded.number or "", "", "left out", str(excluded.reason), "", ""])
    return rows


def _samples(texts, who: dict, sent: dict, outcomes: StageOutcomes) -> dict:
    def first(rows: Iterator[dict]) -> list[dict]:
        return [row for _, row in zip(range(SAMPLES), rows, strict=False)]

    return {
        "texts": [{"who": who[number], "text": text} for _, number, text in texts[:SAMPLES]],
        "delivered": first({"who": who.get(s.number, s.number), "text": s.text}
                           for s in outcomes.sent if s.status == "delivered"),
        "failed": first({"who": who.get(s.number, s.number), "text": s.text, "error": s.error}
                        for s in outcomes.sent if s.status == "failed"),
        "replies": first({"who": who.get(r.number, r.number), "text": r.text}
                         for r in outcomes.replies if not r.opted_out),
        "opt_outs": first({"who": who.get(r.number, r.number), "text": r.text}
                          for r in outcomes.replies if r.opted_out),
    }  # fmt: skip
