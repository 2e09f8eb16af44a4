"""One importer on one file, in a process of its own (bench/contacts_import.py starts it),
so each run has its own peak memory. Prints one JSON line with the measurements.

    python bench/contacts_import_run.py ours|import-export FILE

Settings come from the environment the parent sets (DJANGO_SETTINGS_MODULE,
TXTCRM_VAR_DIR, DATABASE_URL). The contact tables are emptied first (not timed).
"""

import json
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def empty_tables() -> None:
    from django.db import connection

    from contacts.models import ConsentEvent, Contact, OptOutEvent, Tag

    tables = [
        ConsentEvent._meta.db_table,
        OptOutEvent._meta.db_table,
        Contact.tags.through._meta.db_table,
        Contact._meta.db_table,
        Tag._meta.db_table,
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
    with connection.cursor() as cursor:  # not in a transaction: VACUUM refuses one
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("VACUUM")


def database_name(connection) -> str:
    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def run_ours(path: Path) -> dict:
    from contacts import csv_import

    report = csv_import.import_contacts(path)
    return {"failed_rows": report.failed, "note": report.summary()}


def run_import_export(path: Path) -> dict:
    """django-import-export as its documentation sets up a model resource: rows matched
    on the mobile number (import_id_fields), one transaction, skip_diff for speed. The
    same checks as ours, so both write the same contacts: numbers normalised in
    before_import_row, rows with a bad number or email skipped (an error would roll the
    whole import back), tags created when missing, AllowSMS words understood."""
    import tablib
    from django.core.validators import validate_email
    from import_export import fields, resources, widgets

    from contacts import services
    from contacts.models import Contact, Tag

    class AllowSmsWidget(widgets.Widget):
        def clean(self, value, row=None, **kwargs):
            word = re.sub(r"[^a-z0-9]", "", (value or "").lower())
            return word not in {"no", "false", "0", "optedout", "optout", "n"}

    class TagsWidget(widgets.ManyToManyWidget):
        def clean(self, value, row=None, **kwargs):
            names = [name.strip() for name in re.split(r"[,|]", value or "") if name.strip()]
            return services.tags_named(names) if names else []

    class ContactResource(resources.ModelResource):
        first_name = fields.Field(attribute="first_name", column_name="First Name")
        last_name = fields.Field(attribute="last_name", column_name="Last Name")
        mobile_number = fields.Field(attribute="mobile_number", column_name="Mobile Number")
        email_address = fields.Field(attribute="email_address", column_name="Email")
        company_name = fields.Field(attribute="company_name", column_name="Company")
        city = fields.Field(attribute="city", column_name="City")
        postcode = fields.Field(attribute="postcode", column_name="Postcode")
        custom01 = fields.Field(attribute="custom01", column_name="Custom01")
        allow_sms = fields.Field(
            attribute="allow_sms", column_name="AllowSMS", widget=AllowSmsWidget()
        )
        tags = fields.Field(attribute="tags", column_name="Tags", widget=TagsWidget(Tag))

        class Meta:
            model = Contact
            import_id_fields = ("mobile_number",)
            fields = (
                "first_name",
                "last_name",
                "mobile_number",
                "email_address",
                "company_name",
                "city",
                "postcode",
                "custom01",
                "allow_sms",
                "tags",
            )
            skip_diff = True

        def before_import_row(self, row, **kwargs):
            row["bad"] = False
            try:
                row["Mobile Number"] = services.normalise_number(row["Mobile Number"])
                if row["Email"]:
                    validate_email(row["Email"])
            except Exception:
                row["bad"] = True

        def skip_row(self, instance, original, row, import_validation_errors=None):
            return row["bad"]

    with open(path, encoding="utf-8-sig", newline="") as text:
        dataset = tablib.Dataset().load(text.read(), format="csv")
    result = ContactResource().import_data(dataset, dry_run=False, raise_errors=True)
    totals = result.totals
    return {
        "failed_rows": totals.get("skip", 0) + totals.get("error", 0) + totals.get("invalid", 0),
        "note": ", ".join(f"{key} {value}" for key, value in totals.items() if value),
    }


def main() -> None:
    importer, path = sys.argv[1], Path(sys.argv[2])
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from contacts.models import ConsentEvent, Contact, OptOutEvent

    empty_tables()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = {"ours": run_ours, "import-export": run_import_export}[importer](path)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    rows = sum(1 for _ in open(path, "rb")) - 1  # noqa: SIM115
    print(
        json.dumps(
            {
                "importer": importer,
                "database": database_name(connection),
                "rows": rows,
                "seconds": seconds,
                "rows_per_second": rows / seconds,
                "peak_rss_mb": peak / 1024,
                "baseline_rss_mb": baseline / 1024,
                "contacts": Contact.objects.count(),
                "tag_links": Contact.tags.through.objects.count(),
                "opt_out_events": OptOutEvent.objects.count(),
                "consent_events": ConsentEvent.objects.count(),
                **outcome,
            }
        )
    )


if __name__ == "__main__":
    main()
