"""Import jobs: an import in the background, its state in a JSON file rather than a model.

`VAR_DIR/imports/<job id>/state.json` holds the status, mapping, options, row counts,
counters, the first MAX_ERRORS errors and the error total, rewritten atomically as the
import advances so a page can poll it for a progress bar. The uploaded file sits next
to it as `upload.csv` until the job ends. Jobs run in the Celery task
`contacts.import_csv` (contacts/csv_tasks.py).
"""

import json
import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation

from audit.log import record
from audit.models import Action
from contacts.csv_import import importer
from contacts.csv_import.mapping import full_mapping
from contacts.csv_import.planning import ON_DUPLICATE
from contacts.csv_import.reading import count_lines, data_rows, inspect_file
from contacts.csv_import.report import ImportFileError, ImportReport

log = logging.getLogger(__name__)

PROGRESS_EVERY = 0.5  # seconds between two writes of a job's state file


class JobNotFound(LookupError):
    """No job has this id (or the id is not one we make)."""


_JOB_ID = re.compile(r"[0-9a-f]{32}")


def jobs_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def _job_dir(job_id: str) -> Path:
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise JobNotFound(job_id)
    folder = jobs_dir() / job_id
    if not (folder / "state.json").exists():
        raise JobNotFound(job_id)
    return folder


def write_state(folder: Path, state: dict) -> None:
    """Replace the job's state file at once: a reader sees the old state or the new."""
    state["updated_at"] = timezone.now().isoformat()
    temporary = folder / f"state.json.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(temporary, folder / "state.json")  # readers never see half a file


def read_state(folder: Path) -> dict:
    """The state of the job in `folder` as write_state() left it."""
    return json.loads((folder / "state.json").read_text(encoding="utf-8"))


def _clean_options(options: dict | None) -> dict:
    options = dict(options or {})
    unknown = set(options) - {"on_duplicate", "tag_names_for_all", "dry_run"}
    if unknown:
        raise ValueError(f"unknown import options: {', '.join(sorted(unknown))}")
    on_duplicate = options.get("on_duplicate", "merge")
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}, not {on_duplicate!r}")
    tags = options.get("tag_names_for_all") or []
    if isinstance(tags, str):
        tags = re.split(r"[,|]", tags)
    return {
        "on_duplicate": on_duplicate,
        "tag_names_for_all": [t.strip() for t in tags if t.strip()],
        "dry_run": bool(options.get("dry_run", False)),
    }


def _save_upload(upload, target: Path) -> str:
    """Copy a path, a Django UploadedFile or a binary file object; returns its name."""
    if isinstance(upload, str | os.PathLike):
        shutil.copyfile(upload, target)
        return Path(upload).name
    with open(target, "wb") as out:
        if hasattr(upload, "chunks"):
            for chunk in upload.chunks():
                out.write(chunk)
        else:
            shutil.copyfileobj(upload, out)
    return Path(getattr(upload, "name", "") or "upload.csv").name


def start_import_job(
    upload,
    mapping: dict[str, str | None] | None = None,
    options: dict | None = None,
    *,
    actor=None,
) -> str:
    """Store the file under VAR_DIR/imports/<job id>/, check it can be imported and
    queue the import. Returns the job id; raises ImportFileError (nothing queued) when
    the file or mapping is unusable, ValueError for bad options."""
    options = _clean_options(options)
    job_id = uuid.uuid4().hex
    folder = jobs_dir() / job_id
    folder.mkdir(parents=True)
    try:
        name = _save_upload(upload, folder / "upload.csv")
        layout = inspect_file(folder / "upload.csv")
        applied = full_mapping(layout.headers, mapping)
        lines = count_lines(folder / "upload.csv")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    state = {
        "id": job_id,
        "status": "queued",
        "file_name": name,
        "mapping": applied,
        "options": options,
        "actor_id": getattr(actor, "pk", None),
        # The language of whoever started it: the job reads its words (consent cells)
        # and words its row problems in it, as the preview did.
        "language": translation.get_language(),
        "created_at": timezone.now().isoformat(),
        "started_at": None,
        "finished_at": None,
        "message": "",
        **ImportReport(total_rows=data_rows(layout, lines)).as_dict(),
    }
    write_state(folder, state)
    from contacts.csv_tasks import import_csv  # the task module imports this one

    transaction.on_commit(lambda: import_csv.delay(job_id))
    return job_id


def run_import_job(job_id: str) -> dict:
    """Run a queued job (the Celery task calls this). Claimed once: a second delivery
    of the same job does nothing. Returns the final state."""
    folder = _job_dir(job_id)
    try:
        (folder / "claimed").open("x").close()
    except FileExistsError:
        log.warning("Import job %s already claimed; not running it again", job_id)
        return read_state(folder)
    state = read_state(folder)
    state.update(status="running", started_at=timezone.now().isoformat())
    write_state(folder, state)
    actor = None
    if state.get("actor_id"):
        actor = get_user_model().objects.filter(pk=state["actor_id"]).first()
    last_write = time.monotonic()

    def progress(report: ImportReport) -> None:
        nonlocal last_write
        if report.finished or time.monotonic() - last_write >= PROGRESS_EVERY:
            state.update(report.as_dict())
            write_state(folder, state)
            last_write = time.monotonic()

    options = state["options"]
    try:
        with translation.override(state.get("language")):
            report = importer.import_contacts(
                folder / "upload.csv",
                state["mapping"],
                on_duplicate=options["on_duplicate"],
                tag_names_for_all=options["tag_names_for_all"],
                dry_run=options["dry_run"],
                actor=actor,
                progress=progress,
                source_name=state["file_name"],
                batch_size=importer.BATCH_SIZE,  # read at run time, so a test can make it smaller
            )
    except ImportFileError as error:
        state.update(status="failed", message=str(error))
    except Exception as error:
        log.exception("Import job %s stopped", job_id)
        state.update(status="failed", message=f"The import stopped unexpectedly: {error}")
    else:
        state.update(report.as_dict(), status="done", message=report.summary())
    state["finished_at"] = timezone.now().isoformat()
    write_state(folder, state)
    record(
        Action.IMPORT,
        actor=actor,
        target=state["file_name"],
        stage="finished",
        job=job_id,
        status=state["status"],
        dry_run=options["dry_run"],
        total_rows=state.get("total_rows", 0),
        counters=state.get("counters") or {},
        error_count=state.get("error_count", 0),
    )
    (folder / "upload.csv").unlink(missing_ok=True)  # personal data: keep no copy
    return state


def job_status(job_id: str) -> dict:
    """The job's state: status (queued/running/done/failed), total_rows, processed_rows,
    percent, counters, error_count, errors (the first MAX_ERRORS), message."""
    state = read_state(_job_dir(job_id))
    total, done = state.get("total_rows") or 0, state.get("processed_rows") or 0
    finished = state["status"] in ("done", "failed")
    state["percent"] = (
        100
        if finished and state["status"] == "done"
        else (min(99, int(done * 100 / total)) if total else 0)
    )
    return state
