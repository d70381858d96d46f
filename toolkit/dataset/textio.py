"""Reading sheets as text: line endings and CSV cells kept exactly as written.

Decoding (encodings, regular files only) is :mod:`toolkit.dataset.decoding`, whose names
are also importable from here. Every cell is a string, byte for byte what the author typed (decoded): an option
that is literally ``NA``, ``None``, ``null`` or ``0`` stays that, and nothing is
stripped. Line numbers are counted as an editor shows them (the header is line 1,
and a quoted cell spanning several lines counts each of them).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from toolkit.dataset.decoding import (  # noqa: F401 - re-exported: textio is where readers look for them
    ACCEPTED_ENCODINGS,
    DecodedText,
    check_encoding,
    decode_bytes,
    open_regular_file,
    read_file_bytes,
    read_text,
)
from toolkit.dataset.quoting import (
    QuotedCell,
    RowShape,
    broken_quote,
    multiline_cells,
    scan_record,
    swallowing_error,
    swallows_rows,
)
from toolkit.errors import DataError
from toolkit.fileio import atomic_open


@dataclass(frozen=True)
class CsvTable:
    """Parsed CSV: the header, the records, and the editor line each record starts on."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]
    """``lines[i]`` is the 1-based line where ``rows[i]`` starts (header = line 1)."""
    header_line: int = 1


class _Lines:
    """The text of a range of editor lines (offsets computed once, when first needed)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    def between(self, first: int, last: int) -> str:
        """Lines ``first``..``last`` (1-based, inclusive) with their line breaks; ``last`` past the end is the end."""
        if self._starts is None:
            self._starts = [0, *(m.end() for m in _LINE_BREAK.finditer(self.text))]
        stop = self._starts[last] if last < len(self._starts) else len(self.text)
        return self.text[self._starts[first - 1] : stop]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@contextmanager
def long_csv_cells(text: str) -> Iterator[None]:
    """The csv module's cell-size limit (128 KiB by default) lifted to the text's length while it is parsed, then restored.

    Any cell of a text that fits in memory is legitimate: only a runaway quote makes a
    huge cell, and that is caught by its own check.
    """
    old = csv.field_size_limit()
    if len(text) >= old:
        csv.field_size_limit(min(len(text) + 1, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def parse_csv(text: str, *, delimiter: str = ",", has_header: bool = True, source: str | Path = "<text>") -> CsvTable:
    """Parse CSV text, keeping every cell as written; fully blank lines are skipped.

    A quoted cell that swallows rows — never closed, or holding what reads as rows of the
    file (:mod:`toolkit.dataset.quoting`) — is an
    :class:`~toolkit.dataset.quoting.UnclosedQuoteError` naming the line where it opens.
    A multi-line cell in a full row is just a cell.

    Example:
        >>> t = parse_csv('id,question\\n0,"two\\nlines"\\n1,NA\\n')
        >>> t.rows, t.lines
        ((('0', 'two\\nlines'), ('1', 'NA')), (2, 4))
    """
    with long_csv_cells(text):
        return _parse(text, delimiter, has_header, source)


def _parse(text: str, delimiter: str, has_header: bool, source: str | Path) -> CsvTable:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    records: list[tuple[str, ...]] = []
    starts: list[int] = []
    header: tuple[str, ...] | None = None
    header_line = 1
    consumed = 0
    lines = _Lines(text)
    multiline: dict[int, tuple[int, int, list[QuotedCell]]] = {}
    """Record index → (its first and last line, its multi-line cells), checked once the file's row shape is known."""
    last_start = last_end = 0
    try:
        for record in reader:
            start = consumed + 1
            consumed = reader.line_num
            if not record:  # a blank line
                continue
            last_start, last_end = start, consumed
            if cells := _multiline_cells(lines, start, consumed, delimiter, source):
                multiline[len(records)] = (start, consumed, cells)
            if header is None and has_header:
                header, header_line = tuple(record), start
                multiline.pop(0, None)
                continue
            records.append(tuple(record))
            starts.append(start)
    except csv.Error as err:
        raise DataError(f"malformed CSV: {err}", file=source, line=consumed + 1, hint="check the quoting") from None
    if last_start and last_start == last_end:
        _check_last_line(text, last_start, delimiter, source)
    if multiline:
        _check_multiline(records, lines, multiline, len(header) if header else None, delimiter, source)
    return CsvTable(header or (), tuple(records), tuple(starts), header_line)


def _multiline_cells(lines: _Lines, start: int, end: int, delimiter: str, source: str | Path) -> list[QuotedCell]:
    """The quoted cells of a record spanning lines ``start``–``end`` that hold line breaks; a quote that
    swallows the rows after it is an error naming the line where it opens."""
    if end <= start or '"' not in (raw := lines.between(start, end)):
        return []
    quoted = scan_record(raw, delimiter)[1]
    if (broken := broken_quote(quoted)) is not None:
        raise swallowing_error(raw, start, broken, source)
    return multiline_cells(quoted)


def _check_last_line(text: str, line: int, delimiter: str, source: str | Path) -> None:
    """A one-line last record must not end inside a quote (the file would end in the middle of a cell)."""
    if '"' in (raw := _last_line(text)) and (broken := broken_quote(scan_record(raw, delimiter)[1])) is not None:
        raise swallowing_error(raw, line, broken, source)


def _last_line(text: str) -> str:
    """The text's last line that is not blank (a one-line last record)."""
    tail = text.rstrip("\r\n")
    return tail[max(tail.rfind("\n"), tail.rfind("\r")) + 1 :]


def _check_multiline(
    records: list[tuple[str, ...]], lines: _Lines, multiline: dict[int, tuple[int, int, list[QuotedCell]]],
    width: int | None, delimiter: str, source: str | Path,
) -> None:
    """An UnclosedQuoteError for the first multi-line cell that holds what reads as rows of the file.

    The file's row shape is learnt from its records of the row width (a record that swallowed
    rows usually keeps the shape: its first cells come from one row, its last from another).
    """
    learn_from = records
    if width is None:  # no known header: the commonest width, less its first row (it may be the header)
        width = Counter(len(r) for r in records).most_common(1)[0][0]
        learn_from = [r for r in records if len(r) == width][1:]
    shape = RowShape.learn(learn_from, width)
    if shape is None:
        return
    for index, (first, last, cells) in multiline.items():
        cell = next((c for c in cells if swallows_rows(c, records[index], shape, delimiter)), None)
        if cell is not None:
            raise swallowing_error(lines.between(first, last), first, cell, source)


def parse_header(text: str, *, delimiter: str = ",") -> tuple[str, ...]:
    """The first non-blank record of a CSV text, without looking further (for a file's first bytes).

    Example:
        >>> parse_header('\\nid,question,A\\n0,"cut here')
        ('id', 'question', 'A')
    """
    with long_csv_cells(text):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        return next((tuple(record) for record in reader if record), ())


def read_csv(
    path: str | Path, *, delimiter: str = ",", has_header: bool = True, encoding: str | None = None,
) -> tuple[CsvTable, DecodedText]:
    """Read a CSV/TSV file with encoding detection; returns the table and the decoding facts."""
    decoded = read_text(path, encoding)
    return parse_csv(decoded.text, delimiter=delimiter, has_header=has_header, source=path), decoded


# A quoted cell (a quote opens one only at the start of a cell, as csv reads it), or a line break outside one.
_RECORD_BREAK = re.compile(r'(?:^|(?<=[,\r\n]))"[^"]*(?:""[^"]*)*"?|(\r\n|\r|\n)')


@dataclass(frozen=True)
class RecordBreaks:
    """The line breaks between a CSV text's records (never one inside a quoted cell)."""

    styles: frozenset[str]
    """The terminators used: ``"\\n"``, ``"\\r\\n"``, ``"\\r"``."""
    blank_lines: int
    """Lines with nothing on them (csv skips them; ``--fix`` removes them)."""


def record_breaks(text: str) -> RecordBreaks:
    """The line endings of the records of a comma-separated text, as Python's csv reader splits them.

    A line break inside a quoted cell is part of the cell, not a line ending: Excel writes
    CRLF between rows and LF inside cells, and that is one style, not a mix.

    Example:
        >>> b = record_breaks('a,b\\r\\n1,"x\\ny"\\r\\n\\r\\n2,"say ""hi""\\rthere"\\r\\n')
        >>> sorted(b.styles), b.blank_lines
        (['\\r\\n'], 1)
    """
    styles: set[str] = set()
    blank, line_start = 0, 0
    for m in _RECORD_BREAK.finditer(text):
        if m.group(1) is None:
            continue
        styles.add(m.group(1))
        blank += m.start() == line_start
        line_start = m.end()
    return RecordBreaks(frozenset(styles), blank)


def _quote(cell: str) -> str:
    if not any(c in cell for c in ',"\r\n'):
        return cell
    escaped = cell.replace('"', '""')
    return f'"{escaped}"'


def format_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """CSV text with ``\\n`` line endings and minimal quoting (what OpenCompass's reader expects).

    A cell is quoted when it holds a comma, a quote or a line break — a bare ``\\r`` too,
    which Python's csv writer leaves unquoted (and every reader then takes for a new row).

    Example:
        >>> format_csv(["id", "question"], [["0", "a\\rb"], ["1", "x, y"]])
        'id,question\\n0,"a\\rb"\\n1,"x, y"\\n'
    """
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    for row in (header, *rows):
        if any("\r" in cell for cell in row):
            buf.write(",".join(_quote(cell) for cell in row) + "\n")
        else:
            writer.writerow(list(row))
    return buf.getvalue()


def write_csv(path: str | Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Write a UTF-8 CSV atomically (a temporary file renamed over the target)."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(format_csv(header, rows))
