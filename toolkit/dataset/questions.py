"""A source file as questions: every data row kept cell for cell, or skipped with a reason.

:func:`read_questions` reads a file (:func:`~toolkit.dataset.sheets.read_sheet`), recognises
its layout (:func:`~toolkit.dataset.formats.detect_layout`) and turns each row into a
:class:`SourceQuestion`. A row that cannot be a question — empty, too short or too long
(an unquoted comma or line break), a JSONL object without a needed key, packed choices
with the wrong number of options, an XLSX formula without a saved value — becomes a
:class:`SkippedRow` with its line and reason.

A JSONL object may leave out the optional keys: without ``explanation`` the explanation
is empty, without ``id`` the row has no source id (the importer numbers it), and without
``answer`` the answer is blank where the target split allows it (test).

Merged XLSX cells in the header or in a column the layout reads are an error naming
them (a merged range keeps its text in its first cell, the others would read as empty),
and a worksheet whose layout cannot be recognised names the workbook's other sheets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit.dataset.formats import Layout, SourceFormat, detect_layout, split_packed_choices
from toolkit.dataset.sheets import MergedRange, Sheet, read_sheet
from toolkit.errors import DataError

MERGES_SHOWN = 6
UNMERGE = "Excel: select them, Home → Merge & Center → Unmerge Cells"


@dataclass(frozen=True)
class SourceQuestion:
    """One question as the source has it: every cell the exact text."""

    line: int
    id: str | None
    question: str
    options: tuple[str, ...]
    answer: str
    explanation: str


@dataclass(frozen=True)
class SkippedRow:
    """A row that was read but not written, and why."""

    line: int
    reason: str


def _cell(cells: tuple[str, ...], index: int | None) -> str:
    return cells[index] if index is not None else ""


def _needed(layout: Layout, blank_answers: bool) -> set[int]:
    """The columns a row cannot do without: the question, the options, and the answer unless it may be blank."""
    needed = {layout.question, *layout.options}
    if layout.choices is not None:
        needed.add(layout.choices)
    if layout.answer is not None and not blank_answers:
        needed.add(layout.answer)
    return needed


def extract_questions(
    sheet: Sheet, layout: Layout, *, blank_answers: bool = False,
) -> tuple[list[SourceQuestion], list[SkippedRow]]:
    """Every data row as a :class:`SourceQuestion`, or a :class:`SkippedRow` saying why not.

    ``blank_answers``: the rows go to a split whose answers may be blank (test), so a
    JSONL object without the answer key is a question with a blank answer.
    """
    rows = sheet.records[1:] if layout.header is not None else sheet.records
    needed = _needed(layout, blank_answers)
    kept: list[SourceQuestion] = []
    skipped: list[SkippedRow] = []
    for record in rows:
        cells = record.cells
        reason = None
        if not any(cells):
            reason = "empty row"
        elif len(cells) < layout.width:
            reason = f"{len(cells)} cells, expected {layout.width} (a missing cell or an unquoted line break?)"
        elif any(cells[layout.width :]):
            reason = f"{len(cells)} cells, expected {layout.width} (an unquoted comma inside a cell?)"
        elif absent := [sheet.records[0].cells[i] for i in record.missing if i in needed]:
            reason = f"no value for {', '.join(map(repr, absent))}"
        elif formulas := [label for i, label in record.uncomputed if i in layout.used]:
            reason = (f"formula cell {', '.join(formulas)} has no saved value "
                      "(open the workbook in Excel or LibreOffice and save it, so that it stores the results)")
        if reason is None and layout.choices is not None:
            options = split_packed_choices(cells[layout.choices])
            if len(options) != len(layout.letters):
                reason = (f"the packed choices give {len(options)} options, expected {len(layout.letters)} "
                          f"({layout.letters[0]}–{layout.letters[-1]})")
        else:
            options = tuple(cells[i] for i in layout.options) if reason is None else ()
        if reason is not None:
            skipped.append(SkippedRow(record.line, reason))
            continue
        source_id = cells[layout.id] if layout.id is not None and layout.id not in record.missing else None
        kept.append(SourceQuestion(
            line=record.line, id=source_id,
            question=cells[layout.question], options=options,
            answer=_cell(cells, layout.answer), explanation=_cell(cells, layout.explanation),
        ))
    return kept, skipped


@dataclass(frozen=True)
class SourceTable:
    """A source file read as questions: the sheet, its layout, the questions and the skipped rows."""

    sheet: Sheet
    layout: Layout
    questions: tuple[SourceQuestion, ...]
    skipped: tuple[SkippedRow, ...]


def _position(merge: MergedRange) -> tuple[int, int]:
    return merge.min_row, merge.min_col


def _refs(merges: list[MergedRange]) -> str:
    shown = ", ".join(m.ref for m in merges[:MERGES_SHOWN])
    return shown + (f" and {len(merges) - MERGES_SHOWN} more" if len(merges) > MERGES_SHOWN else "")


def check_header_merges(sheet: Sheet) -> None:
    """A merged range in the header row (the first record) is an error naming it and what the header reads."""
    if not sheet.merged or not sheet.records:
        return
    first = sheet.records[0]
    width = set(range(len(first.cells)))
    merges = sorted((m for m in sheet.merged if m.touches((first.line, first.line), width)), key=_position)
    if merges:
        more = "" if sheet.has_header else "; if the header is on a later row, pass --header-row N"
        raise DataError(f"merged header cells {_refs(merges)}: a merged range keeps its text in its first cell only, "
                        f"so the header reads: {', '.join(c.replace(chr(10), ' ') for c in first.cells)}",
                        file=sheet.path, line=first.line,
                        hint=f"unmerge them and give every column its own name ({UNMERGE}){more}")


def check_data_merges(sheet: Sheet, layout: Layout) -> None:
    """A merged range over the rows and columns the layout reads is an error naming the cells."""
    rows = sheet.records[1:] if layout.header is not None else sheet.records
    if not sheet.merged or not rows:
        return
    merges = sorted((m for m in sheet.merged if m.touches((rows[0].line, rows[-1].line), set(layout.used))),
                    key=_position)
    if merges:
        raise DataError(f"merged cells {_refs(merges)} in the question area: a merged range keeps its text in its "
                        "first cell only, so the others would import as empty", file=sheet.path,
                        line=merges[0].min_row, hint=f"unmerge them and fill in every cell ({UNMERGE})")


def _layout(sheet: Sheet, fmt: SourceFormat, columns: Mapping[str, str] | None, options: int | None) -> Layout:
    """The sheet's layout; when it has none and the workbook has other worksheets, the error names them."""
    try:
        return detect_layout(sheet, fmt=fmt, columns=columns, options=options)
    except DataError as err:
        if not sheet.other_sheets:
            raise
        others = ", ".join(map(repr, sheet.other_sheets))
        raise DataError(f"worksheet {sheet.worksheet!r} {err.message}", file=err.location.file,
                        line=err.location.line,
                        hint=f"the workbook also has {others}: choose the questions' worksheet with --sheet NAME"
                             + (f", or {err.hint}" if err.hint else "")) from None


def read_questions(
    path: str | Path, *, fmt: SourceFormat = SourceFormat.AUTO, columns: Mapping[str, str] | None = None,
    options: int | None = None, sheet_name: str | None = None, blank_answers: bool = False,
    encoding: str | None = None, header_row: int | None = None,
) -> SourceTable:
    """Read one CSV/TSV/XLSX/JSONL file as questions, cell for cell (``blank_answers``: see :func:`extract_questions`).

    ``encoding`` and ``header_row``: see :func:`~toolkit.dataset.sheets.read_sheet`.

    Example:
        >>> table = read_questions("bank.xlsx", columns={"question": "题目", "answer": "答案"})  # doctest: +SKIP
        >>> table.layout.format, len(table.questions), [(s.line, s.reason) for s in table.skipped]  # doctest: +SKIP
        (<SourceFormat.COLUMNS: 'columns'>, 120, [(14, 'empty row')])
    """
    sheet = read_sheet(path, sheet_name=sheet_name, encoding=encoding, header_row=header_row)
    check_header_merges(sheet)
    layout = _layout(sheet, fmt, columns, options)
    check_data_merges(sheet, layout)
    questions, skipped = extract_questions(sheet, layout, blank_answers=blank_answers)
    return SourceTable(sheet, layout, tuple(questions), tuple(skipped))
