"""The CSV pages of the contacts: import (upload, map and preview, progress) and export.

Thin: contacts.csv_import reads, checks and imports files; contacts.csv_export writes
them. What lives here is the upload's short stay between step 1 and step 3.

Import in three steps:
1. upload: the file is streamed (Django writes a big upload to a temporary file, never
   to memory) into VAR_DIR/imports/staging/<token>.csv, readable by its owner only; the
   token goes into the uploader's session, so nobody else can use it;
2. map: one select per column (preselected by detect_mapping), the options and a preview
   of the first rows as they would be imported, with their problems;
3. import: start_import_job copies the file into its job folder and queues the Celery
   task; the staging copy is deleted and the browser goes to the job's progress page,
   which polls a small JSON view until the report is ready.
"""

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import policy
from audit.log import record
from audit.models import Action
from contacts import csv_import, services
from contacts.csv_export import export_rows
from contacts.csv_import import IMPORT_FIELDS, ImportFileError, JobNotFound
from contacts.forms import ContactFilterForm, PageForm
from contacts.models import Tag
from contacts.views import list_url

SESSION_KEY = "contacts_csv_uploads"  # token -> the uploaded file's name
MAX_STAGED_PER_SESSION = 5
STAGING_MAX_AGE = 24 * 3600  # seconds; older staged uploads are deleted (personal data)
PREVIEW_ROWS = 10
ERRORS_SHOWN = 100  # per-row errors listed on the report; the rest are counted
IGNORE_LABEL = _("Ignore this column")
EXPORT_REFUSED = _(
    "Your administrators have turned off contact export for agents (Settings → Security)."
)
OPTIONS = ("on_duplicate", "tag_names_for_all", "dry_run")  # start_import_job's options
# The counters a report shows, in order; the first four always, the rest when not zero.
REPORT_COUNTERS = [
    ("created", _("Created")),
    ("merged", _("Merged into existing contacts")),
    ("skipped", _("Skipped (duplicates)")),
    ("failed", _("Failed")),
    ("unchanged", _("Merged rows that changed nothing")),
    ("duplicates_in_file", _("Rows repeating an earlier row's number")),
    ("opted_out", _("Opted out by the file")),
    ("kept_opted_out", _("Kept opted out (the file allowed SMS)")),
    ("consent_changed", _("Marketing consent recorded")),
    ("blank", _("Blank rows ignored")),
]
ALWAYS_SHOWN = 4


# --- Staging: the upload between step 1 and step 3 ------------------------------------------


def staging_dir() -> Path:
    return csv_import.jobs_dir() / "staging"


def staged_path(request: HttpRequest, token: str) -> tuple[Path, str]:
    """The staged file of this session's upload and its original name; 404 otherwise."""
    name = request.session.get(SESSION_KEY, {}).get(token)
    path = staging_dir() / f"{token}.csv"
    if name is None or not path.exists():
        raise Http404("No such upload")
    return path, name


def stage_upload(request: HttpRequest, upload) -> str:
    """Save an upload, streamed in chunks, with owner-only permissions; returns its token."""
    folder = staging_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    remove_stale_uploads(folder)
    token = secrets.token_hex(16)
    descriptor = os.open(folder / f"{token}.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    except BaseException:  # a disk full, a client gone: no half file left behind
        discard_upload_file(token)
        raise
    uploads = dict(request.session.get(SESSION_KEY, {}))
    uploads[token] = Path(upload.name or "upload.csv").name
    for old in list(uploads)[:-MAX_STAGED_PER_SESSION]:
        discard_upload_file(old)
        del uploads[old]
    request.session[SESSION_KEY] = uploads
    return token


def discard_upload_file(token: str) -> None:
    (staging_dir() / f"{token}.csv").unlink(missing_ok=True)


def discard_upload(request: HttpRequest, token: str) -> None:
    discard_upload_file(token)
    uploads = dict(request.session.get(SESSION_KEY, {}))
    uploads.pop(token, None)
    request.session[SESSION_KEY] = uploads


def remove_stale_uploads(folder: Path) -> None:
    """Uploads nobody went on to import: a day later they are deleted."""
    limit = time.time() - STAGING_MAX_AGE
    for path in folder.glob("*.csv"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:  # another request removed it first
            pass


# --- Forms ------------------------------------------------------------------------------------


class UploadForm(PageForm):
    file = forms.FileField(
        label=_("CSV file"),
        error_messages={
            "required": _("Choose a CSV file to upload."),
            "empty": _("The file is empty: it needs a header row and one row per contact."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=_(
            "One row per contact with a header row naming the columns, e.g. First Name, "
            'Mobile Number, Tags. From a spreadsheet, save as "CSV UTF-8".'
        ),
    )


def field_choices() -> list[tuple[str, str]]:
    labels = services.custom_field_labels()  # the admin's names for Custom01..Custom05
    choices = [("", IGNORE_LABEL)]
    for name, label in IMPORT_FIELDS.items():
        custom = labels.get(name)
        choices.append((name, f"{label} ({custom})" if custom and custom != label else label))
    return choices


class MappingForm(PageForm):
    """One select per column of the file (field `column_<n>`), then the import options."""

    on_duplicate = forms.ChoiceField(
        label=_("When a number is already a contact"),
        choices=[
            ("merge", _("Merge: fill in the contact's fields from the file and add its tags")),
            ("skip", _("Skip the row and leave the contact as it is")),
        ],
        initial="merge",
        widget=forms.RadioSelect,
    )
    tag_names_for_all = forms.CharField(
        label=_("Tags for every imported contact"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas, e.g. Spring fair, Leads. New tags are created."),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check the whole file and report, but change nothing"),
        required=False,
    )

    def __init__(self, data, *, headers: list[str], initial_mapping: dict[str, str | None]):
        super().__init__(data)
        self.headers = list(dict.fromkeys(headers))  # a repeated header is mapped once
        choices = field_choices()
        self.columns: list[tuple[int, str]] = []
        for index, header in enumerate(self.headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("(column %(number)s, no name)") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=initial_mapping.get(header) or "",
            )
            self.columns.append((index, name))

    def column_fields(self) -> list[forms.BoundField]:
        return [self[name] for _index, name in self.columns]

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in OPTIONS]

    def mapping(self) -> dict[str, str | None]:
        """header -> field or None, from the valid form (or the initial values)."""
        data = self.cleaned_data if self.is_bound else None
        mapping = {}
        for (_index, name), header in zip(self.columns, self.headers, strict=True):
            value = data.get(name) if data is not None else self.fields[name].initial
            mapping[header] = value or None
        return mapping

    def options(self) -> dict:
        if not self.is_bound:
            return {"on_duplicate": "merge", "tag_names_for_all": "", "dry_run": False}
        return {name: self.cleaned_data[name] for name in OPTIONS}


# --- Import ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Step 1: choose a file."""
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        token = stage_upload(request, form.cleaned_data["file"])
        try:
            csv_import.read_headers(staging_dir() / f"{token}.csv")
        except ImportFileError as error:  # empty, not UTF-8, too wide: no use going on
            discard_upload(request, token)
            form.add_error("file", str(error))
        except BaseException:
            discard_upload(request, token)  # personal data: never left behind by a failure
            raise
        else:
            return redirect("contacts-import-map", token=token)
    return render(request, "contacts/import_upload.html", {"form": form})


@dataclass
class PreviewTable:
    headings: list[str]
    rows: list[dict]  # row, action, cells, tags, allow_sms, errors


def preview_table(rows: list[csv_import.PreviewRow], mapping: dict) -> PreviewTable:
    special = ("tags", "allow_sms", "opted_out")
    fields = [f for f in dict.fromkeys(mapping.values()) if f and f not in special]
    fields.sort(key=lambda name: name != "mobile_number")  # the number first
    return PreviewTable(
        headings=[IMPORT_FIELDS[name] for name in fields],
        rows=[
            {
                "row": row.row,
                "action": row.action,
                "cells": [row.values.get(name, "") for name in fields],
                "tags": row.tags,
                "allow_sms": row.allow_sms,
                "errors": row.errors,
            }
            for row in rows
        ],
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_map(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2: map the columns, choose the options, preview; then step 3: import. A
    failure nobody foresaw deletes the staged upload (personal data) before the 500."""
    path, file_name = staged_path(request, token)
    try:
        return _import_map(request, token, path, file_name)
    except BaseException:
        discard_upload(request, token)
        raise


def _import_map(request: HttpRequest, token: str, path: Path, file_name: str) -> HttpResponse:
    try:
        headers = csv_import.read_headers(path)
    except ImportFileError as error:
        discard_upload(request, token)
        messages.error(request, str(error))
        return redirect("contacts-import")
    form = MappingForm(
        request.POST if request.method == "POST" else None,
        headers=headers,
        initial_mapping=csv_import.detect_mapping(headers),
    )
    problem, table = "", None
    if form.is_bound and not form.is_valid():
        problem = _("Some choices below are not valid; check them and preview again.")
    else:
        mapping, options = form.mapping(), form.options()
        if request.POST.get("action") == "import":
            try:
                with path.open("rb") as upload:
                    job_id = csv_import.start_import_job(
                        File(upload, name=file_name), mapping, options, actor=request.user
                    )
            except (ImportFileError, ValueError) as error:
                problem = str(error)
            else:
                discard_upload(request, token)
                record(
                    Action.IMPORT,
                    request=request,
                    target=file_name,
                    stage="started",
                    job=job_id,
                    dry_run=options["dry_run"],
                )
                return redirect("contacts-import-job", job_id=job_id)
        try:
            rows = csv_import.preview(
                path, mapping, rows=PREVIEW_ROWS, on_duplicate=options["on_duplicate"]
            )
        except ImportFileError as error:
            problem = problem or str(error)
        else:
            table = preview_table(rows, mapping)
    return render(
        request,
        "contacts/import_map.html",
        {
            "form": form,
            "file_name": file_name,
            "problem": problem,
            "preview": table,
            "preview_rows": PREVIEW_ROWS,
        },
    )


def find_job(job_id: str) -> dict:
    try:
        return csv_import.job_status(job_id)
    except JobNotFound:
        raise Http404("No such import") from None


@login_required
@require_GET
def import_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """The progress bar while the job runs, its report once it is over."""
    job = find_job(job_id)
    counters = job.get("counters") or {}
    errors = job.get("errors") or []
    return render(
        request,
        "contacts/import_job.html",
        {
            "job": job,
            "job_id": job_id,
            "finished": job["status"] in ("done", "failed"),
            # Worded again in the reader's language (the job stored it in English).
            "summary": csv_import.ImportReport.from_dict(job).summary()
            if job["status"] == "done"
            else job.get("message", ""),
            "counters": [
                (label, counters.get(name, 0))
                for n, (name, label) in enumerate(REPORT_COUNTERS)
                if n < ALWAYS_SHOWN or counters.get(name)
            ],
            "errors": errors[:ERRORS_SHOWN],
            "more_errors": job.get("error_count", 0) - min(len(errors), ERRORS_SHOWN),
        },
    )


@login_required
@require_GET
def import_status(request: HttpRequest, job_id: str) -> JsonResponse:
    """What the progress page polls: small, no row errors (the report page lists them)."""
    job = find_job(job_id)
    response = JsonResponse(
        {
            "status": job["status"],
            "finished": job["status"] in ("done", "failed"),
            "percent": job["percent"],
            "total_rows": job.get("total_rows", 0),
            "processed_rows": job.get("processed_rows", 0),
            "counters": job.get("counters") or {},
            "error_count": job.get("error_count", 0),
            "dry_run": job.get("dry_run", False),
            "message": job.get("message", ""),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


# --- Export ---------------------------------------------------------------------------------


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The contacts matching the list's search and filters, as a CSV download; an
    invalid filter exports nothing and goes back to the list, which shows why.

    Streamed: export_rows reads the contacts in keyset chunks and the response sends each
    line as it is made, so memory stays flat and the first bytes leave at once however
    many contacts match. That is why a big export needs no background job and no file.
    """
    if not policy.may_export_contacts(request.user):
        raise PermissionDenied(EXPORT_REFUSED)
    filters = ContactFilterForm(request.GET, tags=list(Tag.objects.only("pk", "name")))
    if not filters.valid:
        messages.error(
            request,
            gettext("Nothing was exported: the filter is not valid. %(errors)s")
            % {"errors": filters.error_text()},
        )
        return redirect(list_url(filters.params()))
    contacts = filters.contacts()
    record(
        Action.EXPORT,
        request=request,
        target="contacts",
        filters=filters.params(),
        count=contacts.order_by().count(),
    )
    response = StreamingHttpResponse(
        export_rows(contacts, bom=True), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
