"""Campaign use cases: who it goes to, what it says, what it will cost and take, and
launching, pausing, resuming and cancelling it. Sending is in campaigns.sending.

The audience, rendering and plan rules are the pure modules' (audience, planning,
quiet_hours); this module feeds them from the database and stores their result.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Lower
from django.utils import timezone
from django.utils.translation import gettext

from audiences import segments as saved_segments
from audiences.models import Segment
from audiences.segments import SegmentInvalid
from campaigns.audience import (
    RULE_REASONS,
    Audience,
    AudienceSpec,
    ContactRecord,
    Exclusion,
    Reason,
    normalise_number,
)
from campaigns.audience import resolve_audience as resolve
from campaigns.models import (
    CallState,
    Campaign,
    CampaignCall,
    CampaignSettings,
    CampaignStatus,
    Recipient,
    RecipientState,
)
from campaigns.planning import Plan, RenderedMessage, duration, plan_sends
from campaigns.quiet_hours import release_waves
from contacts import suppression
from contacts.models import Contact, MarketingConsent, SyncState, Tag
from messaging import reconcile
from messaging.merge import FIELDS as MERGE_FIELDS
from messaging.merge import render, unknown_fields
from messaging.models import Conversation, ConversationStatus
from messaging.services import queue_outbound
from txtcrm.budget import Policy
from txtsync import pricing, segments

AUDIENCE_KEYS = ("any_tags", "all_tags", "excluded_tags", "contacts", "numbers")  # lists
# Campaign.audience["segment"]: a saved segment's id (evaluated at launch); at launch
# "segment_at_launch" keeps its name and conditions as they were (segment_snapshot).
SAMPLE_SIZE = 3
ID_CHUNK = 5000  # ids per query: a 100k-long IN list is slow to send, and SQLite limits it
# What rendering, the preview's samples and the recipient rows read of a contact.
RENDERED_FIELDS = ("pk", *MERGE_FIELDS.values(), "overall_rating", "total_distinct_link_clicks")
Rendered = tuple[Contact | None, str, str]  # (contact, number, text)


class CampaignError(Exception):
    """A campaign that cannot be launched (or changed) as asked: the message says why."""


# --- Audience and texts ---------------------------------------------------------------------


def spec_of(campaign: Campaign) -> AudienceSpec:
    """The campaign's audience as chosen; a segment's contacts are added by audience_of."""
    audience = campaign.audience or {}
    return AudienceSpec(
        any_tags=audience.get("any_tags", []),
        all_tags=audience.get("all_tags", []),
        excluded_tags=audience.get("excluded_tags", []),
        contact_keys=audience.get("contacts", []),
        numbers=audience.get("numbers", []),
    )


def segment_of(campaign: Campaign) -> Segment | None:
    """The saved segment the campaign goes to, if any; CampaignError if it was deleted or
    its conditions no longer hold, rather than send to fewer (or more) people than chosen."""
    segment_id = (campaign.audience or {}).get("segment")
    if not segment_id:
        return None
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise CampaignError(
            gettext("The segment this campaign goes to was deleted: choose another audience.")
        )
    return segment


def _members(segment: Segment | None) -> QuerySet[Contact] | None:
    """The segment's contacts now (a query), or None without a segment."""
    if segment is None:
        return None
    try:
        return saved_segments.contacts_in(segment)
    except SegmentInvalid as error:
        raise CampaignError(
            gettext("The segment “%(name)s” cannot be used: %(errors)s")
            % {"name": segment.name, "errors": " ".join(error.errors)}
        ) from error


def _candidates(spec: AudienceSpec, members: QuerySet[Contact] | None) -> Iterator[ContactRecord]:
    """Every contact the spec (or the segment's `members`) could select, with the names
    of the spec's tags it has (three queries; subqueries, not id lists, at any size)."""
    region = settings.TXTCRM_DEFAULT_REGION
    known = _folded_tags([*spec.any_tags, *spec.all_tags, *spec.excluded_tags])
    tag_names = dict(known.values())
    links = Contact.tags.through.objects
    numbers = [n for n in (normalise_number(raw, region) for raw in spec.numbers) if n]
    selected = Q(pk__in=list(spec.contact_keys)) | Q(mobile_number__in=numbers)
    if spec.any_tags or spec.all_tags:
        chosen = [known[n.strip().casefold()][0] for n in [*spec.any_tags, *spec.all_tags]
                  if n.strip().casefold() in known]  # fmt: skip
        selected |= Q(pk__in=links.filter(tag_id__in=chosen).values("contact_id"))
    if members is not None:
        selected |= Q(pk__in=members.values("pk"))
    contacts = Contact.objects.filter(selected, deleted_at=None).order_by("pk")
    rows = contacts.values_list("pk", "mobile_number", "allow_sms")
    tags = defaultdict(list)
    # Every link of these tags, also of contacts not selected: cheaper than naming them.
    for contact_id, tag_id in links.filter(tag_id__in=list(tag_names)).values_list(
        "contact_id", "tag_id"
    ):
        tags[contact_id].append(tag_names[tag_id])
    for pk, number, allow_sms in rows.iterator(chunk_size=5000):
        yield ContactRecord(pk, number, allow_sms, tuple(tags[pk]))


def _tag_ids(names: Iterable[str]) -> list[int]:
    return [pk for pk, _name in _folded_tags(names).values()]


def _folded_tags(names: Iterable[str]) -> dict[str, tuple[int, str]]:
    """{case-folded name: (id, name)} of the existing tags among `names` (one query)."""
    folded = {name.strip().casefold() for name in names if name.strip()}
    tags = Tag.objects.filter(name_folded__in=folded).values_list("name_folded", "pk", "name")
    return {name_folded: (pk, name) for name_folded, pk, name in tags}


def audience_of(campaign: Campaign) -> Audience:
    """Recipients and exclusions if the campaign were launched now (the segment, if any,
    evaluated now); CampaignError when its segment cannot be used."""
    members = _members(segment_of(campaign))
    spec = spec_of(campaign)
    if members is not None:
        spec = replace(spec, segment_keys=frozenset(members.values_list("pk", flat=True)))
    if not spec.selects_anyone():
        return Audience((), ())
    audience = resolve(_candidates(spec, members), spec, region=settings.TXTCRM_DEFAULT_REGION)
    return _by_account_rules(campaign, _without_suppressed(audience))


def _without_suppressed(audience: Audience) -> Audience:
    """Recipients whose number is on the suppression list (an erased person's) become
    exclusions; their number is not kept with the exclusion (docs/privacy.md)."""
    suppressed = suppression.suppressed_among(r.number for r in audience.recipients)
    if not suppressed:
        return audience
    kept = tuple(r for r in audience.recipients if r.number not in suppressed)
    dropped = [Exclusion(Reason.SUPPRESSED, None, r.contact_key)
               for r in audience.recipients if r.number in suppressed]  # fmt: skip
    return Audience(kept, (*audience.excluded, *dropped))


# --- The account's rules: consent, frequency cap, open conversations -------------------------


def cap_days(campaign: Campaign, rules: CampaignSettings | None = None) -> int:
    """The campaign's frequency cap in days (0: none): its own, else the account's."""
    if campaign.frequency_cap_days is not None:
        return campaign.frequency_cap_days
    return (rules or CampaignSettings.current()).frequency_cap_days


def _by_account_rules(campaign: Campaign, audience: Audience) -> Audience:
    """Recipients the account's rules leave out become exclusions, the first rule that
    applies giving the reason: no marketing consent, then the frequency cap, then an
    open conversation. One set-based query per rule in force, whatever the audience."""
    if not audience.recipients:
        return audience
    rules = CampaignSettings.current()
    checks = []
    if campaign.marketing and rules.marketing_needs_consent:
        given = _ids(Contact.objects.filter(marketing_consent=MarketingConsent.GIVEN))
        # A typed number of no contact has no recorded consent either.
        checks.append((Reason.NO_CONSENT, lambda r: r.contact_key not in given))
    days = cap_days(campaign, rules)
    if days:
        recent = _recently_sent_numbers(campaign, days)
        checks.append((Reason.RECENTLY_SENT, lambda r: r.number in recent))
    if campaign.skip_open_conversations:
        busy = set(
            Conversation.objects.filter(status=ConversationStatus.OPEN).values_list(
                "contact_id", flat=True
            )
        )
        checks.append((Reason.OPEN_CONVERSATION, lambda r: r.contact_key in busy))
    if not checks:
        return audience
    kept, dropped = [], []
    for recipient in audience.recipients:
        reason = next((reason for reason, applies in checks if applies(recipient)), None)
        if reason is None:
            kept.append(recipient)
        else:
            dropped.append(Exclusion(reason, recipient.number, recipient.contact_key))
    return Audience(tuple(kept), (*audience.excluded, *dropped))


def _ids(contacts) -> set[int]:
    return set(contacts.values_list("pk", flat=True))


def _recently_sent_numbers(campaign: Campaign, days: int) -> set[str]:
    """Numbers another campaign texted in the last `days` days, or is about to (a pending
    or sending recipient of a campaign not over). Test sends are no recipients."""
    since = timezone.now() - timedelta(days=days)
    active = [CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED]
    rows = Recipient.objects.filter(
        Q(sent_at__gte=since)
        | Q(
            state__in=[RecipientState.PENDING, RecipientState.SENDING],
            campaign__status__in=active,
        )
    ).exclude(campaign_id=campaign.pk)
    return set(rows.values_list("number", flat=True))


def footer_of(campaign: Campaign, rules: CampaignSettings | None = None) -> str:
    """The opt-out footer a marketing campaign's texts end with ("" for other campaigns)."""
    if not campaign.marketing:
        return ""
    return (rules or CampaignSettings.current()).opt_out_footer.strip()


def with_footer(text: str, footer: str) -> str:
    """`text` ending with `footer` on its own line, unless it says it already (any case)."""
    if not footer or not text.strip() or footer.casefold() in text.casefold():
        return text
    return f"{text.rstrip()}\n{footer}"


def rendered(campaign: Campaign, audience: Audience) -> tuple[Audience, list[Rendered]]:
    """(contact, number, text) per recipient, merge fields filled in; a recipient whose
    text comes out empty (e.g. just `{FirstName}` and no first name) is excluded.

    The contacts carry RENDERED_FIELDS only (100k whole contacts took seconds): reading
    any other field costs a query per contact."""
    ids = [r.contact_key for r in audience.recipients if r.contact_key is not None]
    contacts: dict[int, Contact] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        contacts.update(Contact.objects.only(*RENDERED_FIELDS).in_bulk(chunk))
    stranger = Contact()  # no fields: every merge field takes its fallback
    footer = footer_of(campaign)
    texts, empty = [], []
    for recipient in audience.recipients:
        contact = contacts.get(recipient.contact_key)
        text = render(campaign.template, contact or stranger)
        if text.strip():
            text = with_footer(text, footer)
            texts.append((contact, recipient.number, text))
        else:
            empty.append(Exclusion(Reason.EMPTY_MESSAGE, recipient.number, recipient.contact_key))
    numbers = {number for _, number, _ in texts}
    kept = tuple(r for r in audience.recipients if r.number in numbers)
    return Audience(kept, (*audience.excluded, *empty)), texts


# --- The preview the composer shows ---------------------------------------------------------


@dataclass
class Preview:
    recipients: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    segments_min: int = 0
    segments_max: int = 0
    encodings: list[str] = field(default_factory=list)
    cost: Decimal = Decimal(0)
    currency: str = "GBP"
    plan: Plan | None = None
    duration: timedelta = timedelta(0)
    tag_send: bool = False
    # A whole-tag audience sent by numbers, because the account's rules left some out.
    tag_send_blocked: bool = False
    samples: list[tuple[str, str]] = field(default_factory=list)  # (who, text)
    unknown_fields: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return self.plan.call_count if self.plan else 0

    @property
    def naive_calls(self) -> int:
        return self.plan.naive_call_count if self.plan else 0


def preview(campaign: Campaign) -> Preview:
    audience, texts = rendered(campaign, audience_of(campaign))
    result = Preview(
        recipients=len(texts),
        excluded=dict(Counter(str(e.reason) for e in audience.excluded)),
        currency=settings.TXTCRM_CURRENCY,
        unknown_fields=unknown_fields(campaign.template),
    )
    if not texts:
        return result
    counts = [_segments(text) for _, _, text in texts]
    result.segments_min = min(c.segments for c in counts)
    result.segments_max = max(c.segments for c in counts)
    result.encodings = sorted({c.encoding for c in counts})
    estimate = pricing.estimate_total(((n, t) for _, n, t in texts), result.currency)
    result.cost = estimate.cost_local
    waves = _waves(campaign, texts, timezone.now())
    result.plan = _plan(campaign, audience, texts, waves)
    result.tag_send = any(call.kind == "bulk_tag" for call in result.plan.calls)
    result.tag_send_blocked = not result.tag_send and _would_go_by_tag(
        campaign, audience, texts, waves
    )
    result.duration = _duration(result.plan.call_count)
    result.samples = [(_who(c, number), text) for c, number, text in texts[:SAMPLE_SIZE]]
    return result


def _would_go_by_tag(campaign: Campaign, audience: Audience, texts, waves) -> bool:
    """Would have been one send by tag, were it not for the account's rules."""
    return (
        len(waves) == 1
        and len(texts) > 1
        and len({text for _, _, text in texts}) == 1
        and left_out_by_rules(audience)
        and _tag_audience(campaign) is not None
    )


@lru_cache(maxsize=4096)
def _segments(text: str) -> segments.SegmentInfo:
    return segments.count_segments(text)  # campaigns repeat texts: count each once


def _who(contact: Contact | None, number: str) -> str:
    return (contact.full_name if contact else "") or number


def _duration(calls: int) -> timedelta:
    policy = Policy.parse(settings.TXTSYNC_BUDGET, settings.TXTSYNC_BUDGET_MARGIN)
    return duration(calls, policy.calls, policy.seconds, settings.TXTSYNC_BUDGET_MARGIN)


# --- Planning -------------------------------------------------------------------------------


def _waves(campaign: Campaign, texts, start: datetime) -> list[tuple[datetime, list[int]]]:
    """(when, recipient indexes) in time order: everyone at the start, or, with quiet
    hours, each recipient when their local window opens."""
    if not campaign.quiet_hours:
        return [(start, list(range(len(texts))))]
    return release_waves(
        ((index, number) for index, (_, number, _) in enumerate(texts)),
        start,
        campaign.quiet_start,
        campaign.quiet_end,
        settings.TIME_ZONE,
    )


def _whole_tags(campaign: Campaign, audience: Audience) -> list[str] | None:
    """The tag names when the audience is exactly those tags as TxtSync has them: chosen
    by `any_tags` alone, every contact of the tags pushed (nothing local pending) and
    nobody left out by the account's rules (a send by tag would reach them)."""
    if left_out_by_rules(audience):
        return None
    return _tag_audience(campaign)


def left_out_by_rules(audience: Audience) -> bool:
    return any(e.reason in RULE_REASONS for e in audience.excluded)


def _tag_audience(campaign: Campaign) -> list[str] | None:
    """The tag names when the campaign is chosen as whole tags alone: `any_tags` and/or a
    segment that is exactly some tags (audiences.conditions.whole_tags), and every contact
    of those tags pushed to TxtSync (nothing local pending)."""
    spec = spec_of(campaign)
    if spec.all_tags or spec.contact_keys or spec.numbers or spec.excluded_tags:
        return None
    tag_ids = set(_tag_ids(spec.any_tags))
    segment = segment_of(campaign)
    if segment is not None:
        segment_tags = saved_segments.whole_tags(segment)
        if segment_tags is None:
            return None
        tag_ids |= set(segment_tags)
    if not tag_ids:
        return None
    tagged = Contact.objects.filter(tags__in=tag_ids)
    unsynced = tagged.filter(~Q(sync_state=SyncState.CLEAN) | Q(deleted_at__isnull=False))
    if unsynced.exists():
        return None
    names = Tag.objects.filter(pk__in=tag_ids).order_by(Lower("name"))
    return list(names.values_list("name", flat=True))


def _plan(campaign: Campaign, audience: Audience, texts, waves) -> Plan:
    """One plan over all waves (only a single wave may use a tag send)."""
    whole_tags = _whole_tags(campaign, audience) if len(waves) == 1 else None
    calls = []
    for _, indexes in waves:
        messages = [RenderedMessage(i, texts[i][1], texts[i][2]) for i in indexes]
        calls += plan_sends(messages, whole_tags).calls
    return Plan(tuple(calls), len(texts))


# --- Launching and controlling -------------------------------------------------------------


def check_launchable(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(
            gettext("This campaign is %(status)s; only a draft can be launched.")
            % {"status": campaign.get_status_display()}
        )
    if not campaign.template.strip():
        raise CampaignError(gettext("The message is empty."))
    unknown = unknown_fields(campaign.template)
    if unknown:
        raise CampaignError(
            gettext("Unknown merge fields: %(fields)s.")
            % {"fields": ", ".join("{" + name + "}" for name in unknown)}
        )


@dataclass(frozen=True)
class Prepared:
    """What a launch stores and a rehearsal (campaigns.rehearsal) plays: who, what each
    is sent, when (quiet-hours waves) and by which calls. One function makes it, so a
    rehearsal cannot drift from a launch."""

    audience: Audience
    texts: list[Rendered]
    waves: list[tuple[datetime, list[int]]]
    plan: Plan


def prepare(campaign: Campaign, start: datetime) -> Prepared:
    """The launch's preparation for a start at `start`; CampaignError with nobody to send to."""
    audience, texts = rendered(campaign, audience_of(campaign))
    if not texts:
        raise CampaignError(gettext("Nobody to send to: the audience has no recipient."))
    waves = _waves(campaign, texts, start)
    return Prepared(audience, texts, waves, _plan(campaign, audience, texts, waves))


@transaction.atomic
def launch(campaign: Campaign, now: datetime | None = None) -> Campaign:
    """Store every recipient (or why skipped) and every planned call, then start now or
    at the scheduled time. Nothing is sent here: campaigns.sending does that."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    check_launchable(campaign)
    now = now or timezone.now()
    start = max(campaign.scheduled_at or now, now)
    prepared = prepare(campaign, start)
    audience, texts, waves, plan = prepared.audience, prepared.texts, prepared.waves, prepared.plan
    when_of = {index: when for when, indexes in waves for index in indexes}
    calls = CampaignCall.objects.bulk_create(
        CampaignCall(campaign=campaign, position=position, kind=call.kind, text=call.text,
                     tag_names=list(call.tag_names), not_before=when_of[call.keys[0]])
        for position, call in enumerate(plan.calls)
    )  # fmt: skip
    pairs = zip(calls, plan.calls, strict=True)
    call_of = {key: stored for stored, planned in pairs for key in planned.keys}
    Recipient.objects.bulk_create(_recipients(campaign, audience, texts, call_of), batch_size=2000)
    reconcile.remember_baselines([contact.pk for contact, _, _ in texts if contact])
    campaign.status = CampaignStatus.SCHEDULED if start > now else CampaignStatus.RUNNING
    campaign.launched_at, campaign.planned_calls = now, len(calls)
    campaign.audience = with_segment_snapshot(campaign, now)
    campaign.save()
    transaction.on_commit(lambda: _kick(campaign.pk, start))
    return campaign


def with_segment_snapshot(campaign: Campaign, now: datetime) -> dict:
    """The audience plus, when it is a segment, the segment as it was at launch: its
    name and conditions may change later, the recipient rows say who was in it."""
    audience = dict(campaign.audience or {})
    segment = segment_of(campaign)
    if segment is not None:
        audience["segment_at_launch"] = {
            "name": segment.name,
            "conditions": segment.conditions,
            "at": now.isoformat(),
        }
    return audience


def _recipients(campaign, audience, texts, call_of) -> Iterator[Recipient]:
    for index, (contact, number, text) in enumerate(texts):
        yield Recipient(
            campaign=campaign, contact=contact, number=number, text=text,
            segments=_segments(text).segments, call=call_of[index],
            rating_before=contact.overall_rating if contact else None,
            clicks_before=contact.total_distinct_link_clicks if contact else None,
        )  # fmt: skip
    for excluded in audience.excluded:
        yield Recipient(
            campaign=campaign, contact_id=excluded.contact_key,
            number=(excluded.number or "")[:32], state=RecipientState.SKIPPED,
            reason=str(excluded.reason),
        )  # fmt: skip


def _kick(campaign_id: int, at: datetime) -> None:
    from campaigns.tasks import run_campaign  # tasks import this module

    run_campaign.apply_async((campaign_id,), eta=at)


def start_due(now: datetime | None = None) -> list[int]:
    """Scheduled campaigns whose time has come start running."""
    now = now or timezone.now()
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, calls__not_before__lte=now)
    ids = list(due.values_list("pk", flat=True).distinct())
    Campaign.objects.filter(pk__in=ids, status=CampaignStatus.SCHEDULED).update(
        status=CampaignStatus.RUNNING, changed_at=now
    )
    return ids


def pause(campaign: Campaign) -> Campaign:
    active = {CampaignStatus.RUNNING, CampaignStatus.SCHEDULED}
    return _move(campaign, active, CampaignStatus.PAUSED)


def resume(campaign: Campaign) -> Campaign:
    campaign = _move(campaign, {CampaignStatus.PAUSED}, CampaignStatus.RUNNING)
    transaction.on_commit(lambda: _kick(campaign.pk, timezone.now()))
    return campaign


@transaction.atomic
def cancel(campaign: Campaign) -> Campaign:
    """Stops what has not been sent: pending calls and their recipients are cancelled; a
    call already on its way settles as it will."""
    active = {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING,
              CampaignStatus.PAUSED}  # fmt: skip
    campaign = _move(campaign, active, CampaignStatus.CANCELLED)
    pending = campaign.calls.filter(state=CallState.PENDING)
    Recipient.objects.filter(call__in=pending, state=RecipientState.PENDING).update(
        state=RecipientState.SKIPPED, reason="cancelled"
    )
    pending.update(state=CallState.CANCELLED, settled_at=timezone.now())
    return campaign


def _move(campaign: Campaign, allowed: set[str], to: str) -> Campaign:
    moved = Campaign.objects.filter(pk=campaign.pk, status__in=allowed).update(
        status=to, changed_at=timezone.now()
    )
    campaign.refresh_from_db()
    if not moved:
        raise CampaignError(
            gettext("This campaign is %(status)s; it cannot become %(to)s.")
            % {"status": campaign.get_status_display(), "to": CampaignStatus(to).label}
        )
    return campaign


# --- Drafts (what the API creates and changes) -----------------------------------------------

DRAFT_FIELDS = ("name", "sender", "template", "audience", "scheduled_at", "quiet_start",
                "quiet_end", "marketing", "frequency_cap_days",
                "skip_open_conversations")  # fmt: skip


def create_draft(fields: dict, created_by=None) -> Campaign:
    """A new draft from already validated fields (campaigns.serializers checks them)."""
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"Not draft fields: {', '.join(sorted(unknown))}")
    return Campaign.objects.create(status=CampaignStatus.DRAFT, created_by=created_by, **fields)


def update_draft(campaign: Campaign, fields: dict) -> Campaign:
    """Change a draft. Once launched, its recipients and calls are stored from what it was,
    so a change is refused; the conditional UPDATE loses any race with launch()."""
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"Not draft fields: {', '.join(sorted(unknown))}")
    changed = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.DRAFT).update(
        **fields, changed_at=timezone.now()
    )
    campaign.refresh_from_db()
    if not changed:
        raise CampaignError(
            gettext(
                "This campaign is %(status)s; only a draft can be changed "
                "(cancel it and create a new one instead)."
            )
            % {"status": campaign.get_status_display()}
        )
    return campaign


def duplicate(campaign: Campaign, created_by=None) -> Campaign:
    """A new draft with the campaign's text, audience and settings (not its recipients,
    calls or schedule: a copy is launched when someone decides to)."""
    fields = {name: getattr(campaign, name) for name in DRAFT_FIELDS}
    fields["scheduled_at"] = None
    copy_name = gettext("Copy of %(name)s") % {"name": campaign.name}
    fields["name"] = copy_name[: Campaign._meta.get_field("name").max_length]
    return create_draft(fields, created_by=created_by)


# --- A test send before launch ---------------------------------------------------------------

# Merge-field values for a test send without a chosen contact.
SAMPLE_VALUES = {
    "first_name": "Alex",
    "last_name": "Sample",
    "full_name": "Alex Sample",
    "company_name": "Sample Ltd",
}


def sample_text(campaign: Campaign, contact: Contact | None = None) -> str:
    """The campaign's text as `contact` (or a sample person) would read it, footer included."""
    person = contact or Contact(**SAMPLE_VALUES)
    text = render(campaign.template, person)
    return with_footer(text, footer_of(campaign))


def send_test(campaign: Campaign, number: str, contact: Contact | None = None, author=None):
    """Send the campaign's text once to `number` through the inbox's normal send path
    (queued, then sent within the call budget). It is no recipient of the campaign, so it
    counts neither in its report nor against the frequency cap. Refused for an invalid,
    opted-out or suppressed number. Returns the queued messaging.Message."""
    to = normalise_number(number, settings.TXTCRM_DEFAULT_REGION)
    if to is None:
        raise CampaignError(gettext("“%(number)s” is not a valid number.") % {"number": number})
    if suppression.is_suppressed(to):
        raise CampaignError(gettext("That number is on the suppression list (erased)."))
    if Contact.objects.filter(mobile_number=to, allow_sms=False).exists():
        raise CampaignError(gettext("That number has opted out (STOP); it is not texted."))
    unknown = unknown_fields(campaign.template)
    if not campaign.template.strip() or unknown:
        raise CampaignError(gettext("Fix the message first: it is empty or has unknown fields."))
    text = sample_text(campaign, contact)
    if not text.strip():
        raise CampaignError(gettext("The merge fields leave nothing to send for that contact."))
    return queue_outbound(to, text, author=author, sender=campaign.sender)


# --- GDPR ------------------------------------------------------------------------------


def forget_contact(contact: Contact) -> int:
    """An erased contact's recipient rows lose who and what (contact, number, text) but
    keep their state, segments and dates, so campaign totals and costs stay right; a send
    still pending is skipped. Returns how many rows. Called by privacy.services.erase."""
    rows = Recipient.objects.filter(Q(contact=contact) | Q(number=contact.mobile_number))
    rows.filter(state=RecipientState.PENDING).update(
        state=RecipientState.SKIPPED, reason=str(Reason.SUPPRESSED)
    )
    # Unique and meaningless: the (campaign, number) constraint holds among the erased.
    anonymous = Concat(Value("erased-"), Cast("pk", CharField()))
    return rows.update(contact=None, number=anonymous, text="")
