"""Importing contacts from CSV files: mapping, dialects, errors, duplicates, jobs."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts import csv_import, csv_tasks, services
from contacts.csv_import import ImportFileError, detect_mapping, import_contacts, preview
from contacts.models import Contact, OptOutEvent, SyncState, Tag

ANN = "+447911123456"
BEN = "+447912345678"
CAT = "+447400123456"


def write_csv(tmp_path, rows, *, name="contacts.csv", delimiter=",", bom=False, prefix=""):
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (prefix + text.getvalue()).encode())
    return path


def tags_of(number):
    return sorted(Contact.objects.get(mobile_number=number).tags.values_list("name", flat=True))


# --- Column mapping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("FirstName", "first_name"),
        ("first_name", "first_name"),
        ("First Name", "first_name"),
        ("Surname", "last_name"),
        ("Mobile Number", "mobile_number"),
        ("mobile", "mobile_number"),
        ("Phone", "mobile_number"),
        ("MobileNumber", "mobile_number"),
        ("Email", "email_address"),
        ("E-mail Address", "email_address"),
        ("Company", "company_name"),
        ("Post Code", "postcode"),
        ("Tags", "tags"),
        ("AllowSMS", "allow_sms"),
        ("Allow SMS", "allow_sms"),
        ("Opted Out", "opted_out"),
        ("Custom01", "custom01"),
        ("custom 3", "custom03"),
        ("ExternalReference", "external_reference"),
        ("OverallRating", None),
        ("Favourite colour", None),
    ],
)
def test_headers_are_recognised_however_they_are_spelt(header, field):
    assert detect_mapping([header]) == {header: field}


def test_the_better_named_column_wins_when_two_could_hold_the_number():
    mapping = detect_mapping(["Phone", "Name", "Mobile"])

    assert mapping == {"Phone": None, "Name": None, "Mobile": "mobile_number"}


def test_a_file_without_a_mobile_column_is_refused_before_anything_is_written(tmp_path, db):
    path = write_csv(tmp_path, [["First Name", "Email"], ["Ann", "ann@example.com"]])

    with pytest.raises(ImportFileError, match="No column holds the mobile number") as error:
        import_contacts(path)

    assert "'First Name', 'Email'" in str(error.value)
    assert not Contact.objects.exists()


def test_an_explicit_mapping_names_the_columns_and_ignores_the_rest(tmp_path, db):
    path = write_csv(tmp_path, [["Cell", "Who", "Notes"], ["07911 123456", "Ann", "likes tea"]])

    import_contacts(path, {"Cell": "mobile_number", "Who": "first_name", "Notes": "ignore"})

    contact = Contact.objects.get()
    assert (contact.mobile_number, contact.first_name, contact.custom01) == (ANN, "Ann", "")


def test_a_mapping_that_does_not_fit_the_file_says_so(tmp_path, db):
    path = write_csv(tmp_path, [["Mobile"], ["07911 123456"]])

    with pytest.raises(ImportFileError, match="no column 'Phone'"):
        import_contacts(path, {"Phone": "mobile_number"})
    with pytest.raises(
        ImportFileError, match="mapped to 'nickname', which is not a contact field"
    ):
        import_contacts(path, {"Mobile": "nickname"})


# --- Dialects --------------------------------------------------------------------------


def test_excel_utf8_with_bom_and_semicolons(tmp_path, db):
    path = write_csv(
        tmp_path,
        [["Vorname", "First Name", "Mobile"], ["x", "Zoë", "07911 123456"]],
        delimiter=";",
        bom=True,
    )

    report = import_contacts(path)

    assert report.created == 1
    assert Contact.objects.get().first_name == "Zoë"


def test_excel_sep_line_is_honoured_and_rows_are_numbered_as_excel_shows_them(tmp_path, db):
    path = write_csv(
        tmp_path,
        [["Mobile", "City"], ["07911 123456", "Leeds"], ["12", "York"]],
        delimiter=";",
        prefix="sep=;\r\n",
    )

    report = import_contacts(path)

    assert Contact.objects.get().city == "Leeds"
    assert [str(e) for e in report.errors] == ["row 3, Mobile: '12' is not a valid phone number"]


def test_tab_separated(tmp_path, db):
    path = write_csv(
        tmp_path, [["First Name", "Mobile"], ["Ann, the first", "07911 123456"]], delimiter="\t"
    )

    import_contacts(path)

    assert Contact.objects.get().first_name == "Ann, the first"


def test_commas_win_even_when_cells_hold_semicolons(tmp_path, db):
    path = write_csv(tmp_path, [["Mobile", "Notes"], ["07911 123456", "a; b; c"]])

    import_contacts(path, {"Mobile": "mobile_number", "Notes": "custom01"})

    assert Contact.objects.get().custom01 == "a; b; c"


def test_a_file_that_is_not_utf8_is_refused_with_what_to_do(tmp_path, db):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Mobile,Name\r\n07911 123456,Zoë\r\n".encode("latin-1"))

    with pytest.raises(ImportFileError, match=r'line 2.*"CSV UTF-8"'):
        import_contacts(path)
    assert not Contact.objects.exists()


def test_an_empty_file_is_refused(tmp_path, db):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n")

    with pytest.raises(ImportFileError, match="empty"):
        import_contacts(path)


# --- Rows and their errors -----------------------------------------------------------------


def test_bad_rows_are_reported_by_row_and_column_and_the_rest_is_imported(tmp_path, db):
    path = write_csv(
        tmp_path,
        [
            ["First Name", "Mobile Number", "Email", "AllowSMS"],
            ["Ann", "07911 123456", "ann@example.com", "yes"],
            ["Bad", "12345", "bad@example.com", ""],
            ["", "", "", ""],
            ["Nobody", "", "", ""],
            ["Eve", "07400 123999", "not-an-email", "maybe"],
            ["Ben", "+44 7912 345678", "", "no"],
        ],
    )

    report = import_contacts(path)

    assert [str(e) for e in report.errors] == [
        "row 3, Mobile Number: '12345' is not a valid phone number",
        "row 5, Mobile Number: is empty; every contact needs a mobile number",
        "row 6, Email: 'not-an-email' is not a valid email address",
        "row 6, AllowSMS: 'maybe' is not yes or no (use yes/no, true/false, 1/0 or 'opted out')",
    ]
    assert (report.created, report.failed, report.blank, report.processed) == (2, 3, 1, 6)
    assert set(Contact.objects.values_list("mobile_number", flat=True)) == {ANN, BEN}


def test_a_value_too_long_for_its_field_fails_the_row(tmp_path, db):
    path = write_csv(tmp_path, [["Mobile", "City"], ["07911 123456", "x" * 101]])

    report = import_contacts(path)

    assert str(report.errors[0]) == "row 2, City: is 101 characters long; at most 100 fit"
    assert not Contact.objects.exists()


def test_names_are_derived_and_contacts_are_dirty_with_one_push_queued(
    tmp_path, db, django_capture_on_commit_callbacks
):
    path = write_csv(
        tmp_path,
        [
            ["First Name", "Last Name", "Mobile"],
            [" José ", "Núñez", "07911123456"],
            ["", "Solo", "07912 345678"],
        ],
    )
    before = timezone.now()

    with django_capture_on_commit_callbacks() as callbacks:
        import_contacts(path)

    ann = Contact.objects.get(mobile_number=ANN)
    assert (ann.first_name, ann.full_name, ann.search_name) == ("José", "José Núñez", "josé núñez")
    assert Contact.objects.get(mobile_number=BEN).full_name == "Solo"
    for contact in Contact.objects.all():
        assert contact.sync_state == SyncState.DIRTY
        assert contact.sync_version == 1 and contact.pushed_version == 0
        assert contact.next_push_at > before
    assert len(callbacks) == 1  # one push for the whole import


# --- Duplicates ----------------------------------------------------------------------------


DUPLICATES = [
    ["First Name", "Mobile", "City", "Tags"],
    ["Ann", "07911 123456", "Leeds", "VIP"],
    ["Annie", "+447911123456", "", "Golf"],
    ["Ben", "07912 345678", "York", ""],
]


def test_a_number_repeated_in_the_file_is_merged_into_one_contact(tmp_path, db):
    report = import_contacts(write_csv(tmp_path, DUPLICATES), on_duplicate="merge")

    ann = Contact.objects.get(mobile_number=ANN)
    assert (ann.first_name, ann.city) == ("Annie", "Leeds")  # empty cells keep values
    assert tags_of(ANN) == ["Golf", "VIP"]
    assert (report.created, report.merged, report.duplicates_in_file) == (2, 1, 1)


def test_a_number_repeated_in_the_file_keeps_its_first_row_when_skipping(tmp_path, db):
    report = import_contacts(write_csv(tmp_path, DUPLICATES), on_duplicate="skip")

    ann = Contact.objects.get(mobile_number=ANN)
    assert (ann.first_name, ann.city, tags_of(ANN)) == ("Ann", "Leeds", ["VIP"])
    assert (report.created, report.skipped, report.duplicates_in_file) == (2, 1, 1)


def test_repeats_across_batches_are_merged_too(tmp_path, db):
    report = import_contacts(write_csv(tmp_path, DUPLICATES), batch_size=1)

    assert Contact.objects.count() == 2
    assert tags_of(ANN) == ["Golf", "VIP"]
    assert (report.created, report.merged, report.duplicates_in_file) == (2, 1, 1)


def test_merging_into_an_existing_contact_fills_given_fields_and_adds_tags(tmp_path, db):
    existing = services.create_contact(
        {"first_name": "Ann", "mobile_number": ANN, "company_name": "Acme"}, tag_names=["Old"]
    )
    Contact.objects.filter(pk=existing.pk).update(
        sync_state=SyncState.CLEAN, pushed_version=1, next_push_at=None
    )
    path = write_csv(
        tmp_path,
        [["Mobile", "Company", "First Name", "Tags"], ["07911 123456", "Beta", "", "New"]],
    )

    report = import_contacts(path, on_duplicate="merge", tag_names_for_all=["Spring"])

    existing.refresh_from_db()
    assert (existing.first_name, existing.company_name) == ("Ann", "Beta")
    assert tags_of(ANN) == ["New", "Old", "Spring"]
    assert (existing.sync_state, existing.sync_version) == (SyncState.DIRTY, 2)
    assert existing.next_push_at is not None
    assert (report.created, report.merged) == (0, 1)


def test_skipping_leaves_an_existing_contact_alone(tmp_path, db):
    existing = services.create_contact({"first_name": "Ann", "mobile_number": ANN})
    path = write_csv(
        tmp_path,
        [
            ["Mobile", "First Name", "Tags"],
            ["07911 123456", "X", "New"],
            ["07912 345678", "Ben", ""],
        ],
    )

    report = import_contacts(path, on_duplicate="skip", tag_names_for_all=["Spring"])

    existing.refresh_from_db()
    assert (existing.first_name, existing.sync_version, tags_of(ANN)) == ("Ann", 1, [])
    assert (report.created, report.skipped) == (1, 1)
    assert tags_of(BEN) == ["Spring"]


def test_merging_the_same_data_again_changes_nothing(tmp_path, db):
    path = write_csv(tmp_path, DUPLICATES)
    import_contacts(path)
    versions = dict(Contact.objects.values_list("mobile_number", "sync_version"))

    report = import_contacts(path)

    assert dict(Contact.objects.values_list("mobile_number", "sync_version")) == versions
    assert (report.merged, report.unchanged, report.created) == (3, 3, 0)


# --- Tags and opt-outs -------------------------------------------------------------------------


def test_tags_column_split_on_commas_or_bars_and_tags_for_every_row(tmp_path, db):
    Tag.objects.create(name="VIP")
    path = write_csv(
        tmp_path,
        [["Mobile", "Tags"], ["07911 123456", "vip, Golf |Leeds"], ["07912 345678", ""]],
    )

    import_contacts(path, tag_names_for_all=["Spring 2025"])

    assert tags_of(ANN) == ["Golf", "Leeds", "Spring 2025", "VIP"]  # the existing VIP reused
    assert tags_of(BEN) == ["Spring 2025"]
    assert Tag.objects.count() == 4


def test_allow_sms_column_opts_out_with_history(tmp_path, db, admin_user):
    existing = services.create_contact({"mobile_number": CAT})
    path = write_csv(
        tmp_path,
        [
            ["Mobile", "AllowSMS"],
            ["07911 123456", "Opted Out"],
            ["07912 345678", "TRUE"],
            ["07400 123456", "0"],
        ],
    )

    report = import_contacts(path, actor=admin_user)

    allowed = dict(Contact.objects.values_list("mobile_number", "allow_sms"))
    assert allowed == {ANN: False, BEN: True, CAT: False}
    events = OptOutEvent.objects.order_by("contact__mobile_number")
    assert [(e.contact.mobile_number, e.allow_sms, e.source, e.actor) for e in events] == [
        (CAT, False, "import", admin_user),
        (ANN, False, "import", admin_user),
    ]
    assert events[1].reason == "import of contacts.csv, row 2"
    assert report.opted_out == 2
    existing.refresh_from_db()
    assert existing.sync_state == SyncState.DIRTY and existing.sync_version == 2


def test_an_opted_out_column_reads_yes_as_opted_out(tmp_path, db):
    path = write_csv(
        tmp_path, [["Mobile", "Opted Out"], ["07911 123456", "yes"], ["07912 345678", "no"]]
    )

    import_contacts(path)

    assert dict(Contact.objects.values_list("mobile_number", "allow_sms")) == {
        ANN: False,
        BEN: True,
    }


def test_a_file_never_opts_back_in_someone_who_opted_out(tmp_path, db):
    contact = services.create_contact({"mobile_number": ANN})
    services.set_allow_sms(contact, False, source="keyword", reason="STOP")
    path = write_csv(tmp_path, [["Mobile", "AllowSMS", "City"], ["07911 123456", "yes", "Leeds"]])

    report = import_contacts(path)

    contact.refresh_from_db()
    assert (contact.allow_sms, contact.city) == (False, "Leeds")
    assert report.kept_opted_out == 1
    assert "they stay opted out" in report.summary()
    assert OptOutEvent.objects.count() == 1


# --- References -------------------------------------------------------------------------------


def test_an_external_reference_is_set_but_never_changed_or_shared(tmp_path, db):
    services.create_contact({"mobile_number": CAT, "external_reference": "crm-1"})
    path = write_csv(
        tmp_path,
        [
            ["Mobile", "ExternalReference"],
            ["07911 123456", "crm-2"],
            ["07912 345678", "crm-1"],
            ["07400 123456", "crm-9"],
            ["07911 123456", "crm-3"],
        ],
    )

    report = import_contacts(path)

    assert Contact.objects.get(mobile_number=ANN).external_reference == "crm-2"
    assert [str(e) for e in report.errors] == [
        "row 3, ExternalReference: 'crm-1' belongs to another contact (+447400123456)",
        "row 4, ExternalReference: the contact with +447400123456 already has the reference "
        "'crm-1', which never changes; leave the cell empty or use that one",
        "row 5, ExternalReference: the contact with +447911123456 already has the reference "
        "'crm-2', which never changes; leave the cell empty or use that one",
    ]
    assert not Contact.objects.filter(mobile_number=BEN).exists()


def test_a_contact_deleted_here_but_not_yet_in_txtsync_is_not_revived(tmp_path, db):
    contact = services.create_contact({"mobile_number": ANN})
    Contact.objects.filter(pk=contact.pk).update(deleted_at=timezone.now(), pushed_version=1)
    path = write_csv(tmp_path, [["Mobile", "City"], ["07911 123456", "Leeds"]])

    report = import_contacts(path)

    assert "TxtSync has not removed yet" in str(report.errors[0])
    assert Contact.objects.get().city == ""


# --- All or nothing per row ----------------------------------------------------------------


def test_a_row_that_fails_while_being_written_leaves_nothing_behind(tmp_path, db, monkeypatch):
    path = write_csv(
        tmp_path,
        [
            ["Mobile", "Tags", "AllowSMS"],
            ["07911 123456", "VIP", "yes"],
            ["07912 345678", "VIP", "no"],
            ["07400 123456", "Golf", "yes"],
        ],
    )
    real_bulk_create = OptOutEvent.objects.bulk_create

    def failing_bulk_create(events, *args, **kwargs):
        if any("row 3" in event.reason for event in events):
            raise RuntimeError("disk on fire")
        return real_bulk_create(events, *args, **kwargs)

    monkeypatch.setattr(OptOutEvent.objects, "bulk_create", failing_bulk_create)

    report = import_contacts(path)

    assert set(Contact.objects.values_list("mobile_number", flat=True)) == {ANN, CAT}
    assert not Contact.tags.through.objects.filter(contact__mobile_number=BEN).exists()
    assert not OptOutEvent.objects.exists()
    assert (report.created, report.failed) == (2, 1)
    assert str(report.errors[0]) == ("row 3: could not be saved (disk on fire); nothing of it was")
    assert tags_of(ANN) == ["VIP"] and tags_of(CAT) == ["Golf"]


# --- Size ---------------------------------------------------------------------------------


def test_ten_thousand_rows(tmp_path, db, django_assert_max_num_queries):
    rows = [["First Name", "Last Name", "Mobile", "Tags", "AllowSMS"]]
    for n in range(10_000):
        number = f"07{900000000 + n * 7:09d}" if n % 2 else f"+44 7{900000000 + n * 7:09d}"
        rows.append(
            [f"Zoë{n}", f"Ørsted{n}", number, f"t{n % 5}|all", "no" if n % 10 == 0 else ""]
        )
    rows.append(["Bad", "Number", "123", "", ""])
    path = write_csv(tmp_path, rows)

    # A few statements per batch of 1,000 rows, not per row (SQLite's 999-parameter
    # limit splits the inserts of a batch into a few dozen statements).
    with django_assert_max_num_queries(1_000):
        report = import_contacts(path)

    assert (report.created, report.failed, report.processed) == (10_000, 1, 10_001)
    assert Contact.objects.count() == 10_000
    sample = Contact.objects.get(mobile_number=f"+447{900000000 + 4321 * 7:09d}")
    assert (sample.first_name, sample.full_name) == ("Zoë4321", "Zoë4321 Ørsted4321")
    assert sorted(sample.tags.values_list("name", flat=True)) == ["all", "t1"]
    assert Contact.tags.through.objects.count() == 20_000
    assert OptOutEvent.objects.filter(source="import").count() == 1_000
    assert not Contact.objects.exclude(sync_state=SyncState.DIRTY).exists()


# --- Preview and dry run -------------------------------------------------------------------


def test_preview_shows_the_first_rows_as_imported_with_their_problems(tmp_path, db):
    services.create_contact({"mobile_number": BEN})
    path = write_csv(
        tmp_path,
        [
            ["Name", "Mobile", "Tags"],
            ["Ann", "07911 123456", "a|b"],
            ["Bad", "123", ""],
            ["Ben", "07912 345678", ""],
            ["Ann again", "07911123456", ""],
            ["Later", "07400 123456", ""],
        ],
    )

    rows = preview(path, {"Name": "first_name", "Mobile": "mobile_number", "Tags": "tags"}, 4)

    assert [(r.row, r.action) for r in rows] == [
        (2, "new"),
        (3, "error"),
        (4, "merge"),
        (5, "merge"),
    ]
    assert rows[0].values == {"first_name": "Ann", "mobile_number": ANN}
    assert rows[0].tags == ["a", "b"]
    assert rows[1].errors == ["row 3, Mobile: '123' is not a valid phone number"]
    assert Contact.objects.count() == 1


def test_a_dry_run_counts_but_writes_nothing(tmp_path, db):
    report = import_contacts(write_csv(tmp_path, DUPLICATES), dry_run=True, batch_size=1)

    assert (report.created, report.merged, report.dry_run) == (2, 1, True)
    assert not Contact.objects.exists() and not Tag.objects.exists()


# --- The management command ------------------------------------------------------------------


def test_the_command_imports_and_prints_the_report(tmp_path, db):
    path = write_csv(
        tmp_path,
        [["Who", "Mobile", "Notes"], ["Ann", "07911 123456", "x"], ["Bad", "12345", "y"]],
    )
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "import_contacts",
        str(path),
        "--map",
        "Who=first_name",
        "--map",
        "Notes=custom02",
        "--tag",
        "Fair",
        stdout=out,
        stderr=err,
    )

    output = out.getvalue()
    assert "'Who'" in output and "-> first_name" in output
    assert "Imported 1 of 2 rows: 1 created, 0 merged, 0 skipped, 1 failed." in output
    assert "row 3, Mobile: '12345' is not a valid phone number" in output
    assert "2 / 2 rows (100%)" in err.getvalue()
    contact = Contact.objects.get()
    assert (contact.first_name, contact.custom02, tags_of(ANN)) == ("Ann", "x", ["Fair"])


def test_the_command_dry_run_and_skip(tmp_path, db):
    services.create_contact({"mobile_number": ANN, "first_name": "Ann"})
    path = write_csv(tmp_path, DUPLICATES)
    out = io.StringIO()

    call_command("import_contacts", str(path), "--on-duplicate", "skip", "--dry-run", stdout=out)

    assert "Would import 1 of 3 rows: 1 created, 0 merged, 2 skipped, 0 failed" in out.getvalue()
    assert Contact.objects.count() == 1


def test_the_command_explains_a_file_it_cannot_import(tmp_path, db):
    path = write_csv(tmp_path, [["Name"], ["Ann"]])

    with pytest.raises(CommandError, match="No column holds the mobile number"):
        call_command("import_contacts", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="'nick' is not a field"):
        call_command("import_contacts", str(path), "--map", "Name=nick", stdout=io.StringIO())


# --- Jobs ----------------------------------------------------------------------------------


@pytest.fixture
def jobs(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR / "imports"


def test_an_import_job_runs_in_the_task_and_reports_progress(
    tmp_path, db, jobs, monkeypatch, admin_user, django_capture_on_commit_callbacks
):
    rows = [["First Name", "Mobile", "Tags"]]
    rows += [[f"P{n}", f"07400 1{n:05d}", "a"] for n in range(25)]
    rows += [["Bad", "nope", ""]]
    upload = SimpleUploadedFile("spring.csv", write_csv(tmp_path, rows).read_bytes())
    monkeypatch.setattr(csv_import.importer, "BATCH_SIZE", 10)
    monkeypatch.setattr(csv_import.jobs, "PROGRESS_EVERY", 0)
    states = []
    real_write_state = csv_import.jobs.write_state

    def recording_write_state(folder, state):
        real_write_state(folder, state)
        states.append(json.loads((folder / "state.json").read_text()))

    monkeypatch.setattr(csv_import.jobs, "write_state", recording_write_state)

    with django_capture_on_commit_callbacks() as callbacks:
        job_id = csv_import.start_import_job(
            upload, None, {"tag_names_for_all": ["Spring"]}, actor=admin_user
        )

    assert len(callbacks) == 1  # the task is queued once the request commits
    queued = csv_import.job_status(job_id)
    assert (queued["status"], queued["total_rows"], queued["percent"]) == ("queued", 26, 0)
    assert queued["file_name"] == "spring.csv"
    assert queued["mapping"] == {
        "First Name": "first_name",
        "Mobile": "mobile_number",
        "Tags": "tags",
    }

    csv_tasks.import_csv(job_id)  # what the worker runs

    done = csv_import.job_status(job_id)
    assert (done["status"], done["processed_rows"], done["percent"]) == ("done", 26, 100)
    assert done["counters"]["created"] == 25 and done["counters"]["failed"] == 1
    assert done["errors"][0]["text"] == "row 27, Mobile: 'nope' is not a valid phone number"
    assert done["message"].startswith("Imported 25 of 26 rows")
    running = [s["processed_rows"] for s in states if s["status"] == "running"]
    assert running[:3] == [0, 10, 20]  # written as the batches went by
    assert tags_of("+447400100003") == ["Spring", "a"]
    assert not (jobs / job_id / "upload.csv").exists()  # no copy of personal data is kept

    csv_tasks.import_csv(job_id)  # a second delivery does nothing
    assert Contact.objects.count() == 25


def test_a_job_with_an_unusable_file_is_refused_at_once(tmp_path, db, jobs):
    path = write_csv(tmp_path, [["Name"], ["Ann"]])

    with pytest.raises(ImportFileError):
        csv_import.start_import_job(path, None, {})

    assert not any(jobs.iterdir())


def test_job_status_of_an_unknown_job(db, jobs):
    for job_id in ["0" * 32, "../../etc", ""]:
        with pytest.raises(csv_import.JobNotFound):
            csv_import.job_status(job_id)


def test_job_errors_are_capped_but_counted(tmp_path, db, jobs, monkeypatch):
    monkeypatch.setattr(csv_import.report, "MAX_ERRORS", 5)
    rows = [["Mobile"]] + [["bad"]] * 12
    job_id = csv_import.start_import_job(write_csv(tmp_path, rows), None, None)

    csv_import.run_import_job(job_id)

    status = csv_import.job_status(job_id)
    assert (len(status["errors"]), status["error_count"]) == (5, 12)


def test_errors_are_listed_in_row_order_whatever_found_them(tmp_path, db):
    services.create_contact({"mobile_number": CAT, "external_reference": "crm-1"})
    path = write_csv(
        tmp_path,
        [
            ["Mobile", "ExternalReference"],
            ["07911 123456", "crm-1"],
            ["123", ""],
        ],
    )

    report = import_contacts(path)

    assert [e.row for e in report.errors] == [2, 3]


def test_a_file_that_stops_being_csv_keeps_the_rows_before_and_says_where(tmp_path, db):
    path = write_csv(
        tmp_path,
        [["Mobile", "City"], ["07911 123456", "Leeds"], ["07912 345678", "x" * 200_000]],
    )

    with pytest.raises(ImportFileError, match="stops being CSV at row 3"):
        import_contacts(path)

    assert list(Contact.objects.values_list("mobile_number", flat=True)) == [ANN]


def test_postgresql_statistics_are_refreshed_as_the_import_grows(tmp_path, db, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(csv_import.importer, "ANALYZE_FIRST_AT", 2)
    rows = [["Mobile"]] + [[f"07400 1{n:05d}"] for n in range(25)]

    with CaptureQueriesContext(connection) as queries:
        import_contacts(write_csv(tmp_path, rows), batch_size=1)

    analyzed = [q["sql"] for q in queries if q["sql"].startswith("ANALYZE")]
    assert len(analyzed) == 2  # after 2 and 20 contacts
