"""Writing a planned batch (contacts.csv_import.planning), the fastest way each database
offers and never a query per row: new contacts and tag links by COPY on PostgreSQL
(executemany of one prepared INSERT on SQLite), merged contacts by one UPDATE each, the
few opt-out events by the ORM. Every contact written is marked dirty (version bumped,
push time set) as contacts.services.mark_dirty does. The caller holds the transaction."""

import uuid
from collections.abc import Callable

from django.db import connection, models
from django.utils import timezone

from contacts import services, signals
from contacts.csv_import.planning import WRITTEN_FIELDS, BatchOutcome, PlannedContact
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    OptOutEvent,
    OptOutSource,
    SyncState,
)

CONSENT_COLUMNS = ["contact", "consent", "source", "actor", "wording", "at"]
WORDING_MAX_LENGTH = services.WORDING_MAX_LENGTH


def write_batch(outcome: BatchOutcome, *, actor, source_name: str) -> None:
    """Write the contacts of a planned batch that it creates or changes. Rows go by
    _insert_rows: the ORM's bulk_create would spend most of the import compiling SQL,
    26 rows at a time on SQLite."""
    now = timezone.now()
    push_at = now + services.PUSH_DEBOUNCE
    items = [item for item in outcome.items.values() if item.dirty]
    for item in items:
        contact = item.contact
        contact.full_name = " ".join(
            p for p in (contact.first_name.strip(), contact.last_name.strip()) if p
        )
        contact.search_name = contact.full_name.casefold()
    _insert_contacts([item.contact for item in items if item.is_new], now, push_at)
    _update_contacts([item.contact for item in items if not item.is_new], now, push_at)
    _link_tags(items)
    _record_opt_outs(items, actor, source_name)
    _record_consents(items, actor, source_name, now)


def _insert_contacts(new: list, now, push_at) -> None:
    """Insert new contacts and set their ids."""
    if not new:
        return
    # PostgreSQL: ids drawn from the sequence first, as COPY returns none.
    for contact, pk in zip(new, _next_ids(len(new)), strict=True):
        contact.pk = pk
    columns, make_row = _new_contact_rows(now, push_at, with_id=new[0].pk is not None)
    _insert_rows(Contact._meta.db_table, columns, [make_row(c) for c in new])
    if new[0].pk is None:
        ids = dict(
            Contact.objects.filter(mobile_number__in=[c.mobile_number for c in new])
            .values_list("mobile_number", "pk")
        )  # fmt: skip
        for contact in new:
            contact.pk = ids[contact.mobile_number]


def _update_contacts(merged: list[Contact], now, push_at) -> None:
    if not merged:
        return
    sql, make_row = _update_contact_rows(now, push_at)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [make_row(contact) for contact in merged])


def _link_tags(items: list[PlannedContact]) -> None:
    """Add the tags the batch gives its contacts (creating the tags that do not exist)."""
    wanted = {name.casefold(): name for item in items for name in item.new_tags}
    if not wanted:
        return
    tags = {tag.name_folded: tag.pk for tag in services.tags_named(wanted.values())}
    through = Contact.tags.through._meta
    columns = [through.get_field(name).column for name in ("contact", "tag")]
    for is_new in (True, False):  # a merged contact may gain a tag meanwhile
        links = [
            (item.contact.pk, tags[name.casefold()])
            for item in items
            if item.is_new is is_new
            for name in item.new_tags
        ]
        _insert_rows(through.db_table, columns, links, ignore_conflicts=not is_new)


def _record_opt_outs(items: list[PlannedContact], actor, source_name: str) -> None:
    """One OptOutEvent per row that opted its contact out, and the signal that says so."""
    opt_outs = OptOutEvent.objects.bulk_create(
        OptOutEvent(
            contact_id=item.contact.pk,
            allow_sms=False,
            source=OptOutSource.IMPORT,
            actor=actor,
            reason=f"import of {source_name}, row {row}"[:300],
        )
        for item in items
        for row in item.opt_outs
    )
    if opt_outs:
        signals.contact_opted_out.send(sender=Contact, opt_outs=opt_outs)


def _record_consents(items: list[PlannedContact], actor, source_name: str, now) -> None:
    """One ConsentEvent per row that changed its contact's marketing consent, written as
    the contacts are (COPY on PostgreSQL: an import may record one for every row), and the
    signal that says so (with the events as written, without their ids; made only when
    someone listens, as model instances cost more than the rest of the row's work)."""
    changes = [
        (item.contact.pk, consent, f"import of {source_name}, row {row}"[:WORDING_MAX_LENGTH])
        for item in items
        for row, consent in item.consents
    ]
    if not changes:
        return
    meta = ConsentEvent._meta
    columns = [meta.get_field(name).column for name in CONSENT_COLUMNS]
    at = meta.get_field("at").get_db_prep_save(now, connection)
    actor_id = actor.pk if actor is not None else None
    source = ConsentSource.IMPORT.value
    _insert_rows(
        meta.db_table,
        columns,
        [
            [contact, consent, source, actor_id, wording, at]
            for contact, consent, wording in changes
        ],
    )
    if signals.marketing_consent_changed.has_listeners(Contact):
        events = [
            ConsentEvent(contact_id=contact, consent=consent, source=source, actor=actor,
                         wording=wording, at=now)
            for contact, consent, wording in changes
        ]  # fmt: skip
        signals.marketing_consent_changed.send(sender=Contact, changes=events)


def _next_ids(count: int) -> list[int | None]:
    """`count` ids from the contact table's sequence on PostgreSQL; Nones elsewhere."""
    if connection.vendor != "postgresql":
        return [None] * count
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Contact._meta.db_table, Contact._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _new_contact_rows(now, push_at, *, with_id: bool) -> tuple[list[str], Callable]:
    """The columns of a new contact and a function giving its values: the fields an
    import sets (and its id, when drawn already), a new uid, dirty with its push time,
    every other field's default."""
    fields = [
        f
        for f in Contact._meta.concrete_fields
        if (with_id or not f.primary_key) and f.db_default is models.NOT_PROVIDED
    ]
    constants = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = {"sync_state": SyncState.DIRTY.value, "next_push_at": push_at}.get(
                f.attname, f.get_default()
            )
        constants[f.attname] = f.get_db_prep_save(value, connection)
    names = ["pk" if f.primary_key else f.attname for f in fields]
    written = [name in WRITTEN_FIELDS or name == "pk" for name in names]
    template = [constants[f.attname] for f in fields]
    uid_index, uid = names.index("uid"), Contact._meta.get_field("uid")

    def make_row(contact) -> list:
        row = [
            getattr(contact, n) if w else v
            for n, w, v in zip(names, written, template, strict=True)
        ]
        row[uid_index] = uid.get_db_prep_save(uuid.uuid4(), connection)
        return row

    return [f.column for f in fields], make_row


def _update_contact_rows(now, push_at) -> tuple[str, Callable]:
    """UPDATE of a merged contact: the fields an import sets (from the row, which the
    batch holds locked), its version bumped and marked dirty, as services.mark_dirty."""
    ops = connection.ops
    names = [*WRITTEN_FIELDS, "updated_at", "sync_version", "sync_state", "sync_error"]
    names += ["next_push_at", "id"]
    column = {name: ops.quote_name(Contact._meta.get_field(name).column) for name in names}
    assignments = ", ".join(f"{column[name]} = %s" for name in WRITTEN_FIELDS)
    version = column["sync_version"]
    assignments += f", {column['updated_at']} = %s, {version} = {version} + 1"
    assignments += f", {column['sync_state']} = %s, {column['sync_error']} = ''"
    assignments += f", {column['next_push_at']} = %s"
    table = ops.quote_name(Contact._meta.db_table)
    # Identifiers come from the model; values are parameters.
    sql = f"UPDATE {table} SET {assignments} WHERE {column['id']} = %s"  # noqa: S608
    now_db = ops.adapt_datetimefield_value(now)
    push_db = ops.adapt_datetimefield_value(push_at)
    dirty = SyncState.DIRTY.value

    def make_row(contact: Contact) -> list:
        values = [getattr(contact, name) for name in WRITTEN_FIELDS]
        return [*values, now_db, dirty, push_db, contact.pk]

    return sql, make_row


def _insert_rows(
    table: str, columns: list[str], rows: list, *, ignore_conflicts: bool = False
) -> None:
    """Insert rows of database values, the fastest way each database offers: COPY on
    PostgreSQL (30 times faster here than 500-row INSERTs, which it parses and plans one
    by one), one prepared INSERT run per row elsewhere (executemany: SQLite's best).
    `ignore_conflicts` skips rows a unique constraint refuses (never with COPY)."""
    if not rows:
        return
    ops = connection.ops
    names = ", ".join(ops.quote_name(column) for column in columns)
    target = f"{ops.quote_name(table)} ({names})"
    if connection.vendor == "postgresql" and not ignore_conflicts:
        connection.ensure_connection()
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {target} FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    values = ", ".join(["%s"] * len(columns))
    # Both SQLite (3.24+) and PostgreSQL know ON CONFLICT DO NOTHING.
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {target} VALUES ({values}){suffix}", rows)  # noqa: S608
