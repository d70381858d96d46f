"""The C-Eval folder layout every toolkit dataset follows.

```
<root>/<name>/
    dev/<subject>_dev.csv     id,question,A,B,C,D,answer,explanation   (few-shot examples)
    val/<subject>_val.csv     id,question,A,B,C,D,answer               (scored questions)
    test/<subject>_test.csv   id,question,A,B,C,D,answer               (answers may be blank)
    subject_mapping.json      {key: [English name, Chinese name, category]}
    dataset.json              name, language, option letters, declared categories
    DATASHEET.md              purpose, source, licence, answer checking, counts
```
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

SPLITS: tuple[str, ...] = ("dev", "val", "test")
"""The three splits, in the order they are listed everywhere."""

DEFAULT_CATEGORIES: tuple[str, ...] = ("STEM", "Social Science", "Humanities", "Other")
"""C-Eval's four categories; a dataset may declare more in ``dataset.json``."""

ALL_LETTERS = "ABCDEFGHIJ"
MIN_OPTIONS, MAX_OPTIONS = 2, len(ALL_LETTERS)

MAPPING_FILE = "subject_mapping.json"
META_FILE = "dataset.json"
DATASHEET_FILE = "DATASHEET.md"

_SPLIT_FILE = re.compile(r"^(?P<subject>.+)_(?P<split>dev|val|test)\.csv$")


def option_letters(n: int = 4) -> tuple[str, ...]:
    """The first ``n`` option letters.

    Example:
        >>> option_letters(4)
        ('A', 'B', 'C', 'D')
    """
    if not MIN_OPTIONS <= n <= MAX_OPTIONS:
        raise ValueError(f"a question has {MIN_OPTIONS} to {MAX_OPTIONS} options, not {n}")
    return tuple(ALL_LETTERS[:n])


def split_columns(split: str, letters: tuple[str, ...] = option_letters()) -> tuple[str, ...]:
    """The header of a split file: dev adds ``explanation`` after ``answer``.

    Example:
        >>> split_columns("val")
        ('id', 'question', 'A', 'B', 'C', 'D', 'answer')
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    cols = ("id", "question", *letters, "answer")
    return cols + ("explanation",) if split == "dev" else cols


def split_file(root: str | Path, subject: str, split: str) -> Path:
    """``<root>/<split>/<subject>_<split>.csv``."""
    return Path(root) / split / f"{subject}_{split}.csv"


def parse_split_filename(name: str) -> tuple[str, str] | None:
    """``("computer_network", "val")`` for ``computer_network_val.csv``; None if it does not match."""
    m = _SPLIT_FILE.match(name)
    return (m.group("subject"), m.group("split")) if m else None


def is_subject_key(key: str) -> bool:
    """Subject keys become ``<name>-<key>`` abbreviations and Python names: identifiers only.

    Example:
        >>> is_subject_key("computer_network"), is_subject_key("computer-network")
        (True, False)
    """
    return key.isidentifier() and not keyword.iskeyword(key) and key.isascii()


def discover_split_files(root: str | Path) -> dict[str, dict[str, Path]]:
    """Map subject → {split: file} for every ``<split>/<subject>_<split>.csv`` under ``root``.

    Files in a split folder whose suffix names another split are still listed under
    the split their name says, so a validator can report the misplacement.
    """
    found: dict[str, dict[str, Path]] = {}
    base = Path(root)
    for split in SPLITS:
        folder = base / split
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.csv")):
            parsed = parse_split_filename(path.name)
            if parsed is None or parsed[1] != split:
                continue
            found.setdefault(parsed[0], {})[split] = path
    return dict(sorted(found.items()))
