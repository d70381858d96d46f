"""Library-level checks of bad input (issue 9.3, 9.5, 9.6, 9.9, 10.7): each raises a ToolkitError naming
the file and the fix, never a traceback of another kind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from toolkit.dataset.formats import check_header_names, detect_layout
from toolkit.dataset.mapping import read_mapping_raw
from toolkit.dataset.meta import read_meta
from toolkit.dataset.sheets import Sheet, SheetRow, read_sheet
from toolkit.errors import DataError, UsageError

DEEP = "[" * 100_000 + "]" * 100_000


def sheet(*rows: tuple[str, ...], kind: str = "csv") -> Sheet:
    return Sheet(Path(f"s.{kind}"), kind, tuple(SheetRow(i + 1, r) for i, r in enumerate(rows)))


@pytest.mark.parametrize(("header", "says"), [
    (("id", "question", "A", "B", "C", "C", "answer"), "'C' twice (column 5 and column 6)"),
    (("id", "question", "A", "a", "B", "answer"), "'A' and 'a' (column 3 and column 4)"),
    (("id", "question ", "question", "A", "B", "answer"), "'question ' and 'question'"),
])
def test_repeated_header_names_are_errors(header: tuple[str, ...], says: str) -> None:
    with pytest.raises(DataError, match="the header names") as err:
        detect_layout(sheet(header, tuple("x" * len(header))))
    assert says in err.value.message


def test_an_empty_header_cell_is_named_as_a_person_finds_it() -> None:
    header, row = ("id", "question", "A", "", "C", "D", "answer"), ("0", "q", "a", "b", "c", "d", "A")
    with pytest.raises(DataError, match="header column 4 is empty"):
        check_header_names(sheet(header, row))
    with pytest.raises(DataError, match=r"header cell D1 is empty, but its column has data \(row 2: 'b'\)"):
        check_header_names(sheet(header, row, kind="xlsx"))


def test_an_unnamed_index_and_an_empty_trailing_column_are_fine() -> None:
    check_header_names(sheet(("", "Question", "A", "B", "Answer"), ("7", "q", "a", "b", "A")))  # CMMLU
    check_header_names(sheet(("question", "A", "B", "answer", ""), ("q", "a", "b", "A", "")))


@pytest.mark.parametrize(("content", "says"), [
    ('{"options": "abc"}', "'options' must be a whole number, not \"abc\""),
    ('{"options": null}', "'options' must be a whole number, not null"),
    ('{"options": true}', "'options' must be a whole number, not true"),
    ('{"language": 5}', "'language' must be a string"),
    ('{"name": ["x"]}', "'name' must be a string"),
    ('{"categories": "STEM"}', "'categories' must be a list of strings"),
    ('{"categories": ["STEM", 1]}', "'categories' must be a list of strings"),
    ('"just text"', "must be a JSON object, not str"),
    (DEEP, "nested too deeply"),
])
def test_bad_dataset_json_names_the_file(tmp_path: Path, content: str, says: str) -> None:
    (tmp_path / "dataset.json").write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_meta(tmp_path)
    assert says in err.value.message
    assert str(err.value.location.file).endswith("dataset.json")


def test_a_good_dataset_json_still_reads(tmp_path: Path) -> None:
    (tmp_path / "dataset.json").write_text(json.dumps({"name": "b", "options": 5, "categories": ["Law"]}), "utf-8")
    meta = read_meta(tmp_path)
    assert meta is not None and (meta.name, meta.options, meta.categories) == ("b", 5, ("Law",))


def test_deep_subject_mapping_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "subject_mapping.json").write_text(DEEP, encoding="utf-8")
    with pytest.raises(DataError, match="nested too deeply"):
        read_mapping_raw(tmp_path / "subject_mapping.json")


def test_a_fifo_mapping_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "subject_mapping.json")
    with pytest.raises(UsageError, match="named pipe"):
        read_mapping_raw(tmp_path / "subject_mapping.json")


@pytest.mark.parametrize("name", ["bank.csv", "bank.jsonl", "bank.xlsx"])
def test_non_regular_files_are_refused_by_every_reader(tmp_path: Path, name: str) -> None:
    os.mkfifo(tmp_path / name)
    with pytest.raises(UsageError, match=r"is a named pipe \(FIFO\), not a regular file"):
        read_sheet(tmp_path / name)
    (tmp_path / f"zero{Path(name).suffix}").symlink_to("/dev/zero")
    with pytest.raises(UsageError, match="is a character device"):
        read_sheet(tmp_path / f"zero{Path(name).suffix}")


def test_jsonl_records_end_at_newline_only(tmp_path: Path) -> None:
    f = tmp_path / "b.jsonl"
    lines = [{"question": "a\u2028b", "A": "x\x85y", "B": "\u2029", "answer": "A"},
             {"question": "c\x0bd\x0ce\x1cf\x1dg\x1eh", "A": "1", "B": "2", "answer": "B"}]
    f.write_text("\r\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\r\n", encoding="utf-8")
    read = read_sheet(f)
    assert [r.cells for r in read.records[1:]] == [tuple(x.values()) for x in lines]
    assert [r.line for r in read.records[1:]] == [1, 2]


def test_a_jsonl_line_nested_too_deeply_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "b.jsonl"
    f.write_text('{"question": "q"}\n\n{"question": ' + DEEP + "}\n", encoding="utf-8")
    with pytest.raises(DataError, match="nested too deeply") as err:
        read_sheet(f)
    assert err.value.location.line == 3


def test_csv_cells_larger_than_csv_s_default_limit(tmp_path: Path) -> None:
    f = tmp_path / "big.csv"
    big = "x" * 300_000
    f.write_text(f'question,A,B,answer\n"{big}",a,b,A\nq,a,b,B\n', encoding="utf-8")
    assert read_sheet(f).records[1].cells[0] == big


def test_merged_ranges_come_from_the_sheet_that_was_read(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "题目 & more"
    book.active.append(["question", "A", "B", "answer"])
    book.active.append(["q", "a", "b", "A"])
    book.active.merge_cells("B2:C2")
    notes = book.create_sheet("Notes", 0)
    notes.append(["x", "y"])
    notes.merge_cells("A1:B1")
    book.save(tmp_path / "b.xlsx")
    first = read_sheet(tmp_path / "b.xlsx")
    assert (first.worksheet, first.other_sheets, [m.ref for m in first.merged]) == ("Notes", ("题目 & more",), ["A1:B1"])
    chosen = read_sheet(tmp_path / "b.xlsx", sheet_name="题目 & more")
    assert [(m.ref, m.min_row, m.min_col, m.max_row, m.max_col) for m in chosen.merged] == [("B2:C2", 2, 2, 2, 3)]


def test_header_row_drops_the_lines_above_it(tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    f.write_text('title\n"note\nover two lines"\nquestion,A,B,answer\nq,a,b,A\n', encoding="utf-8")
    read = read_sheet(f, header_row=4)
    assert read.has_header is True
    assert [r.cells for r in read.records] == [("question", "A", "B", "answer"), ("q", "a", "b", "A")]
    assert read.notes == ("2 line(s) above the header (line 4) not read",)
    with pytest.raises(DataError, match="line 3 is blank or inside a cell; the next non-blank line is 4"):
        read_sheet(f, header_row=3)


def test_the_csv_module_s_limit_is_left_as_it_was(tmp_path: Path) -> None:
    import csv

    from toolkit.dataset.textio import parse_csv

    before = csv.field_size_limit()
    assert parse_csv("question,A\n" + "x" * (before + 10) + ",a\n").rows[0][0] == "x" * (before + 10)
    assert csv.field_size_limit() == before  # other readers (the engine's) keep their own limit
