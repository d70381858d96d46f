"""``dataset.json``: what a dataset declares about itself.

```json
{"format_version": 1, "name": "my_bank", "language": "zh", "options": 4,
 "categories": ["STEM", "Social Science", "Humanities", "Other"]}
```
``options`` is the number of option letters (2–10, A–J); ``categories`` are the
allowed categories of the subject mapping (C-Eval's four, plus any the author
declares). Files without ``dataset.json`` (C-Eval itself) get the defaults,
with the option count read from the header of the first split file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from toolkit.dataset.layout import DEFAULT_CATEGORIES, MAX_OPTIONS, META_FILE, MIN_OPTIONS, option_letters
from toolkit.errors import DataError
from toolkit.fileio import atomic_write_text

FORMAT_VERSION = 1
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class DatasetMeta:
    """The declared facts of one dataset."""

    name: str
    language: str = "zh"
    options: int = 4
    categories: tuple[str, ...] = field(default=DEFAULT_CATEGORIES)
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise DataError(f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}")
        if not MIN_OPTIONS <= self.options <= MAX_OPTIONS:
            raise DataError(f"options must be {MIN_OPTIONS}..{MAX_OPTIONS}, not {self.options}")

    @property
    def letters(self) -> tuple[str, ...]:
        """The option letters, e.g. ``('A', 'B', 'C', 'D')``."""
        return option_letters(self.options)

    def to_json(self) -> str:
        """The file's text."""
        data = asdict(self)
        data["categories"] = list(self.categories)
        order = ["format_version", "name", "language", "options", "categories"]
        return json.dumps({k: data[k] for k in order}, ensure_ascii=False, indent=2) + "\n"


def read_meta(dataset_dir: str | Path) -> DatasetMeta | None:
    """Read ``<dataset_dir>/dataset.json``; None when the dataset has none."""
    path = Path(dataset_dir) / META_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read: {err}", file=path, hint="fix the JSON or delete the file") from None
    known = {"format_version", "name", "language", "options", "categories"}
    unknown = set(data) - known
    if unknown:
        raise DataError(f"unknown keys {sorted(unknown)}", file=path, hint=f"allowed keys: {', '.join(sorted(known))}")
    try:
        return DatasetMeta(
            name=str(data.get("name", Path(dataset_dir).name)),
            language=str(data.get("language", "zh")),
            options=int(data.get("options", 4)),
            categories=tuple(data.get("categories", DEFAULT_CATEGORIES)),
            format_version=int(data.get("format_version", FORMAT_VERSION)),
        )
    except DataError as err:
        raise DataError(err.message, file=path, hint=err.hint) from None


def write_meta(dataset_dir: str | Path, meta: DatasetMeta) -> None:
    """Write ``dataset.json`` atomically."""
    atomic_write_text(Path(dataset_dir) / META_FILE, meta.to_json())
