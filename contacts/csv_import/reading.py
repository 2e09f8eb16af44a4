"""Reading a CSV file as spreadsheets write it: UTF-8 with or without a BOM (checked whole
before anything is imported), the delimiter sniffed from the first lines or given by
Excel's "sep=" line, and the rows streamed, never read whole.

What a file may not be, each refused with an ImportFileError before any other work: a
header row over MAX_HEADER_CHARS or with a cell over csv's field size limit, more than
MAX_COLUMNS columns (the mapping page makes a select per column). And a quote that is
never closed makes csv read the following lines into one cell: records() finds those
lines (see swallowed_lines), so each is reported as a failed row under its own number
rather than silently lost."""

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
# Contacts have 17 fields: a file with more columns than this is not a contact list, and
# the mapping page (a select per column) would cost minutes and hundreds of MB to draw.
MAX_COLUMNS = 200
# Characters read of each of the first lines: a header row longer than this is refused
# before it is parsed (a longer data line is only cut short for the delimiter's sniff).
MAX_HEADER_CHARS = 1 << 20


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


def _first_lines(path: str | os.PathLike) -> list[str]:
    """The first SNIFF_LINES lines, each read up to MAX_HEADER_CHARS characters."""
    lines = []
    with _open_text(path) as text:
        while len(lines) < SNIFF_LINES and (line := text.readline(MAX_HEADER_CHARS)):
            lines.append(line)
            if len(lines) == 1 and len(line) == MAX_HEADER_CHARS and text.read(1):
                raise ImportFileError(
                    gettext(
                        "The first row is over %(limit)s characters long: it should name "
                        "the columns, e.g. 'First Name, Mobile Number'. Check it is a CSV "
                        "file of contacts with a header row."
                    )
                    % {"limit": f"{MAX_HEADER_CHARS:,}"}
                )
    return lines


def _header_cells(lines: list[str], delimiter: str) -> list[str]:
    try:
        return [header.strip() for header in next(csv.reader(lines, delimiter=delimiter))]
    except csv.Error as error:  # e.g. a cell over csv's field size limit
        raise ImportFileError(
            gettext(
                "The first row cannot be read as CSV column names (%(error)s). It should "
                "name the columns, e.g. 'First Name, Mobile Number'."
            )
            % {"error": error}
        ) from error


def inspect_file(path: str | os.PathLike) -> CsvLayout:
    """The delimiter and column headers of a CSV file, from its first lines."""
    try:
        lines = _first_lines(path)
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
    headers = _header_cells(lines, delimiter)
    if len(headers) > MAX_COLUMNS:
        raise ImportFileError(
            gettext(
                "The file has %(count)s columns; at most %(max)s can be imported. Delete the "
                "columns you do not need in the spreadsheet, save it as CSV and upload it "
                "again."
            )
            % {"count": f"{len(headers):,}", "max": MAX_COLUMNS}
        )
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


@dataclass(frozen=True)
class Record:
    """A record of the file as csv read it, numbered as its author meant its rows."""

    row: int  # the header is row 1
    cells: list[str]
    column: int | None = None  # the cell an unclosed quote made read the next lines
    swallowed: tuple[str, ...] = ()  # those lines: rows row + 1, row + 2, ...

    @property
    def last_row(self) -> int:
        return self.row + len(self.swallowed)


def _looks_like_row(line: str, layout: CsvLayout) -> bool:
    """A line with (nearly) as many cells as the header: a row, not a cell's second line."""
    width = len(layout.headers)
    if width < 2:
        return bool(line.strip())
    try:
        cells = next(csv.reader([line], delimiter=layout.delimiter), [])
    except csv.Error:
        return False
    return len(cells) >= max(2, width - 1)


def swallowed_lines(
    cells: list[str], layout: CsvLayout, *, at_end_unclosed: bool = False
) -> tuple[int | None, tuple[str, ...]]:
    """The cell an unclosed quote made csv read the following lines into, and those lines.

    csv reads a quoted cell across line breaks until its closing quote (or the end of the
    file), so one stray quote merges the rows after it into one cell. A cell spanning
    lines is legitimate (an address on two lines), but not when a line in it looks like
    a row of the file, nor when the file ends inside it (`at_end_unclosed`)."""
    for index, cell in enumerate(cells):
        if "\n" not in cell and "\r" not in cell:
            continue
        lines = tuple(cell.splitlines())[1:]
        if at_end_unclosed and index == len(cells) - 1:
            return index, lines
        if any(_looks_like_row(line, layout) for line in lines):
            return index, lines
    return None, ()


def _ends_in_quote(path: str | os.PathLike) -> bool:
    """Whether the file's last character other than a line break is a quote."""
    with open(path, "rb") as raw:
        raw.seek(max(0, raw.seek(0, os.SEEK_END) - 64))
        return raw.read().rstrip(b"\r\n").endswith(b'"')


def records(path: str | os.PathLike, layout: CsvLayout) -> Iterator[Record]:
    """Each data record, read as the file streams in, numbered from 2 (the header is
    row 1); after one that swallowed lines, the numbers go on as if it had not."""
    with _open_text(path) as text:
        if layout.has_sep_line:
            text.readline()
        reader = csv.reader(text, delimiter=layout.delimiter)
        next(reader, None)  # the header
        row, pending = 2, None
        while True:
            try:
                cells = next(reader, None)
            except csv.Error:
                if pending is not None:  # the rows before the error are read
                    yield _record(row, pending, layout)
                raise
            if cells is None:
                break
            if pending is not None:
                record = _record(row, pending, layout)
                yield record
                row = record.last_row + 1
            pending = cells
        if pending is not None:
            # The last record: a cell spanning lines may have run into the end unclosed.
            yield _record(row, pending, layout, at_end=not _ends_in_quote(path))


def _record(row: int, cells: list[str], layout: CsvLayout, *, at_end: bool = False) -> Record:
    column, swallowed = swallowed_lines(cells, layout, at_end_unclosed=at_end)
    return Record(row, cells, column, swallowed)
