"""`toolkit validate` through Typer's CliRunner: exit codes, stdout vs stderr, --json, --fix, golden output."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli.main import app

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = REPO / "tests" / "validate" / "catalogue"
GOLDEN = REPO / "tests" / "validate" / "golden"
SEED_REL = "examples/raw/chinese_core_socialist_values.csv"
PLAIN = {"COLUMNS": "100", "NO_COLOR": "1", "FORCE_COLOR": None, "TERM": "dumb"}


@pytest.fixture
def plain(runner, monkeypatch):
    """Invoke in the repository root with a fixed-width, colourless console (for golden files)."""
    monkeypatch.chdir(REPO)

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], env=PLAIN)

    return invoke


def _check_golden(name: str, text: str) -> None:
    text = "".join(line.rstrip() + "\n" for line in text.splitlines())  # rich pads table lines with spaces
    path = GOLDEN / name
    if os.environ.get("TOOLKIT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"output differs from {path} (TOOLKIT_UPDATE_GOLDEN=1 rewrites it)"


def test_seed_table_matches_the_golden_file(plain) -> None:
    result = plain("validate", SEED_REL)
    assert result.exit_code == 1
    _check_golden("seed_raw_table.txt", result.stdout)
    assert result.stderr.startswith("note: chinese_core_socialist_values.csv: the name does not say the split")


def test_clean_dataset_exits_0(cli) -> None:
    result = cli("validate", CATALOGUE / "datasets" / "pass_dataset")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "✓ passed: 0 errors, 0 warnings, 1 info in 3 files"
    assert "checking 3 files" in result.stderr


def test_warnings_fail_only_with_strict(cli) -> None:
    path = CATALOGUE / "w208_surrounding_whitespace_val.csv"
    assert cli("validate", path).exit_code == 0
    strict = cli("validate", path, "--strict")
    assert strict.exit_code == 1
    assert "(--strict: warnings fail)" in strict.stdout


def test_errors_exit_1_and_are_listed_per_file(cli) -> None:
    result = cli("validate", CATALOGUE / "datasets" / "e307_answer_leak")
    assert result.exit_code == 1
    assert "law_val.csv" in result.stdout and "E307" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("✗ failed: 1 error")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no/such/bank"], "no such file or folder"),
        (["{cat}/e207_answer_not_normalised_val.csv", "--output", "x"], "--output goes with --fix"),
        (["{cat}/datasets/pass_dataset", "--subject", "nosuch"], "no subject 'nosuch'"),
        (["{cat}/pass_bom_val.csv", "--schema", "{cat}/missing.yaml"], "schema file not found"),
        (["{cat}/pass_bom_val.csv", "--schema", "val={cat}/missing.yaml"], "schema file not found"),
        (["{cat}/pass_bom_val.csv", "--schema", "train={cat}/e290_schema.yaml"], "'train' is not a split"),
        (["{cat}/pass_bom_val.csv", "--schema", "val="], "names no file"),
        (["{cat}/pass_bom_val.csv", "--schema", "val={cat}/e290_schema.yaml", "--schema", "val={cat}/e290_schema.yaml"],
         "gives the val schema twice"),
        (["{cat}/pass_bom_val.csv", "--schema", "{cat}/e290_schema.yaml", "--schema", "{cat}/e290_schema.yaml"],
         "--schema FILE is given twice"),
    ],
)
def test_usage_errors_exit_2_with_one_line_on_stderr(cli, args: list[str], message: str) -> None:
    result = cli("validate", *[a.format(cat=CATALOGUE) for a in args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and message in result.stderr


@pytest.mark.parametrize("args", [["--split", "train"], ["--shots", "-1"], []])
def test_bad_options_exit_2(cli, args: list[str]) -> None:
    target = [] if not args else [CATALOGUE / "pass_bom_val.csv"]
    assert cli("validate", *target, *args).exit_code == 2


def test_json_goes_to_stdout_and_notes_to_stderr(cli, seed_raw: Path) -> None:
    result = cli("validate", seed_raw, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["format_version"] == 1 and doc["counts"] == {"error": 3, "warning": 27, "info": 0}
    assert {f["code"] for f in doc["findings"]} == {"E207", "W208"}
    assert doc["changes"] == [] and len(doc["notes"]) == 1
    assert result.stderr.startswith("note: ")


def test_fix_prints_each_change_and_leaves_a_clean_file(cli, seed_raw: Path, tmp_path: Path) -> None:
    work = tmp_path / "seed_val.csv"
    shutil.copy(seed_raw, work)
    result = cli("validate", work, "--fix")
    assert result.exit_code == 0, result.output
    assert "fixed " + str(work) in result.stdout
    assert "' D'" in result.stdout and "backup: " + str(work) + ".bak-" in result.stdout
    assert "--fix: 30 changes in 1 file" in result.stdout
    assert result.stdout.splitlines()[-1] == "✓ passed: 0 errors, 0 warnings, 0 info in 1 file"
    again = cli("validate", work, "--fix", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["changes"] == []
    assert len(list(tmp_path.glob("seed_val.csv.bak-*"))) == 1


def test_fix_with_output_reports_what_remains(cli, tmp_path: Path) -> None:
    src = CATALOGUE / "datasets" / "e307_answer_leak"
    result = cli("validate", src, "--fix", "--output", tmp_path / "out", "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1  # a leak cannot be repaired safely: still reported
    assert doc["changes"] == [] and [f["code"] for f in doc["findings"]] == ["E307"]
    assert doc["findings"][0]["file"] == str(tmp_path / "out" / "val" / "law_val.csv")


def test_subject_split_schema_shots_and_near_duplicate_options(cli) -> None:
    schema = cli("validate", CATALOGUE / "e290_schema_check_val.csv", "--schema", CATALOGUE / "e290_schema.yaml", "--json")
    assert [f["code"] for f in json.loads(schema.stdout)["findings"]] == ["E290"]
    short_dev = CATALOGUE / "e306_dev_too_short_dev.csv"
    assert cli("validate", short_dev).exit_code == 1
    assert cli("validate", short_dev, "--shots", "3").exit_code == 0
    assert cli("validate", short_dev, "--split", "val").exit_code == 1  # as val, explanation is an unknown column
    near = CATALOGUE / "w309_near_duplicate_question_val.csv"
    assert "W309" in cli("validate", near).stdout
    assert "W309" not in cli("validate", near, "--no-near-duplicates").stdout
    bank = CATALOGUE / "datasets" / "e301_unmapped_subject"
    assert cli("validate", bank).exit_code == 1
    assert cli("validate", bank, "--subject", "law").exit_code == 0
    assert cli("validate", bank / "law").exit_code == 0


def test_help_shows_examples_and_exit_codes(cli) -> None:
    result = cli("validate", "--help")
    assert result.exit_code == 0
    assert "toolkit validate data/my_bank --fix" in result.stdout and "Exit status" in result.stdout


def test_validate_never_imports_torch_or_transformers(seed_raw: Path) -> None:
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from toolkit.cli.main import app\n"
        f"result = CliRunner().invoke(app, ['validate', {str(seed_raw)!r}, '--json'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'accelerate'))\n"
        "print(result.exit_code, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "1 []", out.stdout + out.stderr


def test_schema_for_one_split_leaves_the_others_stock(cli, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(CATALOGUE / "datasets" / "pass_dataset", bank)
    house = CATALOGUE / "e290_schema.yaml"
    every = cli("validate", bank, "--schema", house)  # as before: dev and test fail the val-shaped schema
    assert every.exit_code == 1 and "E108" in every.stdout
    result = cli("validate", bank, "--schema", f"val={house}", "--json")
    assert result.exit_code == 0, result.stdout
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["I311"]
    (bank / "val" / "law_val.csv").write_text("id,question,A,B,C,D,answer\n0,没有下划线,甲,乙,丙,丁,A\n",
                                              encoding="utf-8")
    failing = cli("validate", bank, "--schema", f"val={house}", "--schema", f"test={REPO / 'schemas' / 'test.yaml'}",
                  "--json")
    assert failing.exit_code == 1
    assert [(f["code"], Path(f["file"]).name, f["message"]) for f in json.loads(failing.stdout)["findings"]] == [
        ("I311", "law_test.csv", "no test answers: the test split cannot be scored"),
        ("E290", "law_val.csv", "schema check 'questions end with a blank ____' failed")]
    assert "--schema [SPLIT=]FILE" in cli("validate", "--help").stdout


def test_split_on_a_folder_checks_only_that_split(cli) -> None:
    bank = CATALOGUE / "datasets" / "e112_missing_split_file"  # law has no test file
    assert cli("validate", bank).exit_code == 1
    only_val = cli("validate", bank, "--split", "val")
    assert only_val.exit_code == 0, only_val.stdout
    assert only_val.stdout.splitlines()[-1] == "✓ passed: 0 errors, 0 warnings, 0 info in 1 file"
    assert "E112" in cli("validate", bank, "--split", "test").stdout


def test_progress_counts_the_misnamed_files_too(cli) -> None:
    result = cli("validate", CATALOGUE / "datasets" / "e111_bad_file_name")  # 3 split files + 2 misnamed
    assert result.exit_code == 1
    assert "checking 5 files …" in result.stderr
    assert result.stdout.splitlines()[-1] == "✗ failed: 2 errors, 0 warnings, 0 info in 5 files"


def test_duplicate_mapping_key_is_an_error(cli) -> None:
    result = cli("validate", CATALOGUE / "datasets" / "e314_duplicate_mapping_key", "--json")
    assert result.exit_code == 1
    (dup,) = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]
    assert (dup["code"], dup["name"], dup["line"], dup["column"]) == ("E314", "duplicate-mapping-key", 3, "law")


def test_fix_never_changes_a_line_break_inside_a_cell(cli, shared_dir: Path, tmp_path: Path) -> None:
    source = shared_dir / "data" / "ceval" / "test" / "legal_professional_test.csv"
    work = tmp_path / "legal_professional_test.csv"
    shutil.copy(source, work)

    def cells(path: Path) -> list[list[str]]:
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.reader(f))

    assert any("\r" in c.replace("\r\n", "") for row in cells(source) for c in row)  # a bare CR inside a question
    assert "I104" in cli("validate", work).stdout
    fixed = cli("validate", work, "--fix", "--json")
    assert fixed.exit_code == 0, fixed.stdout
    assert [c["before"] for c in json.loads(fixed.stdout)["changes"]] == ["CRLF line endings"]
    assert cells(work) == cells(source)
    again = cli("validate", work, "--fix", "--json")
    assert json.loads(again.stdout)["changes"] == [] and json.loads(again.stdout)["findings"][0]["code"] == "I311"


def test_lf_file_with_a_crlf_inside_a_cell_is_clean_and_left_alone(cli, tmp_path: Path) -> None:
    path = tmp_path / "x_val.csv"
    original = b'id,question,A,B,C,D,answer\n0,"a\r\nb",1,2,3,4,A\n'
    path.write_bytes(original)
    assert cli("validate", path).stdout.splitlines()[-1] == "✓ passed: 0 errors, 0 warnings, 0 info in 1 file"
    fixed = cli("validate", path, "--fix")
    assert fixed.exit_code == 0 and "--fix: nothing to repair" in fixed.stdout
    assert path.read_bytes() == original
