"""The pandera schemas in ``schemas/``: loading them, fitting them to a dataset, running them.

The schemas are data (pandera's YAML serialisation), one per split kind plus one
for the subject mapping; ``--schema FILE`` swaps in a user's own for every split,
``--schema SPLIT=FILE`` for one split or the mapping (:func:`parse_schema_options`). Each check's
``error`` is the finding code it reports. Validation is lazy: pandera collects
every failure and :func:`run_schema` returns them all as :class:`SchemaFailure`.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.errors import SchemaDefinitionError, SchemaErrors
from pandera.io.pandas_io import deserialize_schema

from toolkit.dataset.layout import ALL_LETTERS, DEFAULT_CATEGORIES, SPLITS
from toolkit.errors import UsageError
from toolkit.resources import schemas_dir

MAPPING_SCHEMA = "subject_mapping"
SCHEMA_KINDS = (*SPLITS, MAPPING_SCHEMA)
"""What ``--schema KIND=FILE`` may name."""

HEADER_CHECKS = ("column_in_dataframe", "column_in_schema", "column_ordered")
"""pandera's names for header failures (a missing, an unknown, a misplaced column)."""


@dataclass(frozen=True)
class SchemaFailure:
    """One failure pandera collected.

    ``check`` is the check's ``error`` (a finding code in our schemas) or pandera's
    own name (``field_uniqueness``, ``column_in_schema``…); ``row`` is the frame's
    row position (None for header failures); ``value`` the failing cell or column.
    """

    check: str
    column: str | None
    row: int | None
    value: str | None


def schema_path(kind: str) -> Path:
    """The stock schema file for ``dev``, ``val``, ``test`` or ``subject_mapping``."""
    return schemas_dir() / f"{kind}.yaml"


def parse_schema_options(values: Sequence[str]) -> tuple[Path | None, dict[str, Path]]:
    """``--schema`` values as (the file for every split, ``{kind: file}``); UsageError for a bad value.

    ``FILE`` replaces the stock schema of dev, val and test; ``SPLIT=FILE`` (``dev``,
    ``val``, ``test`` or ``subject_mapping``) replaces only that one, whatever ``FILE`` says.

    Example:
        >>> parse_schema_options(["mine.yaml", "test=hidden.yaml"])
        (PosixPath('mine.yaml'), {'test': PosixPath('hidden.yaml')})
    """
    every: Path | None = None
    per_kind: dict[str, Path] = {}
    for value in values:
        kind, sep, file = value.partition("=")
        if sep and kind in SCHEMA_KINDS:
            if not file:
                raise UsageError(f"--schema {value!r} names no file", hint=f"write e.g. --schema {kind}=my_{kind}.yaml")
            if kind in per_kind:
                raise UsageError(f"--schema gives the {kind} schema twice", hint=f"give --schema {kind}=FILE once")
            per_kind[kind] = Path(file)
        elif sep and re.fullmatch(r"[A-Za-z_]+", kind) and not Path(value).exists():
            raise UsageError(f"--schema {value!r}: {kind!r} is not a split",
                             hint=f"use {', '.join(f'{k}=FILE' for k in SCHEMA_KINDS)}, or FILE for every split")
        elif every is not None:
            raise UsageError("--schema FILE is given twice",
                             hint="give one FILE for every split, or SPLIT=FILE for each split that has its own")
        else:
            every = Path(value)
    return every, per_kind


@functools.lru_cache(maxsize=64)
def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("schema file not found", file=path, hint="check the --schema path") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read the schema: {err}", file=path, hint="write a pandera YAML schema") from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise UsageError("not a pandera DataFrameSchema (no 'columns' mapping)", file=path,
                         hint="start from one of toolkit's schemas/*.yaml")
    return data


def _build(data: dict[str, Any], path: Path) -> pa.DataFrameSchema:
    try:
        # pandera's deserialiser consumes the dicts it is given: hand it a copy.
        return deserialize_schema(copy.deepcopy(data))
    except (SchemaDefinitionError, AttributeError, TypeError, ValueError) as err:
        raise UsageError(f"invalid pandera schema: {err}", file=path) from None


def _fit_letters(data: dict[str, Any], letters: tuple[str, ...]) -> dict[str, Any]:
    """Repeat column ``A``'s definition for each letter and point ``answer``'s isin at them."""
    columns: dict[str, Any] = data["columns"]
    schema_letters = [c for c in columns if len(c) == 1 and c in ALL_LETTERS]
    if tuple(schema_letters) == letters or "A" not in columns:
        return data
    fitted: dict[str, Any] = {}
    for name, spec in columns.items():
        if name in schema_letters:
            if name == schema_letters[0]:
                fitted.update({letter: copy.deepcopy(columns["A"]) for letter in letters})
            continue
        fitted[name] = spec
    answer = copy.deepcopy(fitted.get("answer"))
    for check in (answer or {}).get("checks") or []:
        if isinstance(check, dict) and check.get("options", {}).get("check_name") == "isin":
            blank = [""] if "" in (check.get("value") or []) else []
            check["value"] = list(letters) + blank
    if answer is not None:
        fitted["answer"] = answer
    return {**data, "columns": fitted}


@functools.lru_cache(maxsize=64)
def load_split_schema(split: str, letters: tuple[str, ...], path: Path | None = None) -> pa.DataFrameSchema:
    """The schema for a split file with these option letters (``path``: a user's schema).

    Example:
        >>> list(load_split_schema("val", ("A", "B", "C")).columns)
        ['id', 'question', 'A', 'B', 'C', 'answer']
    """
    source = path or schema_path(split)
    return _build(_fit_letters(_load_yaml(source), letters), source)


@functools.lru_cache(maxsize=16)
def load_mapping_schema(categories: tuple[str, ...] = DEFAULT_CATEGORIES, path: Path | None = None) -> pa.DataFrameSchema:
    """The subject-mapping schema (``path``: a user's), accepting C-Eval's categories plus ``categories``."""
    source = path or schema_path(MAPPING_SCHEMA)
    data = copy.deepcopy(_load_yaml(source))
    for check in (data["columns"].get("category") or {}).get("checks") or []:
        if isinstance(check, dict) and check.get("options", {}).get("check_name") == "isin":
            check["value"] = list(dict.fromkeys([*check["value"], *categories]))
    return _build(data, source)


@functools.lru_cache(maxsize=64)
def load_batch_schema(
    split: str, letters: tuple[str, ...], path: Path | None = None
) -> tuple[pa.DataFrameSchema, tuple[str, ...]]:
    """The split schema without its ``unique`` flags, and the columns that had them.

    Uniqueness holds per file, but several files are validated as one frame;
    :func:`unique_failures` checks those columns file by file instead.
    """
    schema = load_split_schema(split, letters, path)
    unique = tuple(name for name, column in schema.columns.items() if column.unique)
    if not unique:
        return schema, ()
    return schema.update_columns({name: {"unique": False} for name in unique}), unique


def unique_failures(columns: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[SchemaFailure]:
    """``field_uniqueness`` failures (every copy, as pandera reports them) for ``columns`` of one file."""
    failures: list[SchemaFailure] = []
    for name in columns:
        if name not in header:
            continue
        pos = list(header).index(name)
        seen: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            seen.setdefault(row[pos], []).append(i)
        failures += [SchemaFailure("field_uniqueness", name, i, value)
                     for value, where in seen.items() if len(where) > 1 for i in where]
    return failures


def make_frame(header: Sequence[str], rows: Sequence[Sequence[str]]) -> pd.DataFrame:
    """A frame of exact strings (pandas' ``str`` dtype), one column per header name."""
    return pd.DataFrame(list(rows), columns=list(header), dtype="str")


def run_schema(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[SchemaFailure]:
    """Validate lazily and return every failure (an empty list when the frame passes)."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
    else:
        return []
    failures: list[SchemaFailure] = []
    for check, column, index, value in zip(cases["check"], cases["column"], cases["index"], cases["failure_case"]):
        failures.append(
            SchemaFailure(
                check=str(check),
                column=None if column is None or pd.isna(column) else str(column),
                row=None if index is None or pd.isna(index) else int(index),
                value=None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value),
            )
        )
    return failures
