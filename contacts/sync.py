"""Two-way contact sync with TxtSync.

**Push** (sync-push priority): a dirty contact is claimed (dirty -> pushing,
remembering its sync_version) and its latest state sent: AddContact the first
time (storing ContactID), then UpdateContactByExternalReference, or
DeleteContactByExternalReference for a contact deleted here. If it was edited
again meanwhile it goes back to dirty, so nothing is lost and ten edits in a
row cost one call. A 400 puts that contact alone in the error state.

**ExternalReference**: txtcrm sends `txtcrm-<uid>` for contacts that have none.
A contact that came from TxtSync with another system's reference keeps it, and
txtcrm addresses it by that reference; it is never overwritten.

**Pull** (refresh priority, only spare budget): `pull_all` reads every contact
(SearchContact with an empty search) and `refresh` re-reads the recently
messaged ones (GetContactByExternalReference). Remote-only contacts are
created here. Conflicts: engagement fields always come from TxtSync; other
fields come from TxtSync unless the contact has local edits not yet pushed
(then the local edit wins and is pushed); an opt-out (AllowSMS false) wins
from either side, so opt-out state is never lost.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from contacts import services
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
from txtsync import NotFoundError, TxtSyncError, ValidationError

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
    reference = contact.external_reference or contact.our_reference
    if contact.deleted_at:
        with contextlib.suppress(NotFoundError):  # already gone there
            api.delete_contact_by_external_reference(reference)
        return
    fields = _payload(contact)
    if contact.txtsync_id is None:
        contact.txtsync_id, adopted = _add_or_adopt(api, contact, fields)
        reference = contact.external_reference or reference
        Contact.objects.filter(pk=contact.pk).update(
            txtsync_id=contact.txtsync_id, external_reference=reference
        )
        if contact.allow_sms and not adopted:
            return  # AddContact sent everything but AllowSMS, which is update-only
    update = {**fields, "allow_sms": contact.allow_sms}
    try:
        api.update_contact_by_external_reference(reference, update)
    except NotFoundError:
        # TxtSync lost our reference (e.g. edited in its portal): address it by ContactID.
        api.update_contact(contact.txtsync_id, update)


def _add_or_adopt(api, contact: Contact, fields: dict) -> tuple[int, bool]:
    """AddContact; if TxtSync already has the number, adopt that contact instead.
    Returns (ContactID, adopted)."""
    try:
        return api.add_contact(fields).contact_id, False
    except ValidationError as error:
        if error.field != "MobileNumber":
            raise
        [remote] = [c for c in api.search_contacts(search_number=contact.mobile_number)
                    if c.mobile_number == contact.mobile_number] or [None]  # fmt: skip
        if remote is None:
            raise
        if remote.external_reference and not contact.external_reference:
            Contact.objects.filter(pk=contact.pk).update(
                external_reference=remote.external_reference
            )
            contact.external_reference = remote.external_reference
        else:
            reference = {"external_reference": fields["external_reference"]}
            api.update_contact(remote.contact_id, reference)
        return remote.contact_id, True


# --- Pull -------------------------------------------------------------------------------


@dataclass
class PullReport:
    created: int = 0
    updated: int = 0
    opted_out: int = 0


def pull_all(patience: float = 30) -> PullReport:
    """Import or refresh every TxtSync contact (SearchContact with an empty search)."""
    remote = gateway.call(gateway.Priority.REFRESH, lambda api: api.search_contacts(""),
                          patience)  # fmt: skip
    report = PullReport()
    for item in remote:
        apply_remote(item, report)
    return report


FULL_PULL_EVERY = timedelta(hours=24)
REFRESH_AFTER = timedelta(minutes=10)


def refresh(limit: int = 20, patience: float = 5) -> PullReport:
    """The periodic pull, with spare budget only: a full import on the first run and
    daily (to find contacts created elsewhere), otherwise a re-read of contacts not
    pulled for a while, recently messaged first. Stops at the first wait."""
    now = timezone.now()
    checkpoint = SyncCheckpoint.objects.filter(name="full_pull").first()
    if checkpoint is None or checkpoint.at < now - FULL_PULL_EVERY:
        try:
            report = pull_all(patience)
        except gateway.BudgetWait:
            return PullReport()
        SyncCheckpoint.objects.update_or_create(name="full_pull", defaults={"at": now})
        return report
    report = PullReport()
    stale = (
        services.visible()
        .filter(txtsync_id__isnull=False, sync_state=SyncState.CLEAN)
        .filter(Q(last_pulled_at__isnull=True) | Q(last_pulled_at__lt=now - REFRESH_AFTER))
        .order_by(F("last_communication_date").desc(nulls_last=True), "last_pulled_at")
    )
    for contact in stale[:limit]:
        reference = contact.external_reference or contact.our_reference
        try:
            found = gateway.call(
                gateway.Priority.REFRESH,
                lambda api, ref=reference: api.get_contact_by_external_reference(ref),
                patience,
            )
        except NotFoundError:
            continue
        except gateway.BudgetWait:
            break
        for item in found:
            apply_remote(item, report)
    return report


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
    """Merge one TxtSync contact into the mirror by the documented conflict rule."""
    local = _find_local(remote)
    if local is not None and local.deleted_at:
        return None  # deleted here: the push will delete it there
    now = timezone.now()
    remote_fields = {name: getattr(remote, name) or "" for name in TXTSYNC_FIELDS}
    engagement = {name: getattr(remote, name) for name in ENGAGEMENT_FIELDS}
    engagement = {k: v if v is not None or k == "last_communication_date" else 0
                  for k, v in engagement.items()}  # fmt: skip
    if local is None:
        local = _create_known_remotely(
            remote.contact_id, remote.external_reference, **remote_fields, **engagement,
            allow_sms=remote.allow_sms is not False, last_pulled_at=now,
        )  # fmt: skip
        report.created += 1
        if remote.allow_sms is False:
            services._record_opt_out(local, False, OptOutSource.TXTSYNC, None, "pulled")
            report.opted_out += 1
        return local
    changes = {**engagement, "txtsync_id": remote.contact_id, "last_pulled_at": now}
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
    """A local copy of a contact TxtSync already has. Without a reference it is pushed
    once, to give it ours; with one it is in sync."""
    return Contact.objects.create(
        txtsync_id=txtsync_id,
        external_reference=reference or None,
        pushed_version=1,
        sync_state=SyncState.CLEAN if reference else SyncState.DIRTY,
        **fields,
    )
