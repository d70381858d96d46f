"""File-level helpers: line-ending styles, option letters from a header, file names, encodings in a dataset."""

from __future__ import annotations

import shutil
from pathlib import Path

from toolkit.dataset.textio import decode_bytes
from toolkit.validate import validate_path
from toolkit.validate.file_checks import letters_from_header, name_findings, newline_styles, row_terminators

CATALOGUE = Path(__file__).parent / "catalogue"


def test_row_terminators_ignore_breaks_inside_quoted_cells() -> None:
    assert row_terminators('a,b\r\n1,"x\ny"\r\n2,"say ""hi""\r\nthere"\r\n') == {"\r\n"}
    assert row_terminators("a,b\r\n1,2\n") == {"\r\n", "\n"}
    assert newline_styles(decode_bytes(b"a\r\nb\r\n")) == {"\r\n"}
    assert newline_styles(decode_bytes(b"a,b")) == set()


def test_letters_come_from_the_header() -> None:
    assert letters_from_header(["id", "question", "A", "B", "answer"]) == ("A", "B")
    assert letters_from_header(["id", "question", *"ABCDEFGHIJ", "answer"]) == tuple("ABCDEFGHIJ")
    assert letters_from_header(["id", "question", "A", "answer"]) == tuple("ABCD")  # too few: the default


def test_file_names_in_split_folders() -> None:
    assert name_findings(Path("bank/val/law_val.csv"), "val") == []
    assert [f.message for f in name_findings(Path("bank/val/law_dev.csv"), "val")] == ["a dev file inside the val/ folder"]
    assert [f.message for f in name_findings(Path("bank/val/1law_val.csv"), "val")] == [
        "subject '1law' is not a Python identifier"]


def test_a_gbk_file_in_a_dataset_is_still_checked_row_by_row(tmp_path: Path) -> None:
    root = tmp_path / "bank"
    shutil.copytree(CATALOGUE / "datasets" / "pass_dataset", root)
    val = root / "val" / "law_val.csv"
    val.write_bytes("id,question,A,B,C,D,answer\n10,问题,甲,乙,丙,丁, B\n".encode("gbk"))
    found = [(f.code, f.line) for f in validate_path(root).findings if f.file == str(val)]
    assert found == [("E102", None), ("E207", 2)]


def test_a_short_row_names_the_placeholder_a_prompt_would_keep(tmp_path: Path) -> None:
    path = tmp_path / "r_dev.csv"
    path.write_text("id,question,A,B,C,D,answer,explanation\n0,问题,甲,乙,丙\n1,问题,甲,乙,丙,丁,A\n", encoding="utf-8")
    messages = [f.message for f in validate_path(path).findings if f.code == "E101"]
    assert messages == ["5 cells but the header has 8: a prompt would keep a literal {D}",
                        "7 cells but the header has 8: it has no 'explanation'"]


def test_line_endings_are_those_between_records() -> None:
    assert newline_styles(decode_bytes(b'id,q\n0,"a\r\nb"\n')) == {"\n"}  # the CRLF is the cell's text
    assert newline_styles(decode_bytes(b'id,q\r\n0,"a\rb"\r\n')) == {"\r\n"}
    assert row_terminators('a,b\n5" disk,"x\r\ny"\n') == {"\n"}  # 5" opens no quoted cell: "x\r\ny" is one
