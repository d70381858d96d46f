"""read_sheet: every kind of source file read as exact text, with editor line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.dataset.sheets import read_sheet, sheet_kind
from toolkit.errors import DataError, UsageError

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "import"
HEADER = ("id", "question", "A", "B", "C", "D", "answer")
NULLISH = ("1", "空值在 R 语言中写作____", "NA", "None", "null", "0", "A")


@pytest.mark.parametrize(
    ("name", "encoding", "newline"),
    [
        ("bank_utf8.csv", "utf-8", "\n"),
        ("bank_bom.csv", "utf-8-sig", "\n"),
        ("bank_gbk_crlf.csv", "gb18030", "mixed"),  # CRLF rows, LF inside the quoted cell (as Excel writes)
        ("bank.tsv", "utf-8", "\n"),
        ("bank.jsonl", "utf-8", "\n"),
    ],
)
def test_every_fixture_reads_to_the_same_cells(name: str, encoding: str, newline: str) -> None:
    sheet = read_sheet(FIXTURES / name)
    assert sheet.encoding == encoding
    assert sheet.newline == newline
    assert sheet.records[0].cells == HEADER
    assert sheet.records[2].cells == NULLISH  # NA, None, null and 0 stay exactly that
    assert len(sheet.records) == 8
    assert sheet.records[7].cells[1] == "“多行\n题目”中的换行应当保留吗？"


def test_csv_line_numbers_count_multiline_cells() -> None:
    sheet = read_sheet(FIXTURES / "bank_utf8.csv")
    assert [r.line for r in sheet.records] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_multiline_cell_moves_following_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text('id,question\n0,"two\nlines"\n\n1,after\n', encoding="utf-8")
    sheet = read_sheet(f)
    assert [(r.line, r.cells) for r in sheet.records] == [
        (1, ("id", "question")), (2, ("0", "two\nlines")), (5, ("1", "after"))]


def test_jsonl_keeps_number_text_and_marks_missing_keys(tmp_path: Path) -> None:
    f = tmp_path / "q.jsonl"
    f.write_text('{"question": "x", "A": 0, "B": 1.50, "C": null, "D": true, "answer": "A"}\n\n'
                 '{"question": "y", "A": "NA", "B": "None", "answer": "B"}\n', encoding="utf-8")
    sheet = read_sheet(f)
    assert sheet.has_header is True
    assert sheet.records[0].cells == ("question", "A", "B", "C", "D", "answer")
    assert sheet.records[1].cells == ("x", "0", "1.50", "", "true", "A")
    assert sheet.records[2].line == 3
    assert sheet.records[2].cells == ("y", "NA", "None", "", "", "B")
    assert sheet.records[2].missing == (3, 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [('{"question": "x",\n', "invalid JSON"), ('["a", "b"]\n', "expected a JSON object")],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"question": "ok"}\n' + text, encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        read_sheet(f)
    assert err.value.location.line == 2
    assert str(f) in str(err.value)


def test_semicolon_csv_is_sniffed(tmp_path: Path) -> None:
    f = tmp_path / "excel_de.csv"
    f.write_text("question;A;B;answer\nwas?;ja;nein;A\n", encoding="utf-8")
    assert read_sheet(f).records[1].cells == ("was?", "ja", "nein", "A")


def test_explicit_delimiter_wins(tmp_path: Path) -> None:
    f = tmp_path / "pipes.csv"
    f.write_text("question|A|B|answer\nq|x,y|z|A\n", encoding="utf-8")
    assert read_sheet(f, delimiter="|").records[1].cells == ("q", "x,y", "z", "A")


def test_unknown_encoding_is_a_data_error(tmp_path: Path) -> None:
    f = tmp_path / "latin.csv"
    f.write_bytes("question,A\nCaf\xe9 cr\xe8me br\xfbl\xe9e,\xe0\n".encode("latin-1"))
    with pytest.raises(DataError, match="unknown text encoding"):
        read_sheet(f)


def test_utf16_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "u16.csv"
    f.write_bytes("question,A\n".encode("utf-16"))
    with pytest.raises(DataError, match="UTF-16"):
        read_sheet(f)


@pytest.mark.parametrize(("name", "hint"), [("old.xls", "save it as .xlsx"), ("notes.txt", "convert it"), ("README", "convert it")])
def test_unsupported_file_types_are_usage_errors(tmp_path: Path, name: str, hint: str) -> None:
    with pytest.raises(UsageError, match="cannot import") as err:
        sheet_kind(tmp_path / name)
    assert hint in str(err.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="file not found"):
        read_sheet(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(UsageError, match="is a folder"):
        read_sheet(tmp_path / "dir.csv")


def test_unclosed_quote_is_an_error_naming_the_line_it_opens(tmp_path: Path) -> None:
    # Issue 9.2 changed this: the swallowed rows used to become one short record, skipped with exit 0.
    f = tmp_path / "q.csv"
    f.write_text('question,A\nok,1\n"never closed,2\nnext,3\n', encoding="utf-8")
    with pytest.raises(DataError, match="opens on line 3 is never closed") as err:
        read_sheet(f)
    assert err.value.location.line == 3


GBK_SYMBOLS = "关于…下列说法正确的是：①富强②民主③文明④和谐；30°、2×3÷6、x≥√2±π、α/β、“引号”——省略"


def test_gbk_text_full_of_symbols_is_read_as_gbk(tmp_path: Path) -> None:
    f = tmp_path / "circ.csv"
    rows = ["id,question,A,B,C,D,answer", *(f"{i},{GBK_SYMBOLS},①②,①③,②④,③④,B" for i in range(10))]
    f.write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    sheet = read_sheet(f)
    assert sheet.encoding == "gb18030"
    assert sheet.records[1].cells[1] == GBK_SYMBOLS


def test_private_use_characters_are_not_chinese() -> None:
    from toolkit.dataset.gbk import looks_chinese

    assert looks_chinese(GBK_SYMBOLS + "ДЖ ㄅㄆ ㈠ ㎡ ｗ ā ǎ")
    assert not looks_chinese("题目\ue000")  # GBK's user-defined area: bytes of another encoding


def test_a_gb_family_guess_is_trusted_and_never_contradicted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.dataset import gbk, textio

    data = "question,A\n题目\ue000,甲\n".encode("gb18030")  # decodes, but does not look Chinese on its own
    monkeypatch.setattr(gbk, "guess_encoding_name", lambda data: "cp1252")
    with pytest.raises(DataError, match="unknown text encoding"):
        textio.decode_bytes(data)
    monkeypatch.setattr(gbk, "guess_encoding_name", lambda data: "gb2312")
    assert textio.decode_bytes(data).encoding == "gb18030"
    with pytest.raises(DataError, match="looks like gb2312 but is not valid GBK/GB18030 at byte 2") as err:
        textio.decode_bytes(b"q,\x80\n")
    assert "not UTF-8 or GBK" not in str(err.value)


def test_record_breaks_follow_csv_quoting() -> None:
    from toolkit.dataset.textio import record_breaks

    # a quote opens a quoted cell only at the start of a cell: 5" is literal text
    assert record_breaks('a,b\n5" disk,"x\r\ny"\n\n').styles == {"\n"}
    assert record_breaks('a,b\n5" disk,"x\r\ny"\n\n').blank_lines == 1
    assert record_breaks('a\r"b\nc"\r\n').styles == {"\r", "\r\n"}
    assert record_breaks("a,b").styles == frozenset()


def test_format_csv_quotes_a_bare_carriage_return(tmp_path: Path) -> None:
    from toolkit.dataset.textio import format_csv, parse_csv

    rows = [["0", "a\rb", 'say "hi"'], ["1", "c\r\nd", "e,f"]]
    text = format_csv(["id", "question", "A"], rows)
    assert text.startswith('id,question,A\n0,"a\rb","say ""hi"""\n')
    assert [list(r) for r in parse_csv(text).rows] == rows
