"""A source file as questions: every data row kept cell for cell, or skipped with a reason.

:func:`read_questions` reads a file (:func:`~toolkit.dataset.sheets.read_sheet`), recognises
its layout (:func:`~toolkit.dataset.formats.detect_layout`) and turns each row into a
:class:`SourceQuestion`. A row that cannot be a question — empty, too short or too long
(an unquoted comma or line break), a JSONL object without a needed key, packed choices
with the wrong number of options — becomes a :class:`SkippedRow` with its line and reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit.dataset.formats import Layout, SourceFormat, detect_layout, split_packed_choices
from toolkit.dataset.sheets import Sheet, read_sheet


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


def extract_questions(sheet: Sheet, layout: Layout) -> tuple[list[SourceQuestion], list[SkippedRow]]:
    """Every data row as a :class:`SourceQuestion`, or a :class:`SkippedRow` saying why not."""
    rows = sheet.records[1:] if layout.header is not None else sheet.records
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
        elif absent := [sheet.records[0].cells[i] for i in record.missing if i in layout.used]:
            reason = f"no value for {', '.join(map(repr, absent))}"
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
        kept.append(SourceQuestion(
            line=record.line, id=cells[layout.id] if layout.id is not None else None,
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


def read_questions(
    path: str | Path, *, fmt: SourceFormat = SourceFormat.AUTO, columns: Mapping[str, str] | None = None,
    options: int | None = None, sheet_name: str | None = None,
) -> SourceTable:
    """Read one CSV/TSV/XLSX/JSONL file as questions, cell for cell.

    Example:
        >>> table = read_questions("bank.xlsx", columns={"question": "题目", "answer": "答案"})  # doctest: +SKIP
        >>> table.layout.format, len(table.questions), [(s.line, s.reason) for s in table.skipped]  # doctest: +SKIP
        (<SourceFormat.COLUMNS: 'columns'>, 120, [(14, 'empty row')])
    """
    sheet = read_sheet(path, sheet_name=sheet_name)
    layout = detect_layout(sheet, fmt=fmt, columns=columns, options=options)
    questions, skipped = extract_questions(sheet, layout)
    return SourceTable(sheet, layout, tuple(questions), tuple(skipped))
