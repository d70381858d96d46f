"""Real banks from ../shared: C-Eval as published; CMMLU and MMLU after `toolkit new-dataset` imports them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from toolkit.validate import ValidateOptions, validate_path


def _errors(report) -> list[tuple[str, str, int | None]]:
    return [(f.code, Path(f.file).name, f.line) for f in report.findings if f.severity.value == "error"]


def test_ceval_files_have_no_errors_and_its_mapping_defect_is_reported(shared_dir: Path) -> None:
    root = shared_dir / "data" / "ceval"
    report = validate_path(root)
    assert len(report.files) == 52 * 3
    assert _errors(report) == [("E303", "subject_mapping.json", 227)]
    mapping = next(f for f in report.findings if f.code == "E303")
    assert mapping.column == "clinical_medicine" and "category is missing" in mapping.message
    counts = Counter(f.code for f in report.findings)
    assert counts["I311"] == 52  # no test file has answers: cannot be scored, not an error
    assert counts["W209"] > 0 and counts["W210"] > 0  # real defects: equal options, LaTeX {A} in texts


@pytest.mark.parametrize("split", ["dev", "val", "test"])
def test_every_ceval_file_alone_has_no_errors(shared_dir: Path, split: str) -> None:
    for path in sorted((shared_dir / "data" / "ceval" / split).glob("*.csv")):
        assert _errors(validate_path(path)) == [], path


def test_one_ceval_subject(shared_dir: Path) -> None:
    report = validate_path(shared_dir / "data" / "ceval", ValidateOptions(subject="clinical_medicine"))
    assert _errors(report) == [("E303", "subject_mapping.json", 227)]
    assert len(report.files) == 3


@pytest.fixture(scope="module")
def imported(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    importer = pytest.importorskip("toolkit.dataset.importer", reason="toolkit new-dataset's importer is not built yet")
    root = tmp_path_factory.mktemp("imported")
    for name in ("cmmlu", "mmlu"):
        importer.import_sheets(root, name, [shared_dir / "data" / name])
    return root


def test_cmmlu_after_import_has_no_errors(imported: Path) -> None:
    report = validate_path(imported / "cmmlu")
    assert len(report.files) == 67 * 3
    assert _errors(report) == []
    # four test questions repeat a dev example with shuffled options or other punctuation: warned, not failed
    assert sorted(Path(f.file).name for f in report.findings if f.code == "W313") == [
        "ancient_chinese_test.csv", "college_law_test.csv", "college_mathematics_test.csv",
        "high_school_mathematics_test.csv"]


def test_mmlu_after_import_has_only_its_real_answer_leak(imported: Path) -> None:
    report = validate_path(imported / "mmlu")
    assert len(report.files) == 57 * 3
    # MMLU's college_physics val row 5 is dev row 1, word for word: a genuine leak, not a false alarm
    assert _errors(report) == [("E307", "college_physics_val.csv", 7)]
    assert "dev/college_physics_dev.csv line 3" in next(f.message for f in report.findings if f.code == "E307")
