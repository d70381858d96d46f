"""The public API: what a path names, the report's shape, and the engine's entry points."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from toolkit.dataset.meta import DatasetMeta, write_meta
from toolkit.errors import UsageError
from toolkit.validate import Finding, Severity, ValidateOptions, ValidationReport, validate_path, validate_split_file
from toolkit.validate.findings import make_finding
from toolkit.validate.report import report_json
from toolkit.validate.schemas import schema_path

CATALOGUE = Path(__file__).parent / "catalogue"
H = "id,question,A,B,C,D,answer\n"


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    root = tmp_path / "bank"
    shutil.copytree(CATALOGUE / "datasets" / "e301_unmapped_subject", root)
    return root


def test_a_file_takes_its_split_from_its_name_its_folder_or_the_option(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    text = "id,question,A,B,C,D,answer,explanation\n0,问题,甲,乙,丙,丁,A,\n"
    for path in (tmp_path / "law_dev.csv", tmp_path / "dev" / "questions.csv"):
        path.write_text(text, encoding="utf-8")
        assert [f.code for f in validate_path(path).findings] == ["E306"], path  # a dev file: too short
    loose = tmp_path / "questions.csv"
    loose.write_text(text, encoding="utf-8")
    report = validate_path(loose)
    assert [f.code for f in report.findings] == ["E108"]  # checked as val: no explanation column
    assert "checked as a val file" in report.notes[0]
    assert [f.code for f in validate_path(loose, ValidateOptions(split="dev")).findings] == ["E306"]


def test_a_subject_by_option_or_by_path_prefix(bank: Path) -> None:
    whole = validate_path(bank)
    assert [f.code for f in whole.findings] == ["E301"] and len(whole.files) == 6
    by_option = validate_path(bank, ValidateOptions(subject="law"))
    by_prefix = validate_path(bank / "law")
    assert by_option.findings == by_prefix.findings == ()
    assert by_option.files == by_prefix.files and len(by_prefix.files) == 3
    assert [f.code for f in validate_path(bank / "art").findings] == ["E301"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nowhere/at/all",), "no such file or folder"),
        (("{bank}/nosuch",), "no subject 'nosuch'"),
        (("{bank}/val/law_val.csv", ValidateOptions(subject="law")), "--subject goes with a dataset folder"),
        (("{bank}/subject_mapping.json",), "validate reads CSV files"),
        (("{bank}/val",), "not a dataset folder"),
        (("{bank}", ValidateOptions(split="train")), "unknown split"),
    ],
)
def test_paths_that_name_nothing_are_usage_errors(bank: Path, args: tuple, message: str) -> None:
    path = Path(str(args[0]).format(bank=bank))
    with pytest.raises(UsageError, match=message) as err:
        validate_path(path, *args[1:])
    assert err.value.exit_code == 2


def test_declared_options_decide_the_letters(tmp_path: Path) -> None:
    root = tmp_path / "bank"
    shutil.copytree(CATALOGUE / "datasets" / "pass_dataset", root)
    write_meta(root, DatasetMeta(name="bank", options=3))
    codes = {(f.code, f.column) for f in validate_path(root).findings}
    assert ("E108", "D") in codes  # the files have a D column the dataset does not declare
    (root / "val" / "law_val.csv").write_text("id,question,A,B,C,answer\n0,问题,甲,乙,丙,D\n", encoding="utf-8")
    report = validate_path(root / "val" / "law_val.csv")
    assert [(f.code, f.value) for f in report.findings] == [("E206", "D")]


def test_validate_split_file_includes_the_within_file_checks() -> None:
    findings = validate_split_file(CATALOGUE / "w308_duplicate_question_val.csv", "val")
    assert [f.code for f in findings] == ["W308"]
    assert [f.code for f in validate_split_file(CATALOGUE / "e306_dev_too_short_dev.csv", "dev")] == ["E306"]
    assert validate_split_file(CATALOGUE / "e306_dev_too_short_dev.csv", "dev", options=ValidateOptions(shots=3)) == []
    three = validate_split_file(CATALOGUE / "pass_na_option_val.csv", "val", ("A", "B", "C"))
    assert {(f.code, f.column) for f in three} == {("E108", "D")}


def test_progress_is_reported_per_batch(bank: Path) -> None:
    calls: list[tuple[int, int]] = []
    validate_path(bank, progress=lambda done, total, file: calls.append((done, total)))
    assert calls == [(0, 6)]


def test_report_counts_and_verdicts() -> None:
    findings = (make_finding("W208", "a.csv", line=2, column="A", value=" x"), make_finding("I104", "a.csv"))
    report = ValidationReport("a.csv", findings, ("a.csv",))
    assert report.counts == {"error": 0, "warning": 1, "info": 1}
    assert report.ok and report.passed() and not report.passed(strict=True)
    failing = ValidationReport("a.csv", (make_finding("E101", "a.csv", line=3),), ("a.csv",))
    assert not failing.ok and not failing.passed()


def test_findings_are_frozen_and_typed() -> None:
    f = make_finding("E207", "a.csv", "answer ' D' should be 'D'", line=3, column="answer", value=" D")
    assert isinstance(f, Finding) and f.severity is Severity.ERROR and f.name == "answer-not-normalised"
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.line = 4  # type: ignore[misc]
    assert make_finding("W208", "a.csv", value="x" * 100).value == "x" * 39 + "…"


def test_json_document_shape(seed_raw: Path) -> None:
    doc = json.loads(report_json(validate_path(seed_raw)))
    assert list(doc) == ["format_version", "path", "ok", "counts", "files", "findings", "changes", "notes"]
    assert doc["format_version"] == 1 and doc["ok"] is False
    assert doc["counts"] == {"error": 3, "warning": 27, "info": 0}
    first = doc["findings"][0]
    assert first == {
        "code": "E207", "name": "answer-not-normalised", "severity": "error", "file": str(seed_raw), "line": 3,
        "column": "answer", "value": " D", "message": "answer ' D' should be 'D'",
        "hint": "run `toolkit validate --fix` (OpenCompass scores ' D' or 'd' as wrong)",
    }


def test_line_numbers_count_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "m_val.csv"
    path.write_text(H + '0,"第一行\n第二行\n第三行",甲,,丙,丁,A\n1,问题,甲,乙,丙,丁,E\n', encoding="utf-8")
    assert [(f.code, f.line) for f in validate_path(path).findings] == [("E204", 4), ("E206", 5)]


def test_blank_test_answers_with_whitespace_or_nan_are_warnings(tmp_path: Path) -> None:
    path = tmp_path / "t_test.csv"
    path.write_text(H + "0,问题,甲,乙,丙,丁,A\n1,问题二,甲,乙,丙,丁, \n2,问题三,甲,乙,丙,丁,nan\n3,问题四,甲,乙,丙,丁, c\n",
                    encoding="utf-8")
    found = [(f.code, f.line) for f in validate_path(path).findings]
    assert found == [("W312", 1), ("W208", 3), ("W211", 4), ("E207", 5)]


def _three_options_in_val(root: Path) -> Path:
    """pass_dataset (no dataset.json) whose val file has lost its D column."""
    shutil.copytree(CATALOGUE / "datasets" / "pass_dataset", root)
    val = root / "val" / "law_val.csv"
    val.write_text("id,question,A,B,C,answer\n10,问题,甲,乙,丙,C\n11,问题二,甲,乙,丙,A\n12,问题三,甲,乙,丙,B\n",
                   encoding="utf-8")
    return val


def test_a_folder_without_dataset_json_has_one_set_of_letters(tmp_path: Path) -> None:
    val = _three_options_in_val(tmp_path / "bank")
    for report in (validate_path(tmp_path / "bank"), validate_path(tmp_path / "bank" / "law"), validate_path(val)):
        missing = [(f.code, f.file, f.line, f.column) for f in report.findings if f.severity is Severity.ERROR]
        assert missing == [("E107", str(val), 1, "D")], report.path
    # a dataset whose files all have three options is a three-option dataset
    dev = "id,question,A,B,C,answer,explanation\n" + "".join(f"{i},第{i}题,甲,乙,丙,{'ABC'[i % 3]},\n" for i in range(5))
    (tmp_path / "bank" / "dev" / "law_dev.csv").write_text(dev, encoding="utf-8")
    (tmp_path / "bank" / "test" / "law_test.csv").write_text("id,question,A,B,C,answer\n0,测试,甲,乙,丙,\n",
                                                              encoding="utf-8")
    assert [f.code for f in validate_path(tmp_path / "bank").findings] == ["I311"]


def test_split_restricts_a_folder_to_that_split(tmp_path: Path) -> None:
    root = tmp_path / "bank"
    shutil.copytree(CATALOGUE / "datasets" / "e112_missing_split_file", root)  # law has no test file
    assert [f.code for f in validate_path(root).findings] == ["E112"]
    only_val = validate_path(root, ValidateOptions(split="val"))
    assert only_val.findings == () and only_val.files == (str(root / "val" / "law_val.csv"),)
    assert [f.code for f in validate_path(root, ValidateOptions(split="test")).findings] == ["E112"]
    assert validate_path(root, ValidateOptions(split="dev", subject="law")).files == (str(root / "dev" / "law_dev.csv"),)


def test_a_schema_per_split_replaces_only_that_split(tmp_path: Path) -> None:
    root = tmp_path / "bank"
    shutil.copytree(CATALOGUE / "datasets" / "pass_dataset", root)
    house = CATALOGUE / "e290_schema.yaml"  # questions must end with ____
    everywhere = validate_path(root, ValidateOptions(schema=house))  # dev's explanation, test's blank answers fail
    assert {(f.code, Path(f.file).parent.name) for f in everywhere.findings if f.severity is Severity.ERROR} == {
        ("E108", "dev"), ("E205", "test"), ("E290", "test")}
    only_val = validate_path(root, ValidateOptions(split_schemas={"val": house}))
    assert [f.code for f in only_val.findings] == ["I311"]  # val's questions end with ____: all pass
    dev_own = validate_path(root, ValidateOptions(schema=house, split_schemas={"dev": schema_path("dev")}))
    assert {Path(f.file).parent.name for f in dev_own.findings if f.severity is Severity.ERROR} == {"test"}


def test_progress_counts_every_file_checked(tmp_path: Path) -> None:
    root = tmp_path / "bank"
    shutil.copytree(CATALOGUE / "datasets" / "e111_bad_file_name", root)  # 3 split files and 2 misnamed ones
    calls: list[tuple[int, int]] = []
    report = validate_path(root, progress=lambda done, total, file: calls.append((done, total)))
    assert calls == [(0, 5)] and len(report.files) == 5
    assert {f.file for f in report.findings} <= set(report.files)


def test_a_mapping_schema_of_ones_own(tmp_path: Path) -> None:
    own = tmp_path / "mapping.yaml"
    own.write_text(schema_path("subject_mapping").read_text(encoding="utf-8").replace(
        "      options: {check_name: str_contains, error: E303}\n  category:",
        "      options: {check_name: str_contains, error: E303}\n"
        "    - value: '^.{3,}\\Z'\n      options: {check_name: str_matches, error: three characters or more}\n"
        "  category:"), encoding="utf-8")
    bank = CATALOGUE / "datasets" / "pass_dataset"  # 法学 has two characters
    assert [f.code for f in validate_path(bank).findings] == ["I311"]
    found = validate_path(bank, ValidateOptions(split_schemas={"subject_mapping": own})).findings
    assert [(f.code, f.column, f.line) for f in found] == [("E290", "law", 2), ("I311", None, 1)]
    assert ValidateOptions(schema=own).schema_for("subject_mapping") is None  # FILE alone is for the split files
    assert ValidateOptions(schema=own).schema_for("test") == own
