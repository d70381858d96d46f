"""The seed bank: every whitespace defect found, nothing else; --fix cleans it without touching the text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.dataset.layout import split_columns
from toolkit.dataset.mapping import Subject, write_mapping
from toolkit.dataset.textio import read_csv, write_csv
from toolkit.validate import ValidateOptions, validate_path
from toolkit.validate.fix import fix_and_validate, fix_path

SCAFFOLDED = Path(__file__).resolve().parents[2] / "examples" / "chinese_core_socialist_values"

# Every whitespace problem in the raw file (see `cat -A`): (line, column, value).
SEED_WHITESPACE = [
    (3, "A", "外核 "), (3, "B", "保障 "), (3, "C", "主体 "),
    (4, "A", " 主要任务 "), (4, "B", "主要目标 "), (4, "C", "战略任务 "),
    (5, "A", "32 "), (5, "B", "24 "), (5, "C", "20 "),
    (6, "A", "党的领导 "), (6, "B", "民主集中制 "), (6, "C", "社会主义制度 "),
    (7, "A", "主渠道 "), (7, "B", "重要 "), (7, "C", "社会 "),
    (8, "A", "社会性 "), (8, "B", "组织性 "), (8, "C", "基础性 "),
    (9, "A", "文化自信 "), (9, "B", "集体主义 "), (9, "C", "爱国主义 "),
    (10, "A", "工人阶级 "), (10, "B", "中国共产党 "), (10, "C", "劳动人民 "),
    (11, "A", "国民教育 "), (11, "C", "媒体宣传 "),
]
SEED_ANSWERS = [(3, " D"), (5, " B"), (6, " A")]
SEED_QUESTION_LINE = 9  # " ____是中华民族的民族心…" starts with a space


def test_raw_seed_reports_every_whitespace_problem_and_nothing_else(seed_raw: Path) -> None:
    report = validate_path(seed_raw)
    got = {(f.code, f.line, f.column, f.value) for f in report.findings}
    expected = {("W208", line, col, value) for line, col, value in SEED_WHITESPACE}
    expected |= {("E207", line, "answer", value) for line, value in SEED_ANSWERS}
    question = next(f for f in report.findings if f.column == "question")
    expected.add(("W208", SEED_QUESTION_LINE, "question", question.value))
    assert got == expected
    assert question.value.startswith(" ____是中华民族")
    assert report.counts == {"error": 3, "warning": 27, "info": 0}
    assert "checked as a val file" in report.notes[0]


def _texts(path: Path) -> list[tuple[str, ...]]:
    table, _ = read_csv(path)
    return [tuple(cell.strip() for cell in row) for row in table.rows]


def test_fix_then_validate_is_clean_and_keeps_the_text(seed_raw: Path, tmp_path: Path) -> None:
    work = tmp_path / "chinese_core_socialist_values.csv"
    shutil.copy(seed_raw, work)
    report = fix_and_validate(work)
    assert report.findings == ()
    assert len(report.changes) == len(SEED_WHITESPACE) + len(SEED_ANSWERS) + 1
    assert _texts(work) == _texts(seed_raw)  # the same 10 questions, only whitespace gone
    fixed, _ = read_csv(work)
    assert all(cell == cell.strip() for row in fixed.rows for cell in row)
    assert "体系的 ____" in fixed.rows[1][1]  # whitespace inside a text is content: kept
    assert fix_path(work) == []  # idempotent
    assert validate_path(work).findings == ()


def _seed_dataset(root: Path, seed_raw: Path, dev_rows: slice, val_rows: slice) -> Path:
    table, _ = read_csv(seed_raw)
    key = "chinese_core_socialist_values"
    write_csv(root / "dev" / f"{key}_dev.csv", split_columns("dev"), [(*r, "") for r in table.rows[dev_rows]])
    write_csv(root / "val" / f"{key}_val.csv", split_columns("val"), table.rows[val_rows])
    write_csv(root / "test" / f"{key}_test.csv", split_columns("test"), [])
    write_mapping(root / "subject_mapping.json", {key: Subject(key, "Core Socialist Values", "社会主义核心价值观",
                                                                  "Social Science")})
    return root


def test_seed_rows_in_dev_and_val_are_reported_as_a_leak(seed_raw: Path, tmp_path: Path) -> None:
    root = _seed_dataset(tmp_path / "bank", seed_raw, slice(0, 10), slice(0, 10))
    report = validate_path(root)
    leaks = [f for f in report.findings if f.code == "E307"]
    assert [f.line for f in leaks] == list(range(2, 12))
    assert all(f.file.endswith("val/chinese_core_socialist_values_val.csv") for f in leaks)
    assert "dev example at" in leaks[0].message


def test_seed_split_first_five_dev_has_no_leak(seed_raw: Path, tmp_path: Path) -> None:
    root = _seed_dataset(tmp_path / "bank", seed_raw, slice(0, 5), slice(5, 10))
    codes = {f.code for f in validate_path(root).findings}
    assert codes == {"E207", "W208", "I311"}


@pytest.mark.skipif(not SCAFFOLDED.is_dir(), reason="examples/chinese_core_socialist_values not scaffolded yet")
def test_scaffolded_example_reports_the_seed_whitespace_and_fixes_clean(tmp_path: Path) -> None:
    report = validate_path(SCAFFOLDED, ValidateOptions())
    assert {f.code for f in report.findings} == {"E207", "W208", "I311"}
    assert report.counts["warning"] == 27 and report.counts["error"] == 3
    copy = tmp_path / "bank"
    after = fix_and_validate(SCAFFOLDED, output=copy)
    assert [f.code for f in after.findings] == ["I311"]  # the header-only test split cannot be scored
    assert validate_path(SCAFFOLDED).counts == report.counts  # --output leaves the original alone
