from django.core.management.base import BaseCommand, CommandError

from audit.log import record
from audit.models import Action
from contacts import services
from contacts.csv_export import export_rows
from contacts.models import Tag


class Command(BaseCommand):
    help = (
        "Export contacts as CSV (UTF-8; a file gets a BOM for Excel), streamed: writable "
        "fields, Tags joined by |, AllowSMS, ExternalReference and engagement data. "
        "The file re-imports with import_contacts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", metavar="FILE", help="write here (default: stdout)")
        parser.add_argument("--search", default="", help="only contacts matching this search")
        parser.add_argument(
            "--tag",
            action="append",
            default=[],
            metavar="NAME",
            help="only contacts with this tag; repeat for contacts with all of them",
        )

    def handle(self, *args, **options):
        contacts = services.matching(options["search"])
        for name in options["tag"]:
            tag = Tag.objects.filter(name_folded=name.strip().casefold()).first()
            if tag is None:
                raise CommandError(f"No tag named {name!r}.")
            contacts = contacts.filter(tags=tag)
        filters = {"search": options["search"], "tags": options["tag"]}
        record(
            Action.EXPORT,
            target="contacts",
            via="manage.py export_contacts",
            filters=filters,
            count=contacts.order_by().count(),
        )
        lines = export_rows(contacts, bom=bool(options["output"]))
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                rows = self.write_all(lines, out.write)
            self.stderr.write(f"Exported {rows:,} contacts to {options['output']}.")
        else:
            rows = self.write_all(lines, lambda line: self.stdout.write(line, ending=""))
            self.stderr.write(f"Exported {rows:,} contacts.")

    def write_all(self, lines, write) -> int:
        """Write every line; returns the number of contacts (lines after the header)."""
        count = 0
        for line in lines:
            write(line)
            count += line != "\ufeff"
        return max(count - 1, 0)
