"""Checking one split file: read it once, run the file, schema and row checks, keep its rows.

The parsed rows stay in the returned :class:`SplitFile` so that the dataset-level
checks (duplicates, leaks, balance) need not read the file again.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from pathlib import Path

from toolkit.dataset.layout import split_columns
from toolkit.dataset.quoting import UnclosedQuoteError
from toolkit.dataset.textio import CsvTable, parse_csv, read_text
from toolkit.errors import DataError, UsageError
from toolkit.validate.file_checks import (
    duplicate_columns,
    encoding_findings,
    header_findings,
    letters_from_header,
    ragged_findings,
)
from toolkit.validate.findings import Finding, make_finding
from toolkit.validate.row_checks import duplicate_option_findings, schema_row_findings
from toolkit.validate.schemas import (
    SchemaFailure,
    load_batch_schema,
    load_split_schema,
    make_frame,
    run_schema,
    unique_failures,
)


@dataclass(frozen=True)
class SplitFile:
    """One checked split file: where, which split and subject, its rows and its findings."""

    path: Path
    split: str
    subject: str | None
    letters: tuple[str, ...]
    table: CsvTable | None
    """None when the file could not be read or has no header."""
    kept: tuple[int, ...]
    """Rows fit for row checks: every row whose cell count matches the header."""
    findings: tuple[Finding, ...]

    @property
    def file(self) -> str:
        """The path as findings name it."""
        return str(self.path)

    @property
    def n_rows(self) -> int:
        """Every record of the file, ragged ones included (what OpenCompass would read)."""
        return len(self.table.rows) if self.table else 0

    def column(self, name: str) -> list[str] | None:
        """The cells of column ``name`` in the kept rows; None if the header lacks it."""
        if self.table is None or name not in self.table.header:
            return None
        pos = self.table.header.index(name)
        return [self.table.rows[i][pos] for i in self.kept]

    def line(self, kept_index: int) -> int:
        """The editor line of the ``kept_index``-th kept row."""
        assert self.table is not None
        return self.table.lines[self.kept[kept_index]]


@dataclass
class _Pending:
    """A file read and parsed, waiting for its schema run (files sharing a header share one run)."""

    path: Path
    split: str
    subject: str | None
    letters: tuple[str, ...]
    table: CsvTable
    kept: tuple[int, ...]
    columns: list[int]
    findings: list[Finding]

    @property
    def frame_header(self) -> tuple[str, ...]:
        return tuple(self.table.header[c] for c in self.columns)

    def finish(self, failures: list[SchemaFailure], expected: tuple[str, ...]) -> SplitFile:
        file, table = str(self.path), self.table
        found = self.findings + header_findings(failures, self.frame_header, expected, file, table.header_line)
        found += schema_row_findings(failures, table, self.kept, table.header, self.letters, file,
                                   blank_answers=self.split == "test")
        found += duplicate_option_findings(table, self.kept, table.header, self.letters, file)
        if not table.rows and self.split == "val":
            found.append(make_finding("W113", file, line=table.header_line))
        return SplitFile(self.path, self.split, self.subject, self.letters, table, self.kept, tuple(found))


def _read(
    path: Path, split: str, letters: tuple[str, ...] | None, subject: str | None, encoding: str | None = None,
) -> SplitFile | _Pending:
    file = str(path)
    try:
        decoded = read_text(path, encoding)
    except (DataError, UsageError) as err:
        finding = make_finding("E100", file, err.message, line=err.location.line, hint=err.hint)
        return SplitFile(path, split, subject, letters or (), None, (), (finding,))
    findings = encoding_findings(decoded, file)
    try:
        table = parse_csv(decoded.text, source=path)
    except DataError as err:
        code = "E114" if isinstance(err, UnclosedQuoteError) else "E100"
        findings.append(make_finding(code, file, err.message, line=err.location.line, hint=err.hint))
        return SplitFile(path, split, subject, letters or (), None, (), tuple(findings))
    if not table.header:
        return SplitFile(path, split, subject, letters or (), table, (), (*findings, make_finding("E106", file)))
    dup_findings, columns = duplicate_columns(table.header, file, table.header_line)
    width = len(table.header)
    kept = tuple(i for i, row in enumerate(table.rows) if len(row) == width)
    findings += dup_findings + ragged_findings(table, file)
    return _Pending(path, split, subject, letters or letters_from_header(table.header), table, kept, columns, findings)


def _schema_of(schema: Path | Mapping[str, Path] | None, split: str) -> Path | None:
    return schema.get(split) if isinstance(schema, Mapping) else schema


def check_split_files(
    specs: Sequence[tuple[Path, str, str | None]],
    letters: tuple[str, ...] | None = None,
    schema: Path | Mapping[str, Path] | None = None,
    encoding: str | None = None,
) -> list[SplitFile]:
    """Check every ``(path, split, subject)``; files with the same split and header share one pandera run.

    ``schema``: a user's schema for every split, or ``{split: file}`` (other splits: the stock schema).
    ``encoding``: the encoding of files that are not UTF-8 (``--encoding``).

    pandera's cost is mostly per call (about 20 ms), so a bank of a thousand small
    files is validated as a few large frames; failures are mapped back by row offset.
    """
    results: list[SplitFile | _Pending] = [_read(Path(p), s, letters, k, encoding) for p, s, k in specs]
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[_Pending]] = {}
    for r in results:
        if isinstance(r, _Pending):
            groups.setdefault((r.split, r.letters, r.frame_header), []).append(r)
    finished: dict[int, SplitFile] = {}
    for (split, group_letters, header), members in groups.items():
        per_file = [[[m.table.rows[i][c] for c in m.columns] for i in m.kept] for m in members]
        own = _schema_of(schema, split)
        split_schema = load_split_schema(split, group_letters, own)
        batch_schema, unique = load_batch_schema(split, group_letters, own)
        failures = run_schema(batch_schema, make_frame(header, [row for rows in per_file for row in rows]))
        expected = split_columns(split, group_letters) if own is None else tuple(split_schema.columns)
        offsets = list(accumulate((len(m.kept) for m in members), initial=0))
        per_member: list[list[SchemaFailure]] = [unique_failures(unique, header, rows) for rows in per_file]
        for f in failures:
            if f.row is None:
                for bucket in per_member:
                    bucket.append(f)
            else:
                k = bisect_right(offsets, f.row) - 1
                per_member[k].append(replace(f, row=f.row - offsets[k]))
        for m, bucket in zip(members, per_member):
            finished[id(m)] = m.finish(bucket, expected)
    return [finished[id(r)] if isinstance(r, _Pending) else r for r in results]


def check_split_file(
    path: str | Path,
    split: str,
    letters: tuple[str, ...] | None = None,
    *,
    schema: Path | Mapping[str, Path] | None = None,
    subject: str | None = None,
    encoding: str | None = None,
) -> SplitFile:
    """Run every file- and row-level check on one CSV file of ``split``.

    ``letters`` defaults to the option letters the header uses; ``schema`` (a file, or
    ``{split: file}``) to the stock schema of the split.
    """
    return check_split_files([(Path(path), split, subject)], letters, schema, encoding)[0]
