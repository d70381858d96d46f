"""Reading sheets as text: encodings, line endings, and CSV cells kept exactly as written.

Every cell is a string, byte for byte what the author typed (decoded): an option
that is literally ``NA``, ``None``, ``null`` or ``0`` stays that, and nothing is
stripped. Line numbers are counted as an editor shows them (the header is line 1,
and a quoted cell spanning several lines counts each of them).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.dataset import gbk
from toolkit.errors import DataError, UsageError
from toolkit.fileio import atomic_open

ACCEPTED_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")


@dataclass(frozen=True)
class DecodedText:
    """A file's text and what we learnt decoding it."""

    text: str
    encoding: str
    """``utf-8``, ``utf-8-sig`` (UTF-8 with a BOM) or ``gb18030`` (GBK and GB2312 are subsets)."""
    newline: str | None
    """``"\\n"``, ``"\\r\\n"``, ``"\\r"``, ``"mixed"``, or None for a file without line breaks."""

    @property
    def has_bom(self) -> bool:
        """True when the file starts with a UTF-8 byte-order mark."""
        return self.encoding == "utf-8-sig"


def _detect_newline(text: str) -> str | None:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    kinds = [name for name, n in (("\r\n", crlf), ("\n", lf), ("\r", cr)) if n]
    if not kinds:
        return None
    return kinds[0] if len(kinds) == 1 else "mixed"


def decode_bytes(data: bytes, source: str | Path = "<bytes>") -> DecodedText:
    """Decode UTF-8 (with or without BOM) or GBK/GB18030; anything else is a DataError.

    Example:
        >>> decode_bytes("题目".encode("gbk")).encoding
        'gb18030'
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"has a UTF-8 BOM but invalid UTF-8 at byte {err.start}", file=source,
                            hint="re-save the file as UTF-8") from None
        return DecodedText(text, "utf-8-sig", _detect_newline(text))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError("is UTF-16, which is not supported", file=source, hint="re-save the file as UTF-8 (CSV UTF-8)")
    try:
        text = data.decode("utf-8")
        return DecodedText(text, "utf-8", _detect_newline(text))
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as err:
        text, bad = None, err.start
    if text is not None and gbk.looks_chinese(text):
        return DecodedText(text, "gb18030", _detect_newline(text))
    guess = gbk.guess_encoding_name(data)
    if gbk.is_gb_family(guess):
        if text is not None:  # charset_normalizer also reads it as GB: trust the two together
            return DecodedText(text, "gb18030", _detect_newline(text))
        raise DataError(f"looks like {guess} but is not valid GBK/GB18030 at byte {bad}", file=source,
                        hint="re-save the file as UTF-8 (in Excel: 'CSV UTF-8')")
    raise DataError(
        f"unknown text encoding (not UTF-8 or GBK/GB18030; it looks like {guess})",
        file=source,
        hint="re-save the file as UTF-8 (in Excel: 'CSV UTF-8')",
    )


def read_text(path: str | Path) -> DecodedText:
    """Read and decode a text file; a missing file is a usage error naming it."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise UsageError("file not found", file=p, hint="check the path") from None
    except IsADirectoryError:
        raise UsageError("is a folder, not a file", file=p) from None
    except OSError as err:
        raise UsageError(f"cannot read ({err.strerror})", file=p) from None
    return decode_bytes(data, p)


@dataclass(frozen=True)
class CsvTable:
    """Parsed CSV: the header, the records, and the editor line each record starts on."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]
    """``lines[i]`` is the 1-based line where ``rows[i]`` starts (header = line 1)."""
    header_line: int = 1


def parse_csv(text: str, *, delimiter: str = ",", has_header: bool = True, source: str | Path = "<text>") -> CsvTable:
    """Parse CSV text, keeping every cell as written; fully blank lines are skipped.

    Example:
        >>> t = parse_csv('id,question\\n0,"two\\nlines"\\n1,NA\\n')
        >>> t.rows, t.lines
        ((('0', 'two\\nlines'), ('1', 'NA')), (2, 4))
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    records: list[tuple[str, ...]] = []
    starts: list[int] = []
    header: tuple[str, ...] | None = None
    header_line = 1
    consumed = 0
    try:
        for record in reader:
            start = consumed + 1
            consumed = reader.line_num
            if not record:  # a blank line
                continue
            if header is None and has_header:
                header, header_line = tuple(record), start
                continue
            records.append(tuple(record))
            starts.append(start)
    except csv.Error as err:
        raise DataError(f"malformed CSV: {err}", file=source, line=consumed + 1, hint="check the quoting") from None
    return CsvTable(header or (), tuple(records), tuple(starts), header_line)


def read_csv(path: str | Path, *, delimiter: str = ",", has_header: bool = True) -> tuple[CsvTable, DecodedText]:
    """Read a CSV/TSV file with encoding detection; returns the table and the decoding facts."""
    decoded = read_text(path)
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
