"""Importing a file: its rows read, checked and planned in batches of BATCH_SIZE rows, each
batch written in one transaction. When a batch fails in the database (say the same
number was added meanwhile), it is redone row by row, each row in a savepoint of its
own, so only the culprit is reported. Also the preview: the first rows as the import
would take them, written nowhere."""

import csv
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction

from contacts import services
from contacts.csv_import.mapping import resolve_columns
from contacts.csv_import.planning import BatchOutcome, Planner
from contacts.csv_import.reading import count_lines, data_rows, inspect_file, records
from contacts.csv_import.report import ImportFileError, ImportReport
from contacts.csv_import.row_checks import CleanRow, checked_rows
from contacts.csv_import.writer import write_batch
from contacts.models import Contact

log = logging.getLogger(__name__)

BATCH_SIZE = 1000  # rows per transaction
ANALYZE_FIRST_AT = 1000  # contacts created before PostgreSQL's statistics are refreshed


class _Importer:
    """One import's batches: each planned, written and taken into the report."""

    def __init__(
        self,
        *,
        headers: list[str],
        columns: list[str | None],
        on_duplicate: str,
        tag_names_for_all: Iterable[str],
        actor,
        dry_run: bool,
        source_name: str,
    ):
        self.planner = Planner(
            headers=headers,
            columns=columns,
            on_duplicate=on_duplicate,
            tags_for_all=[name.strip() for name in tag_names_for_all if name.strip()],
        )
        self.actor = actor
        self.dry_run = dry_run
        self.source_name = source_name
        self.report = ImportReport(dry_run=dry_run)
        self.pushed = False
        self.created = 0  # contacts created so far (the report may count a dry run's)
        self.analyze_at = ANALYZE_FIRST_AT

    def run_batch(self, rows: list[CleanRow]) -> BatchOutcome:
        rejected = [row for row in rows if row.errors]
        good = [row for row in rows if not row.errors]
        if not good or self.dry_run:
            outcome = self.planner.plan(good, lock=False) if good else BatchOutcome()
            self.commit(outcome, rejected)
            return outcome
        try:
            with transaction.atomic():
                outcome = self.planner.plan(good, lock=True)
                self.write(outcome)
        except Exception:
            # Something only the database saw (e.g. the same number added meanwhile by
            # someone else): redo the batch a row at a time, so only the culprit fails.
            log.warning(
                "Import batch of rows %s-%s failed; retrying row by row",
                good[0].row,
                good[-1].row,
                exc_info=True,
            )
            self.commit(BatchOutcome(), rejected)
            return self.run_rows_alone(good)
        self.commit(outcome, rejected)
        return outcome

    def run_rows_alone(self, rows: list[CleanRow]) -> BatchOutcome:
        total = BatchOutcome()
        for row in rows:
            try:
                with transaction.atomic():
                    outcome = self.planner.plan([row], lock=True)
                    self.write(outcome)
            except Exception as error:
                log.exception("Import row %s could not be saved", row.row)
                outcome = BatchOutcome()
                outcome.fail(row, None, f"could not be saved ({error}); nothing of it was")
            self.commit(outcome, [])
            total.actions.update(outcome.actions)
        return total

    def write(self, outcome: BatchOutcome) -> None:
        write_batch(outcome, actor=self.actor, source_name=self.source_name)

    def commit(self, outcome: BatchOutcome, rejected: list[CleanRow]) -> None:
        """Take a batch's outcome (once written) and its rejected rows into the report."""
        self.planner.remember(outcome)
        errors = [*outcome.errors, *(error for row in rejected for error in row.errors)]
        for error in sorted(errors, key=lambda error: error.row):  # stable: columns in order
            self.report.add_error(error)
        self.report.failed += outcome.failed_rows + len(rejected)
        for name, n in outcome.counts.items():
            setattr(self.report, name, getattr(self.report, name) + n)
        self.pushed = self.pushed or any(item.dirty for item in outcome.items.values())
        self.created += outcome.counts.get("created", 0)
        if (
            self.created >= self.analyze_at
            and connection.vendor == "postgresql"
            and not self.dry_run
        ):
            self.analyze()

    def analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the contact tables as the import grows them.
        Plans made from statistics of a small or empty table scan it: for our lookups,
        and for the foreign key checks of each tag link and opt-out event, whose plans a
        session keeps. Seen once in bench/contacts_import.py: 2.5 billion rows read, over
        four minutes for 60% of the file; with this, 23 s for all of it (and 32 s
        without it when the checks happen to pick the index). Doing it each time the
        import has created ten times more costs two or three ANALYZEs in all."""
        self.analyze_at = self.created * 10
        ops = connection.ops
        tables = [Contact._meta.db_table, Contact.tags.through._meta.db_table]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(ops.quote_name(table) for table in tables))


def import_contacts(
    path: str | os.PathLike,
    mapping: dict[str, str | None] | None = None,
    *,
    on_duplicate: str = "merge",
    tag_names_for_all: Iterable[str] = (),
    actor=None,
    progress: Callable[[ImportReport], None] | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    source_name: str | None = None,
) -> ImportReport:
    """Import the contacts of a CSV file. `mapping` is header -> field (IMPORT_FIELDS) or
    None to ignore; None detects it from the headers. `progress(report)` is called after
    each batch. A dry run checks everything and counts what would happen, writing
    nothing. Raises ImportFileError, before writing anything, for a file it cannot
    import (not UTF-8, no header, no mobile number column, a mapping that does not fit).
    """
    layout = inspect_file(path)
    columns = resolve_columns(layout.headers, mapping)
    lines = count_lines(path)
    importer = _Importer(
        headers=layout.headers,
        columns=columns,
        on_duplicate=on_duplicate,
        tag_names_for_all=tag_names_for_all,
        actor=actor,
        dry_run=dry_run,
        source_name=source_name or Path(path).name,
    )
    report = importer.report
    report.total_rows = data_rows(layout, lines)
    batch: list[CleanRow] = []
    try:
        for record in records(path, layout):
            rows = checked_rows(record, columns, layout.headers)
            report.processed = record.last_row - 1
            report.blank += rows.count(None)
            batch.extend(row for row in rows if row is not None)
            if len(batch) >= batch_size:
                importer.run_batch(batch)
                batch = []
                if progress:
                    progress(report)
        importer.run_batch(batch)
    except csv.Error as error:  # e.g. a cell over csv's field size limit
        importer.run_batch(batch)  # the rows before it
        raise ImportFileError(
            f"The file stops being CSV at row {report.processed + 2}: {error}. "
            f"Rows before it were imported ({report.summary()})."
        ) from error
    finally:
        if importer.pushed and not dry_run:
            services._schedule_push([])  # their next_push_at is set: one push for all
    report.total_rows = report.processed
    report.finished = True
    if progress:
        progress(report)
    return report


@dataclass
class PreviewRow:
    row: int
    values: dict[str, str]  # field -> value as it would be stored
    tags: list[str]
    allow_sms: bool | None
    action: str  # "new", "merge", "skip" or "error"
    errors: list[str]


def preview(
    path: str | os.PathLike,
    mapping: dict[str, str | None] | None = None,
    rows: int = 10,
    *,
    on_duplicate: str = "merge",
) -> list[PreviewRow]:
    """The first rows as the import would take them, with each row's problems. Writes
    nothing. Raises ImportFileError as import_contacts does."""
    layout = inspect_file(path)
    columns = resolve_columns(layout.headers, mapping)
    planner = Planner(
        headers=layout.headers, columns=columns, on_duplicate=on_duplicate, tags_for_all=[]
    )
    cleaned: list[CleanRow] = []
    try:
        for record in records(path, layout):
            if len(cleaned) >= rows:
                break
            checked = checked_rows(record, columns, layout.headers)
            cleaned += [row for row in checked if row is not None]
    except (csv.Error, UnicodeDecodeError) as error:
        raise ImportFileError(f"The file cannot be read as CSV: {error}.") from error
    cleaned = cleaned[:rows]
    outcome = planner.plan([row for row in cleaned if not row.errors], lock=False)
    errors = {row.row: [str(e) for e in row.errors] for row in cleaned}
    for error in outcome.errors:
        errors[error.row].append(str(error))
    return [
        PreviewRow(
            row=row.row,
            values=row.fields,
            tags=row.tags,
            allow_sms=row.allow_sms,
            action="error" if errors[row.row] else outcome.actions.get(row.row, "error"),
            errors=errors[row.row],
        )
        for row in cleaned
    ]
