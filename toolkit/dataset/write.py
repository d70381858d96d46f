"""Writing subjects into a dataset folder: a new dataset, or new subjects in an existing one.

:func:`write_dataset` is the one place that decides what may be written. It reads the
existing dataset (if any), refuses anything that would overwrite data unless
``force`` is set (and then makes a backup first), renders every file in memory, and
commits them all or nothing (:mod:`toolkit.dataset.staging`).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.dataset.datasheet import DatasheetFacts, SubjectCounts, render_datasheet, update_datasheet_counts
from toolkit.dataset.layout import (
    ALL_LETTERS,
    DATASHEET_FILE,
    DEFAULT_CATEGORIES,
    MAPPING_FILE,
    META_FILE,
    SPLITS,
    discover_split_files,
    is_subject_key,
    split_columns,
)
from toolkit.dataset.mapping import Subject, format_mapping, read_mapping
from toolkit.dataset.meta import DatasetMeta, read_meta
from toolkit.dataset.staging import commit_files
from toolkit.dataset.textio import format_csv, read_csv
from toolkit.errors import DataError, ToolkitError, UsageError
from toolkit.fileio import write_error
from toolkit.staged import make_backup

Rows = Sequence[Sequence[str]]


@dataclass(frozen=True)
class SubjectContent:
    """A subject to write, its rows per split (in :func:`split_columns` order) and which names were defaults."""

    subject: Subject
    rows: Mapping[str, Rows] = field(default_factory=dict)
    defaults: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetSettings:
    """Dataset-wide settings; None keeps what an existing dataset has (new datasets: 4 options, ``zh``)."""

    options: int | None = None
    language: str | None = None
    categories: tuple[str, ...] = ()
    """Categories declared in addition to C-Eval's four (and to those the dataset already declares)."""
    facts: DatasheetFacts = DatasheetFacts()


@dataclass(frozen=True)
class WriteResult:
    """What :func:`write_dataset` did."""

    dataset_dir: Path
    created: bool
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    backup: Path | None
    meta: DatasetMeta
    subjects: tuple[SubjectCounts, ...]
    """Every subject of the dataset afterwards, with its rows per split."""
    defaults: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "dataset": str(self.dataset_dir), "created": self.created, "added": list(self.added),
            "replaced": list(self.replaced), "backup": str(self.backup) if self.backup else None,
            "language": self.meta.language, "options": self.meta.options, "categories": list(self.meta.categories),
            "subjects": [
                {**vars(s.subject), "counts": dict(s.counts), "defaults": list(self.defaults.get(s.subject.key, ()))}
                for s in self.subjects
            ],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class _Existing:
    meta: DatasetMeta | None
    options: int | None
    mapping: dict[str, Subject]
    files: dict[str, dict[str, Path]]
    datasheet: str | None


def check_key(key: str, what: str = "subject key") -> None:
    """UsageError unless ``key`` is a Python identifier (it becomes part of config names)."""
    if not is_subject_key(key):
        raise UsageError(f"{what} {key!r} is not a Python identifier",
                         hint="use ASCII letters, digits and _ , not starting with a digit (e.g. computer_network)")


def _header_options(path: Path) -> int | None:
    try:
        header = read_csv(path)[0].header
    except ToolkitError:
        return None
    return sum(1 for letter in ALL_LETTERS if letter in header) or None


def existing_options(dataset_dir: str | Path) -> int | None:
    """The option count of the dataset in ``dataset_dir``: from dataset.json, else a split file's header."""
    folder = Path(dataset_dir)
    if not folder.is_dir():
        return None
    meta = read_meta(folder)
    if meta is not None:
        return meta.options
    first = next((p for splits in discover_split_files(folder).values() for p in splits.values()), None)
    return _header_options(first) if first else None


def _read_existing(dataset_dir: Path, declared: Sequence[str], force: bool) -> _Existing | None:
    if not dataset_dir.is_dir() or not any(dataset_dir.iterdir()):
        return None
    meta = read_meta(dataset_dir)
    files = discover_split_files(dataset_dir)
    mapping_path = dataset_dir / MAPPING_FILE
    if meta is None and not files and not mapping_path.is_file():
        if not force:
            raise UsageError("exists and is not a dataset (no subject_mapping.json, dataset.json or split files)",
                             file=dataset_dir,
                             hint="choose another name or --root, or pass --force (a backup is made first)")
        return _Existing(None, None, {}, {}, None)
    categories = (*(meta.categories if meta else DEFAULT_CATEGORIES), *declared)
    mapping = read_mapping(mapping_path, categories) if mapping_path.is_file() else {}
    options = existing_options(dataset_dir)
    sheet = dataset_dir / DATASHEET_FILE
    return _Existing(meta, options, mapping, files, sheet.read_text(encoding="utf-8-sig") if sheet.is_file() else None)


def _conflicts(dataset_dir: Path, ex: _Existing, keys: Sequence[str], settings: DatasetSettings) -> list[str]:
    problems: list[str] = []
    clash = [k for k in keys if k in ex.mapping or k in ex.files]
    if clash:
        problems.append(f"already has subject(s) {', '.join(clash)}")
    if settings.options is not None and ex.options is not None and settings.options != ex.options:
        problems.append(f"has {ex.options} options, not {settings.options}")
    if settings.language is not None and ex.meta is not None and settings.language != ex.meta.language:
        problems.append(f"has language {ex.meta.language!r}, not {settings.language!r}")
    if settings.facts.given() and ex.datasheet is not None:
        problems.append(f"already has {DATASHEET_FILE} (edit it by hand)")
    return problems


def _csv(split: str, letters: tuple[str, ...], content: SubjectContent, dataset_dir: Path) -> str:
    header = split_columns(split, letters)
    rows = content.rows.get(split, ())
    for number, row in enumerate(rows):
        if len(row) != len(header):
            raise DataError(f"row {number} of subject {content.subject.key!r} ({split}) has {len(row)} cells, "
                            f"expected {len(header)}: {', '.join(header)}", file=dataset_dir)
    return format_csv(header, rows)


def _keep_old_names(content: SubjectContent, old: Subject | None) -> SubjectContent:
    """A replaced subject keeps its mapped names where the new request only had defaults."""
    if old is None or not content.defaults:
        return content
    subject = replace(content.subject, **{f: getattr(old, f) for f in content.defaults})
    return replace(content, subject=subject, defaults=())


def _count(path: Path | None) -> int | None:
    if path is None:
        return None
    try:
        return len(read_csv(path)[0].rows)
    except ToolkitError:
        return None


def _settle_meta(name: str, dataset_dir: Path, ex: _Existing | None, keys: Sequence[str],
                 settings: DatasetSettings) -> DatasetMeta:
    """The dataset's settings afterwards: given ones, else the existing ones, else the defaults."""
    options = settings.options or (ex.options if ex else None) or 4
    untouched = sorted(k for k in {*ex.mapping, *ex.files} if k not in keys) if ex else []
    if ex and ex.options not in (None, options) and untouched:
        raise UsageError(f"cannot change the option count to {options}: subjects {', '.join(untouched)} have "
                         f"{ex.options}", file=dataset_dir, hint="create a new dataset for the new option count")
    old_categories = ex.meta.categories if ex and ex.meta else DEFAULT_CATEGORIES
    categories = tuple(dict.fromkeys((*DEFAULT_CATEGORIES, *old_categories, *settings.categories)))
    language = settings.language or (ex.meta.language if ex and ex.meta else "zh")
    return DatasetMeta(ex.meta.name if ex and ex.meta else name, language, options, categories)


def _datasheet(meta: DatasetMeta, counts: Sequence[SubjectCounts], ex: _Existing | None,
               facts: DatasheetFacts) -> tuple[str, list[str]]:
    """A fresh datasheet, or the existing one with only its counts block rewritten."""
    rendered = render_datasheet(meta, counts, facts)
    if ex is None or ex.datasheet is None or facts.given():
        return rendered, []
    updated = update_datasheet_counts(ex.datasheet, rendered)
    if updated is None:
        return ex.datasheet, [f"{DATASHEET_FILE} has no toolkit:counts markers, so its counts were not updated"]
    return updated, []


def write_dataset(
    root: str | Path, name: str, contents: Sequence[SubjectContent], settings: DatasetSettings = DatasetSettings(),
    *, force: bool = False,
) -> WriteResult:
    """Create ``<root>/<name>/`` with ``contents``, or add them to the dataset already there.

    Refuses (UsageError) an existing subject, a different option count or language, or
    datasheet facts for an existing datasheet, unless ``force``: then the dataset folder is
    first copied to ``<name>.bak-<time>`` and the given subjects replace the old ones.
    Everything is rendered before anything is written, and written all or nothing.
    """
    check_key(name, "dataset name")
    keys = [c.subject.key for c in contents]
    for key in keys:
        check_key(key)
    if len(set(keys)) != len(keys):
        twice = next(k for k in keys if keys.count(k) > 1)
        raise UsageError(f"subject {twice!r} is given twice", hint="give each --subject once")
    dataset_dir = Path(root) / name
    ex = _read_existing(dataset_dir, settings.categories, force)
    problems = _conflicts(dataset_dir, ex, keys, settings) if ex else []
    if problems and not force:
        raise UsageError("; ".join(problems), file=dataset_dir,
                         hint="use a new subject key or name, or pass --force to replace (a backup is made first)")
    old_mapping = ex.mapping if ex else {}
    old_keys = {*old_mapping, *(ex.files if ex else {})}
    contents = [_keep_old_names(c, old_mapping.get(c.subject.key)) for c in contents]
    meta = _settle_meta(name, dataset_dir, ex, keys, settings)
    for c in contents:
        if c.subject.category not in meta.categories:
            raise UsageError(f"subject {c.subject.key!r} has unknown category {c.subject.category!r}",
                             hint=f"use one of {', '.join(meta.categories)}, or declare it with --declare-category")
    files = {str(Path(split) / f"{c.subject.key}_{split}.csv"): _csv(split, meta.letters, c, dataset_dir)
             for c in contents for split in SPLITS}
    mapping = {**old_mapping, **{c.subject.key: c.subject for c in contents}}
    given = {c.subject.key: c for c in contents}
    counts = tuple(
        SubjectCounts(s, {sp: len(given[k].rows.get(sp, ())) for sp in SPLITS} if k in given
                      else {sp: _count(ex.files.get(k, {}).get(sp)) if ex else None for sp in SPLITS})
        for k, s in mapping.items()
    )
    files[MAPPING_FILE] = format_mapping(mapping)
    files[META_FILE] = meta.to_json()
    files[DATASHEET_FILE], notes = _datasheet(meta, counts, ex, settings.facts)
    # Only what changes is written: an untouched file keeps its bytes and its modification time.
    unchanged = {r for r, text in files.items()
                 if (dataset_dir / r).is_file() and (dataset_dir / r).read_bytes() == text.encode()}
    try:
        backup = make_backup(dataset_dir) if force and ex else None
    except OSError as err:  # the backup is complete or absent; nothing else was written
        raise write_error(err) from None
    try:
        commit_files(dataset_dir, {r: t for r, t in files.items() if r not in unchanged})
    except BaseException:
        if backup is not None:  # nothing changed: the backup of it would only be clutter
            shutil.rmtree(backup, ignore_errors=True)
        raise
    return WriteResult(
        dataset_dir=dataset_dir, created=ex is None, added=tuple(k for k in keys if k not in old_keys),
        replaced=tuple(k for k in keys if k in old_keys), backup=backup, meta=meta,
        subjects=counts, defaults={c.subject.key: c.defaults for c in contents if c.defaults}, notes=tuple(notes),
    )
