"""Row-level findings: pandera's cell failures placed on editor lines, plus what YAML cannot say.

pandera reports a failing check per cell; here each failure gets its line (the
line of the cell itself, even inside a multi-line record), the answer failures
are told apart (missing, invalid, or only needing normalisation), and one cell
gets one finding (an empty option is not also "surrounding whitespace").
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from toolkit.dataset.textio import CsvTable
from toolkit.validate.codes import CHECKS
from toolkit.validate.findings import Finding, make_finding, shorten
from toolkit.validate.schemas import HEADER_CHECKS, SchemaFailure

NAN_LEFTOVERS = frozenset({"nan", "NaN", "<NA>"})
"""What pandas and spreadsheets write for an empty cell; never a real answer."""

_ANSWER_TRIM = " \t\r\n.。、:：)）]】"
_EMPTY_CODES = {"E203", "E204"}


def normalise_answer(value: str, letters: Sequence[str]) -> str | None:
    """The option letter ``value`` means, if only its form is off; None if it means none.

    Example:
        >>> [normalise_answer(v, "ABCD") for v in (" D", "d", "Ｄ", "D.", "(b)", "E", "")]
        ['D', 'D', 'D', 'D', 'B', None, None]
    """
    text = unicodedata.normalize("NFKC", value).strip().rstrip(_ANSWER_TRIM).lstrip("(（[【 ").upper()
    return text if text in letters else None


def cell_line(row: Sequence[str], start: int, position: int) -> int:
    """The editor line of cell ``position`` in a record that starts on line ``start``."""
    return start + sum(cell.count("\n") + cell.count("\r") - cell.count("\r\n") for cell in row[:position])


_PLACEHOLDER = re.compile(r"\{(?:question|answer|[A-J])\}")


def _cell_message(code: str, column: str, value: str) -> str | None:
    """A message naming the cell for the stock codes (None: the catalogue's summary)."""
    label = f"option {column}" if len(column) == 1 else column
    if code == "W208":
        lead, trail = value[:1].isspace(), value[-1:].isspace()
        where = "starts and ends" if lead and trail else "starts" if lead else "ends"
        return f"{label} {where} with whitespace"
    if code in _EMPTY_CODES:
        return f"{label} is empty" + (" (only whitespace)" if value else "")
    if code == "W210":
        found = _PLACEHOLDER.search(value)
        return f"{label} contains {found.group(0) if found else 'a placeholder'}, which OpenCompass fills in"
    if code == "W211":
        return f"{label} is {value!r}, probably an empty cell exported by pandas"
    return None


def _answer_finding(value: str, letters: Sequence[str], file: str, line: int, blank_ok: bool) -> Finding:
    if blank_ok and value and not value.strip():
        return make_finding("W208", file, "the blank answer holds whitespace", line=line, column="answer", value=value)
    if blank_ok and value.strip() in NAN_LEFTOVERS:
        return make_finding("W211", file, f"the answer is {value.strip()!r}; leave a blank answer empty", line=line,
                            column="answer", value=value)
    if not value.strip() or value.strip() in NAN_LEFTOVERS:
        message = "the answer is empty" if not value.strip() else f"the answer is {value.strip()!r}, an export leftover"
        return make_finding("E205", file, message, line=line, column="answer", value=value)
    fixed = normalise_answer(value, letters)
    if fixed is not None:
        return make_finding("E207", file, f"answer {value!r} should be {fixed!r}", line=line, column="answer",
                            value=value)
    return make_finding("E206", file, f"answer {value!r} is not one of {', '.join(letters)}", line=line,
                        column="answer", value=value)


def _unique_findings(failures: list[SchemaFailure], lines: dict[int, int], file: str) -> list[Finding]:
    """Pandera lists every copy of a repeated value; report each copy after the first."""
    out: list[Finding] = []
    groups: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
    for f in failures:
        if f.row is not None:
            groups[(f.column, f.value)].append(f.row)
    for (column, value), rows in groups.items():
        rows.sort()
        first = lines[rows[0]]
        for row in rows[1:]:
            if column == "id":
                out.append(make_finding("E202", file, f"id {value!r} is also on line {first}", line=lines[row],
                                        column=column, value=value))
            else:
                out.append(make_finding("E290", file, f"values of {column!r} must be unique; also on line {first}",
                                        line=lines[row], column=column, value=value))
    return out


def schema_row_findings(
    failures: Sequence[SchemaFailure],
    table: CsvTable,
    kept: Sequence[int],
    header: Sequence[str],
    letters: Sequence[str],
    file: str,
    blank_answers: bool = False,
) -> list[Finding]:
    """Findings for pandera's cell failures; ``kept[i]`` is the table row of frame row ``i``.

    ``blank_answers``: a blank answer is allowed (test), so whitespace or ``nan`` there is a warning.
    """
    position = {name: i for i, name in reversed(list(enumerate(header)))}
    by_cell: dict[tuple[int, str], list[SchemaFailure]] = defaultdict(list)
    unique: list[SchemaFailure] = []
    for f in failures:
        if f.check in HEADER_CHECKS or f.row is None or f.column is None:
            continue
        if f.check == "field_uniqueness":
            unique.append(f)
        else:
            by_cell[(f.row, f.column)].append(f)
    out = _unique_findings(unique, {r: table.lines[kept[r]] for f in unique if (r := f.row) is not None}, file)
    for (frame_row, column), cell_failures in by_cell.items():
        row = table.rows[kept[frame_row]]
        line = cell_line(row, table.lines[kept[frame_row]], position.get(column, 0))
        value = row[position[column]] if column in position else (cell_failures[0].value or "")
        codes = {f.check for f in cell_failures}
        if codes & _EMPTY_CODES:
            codes = codes & _EMPTY_CODES  # an empty cell is only "empty"
        for f in sorted(cell_failures, key=lambda f: f.check):
            if f.check not in codes:
                continue
            if f.check == "E206" and column == "answer":
                out.append(_answer_finding(value, letters, file, line, blank_answers))
            elif f.check in CHECKS:
                message = _cell_message(f.check, column, value)
                out.append(make_finding(f.check, file, message, line=line, column=column, value=value))
            else:
                out.append(make_finding("E290", file, f"schema check {shorten(f.check)!r} failed", line=line,
                                        column=column, value=value))
    return out


def duplicate_option_findings(
    table: CsvTable, kept: Sequence[int], header: Sequence[str], letters: Sequence[str], file: str
) -> list[Finding]:
    """W209 when two options of one question have the same text (ignoring surrounding whitespace)."""
    positions = [(letter, header.index(letter)) for letter in letters if letter in header]
    out: list[Finding] = []
    for i in kept:
        row = table.rows[i]
        seen: dict[str, str] = {}
        for letter, pos in positions:
            text = row[pos].strip()
            if not text:
                continue
            if text in seen:
                out.append(make_finding("W209", file, f"options {seen[text]} and {letter} are both {shorten(text)!r}",
                                        line=cell_line(row, table.lines[i], pos), column=letter, value=row[pos]))
            else:
                seen[text] = letter
    return out
