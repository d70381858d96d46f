"""``toolkit new-dataset`` through Typer's CliRunner: every option, every bad input, stdout vs stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.dataset.mapping import read_mapping_raw
from toolkit.dataset.meta import read_meta

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "data" / "import"
EXAMPLE = REPO / "examples" / "chinese_core_socialist_values"
SEED_ARGS = ("--subject", "chinese_core_socialist_values", "--name-en", "Core Socialist Values",
             "--name-zh", "社会主义核心价值观", "--category", "Social Science")


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(result, *needles: str) -> str:
    """The stderr of a failed run: exactly one line, starting with error:, containing every needle."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


# --- the committed example -------------------------------------------------------------------------


def test_committed_example_is_what_the_command_makes_now(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the datasheet records the --from path as given
    result = cli("new-dataset", "chinese_core_socialist_values", "--root", tmp_path,
                 "--from", "examples/raw/chinese_core_socialist_values.csv", *SEED_ARGS)
    assert result.exit_code == 0, result.stderr
    assert tree(tmp_path / "chinese_core_socialist_values") == tree(EXAMPLE)


def test_example_keeps_the_seed_rows_and_their_whitespace(seed_raw: Path) -> None:
    raw = seed_raw.read_text(encoding="utf-8").splitlines()
    dev = (EXAMPLE / "dev/chinese_core_socialist_values_dev.csv").read_text(encoding="utf-8").splitlines()
    val = (EXAMPLE / "val/chinese_core_socialist_values_val.csv").read_text(encoding="utf-8").splitlines()
    assert [line + "," for line in raw[1:6]] == dev[1:]  # dev adds an empty explanation
    assert raw[6:] == val[1:]
    assert " D" in dev[2] and "外核 " in dev[2]
    assert (EXAMPLE / "test/chinese_core_socialist_values_test.csv").read_text() == "id,question,A,B,C,D,answer\n"
    assert read_mapping_raw(EXAMPLE / "subject_mapping.json") == {
        "chinese_core_socialist_values": ["Core Socialist Values", "社会主义核心价值观", "Social Science"]}


# --- scaffolding --------------------------------------------------------------------------------------


def test_scaffold_reports_on_stderr_only(cli, tmp_path: Path) -> None:
    result = cli("new-dataset", "bank", "--root", tmp_path, "--subject", "law", "--name-en", "Law",
                 "--name-zh", "法学", "--category", "Humanities")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"created {tmp_path / 'bank'} (4 options A–D, language zh)" in result.stderr
    assert "law" in result.stderr and "Humanities" in result.stderr
    assert "default names used" not in result.stderr


def test_default_root_is_data_in_the_current_folder(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("new-dataset", "bank")
    assert result.exit_code == 0
    assert (tmp_path / "data/bank/val/bank_val.csv").is_file()
    assert "default names used" in result.stderr and "name_en/name_zh/category for bank" in result.stderr


def test_several_subjects_options_language_categories_and_facts(cli, tmp_path: Path) -> None:
    result = cli("new-dataset", "bank", "--root", tmp_path, "--subject", "law", "--subject", "art",
                 "--name-zh", "法学", "--name-zh", "艺术", "--category", "Law School", "--category", "Humanities",
                 "--declare-category", "Law School", "--options", "5", "--language", "en",
                 "--purpose", "Practice exams", "--origin", "Written by us", "--license", "CC BY 4.0",
                 "--answers-checked", "Two readers", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [s["key"] for s in summary["subjects"]] == ["law", "art"]
    assert summary["options"] == 5 and summary["language"] == "en"
    assert summary["categories"][-1] == "Law School"
    assert summary["subjects"][0]["defaults"] == ["name_en"]
    meta = read_meta(tmp_path / "bank")
    assert meta.options == 5 and meta.language == "en"
    header = (tmp_path / "bank/dev/law_dev.csv").read_text().strip()
    assert header == "id,question,A,B,C,D,E,answer,explanation"
    sheet = (tmp_path / "bank/DATASHEET.md").read_text()
    for fact in ("Practice exams", "Written by us", "CC BY 4.0", "Two readers"):
        assert fact in sheet
    assert "**TODO:**" not in sheet


def test_licence_spelling(cli, tmp_path: Path) -> None:
    assert cli("new-dataset", "bank", "--root", tmp_path, "--licence", "MIT").exit_code == 0
    assert "MIT" in (tmp_path / "bank/DATASHEET.md").read_text()


def test_adding_a_subject_then_force(cli, tmp_path: Path) -> None:
    assert cli("new-dataset", "bank", "--root", tmp_path, "--subject", "law").exit_code == 0
    added = cli("new-dataset", "bank", "--root", tmp_path, "--subject", "art")
    assert added.exit_code == 0 and f"updated {tmp_path / 'bank'}" in added.stderr
    again = cli("new-dataset", "bank", "--root", tmp_path, "--subject", "art")
    assert again.exit_code == 2
    one_error_line(again, str(tmp_path / "bank"), "already has subject(s) art", "--force")
    forced = cli("new-dataset", "bank", "--root", tmp_path, "--subject", "art", "--name-zh", "艺术", "--force", "--json")
    assert forced.exit_code == 0
    backup = json.loads(forced.stdout)["backup"]
    assert f"backup of the previous dataset: {backup}" in forced.stderr
    assert Path(backup, "val/art_val.csv").is_file()
    assert read_mapping_raw(tmp_path / "bank/subject_mapping.json")["art"] == ["Art", "艺术", "Other"]


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("my-bank",), 2, ("dataset name 'my-bank' is not a Python identifier",)),
        (("bank", "--subject", "computer-network"), 2, ("subject key 'computer-network'", "computer_network")),
        (("bank", "--subject", "law", "--subject", "law"), 2, ("'law' is given twice",)),
        (("bank", "--subject", "a", "--subject", "b", "--name-zh", "甲"), 2, ("--name-zh is given 1 time(s) but --subject 2",)),
        (("bank", "--category", "Science"), 2, ("unknown category 'Science'", "--declare-category")),
        (("bank", "--split", "dev"), 2, ("--split only apply when importing",)),
        (("bank", "--seed", "3"), 2, ("--seed only apply when importing",)),
        (("bank", "--column", "question=题目", "--strict"), 2, ("--column, --strict only apply when importing",)),
        (("bank", "stray.csv"), 2, ("unexpected argument 'stray.csv'", "put --from before")),
    ],
)
def test_bad_scaffold_input(cli, tmp_path: Path, args, code, needles) -> None:
    result = cli("new-dataset", *args, "--root", tmp_path)
    assert result.exit_code == code
    one_error_line(result, *needles)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [("--options", "1"), ("--options", "11"), ("--language", "fr"), ("--dev-size", "-1")])
def test_out_of_range_options_are_usage_errors(cli, tmp_path: Path, args) -> None:
    result = cli("new-dataset", "bank", "--root", tmp_path, *args)
    assert result.exit_code == 2
    assert "Invalid value" in result.stderr and result.stdout == ""


def test_existing_dataset_without_new_subject(cli, tmp_path: Path) -> None:
    cli("new-dataset", "bank", "--root", tmp_path)
    result = cli("new-dataset", "bank", "--root", tmp_path)
    assert result.exit_code == 2
    one_error_line(result, "dataset already exists", "--subject KEY")


# --- importing ----------------------------------------------------------------------------------------


def test_import_with_json_summary(cli, tmp_path: Path) -> None:
    result = cli("new-dataset", "d", "--root", tmp_path, "--from", FIXTURES / "bank_gbk_crlf.csv", "--subject", "bank",
                 "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows_read"], summary["rows_written"], summary["rows_skipped"]) == (7, 7, 0)
    assert summary["sources"][0]["encoding"] == "gb18030"
    assert "read as GBK/GB18030, written as UTF-8" in result.stderr
    assert "read 7 rows from 1 file, wrote 7, skipped 0" in result.stderr


def test_import_glob_style_files_and_pairing(cli, tmp_path: Path) -> None:
    result = cli("new-dataset", "d", "--root", tmp_path, "--from", FIXTURES / "bank.tsv", FIXTURES / "bank.jsonl",
                 "--subject", "tsv_bank", "--subject", "jsonl_bank", "--name-zh", "制表符", "--name-zh", "JSON 行")
    assert result.exit_code == 0, result.stderr
    assert list(read_mapping_raw(tmp_path / "d/subject_mapping.json")) == ["tsv_bank", "jsonl_bank"]


def test_import_split_dev_size_and_random(cli, tmp_path: Path) -> None:
    base = ("--from", FIXTURES / "bank_utf8.csv", "--subject", "bank", "--json")
    split = json.loads(cli("new-dataset", "a", "--root", tmp_path, *base, "--split", "test").stdout)
    assert split["subjects"][0]["counts"] == {"dev": 0, "val": 0, "test": 7}
    sized = json.loads(cli("new-dataset", "b", "--root", tmp_path, *base, "--dev-size", "2").stdout)
    assert sized["subjects"][0]["counts"] == {"dev": 2, "val": 5, "test": 0}
    r1 = cli("new-dataset", "c", "--root", tmp_path, *base, "--dev-sample", "random", "--seed", "3")
    r2 = cli("new-dataset", "e", "--root", tmp_path, *base, "--dev-sample", "random", "--seed", "3")
    assert r1.exit_code == r2.exit_code == 0
    assert (tmp_path / "c/dev/bank_dev.csv").read_bytes() == (tmp_path / "e/dev/bank_dev.csv").read_bytes()


def test_import_with_columns_and_format(cli, tmp_path: Path) -> None:
    result = cli("new-dataset", "d", "--root", tmp_path, "--from", FIXTURES / "bank_columns.csv", "--subject", "bank",
                 "--column", "id=编号", "--column", "question=题目", "--column", "A=选项A", "--column", "B=选项B",
                 "--column", "C=选项C", "--column", "D=选项D", "--column", "answer=答案", "--format", "columns")
    assert result.exit_code == 0, result.stderr
    assert "columns not imported: 解析" in result.stderr
    forced = cli("new-dataset", "m", "--root", tmp_path, "--from", FIXTURES / "bank_utf8.csv", "--format", "ceval",
                 "--subject", "bank")
    assert forced.exit_code == 0


def test_import_xlsx_sheet_option(cli, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["ignore me"])
    ws = wb.create_sheet("题库")
    ws.append(["question", "A", "B", "answer"])
    ws.append(["0 是偶数吗？", 0, "NA", "A"])
    wb.save(tmp_path / "bank.xlsx")
    result = cli("new-dataset", "d", "--root", tmp_path, "--from", tmp_path / "bank.xlsx", "--sheet", "题库",
                 "--split", "val")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "d/val/bank_val.csv").read_text(encoding="utf-8").splitlines()[1] == "0,0 是偶数吗？,0,NA,A"
    bad = cli("new-dataset", "e", "--root", tmp_path, "--from", tmp_path / "bank.xlsx", "--sheet", "nope")
    assert bad.exit_code == 2
    one_error_line(bad, "bank.xlsx", "no worksheet named 'nope'")


def test_skipped_rows_are_reported_and_strict_refuses(cli, tmp_path: Path) -> None:
    f = tmp_path / "ragged.csv"
    f.write_text("id,question,A,B,answer\n0,q,a,b,A\n1,q,a,b,c,A\n", encoding="utf-8")
    result = cli("new-dataset", "d", "--root", tmp_path, "--from", f)
    assert result.exit_code == 0
    assert f"skipped {f}, line 3: 6 cells, expected 5" in result.stderr
    assert "read 2 rows from 1 file, wrote 1, skipped 1" in result.stderr
    strict = cli("new-dataset", "e", "--root", tmp_path, "--from", f, "--strict")
    assert strict.exit_code == 1
    one_error_line(strict, str(f), "line 3", "1 row(s) cannot be imported")
    assert not (tmp_path / "e").exists()


def test_many_skipped_rows_are_summarised(cli, tmp_path: Path) -> None:
    f = tmp_path / "ragged.csv"
    f.write_text("question,A,B,answer\nq,a,b,A\n" + "x,y\n" * 15, encoding="utf-8")
    result = cli("new-dataset", "d", "--root", tmp_path, "--from", f, "--json")
    assert sum(line.startswith("skipped ") for line in result.stderr.splitlines()) == 10
    assert "… and 5 more skipped rows" in result.stderr
    assert len(json.loads(result.stdout)["sources"][0]["skipped"]) == 15


@pytest.mark.parametrize(
    ("make", "args", "code", "needles"),
    [
        (None, ("--from", "{tmp}/missing.csv"), 2, ("missing.csv", "file or folder not found")),
        (("notes.txt", b"hello"), ("--from", "{tmp}/notes.txt"), 2, ("notes.txt", "cannot import .txt")),
        (("latin.csv", "question,A\nCaf\xe9,cr\xe8me br\xfbl\xe9e\n".encode("latin-1")), ("--from", "{tmp}/latin.csv"),
         1, ("latin.csv", "unknown text encoding", "UTF-8")),
        (("zh.csv", "题目,选项A,选项B,答案\nq,a,b,A\n".encode()), ("--from", "{tmp}/zh.csv", "--subject", "zh"), 1,
         ("zh.csv", "no question column", "--column question=")),
        (("zh.csv", "题目,A,B,答案\nq,a,b,A\n".encode()), ("--from", "{tmp}/zh.csv", "--subject", "zh", "--column",
         "question=题干"), 1, ("zh.csv", "line 1", "no column '题干'")),
        (("zh.csv", b"q,a\n"), ("--from", "{tmp}/zh.csv", "--column", "stem=x"), 2, ("unknown role 'stem'",)),
        (("题库.csv", b"question,A,B,answer\nq,a,b,A\n"), ("--from", "{tmp}/题库.csv"), 2,
         ("题库.csv", "cannot make a subject key", "--subject KEY")),
        (("exam.csv", b"question,A,B\nq,a,b\n"), ("--from", "{tmp}/exam.csv"), 1, ("exam.csv", "no answer column")),
        (("e.jsonl", b'{"question": "q"\n'), ("--from", "{tmp}/e.jsonl"), 1, ("e.jsonl", "line 1", "invalid JSON")),
        (("empty.csv", b""), ("--from", "{tmp}/empty.csv"), 1, ("empty.csv", "is empty")),
        (("h.csv", b"question,A,B,answer\n"), ("--from", "{tmp}/h.csv"), 1, ("h.csv", "has no data rows")),
        (("b.csv", b"question,A,B,answer\nq,a,b,A\n"), ("--from", "{tmp}/b.csv", "--seed", "3"), 2,
         ("--seed only applies to --dev-sample random", "fix: add --dev-sample random")),
        (("c.jsonl", b'{"question": "q", "choices": "a | b", "answer": "A"}\n'),
         ("--from", "{tmp}/c.jsonl", "--column", "choices=choices"), 1,
         ("c.jsonl", "line 1", "no row can be imported: all 1 row(s) were skipped", "packed choices give 0 options")),
    ],
)
def test_bad_import_input(cli, tmp_path: Path, make, args, code, needles) -> None:
    src = tmp_path / "src"
    src.mkdir()
    if make:
        (src / make[0]).write_bytes(make[1])
    out = tmp_path / "out"
    result = cli("new-dataset", "d", "--root", out, *(a.replace("{tmp}", str(src)) for a in args))
    assert result.exit_code == code, result.stderr
    one_error_line(result, *needles)
    assert not out.exists()


def test_two_sources_for_one_subject_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("new-dataset", "d", "--root", tmp_path, "--from", FIXTURES / "bank_utf8.csv", "--from",
                 FIXTURES / "bank.tsv", "--subject", "bank")
    assert result.exit_code == 2
    one_error_line(result, "would come from two files", "bank_utf8.csv", "bank.tsv")
    assert list(tmp_path.iterdir()) == []


def test_import_into_existing_subject_needs_force(cli, tmp_path: Path) -> None:
    args = ("new-dataset", "d", "--root", tmp_path, "--from", FIXTURES / "bank_utf8.csv", "--subject", "bank")
    assert cli(*args).exit_code == 0
    again = cli(*args)
    assert again.exit_code == 2
    one_error_line(again, "already has subject(s) bank")
    assert cli(*args, "--force").exit_code == 0


def test_import_folder(cli, shared_dir: Path, tmp_path: Path) -> None:
    result = cli("new-dataset", "obqa", "--root", tmp_path, "--from", shared_dir / "data/openbookqa", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows_written"] == 1000 and summary["subjects"][0]["key"] == "main"
    assert "columns not imported: Complete Question" in result.stderr


def test_openbookqa_ids_are_renumbered_so_that_our_validate_accepts_them(cli, shared_dir: Path, tmp_path: Path) -> None:
    result = cli("new-dataset", "obqa", "--root", tmp_path, "--from", shared_dir / "data/openbookqa")
    assert result.exit_code == 0, result.stderr
    assert ("dev.tsv: 500 source id(s) replaced by row numbers 0, 1, … in each file: the ids are not unique whole "
            "numbers (e.g. '8-376')") in result.stderr
    report = cli("validate", tmp_path / "obqa", "--json")
    codes = {f["code"] for f in json.loads(report.stdout)["findings"]}
    assert not codes & {"E201", "E202"}, codes


def test_gbk_sheet_full_of_symbols_is_imported_and_validated_as_gbk(cli, tmp_path: Path) -> None:
    f = tmp_path / "circ.csv"
    lines = ["id,question,A,B,C,D,answer", *(f"{i},关于…下列说法正确的是：①富强②民主③文明④和谐,①②,①③,②④,③④,B"
                                              for i in range(10))]
    f.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    result = cli("new-dataset", "circ", "--root", tmp_path / "data", "--from", f)
    assert result.exit_code == 0, result.stderr
    assert "read as GBK/GB18030, written as UTF-8" in result.stderr
    assert (tmp_path / "data/circ/val/circ_val.csv").read_text(encoding="utf-8").splitlines()[1] == lines[6]
    checked = cli("validate", f, "--json")
    assert checked.exit_code == 1
    assert "E102" in {x["code"] for x in json.loads(checked.stdout)["findings"]}
    assert "E100" not in checked.stdout


def test_json_list_choices_are_imported(cli, tmp_path: Path) -> None:
    f = tmp_path / "bank.jsonl"
    f.write_text("".join(json.dumps({"question": f"q{i}", "choices": ["a", "b", "c", "d"], "answer": "B"}) + "\n"
                         for i in range(6)), encoding="utf-8")
    result = cli("new-dataset", "d", "--root", tmp_path, "--from", f, "--column", "choices=choices", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["rows_written"] == 6
    assert (tmp_path / "d/val/bank_val.csv").read_text(encoding="utf-8").splitlines()[1] == "0,q5,a,b,c,d,B"


def test_large_import_report_stays_readable(cli, shared_dir: Path, tmp_path: Path) -> None:
    result = cli("new-dataset", "cmmlu_copy", "--root", tmp_path, "--from", shared_dir / "data/cmmlu")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "… 37 more (see DATASHEET.md)" in result.stderr
    assert [line.split() for line in lines if line.startswith("total")] == [["total", "335", "0", "11582"]]
    assert "name_en/name_zh/category for agronomy, anatomy, ancient_chinese, arts, astronomy and 62 more" in result.stderr
    assert lines[-1] == "read 11917 rows from 134 files, wrote 11917, skipped 0"
    assert len(lines) < 45


# --- staying light --------------------------------------------------------------------------------------


def test_new_dataset_never_imports_torch_or_transformers(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from toolkit.cli.main import app\n"
        f"app(['new-dataset', 'd', '--root', {str(tmp_path)!r}, '--from', {str(FIXTURES / 'bank_utf8.csv')!r},"
        " '--subject', 'bank'], standalone_mode=False)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'accelerate'))\n"
        "print('HEAVY', heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout
    assert (tmp_path / "d/val/bank_val.csv").is_file()


def test_unreadable_file_is_a_usage_error(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.csv"
    locked.write_text("question,A,B,answer\nq,a,b,A\n", encoding="utf-8")
    real_open = os.open

    def guarded_open(path, *args, **kwargs):
        if Path(path).name == "locked.csv":  # as if chmod 000 (tests may run as root, where chmod does not bite)
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)  # sources are opened with os.open (non-blocking, see textio)
    result = cli("new-dataset", "d", "--root", tmp_path / "out", "--from", locked)
    assert result.exit_code == 2
    one_error_line(result, "locked.csv", "cannot read (Permission denied)", "permissions")
    assert not (tmp_path / "out").exists()
