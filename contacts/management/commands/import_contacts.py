from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contacts import csv_import


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file (UTF-8, with or without BOM; delimiter , ; or tab), "
        "in the foreground. Columns are recognised from their headers; --map sets or "
        "overrides one. Bad rows are reported and never stop the import."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="read column HEADER as FIELD (or 'ignore'); repeatable. Fields: "
            + ", ".join(csv_import.IMPORT_FIELDS),
        )
        parser.add_argument(
            "--on-duplicate",
            choices=csv_import.ON_DUPLICATE,
            default="merge",
            help="a number already known (or repeated in the file): merge the row into that "
            "contact (non-empty cells overwrite, tags are added) or skip it (default: merge)",
        )
        parser.add_argument(
            "--tag", action="append", default=[], metavar="NAME", help="tag every row; repeatable"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count only; write nothing"
        )
        parser.add_argument(
            "--errors", type=int, default=20, metavar="N", help="errors to print (default 20)"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            headers = csv_import.read_headers(path)
            mapping = csv_import.detect_mapping(headers)
            mapping.update(self.overrides(options["map"]))
            applied = csv_import.full_mapping(headers, mapping)
            self.stdout.write("Columns:")
            for header, name in applied.items():
                self.stdout.write(f"  {header!r:30} -> {name or '(ignored)'}")
            self.last_percent = -1
            report = csv_import.import_contacts(
                path,
                mapping,
                on_duplicate=options["on_duplicate"],
                tag_names_for_all=options["tag"],
                dry_run=options["dry_run"],
                progress=self.progress,
            )
        except csv_import.ImportFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(report.summary() + ".")
        shown = report.errors[: options["errors"]]
        if shown:
            self.stdout.write(f"Errors ({report.error_count:,} in all):")
            for error in shown:
                self.stdout.write(f"  {error}")
            if report.error_count > len(shown):
                self.stdout.write(f"  … and {report.error_count - len(shown):,} more")

    def overrides(self, pairs: list[str]) -> dict[str, str | None]:
        mapping: dict[str, str | None] = {}
        for pair in pairs:
            header, equals, name = pair.rpartition("=")
            if not equals or not header.strip():
                raise CommandError(f"--map {pair!r}: write it as HEADER=FIELD")
            name = name.strip()
            if name.lower() in csv_import.IGNORE:
                mapping[header.strip()] = None
            elif name in csv_import.IMPORT_FIELDS:
                mapping[header.strip()] = name
            else:
                raise CommandError(
                    f"--map {pair!r}: {name!r} is not a field; use one of "
                    + ", ".join(csv_import.IMPORT_FIELDS)
                    + " or 'ignore'"
                )
        return mapping

    def progress(self, report: csv_import.ImportReport) -> None:
        total = max(report.total_rows, report.processed, 1)
        percent = 100 if report.finished else min(99, report.processed * 100 // total)
        if self.stderr.isatty():
            end = "\n" if report.finished else ""
            self.stderr.write(f"\r{report.processed:,} / {total:,} rows ({percent}%)", ending=end)
            self.stderr.flush()
        elif percent // 10 != self.last_percent // 10 or report.finished:
            self.stderr.write(f"{report.processed:,} / {total:,} rows ({percent}%)")
        self.last_percent = percent
