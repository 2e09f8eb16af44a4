"""Contact import from CSV files: column mapping, preview, bulk import and import jobs.

The file is streamed (never read whole) and written in batches (importer.BATCH_SIZE
rows), one transaction each, with a few bulk statements per batch (COPY on PostgreSQL,
executemany on SQLite), never a query per row (see bench/contacts_import.py).

Rules an import keeps, the same as contacts.services:
- a number is stored in E.164 form and belongs to one contact; a row whose number
  is already taken (by an existing contact or an earlier row of the file) is merged
  into that contact (non-empty cells overwrite, tags are added) or skipped, as
  `on_duplicate` says;
- a row is applied whole or not at all: any problem with a row is reported with its
  row number (the header is row 1, as a spreadsheet shows it), its column and what to
  fix, and the rest of the file is imported regardless;
- every contact created or changed is marked dirty (version bumped, push time set),
  and one push is queued when the import ends;
- a file may opt contacts out (an OptOutEvent with source "import" records it), but
  never opts back in someone who opted out: that takes a person, on the contact page;
- a file never changes a contact's ExternalReference once set: TxtSync knows the
  contact by it (see contacts.sync).

The modules, in the order a row meets them:
- reading: the file (UTF-8 check, delimiter, "sep=" line) and its rows, streamed;
- mapping: which field each column holds (detected from the headers, or given);
- row_checks: one row checked and normalised, with its errors (RowError);
- planning: what each row of a batch does (create, merge, skip, fail);
- writer: a planned batch written (COPY on PostgreSQL, executemany on SQLite);
- importer: the batch loop (a transaction per batch, row by row when one fails),
  import_contacts() and preview();
- jobs: an import in the background, its state in VAR_DIR/imports/<job id>/state.json,
  run by the Celery task contacts.import_csv (contacts/csv_tasks.py);
- report: the report of an import and the errors it tells of.

Callers use the names below, not the modules.
"""

from contacts.csv_import.importer import PreviewRow, import_contacts, preview
from contacts.csv_import.jobs import (
    JobNotFound,
    job_status,
    jobs_dir,
    run_import_job,
    start_import_job,
)
from contacts.csv_import.mapping import IGNORE, IMPORT_FIELDS, detect_mapping, full_mapping
from contacts.csv_import.planning import ON_DUPLICATE
from contacts.csv_import.reading import read_headers
from contacts.csv_import.report import ImportFileError, ImportReport, RowError
from txtcrm.spreadsheet import FORMULA_STARTS

__all__ = [
    "FORMULA_STARTS",
    "IGNORE",
    "IMPORT_FIELDS",
    "ON_DUPLICATE",
    "ImportFileError",
    "ImportReport",
    "JobNotFound",
    "PreviewRow",
    "RowError",
    "detect_mapping",
    "full_mapping",
    "import_contacts",
    "job_status",
    "jobs_dir",
    "preview",
    "read_headers",
    "run_import_job",
    "start_import_job",
]
