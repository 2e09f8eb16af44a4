"""Reading a CSV file as spreadsheets write it: UTF-8 with or without a BOM (checked whole
before anything is imported), the delimiter sniffed from the first lines or given by
Excel's "sep=" line, and the rows streamed, never read whole."""

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext

from contacts.csv_import.report import ImportFileError

SNIFF_LINES = 20  # lines read to find the delimiter
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str
    headers: list[str]
    has_sep_line: bool  # Excel's "sep=;" first line


def _open_text(path: str | os.PathLike) -> io.TextIOWrapper:
    # utf-8-sig: a BOM (Excel's "CSV UTF-8") is dropped, its absence is fine too.
    return open(path, encoding="utf-8-sig", newline="")


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the header into most columns and the most rows into as
    many columns as the header; "," when nothing splits (a one-column file)."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (sum(1 for width in widths if width == widths[0]), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def inspect_file(path: str | os.PathLike) -> CsvLayout:
    """The delimiter and column headers of a CSV file, from its first lines."""
    try:
        with _open_text(path) as text:
            lines = [line for _, line in zip(range(SNIFF_LINES), text, strict=False)]
    except UnicodeDecodeError:
        count_lines(path)  # raises the error, with its line
        raise
    except OSError as error:
        raise ImportFileError(
            gettext("Cannot read the file: %(error)s.") % {"error": error.strerror or error}
        ) from error
    match = re.fullmatch(r'"?sep=(.)"?', lines[0].strip("\r\n")) if lines else None
    if match:
        lines = lines[1:]
    if not "".join(lines).strip():
        raise ImportFileError(
            gettext("The file is empty: it needs a header row and one row per contact.")
        )
    delimiter = match.group(1) if match else _sniff_delimiter(lines)
    headers = [header.strip() for header in next(csv.reader(lines, delimiter=delimiter))]
    if not any(headers):
        raise ImportFileError(
            gettext("The first row must name the columns, e.g. 'Mobile Number'.")
        )
    return CsvLayout(delimiter, headers, bool(match))


def read_headers(path: str | os.PathLike) -> list[str]:
    return inspect_file(path).headers


def _not_utf8(line: int) -> str:
    return gettext(
        "The file is not UTF-8 text (the first bad character is on line %(line)s). "
        'Save it from the spreadsheet as "CSV UTF-8" and try again.'
    ) % {"line": line}


def count_lines(path: str | os.PathLike) -> int:
    """Check the whole file is UTF-8 (so an import never stops halfway on a bad byte)
    and count its lines, streaming in 1 MB chunks. Returns the line count."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, last = 0, b""
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = lines + chunk[: error.start].count(b"\n") + 1
                raise ImportFileError(_not_utf8(line)) from error
            lines += chunk.count(b"\n")
            last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            raise ImportFileError(_not_utf8(lines + 1)) from error
    return lines + (1 if last not in (b"", b"\n") else 0)


def data_rows(layout: CsvLayout, lines: int) -> int:
    """How many data rows a file of `lines` lines holds: all but the header (and the
    "sep=" line)."""
    return max(lines - 1 - layout.has_sep_line, 0)


def records(path: str | os.PathLike, layout: CsvLayout) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each data row, read as the file streams in."""
    with _open_text(path) as text:
        if layout.has_sep_line:
            text.readline()
        reader = csv.reader(text, delimiter=layout.delimiter)
        next(reader, None)  # the header
        yield from enumerate(reader, start=2)
