"""Importing question sheets into a C-Eval-layout dataset, cell for cell.

:func:`import_sheets` reads every source (:mod:`~toolkit.dataset.sheets`), recognises its
layout (:mod:`~toolkit.dataset.formats`), puts its rows in a split — ``--split``, the
file's name or folder (:mod:`~toolkit.dataset.sources`), or ``--dev-size`` — and writes
the dataset all or nothing (:func:`~toolkit.dataset.write.write_dataset`). No row is
dropped without a reason in the returned :class:`ImportReport`.

``--dev-size K`` (default 5) sends the first K rows of a file without a split to
``dev`` and the rest to ``val``. With ``dev_sample="random"`` the K dev rows are
``random.Random(seed).sample(range(n), K)`` instead (``seed`` defaults to 0, so the
same file and seed always give the same split); both splits keep the source order.

Source ids are kept when they are unique whole numbers in each written file (C-Eval,
CMMLU); otherwise — no id column (MMLU), ids like OpenBookQA's ``8-376``, repeated or
missing ids — the rows of each written file are numbered 0, 1, … and the report says so.
An import that would write no row at all is an error naming the file and the reasons.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from toolkit.dataset.decoding import check_encoding
from toolkit.dataset.formats import SourceFormat
from toolkit.dataset.import_report import ImportReport, SourceReport
from toolkit.dataset.meta import read_meta
from toolkit.dataset.questions import SourceQuestion, SourceTable, read_questions
from toolkit.dataset.scaffold import SubjectRequest
from toolkit.dataset.sources import SourceFile, derive_subject_key, expand_sources, source_mapping_entry
from toolkit.dataset.write import DatasetSettings, SubjectContent, existing_options, write_dataset
from toolkit.errors import DataError, UsageError

DEFAULT_DEV_SIZE = 5
DEV_SAMPLES = ("first", "random")
_WHOLE_NUMBER = re.compile(r"\s*[0-9]+\s*")
"""What the validator accepts as an id (surrounding whitespace is only a warning there)."""


@dataclass(frozen=True)
class ImportOptions:
    """How to read the sources and where their rows go."""

    format: SourceFormat = SourceFormat.AUTO
    columns: Mapping[str, str] = field(default_factory=dict)
    """``{role: header}`` from ``--column`` (see :func:`~toolkit.dataset.formats.parse_column_options`)."""
    sheet: str | None = None
    split: str | None = None
    """Put every row of every source in this split, whatever the file names say."""
    dev_size: int | None = None
    """Rows sent to dev from a file without a split (None: 5)."""
    dev_sample: str = "first"
    seed: int | None = None
    """Seed of ``dev_sample="random"`` (None: 0); only allowed with it."""
    strict: bool = False
    """Fail (nothing written) instead of skipping rows."""
    encoding: str | None = None
    """The encoding of text sources that are not UTF-8 (``--encoding``); None: UTF-8 or GBK/GB18030, detected."""
    header_row: int | None = None
    """The line (CSV/TSV) or row (XLSX) that holds the header, when it is not the first (``--header-row``)."""


@dataclass(frozen=True)
class _Read:
    """One source file read: where it came from, the subject it fills, and its questions."""

    source: SourceFile
    subject: str
    table: SourceTable


def _subject_keys(files: Sequence[SourceFile], subjects: Sequence[SubjectRequest], n_args: int) -> list[str]:
    if len(subjects) == 1:
        return [subjects[0].key] * len(files)
    if subjects and len(subjects) != n_args:
        raise UsageError(f"--subject is given {len(subjects)} times but --from {n_args} times",
                         hint="give one --subject for all sources, one per --from in the same order, or none")
    keys: list[str] = []
    for f in files:
        key = subjects[f.argument].key if subjects else derive_subject_key(f.stem)
        if key is None:
            raise UsageError(f"cannot make a subject key from the name {f.stem!r}", file=f.path,
                             hint="name the subject with --subject KEY (ASCII letters, digits and _)")
        keys.append(key)
    return keys


def _read(files: list[SourceFile], keys: list[str], opts: ImportOptions, target: int | None) -> tuple[list[_Read], int]:
    reads: list[_Read] = []
    for f, key in zip(files, keys, strict=True):
        table = read_questions(f.path, fmt=opts.format, columns=opts.columns, options=target, sheet_name=opts.sheet,
                               blank_answers=(opts.split or f.split) == "test", encoding=opts.encoding,
                               header_row=opts.header_row)
        letters = table.layout.letters
        target = target or len(letters)
        if len(letters) != target:
            raise DataError(f"has {len(letters)} options ({letters[0]}–{letters[-1]}) but the dataset has {target}",
                            file=f.path, hint=f"pass --options {len(letters)} for a new dataset, or import into another one")
        reads.append(_Read(f, key, table))
    return reads, target or 4


def _split_of(r: _Read, opts: ImportOptions) -> str | None:
    return opts.split or r.source.split


def _check_targets(reads: list[_Read], opts: ImportOptions) -> None:
    """Two files may not fill the same subject and split (a file without a split fills dev and val)."""
    claimed: dict[tuple[str, str], Path] = {}
    for r in reads:
        split = _split_of(r, opts)
        for s in (split,) if split else ("dev", "val"):
            other = claimed.setdefault((r.subject, s), r.source.path)
            if other is not r.source.path:
                raise UsageError(f"subject {r.subject!r} split {s!r} would come from two files: "
                                 f"{other} and {r.source.path}",
                                 hint="give the files different --subject keys, or import them one at a time")
        if r.table.layout.answer is None and (split in (None, "dev", "val")):
            raise DataError("has no answer column, but its rows go to dev/val, which need answers", file=r.source.path,
                            hint="map it with --column answer=<header>, or import it with --split test")


def _bad_id(part: Sequence[SourceQuestion]) -> str | None:
    """The first id of a written file that is missing (``""``), not a whole number, or repeated; None if all fit."""
    seen: set[int] = set()
    for q in part:
        if q.id is None or not _WHOLE_NUMBER.fullmatch(q.id):
            return q.id or ""
        if int(q.id) in seen:
            return q.id
        seen.add(int(q.id))
    return None


def _rows(part: Sequence[SourceQuestion], split: str, keep_ids: bool) -> list[tuple[str, ...]]:
    rows = [(q.id if keep_ids and q.id is not None else str(i), q.question, *q.options, q.answer)
            for i, q in enumerate(part)]
    return [row + (q.explanation,) for row, q in zip(rows, part)] if split == "dev" else rows


def _number_rows(parts: Mapping[str, Sequence[SourceQuestion]]) -> tuple[dict[str, list[tuple[str, ...]]], str | None]:
    """The rows of each written file, with the source ids when they fit, and a note when some were replaced."""
    written: dict[str, list[tuple[str, ...]]] = {}
    replaced, example = 0, None
    for split, part in parts.items():
        bad = _bad_id(part)
        written[split] = _rows(part, split, keep_ids=bad is None)
        if bad is not None:
            replaced += sum(1 for q in part if q.id is not None)
            example = example or bad
    if not replaced:
        return written, None  # no source ids at all: numbering them is the layout, not news
    shown = f"e.g. {example!r}" if example else "some rows have none"
    return written, (f"{replaced} source id(s) replaced by row numbers 0, 1, … in each file: the ids are not "
                     f"unique whole numbers ({shown})")


def _assign(r: _Read, opts: ImportOptions) -> tuple[dict[str, list[tuple[str, ...]]], list[str]]:
    """Rows per split for one source, and notes about what was done."""
    split = _split_of(r, opts)
    notes: list[str] = []
    qs = r.table.questions
    if split:
        parts = {split: qs}
    else:
        k = DEFAULT_DEV_SIZE if opts.dev_size is None else opts.dev_size
        picked = set(range(min(k, len(qs))))
        if opts.dev_sample == "random":
            picked = set(random.Random(opts.seed or 0).sample(range(len(qs)), min(k, len(qs))))
        parts = {"dev": tuple(q for i, q in enumerate(qs) if i in picked),
                 "val": tuple(q for i, q in enumerate(qs) if i not in picked)}
        if len(qs) <= k:
            notes.append(f"only {len(qs)} rows for --dev-size {k}: all went to dev, val is empty")
    lost = sum(1 for s, part in parts.items() if s != "dev" for q in part if q.explanation)
    if lost:
        notes.append(f"{lost} explanation(s) not written: only dev files have an explanation column")
    rows, renumbered = _number_rows(parts)
    return rows, notes + ([renumbered] if renumbered else [])


def _guess_language(reads: Sequence[_Read]) -> str | None:
    """``zh`` when a fair share of the questions' letters are CJK ideographs, else ``en``; None without questions."""
    text = "".join(q.question for r in reads for q in r.table.questions)
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if cjk + latin == 0:
        return None
    return "zh" if cjk / (cjk + latin) >= 0.2 else "en"


def _describe(argument: str | Path, reports: Sequence[SourceReport]) -> str:
    """One datasheet line per ``--from``: the path as given, its layout(s) and how many files."""
    formats = ", ".join(sorted({r.format for r in reports}))
    files = f"{len(reports)} files, " if len(reports) > 1 else ""
    return f"`{argument}` ({files}{formats} layout, {sum(r.rows_written for r in reports)} rows)"


def _collect(
    reads: Sequence[_Read], subjects: Sequence[SubjectRequest], options: ImportOptions,
) -> tuple[list[SubjectContent], list[SourceReport], list[str]]:
    """Rows per subject and split, the subjects' names, one report per source, and notes."""
    rows: dict[str, dict[str, list[tuple[str, ...]]]] = {}
    reports: list[SourceReport] = []
    notes: list[str] = []
    fallbacks: dict[str, list[str]] = {}
    for r in reads:
        parts, source_notes = _assign(r, options)
        for split, part in parts.items():
            rows.setdefault(r.subject, {})[split] = part
        entry, problem = source_mapping_entry(r.source.path, derive_subject_key(r.source.stem) or r.subject)
        if problem and problem not in notes:
            notes.append(problem)
        if entry and r.subject not in fallbacks:
            fallbacks[r.subject] = entry
        t = r.table
        reports.append(SourceReport(
            r.source.argument, r.source.path, t.layout.format.value, t.sheet.encoding, r.subject, tuple(parts),
            len(t.questions) + len(t.skipped), len(t.questions), t.skipped, t.layout.ignored,
            (*t.sheet.notes, *source_notes),
        ))
    if options.dev_size is not None and all(_split_of(r, options) for r in reads):
        notes.append("--dev-size was not used: every source names its split")
    requests = {s.key: s for s in subjects}
    contents = []
    for key, parts in rows.items():
        subject, defaults = requests.get(key, SubjectRequest(key)).resolve(fallbacks.get(key, ()))
        contents.append(SubjectContent(subject, parts, defaults))
    return contents, reports, notes


def _nothing_imported(reads: Sequence[_Read]) -> DataError:
    """The error for an import that would write no row: the file and why its rows were skipped."""
    with_skips = [r for r in reads if r.table.skipped]
    if not with_skips:
        others = f" (nor have the other {len(reads) - 1} files)" if len(reads) > 1 else ""
        return DataError(f"has no data rows{others}: nothing to import", file=reads[0].source.path,
                         hint="check that this is the right file (a header alone imports nothing)")
    first = with_skips[0]
    reasons = Counter(k.reason for r in with_skips for k in r.table.skipped)
    listed = "; ".join(f"{n} × {reason}" for reason, n in reasons.most_common(3))
    more = f"; and {len(reasons) - 3} other reason(s)" if len(reasons) > 3 else ""
    skipped = sum(reasons.values())
    return DataError(f"no row can be imported: all {skipped} row(s) were skipped ({listed}{more})",
                     file=first.source.path, line=first.table.skipped[0].line,
                     hint="fix the rows, or map the columns with --column ROLE=HEADER (see --help)")


def import_sheets(
    root: str | Path, name: str, sources: Sequence[str | Path], *, subjects: Sequence[SubjectRequest] = (),
    options: ImportOptions = ImportOptions(), settings: DatasetSettings = DatasetSettings(), force: bool = False,
) -> ImportReport:
    """Import CSV/TSV/XLSX/JSONL files or folders into ``<root>/<name>/`` (new, or new subjects).

    ``subjects``: one request names the subject of every source; one per ``sources`` entry pairs
    them by position; none derives keys from the file names. Names come from the requests, then
    from a subject_mapping.json beside the source, then from defaults (reported).

    Example:
        >>> report = import_sheets("data", "my_bank", ["questions.xlsx"],
        ...                        subjects=[SubjectRequest("law", name_zh="法学")])  # doctest: +SKIP
        >>> report.rows_read, report.rows_written, report.rows_skipped  # doctest: +SKIP
        (120, 120, 0)
    """
    if options.dev_sample not in DEV_SAMPLES:
        raise UsageError(f"unknown dev sample {options.dev_sample!r}", hint=f"use one of {', '.join(DEV_SAMPLES)}")
    if options.dev_size is not None and options.dev_size < 0:
        raise UsageError(f"--dev-size must be 0 or more, not {options.dev_size}")
    if options.seed is not None and options.dev_sample != "random":
        raise UsageError("--seed only applies to --dev-sample random",
                         hint="add --dev-sample random to take a seeded random dev sample, or leave out --seed")
    if options.encoding is not None:
        options = replace(options, encoding=check_encoding(options.encoding))
    files = expand_sources(sources)
    keys = _subject_keys(files, subjects, len(sources))
    reads, n_options = _read(files, keys, options, settings.options or existing_options(Path(root) / name))
    _check_targets(reads, options)
    skipped = [(r.source.path, k) for r in reads for k in r.table.skipped]
    if options.strict and skipped:
        path, first = skipped[0]
        raise DataError(f"{len(skipped)} row(s) cannot be imported; the first: {first.reason}", file=path,
                        line=first.line, hint="fix those rows, or leave out --strict to skip them (they are reported)")
    if not any(r.table.questions for r in reads):
        raise _nothing_imported(reads)
    contents, reports, notes = _collect(reads, subjects, options)
    language = settings.language
    if language is None and read_meta(Path(root) / name) is None and (language := _guess_language(reads)):
        notes.append(f"language {language!r} guessed from the questions (set it with --language)")
    imported = tuple(_describe(arg, [rep for rep in reports if rep.argument == i]) for i, arg in enumerate(sources))
    facts = settings.facts if settings.facts.imported_from else replace(settings.facts, imported_from=imported)
    settings = DatasetSettings(n_options, language, settings.categories, facts)
    result = write_dataset(root, name, contents, settings, force=force)
    return ImportReport(result, tuple(reports), tuple(notes))
