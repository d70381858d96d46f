"""Answer balance: an exact binomial tail, Bonferroni over the letters, 20+ questions only."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from toolkit.dataset.layout import split_columns
from toolkit.dataset.textio import write_csv
from toolkit.validate.balance import balance_findings, binomial_tail, imbalance
from toolkit.validate.split_file import check_split_file


def _exact_tail(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


@pytest.mark.parametrize(("k", "n", "p"), [(0, 10, 0.25), (3, 10, 0.25), (10, 10, 0.25), (11, 10, 0.5),
                                           (30, 100, 0.25), (45, 100, 0.25), (12, 40, 0.2), (60, 120, 0.5)])
def test_binomial_tail_matches_the_exact_sum(k: int, n: int, p: float) -> None:
    assert binomial_tail(k, n, p) == pytest.approx(_exact_tail(k, n, p), rel=1e-9, abs=1e-300)


def test_binomial_tail_agrees_with_scipy_on_large_banks() -> None:
    stats = pytest.importorskip("scipy.stats")
    for k, n, p in [(26_000, 100_000, 0.25), (25_100, 100_000, 0.25), (3789, 14079, 0.25)]:
        assert binomial_tail(k, n, p) == pytest.approx(stats.binom.sf(k - 1, n, p), rel=1e-6)


def test_imbalance_reports_the_commonest_letter_with_a_corrected_p_value() -> None:
    assert imbalance([], "ABCD") is None
    letter, count, p = imbalance(["A"] * 10 + ["B"] * 3 + ["C"] * 3 + ["D"] * 4, "ABCD")  # type: ignore[misc]
    assert (letter, count) == ("A", 10)
    assert p == pytest.approx(4 * _exact_tail(10, 20, 0.25))


def _file(path: Path, answers: str) -> Path:
    rows = [(str(i), f"问题{i}", "甲", "乙", "丙", "丁", a) for i, a in enumerate(answers)]
    write_csv(path, split_columns("val"), rows)
    return path


def test_balance_needs_twenty_questions_and_a_real_skew(tmp_path: Path) -> None:
    def codes(answers: str) -> list[str]:
        return [f.code for f in balance_findings([check_split_file(_file(tmp_path / "x_val.csv", answers), "val")])]

    assert codes("A" * 19) == []  # too few to judge
    assert codes("A" * 20) == ["W310"]
    assert codes("ABCD" * 10) == []
    assert codes("AAAB" * 10) == ["W310"]
    assert codes("AABCD" * 6) == []  # 12 of 30: p ≈ 0.14 after correction


def test_balance_is_also_judged_over_all_files_of_a_split(tmp_path: Path) -> None:
    (tmp_path / "val").mkdir()
    files = [check_split_file(_file(tmp_path / "val" / f"s{i}_val.csv", "AAABCD" * 2), "val") for i in range(4)]
    found = balance_findings(files)
    assert [f.message.split(":")[0] for f in found] == ["all 4 val files"]
    assert found[0].file == str(tmp_path)
