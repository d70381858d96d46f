"""What gen-config needs to know about a dataset folder, read and checked once.

The facts come from ``subject_mapping.json`` (subjects, in the file's order),
``dataset.json`` (name, language, option count, categories; optional) and the split
files. gen-config refuses a folder OpenCompass could not run: every subject needs all
three split files (``CEvalDataset`` opens dev, val and test whatever is evaluated),
and the option columns must be in every header (a missing one leaves a literal ``{D}``
in the prompt). Row counts are kept for :func:`toolkit.config.context.check_rows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit.dataset.layout import (
    ALL_LETTERS,
    DEFAULT_CATEGORIES,
    MAPPING_FILE,
    SPLITS,
    is_subject_key,
    option_letters,
    split_file,
)
from toolkit.dataset.mapping import Subject, read_mapping
from toolkit.dataset.meta import read_meta
from toolkit.dataset.textio import read_csv
from toolkit.errors import DataError, UsageError

_MAX_LISTED = 5


@dataclass(frozen=True)
class DatasetFacts:
    """A dataset folder as gen-config sees it."""

    root: Path
    name: str
    language: str
    letters: tuple[str, ...]
    categories: tuple[str, ...]
    subjects: tuple[Subject, ...]
    """In the mapping's order, which decides the order of the datasets list (and so the hash)."""
    rows: Mapping[str, Mapping[str, int]]
    """Rows per subject and split: ``rows["law"]["dev"]`` is the most in-context examples law can give."""


def _letters_in(header: tuple[str, ...]) -> tuple[str, ...]:
    letters = tuple(col for col in header if len(col) == 1 and col in ALL_LETTERS)
    return letters


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _check_files(root: Path, subjects: tuple[Subject, ...]) -> None:
    missing = [
        str(split_file(root, s.key, split).relative_to(root))
        for s in subjects
        for split in SPLITS
        if not split_file(root, s.key, split).is_file()
    ]
    if missing:
        raise DataError(
            f"missing split files: {_listed(missing)} (OpenCompass's CEvalDataset opens dev, val and test "
            "of every subject, even when only val is evaluated)",
            file=root,
            hint="create them (a test file may hold just the header), or run `toolkit validate` on the folder",
        )


def _read_headers(
    root: Path, subjects: tuple[Subject, ...]
) -> tuple[dict[Path, tuple[str, ...]], dict[str, dict[str, int]]]:
    headers: dict[Path, tuple[str, ...]] = {}
    rows: dict[str, dict[str, int]] = {}
    for subject in subjects:
        for split in SPLITS:
            path = split_file(root, subject.key, split)
            table, _ = read_csv(path)
            headers[path] = table.header
            rows.setdefault(subject.key, {})[split] = len(table.rows)
    return headers, rows


def _option_letters(headers: dict[Path, tuple[str, ...]], declared: int | None) -> tuple[str, ...]:
    first_path, first = next(iter(headers.items()))
    letters = option_letters(declared) if declared is not None else _letters_in(first)
    if not letters or letters != option_letters(len(letters)):
        raise DataError(
            f"cannot tell the option columns from the header {list(first)}",
            file=first_path,
            hint="name the option columns A, B, C, … in order, or declare \"options\" in dataset.json",
        )
    for path, header in headers.items():
        absent = [col for col in ("question", *letters) if col not in header]
        if absent:
            raise DataError(
                f"header lacks column{'s' if len(absent) > 1 else ''} {', '.join(absent)} "
                f"(the dataset has options {''.join(letters)})",
                file=path,
                line=1,
                hint="fix the header, or run `toolkit validate --fix` on the folder",
            )
    return letters


def read_dataset_facts(dataset_dir: str | Path, *, name: str | None = None) -> DatasetFacts:
    """Read and check the dataset folder; ``name`` overrides the declared (or folder) name.

    Raises UsageError when the folder or its mapping is missing, DataError when OpenCompass
    could not run it as it is.
    """
    root = Path(dataset_dir)
    if not root.is_dir():
        raise UsageError("dataset folder not found", file=root, hint="pass the folder that holds subject_mapping.json")
    meta = read_meta(root)
    categories = meta.categories if meta else DEFAULT_CATEGORIES
    mapping = read_mapping(root / MAPPING_FILE, categories)
    if not mapping:
        raise DataError("the subject mapping lists no subject", file=root / MAPPING_FILE, hint="add one entry per subject")
    chosen = name or (meta.name if meta else root.resolve().name)
    if not is_subject_key(chosen):
        raise UsageError(
            f"dataset name {chosen!r} cannot name Python variables ({chosen}_datasets)",
            hint="pass --name with letters, digits and _ only (e.g. --name my_bank)",
        )
    subjects = tuple(mapping.values())
    _check_files(root, subjects)
    headers, rows = _read_headers(root, subjects)
    return DatasetFacts(
        root=root,
        name=chosen,
        language=meta.language if meta else "zh",
        letters=_option_letters(headers, meta.options if meta else None),
        categories=tuple(categories),
        subjects=subjects,
        rows=rows,
    )
