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
from typing import Any

from toolkit.dataset.decoding import read_file_bytes
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


def _field(data: dict[str, Any], key: str, kind: type, default: Any, path: Path) -> Any:
    """``data[key]`` when it has the JSON type ``kind`` (an int is no bool); a DataError naming the key otherwise."""
    value = data.get(key, default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    wanted = {int: "a whole number", str: "a string", list: "a list of strings"}[kind]
    raise DataError(f"{key!r} must be {wanted}, not {json.dumps(value, ensure_ascii=False)[:40]}", file=path,
                    hint=f'write e.g. "{key}": {json.dumps(default, ensure_ascii=False)}')


def read_meta(dataset_dir: str | Path) -> DatasetMeta | None:
    """Read ``<dataset_dir>/dataset.json``; None when the dataset has none."""
    path = Path(dataset_dir) / META_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(read_file_bytes(path).decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read: {err}", file=path, hint="fix the JSON or delete the file") from None
    except RecursionError:
        raise DataError("cannot read: nested too deeply", file=path, hint="fix the JSON or delete the file") from None
    if not isinstance(data, dict):
        raise DataError(f"must be a JSON object, not {type(data).__name__}", file=path,
                        hint='write e.g. {"name": "my_bank", "language": "zh", "options": 4}')
    known = {"format_version", "name", "language", "options", "categories"}
    unknown = set(data) - known
    if unknown:
        raise DataError(f"unknown keys {sorted(unknown)}", file=path, hint=f"allowed keys: {', '.join(sorted(known))}")
    categories = _field(data, "categories", list, list(DEFAULT_CATEGORIES), path)
    if not all(isinstance(c, str) for c in categories):
        raise DataError("'categories' must be a list of strings", file=path,
                        hint=f"write e.g. \"categories\": {json.dumps(list(DEFAULT_CATEGORIES))}")
    try:
        return DatasetMeta(
            name=_field(data, "name", str, Path(dataset_dir).name, path),
            language=_field(data, "language", str, "zh", path),
            options=_field(data, "options", int, 4, path),
            categories=tuple(categories),
            format_version=_field(data, "format_version", int, FORMAT_VERSION, path),
        )
    except DataError as err:
        raise DataError(err.message, file=path, hint=err.hint) from None


def write_meta(dataset_dir: str | Path, meta: DatasetMeta) -> None:
    """Write ``dataset.json`` atomically."""
    atomic_write_text(Path(dataset_dir) / META_FILE, meta.to_json())
