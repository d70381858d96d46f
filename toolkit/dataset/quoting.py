"""Telling a multi-line quoted cell from an unclosed quote that swallows rows.

A quoted CSV cell may hold line breaks (Excel writes them for Alt+Enter). A quote
left unclosed looks the same to a CSV reader: the cell runs on over the following
rows until the next quote in the file, or to the end of the file, and those rows
are gone from the table without a word. This module tells the two apart in one
record's text, the way Python's csv reader (``strict=False``) splits it. A cell
swallowed rows when:

- its quote is never closed (the cell runs to the end of the file);
- it spans lines and its closing quote is followed by more text in the same cell
  (``"x, y"`` in a later row: that quote opened a cell, it did not close this one);
- a whole line inside it reads as a row of the file; or its first line (with the cells
  before it) and its last line (with the cells after it) both do; or the record has
  the wrong number of cells and one of them does. A line "reads as a row" when it has
  the file's number of cells and fits the :class:`RowShape` of the file's one-line rows
  (whole numbers where they have whole numbers, such as ids; one letter where they
  have one letter, such as answers).

Prose, code or LaTeX with line breaks and commas in a full record matches none of these
(every C-Eval, CMMLU, MMLU and OpenBookQA file reads without one).
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import DataError

_BREAK = re.compile(r"\r\n|\r|\n")


class UnclosedQuoteError(DataError):
    """A quoted cell swallows record separators; ``location.line`` is where its quote opened."""


@dataclass(frozen=True)
class QuotedCell:
    """One quoted cell of a record, as csv reads it."""

    index: int
    """The cell's position in the record (0-based)."""
    opened: int
    """Offset of the opening quote in the record's text."""
    closed: bool
    content: str
    """The text between the quotes (doubled quotes undone)."""
    trailing: str
    """Text after the closing quote up to the next delimiter or line break (csv keeps it in the cell)."""


def count_lines(text: str) -> int:
    """The line breaks in ``text`` (``\\r\\n`` is one).

    Example:
        >>> count_lines("a\\r\\nb\\rc\\nd")
        3
    """
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@functools.cache
def _quoted_cell(delimiter: str) -> re.Pattern[str]:
    """A quoted cell as csv reads it: a quote at the start of a cell, the text up to the closing quote
    (doubled quotes inside), and any text csv then keeps in the cell up to the next delimiter or line end."""
    d = re.escape(delimiter)
    return re.compile(f'(?<![^{d}\\r\\n])"((?:[^"]++|"")*+)("?)([^{d}\\r\\n]*+)')


def scan_record(raw: str, delimiter: str = ",") -> tuple[int, list[QuotedCell]]:
    """The number of cells of the record that is ``raw``, and its quoted cells.

    Example:
        >>> n, cells = scan_record('0,"a\\nb",c\\n')
        >>> n, [(c.index, c.content, c.closed) for c in cells]
        (3, [(1, 'a\\nb', True)])
        >>> [(c.index, c.content, c.closed, c.trailing) for c in scan_record('5" disk,"say ""hi""\\nx"y,"open')[1]]
        [(1, 'say "hi"\\nx', True, 'y'), (2, 'open', False, '')]
    """
    quoted: list[QuotedCell] = []
    index, pos = 0, 0
    for m in _quoted_cell(delimiter).finditer(raw):
        index += raw.count(delimiter, pos, m.start())
        quoted.append(QuotedCell(index, m.start(), m.group(2) == '"', m.group(1).replace('""', '"'), m.group(3)))
        pos = m.end()
    return index + raw.count(delimiter, pos) + 1, quoted


_KINDS = {"whole number": re.compile(r"\s*-?[0-9]+\s*"), "letter": re.compile(r"\s*[A-Za-z]\s*")}
SHAPE_SAMPLE = 2000
"""One-line rows looked at to learn a file's row shape."""


@dataclass(frozen=True)
class RowShape:
    """What every one-line row of a file has in common: its width and, per column, a kind of cell or None."""

    width: int
    kinds: tuple[str | None, ...]

    @classmethod
    def learn(cls, rows: list[tuple[str, ...]], width: int) -> RowShape | None:
        """The shape of the ``rows`` of ``width`` cells (the first :data:`SHAPE_SAMPLE`); None without two of them.

        Example:
            >>> RowShape.learn([("0", "q", "A"), ("1", "r, s", "B")], 3).kinds
            ('whole number', None, 'letter')
        """
        full = [r for r in rows if len(r) == width][:SHAPE_SAMPLE]
        if len(full) < 2:
            return None
        kinds = tuple(next((k for k, p in _KINDS.items() if all(p.fullmatch(r[c]) for r in full)), None)
                      for c in range(width))
        return cls(width, kinds) if any(kinds) else None

    def fits(self, cells: list[str]) -> bool:
        """True when ``cells`` read as a row of the file."""
        return len(cells) == self.width and all(k is None or _KINDS[k].fullmatch(c) for k, c in zip(self.kinds, cells))


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def broken_quote(quoted: list[QuotedCell]) -> QuotedCell | None:
    """The first of a record's quoted cells (:func:`scan_record`) that is never closed, or that spans lines
    and is closed by a quote followed by text (the opening quote of a later cell); None when there is none.

    Example:
        >>> broken_quote(scan_record('0,"unclosed,A\\n1,q,B\\n')[1]).opened
        2
        >>> broken_quote(scan_record('0,"two\\nlines",B\\n')[1]) is None
        True
    """
    return next((c for c in quoted if not c.closed or (_BREAK.search(c.content) and c.trailing.strip())), None)


def multiline_cells(quoted: list[QuotedCell]) -> list[QuotedCell]:
    """The quoted cells (of :func:`scan_record`) that hold a line break."""
    return [c for c in quoted if _BREAK.search(c.content)]


def swallows_rows(cell: QuotedCell, record: tuple[str, ...], shape: RowShape, delimiter: str) -> bool:
    """True when the multi-line ``cell`` of ``record`` holds what reads as rows of the file (see the module).

    Example:
        >>> shape = RowShape(3, ("whole number", None, "letter"))
        >>> cell = multiline_cells(scan_record('0,"q\\n1,r,B\\n2,s",C\\n')[1])[0]
        >>> swallows_rows(cell, ("0", "q\\n1,r,B\\n2,s", "C"), shape, ",")
        True
    """
    if len(record) == shape.width and cell.content.count(delimiter) < shape.width - 1:
        return False  # too few delimiters inside to make up a row (the common case: prose, code)
    lines = _BREAK.split(cell.content)
    before, after = record[: cell.index], record[cell.index + 1 :]
    if any(_reads_as_row((), line, (), shape, delimiter) for line in lines[1:-1]):
        return True
    last = _reads_as_row((), lines[-1], after, shape, delimiter)
    if len(record) == shape.width and not last:
        return False
    first = _reads_as_row(before, lines[0], (), shape, delimiter)
    return (first and last) or (len(record) != shape.width and (first or last))


def _reads_as_row(
    before: tuple[str, ...], line: str, after: tuple[str, ...], shape: RowShape, delimiter: str,
) -> bool:
    """True when ``before`` + the cells of ``line`` + ``after`` read as a row (csv parses ``line`` only when
    it has enough delimiters to make up the row)."""
    if line.count(delimiter) < shape.width - len(before) - len(after) - 1:
        return False
    return shape.fits([*before, *_cells(line, delimiter), *after])


def swallowing_error(raw: str, first_line: int, cell: QuotedCell, source: str | Path) -> UnclosedQuoteError:
    """The error for ``cell`` of the record at ``first_line``: it names the line where the quote opened."""
    opened = first_line + count_lines(raw[: cell.opened])
    last = first_line + count_lines(raw.rstrip("\r\n"))
    if cell.closed:
        what = f"runs to line {last} and holds what reads as several rows"
    elif last > opened:
        what = f"is never closed: it runs to the end of the file (line {last}), swallowing every row after it"
    else:
        what = "is never closed (the file ends inside it)"
    return UnclosedQuoteError(
        f"the quoted cell that opens on line {opened} {what}", file=source, line=opened,
        hint='close the quote where the cell ends (a quote inside a quoted cell is written twice: "")',
    )
