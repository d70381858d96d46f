"""Reading one source file — CSV, TSV, XLSX or JSONL — into rows of text cells.

:func:`read_sheet` does no interpretation: it returns every non-blank record with
the line (or spreadsheet row) it starts on, every cell as the exact text the author
wrote or Excel shows. Whether the first record is a header is decided later by
:mod:`toolkit.dataset.formats`. Text files are decoded with
:func:`toolkit.dataset.textio.decode_bytes` (UTF-8, UTF-8 with BOM, GBK/GB18030).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from toolkit.dataset.textio import parse_csv, read_text
from toolkit.errors import DataError, UsageError

SHEET_SUFFIXES: dict[str, str] = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
}
"""File name endings we read, and the kind of sheet each is."""


@dataclass(frozen=True)
class SheetRow:
    """One record: where it starts and its cells."""

    line: int
    """1-based line as an editor shows it (CSV/TSV/JSONL) or the spreadsheet row number (XLSX)."""
    cells: tuple[str, ...]
    missing: tuple[int, ...] = ()
    """Indices of cells the source did not have at all (a JSONL object without that key)."""
    uncomputed: tuple[tuple[int, str], ...] = ()
    """``(index, "F6 (=1+1)")`` for XLSX formula cells without a saved value (read as empty)."""


@dataclass(frozen=True)
class Sheet:
    """Every non-blank record of a source file, as text."""

    path: Path
    kind: str
    """``csv``, ``tsv``, ``xlsx`` or ``jsonl``."""
    records: tuple[SheetRow, ...]
    has_header: bool | None = None
    """True when ``records[0]`` is certainly a header (JSONL keys); None when the layout decides."""
    encoding: str | None = None
    """How a text file was decoded (``utf-8``, ``utf-8-sig``, ``gb18030``); None for XLSX."""
    newline: str | None = None
    notes: tuple[str, ...] = ()
    """Things worth telling the user (e.g. other worksheets that were not read)."""


def sheet_kind(path: str | Path) -> str:
    """The kind of sheet a file name says (``csv``, ``tsv``, ``xlsx``, ``jsonl``); UsageError otherwise."""
    p = Path(path)
    kind = SHEET_SUFFIXES.get(p.suffix.lower())
    if kind is None:
        hint = "save it as .xlsx or CSV UTF-8" if p.suffix.lower() == ".xls" else "convert it to CSV UTF-8"
        raise UsageError(
            f"cannot import {p.suffix or 'a file without an extension'}: toolkit reads {', '.join(SHEET_SUFFIXES)}",
            file=p,
            hint=hint,
        )
    return kind


def _sniff_delimiter(text: str) -> str:
    """Comma unless the first line has none and has tabs or semicolons (some Excel locales)."""
    first = text.split("\n", 1)[0]
    if "," in first:
        return ","
    for candidate in ("\t", ";"):
        if candidate in first:
            return candidate
    return ","


def _read_delimited(path: Path, kind: str, delimiter: str | None) -> Sheet:
    decoded = read_text(path)
    sep = delimiter or ("\t" if kind == "tsv" else _sniff_delimiter(decoded.text))
    table = parse_csv(decoded.text, delimiter=sep, has_header=False, source=path)
    records = tuple(SheetRow(line, cells) for line, cells in zip(table.lines, table.rows, strict=True))
    return Sheet(path, kind, records, None, decoded.encoding, decoded.newline)


def _json_cell(value: object) -> str:
    """A JSON value as text: strings as they are, numbers as written, null as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _read_jsonl(path: Path) -> Sheet:
    decoded = read_text(path)
    objects: list[tuple[int, dict[str, object]]] = []
    keys: dict[str, None] = {}
    for number, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            # Numbers keep the exact text they were written with (1.50 stays "1.50").
            obj = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
        except json.JSONDecodeError as err:
            raise DataError(f"invalid JSON: {err.msg} (character {err.colno})", file=path, line=number,
                            hint="each line must be one JSON object") from None
        if not isinstance(obj, dict):
            raise DataError(f"expected a JSON object, got {type(obj).__name__}", file=path, line=number,
                            hint='write one object per line, e.g. {"question": "…", "A": "…", "answer": "B"}')
        objects.append((number, obj))
        keys.update(dict.fromkeys(obj))
    header = tuple(keys)
    if not objects:
        return Sheet(path, "jsonl", (), True, decoded.encoding, decoded.newline)
    records = [SheetRow(objects[0][0], header)]
    for number, obj in objects:
        cells = tuple(_json_cell(obj.get(k)) for k in header)
        missing = tuple(i for i, k in enumerate(header) if k not in obj)
        records.append(SheetRow(number, cells, missing))
    return Sheet(path, "jsonl", tuple(records), True, decoded.encoding, decoded.newline)


def read_sheet(path: str | Path, *, delimiter: str | None = None, sheet_name: str | None = None) -> Sheet:
    """Read one source file into text records, whatever its kind.

    ``delimiter`` overrides the CSV separator (default: tab for .tsv, else a comma,
    or a tab/semicolon when the first line has no comma). ``sheet_name`` picks an
    XLSX worksheet (default: the first). JSON ``null`` becomes an empty cell.

    Example:
        >>> sheet = read_sheet("bank.csv")  # doctest: +SKIP
        >>> sheet.records[0].cells           # doctest: +SKIP
        ('id', 'question', 'A', 'B', 'C', 'D', 'answer')
    """
    p = Path(path)
    kind = sheet_kind(p)
    if not p.exists():
        raise UsageError("file not found", file=p, hint="check the path")
    if p.is_dir():
        raise UsageError("is a folder, not a file", file=p)
    try:
        with p.open("rb"):
            pass
    except OSError as err:
        raise UsageError(f"cannot read ({err.strerror})", file=p, hint="check the file's permissions") from None
    if kind == "xlsx":
        from toolkit.dataset.xlsx import read_xlsx

        return read_xlsx(p, sheet_name=sheet_name)
    if kind == "jsonl":
        return _read_jsonl(p)
    return _read_delimited(p, kind, delimiter)
