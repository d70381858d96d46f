"""Recognising a sheet's layout: which column holds the question, each option, the answer.

Layouts we recognise (``--format auto``, the default, tries them in this order):

``openbookqa``
    Header ``ID, Question Stem, Choices, …, Answer Key``; the options sit in one
    field as ``(A) … (B) … (C) … (D) …``.
``ceval`` / ``cmmlu``
    A header naming ``question``, the option letters ``A``, ``B``, … and optionally
    ``id``, ``answer``, ``explanation`` (any case). CMMLU's first column is an unnamed
    row index, kept as the id.
``mmlu``
    No header row: ``question, A, B, …, answer`` with a letter in the last cell.
``columns``
    Any other header, mapped with ``--column ROLE=HEADER`` (roles: ``id``,
    ``question``, ``A``…``J``, ``choices`` for packed options (``(A) … (B) …`` or a
    JSON list such as ``["x", "y"]``), ``answer``,
    ``explanation``); roles not mapped fall back to the column of the same name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from toolkit.dataset.layout import ALL_LETTERS
from toolkit.dataset.sheets import Sheet
from toolkit.errors import DataError, UsageError


class SourceFormat(str, Enum):
    """A source layout; ``auto`` recognises it from the header."""

    AUTO = "auto"
    CEVAL = "ceval"
    CMMLU = "cmmlu"
    MMLU = "mmlu"
    OPENBOOKQA = "openbookqa"
    COLUMNS = "columns"


NAMED_ROLES = ("id", "question", "choices", "answer", "explanation")
_OBQA = {"id": "id", "question": "question stem", "choices": "choices", "answer": "answer key"}


@dataclass(frozen=True)
class Layout:
    """Where each part of a question sits in a sheet's rows (0-based column indices)."""

    format: SourceFormat
    header: tuple[str, ...] | None
    """The header row, or None when the sheet has none (MMLU)."""
    letters: tuple[str, ...]
    question: int
    options: tuple[int, ...] = ()
    """One column per letter; empty when the options are packed in ``choices``."""
    choices: int | None = None
    id: int | None = None
    answer: int | None = None
    explanation: int | None = None
    width: int = 0
    """How many cells a row should have."""

    @property
    def used(self) -> tuple[int, ...]:
        """Every column this layout reads."""
        picked = (self.id, self.question, self.choices, self.answer, self.explanation, *self.options)
        return tuple(sorted(i for i in picked if i is not None))

    @property
    def ignored(self) -> tuple[str, ...]:
        """Header names of columns that are not read (reported, so nothing vanishes unseen)."""
        if self.header is None:
            return ()
        return tuple(h for i, h in enumerate(self.header) if i not in self.used and h.strip())


def parse_column_options(values: Sequence[str]) -> dict[str, str]:
    """Turn ``["question=题目", "a=选项A"]`` into ``{"question": "题目", "A": "选项A"}``.

    Roles are ``id``, ``question``, ``choices``, ``answer``, ``explanation`` and the option letters A–J.
    """
    out: dict[str, str] = {}
    for value in values:
        role, sep, header = value.partition("=")
        role = role.strip()
        role = role.upper() if len(role) == 1 else role.lower()
        if not sep or not header:
            raise UsageError(f"--column {value!r} is not ROLE=HEADER", hint="write e.g. --column question=题目")
        if role not in NAMED_ROLES and role not in ALL_LETTERS:
            raise UsageError(f"--column {value!r}: unknown role {role!r}",
                             hint=f"roles are {', '.join(NAMED_ROLES)} and the option letters A–J")
        if role in out:
            raise UsageError(f"--column maps {role!r} twice", hint="give each role once")
        out[role] = header
    return out


def _json_choices(text: str) -> tuple[str, ...]:
    """The options of a JSON list of texts (numbers keep their written form, null is empty); () otherwise."""
    try:
        value = json.loads(text, parse_int=str, parse_float=str, parse_constant=str)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to be a list of options
        return ()
    if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
        return ()
    return tuple("" if v is None else v for v in value)


def split_packed_choices(text: str) -> tuple[str, ...]:
    """Options packed in one field: a JSON list, or OpenBookQA's ``(A) … (B) …``; () when it is neither.

    Example:
        >>> split_packed_choices("(A) Deep sea animals (B) fish (C) Long Sea Fish")
        ('Deep sea animals', 'fish', 'Long Sea Fish')
        >>> split_packed_choices('["NA", "0", 1.50]')
        ('NA', '0', '1.50')
    """
    if text.lstrip().startswith("["):
        return _json_choices(text)
    first = re.match(r"\s*\(A\) ?", text)
    if first is None:
        return ()
    out: list[str] = []
    start = first.end()
    for letter in ALL_LETTERS[1:]:
        marker = re.compile(rf"\s\({letter}\) ?").search(text, start)
        if marker is None:
            break
        out.append(text[start : marker.start()])
        start = marker.end()
    out.append(text[start:])
    return tuple(out)


def _norm(name: str) -> str:
    return name.strip().lstrip("\ufeff").casefold()


def _letters_in(names: Mapping[str, int]) -> tuple[str, ...]:
    letters: list[str] = []
    for letter in ALL_LETTERS:
        if letter.casefold() not in names:
            break
        letters.append(letter)
    return tuple(letters)


def _column_letter(index: int) -> str:
    """Excel's name of the ``index``-th column (0-based): A, B, …, Z, AA and so on."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _cell_name(sheet: Sheet, index: int) -> str:
    """How a person finds a header cell: ``cell D1`` in a workbook, ``column 4`` in a text file."""
    if sheet.kind == "xlsx":
        return f"cell {_column_letter(index)}{sheet.records[0].line}"
    return f"column {index + 1}"


def check_header_names(sheet: Sheet) -> None:
    """Every column with data needs a name of its own: a repeated or an empty header cell is an error.

    Names are compared as the layout looks them up (trimmed, any case). An empty first
    cell is pandas' unnamed index (CMMLU), and an empty cell over an empty column is a
    trailing separator: neither loses anything.
    """
    header = sheet.records[0].cells
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        key = _norm(name)
        if key and key in seen:
            first = seen[key]
            same = f"{header[first]!r} twice" if header[first] == name else f"{header[first]!r} and {name!r}"
            raise DataError(f"the header names {same} ({_cell_name(sheet, first)} and {_cell_name(sheet, i)}): "
                            "the second column would be dropped", file=sheet.path, line=sheet.records[0].line,
                            hint="give every column its own name (rename or delete one of the two)")
        seen.setdefault(key, i)
        if key or i == 0:
            continue
        data = next((r for r in sheet.records[1:] if i < len(r.cells) and r.cells[i].strip()), None)
        if data is not None:
            where = "row" if sheet.kind == "xlsx" else "line"
            raise DataError(f"header {_cell_name(sheet, i)} is empty, but its column has data ({where} {data.line}: "
                            f"{data.cells[i][:40]!r}): it would be dropped", file=sheet.path,
                            line=sheet.records[0].line,
                            hint="name the column (then map it with --column ROLE=NAME if the name is not "
                                 "question, A, B, …, answer), or delete it")


def _named_layout(sheet: Sheet, fmt: SourceFormat, columns: Mapping[str, str], options: int | None) -> Layout:
    header = sheet.records[0].cells
    index = {_norm(h): i for i, h in reversed(list(enumerate(header)))}

    def find(role: str, default: str | None) -> int | None:
        if role in columns:
            wanted = columns[role]
            exact = [i for i, h in enumerate(header) if h == wanted]
            found = exact[0] if exact else index.get(_norm(wanted))
            if found is None:
                raise DataError(f"no column {wanted!r} for --column {role}={wanted}", file=sheet.path,
                                line=sheet.records[0].line, hint=f"the header is: {', '.join(header)}")
            return found
        return index.get(default) if default is not None else None

    names = {**index, **{k.casefold(): i for k in columns if len(k) == 1 and (i := find(k, None)) is not None}}
    obqa = fmt is SourceFormat.OPENBOOKQA
    ids = find("id", _OBQA["id"] if obqa else "id")
    if ids is None and header[0] == "" and fmt is not SourceFormat.CEVAL:
        ids, fmt = 0, (SourceFormat.CMMLU if fmt is SourceFormat.AUTO else fmt)  # pandas' unnamed index
    question = find("question", _OBQA["question"] if obqa else "question")
    if question is not None:  # a header (without a question column the first row may be no header at all)
        check_header_names(sheet)
    choices = find("choices", _OBQA["choices"] if obqa else ("choices" if fmt is SourceFormat.COLUMNS else None))
    letters = () if choices is not None else _letters_in(names)
    if question is None or (choices is None and len(letters) < 2):
        missing = "question" if question is None else "option columns A, B, …"
        raise DataError(f"no {missing} column; the header is: {', '.join(header)}", file=sheet.path,
                        line=sheet.records[0].line,
                        hint="map the columns, e.g. --column question=题目 --column A=选项A … --column answer=答案")
    if choices is not None:
        letters = tuple(ALL_LETTERS[: options or _packed_count(sheet, choices)])
    if fmt is SourceFormat.AUTO:
        fmt = SourceFormat.CEVAL
    return Layout(
        format=fmt, header=header, letters=letters, question=question,
        options=tuple(names[c.casefold()] for c in letters) if choices is None else (), choices=choices, id=ids,
        answer=find("answer", _OBQA["answer"] if obqa else "answer"), explanation=find("explanation", "explanation"),
        width=len(header),
    )


def _packed_count(sheet: Sheet, column: int) -> int:
    for record in sheet.records[1:]:
        if column < len(record.cells) and (found := split_packed_choices(record.cells[column])):
            return max(len(found), 2)
    return 4


def _headerless_layout(sheet: Sheet) -> Layout:
    width = len(sheet.records[0].cells)
    letters = ALL_LETTERS[: max(width - 2, 0)]
    return Layout(SourceFormat.MMLU, None, tuple(letters), 0, tuple(range(1, width - 1)), answer=width - 1, width=width)


def _looks_headerless(sheet: Sheet) -> bool:
    """MMLU: no cell is a known header name, and the last cell is an option letter."""
    cells = sheet.records[0].cells
    last = cells[-1].strip()
    named = {_norm(c) for c in cells} & {"question", "question stem", "answer", "id"}
    return (sheet.has_header is not True and not named and 4 <= len(cells) <= len(ALL_LETTERS) + 2
            and len(last) == 1 and last in ALL_LETTERS[: len(cells) - 2])


def detect_layout(
    sheet: Sheet, *, fmt: SourceFormat = SourceFormat.AUTO, columns: Mapping[str, str] | None = None,
    options: int | None = None,
) -> Layout:
    """Recognise (or, with ``fmt``, impose) the layout of a sheet.

    ``columns`` maps roles to header names (``--column``); ``options`` is the dataset's
    number of option letters, used to split packed choices.
    """
    if not sheet.records:
        raise DataError("is empty: no header and no rows", file=sheet.path, hint="check that this is the right file")
    columns = dict(columns or {})
    if columns and fmt not in (SourceFormat.AUTO, SourceFormat.COLUMNS):
        raise UsageError(f"--column cannot be combined with --format {fmt.value}",
                         hint="use --format columns or leave --format out")
    if fmt is SourceFormat.MMLU or (fmt is SourceFormat.AUTO and not columns and _looks_headerless(sheet)):
        if len(sheet.records[0].cells) < 4:
            raise DataError("has fewer than 4 columns: not the MMLU layout (question, A, B, …, answer)",
                            file=sheet.path, hint="check --format, or map the columns with --column")
        return _headerless_layout(sheet)
    header = {_norm(h) for h in sheet.records[0].cells}
    if fmt is SourceFormat.AUTO and not columns and {"question stem", "choices", "answer key"} <= header:
        fmt = SourceFormat.OPENBOOKQA
    if columns:
        fmt = SourceFormat.COLUMNS
    return _named_layout(sheet, fmt, columns, options)
