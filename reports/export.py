"""The team report as CSV: the page's figures, one line per figure group (the totals,
then each agent, tag, hour and weekday), durations in seconds."""

from contacts.csv_export import csv_lines, formula_safe
from reports.figures import Durations, Report, Row

HEADERS = [
    "section", "key", "label", "conversations", "received", "sent",
    "first_responses", "first_response_median_s", "first_response_p90_s",
    "resolved", "resolution_median_s", "resolution_p90_s",
]  # fmt: skip


def _seconds(value: float | None) -> str:
    return "" if value is None else str(round(value))


def _durations(durations: Durations) -> list[str]:
    return [str(durations.count), _seconds(durations.median), _seconds(durations.p90)]


def _line(section: str, row: Row) -> list[str]:
    counts = [str(row.conversations), str(row.received), str(row.sent)]
    label = formula_safe(row.label)  # names and tags are typed by people
    return [section, str(row.key), label, *counts, *_durations(row.first_response),
            *_durations(row.resolution)]  # fmt: skip


def rows(report: Report) -> list[list[str]]:
    total = Row(
        "", f"{report.period.first.isoformat()}/{report.period.last.isoformat()}",
        conversations=report.conversations, received=report.received, sent=report.sent,
        first_response=report.first_response, resolution=report.resolution,
    )  # fmt: skip
    found = [_line("total", total)]
    for section, breakdown in (
        ("agent", report.by_agent),
        ("tag", report.by_tag),
        ("hour", report.by_hour),
        ("weekday", report.by_weekday),
    ):
        found += [_line(section, row) for row in breakdown]
    return found


def report_csv(report: Report) -> str:
    """The whole file (a few hundred lines at most), with a BOM for Excel."""
    return "".join(csv_lines(HEADERS, rows(report), bom=True))
