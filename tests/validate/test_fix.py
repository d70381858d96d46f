"""--fix: only safe repairs, atomic with a backup, idempotent, every row kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.dataset.textio import read_csv
from toolkit.errors import UsageError
from toolkit.validate import ValidateOptions, validate_path
from toolkit.validate.fix import fix_and_validate, fix_file, fix_path

CATALOGUE = Path(__file__).parent / "catalogue"
H = "id,question,A,B,C,D,answer\n"


def _copy(name: str, tmp_path: Path) -> Path:
    src = CATALOGUE / name
    dst = tmp_path / src.name
    (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    return dst


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.bak-*"))


def test_answers_are_normalised_and_backed_up(tmp_path: Path) -> None:
    path = _copy("e207_answer_not_normalised_val.csv", tmp_path)
    original = path.read_bytes()
    changes = fix_path(path)
    assert [(c.line, c.before, c.after) for c in changes] == [(3, " D", "D"), (4, "d", "D"), (5, "Ｄ", "D"), (6, "B.", "B")]
    assert {c.backup for c in changes} == {str(_backups(path)[0])}
    assert _backups(path)[0].read_bytes() == original
    assert validate_path(path).findings == ()


def test_gbk_becomes_utf8_with_the_same_text(tmp_path: Path) -> None:
    path = _copy("e102_not_utf8_val.csv", tmp_path)
    before = path.read_bytes().decode("gbk")
    changes = fix_path(path)
    assert [(c.line, c.before, c.after) for c in changes] == [(None, "encoding GBK/GB18030", "UTF-8")]
    assert path.read_bytes().decode("utf-8") == before
    assert validate_path(path).findings == ()


def test_bom_and_crlf_are_removed(tmp_path: Path) -> None:
    bom, crlf = _copy("pass_bom_val.csv", tmp_path), _copy("pass_excel_crlf_val.csv", tmp_path)
    assert [c.before for c in fix_path(bom)] == ["UTF-8 with BOM"]
    assert not bom.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [c.before for c in fix_path(crlf)] == ["CRLF line endings"]
    assert b"\r" not in crlf.read_bytes()
    table, _ = read_csv(crlf)
    assert table.rows[0][1] == "两行\n题目"
    assert validate_path(bom).findings == () and validate_path(crlf).findings == ()


def test_line_breaks_inside_cells_are_content_not_line_endings(tmp_path: Path) -> None:
    # An LF file whose quoted cell holds a CRLF: validation finds nothing, so --fix changes nothing
    path = tmp_path / "x_val.csv"
    original = (H + '0,"a\r\nb",1,2,3,4,A\n').encode()
    path.write_bytes(original)
    assert validate_path(path).findings == ()
    assert fix_path(path) == [] and path.read_bytes() == original and _backups(path) == []


@pytest.mark.parametrize(("terminator", "before"), [("\r\n", "CRLF"), ("\r", "CR")])
def test_only_record_terminators_are_normalised(tmp_path: Path, terminator: str, before: str) -> None:
    path = tmp_path / "x_val.csv"
    rows = [H.rstrip("\n"), '0,"a\rb",1,2,3,4,A', '1,"c\r\nd",1,2,3,4,B', '2,"e\nf",1,2,3,4,C']
    path.write_bytes((terminator.join(rows) + terminator).encode())
    cells = [row[1] for row in read_csv(path)[0].rows]
    assert [f.code for f in validate_path(path).findings] == (["I104"] if before == "CRLF" else ["W105"])
    assert [c.before for c in fix_path(path)] == [f"{before} line endings"]
    assert [row[1] for row in read_csv(path)[0].rows] == cells == ["a\rb", "c\r\nd", "e\nf"]  # cells untouched
    assert validate_path(path).findings == () and fix_path(path) == []  # detection and fix agree; idempotent


def test_whitespace_lines_point_into_multiline_records(tmp_path: Path) -> None:
    path = _copy("w208_surrounding_whitespace_val.csv", tmp_path)
    changes = fix_path(path)
    assert [(c.line, c.column, c.before, c.after) for c in changes] == [
        (2, "question", "多行的\n题目 ", "多行的\n题目"), (3, "B", "乙 ", "乙"), (4, "question", " 问题", "问题")]


def test_ragged_rows_are_kept_and_stay_reported(tmp_path: Path) -> None:
    path = tmp_path / "r_val.csv"
    path.write_text(H + "0, 问题,甲,乙,丙,丁,A\n1,问题, 甲,乙,丙,1,2, b\n2,问题,甲,乙,丙,C\n", encoding="utf-8")
    changes = fix_path(path)
    # the ragged row is stripped but its answer is not "normalised": its cells may be shifted
    assert [(c.line, c.column, c.after) for c in changes] == [(2, "question", "问题"), (3, "A", "甲"), (3, "cell 8", "b")]
    table, _ = read_csv(path)
    assert [len(r) for r in table.rows] == [7, 8, 6]
    assert [r[0] for r in table.rows] == ["0", "1", "2"]
    assert [f.code for f in validate_path(path).findings] == ["E101", "E101"]


def test_what_cannot_be_fixed_stays_reported(tmp_path: Path) -> None:
    path = tmp_path / "u_val.csv"
    path.write_text(H + "0,问题, ,乙,丙,丁, E\n1,问题二,甲,nan,丙,丁,nan\n", encoding="utf-8")
    report = fix_and_validate(path)
    assert [(c.line, c.column, c.after) for c in report.changes] == [(2, "A", ""), (2, "answer", "E")]
    assert [(f.code, f.line) for f in report.findings] == [("E204", 2), ("E206", 2), ("E205", 3), ("W211", 3)]


def test_header_names_are_stripped(tmp_path: Path) -> None:
    path = tmp_path / "h_val.csv"
    path.write_text("id,question,A,B,C,D, answer\n0,问题,甲,乙,丙,丁,A\n", encoding="utf-8")
    assert [f.code for f in validate_path(path).findings] == ["E107"]
    assert [(c.line, c.column, c.before) for c in fix_path(path)] == [(1, "answer", " answer")]
    assert validate_path(path).findings == ()


def test_blank_lines_are_removed_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "b_val.csv"
    path.write_text(H + "0,问题,甲,乙,丙,丁,A\n\n1,问题二,甲,乙,丙,丁,B\n\n", encoding="utf-8")
    assert [(c.before, c.after) for c in fix_path(path)] == [("2 blank lines", "removed")]
    assert path.read_text(encoding="utf-8") == H + "0,问题,甲,乙,丙,丁,A\n1,问题二,甲,乙,丙,丁,B\n"


def test_undecodable_files_are_left_alone(tmp_path: Path) -> None:
    path = _copy("e100_unreadable_file_val.csv", tmp_path)
    before = path.read_bytes()
    assert fix_file(path) == []
    assert path.read_bytes() == before and not _backups(path)


def test_a_clean_file_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "c_val.csv"
    path.write_text(H + '0,"quoted",甲,乙,丙,丁,A\n', encoding="utf-8")  # needless quotes are no defect
    assert fix_path(path) == []
    assert path.read_text(encoding="utf-8") == H + '0,"quoted",甲,乙,丙,丁,A\n'


def test_fix_is_idempotent_on_a_dataset(tmp_path: Path) -> None:
    root = _copy("datasets/pass_dataset", tmp_path)
    (root / "val" / "law_val.csv").write_text(H + "10,问题 ,甲,乙,丙,丁,a\n", encoding="utf-8")
    assert len(fix_path(root)) == 2
    assert fix_path(root) == []


def test_output_writes_a_fixed_copy_and_leaves_the_input(tmp_path: Path) -> None:
    root = _copy("datasets/pass_dataset", tmp_path)
    val = root / "val" / "law_val.csv"
    val.write_text(H + "10,问题 ,甲,乙,丙,丁,A\n", encoding="utf-8")
    before = val.read_bytes()
    report = fix_and_validate(root, output=tmp_path / "fixed")
    assert val.read_bytes() == before and not _backups(val)
    assert report.changes[0].file == str(tmp_path / "fixed" / "val" / "law_val.csv")
    assert report.changes[0].backup is None
    assert report.counts["error"] == report.counts["warning"] == 0
    assert (tmp_path / "fixed" / "subject_mapping.json").is_file()


def test_output_of_one_subject_and_one_file(tmp_path: Path) -> None:
    root = _copy("datasets/e301_unmapped_subject", tmp_path)
    report = fix_and_validate(root, ValidateOptions(subject="law"), output=tmp_path / "law_only")
    assert report.findings == () and report.changes == ()
    assert sorted(p.name for p in (tmp_path / "law_only").rglob("*.csv")) == ["law_dev.csv", "law_test.csv", "law_val.csv"]
    single = fix_and_validate(CATALOGUE / "e306_dev_too_short_dev.csv", output=tmp_path / "one")
    assert [f.code for f in single.findings] == ["E306"]  # still checked as a dev file


def test_output_must_be_new_and_outside_the_dataset(tmp_path: Path) -> None:
    root = _copy("datasets/pass_dataset", tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        fix_path(root, output=tmp_path / "busy")
    with pytest.raises(UsageError, match="inside the dataset"):
        fix_path(root, output=root / "fixed")


def _messy_bank(root: Path, subjects: int = 3) -> Path:
    """A dataset whose every val file needs a fix (a padded answer)."""
    for i in range(subjects):
        for split in ("dev", "val", "test"):
            (root / split).mkdir(parents=True, exist_ok=True)
        (root / "dev" / f"s{i}_dev.csv").write_text(H.replace("answer", "answer,explanation") +
                                                    "".join(f"{k},q{k},a,b,c,d,A,\n" for k in range(5)), encoding="utf-8")
        (root / "val" / f"s{i}_val.csv").write_text(H + "".join(f"{k},question {k} of {i},a,b,c,d, B\n" for k in range(200)),
                                                    encoding="utf-8")
        (root / "test" / f"s{i}_test.csv").write_text(H, encoding="utf-8")
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("budget", [0, 3000, 9000, 20000])
def test_a_full_disk_during_an_in_place_fix_changes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             budget: int) -> None:
    """Issue 9 item 4: a full disk part-way through the backups or the files: every file as it was, no .bak left."""
    from write_faults import disk_full_after

    from toolkit.fileio import WriteError

    bank = _messy_bank(tmp_path / "bank")
    before = _snapshot(bank)
    disk_full_after(monkeypatch, budget)
    with pytest.raises(WriteError, match="no space left on device") as info:
        fix_path(bank)
    assert str(bank) in str(info.value) and ".tmp" not in str(info.value)
    assert _snapshot(bank) == before


@pytest.mark.parametrize("budget", [0, 5000, 12000])
def test_a_full_disk_during_a_fix_into_output_leaves_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              budget: int) -> None:
    from write_faults import disk_full_after

    from toolkit.fileio import WriteError

    bank = _messy_bank(tmp_path / "bank")
    before = _snapshot(bank)
    disk_full_after(monkeypatch, budget)
    with pytest.raises(WriteError, match="no space left on device") as info:
        fix_path(bank, output=tmp_path / "fixed")
    assert str(tmp_path / "fixed") in str(info.value) and ".partial" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank"]  # no output, no hidden staging folder
    assert _snapshot(bank) == before
