"""validate and --fix on input they must not guess at (issue 9.1, 9.2, 9.6): unclosed quotes (E114),
encodings that cannot be told (E100 with both readings), --encoding, FIFOs and devices."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.errors import UsageError
from toolkit.validate import ValidateOptions, validate_path
from toolkit.validate.fix import fix_path

HEADER = "id,question,A,B,C,D,answer"
ROWS = [f"{i},第{i}题____,甲,乙,丙,丁,{'ABCD'[i % 4]}" for i in range(6)]


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def codes(report) -> list[tuple[str, int | None]]:
    return [(f.code, f.line) for f in report.findings]


def test_an_unclosed_quote_is_e114_and_fix_leaves_it(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[2] = '2,"第2题 没关上____,甲,乙,丙,丁,C'
    f = write(tmp_path / "bank_val.csv", [HEADER, *rows])
    before = f.read_bytes()
    assert codes(validate_path(f)) == [("E114", 4)]
    assert fix_path(f) == [] and f.read_bytes() == before
    assert not list(tmp_path.glob("*.bak-*"))


def test_an_encoding_that_cannot_be_told_is_e100_with_both_readings(tmp_path: Path) -> None:
    f = write(tmp_path / "bank_val.csv", [HEADER, "0,Hélène,Québec,Genève,Zürich,Málaga,A"], "cp1252")
    before = f.read_bytes()
    [finding] = validate_path(f).findings
    assert (finding.code, finding.line) == ("E100", 2)
    assert "H閘鑞e" in finding.message and "Hélène" in finding.message and "--encoding" in finding.hint
    assert fix_path(f) == [] and f.read_bytes() == before


def test_encoding_makes_it_e102_and_fix_converts(tmp_path: Path) -> None:
    lines = [HEADER, "0,Hélène,Québec,Genève,Zürich,Málaga,A"]
    f = write(tmp_path / "bank_val.csv", lines, "cp1252")
    options = ValidateOptions(encoding="cp1252")
    [finding] = validate_path(f, options).findings
    assert (finding.code, finding.value, finding.message) == ("E102", "cp1252", "the file is cp1252, not UTF-8")
    changes = fix_path(f, options)
    assert [(c.before, c.after) for c in changes] == [("encoding cp1252", "UTF-8")]
    assert f.read_text(encoding="utf-8").splitlines() == lines
    assert validate_path(f, options).findings == ()  # now UTF-8: --encoding no longer applies


def test_a_fifo_in_a_dataset_is_reported_not_waited_on(tmp_path: Path) -> None:
    for split in ("dev", "val", "test"):
        (tmp_path / split).mkdir()
        extra = ",explanation" if split == "dev" else ""
        write(tmp_path / split / f"s_{split}.csv", [HEADER + extra, *(r + ("," if extra else "") for r in ROWS)])
    (tmp_path / "subject_mapping.json").write_text('{"s": ["S", "科目", "Other"]}', encoding="utf-8")
    os.mkfifo(tmp_path / "val" / "t_val.csv")
    found = [(f.code, Path(f.file).name, f.message) for f in validate_path(tmp_path).findings if f.code == "E100"]
    assert found == [("E100", "t_val.csv", "is a named pipe (FIFO), not a regular file")]
    with pytest.raises(UsageError, match="named pipe"):
        validate_path(tmp_path / "val" / "t_val.csv")
