"""Bad files through the CLI (issue 9.6, 9.9, 10.7): dataset.json and JSON nested too deeply, FIFOs and
devices, huge cells, XLSX merged cells, notes sheets, --sheet and --header-row. One line on stderr naming
the file, the line and the fix, exit 1 or 2, nothing written. Every bad file is made by the test itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest
from input_helpers import HEADER, bank_rows, new_dataset, nothing_written, one_error_line, within, write_csv

# --- issue 9.6: tracebacks become messages --------------------------------------------------------------------


def dataset_folder(tmp_path: Path) -> Path:
    root = tmp_path / "d"
    for split in ("dev", "val", "test"):
        (root / split).mkdir(parents=True)
        extra = ",因为" if split == "dev" else ""
        write_csv(root / split / f"s_{split}.csv",
                  [HEADER + (",explanation" if extra else ""), *(r + extra for r in bank_rows(5))])
    (root / "subject_mapping.json").write_text('{"s": ["S", "科目", "Other"]}\n', encoding="utf-8")
    return root


@pytest.mark.parametrize("options", ['"abc"', "null", "true", "4.5"])
def test_bad_options_in_dataset_json(cli, tmp_path: Path, options: str) -> None:
    root = dataset_folder(tmp_path)
    (root / "dataset.json").write_text(f'{{"name": "d", "options": {options}}}', encoding="utf-8")
    result = cli("validate", root)
    assert result.exit_code == 1
    one_error_line(result, "dataset.json", "'options' must be a whole number", '"options": 4')


def test_dataset_json_that_is_no_object(cli, tmp_path: Path) -> None:
    root = dataset_folder(tmp_path)
    (root / "dataset.json").write_text("[1, 2]", encoding="utf-8")
    result = cli("validate", root)
    assert result.exit_code == 1
    one_error_line(result, "dataset.json", "must be a JSON object")


DEEP = "[" * 100_000 + "]" * 100_000


def test_deep_json_in_dataset_json(cli, tmp_path: Path) -> None:
    root = dataset_folder(tmp_path)
    (root / "dataset.json").write_text(DEEP, encoding="utf-8")
    result = cli("validate", root)
    assert result.exit_code == 1
    one_error_line(result, "dataset.json", "nested too deeply")


def test_deep_json_in_subject_mapping(cli, tmp_path: Path) -> None:
    root = dataset_folder(tmp_path)
    (root / "subject_mapping.json").write_text(DEEP, encoding="utf-8")
    result = cli("validate", root, "--json")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    codes = [(f["code"], f["message"]) for f in json.loads(result.stdout)["findings"] if f["code"] == "E300"]
    assert codes == [("E300", "invalid JSON: nested too deeply to read")]
    src = write_csv(tmp_path / "more.csv", [HEADER, *bank_rows(6)])
    added = cli("new-dataset", "d", "--root", tmp_path, "--from", src, "--subject", "t")  # reads the mapping
    assert added.exit_code == 1
    one_error_line(added, "subject_mapping.json", "nested too deeply")
    assert not (root / "dev/t_dev.csv").exists()


def test_deep_json_in_a_jsonl_line(cli, tmp_path: Path) -> None:
    src = tmp_path / "deep.jsonl"
    src.write_text('{"question": "q", "A": "a", "B": "b", "answer": "A"}\n'
                   f'{{"question": {DEEP}, "A": "a", "B": "b", "answer": "A"}}\n', encoding="utf-8")
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "deep.jsonl", "line 2", "nested too deeply")
    assert nothing_written(tmp_path)


def test_deep_json_in_a_packed_choices_cell_is_not_a_list_of_options(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "packed.csv", ["question,choices,answer", '"q","[""a"", ""b""]",A',
                                              f'"q2","{DEEP}",B', '"q3","[""c"", ""d""]",A'])
    result = new_dataset(cli, tmp_path, "--from", src, "--column", "choices=choices", "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "packed.csv, line 3: the packed choices give 0 options" in result.stderr


def test_a_fifo_is_refused_without_blocking(cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    result = within(30, lambda: new_dataset(cli, tmp_path, "--from", fifo))
    assert result.exit_code == 2
    one_error_line(result, "pipe.csv", "named pipe (FIFO)", "file saved on disk")
    assert nothing_written(tmp_path)
    result = within(30, lambda: cli("validate", fifo))
    assert result.exit_code == 2
    one_error_line(result, "pipe.csv", "named pipe (FIFO)")


def test_a_fifo_inside_a_dataset_is_a_finding(cli, tmp_path: Path) -> None:
    root = dataset_folder(tmp_path)
    os.mkfifo(root / "val" / "t_val.csv")
    result = within(30, lambda: cli("validate", root, "--json"))
    assert result.exit_code == 1
    found = [(f["code"], Path(f["file"]).name) for f in json.loads(result.stdout)["findings"] if f["code"] == "E100"]
    assert found == [("E100", "t_val.csv")]


@pytest.mark.parametrize("as_link", [False, True])
def test_a_device_is_refused(cli, tmp_path: Path, as_link: bool) -> None:
    target = Path("/dev/zero")
    if as_link:
        (tmp_path / "zero.csv").symlink_to(target)
        target = tmp_path / "zero.csv"
    result = within(30, lambda: new_dataset(cli, tmp_path, "--from", target))
    assert result.exit_code == 2
    one_error_line(result, str(target), "character device")
    assert nothing_written(tmp_path)
    result = within(30, lambda: cli("validate", target))
    assert result.exit_code == 2
    one_error_line(result, "character device")


def test_a_one_megabyte_cell_is_a_cell(cli, tmp_path: Path) -> None:
    big = "长" * 1_000_000
    rows = [HEADER, f'0,"{big}",甲,乙,丙,丁,A', *bank_rows(6)[1:]]
    src = write_csv(tmp_path / "big_val.csv", rows)
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 0, result.stderr
    assert big in (tmp_path / "out/bank/val/s_val.csv").read_text(encoding="utf-8")
    checked = cli("validate", src, "--json")
    assert [f["code"] for f in json.loads(checked.stdout)["findings"]] == []


# --- issue 9.9 and 10.7: XLSX merged cells, notes sheets, --sheet, --header-row ------------------------------


def workbook(path: Path, rows: list[list[object]], *, merges: tuple[str, ...] = (), notes_first: bool = False,
             title: str | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Questions"
    if notes_first:
        notes = book.create_sheet("Read me", 0)
        notes.append(["This workbook holds the 2024 exam."])
        notes.append(["Answers were checked twice."])
    if title is not None:
        sheet.append([title])
        sheet.append([])
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    book.save(path)
    return path


XLSX_ROWS = [HEADER.split(","), *([int(c) if c.isdigit() else c for c in r.split(",")] for r in bank_rows(6))]


def test_merged_cells_in_the_question_area_stop_the_import(cli, tmp_path: Path) -> None:
    src = workbook(tmp_path / "merged.xlsx", XLSX_ROWS, merges=("G3:G4", "D6:E6"))
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "merged.xlsx", "merged cells G3:G4, D6:E6", "question area", "Unmerge")
    assert nothing_written(tmp_path)


def test_merged_cells_in_a_column_not_imported_are_fine(cli, tmp_path: Path) -> None:
    rows = [[*XLSX_ROWS[0], "chapter"], *([*r, "第一章"] for r in XLSX_ROWS[1:])]
    src = workbook(tmp_path / "chapters.xlsx", rows, merges=("H2:H7",))
    result = new_dataset(cli, tmp_path, "--from", src, "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "columns not imported: chapter" in result.stderr


def test_merged_header_cells_are_named(cli, tmp_path: Path) -> None:
    src = workbook(tmp_path / "header.xlsx", XLSX_ROWS, merges=("C1:D1",))
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "header.xlsx", "merged header cells C1:D1", "id, question, A, , C, D, answer",
                   "own name")
    assert nothing_written(tmp_path)


def test_header_row_skips_a_merged_title(cli, tmp_path: Path) -> None:
    src = workbook(tmp_path / "titled.xlsx", XLSX_ROWS, merges=("A1:G1",), title="2024 期末考试")
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "titled.xlsx", "merged header cells A1:G1", "--header-row N")
    assert nothing_written(tmp_path)
    result = new_dataset(cli, tmp_path, "--from", src, "--header-row", "3", "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "1 row(s) above the header (row 3) not read" in result.stderr
    assert "wrote 6, skipped 0" in result.stderr


def test_header_row_in_a_csv(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "titled.csv", ["2024 期末考试,,,,,,", "", HEADER, *bank_rows(6)])
    result = new_dataset(cli, tmp_path, "--from", src, "--header-row", "3", "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "wrote 6, skipped 0" in result.stderr


@pytest.mark.parametrize(("name", "row", "code", "message"), [
    ("bank.jsonl", "2", 2, "does not apply to JSONL"),
    ("bank.csv", "2", 1, "line 2 is blank or inside a cell; the next non-blank line is 3"),
    ("bank.csv", "0", 2, "--header-row"),
])
def test_header_row_errors(cli, tmp_path: Path, name: str, row: str, code: int, message: str) -> None:
    src = tmp_path / name
    if name.endswith(".csv"):
        write_csv(src, ["title", "", HEADER, *bank_rows(6)])
    else:
        src.write_text('{"question": "q", "A": "a", "B": "b", "answer": "A"}\n', encoding="utf-8")
    result = new_dataset(cli, tmp_path, "--from", src, "--header-row", row)
    assert result.exit_code == code
    assert message in result.stderr and "Traceback" not in result.stderr
    assert nothing_written(tmp_path)


def test_notes_sheet_first_names_the_other_sheets(cli, tmp_path: Path) -> None:
    src = workbook(tmp_path / "notes.xlsx", XLSX_ROWS, notes_first=True)
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "notes.xlsx", "worksheet 'Read me'", "'Questions'", "--sheet NAME")
    assert nothing_written(tmp_path)
    result = new_dataset(cli, tmp_path, "--from", src, "--sheet", "Questions", "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "wrote 6, skipped 0" in result.stderr
