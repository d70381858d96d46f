"""Duplicates and leaks: hash-based, per question (stem and options), across splits and subjects."""

from __future__ import annotations

import time
from pathlib import Path

from toolkit.dataset.layout import split_columns
from toolkit.dataset.mapping import Subject, write_mapping
from toolkit.dataset.textio import write_csv
from toolkit.validate import ValidateOptions, validate_path
from toolkit.validate.duplicates import duplicate_findings, normalise_text
from toolkit.validate.split_file import check_split_file


def _bank(root: Path, subjects: dict[str, dict[str, list[tuple[str, ...]]]]) -> Path:
    for key, splits in subjects.items():
        for split in ("dev", "val", "test"):
            rows = [(str(i), *r) + (("",) if split == "dev" else ()) for i, r in enumerate(splits.get(split, []))]
            write_csv(root / split / f"{key}_{split}.csv", split_columns(split), rows)
    write_mapping(root / "subject_mapping.json", {k: Subject(k, k.title(), k, "Other") for k in subjects})
    return root


def _q(text: str, answer: str = "A", options: tuple[str, ...] = ("甲", "乙", "丙", "丁")) -> tuple[str, ...]:
    return (text, *options, answer)


def _codes(root: Path, **options: object) -> list[tuple[str, str, int | None]]:
    report = validate_path(root, ValidateOptions(shots=0, **options))  # type: ignore[arg-type]
    return [(f.code, Path(f.file).name, f.line) for f in report.findings if f.code in {"E307", "W308", "W309", "W313"}]


def test_normalise_text_ignores_width_case_whitespace_and_punctuation() -> None:
    assert normalise_text("Ｗhat is 1 + 1？ ") == normalise_text("what is 1+1?")
    assert normalise_text("下列说法，正确的是____。") == normalise_text("下列说法正确的是")
    assert normalise_text("x + 1") != normalise_text("x - 1"), "maths symbols are kept"


def test_same_stem_with_other_options_is_a_different_question(tmp_path: Path) -> None:
    stem = "下列说法正确的是____"
    root = _bank(tmp_path, {"law": {"val": [_q(stem), _q(stem, options=("子", "丑", "寅", "卯"))]}})
    assert _codes(root) == []


def test_duplicates_within_and_across_splits_point_at_the_first(tmp_path: Path) -> None:
    root = _bank(tmp_path, {"law": {"val": [_q("甲问题"), _q("乙问题"), _q("甲问题")], "test": [_q("乙问题"), _q("乙 问题？")]}})
    assert _codes(root) == [("W308", "law_test.csv", 2), ("W309", "law_test.csv", 3), ("W308", "law_val.csv", 4)]
    report = validate_path(root, ValidateOptions(shots=0))
    cross = next(f for f in report.findings if f.file.endswith("law_test.csv") and f.code == "W308")
    assert cross.message == f"same question as {root / 'val' / 'law_val.csv'} line 3"


def test_near_duplicates_can_be_switched_off(tmp_path: Path) -> None:
    root = _bank(tmp_path, {"law": {"dev": [_q("甲问题")], "val": [_q("甲 问题。"), _q("乙问题"), _q("乙，问题")]}})
    assert _codes(root) == [("W313", "law_val.csv", 2), ("W309", "law_val.csv", 4)]
    assert _codes(root, near_duplicates=False) == []


def test_a_leak_is_only_from_the_subjects_own_dev(tmp_path: Path) -> None:
    root = _bank(tmp_path, {"art": {"dev": [_q("共同的问题")]}, "law": {"val": [_q("共同的问题")], "test": [_q("共同的问题")]}})
    assert _codes(root) == [("W308", "law_test.csv", 2), ("W308", "law_val.csv", 2)]
    root2 = _bank(tmp_path / "b", {"law": {"dev": [_q("共同的问题")], "val": [_q("共同的问题")], "test": [_q("共同的问题")]}})
    assert _codes(root2) == [("E307", "law_test.csv", 2), ("E307", "law_val.csv", 2)]


def test_whitespace_around_cells_does_not_hide_a_leak(tmp_path: Path) -> None:
    root = _bank(tmp_path, {"law": {"dev": [_q("问题 ", " A")], "val": [_q(" 问题", options=(" 甲", "乙 ", "丙", "丁"))]}})
    assert ("E307", "law_val.csv", 2) in _codes(root)


def test_duplicate_detection_is_linear(tmp_path: Path) -> None:
    def rows(n: int) -> list[tuple[str, ...]]:
        return [(str(i), f"第{i}个问题：哪一项正确？", f"甲{i}", f"乙{i}", f"丙{i}", f"丁{i}", "ABCD"[i % 4]) for i in range(n)]

    small, large = tmp_path / "s_val.csv", tmp_path / "l_val.csv"
    write_csv(small, split_columns("val"), rows(5_000))
    write_csv(large, split_columns("val"), rows(40_000))
    timings = []
    for path in (small, large):
        checked = check_split_file(path, "val")
        start = time.perf_counter()
        assert duplicate_findings([checked]) == []
        timings.append(time.perf_counter() - start)
    # 8x the rows: linear is ~8x the time, quadratic ~64x; allow a noisy shared machine plenty
    assert timings[1] < 30 * timings[0] + 0.5
