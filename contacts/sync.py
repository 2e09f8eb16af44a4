"""Two-way contact sync with TxtSync (docs/contact-sync.md says it for operators): a
writer of contacts for what TxtSync says (pull, refresh, `resolve_contact` for the
receiver) and for the push's own state; people's changes go through contacts.services.

**Push** (sync-push priority): a dirty contact is claimed (dirty -> pushing,
remembering its sync_version) and its latest state sent in one call: AddContact the
first time (storing ContactID), UpdateContactByExternalReference once TxtSync has our
reference, UpdateContact (by ContactID, giving it our reference in the same call) for a
contact TxtSync knows by ContactID only, DeleteContact(ByExternalReference) for one
deleted here. If it was edited again meanwhile it goes back to dirty, so nothing is
lost and ten edits in a row cost one call. A 400 puts that contact alone in the error
state.

**Texters**: a contact TxtSync created (an inbound SMS) or a pull brought in comes with
its ContactID and is in sync as it is: no call until a person or an import changes it.

**AddContact is not idempotent**: `add_in_doubt` is set before the call and cleared
when the answer is read or the request was certainly refused; while it is set (a
timeout, a 5xx, an unreadable answer, a crash), the next push looks the contact up by
our reference first and adopts it, and adds only if it is not there (`_add_once`).

**ExternalReference**: txtcrm sends `txtcrm-<uid>` for contacts that have none. A
contact that came from TxtSync with another system's reference keeps it, and txtcrm
addresses it by that reference; it is never overwritten. A stored reference means
TxtSync has it.

**Pull** (refresh priority, only spare budget): `pull_all` reads every contact
(SearchContact with an empty search) and `refresh` re-reads the recently messaged ones
(by reference, or by number for those known by ContactID only). A full pull that fails
is recorded on its checkpoint and retried with backoff; meanwhile refresh re-reads
contact by contact. Remote-only contacts are created here. Conflicts: engagement
fields always come from TxtSync; other fields come from TxtSync unless the contact has
local edits not yet pushed (then the local edit wins and is pushed); an opt-out
(AllowSMS false) wins from either side, so opt-out state is never lost.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from contacts import services, suppression
from contacts.models import (
    ENGAGEMENT_FIELDS,
    TXTSYNC_FIELDS,
    Contact,
    OptOutSource,
    SyncCheckpoint,
    SyncState,
)
from txtcrm import txtsync_gateway as gateway
from txtsync import Contact as RemoteContact
from txtsync import (
    NotFoundError,
    OutcomeUnknown,
    ProtocolError,
    TxtSyncError,
    ValidationError,
)

log = logging.getLogger(__name__)
BATCH = 50
PUSH_LEASE = timedelta(minutes=5)


# --- Push -------------------------------------------------------------------------------


@dataclass
class PushReport:
    pushed: int = 0
    failed: int = 0
    waiting_seconds: float | None = None  # the budget said wait


def due_pushes(now: datetime) -> list[int]:
    stuck = Q(sync_state=SyncState.PUSHING, updated_at__lt=now - PUSH_LEASE)
    due = Q(sync_state=SyncState.DIRTY) & (Q(next_push_at__isnull=True) | Q(next_push_at__lte=now))
    return list(Contact.objects.filter(due | stuck).order_by("next_push_at", "pk")
                .values_list("pk", flat=True)[:BATCH])  # fmt: skip


def push_due(now: datetime | None = None, patience: float = 5) -> PushReport:
    report = PushReport()
    for contact_id in due_pushes(now or timezone.now()):
        try:
            ok = push_one(contact_id, patience=patience)
        except gateway.BudgetWait as wait:
            report.waiting_seconds = wait.seconds
            break
        if ok is True:
            report.pushed += 1
        elif ok is False:
            report.failed += 1
    return report


def _claim(contact_id: int) -> Contact | None:
    now = timezone.now()
    claimed = Contact.objects.filter(
        Q(sync_state=SyncState.DIRTY)
        | Q(sync_state=SyncState.PUSHING, updated_at__lt=now - PUSH_LEASE),
        pk=contact_id,
    ).update(sync_state=SyncState.PUSHING, updated_at=now)
    return Contact.objects.filter(pk=contact_id).first() if claimed else None


def push_one(contact_id: int, patience: float = 5) -> bool | None:
    """Push one dirty contact. True pushed, False refused, None not ours to push.
    BudgetWait propagates after the contact is put back to dirty."""
    contact = _claim(contact_id)
    if contact is None:
        return None
    version = contact.sync_version
    try:
        gateway.call(gateway.Priority.SYNC_PUSH, lambda api: _send(api, contact), patience)
    except gateway.BudgetWait as wait:
        _release(contact, SyncState.DIRTY, next_push_at=timezone.now() + timedelta(
            seconds=wait.seconds))  # fmt: skip
        raise
    except ValidationError as error:
        _release(contact, SyncState.ERROR, sync_error=f"TxtSync refused it: {error}"[:500])
        return False
    except TxtSyncError as error:  # unknown outcome or unreachable: pushes are idempotent
        log.warning("Push of contact %s will be retried: %s", contact.pk, error)
        _release(contact, SyncState.DIRTY, next_push_at=timezone.now() + timedelta(minutes=1),
                 sync_error=str(error)[:500])  # fmt: skip
        return False
    _finish(contact, version)
    return True


def _release(contact: Contact, state: SyncState, **fields) -> None:
    Contact.objects.filter(pk=contact.pk, sync_state=SyncState.PUSHING).update(
        sync_state=state, **fields
    )


def _finish(contact: Contact, version: int) -> None:
    if contact.deleted_at:
        Contact.objects.filter(pk=contact.pk, sync_version=version).delete()
        return
    fields = {"pushed_version": version, "sync_error": "", "next_push_at": None}
    Contact.objects.filter(pk=contact.pk, sync_version=version).update(
        sync_state=SyncState.CLEAN, **fields
    )
    # Edited while we pushed: push again.
    Contact.objects.filter(pk=contact.pk, sync_state=SyncState.PUSHING).exclude(
        sync_version=version
    ).update(sync_state=SyncState.DIRTY, next_push_at=timezone.now())


def _payload(contact: Contact) -> dict:
    fields = {name: getattr(contact, name) for name in TXTSYNC_FIELDS}
    fields["external_reference"] = contact.external_reference or contact.our_reference
    fields["tag_names"] = [tag.name for tag in contact.tags.all()]
    return fields


def _send(api, contact: Contact) -> None:
    if contact.deleted_at:
        _delete_remote(api, contact)
        return
    fields = _payload(contact)
    # Without a reference of ours TxtSync knows it by ContactID only (a texter, a contact
    # pulled without one): it is updated by ContactID and given the reference in that call.
    by_reference = bool(contact.external_reference)
    if contact.txtsync_id is None:
        how = _add_or_adopt(api, contact, fields)
        if how == ADDED and contact.allow_sms:
            return  # AddContact sent everything but AllowSMS, which is update-only
        by_reference = how == FOUND_BY_REFERENCE
    fields["external_reference"] = contact.external_reference or contact.our_reference
    update = {**fields, "allow_sms": contact.allow_sms}
    if by_reference:
        _update_by_reference(api, contact, update)
    else:
        api.update_contact(contact.txtsync_id, update)
        _remember(contact, external_reference=update["external_reference"])


def _update_by_reference(api, contact: Contact, update: dict) -> None:
    try:
        api.update_contact_by_external_reference(contact.external_reference, update)
    except NotFoundError:
        # TxtSync lost our reference (e.g. edited in its portal): address it by ContactID.
        api.update_contact(contact.txtsync_id, update)


def _delete_remote(api, contact: Contact) -> None:
    with contextlib.suppress(NotFoundError):  # already gone there
        if contact.external_reference or contact.txtsync_id is None:
            api.delete_contact_by_external_reference(
                contact.external_reference or contact.our_reference
            )
        else:  # never given our reference: TxtSync knows it by ContactID only
            api.delete_contact(contact.txtsync_id)


def _remember(contact: Contact, **fields) -> None:
    """Store what TxtSync now knows (its ContactID, our reference) on the row and the
    instance, whatever happens to the rest of the push."""
    Contact.objects.filter(pk=contact.pk).update(**fields)
    for name, value in fields.items():
        setattr(contact, name, value)


ADDED, FOUND_BY_REFERENCE, ADOPTED_BY_NUMBER = "added", "found", "adopted"


def _add_or_adopt(api, contact: Contact, fields: dict) -> str:
    """Give the contact a ContactID: AddContact, or adopt the contact TxtSync already has
    (found by our reference after an add in doubt, or by its number). Returns how."""
    reference = fields["external_reference"]
    try:
        contact_id, how = _add_once(api, contact, fields)
    except ValidationError as error:
        if not _names_mobile_number(error):
            raise
        contact_id, how = _adopt_by_number(api, contact, error), ADOPTED_BY_NUMBER
        reference = contact.external_reference  # TxtSync's, if it had one
    _remember(contact, txtsync_id=contact_id, external_reference=reference, add_in_doubt=False)
    return how


def _add_once(api, contact: Contact, fields: dict) -> tuple[int, str]:
    """AddContact, never twice for one contact: AddContact is not idempotent, so after an
    add whose outcome is unknown (timeout, 5xx, unreadable answer, a worker killed while
    waiting) the contact is looked up by our reference before any other AddContact."""
    if contact.add_in_doubt:
        found = _by_reference(api, fields["external_reference"])
        if found is not None:
            return found.contact_id, FOUND_BY_REFERENCE
    _remember(contact, add_in_doubt=True)  # committed before the call: survives a crash
    try:
        return api.add_contact(fields).contact_id, ADDED
    except (OutcomeUnknown, ProtocolError):
        raise  # perhaps created: the retry looks first
    except TxtSyncError:
        _remember(contact, add_in_doubt=False)  # refused or never sent: nothing created
        raise


def _by_reference(api, reference: str) -> RemoteContact | None:
    """The TxtSync contact with this ExternalReference (a 404 or [] means none)."""
    try:
        found = api.get_contact_by_external_reference(reference)
    except NotFoundError:
        return None
    return found[0] if found else None


def _names_mobile_number(error: ValidationError) -> bool:
    """The duplicate-number 400, in either shape (txtsync.errors names the field:
    "MobileNumber", perhaps qualified as ASP.NET's "contact.MobileNumber")."""
    return (error.field or "").rpartition(".")[2] == "MobileNumber"


def _adopt_by_number(api, contact: Contact, error: ValidationError) -> int:
    """TxtSync already has the number: that contact becomes ours (it keeps another
    system's reference; else it gets ours with the update that follows)."""
    number = contact.mobile_number
    remote = next((c for c in api.search_contacts(search_number=number)
                   if c.mobile_number == number), None)  # fmt: skip
    if remote is None:
        raise error
    if remote.external_reference and not contact.external_reference:
        _remember(contact, external_reference=remote.external_reference)
    return remote.contact_id


# --- Pull -------------------------------------------------------------------------------


@dataclass
class PullReport:
    created: int = 0
    updated: int = 0
    opted_out: int = 0
    skipped: int = 0  # TxtSync records that could not be applied (logged)
    suppressed: int = 0  # erased people TxtSync still has: not created again (GDPR)
    full_pull_failed: str = ""  # why, when the full pull failed and refresh went on without it


def pull_all(patience: float = 30) -> PullReport:
    """Import or refresh every TxtSync contact (SearchContact with an empty search)."""
    remote = gateway.call(gateway.Priority.REFRESH, lambda api: api.search_contacts(""),
                          patience)  # fmt: skip
    report = PullReport()
    for item in remote:
        _apply_or_skip(item, report)
    return report


def _apply_or_skip(remote: RemoteContact, report: PullReport) -> None:
    """One record that cannot be applied (its number is another contact's here, a value
    the database refuses) is logged and skipped, never the end of the pull."""
    try:
        apply_remote(remote, report)
    except DatabaseError:
        log.exception("TxtSync contact %s skipped: it could not be applied", remote.contact_id)
        report.skipped += 1


FULL_PULL_EVERY = timedelta(hours=24)
# After a failed full pull: the first retry, doubled after each failure in a row (at most
# FULL_PULL_EVERY). Meanwhile refresh re-reads contacts one by one.
FULL_PULL_RETRY = timedelta(minutes=15)
REFRESH_AFTER = timedelta(minutes=10)


def refresh(limit: int = 20, patience: float = 5) -> PullReport:
    """The periodic pull, with spare budget only: a full import on the first run and
    daily (to find contacts created elsewhere), otherwise a re-read of contacts not
    pulled for a while, recently messaged first. A full pull that fails is recorded on
    its checkpoint and retried later with backoff; this run re-reads contacts instead.
    Stops at the first wait."""
    now = timezone.now()
    checkpoint, _ = SyncCheckpoint.objects.get_or_create(name="full_pull")
    if not _full_pull_due(checkpoint, now):
        return _refresh_stale(now, limit, patience, PullReport())
    try:
        report = pull_all(patience)
    except gateway.BudgetWait:
        return PullReport()
    except TxtSyncError as error:
        _full_pull_failed(checkpoint, now, error)
        return _refresh_stale(now, limit, patience, PullReport(full_pull_failed=str(error)))
    SyncCheckpoint.objects.filter(pk=checkpoint.pk).update(
        at=now, failures=0, last_error="", retry_at=None
    )
    return report


def _full_pull_due(checkpoint: SyncCheckpoint, now: datetime) -> bool:
    if checkpoint.retry_at is not None:  # it failed: not before its retry time
        return checkpoint.retry_at <= now
    return checkpoint.at is None or checkpoint.at < now - FULL_PULL_EVERY


def _full_pull_failed(checkpoint: SyncCheckpoint, now: datetime, error: TxtSyncError) -> None:
    failures = checkpoint.failures + 1
    retry_at = now + min(FULL_PULL_RETRY * 2 ** min(failures - 1, 10), FULL_PULL_EVERY)
    log.warning(
        "Full contact pull failed (%d in a row), retried at %s; refreshing contact by "
        "contact meanwhile: %s", failures, retry_at.isoformat(), error,
    )  # fmt: skip
    SyncCheckpoint.objects.filter(pk=checkpoint.pk).update(
        failures=failures, failed_at=now, last_error=str(error)[:500], retry_at=retry_at
    )


def _refresh_stale(now: datetime, limit: int, patience: float, report: PullReport) -> PullReport:
    """Re-read the contacts not pulled for a while, recently messaged first, one call each."""
    stale = (
        services.visible()
        .filter(txtsync_id__isnull=False, sync_state=SyncState.CLEAN)
        .filter(Q(last_pulled_at__isnull=True) | Q(last_pulled_at__lt=now - REFRESH_AFTER))
        .order_by(F("last_communication_date").desc(nulls_last=True), "last_pulled_at")
    )
    for contact in stale[:limit]:
        try:
            found = gateway.call(
                gateway.Priority.REFRESH, lambda api, c=contact: fetch_remote(api, c), patience
            )
        except gateway.BudgetWait:
            break
        except TxtSyncError as error:  # a refresh is spare work: the next run tries again
            log.info("Refresh stopped: %s", error)
            break
        if found is None:  # not there (any more): checked, so it does not hold up the rest
            Contact.objects.filter(pk=contact.pk).update(last_pulled_at=now)
            continue
        _apply_or_skip(found, report)
    return report


def fetch_remote(api, contact: Contact) -> RemoteContact | None:
    """TxtSync's copy of a contact in one call (None: not there): by ExternalReference
    when TxtSync has ours, else (known by ContactID only) by number, matched by ContactID."""
    if contact.external_reference:
        return _by_reference(api, contact.external_reference)
    found = api.search_contacts(search_number=contact.mobile_number)
    return next((c for c in found if c.contact_id == contact.txtsync_id), None)


def _find_local(remote: RemoteContact) -> Contact | None:
    return _lookup(remote.contact_id, remote.external_reference, remote.mobile_number)


def _lookup(txtsync_id: int | None, reference: str | None, number: str | None) -> Contact | None:
    """By ContactID, then ExternalReference, then number."""
    for field, value in (
        ("txtsync_id", txtsync_id),
        ("external_reference", reference),
        ("mobile_number", number),
    ):
        found = Contact.objects.filter(**{field: value}).first() if value else None
        if found:
            return found
    return None


@transaction.atomic
def apply_remote(remote: RemoteContact, report: PullReport) -> Contact | None:
    """Merge one TxtSync contact into the mirror by the documented conflict rule. Any
    optional field may be missing (None): text reads as empty, counts as 0, AllowSMS as
    allowed; a missing number never clears ours, and without one nothing is created."""
    local = _find_local(remote)
    if local is not None and local.deleted_at:
        return None  # deleted here: the push will delete it there
    now = timezone.now()
    remote_fields = _remote_fields(remote)
    engagement = {name: _count(getattr(remote, name)) for name in ENGAGEMENT_FIELDS}
    engagement["last_communication_date"] = remote.last_communication_date
    if local is None:
        return _create_from_remote(remote, {**remote_fields, **engagement}, now, report)
    changes = {**engagement, "last_pulled_at": now}
    if remote.contact_id:
        changes["txtsync_id"] = remote.contact_id
    if local.sync_state == SyncState.CLEAN:
        changes.update(remote_fields)
        if remote.external_reference and not local.external_reference:
            changes["external_reference"] = remote.external_reference
    Contact.objects.filter(pk=local.pk).update(**changes)
    if remote.allow_sms is False and local.allow_sms:
        services.set_allow_sms(local, False, source=OptOutSource.TXTSYNC,
                               reason="opted out in TxtSync", push=False)  # fmt: skip
        report.opted_out += 1
    elif remote.allow_sms and not local.allow_sms and local.sync_state == SyncState.CLEAN:
        # Opted out here but allowed there: opt-out wins, so tell TxtSync again.
        services.mark_dirty(Contact.objects.filter(pk=local.pk))
    report.updated += 1
    return local


def _create_from_remote(
    remote: RemoteContact, fields: dict, now: datetime, report: PullReport
) -> Contact | None:
    """A contact only TxtSync had; none without a number, nor for an erased person's."""
    if not fields.get("mobile_number"):
        report.skipped += 1  # the number is the one thing a contact here must have
        return None
    if suppression.is_suppressed(fields["mobile_number"]):
        report.suppressed += 1  # erased here: never brought back (docs/privacy.md)
        return None
    local = _create_known_remotely(
        remote.contact_id, remote.external_reference, **fields,
        allow_sms=remote.allow_sms is not False, last_pulled_at=now,
    )  # fmt: skip
    report.created += 1
    if remote.allow_sms is False:
        services._record_opt_out(local, False, OptOutSource.TXTSYNC, None, "pulled")
        report.opted_out += 1
    return local


def _remote_fields(remote: RemoteContact) -> dict[str, str]:
    """The writable fields as text that fits our columns; no empty number."""
    fields = {}
    for name in TXTSYNC_FIELDS:
        value = getattr(remote, name)
        text = "" if value is None else str(value).strip()
        fields[name] = text[: Contact._meta.get_field(name).max_length]
    if not fields["mobile_number"]:
        del fields["mobile_number"]
    return fields


def _count(value) -> int:
    """An engagement counter: missing or unreadable is 0, never negative."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def resolve_contact(
    txtsync_id: int | None, reference: str | None, number: str, name: str = ""
) -> Contact:
    """The local contact a notification speaks of: by ContactID, then ExternalReference,
    then number; created (already in TxtSync) when unknown."""
    found = _lookup(txtsync_id, reference, number)
    if found:
        if txtsync_id and found.txtsync_id is None:
            Contact.objects.filter(pk=found.pk).update(txtsync_id=txtsync_id)
        return found
    first, _, last = name.strip().partition(" ")
    return _create_known_remotely(
        txtsync_id, reference, mobile_number=number, first_name=first, last_name=last
    )


def _create_known_remotely(txtsync_id: int | None, reference: str | None, **fields) -> Contact:
    """A local copy of a contact TxtSync already has. Identified by TxtSync (ContactID
    or reference) it is in sync as it is and costs no call until it is changed here;
    the push then gives it our reference. Without either it is pushed once (AddContact,
    which adopts it by its number)."""
    identified = bool(txtsync_id or reference)
    return Contact.objects.create(
        txtsync_id=txtsync_id or None,
        external_reference=reference or None,
        pushed_version=1,
        sync_state=SyncState.CLEAN if identified else SyncState.DIRTY,
        **fields,
    )
