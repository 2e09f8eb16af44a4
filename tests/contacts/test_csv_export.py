"""Exporting contacts to CSV: streamed, bounded queries, and a round trip through import."""

import csv
import io
import types

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts import services
from contacts.csv_export import HEADERS, export_rows
from contacts.csv_import import import_contacts
from contacts.models import TXTSYNC_FIELDS, Contact, OptOutEvent, Tag

ANN = "+447911123456"
BEN = "+447912345678"


def snapshot() -> dict:
    """What a person would call "the same contacts"."""
    return {
        contact.mobile_number: (
            {name: getattr(contact, name) for name in TXTSYNC_FIELDS},
            sorted(tag.name for tag in contact.tags.all()),
            contact.allow_sms,
            contact.external_reference,
            contact.full_name,
        )
        for contact in Contact.objects.prefetch_related("tags")
    }


def parse(lines) -> list[dict]:
    return list(csv.DictReader(io.StringIO("".join(lines))))


def make_contacts(count: int) -> None:
    Contact.objects.bulk_create(
        Contact(mobile_number=f"+447400{n:06d}", first_name=f"P{n}") for n in range(count)
    )
    tags = services.tags_named(["a", "b"])
    through = Contact.tags.through
    through.objects.bulk_create(
        through(contact_id=pk, tag_id=tag.pk)
        for pk in Contact.objects.values_list("pk", flat=True)
        for tag in tags
    )


def test_an_export_reimports_as_the_same_contacts(tmp_path, db):
    services.create_contact(
        {
            "first_name": "Zoë",
            "last_name": "O'Brien, Jr.",
            "mobile_number": ANN,
            "company_name": '"Quotes" & Co',
            "email_address": "zoe@example.com",
            "address_line1": "1 High St\nFlat 2",
            "city": "Leeds",
            "postcode": "LS1 1AA",
            "country": "UK",
            "custom01": '=HYPERLINK("http://evil")',
            "custom05": "-5",
            "external_reference": "crm-42",
        },
        tag_names=["VIP", "Golf"],
    )
    ben = services.create_contact({"first_name": "Ben", "mobile_number": BEN})
    services.set_allow_sms(ben, False, source="agent", reason="asked")
    before = snapshot()
    path = tmp_path / "export.csv"
    path.write_text("".join(export_rows(Contact.objects.all(), bom=True)), encoding="utf-8")

    Contact.objects.all().delete()
    Tag.objects.all().delete()
    report = import_contacts(path)

    assert (report.created, report.failed) == (2, 0)
    assert snapshot() == before
    assert OptOutEvent.objects.filter(contact__mobile_number=BEN, source="import").exists()


def test_the_export_has_every_column_and_neutralises_formulas(db):
    contact = services.create_contact(
        {"first_name": "=cmd()", "mobile_number": ANN}, tag_names=["b", "A"]
    )
    Contact.objects.filter(pk=contact.pk).update(
        overall_rating=80, total_inbound_sms=3, last_communication_date=timezone.now()
    )

    [row] = parse(export_rows(Contact.objects.all()))

    assert list(row) == HEADERS
    assert (row["FirstName"], row["MobileNumber"], row["Tags"]) == ("'=cmd()", ANN, "A|b")
    assert (row["AllowSMS"], row["OverallRating"], row["TotalInboundSMS"]) == ("true", "80", "3")
    assert row["LastCommunicationDate"].startswith(str(timezone.now().year))
    assert row["ExternalReference"] == ""


def test_the_export_is_streamed_with_queries_bounded_by_chunks(db):
    make_contacts(10)
    lines = export_rows(Contact.objects.all())
    assert isinstance(lines, types.GeneratorType)
    with CaptureQueriesContext(connection) as ten:
        assert len(list(lines)) == 11

    Contact.objects.all().delete()
    make_contacts(1000)
    with CaptureQueriesContext(connection) as thousand:
        rows = parse(export_rows(Contact.objects.all()))
    with CaptureQueriesContext(connection) as chunked:
        assert len(list(export_rows(Contact.objects.all(), chunk_size=100))) == 1001

    assert len(rows) == 1000 and rows[-1]["Tags"] == "a|b"
    assert len(ten) == len(thousand) == 2  # one chunk: the contacts, then their tags
    assert len(chunked) <= 2 * 10 + 1  # contacts and tags per chunk, and one empty read


def test_the_export_follows_the_queryset(db):
    services.create_contact({"first_name": "Ann", "mobile_number": ANN}, tag_names=["VIP"])
    services.create_contact({"first_name": "Ben", "mobile_number": BEN})

    rows = parse(export_rows(services.matching("ann")))

    assert [row["FirstName"] for row in rows] == ["Ann"]


def test_the_command_writes_a_file_for_a_tag(tmp_path, db):
    services.create_contact({"first_name": "Ann", "mobile_number": ANN}, tag_names=["VIP"])
    services.create_contact({"first_name": "Ben", "mobile_number": BEN})
    path = tmp_path / "vip.csv"
    err = io.StringIO()

    call_command("export_contacts", "--output", str(path), "--tag", "vip", stderr=err)

    text = path.read_text(encoding="utf-8-sig")
    assert [row["FirstName"] for row in csv.DictReader(io.StringIO(text))] == ["Ann"]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    assert "Exported 1 contacts" in err.getvalue()


def test_the_command_writes_to_stdout_with_a_search(db):
    services.create_contact({"first_name": "Ann", "mobile_number": ANN})
    services.create_contact({"first_name": "Ben", "mobile_number": BEN})
    out = io.StringIO()

    call_command("export_contacts", "--search", "07912 345678", stdout=out, stderr=io.StringIO())

    assert [row["FirstName"] for row in parse([out.getvalue()])] == ["Ben"]
