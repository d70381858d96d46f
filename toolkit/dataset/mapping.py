"""The subject mapping: ``{key: [English name, Chinese name, category]}``.

Stored as ``subject_mapping.json``, exactly C-Eval's own format, one subject per
line so that people can edit it by hand::

    {
        "computer_network": ["Computer Network", "计算机网络", "STEM"]
    }

Reading is strict (:func:`read_mapping`); the validator uses :func:`read_mapping_raw`
to report every defect rather than stopping at the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.dataset.decoding import read_file_bytes
from toolkit.dataset.layout import DEFAULT_CATEGORIES, is_subject_key
from toolkit.errors import DataError, UsageError
from toolkit.fileio import atomic_write_text


@dataclass(frozen=True)
class Subject:
    """One mapping entry."""

    key: str
    name_en: str
    name_zh: str
    category: str

    def as_list(self) -> list[str]:
        """The ``[English name, Chinese name, category]`` triple."""
        return [self.name_en, self.name_zh, self.category]


SubjectMapping = dict[str, Subject]


def read_mapping_raw(path: str | Path) -> dict[str, Any]:
    """Load the JSON object as it is, without checking entries (for the validator)."""
    p = Path(path)
    if not p.exists():
        raise UsageError("subject mapping not found", file=p, hint="create it with `toolkit new-dataset`")
    try:
        text = read_file_bytes(p).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8 ({err.reason})", file=p, hint="save the mapping as UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"invalid JSON: {err.msg}", file=p, line=err.lineno, hint="fix the JSON syntax") from None
    except RecursionError:
        raise DataError("invalid JSON: nested too deeply to read", file=p,
                        hint="write {key: [English name, Chinese name, category], …}") from None
    if not isinstance(data, dict):
        raise DataError("the mapping must be a JSON object {key: [English, Chinese, category]}", file=p)
    return data


def parse_entry(key: str, value: Any, categories: Iterable[str] = DEFAULT_CATEGORIES) -> Subject:
    """Check one entry and turn it into a :class:`Subject`; raise DataError naming the problem."""
    if not is_subject_key(key):
        raise DataError(f"subject key {key!r} is not a Python identifier", hint="use letters, digits and _ only")
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, str) for v in value):
        raise DataError(
            f"entry {key!r} must be [English name, Chinese name, category], got {value!r}",
            hint='write e.g. ["Computer Network", "计算机网络", "STEM"]',
        )
    en, zh, cat = (v.strip() for v in value)
    if not en or not zh:
        raise DataError(f"entry {key!r} has an empty name", hint="fill in both the English and the Chinese name")
    allowed = list(categories)
    if cat not in allowed:
        raise DataError(
            f"entry {key!r} has unknown category {cat!r}",
            hint=f"use one of {', '.join(allowed)} or declare it in dataset.json",
        )
    return Subject(key, en, zh, cat)


def read_mapping(path: str | Path, categories: Iterable[str] = DEFAULT_CATEGORIES) -> SubjectMapping:
    """Load and check a mapping; the first defect raises a DataError naming the file."""
    raw = read_mapping_raw(path)
    out: SubjectMapping = {}
    for key, value in raw.items():
        try:
            out[key] = parse_entry(key, value, categories)
        except DataError as err:
            raise DataError(err.message, hint=err.hint, file=path) from None
    return out


def format_mapping(mapping: Mapping[str, Subject]) -> str:
    """Render a mapping as C-Eval-style JSON, one subject per line, keys in the given order."""
    if not mapping:
        return "{}\n"
    lines = [
        f"    {json.dumps(key, ensure_ascii=False)}: {json.dumps(s.as_list(), ensure_ascii=False)}"
        for key, s in mapping.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_mapping(path: str | Path, mapping: Mapping[str, Subject]) -> None:
    """Write a mapping atomically (UTF-8, one subject per line)."""
    atomic_write_text(path, format_mapping(mapping))
