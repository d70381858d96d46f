"""The schemas in schemas/ are plain pandera YAML; toolkit fits them to the bank's option letters."""

from __future__ import annotations

from pathlib import Path

import pandera.pandas as pa
import pytest

from toolkit.errors import UsageError
from toolkit.resources import schemas_dir
from toolkit.validate import CHECKS
from toolkit.validate.schemas import (
    load_mapping_schema,
    load_split_schema,
    make_frame,
    run_schema,
    schema_path,
)


@pytest.mark.parametrize("kind", ["dev", "val", "test", "subject_mapping"])
def test_stock_schemas_load_with_plain_pandera(kind: str) -> None:
    schema = pa.DataFrameSchema.from_yaml(schema_path(kind))
    assert schema.strict and schema.ordered
    codes = {check.error for column in schema.columns.values() for check in column.checks}
    assert codes <= set(CHECKS), "every check's error is a finding code"


def test_schema_folder_holds_one_schema_per_split_kind_and_the_mapping() -> None:
    assert sorted(p.name for p in schemas_dir().glob("*.yaml")) == [
        "dev.yaml", "subject_mapping.yaml", "test.yaml", "val.yaml"]


def test_answer_rules_differ_by_split() -> None:
    assert list(load_split_schema("dev", tuple("ABCD")).columns)[-1] == "explanation"
    assert not load_split_schema("dev", tuple("ABCD")).columns["explanation"].required
    assert load_split_schema("val", tuple("ABCD")).columns["answer"].required
    assert not load_split_schema("test", tuple("ABCD")).columns["answer"].required


@pytest.mark.parametrize("letters", [("A", "B"), ("A", "B", "C"), tuple("ABCDEFGHIJ")])
def test_schema_is_fitted_to_the_option_letters(letters: tuple[str, ...]) -> None:
    schema = load_split_schema("test", letters)
    assert list(schema.columns) == ["id", "question", *letters, "answer"]
    isin = schema.columns["answer"].checks[0]
    assert isin.statistics["allowed_values"] == [*letters, ""]


def _failures(schema: pa.DataFrameSchema, header: list[str], rows: list[list[str]]) -> set[tuple[str, str | None, int | None]]:
    return {(f.check, f.column, f.row) for f in run_schema(schema, make_frame(header, rows))}


def test_lazy_validation_collects_every_failure() -> None:
    header = ["id", "question", "A", "B", "C", "D", "answer"]
    rows = [["x", "", " a", "NA", "None", "0", "E"], ["1", "{A}?", "nan", "b", "c", "d", "A"]]
    got = _failures(load_split_schema("val", tuple("ABCD")), header, rows)
    assert got == {("E201", "id", 0), ("E203", "question", 0), ("W208", "A", 0),
                   ("E206", "answer", 0), ("W210", "question", 1), ("W211", "A", 1)}


def test_option_texts_na_none_and_zero_are_valid() -> None:
    header = ["id", "question", "A", "B", "C", "D", "answer"]
    assert _failures(load_split_schema("val", tuple("ABCD")), header, [["0", "q", "NA", "None", "0", "null", "A"]]) == set()


def test_mapping_schema_accepts_declared_categories() -> None:
    header = ["key", "name_en", "name_zh", "category"]
    rows = [["law", "Law", "法学", "Legal"]]
    assert _failures(load_mapping_schema(), header, rows) == {("E304", "category", 0)}
    assert _failures(load_mapping_schema(("STEM", "Legal")), header, rows) == set()
    assert _failures(load_mapping_schema(), header, [["class", "C", "班", "Other"], ["a-b", "A", "甲", "Other"]]) == {
        ("E305", "key", 0), ("E305", "key", 1)}


def test_a_user_schema_is_used_and_a_broken_one_is_a_usage_error(tmp_path: Path) -> None:
    own = tmp_path / "own.yaml"
    own.write_text("schema_type: dataframe\ncolumns:\n  id: {dtype: str}\n  question: {dtype: str}\n", encoding="utf-8")
    assert list(load_split_schema("val", tuple("ABCD"), own).columns) == ["id", "question"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: [1, 2\n", encoding="utf-8")
    with pytest.raises(UsageError, match="cannot read the schema"):
        load_split_schema("val", tuple("ABCD"), bad)
    not_schema = tmp_path / "list.yaml"
    not_schema.write_text("- a\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not a pandera DataFrameSchema"):
        load_split_schema("val", tuple("ABCD"), not_schema)
    unknown_check = tmp_path / "unknown.yaml"
    unknown_check.write_text("columns:\n  id:\n    dtype: str\n    checks:\n    - value: 1\n      options: {check_name: no_such_check}\n",
                             encoding="utf-8")
    with pytest.raises(UsageError, match="invalid pandera schema"):
        load_split_schema("val", tuple("ABCD"), unknown_check)
    with pytest.raises(UsageError, match="not found"):
        load_split_schema("val", tuple("ABCD"), tmp_path / "missing.yaml")
