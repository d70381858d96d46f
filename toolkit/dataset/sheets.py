"""Reading one source file — CSV, TSV, XLSX or JSONL — into rows of text cells.

:func:`read_sheet` does no interpretation: it returns every non-blank record with
the line (or spreadsheet row) it starts on, every cell as the exact text the author
wrote or Excel shows. Whether the first record is a header is decided later by
:mod:`toolkit.dataset.formats`, unless ``header_row`` names the row that holds it
(rows above it are titles or notes, and are not read). Text files are decoded with
:func:`toolkit.dataset.decoding.decode_bytes` (UTF-8, UTF-8 with BOM, GBK/GB18030, or
the ``encoding`` given); only regular files are read (a FIFO or a device is refused).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from toolkit.dataset.decoding import open_regular_file, read_text
from toolkit.dataset.textio import parse_csv
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
class MergedRange:
    """A range of merged XLSX cells: its reference (``B3:B5``) and bounds (1-based, inclusive)."""

    ref: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int

    def touches(self, rows: tuple[int, int], columns: set[int]) -> bool:
        """True when it covers a cell in rows ``rows[0]..rows[1]`` and one of ``columns`` (0-based indices)."""
        return (self.min_row <= rows[1] and self.max_row >= rows[0]
                and any(self.min_col <= c + 1 <= self.max_col for c in columns))


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
    worksheet: str | None = None
    """The XLSX worksheet read."""
    other_sheets: tuple[str, ...] = ()
    """The workbook's other worksheets (not read)."""
    merged: tuple[MergedRange, ...] = ()
    """Merged XLSX cell ranges (a merged range keeps its text in its first cell only)."""


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


def _read_delimited(path: Path, kind: str, delimiter: str | None, encoding: str | None) -> Sheet:
    decoded = read_text(path, encoding)
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


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object's keys, refusing a repeated one (``json`` would silently keep the last value)."""
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"the key {key!r} appears twice in one object")
        obj[key] = value
    return obj


def _json_line(path: Path, number: int, line: str) -> object:
    try:
        # Numbers keep the exact text they were written with (1.50 stays "1.50").
        return json.loads(line, parse_int=str, parse_float=str, parse_constant=str, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as err:
        raise DataError(f"invalid JSON: {err.msg} (character {err.colno})", file=path, line=number,
                        hint="each line must be one JSON object") from None
    except RecursionError:
        raise DataError("invalid JSON: nested too deeply to read", file=path, line=number,
                        hint='write one flat object per line, e.g. {"question": "…", "A": "…", "answer": "B"}') from None
    except ValueError as err:
        raise DataError(str(err), file=path, line=number, hint="keep one value per key") from None


def _read_jsonl(path: Path, encoding: str | None) -> Sheet:
    decoded = read_text(path, encoding)
    objects: list[tuple[int, dict[str, object]]] = []
    keys: dict[str, None] = {}
    # Records end at \n only: U+2028, U+0085 and the like are valid inside a JSON string.
    for number, line in enumerate(decoded.text.split("\n"), start=1):
        if not line.strip():
            continue
        obj = _json_line(path, number, line)
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


def _from_header_row(sheet: Sheet, header_row: int) -> Sheet:
    """The sheet from its header row on: the records above it are titles or notes, not read (and said so)."""
    where = "row" if sheet.kind == "xlsx" else "line"
    at = next((i for i, r in enumerate(sheet.records) if r.line == header_row), None)
    if at is None:
        later = next((r.line for r in sheet.records if r.line > header_row), None)
        shown = f"; the next non-blank {where} is {later}" if later else ""
        raise DataError(f"--header-row {header_row}: {where} {header_row} is blank or inside a cell{shown}",
                        file=sheet.path, hint=f"give the number of the {where} that holds the header")
    notes = sheet.notes
    if at:
        notes = (*notes, f"{at} {where}(s) above the header ({where} {header_row}) not read")
    return replace(sheet, records=sheet.records[at:], has_header=True, notes=notes)


def read_sheet(
    path: str | Path, *, delimiter: str | None = None, sheet_name: str | None = None, encoding: str | None = None,
    header_row: int | None = None,
) -> Sheet:
    """Read one source file into text records, whatever its kind.

    ``delimiter`` overrides the CSV separator (default: tab for .tsv, else a comma,
    or a tab/semicolon when the first line has no comma). ``sheet_name`` picks an
    XLSX worksheet (default: the first). ``encoding`` names the encoding of a text file
    that is not UTF-8. ``header_row`` is the line (CSV/TSV) or row (XLSX) of the header
    when it is not the first. JSON ``null`` becomes an empty cell.

    Example:
        >>> sheet = read_sheet("bank.csv")  # doctest: +SKIP
        >>> sheet.records[0].cells           # doctest: +SKIP
        ('id', 'question', 'A', 'B', 'C', 'D', 'answer')
    """
    p = Path(path)
    kind = sheet_kind(p)
    if header_row is not None and kind == "jsonl":
        raise UsageError("--header-row does not apply to JSONL (the keys are the header)", file=p,
                         hint="leave out --header-row")
    if header_row is not None and header_row < 1:
        raise UsageError(f"--header-row must be 1 or more, not {header_row}")
    if kind == "xlsx":
        from toolkit.dataset.xlsx import read_xlsx

        open_regular_file(p).close()  # refuse a FIFO or a device before openpyxl opens it
        sheet = read_xlsx(p, sheet_name=sheet_name)
    elif kind == "jsonl":
        sheet = _read_jsonl(p, encoding)
    else:
        sheet = _read_delimited(p, kind, delimiter, encoding)
    return _from_header_row(sheet, header_row) if header_row is not None else sheet

