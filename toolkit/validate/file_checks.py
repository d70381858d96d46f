"""File-level checks: encoding, line endings, ragged rows, the header, the file's name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from toolkit.dataset.layout import ALL_LETTERS, MIN_OPTIONS, is_subject_key, option_letters, parse_split_filename
from toolkit.dataset.textio import CsvTable, DecodedText, record_breaks
from toolkit.validate.findings import Finding, make_finding
from toolkit.validate.schemas import SchemaFailure

_NEWLINE_NAMES = {"\r\n": "CRLF (\\r\\n)", "\n": "LF (\\n)", "\r": "CR (\\r)"}


def row_terminators(text: str) -> set[str]:
    """The line-ending styles used between records, ignoring line breaks inside quoted cells.

    Excel writes CRLF between rows and LF inside cells; that is one style, not a mix.

    Example:
        >>> sorted(row_terminators('a,b\\r\\n1,"x\\ny"\\r\\n'))
        ['\\r\\n']
    """
    return set(record_breaks(text).styles)


def newline_styles(decoded: DecodedText) -> set[str]:
    """The line endings between the file's records (``{"\\r\\n"}`` for an Excel CSV); breaks in cells do not count."""
    return row_terminators(decoded.text)


def encoding_findings(decoded: DecodedText, file: str) -> list[Finding]:
    """Encoding (GBK is an error, a BOM is tolerated) and line endings (CRLF is tolerated)."""
    out: list[Finding] = []
    if decoded.encoding == "gb18030":
        out.append(make_finding("E102", file, "the file is GBK/GB18030, not UTF-8", value="gb18030"))
    elif not decoded.is_utf8:
        out.append(make_finding("E102", file, f"the file is {decoded.encoding}, not UTF-8", value=decoded.encoding))
    elif decoded.has_bom:
        out.append(make_finding("I103", file, line=1))
    styles = newline_styles(decoded)
    if len(styles) > 1:
        names = " and ".join(sorted(_NEWLINE_NAMES[s] for s in styles))
        out.append(make_finding("W105", file, f"the rows end with {names}"))
    elif styles == {"\r\n"}:
        out.append(make_finding("I104", file))
    elif styles == {"\r"}:
        out.append(make_finding("W105", file, "the rows end with old Mac CR (\\r) line endings"))
    return out


def _short_row_effect(missing: Sequence[str]) -> str:
    """What a row without the cells of ``missing`` does to a prompt: the first placeholder left unfilled.

    Example:
        >>> _short_row_effect(["D", "answer"]), _short_row_effect(["explanation"])
        ('a prompt would keep a literal {D}', "it has no 'explanation'")
    """
    placeholder = next((c for c in missing if c in ("question", "answer") or (len(c) == 1 and c in ALL_LETTERS)), None)
    if placeholder is None:
        return f"it has no {', '.join(map(repr, missing))}"
    return f"a prompt would keep a literal {{{placeholder}}}"


def ragged_findings(table: CsvTable, file: str) -> list[Finding]:
    """E101 for every row whose cell count differs from the header's."""
    width = len(table.header)
    out: list[Finding] = []
    for row, line in zip(table.rows, table.lines):
        if len(row) == width:
            continue
        if len(row) > width:
            message = f"{len(row)} cells but the header has {width}: an unquoted comma shifts the columns"
            hint = 'put the cell that contains a comma in double quotes ("a, b")'
        else:
            message = f"{len(row)} cells but the header has {width}: {_short_row_effect(table.header[len(row):])}"
            hint = "fill in the missing cells (an empty cell still needs its comma)"
        out.append(make_finding("E101", file, message, line=line, value=",".join(row), hint=hint))
    return out


def letter_run(header: Sequence[str]) -> int:
    """How many of the letters A, B, C… the header has, counting from A without a gap.

    Example:
        >>> letter_run(["id", "question", "A", "B", "D", "answer"])
        2
    """
    names = set(header)
    n = 0
    while n < len(ALL_LETTERS) and ALL_LETTERS[n] in names:
        n += 1
    return n


def letters_for_run(n: int) -> tuple[str, ...]:
    """The option letters of a run of ``n`` letter columns; too short a run means the default A–D.

    Example:
        >>> letters_for_run(3), letters_for_run(1)
        (('A', 'B', 'C'), ('A', 'B', 'C', 'D'))
    """
    return option_letters(n) if n >= MIN_OPTIONS else option_letters(4)


def letters_from_header(header: Sequence[str]) -> tuple[str, ...]:
    """The option letters a header uses: the run A, B, C… present in it (default A–D).

    Example:
        >>> letters_from_header(["id", "question", "A", "B", "C", "answer"])
        ('A', 'B', 'C')
    """
    return letters_for_run(letter_run(header))


def duplicate_columns(header: Sequence[str], file: str, line: int) -> tuple[list[Finding], list[int]]:
    """E110 for each repeated header name; also the positions of the first occurrences to keep."""
    seen: set[str] = set()
    keep: list[int] = []
    out: list[Finding] = []
    for pos, name in enumerate(header):
        if name in seen:
            out.append(make_finding("E110", file, f"column {name!r} appears twice", line=line, column=name))
        else:
            seen.add(name)
            keep.append(pos)
    return out, keep


def _similar(name: str, candidates: Sequence[str]) -> str | None:
    key = name.strip().casefold()
    return next((c for c in candidates if c.strip().casefold() == key), None)


def header_findings(
    failures: Sequence[SchemaFailure], header: Sequence[str], expected: Sequence[str], file: str, line: int
) -> list[Finding]:
    """Turn pandera's header failures into E107 missing, E108 unknown and E109 order findings."""
    missing = [f.value for f in failures if f.check == "column_in_dataframe" and f.value]
    unknown = [f.value for f in failures if f.check == "column_in_schema" and f.value]
    out: list[Finding] = []
    renamed: set[str] = set()
    for name in missing:
        near = _similar(name, unknown)
        hint = f"rename column {near!r} to {name!r}" if near else None
        if near:
            renamed.add(near)
        out.append(make_finding("E107", file, f"column {name!r} is missing", line=line, column=name, hint=hint))
    for name in unknown:
        if name not in renamed:
            out.append(make_finding("E108", file, f"column {name!r} is not part of this layout (expected "
                                    f"{','.join(expected)})", line=line, column=name))
    if any(f.check == "column_ordered" for f in failures):
        out.append(make_finding("E109", file, f"expected the order {','.join(expected)}", line=line,
                                value=",".join(header)))
    return out


def name_findings(path: Path, folder_split: str) -> list[Finding]:
    """E111 when a CSV file in ``<split>/`` is not named ``<subject>_<split>.csv``."""
    parsed = parse_split_filename(path.name)
    if parsed is None:
        message = f"{path.name!r} does not end in _{folder_split}.csv"
    elif parsed[1] != folder_split:
        message = f"a {parsed[1]} file inside the {folder_split}/ folder"
    elif not is_subject_key(parsed[0]):
        message = f"subject {parsed[0]!r} is not a Python identifier"
    else:
        return []
    return [make_finding("E111", path, message, value=path.name)]
