"""What an import tells its reader: the errors of a file or of a row, and the report
(counters, the first MAX_ERRORS errors, one sentence in the reader's language)."""

from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import ngettext

MAX_ERRORS = 1000  # errors kept in a report (all are counted)


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message says what to fix."""


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str | None  # the header of the column at fault, None for the row as a whole
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"


def counted(text: str, count: int) -> str:
    """`text` with its %(count)s, grouped as the active language groups thousands."""
    return text % {"count": number_format(count, force_grouping=True)}


@dataclass
class ImportReport:
    total_rows: int = 0  # data rows in the file (an estimate until finished)
    processed: int = 0  # data rows read so far
    created: int = 0  # new contacts
    merged: int = 0  # rows merged into an existing contact or an earlier row
    unchanged: int = 0  # merged rows that changed nothing
    skipped: int = 0  # duplicate rows left alone (on_duplicate="skip")
    failed: int = 0  # rows not imported, see errors
    blank: int = 0  # empty rows, ignored
    duplicates_in_file: int = 0  # rows whose number an earlier row already had
    opted_out: int = 0  # contacts the file opted out (one OptOutEvent each)
    kept_opted_out: int = 0  # rows allowing SMS to someone who opted out: not applied
    consent_changed: int = 0  # marketing consent changes (one ConsentEvent each)
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    dry_run: bool = False
    finished: bool = False

    @property
    def imported(self) -> int:
        return self.created + self.merged

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def counters(self) -> dict[str, int]:
        names = ["created", "merged", "unchanged", "skipped", "failed", "blank"]
        names += ["duplicates_in_file", "opted_out", "kept_opted_out", "consent_changed"]
        return {name: getattr(self, name) for name in names}

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_rows": self.total_rows,
            "processed_rows": self.processed,
            "counters": self.counters(),
            "imported": self.imported,
            "error_count": self.error_count,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message, "text": str(e)}
                for e in self.errors
            ],
            "dry_run": self.dry_run,
            "finished": self.finished,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> "ImportReport":
        """The counters of as_dict() back (not the errors): to word a report again."""
        return cls(
            total_rows=state["total_rows"],
            processed=state["processed_rows"],
            dry_run=state["dry_run"],
            finished=state["finished"],
            **state["counters"],
        )

    def summary(self) -> str:
        """One sentence, in the active language (the report page words it again for its
        reader; commands and the job's state file in English)."""
        counts = {
            name: number_format(getattr(self, name), force_grouping=True)
            for name in ("imported", "processed", "created", "merged", "skipped", "failed")
        }
        if self.dry_run:
            text = ngettext(
                "Would import %(imported)s of %(processed)s row: %(created)s created, "
                "%(merged)s merged, %(skipped)s skipped, %(failed)s failed",
                "Would import %(imported)s of %(processed)s rows: %(created)s created, "
                "%(merged)s merged, %(skipped)s skipped, %(failed)s failed",
                self.processed,
            )
        else:
            text = ngettext(
                "Imported %(imported)s of %(processed)s row: %(created)s created, "
                "%(merged)s merged, %(skipped)s skipped, %(failed)s failed",
                "Imported %(imported)s of %(processed)s rows: %(created)s created, "
                "%(merged)s merged, %(skipped)s skipped, %(failed)s failed",
                self.processed,
            )
        notes = []
        if n := self.duplicates_in_file:
            notes.append(
                counted(
                    ngettext(
                        "%(count)s repeated a number of an earlier row",
                        "%(count)s repeated a number of an earlier row",
                        n,
                    ),
                    n,
                )
            )
        if n := self.unchanged:
            notes.append(
                counted(
                    ngettext(
                        "%(count)s merged row changed nothing",
                        "%(count)s merged rows changed nothing",
                        n,
                    ),
                    n,
                )
            )
        if n := self.opted_out:
            notes.append(counted(ngettext("%(count)s opted out", "%(count)s opted out", n), n))
        if n := self.kept_opted_out:
            notes.append(
                counted(
                    ngettext(
                        "%(count)s row allowed SMS to a contact who opted out: they stay opted "
                        "out unless a person opts them in on the contact page",
                        "%(count)s rows allowed SMS to contacts who opted out: they stay opted "
                        "out unless a person opts them in on the contact page",
                        n,
                    ),
                    n,
                )
            )
        if n := self.blank:
            notes.append(
                counted(
                    ngettext("%(count)s blank row ignored", "%(count)s blank rows ignored", n), n
                )
            )
        text %= counts
        return text + ("" if not notes else " (" + "; ".join(notes) + ")")
