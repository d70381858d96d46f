"""Finding the files to import, and what their names say: subject key and split.

A name says its split in one of three ways, tried in order:

- ``<subject>_<split>.<ext>`` (C-Eval, MMLU): ``computer_network_val.csv``;
- the file is named after the split and the folder after the subject (OpenBookQA):
  ``Main/dev.tsv`` → subject ``main``, split ``dev``;
- the folder is named after the split (CMMLU): ``dev/agronomy.csv``.

Otherwise the file has no split and its rows are divided by ``--dev-size``. Subject keys
are made from names by lower-casing and turning every run of other characters than
ASCII letters and digits into ``_`` (``High-School Bio`` → ``high_school_bio``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.dataset.decoding import open_regular_file
from toolkit.dataset.layout import MAPPING_FILE, is_subject_key
from toolkit.dataset.mapping import read_mapping_raw
from toolkit.dataset.sheets import SHEET_SUFFIXES, sheet_kind
from toolkit.errors import ToolkitError, UsageError

_SPLIT_ALIASES = {"dev": "dev", "val": "val", "validation": "val", "test": "test"}
_SUFFIXED = re.compile(r"^(?P<subject>.+)_(?P<split>dev|val|test)$")


@dataclass(frozen=True)
class SourceFile:
    """One file to import, with what its name says."""

    path: Path
    argument: int
    """Which ``--from`` argument it came from (0-based), for pairing with ``--subject``."""
    stem: str
    """The part of the name the subject key is made from."""
    split: str | None


def derive_subject_key(name: str) -> str | None:
    """A subject key made from a file or folder name; None when none can be made.

    Example:
        >>> derive_subject_key("High-School Bio"), derive_subject_key("题库")
        ('high_school_bio', None)
    """
    key = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    return key if key and is_subject_key(key) else None


def split_from_path(path: Path) -> tuple[str, str | None]:
    """``(name for the subject key, split or None)`` as the file's name and folder say.

    Example:
        >>> split_from_path(Path("ceval/val/law_val.csv")), split_from_path(Path("cmmlu/dev/agronomy.csv"))
        (('law', 'val'), ('agronomy', 'dev'))
    """
    stem = path.stem
    if m := _SUFFIXED.match(stem):
        return m.group("subject"), m.group("split")
    if stem.lower() in _SPLIT_ALIASES:
        return path.resolve().parent.name, _SPLIT_ALIASES[stem.lower()]
    if path.parent.name.lower() in _SPLIT_ALIASES:
        return stem, _SPLIT_ALIASES[path.parent.name.lower()]
    return stem, None


def _wanted(path: Path, top: Path) -> bool:
    parts = path.relative_to(top).parts
    hidden = any(p.startswith((".", "~$")) or ".bak-" in p for p in parts)
    return path.is_file() and not hidden and path.suffix.lower() in SHEET_SUFFIXES


def expand_sources(paths: Sequence[str | Path]) -> list[SourceFile]:
    """Every file to import: files as given, folders searched recursively (sorted, hidden files skipped)."""
    found: list[SourceFile] = []
    for argument, given in enumerate(paths):
        top = Path(given)
        if not top.exists():
            raise UsageError("file or folder not found", file=top, hint="check the path given to --from")
        if top.is_dir():
            files = sorted(p for p in top.rglob("*") if _wanted(p, top))
            if not files:
                raise UsageError(f"no {', '.join(SHEET_SUFFIXES)} files in this folder", file=top,
                                 hint="point --from at the files, or at the folder that holds them")
        else:
            open_regular_file(top).close()  # a FIFO or a device is refused here, before anything blocks on it
            sheet_kind(top)  # an unsupported file type is a usage error naming the file
            files = [top]
        for path in files:
            stem, split = split_from_path(path)
            found.append(SourceFile(path, argument, stem, split))
    return found


def source_mapping_entry(path: Path, key: str) -> tuple[list[str], str | None]:
    """The ``[English, Chinese, category]`` entry for ``key`` in a subject_mapping.json beside the file.

    Looks in the file's folder and the one above it (C-Eval keeps it above ``val/``).
    Returns the entry (``[]`` when there is none) and a note when a mapping could not be read.
    """
    for folder in (path.parent, path.parent.parent):
        candidate = folder / MAPPING_FILE
        if not candidate.is_file():
            continue
        try:
            raw = read_mapping_raw(candidate)
        except ToolkitError as err:
            return [], f"ignored {candidate}: {err.message}"
        entry = raw.get(key)
        return ([str(v) for v in entry] if isinstance(entry, list) else []), None
    return [], None
