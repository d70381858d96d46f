"""Reading an XLSX worksheet with openpyxl, every cell as the text Excel shows.

openpyxl hands back typed values (``0`` as an int, ``1.5`` as a float, dates as
datetimes). A question bank needs the text the author sees, so each value is
formatted with its cell's number format: ``0`` stays ``"0"``, ``1`` stored as
``1.0`` shows ``"1"``, ``0.5`` formatted ``0%`` shows ``"50%"``, ``2.5`` formatted
``0.00`` shows ``"2.50"``, a date shows ``2024-03-01``, TRUE shows ``TRUE``.
Formulas are read as their last computed value (what Excel shows); a formula that was
never computed (a workbook written by a script, not saved by Excel) has none, and its
cell is marked (:attr:`~toolkit.dataset.sheets.SheetRow.uncomputed`) so that the import
skips its row with a reason instead of reading an empty cell.

Merged cells keep their text in their first cell only; their ranges are read from the
worksheet's XML (openpyxl's read-only mode does not report them) so that the import
can refuse a merge in the header or the question area (:mod:`toolkit.dataset.questions`).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.etree import ElementTree

from toolkit.dataset.sheets import MergedRange, Sheet, SheetRow
from toolkit.errors import DataError, UsageError

_TOKEN = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.|[0#?,.]+(?:[eE][+-][0#]+)?|.', re.S)
_NUMERIC = re.compile(r"[0#?][0#?,.]*(?:[eE][+-][0#]+)?|[.][0#?]+(?:[eE][+-][0#]+)?")


def _general(value: float) -> str:
    """Excel's General format: integers without a decimal point, others to 15 significant digits."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"


def _literal(token: str) -> str:
    """What a non-numeric format token shows: quoted text, escaped characters, currency symbols."""
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    if token.startswith("[$"):
        return token[2:-1].split("-", 1)[0]
    if token.startswith(("[", "*")):
        return ""  # colours, conditions, fill characters
    if token.startswith("_"):
        return " "  # a space as wide as the next character
    return token


def _pick_section(value: float, number_format: str) -> tuple[float, str]:
    """Excel's sections: positive;negative;zero. A negative section writes its own sign."""
    sections = (number_format or "General").split(";")
    if value < 0 and len(sections) >= 2:
        return -value, sections[1]
    if value == 0 and len(sections) >= 3:
        return value, sections[2]
    return value, sections[0]


def format_number(value: float, number_format: str) -> str:
    """Render a number as Excel shows it under ``number_format`` (the common formats).

    Example:
        >>> format_number(0, "General"), format_number(2.5, "0.00"), format_number(0.25, "0%")
        ('0', '2.50', '25%')
    """
    shown, section = _pick_section(value, number_format)
    tokens = _TOKEN.findall(section)
    numeric = next((i for i, t in enumerate(tokens) if _NUMERIC.fullmatch(t)), None)
    if section.strip().lower() in ("general", "@", "") or numeric is None or "/" in section:
        return _general(shown)
    if "%" in tokens:
        shown *= 100
    mantissa, exponent = (re.split(r"[eE]", tokens[numeric], maxsplit=1) + [""])[:2]
    whole, _, frac = mantissa.partition(".")
    decimals = len(re.sub(r"[^0#?]", "", frac))
    if exponent:
        body = f"{abs(shown):.{decimals}E}"
    else:
        width = whole.count("0") + (decimals + 1 if decimals else 0)
        body = f"{abs(shown):0{width}{',' if ',' in whole else ''}.{decimals}f}"
        if "0" not in whole and body.startswith("0."):
            body = body[1:]  # "#.00" shows 0.5 as ".50"
    sign = "-" if shown < 0 and body.strip("0.,E+-") else ""
    prefix = "".join(_literal(t) for t in tokens[:numeric])
    suffix = "".join(_literal(t) for t in tokens[numeric + 1 :])
    return sign + prefix + body + suffix


def _format_datetime(value: datetime | date | time, number_format: str) -> str:
    has_time = any(c in (number_format or "").lower() for c in "hs")
    if isinstance(value, datetime):
        if has_time or value.time() != time():
            return value.isoformat(sep=" ", timespec="seconds")
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value.isoformat(timespec="seconds")


def cell_text(value: object, number_format: str = "General") -> str:
    """The text Excel shows for one cell value.

    Example:
        >>> cell_text(None), cell_text(True), cell_text(1.0), cell_text("NA")
        ('', 'TRUE', '1', 'NA')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (datetime, date, time)):
        return _format_datetime(value, number_format)
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (int, float)):
        return format_number(value, number_format)
    return str(value)


def _has_formulas(path: Path) -> bool:
    """True when some worksheet of the workbook stores a formula (a cheap look before a second pass)."""
    with zipfile.ZipFile(path) as archive:
        sheets = (archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        return any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def _uncomputed_formulas(path: Path, name: str, empty: set[tuple[int, int]]) -> dict[int, list[tuple[int, str]]]:
    """Row → ``[(column index, "F6 (=1+1)")]`` for formula cells that read as empty (no saved value)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    found: dict[int, list[tuple[int, str]]] = {}
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        for number, row in enumerate(workbook[name].iter_rows(), start=1):
            for index, cell in enumerate(row):
                formula = cell.value
                if (number, index) in empty and isinstance(formula, str) and formula.startswith("="):
                    label = f"{get_column_letter(index + 1)}{number} ({formula})"
                    found.setdefault(number, []).append((index, label))
    finally:
        workbook.close()
    return found


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Za-z]+[0-9]+:[A-Za-z]+[0-9]+)"')
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _worksheet_part(archive: zipfile.ZipFile, name: str) -> str | None:
    """The zip member holding worksheet ``name`` (from the workbook's sheet list and relationships)."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    rel_id = next((e.get(_REL) for e in book.iter() if e.tag.endswith("}sheet") and e.get("name") == name), None)
    target = next((e.get("Target") for e in rels if e.get("Id") == rel_id), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def merged_ranges(path: str | Path, name: str) -> tuple[MergedRange, ...]:
    """The merged cell ranges of worksheet ``name``, in the order the file lists them."""
    from openpyxl.utils.cell import range_boundaries

    with zipfile.ZipFile(path) as archive:
        part = _worksheet_part(archive, name)
        if part is None or part not in archive.namelist():
            return ()
        refs = [m.group(1).decode("ascii").upper() for m in _MERGE.finditer(archive.read(part))]
    out = []
    for ref in refs:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        out.append(MergedRange(ref, min_row, min_col, max_row, max_col))
    return tuple(out)


def read_xlsx(path: str | Path, *, sheet_name: str | None = None) -> Sheet:
    """Read one worksheet (default: the first) into text records; rows keep their spreadsheet numbers."""
    from openpyxl import load_workbook

    p = Path(path)
    try:
        workbook = load_workbook(p, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise DataError(f"cannot read as an Excel workbook ({err})", file=p,
                        hint="open it in Excel and save it again as .xlsx, or export CSV UTF-8") from None
    try:
        names = list(workbook.sheetnames)
        if sheet_name is not None and sheet_name not in names:
            raise UsageError(f"no worksheet named {sheet_name!r}", file=p, hint=f"choose one of: {', '.join(names)}")
        name = sheet_name if sheet_name is not None else names[0]
        worksheet = workbook[name]
        grid: list[tuple[int, list[str]]] = []
        empty: set[tuple[int, int]] = set()
        for number, row in enumerate(worksheet.iter_rows(), start=1):
            cells = [cell_text(c.value, getattr(c, "number_format", "General")) for c in row]
            if any(cells):
                grid.append((number, cells))
                empty.update((number, i) for i, c in enumerate(cells) if not c)
    finally:
        workbook.close()
    uncomputed = _uncomputed_formulas(p, name, empty) if empty and _has_formulas(p) else {}
    # Pad or trim every row to the widest used column: Excel stores no trailing blanks.
    width = max((max(i for i, c in enumerate(cells) if c) + 1 for _, cells in grid), default=0)
    records = tuple(SheetRow(n, tuple((cells + [""] * width)[:width]), uncomputed=tuple(uncomputed.get(n, ())))
                    for n, cells in grid)
    others = tuple(n for n in names if n != name)
    notes = (f"read worksheet {name!r}; not read: {', '.join(others)} (choose one with --sheet)",) if others else ()
    return Sheet(p, "xlsx", records, None, None, None, notes, name, others, merged_ranges(p, name))
