"""What each checked row of a batch does, decided before anything is written: create a
contact, merge into one (an existing contact or an earlier row's), be skipped as a
duplicate, or fail (a number of a contact being deleted, an erased person's suppressed
number, an external reference that belongs to someone else or would change). The plan
holds the contacts as they will be stored; contacts.csv_import.writer writes it."""

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from contacts import suppression
from contacts.csv_import.report import RowError
from contacts.csv_import.row_checks import CleanRow
from contacts.models import TXTSYNC_FIELDS, Contact, MarketingConsent

ON_DUPLICATE = ("merge", "skip")

# Fields an import sets on a contact; the rest of a new contact is its defaults.
WRITTEN_FIELDS = [*TXTSYNC_FIELDS, "external_reference", "allow_sms", "full_name", "search_name"]
WRITTEN_FIELDS += ["marketing_consent"]


def fresh_contact(number: str) -> SimpleNamespace:
    """A contact-to-be: the fields an import sets, with their defaults (a Contact
    instance costs more to make than the rest of the row's work)."""
    fresh = SimpleNamespace(**dict.fromkeys(WRITTEN_FIELDS, ""), pk=None)
    fresh.mobile_number, fresh.allow_sms, fresh.external_reference = number, True, None
    fresh.marketing_consent = MarketingConsent.UNKNOWN.value
    return fresh


@dataclass
class PlannedContact:
    """One contact a batch creates or merges rows into."""

    contact: Contact
    is_new: bool
    original: dict[str, Any] = field(default_factory=dict)  # values before the file's
    tags: dict[str, str] = field(default_factory=dict)  # folded -> name, to add
    existing_tags: set[str] = field(default_factory=set)  # folded names it has
    opt_outs: list[int] = field(default_factory=list)  # rows that opted it out
    consents: list[tuple[int, str]] = field(default_factory=list)  # (row, consent) changes
    merged_rows: int = 0

    @property
    def changed(self) -> set[str]:
        contact = self.contact
        return {name for name, value in self.original.items() if getattr(contact, name) != value}

    @property
    def new_tags(self) -> list[str]:
        return [name for folded, name in self.tags.items() if folded not in self.existing_tags]

    @property
    def dirty(self) -> bool:
        return self.is_new or bool(self.changed or self.new_tags)


@dataclass
class BatchOutcome:
    """What a batch did; merged into the import's state only once it is committed."""

    items: dict[str, PlannedContact] = field(default_factory=dict)  # by number
    numbers: set[str] = field(default_factory=set)  # every number the batch handled
    references: dict[str, str] = field(default_factory=dict)  # reference -> number
    errors: list[RowError] = field(default_factory=list)
    failed_rows: int = 0
    actions: dict[int, str] = field(default_factory=dict)  # row -> new/merge/skip
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def fail(self, row: CleanRow, column: str | None, message: str) -> None:
        self.errors.append(RowError(row.row, column, message))
        self.failed_rows += 1
        self.actions[row.row] = "error"


@dataclass
class _Known:
    """What the database holds about a batch's rows, read in three queries."""

    contacts: dict[str, Contact]  # by number
    reference_owners: dict[str, str]  # external reference -> number
    tags_of: dict[int, set[str]]  # contact id -> folded tag names (when merging)
    suppressed: set[str]  # numbers of erased people (contacts/suppression.py)


class Planner:
    """Plans the batches of one import, remembering the numbers and external references
    the batches before handled (once they are committed: see remember())."""

    def __init__(
        self,
        *,
        headers: list[str],
        columns: list[str | None],
        on_duplicate: str,
        tags_for_all: list[str],
    ):
        if on_duplicate not in ON_DUPLICATE:
            raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}, not {on_duplicate!r}")
        self.headers = headers
        self.columns = columns
        self.merging = on_duplicate == "merge"
        self.tags_for_all = tags_for_all
        self.seen: set[str] = set()  # numbers handled by earlier batches
        self.references: dict[str, str] = {}  # reference -> number, set by earlier batches

    def header_of(self, name: str) -> str:
        return self.headers[self.columns.index(name)]

    def remember(self, outcome: BatchOutcome) -> None:
        self.seen.update(outcome.numbers)
        self.references.update(outcome.references)

    def plan(self, rows: list[CleanRow], *, lock: bool) -> BatchOutcome:
        """The outcome of rows without errors; `lock` holds their contacts until the
        transaction ends, so nobody changes them between the plan and the write."""
        outcome = BatchOutcome()
        known = self._known(rows, lock=lock)
        for row in rows:
            self._plan_row(row, known, outcome)
        for item in outcome.items.values():
            if not item.dirty:
                outcome.count("unchanged", item.merged_rows)
            outcome.count("opted_out", len(item.opt_outs))
            outcome.count("consent_changed", len(item.consents))
        return outcome

    def _known(self, rows: list[CleanRow], *, lock: bool) -> _Known:
        numbers = {row.fields["mobile_number"] for row in rows}
        query = Contact.objects.filter(mobile_number__in=numbers)
        if not self.merging:
            query = query.only("pk", "mobile_number", "deleted_at")
        if lock:
            query = query.select_for_update()
        contacts = {contact.mobile_number: contact for contact in query}
        references = {
            row.fields["external_reference"] for row in rows if "external_reference" in row.fields
        }
        owners = (
            dict(
                Contact.objects.filter(external_reference__in=references).values_list(
                    "external_reference", "mobile_number"
                )
            )
            if references
            else {}
        )
        tags_of: dict[int, set[str]] = {}
        if self.merging and contacts:
            through = Contact.tags.through.objects.filter(
                contact_id__in=[c.pk for c in contacts.values()]
            )
            for contact_id, folded in through.values_list("contact_id", "tag__name_folded"):
                tags_of.setdefault(contact_id, set()).add(folded)
        return _Known(contacts, owners, tags_of, suppression.suppressed_among(numbers))

    def _plan_row(self, row: CleanRow, known: _Known, outcome: BatchOutcome) -> None:
        number = row.fields["mobile_number"]
        contact = known.contacts.get(number)
        earlier = number in outcome.numbers or number in self.seen
        if number in known.suppressed:
            outcome.fail(row, self.header_of("mobile_number"), suppression.refusal(number))
            return
        if contact is not None and contact.deleted_at is not None:
            outcome.fail(
                row,
                self.header_of("mobile_number"),
                f"{number} belongs to a contact deleted here that TxtSync has "
                "not removed yet; import this row again in a few minutes",
            )
            return
        item = outcome.items.get(number)
        if not self.merging and (item or contact or earlier):
            outcome.numbers.add(number)
            outcome.count("skipped")
            outcome.count("duplicates_in_file", earlier)
            outcome.actions[row.row] = "skip"
            return
        target = item.contact if item else contact
        if not self._claim_reference(row, target, known, outcome):
            return
        if item is None:
            item = self._start_item(row, contact, earlier, known, outcome)
        else:
            outcome.count("merged")
            outcome.actions[row.row] = "merge"
        if not item.is_new or number in outcome.numbers:
            item.merged_rows += 1
        outcome.count("duplicates_in_file", earlier)
        outcome.numbers.add(number)
        self._apply(item, row, outcome)

    def _claim_reference(
        self, row: CleanRow, target, known: _Known, outcome: BatchOutcome
    ) -> bool:
        """Whether the row's external reference (if any) may be the target contact's:
        nobody else's, and not another than the one it has (it never changes)."""
        reference = row.fields.get("external_reference")
        if not reference:
            return True
        number = row.fields["mobile_number"]
        owner = (
            outcome.references.get(reference)
            or known.reference_owners.get(reference)
            or self.references.get(reference)
        )
        current = target.external_reference if target else None
        if owner and owner != number:
            outcome.fail(
                row,
                self.header_of("external_reference"),
                f"{reference!r} belongs to another contact ({owner})",
            )
            return False
        if current and current != reference:
            outcome.fail(
                row,
                self.header_of("external_reference"),
                f"the contact with {number} already has the reference "
                f"{current!r}, which never changes; leave the cell empty "
                "or use that one",
            )
            return False
        outcome.references[reference] = number
        return True

    def _start_item(
        self,
        row: CleanRow,
        contact: Contact | None,
        earlier: bool,
        known: _Known,
        outcome: BatchOutcome,
    ) -> PlannedContact:
        """The batch's first row of a number: a new contact, or one to merge into."""
        number = row.fields["mobile_number"]
        if contact is None and earlier:
            # A dry run never wrote the earlier row's contact: stand in for it.
            contact = fresh_contact(number)
        item = PlannedContact(
            contact=contact or fresh_contact(number),
            is_new=contact is None,
            existing_tags=known.tags_of.get(contact.pk, set()) if contact else set(),
        )
        outcome.items[number] = item
        outcome.count("created" if item.is_new else "merged", 1)
        outcome.actions[row.row] = "new" if item.is_new else "merge"
        return item

    def _apply(self, item: PlannedContact, row: CleanRow, outcome: BatchOutcome) -> None:
        """Merge a row into its contact: non-empty cells overwrite, tags add up."""
        contact = item.contact
        consent = row.fields.get("marketing_consent")
        if consent and consent != contact.marketing_consent:
            item.consents.append((row.row, consent))
        for name, value in row.fields.items():
            if name != "mobile_number" and getattr(contact, name) != value:
                item.original.setdefault(name, getattr(contact, name))
                setattr(contact, name, value)
        for name in (*row.tags, *self.tags_for_all):
            item.tags.setdefault(name.casefold(), name)
        if row.allow_sms is False and contact.allow_sms:
            item.original.setdefault("allow_sms", True)
            contact.allow_sms = False
            item.opt_outs.append(row.row)
        elif row.allow_sms is True and not contact.allow_sms:
            outcome.count("kept_opted_out")
