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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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


def _looks_chinese(text: str) -> bool:
    """Most non-ASCII characters are CJK ideographs or CJK/full-width punctuation."""
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return True
    cjk = sum(
        1
        for c in non_ascii
        if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" or "\u2000" <= c <= "\u206f"
    )
    return cjk / len(non_ascii) >= 0.8


def guess_encoding_name(data: bytes) -> str:
    """A best guess at an unsupported encoding's name, for error messages."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
        return best.encoding if best is not None else "unknown"
    except Exception:  # noqa: BLE001 - a guess for a message must never fail
        return "unknown"


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
    except UnicodeDecodeError:
        text = None
    if text is not None and _looks_chinese(text):
        return DecodedText(text, "gb18030", _detect_newline(text))
    guess = guess_encoding_name(data)
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


def format_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """CSV text with ``\\n`` line endings and minimal quoting (what OpenCompass's reader expects)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(header))
    writer.writerows([list(r) for r in rows])
    return buf.getvalue()


def write_csv(path: str | Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Write a UTF-8 CSV atomically (a temporary file renamed over the target)."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(format_csv(header, rows))
