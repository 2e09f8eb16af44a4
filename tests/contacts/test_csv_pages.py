"""The CSV pages: import (upload, column mapping and preview, progress, report) and export."""

import csv
import io
import re
import stat

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from contacts import csv_import, services, views_csv
from contacts.csv_export import HEADERS
from contacts.models import Contact

ANN = "+447911123456"
BEN = "+447912345678"
XSS = "<script>alert(1)</script>"


def csv_file(rows, name="contacts.csv") -> SimpleUploadedFile:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode(), content_type="text/csv")


GOOD_ROWS = [
    ["First Name", "Surname", "Mobile", "Notes"],
    ["Ann", "Archer", "07911 123456", "likes cake"],
    ["Ben", "Baker", "07912 345678", ""],
    ["Cat", "Cole", "not a number", ""],
]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Uploads and jobs of each test in a folder of their own."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def ann_client(client, agent_ann):
    client.force_login(agent_ann)
    return client


def upload(client, rows=GOOD_ROWS, name="contacts.csv"):
    return client.post(reverse("contacts-import"), {"file": csv_file(rows, name)})


def token_of(response) -> str:
    match = re.fullmatch(r"/contacts/import/map/([0-9a-f]{32})/", response.url)
    assert match, response.url
    return match.group(1)


def mapping_post(response_or_form, **changes) -> dict:
    """The mapping page's form as a browser would submit it, with some changes."""
    form = response_or_form.context["form"]
    data = {}
    for field in form:
        value = field.value()
        if isinstance(value, bool):
            if value:
                data[field.html_name] = "on"
        else:
            data[field.html_name] = "" if value is None else value
    data.update(changes)
    return data


def job_dirs(var_dir) -> list:
    imports = var_dir / "imports"
    if not imports.exists():
        return []
    return [path for path in imports.iterdir() if path.name != "staging"]


# --- Login and CSRF ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/contacts/import/", "get"),
        ("/contacts/import/", "post"),
        (f"/contacts/import/map/{'a' * 32}/", "get"),
        (f"/contacts/import/{'a' * 32}/", "get"),
        (f"/contacts/import/{'a' * 32}/status.json", "get"),
        ("/contacts/export/", "get"),
    ],
)
def test_the_csv_pages_send_visitors_to_login(client, db, url, method):
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_urls_have_their_names():
    token = "a" * 32
    assert reverse("contacts-import") == "/contacts/import/"
    assert reverse("contacts-import-map", args=[token]) == f"/contacts/import/map/{token}/"
    assert reverse("contacts-import-job", args=[token]) == f"/contacts/import/{token}/"
    assert reverse("contacts-import-status", args=[token]) == (
        f"/contacts/import/{token}/status.json"
    )
    assert reverse("contacts-export") == "/contacts/export/"


def test_import_posts_need_the_csrf_token(agent_ann, var_dir):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent_ann)

    refused = browser.post(reverse("contacts-import"), {"file": csv_file(GOOD_ROWS)})

    assert refused.status_code == 403
    assert not (var_dir / "imports" / "staging").exists() or not any(
        (var_dir / "imports" / "staging").iterdir()
    )
    page = browser.get(reverse("contacts-import"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    staged = browser.post(
        reverse("contacts-import"),
        {"file": csv_file(GOOD_ROWS), "csrfmiddlewaretoken": token},
    )
    assert staged.status_code == 302
    map_url = staged.url
    mapping_page = browser.get(map_url)
    assert 'name="csrfmiddlewaretoken"' in mapping_page.text

    refused = browser.post(map_url, {**mapping_post(mapping_page), "action": "import"})

    assert refused.status_code == 403
    assert job_dirs(var_dir) == []
    assert Contact.objects.count() == 0


# --- Step 1: upload ----------------------------------------------------------------------------


def test_the_upload_page_asks_for_a_file(ann_client):
    response = ann_client.get(reverse("contacts-import"))

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.text
    assert 'type="file"' in response.text


def test_an_upload_is_staged_for_its_uploader_only(ann_client, agent_bob, var_dir):
    response = upload(ann_client)

    assert response.status_code == 302
    token = token_of(response)
    staged = var_dir / "imports" / "staging" / f"{token}.csv"
    assert staged.read_bytes().startswith(b"First Name,Surname,Mobile")
    assert stat.S_IMODE(staged.stat().st_mode) == 0o600
    assert job_dirs(var_dir) == []  # nothing is imported yet
    bob = Client()
    bob.force_login(agent_bob)
    assert bob.get(response.url).status_code == 404  # the token is Ann's


def test_an_upload_without_a_file_or_with_an_empty_file_says_what_to_do(ann_client):
    missing = ann_client.post(reverse("contacts-import"), {})
    empty = ann_client.post(reverse("contacts-import"), {"file": SimpleUploadedFile("x.csv", b"")})
    blank = ann_client.post(
        reverse("contacts-import"), {"file": SimpleUploadedFile("x.csv", b"\r\n\r\n")}
    )

    assert missing.status_code == 200
    assert "Choose a CSV file to upload." in missing.text
    assert "The file is empty" in empty.text
    assert "The file is empty" in blank.text


def test_a_file_that_is_not_utf8_is_refused_at_upload(ann_client, var_dir):
    response = ann_client.post(
        reverse("contacts-import"),
        {
            "file": SimpleUploadedFile(
                "x.csv", "Mobile\r\n07911 123456 caf\xe9\r\n".encode("cp1252")
            )
        },
    )

    assert response.status_code == 200
    assert "not UTF-8" in response.text
    assert not any((var_dir / "imports" / "staging").iterdir())  # not kept


# --- Step 2: mapping and preview ------------------------------------------------------------


def test_the_mapping_page_preselects_detected_columns_and_previews_rows(ann_client):
    services.create_contact({"first_name": "Old Ben", "mobile_number": BEN})

    response = ann_client.get(upload(ann_client).url)

    assert response.status_code == 200
    form = response.context["form"]
    selected = {field.label: field.value() for field in form.column_fields()}
    assert selected == {
        "First Name": "first_name",
        "Surname": "last_name",
        "Mobile": "mobile_number",
        "Notes": "",
    }
    assert re.search(
        r'<option value="mobile_number" selected>Mobile number</option>', response.text
    )
    assert "Ignore this column" in response.text
    rows = response.context["preview"].rows
    assert [(row["row"], row["action"]) for row in rows] == [
        (2, "new"),
        (3, "merge"),
        (4, "error"),
    ]
    assert rows[0]["cells"] == [ANN, "Ann", "Archer"]  # as stored: the number in E.164
    assert "not a valid phone number" in rows[2]["errors"][0]
    assert 'class="csv-action-error csv-row-error"' in response.text
    assert "likes cake" not in response.text  # an ignored column is not imported


def test_preview_again_follows_the_changed_mapping_and_options(ann_client, var_dir):
    services.create_contact({"first_name": "Old Ben", "mobile_number": BEN})
    page = ann_client.get(upload(ann_client).url)

    response = ann_client.post(
        page.request["PATH_INFO"],
        mapping_post(page, column_3="custom01", on_duplicate="skip", action="preview"),
    )

    assert response.status_code == 200
    rows = response.context["preview"].rows
    assert rows[0]["cells"] == [ANN, "Ann", "Archer", "likes cake"]
    assert rows[1]["action"] == "skip"
    assert job_dirs(var_dir) == []  # a preview imports nothing


def test_a_file_without_a_number_column_shows_the_problem_and_starts_no_job(
    ann_client, var_dir, django_capture_on_commit_callbacks
):
    page = ann_client.get(upload(ann_client, [["Name", "Town"], ["Ann", "Leeds"]]).url)

    assert page.status_code == 200
    assert "No column holds the mobile number" in page.text
    assert 'role="alert"' in page.text
    assert page.context["preview"] is None

    with django_capture_on_commit_callbacks() as callbacks:
        response = ann_client.post(page.request["PATH_INFO"], mapping_post(page, action="import"))

    assert response.status_code == 200
    assert "No column holds the mobile number" in response.text
    assert callbacks == []
    assert job_dirs(var_dir) == []
    assert Contact.objects.count() == 0


def test_mapping_a_column_to_the_number_fixes_the_file(ann_client):
    page = ann_client.get(upload(ann_client, [["Name", "Tel No."], ["Ann", ANN]]).url)
    assert "No column holds the mobile number" in page.text

    response = ann_client.post(
        page.request["PATH_INFO"],
        mapping_post(page, column_0="first_name", column_1="mobile_number", action="preview"),
    )

    assert "No column holds the mobile number" not in response.text
    assert response.context["preview"].rows[0]["cells"] == [ANN, "Ann"]


def test_a_made_up_field_is_refused(ann_client, var_dir):
    page = ann_client.get(upload(ann_client).url)

    response = ann_client.post(
        page.request["PATH_INFO"], mapping_post(page, column_0="password", action="import")
    )

    assert response.status_code == 200
    assert "not valid" in response.text
    assert job_dirs(var_dir) == []


def test_cells_and_headers_are_escaped(ann_client):
    rows = [["Mobile", XSS], [ANN, XSS]]
    page = ann_client.get(upload(ann_client, rows, name="x.csv").url)

    response = ann_client.post(
        page.request["PATH_INFO"], mapping_post(page, column_1="first_name", action="preview")
    )

    assert XSS not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


# --- Step 3: import, progress and report ---------------------------------------------------


def start_import(client, rows=GOOD_ROWS, **changes):
    page = client.get(upload(client, rows, name="spring.csv").url)
    return client.post(page.request["PATH_INFO"], mapping_post(page, action="import", **changes))


def job_id_of(response) -> str:
    match = re.fullmatch(r"/contacts/import/([0-9a-f]{32})/", response.url)
    assert match, response.url
    return match.group(1)


def test_import_queues_a_job_and_the_report_shows_what_happened(
    ann_client, agent_ann, var_dir, django_capture_on_commit_callbacks
):
    services.create_contact({"first_name": "Old Ben", "mobile_number": BEN})

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = start_import(ann_client, tag_names_for_all="Spring, Fair")

    assert response.status_code == 302
    job_id = job_id_of(response)
    assert len(callbacks) == 1  # the Celery task, queued once the request commits
    assert not any((var_dir / "imports" / "staging").iterdir())  # the staged copy is gone
    queued = ann_client.get(reverse("contacts-import-status", args=[job_id])).json()
    assert (queued["status"], queued["percent"], queued["total_rows"]) == ("queued", 0, 3)
    progress = ann_client.get(response.url)
    assert progress.status_code == 200
    assert "<progress" in progress.text
    assert reverse("contacts-import-status", args=[job_id]) in progress.text

    csv_import.run_import_job(job_id)  # what the worker does

    status = ann_client.get(reverse("contacts-import-status", args=[job_id]))
    assert status["Content-Type"] == "application/json"
    done = status.json()
    assert (done["status"], done["finished"], done["percent"]) == ("done", True, 100)
    assert done["counters"]["created"] == 1
    assert done["counters"]["merged"] == 1
    assert done["counters"]["failed"] == 1
    assert done["error_count"] == 1
    report = ann_client.get(response.url)
    assert "<progress" not in report.text
    counters = dict(report.context["counters"])
    assert (counters["Created"], counters["Merged into existing contacts"]) == (1, 1)
    assert (counters["Skipped (duplicates)"], counters["Failed"]) == (0, 1)
    errors = report.context["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(4, "Mobile")]
    assert re.search(r"<td>4</td><td>Mobile</td><td>[^<]*not a valid phone number", report.text)
    assert "Imported 2 of 3 rows" in report.text
    ann = Contact.objects.get(mobile_number=ANN)
    assert ann.first_name == "Ann"
    assert sorted(ann.tags.values_list("name", flat=True)) == ["Fair", "Spring"]


def test_a_dry_run_reports_and_changes_nothing(ann_client):
    response = start_import(ann_client, dry_run="on")
    job_id = job_id_of(response)

    csv_import.run_import_job(job_id)

    report = ann_client.get(response.url)
    assert "Dry run finished: nothing was changed" in report.text
    assert "Would import 2 of 3 rows" in report.text
    assert Contact.objects.count() == 0


def test_skip_leaves_existing_contacts_alone(ann_client):
    services.create_contact({"first_name": "Old Ben", "mobile_number": BEN})
    job_id = job_id_of(start_import(ann_client, on_duplicate="skip"))

    csv_import.run_import_job(job_id)

    assert csv_import.job_status(job_id)["counters"]["skipped"] == 1
    assert Contact.objects.get(mobile_number=BEN).first_name == "Old Ben"


def test_the_status_of_a_running_job(ann_client, monkeypatch):
    job_id = job_id_of(start_import(ann_client))
    folder = csv_import.jobs_dir() / job_id
    state = csv_import.jobs.read_state(folder)
    state.update(status="running", processed_rows=1)
    csv_import.jobs.write_state(folder, state)

    status = ann_client.get(reverse("contacts-import-status", args=[job_id]))
    page = ann_client.get(reverse("contacts-import-job", args=[job_id]))

    assert status.status_code == 200
    assert status["Cache-Control"] == "no-store"
    running = status.json()
    assert (running["status"], running["finished"]) == ("running", False)
    assert (running["processed_rows"], running["total_rows"], running["percent"]) == (1, 3, 33)
    assert "errors" not in running  # the report page lists them
    assert "Importing: 1 of 3 rows" in page.text
    assert 'value="33"' in page.text


def test_a_long_error_list_is_capped_with_a_count_of_the_rest(ann_client, monkeypatch):
    monkeypatch.setattr(views_csv, "ERRORS_SHOWN", 3)
    rows = [["Mobile"], *([["bad"]] * 7)]
    job_id = job_id_of(start_import(ann_client, rows))

    csv_import.run_import_job(job_id)

    report = ann_client.get(reverse("contacts-import-job", args=[job_id]))
    assert len(report.context["errors"]) == 3
    assert "and 4 more" in report.text


def test_a_failed_job_shows_why(ann_client):
    job_id = job_id_of(start_import(ann_client))
    folder = csv_import.jobs_dir() / job_id
    state = csv_import.jobs.read_state(folder)
    state.update(status="failed", message="The import stopped unexpectedly: disk full")
    csv_import.jobs.write_state(folder, state)

    page = ann_client.get(reverse("contacts-import-job", args=[job_id]))

    assert "The import did not finish." in page.text
    assert "disk full" in page.text


@pytest.mark.parametrize("job_id", ["0" * 32, "not-a-job"])
def test_an_unknown_job_is_not_found(ann_client, job_id):
    assert ann_client.get(reverse("contacts-import-job", args=[job_id])).status_code == 404
    assert ann_client.get(reverse("contacts-import-status", args=[job_id])).status_code == 404


def test_an_unknown_upload_is_not_found(ann_client):
    response = ann_client.get(reverse("contacts-import-map", args=["f" * 32]))

    assert response.status_code == 404


# --- Export -------------------------------------------------------------------------------------


def export_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def test_export_streams_a_csv_download(ann_client):
    services.create_contact({"first_name": "Ann", "mobile_number": ANN})

    response = ann_client.get(reverse("contacts-export"))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="contacts-\d{8}-\d{4}\.csv"', response["Content-Disposition"]
    )
    text = export_text(response)
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == HEADERS
    assert len(rows) == 2
    assert ANN in rows[1]


def test_export_follows_the_search_and_the_tag(ann_client):
    services.create_contact({"first_name": "Ann", "mobile_number": ANN}, tag_names=["VIP"])
    services.create_contact({"first_name": "Ben", "mobile_number": BEN})
    services.create_contact({"first_name": "Anna", "mobile_number": "+447913456789"})
    vip = services.tags_named(["VIP"])[0]

    by_search = export_text(ann_client.get(reverse("contacts-export"), {"q": "Ben"}))
    by_tag = export_text(ann_client.get(reverse("contacts-export"), {"tag": vip.pk}))
    everyone = export_text(ann_client.get(reverse("contacts-export")))

    assert BEN in by_search and ANN not in by_search
    assert ANN in by_tag and BEN not in by_tag and "Anna" not in by_tag
    assert len(everyone.splitlines()) == 4


def test_the_list_links_to_import_and_to_an_export_of_what_it_shows(ann_client):
    services.create_contact({"first_name": "Ann", "mobile_number": ANN}, tag_names=["VIP"])
    vip = services.tags_named(["VIP"])[0]

    response = ann_client.get(reverse("contacts"), {"q": "Ann", "tag": vip.pk, "page": "1"})

    assert f'href="/contacts/export/?q=Ann&amp;tag={vip.pk}"' in response.text
    assert "Export these contacts (CSV)" in response.text
    assert f'href="{reverse("contacts-import")}"' in response.text
    assert "Import CSV" in response.text
