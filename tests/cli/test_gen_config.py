"""``toolkit gen-config`` through Typer's CliRunner: every option, bad input, exit codes, streams."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "chinese_core_socialist_values"
NAME = "chinese_core_socialist_values"
STOCK = REPO / "toolkit" / "configs" / "datasets" / "ceval"


@pytest.fixture
def bank(tmp_path, monkeypatch) -> Path:
    """The example dataset copied to ``tmp_path/data/<name>``; the CWD is ``tmp_path``."""
    if not (EXAMPLE / "subject_mapping.json").is_file():
        pytest.skip("the example dataset is not in the repository")
    target = tmp_path / "data" / NAME
    shutil.copytree(EXAMPLE, target)
    # the example is the scaffold of step 1, before `validate --fix` (gen-config refuses its 3 errors)
    from toolkit.validate import ValidateOptions
    from toolkit.validate.fix import fix_and_validate

    assert fix_and_validate(target, ValidateOptions(), None).ok
    # give test a row so that --split test/both can run
    val = (target / "val" / f"{NAME}_val.csv").read_text(encoding="utf-8").splitlines()
    (target / "test" / f"{NAME}_test.csv").write_text("\n".join(val[:2]) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return Path("data") / NAME


def out_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def hashed_text(folder: Path, mode: str = "gen") -> str:
    return next(folder.glob(f"{NAME}_{mode}_*.py")).read_text(encoding="utf-8")


def test_default_run(cli, bank):
    result = cli("gen-config", bank)
    assert result.exit_code == 0, result.stderr
    out = Path("configs/datasets") / NAME
    assert result.stdout.splitlines() == [str(out / f) for f in [
        next(p.name for p in out.glob(f"{NAME}_gen_*.py")), f"{NAME}_gen.py",
        next(p.name for p in out.glob(f"{NAME}_ppl_*.py")), f"{NAME}_ppl.py", f"{NAME}_summary_groups.py"]]
    assert f"1 subject, data path ./data/{NAME}; wrote 5 files" in result.stderr
    assert f"run: toolkit eval --datasets {NAME}_gen …" in result.stderr and f"then {NAME}_ppl in a second run" in result.stderr
    assert "--config-dir" not in result.stderr
    again = cli("gen-config", bank)
    assert "wrote 0 files" in again.stderr and "(5 unchanged)" in again.stderr


def test_out_and_name(cli, bank, tmp_path):
    result = cli("gen-config", bank, "--out", tmp_path / "cfg" / "datasets" / "mine", "--name", "mine")
    assert result.exit_code == 0, result.stderr
    assert out_files(tmp_path / "cfg" / "datasets" / "mine")[0].startswith("mine_gen")
    assert f"--config-dir {tmp_path / 'cfg'}" in result.stderr
    odd = cli("gen-config", bank, "-o", tmp_path / "flat")
    assert odd.exit_code == 0 and "is not such a folder" in odd.stderr


def test_bad_name(cli, bank):
    result = cli("gen-config", bank, "--name", "my-bank")
    assert result.exit_code == 2 and "cannot name Python variables" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("language", "text"), [("zh", "以下是中国关于社会主义核心价值观考试"), ("en", "There is a single choice")])
def test_language(cli, bank, language, text):
    result = cli("gen-config", bank, "--language", language, "--mode", "gen")
    assert result.exit_code == 0, result.stderr
    assert text in hashed_text(Path("configs/datasets") / NAME)


def test_shots(cli, bank):
    assert cli("gen-config", bank, "--shots", "3", "--mode", "gen").exit_code == 0
    assert "fix_id_list=[0, 1, 2]" in hashed_text(Path("configs/datasets") / NAME)
    assert cli("gen-config", bank, "--shots", "0", "--mode", "gen").exit_code == 0
    text = hashed_text(Path("configs/datasets") / NAME)
    assert "retriever=dict(type=ZeroRetriever)" in text and "FixKRetriever" not in text
    too_many = cli("gen-config", bank, "--shots", "50")
    assert too_many.exit_code == 1 and "--shots 50 needs 50 dev rows" in too_many.stderr
    negative = cli("gen-config", bank, "--shots", "-1")
    assert negative.exit_code == 2


def test_hint(cli, bank):
    result = cli("gen-config", bank, "--hint", "请回答关于{name_zh}的问题。", "--mode", "ppl")
    assert result.exit_code == 0, result.stderr
    assert "'请回答关于社会主义核心价值观的问题。\\n{question}" in hashed_text(Path("configs/datasets") / NAME, "ppl")


def test_prompt_template(cli, bank, tmp_path):
    template = tmp_path / "prompt.j2"
    template.write_text("{{ subject.name_en }}: {question}\n{% for l in letters %}\n{{ l }}) {{ '{' ~ l ~ '}' }}\n"
                        "{% endfor %}\n=> \n", encoding="utf-8")
    result = cli("gen-config", bank, "--prompt-template", template, "--mode", "gen")
    assert result.exit_code == 0, result.stderr
    assert "'Core Socialist Values: {question}\\nA) {A}\\nB) {B}\\nC) {C}\\nD) {D}\\n=> '" in hashed_text(
        Path("configs/datasets") / NAME)
    missing = cli("gen-config", bank, "--prompt-template", tmp_path / "absent.j2")
    assert missing.exit_code == 2 and "prompt template not found" in missing.stderr
    template.write_text("{question} only", encoding="utf-8")
    lacking = cli("gen-config", bank, "--prompt-template", template)
    assert lacking.exit_code == 2 and "lacks {A}, {B}, {C}, {D}" in lacking.stderr


@pytest.mark.parametrize(("split", "abbrs"), [
    ("val", [f"'{NAME}-{NAME}'"]),
    ("test", [f"'{NAME}-test-{NAME}'"]),
    ("both", [f"'{NAME}-{NAME}'", f"'{NAME}-test-{NAME}'"]),
])
def test_split(cli, bank, split, abbrs):
    result = cli("gen-config", bank, "--split", split)
    assert result.exit_code == 0, result.stderr
    groups = (Path("configs/datasets") / NAME / f"{NAME}_summary_groups.py").read_text(encoding="utf-8")
    assert [a for a in abbrs if a in groups] == abbrs
    assert f"_split in {['val', 'test'] if split == 'both' else [split]!r}" in hashed_text(Path("configs/datasets") / NAME)


def test_split_without_rows(cli, bank):
    (bank / "test" / f"{NAME}_test.csv").write_text("id,question,A,B,C,D,answer\n", encoding="utf-8")
    result = cli("gen-config", bank, "--split", "test")
    assert result.exit_code == 1 and "has no rows" in result.stderr and "--split val" in result.stderr


@pytest.mark.parametrize(("mode", "kept"), [("gen", "_gen"), ("ppl", "_ppl")])
def test_mode(cli, bank, mode, kept):
    assert cli("gen-config", bank, "--mode", mode).exit_code == 0
    names = out_files(Path("configs/datasets") / NAME)
    assert len(names) == 3 and all(kept in n or "summary" in n for n in names)


def test_abs_path_and_data_path(cli, bank, tmp_path):
    assert cli("gen-config", bank, "--abs-path", "--mode", "gen").exit_code == 0
    assert f"path={(tmp_path / bank).resolve().as_posix()!r}" in hashed_text(Path("configs/datasets") / NAME)
    assert cli("gen-config", bank, "--data-path", "/mnt/banks/cv", "--mode", "gen").exit_code == 0
    assert "path='/mnt/banks/cv'" in hashed_text(Path("configs/datasets") / NAME)
    both = cli("gen-config", bank, "--abs-path", "--data-path", "/x")
    assert both.exit_code == 2 and "exclude each other" in both.stderr


def test_data_path_opencompass_would_replace(cli, bank, tmp_path):
    shutil.copytree(bank, tmp_path / "data" / "ceval")
    result = cli("gen-config", "data/ceval", "--name", "mine")
    assert result.exit_code == 2 and "contains '/ceval/'" in result.stderr and "--abs-path" in result.stderr
    assert not Path("configs").exists()
    assert cli("gen-config", "data/ceval", "--name", "mine", "--abs-path").exit_code == 0
    dataset_id = cli("gen-config", bank, "--data-path", "opencompass/ceval-exam")
    assert dataset_id.exit_code == 2 and "OpenCompass dataset id" in dataset_id.stderr


def test_force(cli, bank):
    out = Path("configs/datasets") / NAME
    out.mkdir(parents=True)
    (out / f"{NAME}_gen.py").write_text("# hand-written\n", encoding="utf-8")
    refused = cli("gen-config", bank)
    assert refused.exit_code == 2 and "not overwriting" in refused.stderr and "--force" in refused.stderr
    assert cli("gen-config", bank, "--force").exit_code == 0
    assert "read_base" in (out / f"{NAME}_gen.py").read_text(encoding="utf-8")


def test_json(cli, bank):
    result = cli("gen-config", bank, "--json", "--mode", "gen")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dataset"] == NAME and data["subjects"] == 1 and data["data_path"] == f"./data/{NAME}"
    assert [f["kind"] for f in data["files"]] == ["dataset", "aggregator", "summary"]
    assert len(data["files"][0]["suffix"]) == 6 and data["files"][0]["status"] == "written"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--language", "fr"], "'fr' is not one of"),
        (["--split", "dev"], "'dev' is not one of"),
        (["--mode", "chat"], "'chat' is not one of"),
        (["other_dir"], "expected one dataset folder, got 2 paths"),
    ],
)
def test_bad_options(cli, bank, args, message):
    result = cli("gen-config", bank, *args)
    assert result.exit_code == 2 and message in result.stderr


def test_missing_dataset_and_no_arguments(cli, tmp_path):
    missing = cli("gen-config", tmp_path / "nowhere")
    assert missing.exit_code == 2 and "dataset folder not found" in missing.stderr
    assert cli("gen-config").exit_code == 2


def test_broken_dataset_is_a_data_error(cli, bank):
    (bank / "dev" / f"{NAME}_dev.csv").unlink()
    result = cli("gen-config", bank)
    assert result.exit_code == 1 and "missing split files" in result.stderr


def test_check(cli, tmp_path):
    ok = cli("gen-config", "--check", STOCK / "ceval_gen_5f30c7.py", STOCK / "ceval_gen.py")
    assert ok.exit_code == 0
    assert ok.stdout.splitlines()[0] == f"ok     {STOCK / 'ceval_gen_5f30c7.py'} (5f30c7)"
    assert "no hash suffix in the name (its prompts hash to 5f30c7)" in ok.stdout
    stale = tmp_path / "ceval_ppl_123abc.py"
    shutil.copy(STOCK / "ceval_ppl_578f8d.py", stale)
    result = cli("gen-config", "--check", stale, STOCK / "ceval_ppl_578f8d.py")
    assert result.exit_code == 1
    assert f"stale  {stale}: the prompts hash to 578f8d, not 123abc; rename it to ceval_ppl_578f8d.py" in result.stdout
    assert "1 of 2 files stale" in result.stderr


def test_check_json_and_errors(cli, tmp_path):
    groups = tmp_path / "g_summary_groups.py"
    groups.write_text("g_summary_groups = []\n", encoding="utf-8")
    result = cli("gen-config", "--check", "--json", STOCK / "ceval_gen_5f30c7.py", groups)
    assert result.exit_code == 0
    assert [r["status"] for r in json.loads(result.stdout)] == ["ok", "no-datasets"]
    missing = cli("gen-config", "--check", tmp_path / "absent.py")
    assert missing.exit_code == 2 and "config file not found" in missing.stderr
    (tmp_path / "broken_gen_000000.py").write_text("x_datasets = [\n", encoding="utf-8")
    broken = cli("gen-config", "--check", tmp_path / "broken_gen_000000.py")
    assert broken.exit_code == 2 and "cannot read config" in broken.stderr
    # one unreadable file does not hide the verdicts on the others
    stale = tmp_path / "ceval_ppl_123abc.py"
    shutil.copy(STOCK / "ceval_ppl_578f8d.py", stale)
    mixed = cli("gen-config", "--check", STOCK / "ceval_gen_5f30c7.py", tmp_path / "broken_gen_000000.py", stale)
    assert mixed.exit_code == 2
    assert mixed.stdout.splitlines()[0].startswith("ok ") and mixed.stdout.splitlines()[1].startswith("stale ")
    assert "cannot read config" in mixed.stderr and "1 of 3 files stale" in mixed.stderr
    as_json = cli("gen-config", "--check", "--json", tmp_path / "broken_gen_000000.py", STOCK / "ceval_gen_5f30c7.py")
    body = json.loads(as_json.stdout)
    assert [r["status"] for r in body] == ["error", "ok"] and "cannot read config" in body[0]["error"]


def test_gen_config_never_imports_torch(tmp_path):
    if not (EXAMPLE / "subject_mapping.json").is_file():
        pytest.skip("the example dataset is not in the repository")
    bank = tmp_path / "bank"
    shutil.copytree(EXAMPLE, bank)
    code = (
        "import sys\n"
        "from toolkit.cli.main import app\n"
        f"fixed = ['validate', {str(bank)!r}, '--fix']\n"
        "try:\n    app(fixed)\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        f"args = ['gen-config', {str(bank)!r}, '--abs-path', '--out', {str(tmp_path / 'out')!r}]\n"
        "try:\n    app(args)\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        f"app(['gen-config', '--check', {str(STOCK / 'ceval_gen.py')!r}], standalone_mode=False)\n"
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert len(list((tmp_path / "out").iterdir())) == 5
