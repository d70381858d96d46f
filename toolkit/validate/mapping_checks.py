"""The subject mapping: every entry well-formed, and mapping ↔ files both ways.

The entry *shape* (a list of exactly three strings) is checked here in Python —
a ragged JSON list cannot become a table row — and every well-formed entry then
goes through the pandera schema ``schemas/subject_mapping.yaml`` (key an
identifier, names non-empty, category known or declared). A key written twice is
reported too (E314): a JSON reader keeps only the last entry, without a word.
Findings carry the editor line of the entry's key in the JSON file.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from toolkit.dataset.mapping import read_mapping_raw
from toolkit.errors import DataError, UsageError
from toolkit.validate.codes import CHECKS
from toolkit.validate.findings import Finding, make_finding
from toolkit.validate.schemas import load_mapping_schema, make_frame, run_schema

_COLUMNS = ("key", "name_en", "name_zh", "category")


def _key_lines(text: str, keys: Iterable[str]) -> dict[str, int]:
    """The line on which each key is written (1-based), for findings."""
    lines: dict[str, int] = {}
    for key in keys:
        m = re.search(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:", text)
        m = m or re.search(re.escape(json.dumps(key)) + r"\s*:", text)
        if m:
            lines[key] = text.count("\n", 0, m.start()) + 1
    return lines


def _key_pairs(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return pairs


def duplicate_key_findings(text: str, file: str, only: str | None = None) -> list[Finding]:
    """E314 for every top-level key written again after its first entry (at the line of the repeat)."""
    try:
        pairs = json.loads(text, object_pairs_hook=_key_pairs)
    except json.JSONDecodeError:
        return []  # reported as E300 by the caller
    if not isinstance(pairs, list):
        return []
    out: list[Finding] = []
    counts = Counter(key for key, _ in pairs)
    for key, n in counts.items():
        if n < 2 or (only is not None and key != only):
            continue
        pattern = re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:"
        lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text)]
        for line in lines[1:n]:
            out.append(make_finding("E314", file, f"subject {key!r} is mapped {n} times (first on line {lines[0]}); "
                                    "only the last entry counts", line=line, column=key))
        if len(lines) < n:  # written with escapes the pattern cannot see: report the key once
            out.append(make_finding("E314", file, f"subject {key!r} is mapped {n} times", column=key))
    return out


def _shape_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"is {type(value).__name__}, not a list"
    if len(value) == 2 and all(isinstance(v, str) for v in value):
        return "has only 2 fields: the category is missing"
    if len(value) != 3:
        return f"has {len(value)} fields, not 3"
    if not all(isinstance(v, str) for v in value):
        return "has a field that is not a string"
    return None


def read_mapping_findings(
    path: Path, categories: Collection[str], subjects_with_files: Collection[str], only: str | None = None,
    schema: Path | None = None,
) -> tuple[list[Finding], set[str]]:
    """Check ``path`` (limited to subject ``only`` when given; ``schema``: a user's); also return the mapped keys."""
    file = str(path)
    try:
        raw = read_mapping_raw(path)
    except (DataError, UsageError) as err:
        return [make_finding("E300", file, err.message, line=err.location.line)], set()
    if only is not None:
        raw = {k: v for k, v in raw.items() if k == only}
    text = path.read_text(encoding="utf-8-sig")
    lines = _key_lines(text, raw)
    out: list[Finding] = duplicate_key_findings(text, file, only)
    rows: list[list[str]] = []
    for key, value in raw.items():
        problem = _shape_problem(value)
        if problem:
            out.append(make_finding("E303", file, f"entry {key!r} {problem}", line=lines.get(key), column=key,
                                    value=json.dumps(value, ensure_ascii=False)))
        else:
            rows.append([key, *value])
    failures = run_schema(load_mapping_schema(tuple(categories), schema), make_frame(_COLUMNS, rows))
    for f in failures:
        if f.row is None:
            continue
        key = rows[f.row][0]
        code = f.check if f.check in CHECKS else "E290"
        what = {"E305": "is not a Python identifier", "E303": f"has an empty {f.column}",
                "E304": f"has category {f.value!r}, which is neither known nor declared"}.get(code, f"fails {f.check}")
        out.append(make_finding(code, file, f"entry {key!r} {what}", line=lines.get(key), column=key, value=f.value))
    for key in raw:
        if key not in subjects_with_files:
            out.append(make_finding("E302", file, f"subject {key!r} is mapped but has no files", line=lines.get(key),
                                    column=key))
    for subject in sorted(set(subjects_with_files) - set(raw)):
        out.append(make_finding("E301", file, f"subject {subject!r} has files but no mapping entry", column=subject))
    return out, set(raw)
