"""Automations' use cases: answer one inbound text (`respond`, run by the task a moment
after the text is applied), and save the settings pages' changes.

`respond` reads the rules and the text's facts, asks automations.rules.decide what to do
and applies each action once: the conversation's row is locked for the whole decision
(one text of a contact at a time, so a burst gets one away reply), and an `Applied` row
per (message, action) makes a second run of the same event do nothing. Replies go out
through messaging.services.queue_outbound(automatic=True): the send task, queue
`interactive`, takes its slot in the call budget at Priority.INTERACTIVE. docs/automations.md.
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext

from automations import rules
from automations.models import (
    Applied,
    AutomationSettings,
    Availability,
    Holiday,
    KeywordRule,
    OpeningHours,
    TagRoute,
)
from contacts import services as contacts
from contacts import suppression
from contacts.models import ConsentSource, Contact, Tag
from messaging import activity, conversations, keywords, services
from messaging.merge import render
from messaging.models import ActivityKind, Conversation, Direction, Message

log = logging.getLogger(__name__)


def cooldowns() -> dict[str, timedelta | None]:
    """Per contact: the away reply at most once per AUTOMATIONS_AWAY_COOLDOWN_HOURS, a
    keyword rule's reply once per AUTOMATIONS_KEYWORD_COOLDOWN_MINUTES, a welcome once."""
    return {
        rules.AWAY: timedelta(hours=getattr(settings, "AUTOMATIONS_AWAY_COOLDOWN_HOURS", 12)),
        rules.KEYWORD: timedelta(
            minutes=getattr(settings, "AUTOMATIONS_KEYWORD_COOLDOWN_MINUTES", 10)
        ),
        rules.WELCOME: None,
    }


def available_users() -> list:
    """Active users who take conversations in turn (no Availability row: available)."""
    away = Availability.objects.filter(available=False).values("user_id")
    return list(
        get_user_model().objects.filter(is_active=True).exclude(pk__in=away).order_by("pk")
    )


def is_available(user) -> bool:
    return not Availability.objects.filter(user=user, available=False).exists()


def set_available(user, available: bool) -> None:
    """A user's own switch: whether round-robin gives them conversations."""
    Availability.objects.update_or_create(user=user, defaults={"available": available})


def hours() -> rules.Hours:
    weekly: dict[int, tuple[rules.Range, ...]] = {}
    for row in OpeningHours.objects.order_by("weekday", "start"):
        weekly[row.weekday] = (*weekly.get(row.weekday, ()), rules.Range(row.start, row.end))
    holidays = frozenset(Holiday.objects.values_list("date", flat=True))
    return rules.Hours(weekly, holidays, ZoneInfo(settings.TIME_ZONE))


def config(current: AutomationSettings | None = None) -> rules.Config:
    """The automations as automations.rules reads them (a handful of queries)."""
    current = current or AutomationSettings.current()
    active = set(get_user_model().objects.filter(is_active=True).values_list("pk", flat=True))
    enabled = KeywordRule.objects.filter(enabled=True).order_by("position", "pk")
    routes = TagRoute.objects.filter(user__in=active).order_by("position", "pk")
    return rules.Config(
        hours=hours(),
        away_on=current.away_enabled,
        away_text=current.away_text,
        welcome_on=current.welcome_enabled,
        welcome_text=current.welcome_text,
        rules=tuple(_rule(rule, active) for rule in enabled),
        assignment=current.assignment,
        in_turn=tuple(user.pk for user in available_users()),
        last_in_turn=current.last_in_turn,
        routes=tuple(routes.values_list("tag_id", "user_id")),
        cooldowns=cooldowns(),
        max_age=timedelta(minutes=getattr(settings, "AUTOMATIONS_MAX_AGE_MINUTES", 15)),
    )


def _rule(rule: KeywordRule, active: set[int]) -> rules.Rule:
    assign_to = rule.assign_to_id if rule.assign_to_id in active else None
    return rules.Rule(
        rule.pk, rule.match, rule.text, rule.reply, rule.tag_id, assign_to, rule.marketing_consent
    )


def _text(message: Message, contact: Contact, conversation: Conversation) -> rules.Text:
    earlier = Message.objects.filter(
        contact=contact, direction=Direction.INBOUND, pk__lt=message.pk
    ).exists()
    return rules.Text(
        body=message.body,
        received_at=message.created_at,
        inbound=message.direction == Direction.INBOUND,
        automatic=message.automatic,
        opt_keyword=keywords.is_keyword(message.body),
        allow_sms=contact.allow_sms and contact.deleted_at is None,
        first_time=not earlier,
        tag_ids=frozenset(contact.tags.values_list("pk", flat=True)),
        assignee_id=conversation.assignee_id,
    )


def last_sent(contact_id: int) -> dict[str, datetime]:
    """When this contact last got each kind of automatic reply (the cooldowns)."""
    rows = (
        Applied.objects.filter(contact_id=contact_id, key=rules.Reply.key)
        .values("cooldown_key")
        .annotate(last=Max("created_at"))
    )
    return {row["cooldown_key"]: row["last"] for row in rows}


def respond(message_id: int, now: datetime | None = None) -> list[rules.Action]:
    """Apply the automations to one inbound message, once; returns what it did now."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.direction != Direction.INBOUND or message.automatic:
        return []
    switches = AutomationSettings.current()
    anything_on = switches.away_enabled or switches.welcome_enabled
    anything_on = anything_on or switches.assignment != rules.OFF
    if not (anything_on or KeywordRule.objects.filter(enabled=True).exists()):
        return []  # two queries when every automation is off
    current = config(switches)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=message.conversation_id)
        contact = Contact.objects.get(pk=message.contact_id)  # as it is now: STOP applied
        done = set(Applied.objects.filter(message=message).values_list("key", flat=True))
        decided = rules.decide(
            current,
            _text(message, contact, conversation),
            now or timezone.now(),
            last_sent(contact.pk),
        )
        applied = [
            action
            for action in decided
            if action.key not in done and _apply(action, message, conversation, contact)
        ]
    return applied


def _apply(action: rules.Action, message: Message, conversation, contact: Contact) -> bool:
    if isinstance(action, rules.Consent):
        return _consent(action, message, contact)
    if isinstance(action, rules.Reply):
        return _reply(action, message, conversation, contact)
    if isinstance(action, rules.AddTag):
        return _tag(action, message, contact)
    return _assign(action, message, conversation, contact)


def reply_label(kind: str, rule: KeywordRule | None = None) -> str:
    """What the thread's activity line says the reply was (messaging.activity.text)."""
    if rule is not None:
        return gettext("keyword “%(text)s”") % {"text": rule.text}
    return gettext("welcome message") if kind == rules.WELCOME else gettext("away message")


def _reply(action: rules.Reply, message: Message, conversation, contact: Contact) -> bool:
    if not contact.allow_sms:  # checked again on the row just read
        return False
    if suppression.is_suppressed(contact.mobile_number):  # erased (GDPR): never texted again
        return False
    sent = services.queue_outbound(
        contact.mobile_number, render(action.body, contact), automatic=True
    )
    rule = KeywordRule.objects.filter(pk=action.rule_id).first() if action.rule_id else None
    with translation.override(settings.LANGUAGE_CODE):  # a line stored in the site's language
        detail = reply_label(action.kind, rule)
    activity.record(conversation, ActivityKind.AUTOMATIC_REPLY, None, detail)
    Applied.objects.create(
        message=message,
        contact=contact,
        key=action.key,
        cooldown_key=action.cooldown_key,
        rule=rule,
        sent=sent,
        detail=action.kind,
    )
    log.info("automatic %s to contact %s (message %s)", action.kind, contact.pk, sent.pk)
    return True


def _consent(action: rules.Consent, message: Message, contact: Contact) -> bool:
    """Keyword opt-in (or out) of marketing: consent recorded by contacts' one writer, its
    wording what they texted and the confirmation they get (the rule's reply)."""
    rule = KeywordRule.objects.filter(pk=action.rule_id).first()
    if rule is None:
        return False
    if action.consent == rules.OPT_IN and not contact.allow_sms:  # the row just read
        return False
    wording = gettext("texted “%(text)s”") % {"text": " ".join(message.body.split())}
    if rule.reply.strip():
        wording += "; " + gettext("confirmation: %(reply)s") % {
            "reply": render(rule.reply, contact)
        }
    event = contacts.set_marketing_consent(
        contact, action.consent, source=ConsentSource.KEYWORD, wording=wording
    )
    Applied.objects.create(
        message=message,
        contact=contact,
        key=action.key,
        rule=rule,
        detail=action.consent if event is not None else f"{action.consent} (already)",
    )
    return True


def _tag(action: rules.AddTag, message: Message, contact: Contact) -> bool:
    tag = Tag.objects.filter(pk=action.tag_id).first()
    if tag is None:
        return False
    contacts.add_tags(Contact.objects.filter(pk=contact.pk), [tag])
    rule = KeywordRule.objects.filter(pk=action.rule_id).first()
    Applied.objects.create(
        message=message, contact=contact, key=action.key, rule=rule, detail=tag.name[:200]
    )
    return True


def _assign(action: rules.Assign, message: Message, conversation, contact: Contact) -> bool:
    user_id = action.user_id
    if action.reason == rules.ROUND_ROBIN:  # whose turn it is, decided under the lock
        current = AutomationSettings.objects.select_for_update().filter(pk=1).first()
        user_id = rules.next_in_turn(
            tuple(user.pk for user in available_users()),
            current.last_in_turn if current else None,
        )
        if user_id is None:
            return False
        AutomationSettings.objects.update_or_create(pk=1, defaults={"last_in_turn": user_id})
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    conversations.assign(conversation, user.pk, by=None)  # its activity line: by nobody
    Applied.objects.create(
        message=message, contact=contact, key=action.key, detail=f"{action.reason}: {user.pk}"
    )
    return True


# --- The settings pages' changes -------------------------------------------------------


@transaction.atomic
def save_settings(
    *,
    weekly: dict[int, list[rules.Range]],
    holidays: list[tuple],
    away: tuple[bool, str],
    welcome: tuple[bool, str],
    assignment: str,
    available_ids: set[int],
) -> None:
    """Replace the business hours, holidays, replies, mode and who is available."""
    OpeningHours.objects.all().delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(weekday=day, start=r.start, end=r.end)
        for day, ranges in sorted(weekly.items())
        for r in ranges
    )
    Holiday.objects.all().delete()
    Holiday.objects.bulk_create(Holiday(date=day, name=name) for day, name in holidays)
    AutomationSettings.objects.update_or_create(
        pk=1,
        defaults={
            "away_enabled": away[0], "away_text": away[1].strip(),
            "welcome_enabled": welcome[0], "welcome_text": welcome[1].strip(),
            "assignment": assignment,
        },
    )  # fmt: skip
    for user in get_user_model().objects.filter(is_active=True):
        Availability.objects.update_or_create(
            user=user, defaults={"available": user.pk in available_ids}
        )


def save_rule(rule: KeywordRule, tag_name: str) -> KeywordRule:
    """Save a keyword rule; its tag by name (made if new)."""
    [tag] = contacts.tags_named([tag_name]) if tag_name.strip() else [None]
    rule.tag = tag
    if rule.pk is None and not rule.position:
        last = KeywordRule.objects.aggregate(last=Max("position"))["last"]
        rule.position = (last or 0) + 1
    rule.save()
    return rule


def delete_rule(rule: KeywordRule) -> None:
    rule.delete()


def add_route(tag: Tag, user) -> TagRoute:
    last = TagRoute.objects.aggregate(last=Max("position"))["last"]
    route, _ = TagRoute.objects.update_or_create(
        tag=tag, defaults={"user": user, "position": (last or 0) + 1}
    )
    return route


def delete_route(route: TagRoute) -> None:
    route.delete()
