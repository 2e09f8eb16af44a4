"""Issue 15 (item 6): malformed or oversized CSV files get a clear error and leave no file
behind (a header cell over csv's field limit, too many columns, a header row too long, a
failure nobody foresaw); an unclosed quote is reported on the rows it swallowed."""

import csv
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts import csv_import, views_csv
from contacts.csv_import import ImportFileError, import_contacts, preview, reading
from contacts.models import Contact

ANN = "+447911123456"
BEN = "+447912345678"
CAT = "+447400123456"
DAN = "+447400654321"


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def ann_client(client, agent_ann):
    client.force_login(agent_ann)
    return client


def staged_files(var_dir) -> list:
    staging = var_dir / "imports" / "staging"
    return list(staging.iterdir()) if staging.exists() else []


def upload_bytes(client, data: bytes):
    return client.post(reverse("contacts-import"), {"file": SimpleUploadedFile("c.csv", data)})


def write(tmp_path, text: str):
    path = tmp_path / "contacts.csv"
    path.write_bytes(text.encode())
    return path


# --- A header cell over csv's field size limit --------------------------------------------


def oversized_header() -> bytes:
    cell = "x" * (csv.field_size_limit() + 1)
    return f"Mobile,{cell}\r\n07911 123456,Ann\r\n".encode()


def test_a_header_cell_over_the_field_limit_is_a_clear_error_and_leaves_no_file(
    ann_client, var_dir
):
    response = upload_bytes(ann_client, oversized_header())

    assert response.status_code == 200
    assert "The first row cannot be read as CSV column names" in response.text
    assert "field larger than field limit" in response.text
    assert staged_files(var_dir) == []


def test_the_import_refuses_an_oversized_header_before_writing(tmp_path, db):
    path = tmp_path / "wide.csv"
    path.write_bytes(oversized_header())

    with pytest.raises(ImportFileError, match="cannot be read as CSV column names"):
        import_contacts(path)
    with pytest.raises(ImportFileError):
        csv_import.start_import_job(path)
    assert Contact.objects.count() == 0
    assert [p for p in (tmp_path / "var" / "imports").iterdir() if p.name != "staging"] == []


def test_a_header_row_too_long_is_refused_without_reading_it_whole(ann_client, var_dir):
    row = ",".join(["Mobile"] + ["a" * 100] * (reading.MAX_HEADER_CHARS // 100))

    response = upload_bytes(ann_client, f"{row}\r\n07911 123456\r\n".encode())

    assert response.status_code == 200
    assert "The first row is over 1,048,576 characters long" in response.text
    assert staged_files(var_dir) == []


def test_an_unforeseen_failure_leaves_no_upload_behind(ann_client, var_dir, monkeypatch):
    def broken(path):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(csv_import, "read_headers", broken)

    with pytest.raises(RuntimeError):
        upload_bytes(ann_client, b"Mobile\r\n07911 123456\r\n")
    assert staged_files(var_dir) == []


def test_an_unforeseen_failure_of_the_mapping_page_deletes_the_upload(
    ann_client, var_dir, monkeypatch
):
    staged = upload_bytes(ann_client, b"Mobile,Name\r\n07911 123456,Ann\r\n")
    assert len(staged_files(var_dir)) == 1

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(csv_import, "preview", broken)
    with pytest.raises(RuntimeError):
        ann_client.get(staged.url)
    assert staged_files(var_dir) == []


# --- The column cap -----------------------------------------------------------------------


def wide_file(columns: int) -> bytes:
    header = ",".join(["Mobile"] + [f"Column {n}" for n in range(1, columns)])
    row = ",".join(["07911 123456"] + [""] * (columns - 1))
    return f"{header}\r\n{row}\r\n".encode()


def test_a_file_with_more_columns_than_the_cap_is_refused_at_upload(ann_client, var_dir):
    response = upload_bytes(ann_client, wide_file(50_000))

    assert response.status_code == 200
    assert (
        "The file has 50,000 columns; at most 200 can be imported. Delete the columns you "
        "do not need" in response.text
    )
    assert staged_files(var_dir) == []


def test_the_cap_is_checked_before_the_mapping_form_is_built(ann_client, var_dir, monkeypatch):
    """A file staged before the cap (or by hand) is refused by the mapping page too, and
    no select is built for its columns."""
    staged = upload_bytes(ann_client, b"Mobile\r\n07911 123456\r\n")
    token = re.search(r"/map/([0-9a-f]{32})/", staged.url)[1]
    (var_dir / "imports" / "staging" / f"{token}.csv").write_bytes(wide_file(5_000))

    def never(*args, **kwargs):
        raise AssertionError("the mapping form was built")

    monkeypatch.setattr(views_csv, "MappingForm", never)
    response = ann_client.get(staged.url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("contacts-import")
    assert "The file has 5,000 columns; at most 200 can be imported." in response.text
    assert staged_files(var_dir) == []


def test_a_file_at_the_cap_is_mapped(ann_client):
    response = upload_bytes(ann_client, wide_file(reading.MAX_COLUMNS))

    assert response.status_code == 302
    page = ann_client.get(response.url)
    assert page.status_code == 200
    assert len(page.context["form"].column_fields()) == reading.MAX_COLUMNS


# --- An unclosed quote --------------------------------------------------------------------

UNCLOSED_THEN_GOOD = (
    "Mobile,First Name\r\n"
    '07911 123456,"Ann\r\n'  # the quote is never closed here...
    "07912 345678,Ben\r\n"
    '07400 123456,"Cat\r\n'  # ...but this one closes it: csv read rows 2 to 4 as one
    "07400 654321,Dan\r\n"
)


def errors_by_row(report) -> dict[int, str]:
    return {error.row: str(error) for error in report.errors}


def test_rows_an_unclosed_quote_swallowed_are_each_reported_under_their_number(tmp_path, db):
    report = import_contacts(write(tmp_path, UNCLOSED_THEN_GOOD))

    errors = errors_by_row(report)
    assert sorted(errors) == [2, 3, 4]
    assert "row 2, First Name: a quote in this cell is not closed" in errors[2]
    assert "(rows 3 to 4)" in errors[2]
    assert "unclosed quote in row 2 (First Name) read this row" in errors[3]
    assert (report.created, report.failed, report.processed) == (1, 3, 4)
    assert list(Contact.objects.values_list("mobile_number", flat=True)) == [DAN]
    assert "Imported 1 of 4 rows" in report.summary()


def test_a_quote_left_open_to_the_end_of_the_file_is_reported_too(tmp_path, db):
    text = 'Mobile,First Name\r\n07911 123456,"Ann\r\n07912 345678,Ben\r\n07400 123456,Cat\r\n'

    report = import_contacts(write(tmp_path, text))

    assert sorted(errors_by_row(report)) == [2, 3, 4]
    assert (report.created, report.failed, report.total_rows) == (0, 3, 3)
    assert Contact.objects.count() == 0


def test_a_one_column_file_with_an_unclosed_quote(tmp_path, db):
    text = 'Mobile\r\n"07911 123456\r\n07912 345678\r\n07400 123456"\r\n07400 654321\r\n'

    report = import_contacts(write(tmp_path, text))

    assert sorted(errors_by_row(report)) == [2, 3, 4]
    assert list(Contact.objects.values_list("mobile_number", flat=True)) == [DAN]


def test_a_cell_on_two_lines_is_still_one_row(tmp_path, db):
    text = (
        "Mobile,First Name,Address,City,Postcode\r\n"
        '07911 123456,Ann,"Flat 2, The Mill\nHigh Street",Leeds,LS1 1AA\r\n'
        "07912 345678,Ben,,York,\r\n"
    )

    report = import_contacts(write(tmp_path, text))

    assert report.errors == []
    assert (report.created, report.failed) == (2, 0)
    assert Contact.objects.get(mobile_number=ANN).address_line1 == "Flat 2, The Mill\nHigh Street"


def test_the_preview_shows_the_swallowed_rows_as_errors(tmp_path, db):
    rows = preview(write(tmp_path, UNCLOSED_THEN_GOOD))

    assert [(row.row, row.action) for row in rows] == [
        (2, "error"),
        (3, "error"),
        (4, "error"),
        (5, "new"),
    ]


def test_the_report_page_lists_the_swallowed_rows(ann_client, django_capture_on_commit_callbacks):
    staged = upload_bytes(ann_client, UNCLOSED_THEN_GOOD.encode())
    page = ann_client.get(staged.url)
    data = {f.html_name: f.value() or "" for f in page.context["form"].column_fields()}
    data |= {"on_duplicate": "merge", "action": "import"}

    with django_capture_on_commit_callbacks(execute=False):
        started = ann_client.post(staged.url, data)
    csv_import.run_import_job(started.url.rstrip("/").rsplit("/", 1)[1])  # the worker's part
    report = ann_client.get(started.url)

    assert "Imported 1 of 4 rows" in report.text
    assert [error["row"] for error in report.context["errors"]] == [2, 3, 4]
    for row in (2, 3, 4):
        assert f"<tr><td>{row}</td>" in report.text
