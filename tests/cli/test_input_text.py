"""Bad text input through the CLI (issue 9.1, 9.2, 9.3, 9.5): one line on stderr naming the file, the line
and the fix, exit 1 or 2, and nothing written — or, where the input is fine after all, nothing lost.

Every bad file is made by the test itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from input_helpers import HEADER, backups, bank_rows, new_dataset, nothing_written, one_error_line, write_csv

# --- issue 9.1: Latin-1/cp1252 is not GBK -------------------------------------------------------------


# Every accented letter sits between letters: bytes that GB18030 also decodes (Hélène reads H閘鑞e).
LATIN = ["id,question,A,B,C,D,answer", "0,Qui habite chez Hélène?,Québec,Genève,Zürich,Málaga,A",
         "1,Quelle rivière traverse Besançon?,Doubs,Rhône,Saône,Loire,A"]


def test_cp1252_is_not_read_as_gbk_on_import(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "latin.csv", LATIN, "cp1252")
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    line = one_error_line(result, "latin.csv", "line 2", "Hélène", "H閘鑞e", "--encoding cp1252")
    assert "GB18030" in line and "cp1252" in line
    assert nothing_written(tmp_path)


def test_latin_text_that_is_no_gb18030_at_all_asks_for_the_encoding(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "latin.csv", [HEADER, "0,Où est-il?,à côté,là,ici,déjà,A"], "cp1252")
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "latin.csv", "unknown text encoding", "--encoding")
    assert nothing_written(tmp_path)


def test_encoding_option_imports_cp1252(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "latin.csv", LATIN, "cp1252")
    result = new_dataset(cli, tmp_path, "--from", src, "--encoding", "cp1252", "--split", "val")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "out/bank/val/s_val.csv").read_text(encoding="utf-8")
    assert "Qui habite chez Hélène?,Québec,Genève,Zürich,Málaga" in text
    assert "read as cp1252, written as UTF-8" in result.stderr


def test_encoding_option_leaves_utf8_files_alone(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "utf8.csv", LATIN, "utf-8")
    result = new_dataset(cli, tmp_path, "--from", src, "--encoding", "latin-1", "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "Hélène" in (tmp_path / "out/bank/val/s_val.csv").read_text(encoding="utf-8")  # never Ã©


def test_a_wrong_encoding_is_named_with_the_line(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "gbk.csv", [HEADER, *bank_rows(3)], "gbk")
    result = new_dataset(cli, tmp_path, "--from", src, "--encoding", "utf-8")
    assert result.exit_code == 1
    one_error_line(result, "gbk.csv", "not valid utf-8", "line 2", "--encoding")
    assert nothing_written(tmp_path)


@pytest.mark.parametrize("command", ["new-dataset", "validate"])
def test_unknown_encoding_is_a_usage_error(cli, tmp_path: Path, command: str) -> None:
    src = write_csv(tmp_path / "bank_val.csv", [HEADER, *bank_rows(3)])
    args = ("bank", "--root", tmp_path / "out", "--from", src) if command == "new-dataset" else (src,)
    result = cli(command, *args, "--encoding", "klingon")
    assert result.exit_code == 2
    one_error_line(result, "unknown encoding 'klingon'", "cp1252")
    assert nothing_written(tmp_path)


def test_encoding_only_applies_when_importing(cli, tmp_path: Path) -> None:
    result = cli("new-dataset", "bank", "--root", tmp_path / "out", "--encoding", "cp1252")
    assert result.exit_code == 2
    one_error_line(result, "--encoding")
    assert nothing_written(tmp_path)


def test_gbk_bank_full_of_symbols_still_imports_as_gbk(cli, tmp_path: Path) -> None:
    rows = [HEADER, *(f"{i},下列说法正确的是：①富强②民主 30°、2×3、x≥√2、α/β、“引号”——{i},①②,①③,②④,③④,B"
                      for i in range(8))]
    src = write_csv(tmp_path / "gbk.csv", rows, "gbk")
    result = new_dataset(cli, tmp_path, "--from", src, "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "read as GBK/GB18030" in result.stderr
    assert "①富强②民主 30°、2×3、x≥√2、α/β、“引号”——0" in (tmp_path / "out/bank/val/s_val.csv").read_text("utf-8")


def test_validate_and_fix_leave_an_ambiguous_file_alone(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "latin_val.csv", LATIN, "cp1252")
    before = src.read_bytes()
    result = cli("validate", src, "--json")
    assert result.exit_code == 1
    finding = json.loads(result.stdout)["findings"][0]
    assert (finding["code"], finding["line"]) == ("E100", 2)
    assert "Hélène" in finding["message"] and "H閘鑞e" in finding["message"] and "--encoding" in finding["hint"]
    fixed = cli("validate", src, "--fix")
    assert fixed.exit_code == 1
    assert src.read_bytes() == before and not backups(tmp_path)  # never made GBK "permanent"


def test_fix_with_encoding_converts_to_utf8(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "latin_val.csv", LATIN, "cp1252")
    before = src.read_bytes()
    report = cli("validate", src, "--encoding", "cp1252", "--json")
    assert report.exit_code == 1
    assert [(f["code"], f["value"]) for f in json.loads(report.stdout)["findings"]] == [("E102", "cp1252")]
    result = cli("validate", src, "--encoding", "cp1252", "--fix")
    assert result.exit_code == 0, result.stdout
    assert "encoding cp1252" in result.stdout
    assert src.read_text(encoding="utf-8").splitlines() == LATIN
    [backup] = backups(tmp_path)
    assert backup.read_bytes() == before


# --- issue 9.2: an unclosed quote never loses rows ------------------------------------------------------


def unclosed_bank(tmp_path: Path, name: str = "bank.csv", closed_later: bool = False) -> Path:
    rows = bank_rows(10)
    rows[3] = '3,"第3题 没有关上的引号____,甲3,乙3,丙3,丁3,D'  # line 5 of the file
    if closed_later:
        rows[7] = '7,"第7题, 有逗号",甲7,乙7,丙7,丁7,D'  # its opening quote closes row 3's cell
    return write_csv(tmp_path / name, [HEADER, *rows])


@pytest.mark.parametrize("closed_later", [False, True])
def test_unclosed_quote_stops_the_import(cli, tmp_path: Path, closed_later: bool) -> None:
    src = unclosed_bank(tmp_path, closed_later=closed_later)
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "bank.csv", "line 5", "opens on line 5", "close the quote")
    assert nothing_written(tmp_path)


@pytest.mark.parametrize("closed_later", [False, True])
def test_validate_reports_the_quote_and_fix_leaves_the_file_alone(cli, tmp_path: Path, closed_later: bool) -> None:
    src = unclosed_bank(tmp_path, "bank_val.csv", closed_later)
    before = src.read_bytes()
    result = cli("validate", src, "--json")
    assert result.exit_code == 1
    assert [(f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]] == [("E114", 5)]
    fixed = cli("validate", src, "--fix")
    assert fixed.exit_code == 1
    assert src.read_bytes() == before and not backups(tmp_path)  # no closing quote appended


def test_multiline_cells_still_import(cli, tmp_path: Path) -> None:
    rows = [HEADER, '0,"第一行\n第二行, 有逗号",甲,乙,丙,丁,A', *bank_rows(6)[1:]]
    src = write_csv(tmp_path / "multi.csv", rows)
    result = new_dataset(cli, tmp_path, "--from", src, "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "read 6 rows from 1 file, wrote 6, skipped 0" in result.stderr


# --- issue 9.3: a duplicate or empty header cell ------------------------------------------------------------


def test_duplicate_header_stops_the_import(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "dup.csv", ["id,question,A,B,C,C,answer", *bank_rows(6)])
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "dup.csv", "line 1", "'C' twice", "column 5 and column 6", "rename")
    assert nothing_written(tmp_path)


def test_empty_header_cell_over_data_stops_the_import(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "gap.csv", ["id,question,A,,C,D,answer", *bank_rows(6)])
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "gap.csv", "line 1", "header column 4 is empty", "乙0", "name the column")
    assert nothing_written(tmp_path)


def test_empty_header_cell_over_an_empty_column_is_a_trailing_comma(cli, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "trailing.csv", [HEADER + ",", *(r + "," for r in bank_rows(6))])
    result = new_dataset(cli, tmp_path, "--from", src, "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert "wrote 6, skipped 0" in result.stderr


def test_duplicate_jsonl_key_stops_the_import(cli, tmp_path: Path) -> None:
    src = tmp_path / "dup.jsonl"
    src.write_text('{"question": "q", "A": "a", "B": "b", "answer": "A"}\n'
                   '{"question": "q2", "A": "a", "B": "b", "B": "c", "answer": "B"}\n', encoding="utf-8")
    result = new_dataset(cli, tmp_path, "--from", src)
    assert result.exit_code == 1
    one_error_line(result, "dup.jsonl", "line 2", "'B' appears twice")
    assert nothing_written(tmp_path)


# --- issue 9.5: JSONL records end at \n only -----------------------------------------------------------------


def test_jsonl_strings_may_hold_unicode_line_separators(cli, tmp_path: Path) -> None:
    src = tmp_path / "seps.jsonl"
    lines = [json.dumps({"question": f"第{i}题\u2028续\u0085完", "A": "甲\u2029", "B": "乙", "C": "丙\x1c", "D": "丁",
                         "answer": "A"}, ensure_ascii=False) for i in range(6)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = new_dataset(cli, tmp_path, "--from", src, "--split", "val")
    assert result.exit_code == 0, result.stderr
    from toolkit.dataset.textio import read_csv

    table, _ = read_csv(tmp_path / "out/bank/val/s_val.csv")
    assert table.rows[0][1:4] == ("第0题\u2028续\u0085完", "甲\u2029", "乙")
