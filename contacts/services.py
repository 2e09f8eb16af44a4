"""Contact use cases: the writer of contacts, tags and opt-out state for people (pages,
API, admin) and for other apps. Two more writers of contacts, each for its own job:
contacts.sync (what TxtSync says, and the push's bookkeeping) and contacts.csv_import
(an import's rows, in bulk) (docs/architecture.md, "Who writes what").

Every local change bumps the contact's sync_version and marks it dirty; the
push task (contacts.sync) sends the latest state after a short debounce, so
ten quick edits cost one API call.
"""

from collections.abc import Iterable
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts import signals, suppression
from contacts.models import (
    CUSTOM_FIELDS,
    ENGAGEMENT_FIELDS,
    TXTSYNC_FIELDS,
    ConsentEvent,
    ConsentSource,
    Contact,
    CustomFieldLabel,
    MarketingConsent,
    OptOutEvent,
    OptOutSource,
    SyncState,
    Tag,
)

ENGAGEMENT_COUNTERS = [name for name in ENGAGEMENT_FIELDS if name != "last_communication_date"]
PUSH_DEBOUNCE = timedelta(seconds=2)  # edits within this window share one push


class ContactInvalid(Exception):
    """Bad input: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in errors.items()))


def normalise_number(raw: str, region: str | None = None) -> str:
    """E.164 form of a number typed in any format; ContactInvalid if it is not one."""
    text = (raw or "").strip()
    try:
        parsed = phonenumbers.parse(text, region or settings.TXTCRM_DEFAULT_REGION)
        valid = phonenumbers.is_valid_number(parsed)
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise ContactInvalid(
            {"mobile_number": _("%(text)s is not a valid phone number") % {"text": repr(text)}}
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def custom_field_labels() -> dict[str, str]:
    """custom01..custom05 -> what this business calls them."""
    labels = {f"custom0{n}": f"Custom0{n}" for n in range(1, 6)}
    labels.update(dict(CustomFieldLabel.objects.values_list("field", "label")))
    return labels


# --- Tags ----------------------------------------------------------------------------


def tags_named(names: Iterable[str]) -> list[Tag]:
    """Tags with these names (case-insensitive), created when missing."""
    wanted: dict[str, str] = {}
    for name in names:
        name = name.strip()
        if name:
            wanted.setdefault(name.casefold(), name)
    existing = {tag.name_folded: tag for tag in Tag.objects.filter(name_folded__in=wanted)}
    missing = [Tag(name=name, name_folded=folded) for folded, name in wanted.items()
               if folded not in existing]  # fmt: skip
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    if missing:
        existing = {tag.name_folded: tag for tag in Tag.objects.filter(name_folded__in=wanted)}
    return [existing[folded] for folded in wanted]


def rename_tag(tag: Tag, name: str) -> Tag:
    tag.name = name
    tag.save()
    mark_dirty(tag.contacts.all())  # TxtSync knows tags by name
    return tag


def delete_tag(tag: Tag) -> None:
    contacts = list(tag.contacts.values_list("pk", flat=True))
    tag.delete()
    mark_dirty(Contact.objects.filter(pk__in=contacts))


def add_tags(contacts: QuerySet[Contact], tags: list[Tag]) -> int:
    """Tag every contact of the queryset (a page or all matching a filter)."""
    ids = list(contacts.values_list("pk", flat=True))
    through = Contact.tags.through
    through.objects.bulk_create(
        [through(contact_id=c, tag_id=t.pk) for c in ids for t in tags], ignore_conflicts=True
    )
    mark_dirty(Contact.objects.filter(pk__in=ids))
    return len(ids)


def remove_tags(contacts: QuerySet[Contact], tags: list[Tag]) -> int:
    ids = list(contacts.values_list("pk", flat=True))
    Contact.tags.through.objects.filter(contact_id__in=ids, tag__in=tags).delete()
    mark_dirty(Contact.objects.filter(pk__in=ids))
    return len(ids)


# --- Contacts ----------------------------------------------------------------------------


def _clean_fields(fields: dict) -> dict:
    unknown = set(fields) - set(TXTSYNC_FIELDS) - {"external_reference"}
    if unknown:
        raise ContactInvalid({name: "is not a contact field" for name in sorted(unknown)})
    cleaned = {name: (value.strip() if isinstance(value, str) else value)
               for name, value in fields.items()}  # fmt: skip
    if "mobile_number" in cleaned:
        cleaned["mobile_number"] = normalise_number(cleaned["mobile_number"])
    if cleaned.get("external_reference") == "":
        cleaned["external_reference"] = None
    return cleaned


def _check_unique(contact: Contact) -> None:
    others = Contact.objects.exclude(pk=contact.pk)
    errors = {}
    if others.filter(mobile_number=contact.mobile_number).exists():
        errors["mobile_number"] = _("%(number)s belongs to another contact") % {
            "number": contact.mobile_number
        }
    if (
        contact.external_reference
        and others.filter(external_reference=contact.external_reference).exists()
    ):
        errors["external_reference"] = _("belongs to another contact")
    if errors:
        raise ContactInvalid(errors)


def _check_not_suppressed(number: str) -> None:
    """An erased person's number is never added back (contacts/suppression.py)."""
    if suppression.is_suppressed(number):
        raise ContactInvalid({"mobile_number": suppression.refusal(number)})


@transaction.atomic
def create_contact(
    fields: dict,
    *,
    tag_names: Iterable[str] = (),
    allow_sms: bool = True,
    source: OptOutSource = OptOutSource.AGENT,
    actor=None,
) -> Contact:
    contact = Contact(**_clean_fields(fields), allow_sms=allow_sms)
    _check_unique(contact)
    _check_not_suppressed(contact.mobile_number)
    contact.save()
    if tag_names:
        contact.tags.set(tags_named(tag_names))
    if not allow_sms:
        _record_opt_out(contact, False, source, actor, "created opted out")
    _schedule_push([contact.pk])
    return contact


@transaction.atomic
def update_contact(
    contact: Contact,
    fields: dict,
    *,
    tag_names: Iterable[str] | None = None,
    actor=None,
) -> Contact:
    """Change the given fields (and tags, when given) and queue the push."""
    cleaned = _clean_fields(fields)
    if cleaned.get("mobile_number", contact.mobile_number) != contact.mobile_number:
        _check_not_suppressed(cleaned["mobile_number"])
    for name, value in cleaned.items():
        setattr(contact, name, value)
    _check_unique(contact)
    # Only what changed: the instance's sync fields may be stale.
    contact.save(update_fields=[*cleaned, "full_name", "search_name", "updated_at"])
    if tag_names is not None:
        contact.tags.set(tags_named(tag_names))
    mark_dirty(Contact.objects.filter(pk=contact.pk))
    contact.refresh_from_db()
    return contact


@transaction.atomic
def delete_contact(contact: Contact) -> None:
    """Deleted here at once; removed from TxtSync by the push task, then for good."""
    never_pushed = Contact.objects.filter(
        pk=contact.pk, txtsync_id=None, pushed_version=0, add_in_doubt=False
    )
    if never_pushed.exists():
        contact.delete()  # TxtSync never knew it
        return
    Contact.objects.filter(pk=contact.pk).update(deleted_at=timezone.now())
    mark_dirty(Contact.objects.filter(pk=contact.pk))


@transaction.atomic
def erase_contact(contact: Contact) -> None:
    """GDPR erasure of the contact's own data: deleted here at once and, like a deletion,
    at TxtSync by the push task (DeleteContact, retried until TxtSync answers). Until then
    the row keeps only what that call needs (its ContactID, ExternalReference and uid):
    names, number, address, custom fields, tags, opt-out and consent history are gone
    now.
    Messages and campaign rows are their writers' (privacy.services orchestrates)."""
    delete_contact(contact)
    if not Contact.objects.filter(pk=contact.pk).exists():
        return  # TxtSync never knew it: deleted for good already
    OptOutEvent.objects.filter(contact=contact).delete()
    ConsentEvent.objects.filter(contact=contact).delete()
    Contact.tags.through.objects.filter(contact_id=contact.pk).delete()
    blank = {name: "" for name in TXTSYNC_FIELDS if name != "mobile_number"}
    Contact.objects.filter(pk=contact.pk).update(
        **blank,
        mobile_number=f"erased-{contact.pk}",  # unique, and no number
        full_name="",
        search_name="",
        sync_error="",
        **dict.fromkeys(ENGAGEMENT_COUNTERS, 0),
        last_communication_date=None,
        marketing_consent=MarketingConsent.UNKNOWN,
    )


def _record_opt_out(contact, allow_sms, source, actor, reason) -> OptOutEvent:
    """The change in the contact's history, announced (contacts.signals)."""
    event = OptOutEvent.objects.create(
        contact=contact, allow_sms=allow_sms, source=source, actor=actor, reason=reason[:300]
    )
    if not allow_sms:
        signals.contact_opted_out.send(sender=Contact, opt_outs=[event])
    else:
        signals.contact_opted_in.send(sender=Contact, opt_ins=[event])
    return event


@transaction.atomic
def set_allow_sms(
    contact: Contact,
    allow_sms: bool,
    *,
    source: OptOutSource,
    actor=None,
    reason: str = "",
    push: bool = True,
) -> bool:
    """Change AllowSMS with its history; returns whether it changed."""
    changed = (
        Contact.objects.filter(pk=contact.pk)
        .exclude(allow_sms=allow_sms)
        .update(allow_sms=allow_sms)
    )
    if not changed:
        return False
    contact.allow_sms = allow_sms
    _record_opt_out(contact, allow_sms, source, actor, reason)
    if not allow_sms and source == OptOutSource.KEYWORD:
        # PECR: a texted STOP objects to marketing too, so it withdraws consent; START
        # only lets texts through again and gives no consent back (docs/consent.md).
        set_marketing_consent(
            contact, MarketingConsent.WITHDRAWN, source=ConsentSource.KEYWORD, wording=reason
        )
    if push:
        mark_dirty(Contact.objects.filter(pk=contact.pk))
    return True


# --- Marketing consent (docs/consent.md) --------------------------------------------------

WORDING_MAX_LENGTH = ConsentEvent._meta.get_field("wording").max_length


@transaction.atomic
def set_marketing_consent(
    contact: Contact,
    consent: MarketingConsent | str,
    *,
    source: ConsentSource | str,
    actor=None,
    wording: str = "",
) -> ConsentEvent | None:
    """The one writer of marketing consent: change it with its history (a ConsentEvent)
    and announce it (signals.marketing_consent_changed). Consent given needs the wording
    the person agreed to. A change is recorded; so is consent given again with other
    wording (what they agreed to is what counts); the same consent again with the same
    (or no) wording records nothing. Returns the event, or None when nothing changed.
    Local to txtcrm: TxtSync has no such field, so nothing is pushed."""
    consent = MarketingConsent(consent)
    if consent == MarketingConsent.UNKNOWN:
        raise ContactInvalid({"marketing_consent": _("Consent is either given or withdrawn.")})
    wording = " ".join((wording or "").split())[:WORDING_MAX_LENGTH]
    if consent == MarketingConsent.GIVEN and not wording:
        raise ContactInvalid(
            {"wording": _("Write the wording the person agreed to: consent needs it.")}
        )
    current = (
        Contact.objects.select_for_update().filter(pk=contact.pk)
        .values_list("marketing_consent", flat=True).first()
    )  # fmt: skip
    if current is None:
        raise ContactInvalid({"contact": _("This contact does not exist.")})
    if current == consent:
        last = contact.consent_events.order_by("-at", "-pk").first()
        if not wording or (last is not None and last.wording == wording):
            return None
    Contact.objects.filter(pk=contact.pk).update(
        marketing_consent=consent, updated_at=timezone.now()
    )
    contact.marketing_consent = consent
    event = ConsentEvent.objects.create(
        contact=contact, consent=consent, source=source, actor=actor, wording=wording
    )
    signals.marketing_consent_changed.send(sender=Contact, changes=[event])
    return event


def mark_dirty(contacts: QuerySet[Contact]) -> None:
    """A local change the push task must send: bump the version, queue the push."""
    ids = list(contacts.values_list("pk", flat=True))
    if not ids:
        return
    Contact.objects.filter(pk__in=ids).update(
        sync_version=F("sync_version") + 1,
        sync_state=SyncState.DIRTY,
        sync_error="",
        next_push_at=timezone.now() + PUSH_DEBOUNCE,
    )
    _schedule_push(ids)


def _schedule_push(ids: list[int]) -> None:
    from contacts.tasks import push_contacts  # tasks import this module

    Contact.objects.filter(pk__in=ids, next_push_at__isnull=True).update(
        next_push_at=timezone.now() + PUSH_DEBOUNCE
    )
    transaction.on_commit(
        lambda: push_contacts.apply_async(countdown=PUSH_DEBOUNCE.total_seconds())
    )


def visible() -> QuerySet[Contact]:
    """Contacts that exist as far as people are concerned (not deleted locally)."""
    return Contact.objects.filter(deleted_at__isnull=True)


def matching(search: str = "") -> QuerySet[Contact]:
    """Search by name, number in any format, email or external reference."""
    contacts = visible()
    search = search.strip()
    if not search:
        return contacts
    query = (
        Q(search_name__contains=search.casefold())
        | Q(email_address__iexact=search)
        | Q(external_reference=search)
    )
    try:
        query |= Q(mobile_number=normalise_number(search))
    except ContactInvalid:
        digits = "".join(ch for ch in search if ch.isdigit())
        if len(digits) >= 4 and len(digits) == len(search.replace(" ", "").lstrip("+")):
            query |= Q(mobile_number__contains=digits.lstrip("0"))
    return contacts.filter(query)


def filtered(
    search: str = "",
    *,
    tag_id: int | None = None,
    allow_sms: bool | None = None,
    sync_state: str | None = None,
    marketing_consent: str | None = None,
) -> QuerySet[Contact]:
    """The contacts list's filter: the page shows it, and "all matching" bulk actions
    re-evaluate it server-side from the same parameters."""
    contacts = matching(search)
    if tag_id is not None:
        contacts = contacts.filter(tags__id=tag_id)
    if allow_sms is not None:
        contacts = contacts.filter(allow_sms=allow_sms)
    if sync_state:
        contacts = contacts.filter(sync_state=sync_state)
    if marketing_consent:
        contacts = contacts.filter(marketing_consent=marketing_consent)
    return contacts


@transaction.atomic
def set_custom_field_labels(labels: dict[str, str]) -> None:
    """Name custom01..custom05; a blank label goes back to the default (Custom0N)."""
    unknown = set(labels) - set(CUSTOM_FIELDS)
    if unknown:
        raise ContactInvalid({field: "is not a custom field" for field in sorted(unknown)})
    for field, label in labels.items():
        label = label.strip()
        if label:
            CustomFieldLabel.objects.update_or_create(field=field, defaults={"label": label})
        else:
            CustomFieldLabel.objects.filter(field=field).delete()
