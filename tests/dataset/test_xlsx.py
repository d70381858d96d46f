"""XLSX: every cell read as the text Excel shows, not as openpyxl's typed value."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from toolkit.dataset.sheets import read_sheet
from toolkit.dataset.xlsx import cell_text, format_number
from toolkit.errors import DataError, UsageError

openpyxl = pytest.importorskip("openpyxl")


@pytest.mark.parametrize(
    ("value", "number_format", "shown"),
    [
        (0, "General", "0"),
        (1.0, "General", "1"),
        (0.1 + 0.2, "General", "0.3"),
        (2.5, "0.00", "2.50"),
        (0.25, "0%", "25%"),
        (0.125, "0.00%", "12.50%"),
        (1234567.891, "#,##0.00", "1,234,567.89"),
        (42, "000", "042"),
        (0.5, "#.00", ".50"),
        (3, "0.00E+00", "3.00E+00"),
        (5, '"$"#,##0.00', "$5.00"),
        (5, "[$€-407] #,##0.00", "€ 5.00"),
        (-1.5, "0.0", "-1.5"),
        (-1.5, "0.0;(0.0)", "(1.5)"),
        (3, '0 "pts"', "3 pts"),
        (7, "@", "7"),
    ],
)
def test_format_number_matches_excel(value: float, number_format: str, shown: str) -> None:
    assert format_number(value, number_format) == shown


def test_cell_text_of_other_types() -> None:
    assert cell_text(None) == ""
    assert cell_text(True) == "TRUE"
    assert cell_text(False) == "FALSE"
    assert cell_text(date(2024, 3, 1)) == "2024-03-01"
    assert cell_text(datetime(2024, 3, 1), "yyyy-mm-dd") == "2024-03-01"
    assert cell_text(datetime(2024, 3, 1, 12, 5), "yyyy-mm-dd h:mm") == "2024-03-01 12:05:00"
    assert cell_text("  NA ") == "  NA "


def make_workbook(path: Path) -> None:
    """A bank whose cells would all be mangled by a typed or NaN-parsing reader."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "题库"
    ws.append(["id", "question", "A", "B", "C", "D", "answer"])
    ws.append([0, "0 的阶乘", 0, 1, 2, "不存在", "B"])
    ws.append([1, "空值写作", "NA", "None", "null", "", "A"])
    ws.append([])  # a blank row in the middle is not a record
    ws.append([2, "比例", 0.5, 0.25, 1, 2.5, "A"])
    ws["C5"].number_format = "0%"
    ws["F5"].number_format = "0.00"
    ws.append([3, "日期", date(2024, 3, 1), True, "  带空格 ", "=1+1", "D"])
    other = wb.create_sheet("notes")
    other.append(["not", "a", "bank"])
    wb.save(path)


def test_read_xlsx_shows_cells_as_excel_does(tmp_path: Path) -> None:
    f = tmp_path / "bank.xlsx"
    make_workbook(f)
    sheet = read_sheet(f)
    assert sheet.kind == "xlsx" and sheet.encoding is None
    assert [r.line for r in sheet.records] == [1, 2, 3, 5, 6]  # spreadsheet row numbers
    assert sheet.records[1].cells == ("0", "0 的阶乘", "0", "1", "2", "不存在", "B")
    assert sheet.records[2].cells == ("1", "空值写作", "NA", "None", "null", "", "A")
    assert sheet.records[3].cells == ("2", "比例", "50%", "0.25", "1", "2.50", "A")
    # A formula never computed by Excel has no cached value: it reads as an empty cell, marked as such.
    assert sheet.records[4].cells == ("3", "日期", "2024-03-01", "TRUE", "  带空格 ", "", "D")
    assert sheet.records[4].uncomputed == ((5, "F6 (=1+1)"),)
    assert all(r.uncomputed == () for r in sheet.records[:4])
    assert sheet.notes == ("read worksheet '题库'; not read: notes (choose one with --sheet)",)


def test_read_xlsx_other_sheet_and_bad_sheet(tmp_path: Path) -> None:
    f = tmp_path / "bank.xlsx"
    make_workbook(f)
    assert read_sheet(f, sheet_name="notes").records[0].cells == ("not", "a", "bank")
    with pytest.raises(UsageError, match="no worksheet named 'missing'") as err:
        read_sheet(f, sheet_name="missing")
    assert "题库, notes" in str(err.value)


def test_rows_are_padded_to_the_widest_column(tmp_path: Path) -> None:
    f = tmp_path / "ragged.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["question", "A", "B", "answer", "explanation"])
    wb.active.append(["q", "x", "y", "A"])  # no explanation: Excel stores no trailing blank
    wb.save(f)
    assert read_sheet(f).records[1].cells == ("q", "x", "y", "A", "")


def test_corrupt_workbook_is_a_data_error(tmp_path: Path) -> None:
    f = tmp_path / "broken.xlsx"
    f.write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match="cannot read as an Excel workbook") as err:
        read_sheet(f)
    assert "broken.xlsx" in str(err.value)
