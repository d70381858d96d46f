"""``toolkit eval`` through Typer's CliRunner: options, outputs, exit codes, bad input."""

from __future__ import annotations

import json

import pytest
from engine_data import seed_rows, write_dataset

from toolkit.cli.eval import expand_args
from toolkit.cli.eval_options import parse_kwargs, parse_value
from toolkit.errors import UsageError


def _fake(*extra: str) -> list[str]:
    return ["eval", "--datasets", "seed_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
            "--display", "none", *extra]


def test_help_lists_the_opencompass_options_and_an_example(cli):
    result = cli("eval", "--help")
    assert result.exit_code == 0
    for option in ("--datasets", "--hf-path", "--model-kwargs", "--max-seq-len", "--max-out-len", "--batch-size",
                   "--num-gpus", "--debug", "--reuse", "--mode", "--max-num-workers", "--hf-type", "--dry-run",
                   "--infer-mode", "--data-path"):
        assert option in result.stdout
    assert "Example" in result.stdout


def test_a_run_prints_the_summary_on_stdout_and_progress_on_stderr(cli, bank):
    result = cli(*_fake())
    assert result.exit_code == 0, result.stderr
    assert "seed-values" in result.stdout and "accuracy" in result.stdout
    assert "run folder:" in result.stderr and "run folder" not in result.stdout
    run = next((bank / "outputs" / "default").iterdir())
    for sub in ("predictions/fake-model/seed-values.json", "results/fake-model/seed-values.json", "manifest.json"):
        assert (run / sub).is_file(), sub
    assert len(list((run / "summary").glob("summary_*.*"))) == 4  # txt csv md html


def test_json_output_is_machine_readable(cli, bank):
    result = cli(*_fake("--json", "--infer-mode", "choice"))
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert {r["abbr"] for r in body["results"]} == {"seed-values", "seed-values_copy"}
    assert all(r["mode"] == "choice" for r in body["results"])
    assert set(body["summary_files"]) == {"txt", "csv", "md", "html"}


def test_reuse_without_a_timestamp_takes_the_latest_run(cli, bank):
    assert cli(*_fake()).exit_code == 0
    first = sorted((bank / "outputs" / "default").iterdir())
    result = cli(*_fake("-r"))
    assert result.exit_code == 0, result.stderr
    assert sorted((bank / "outputs" / "default").iterdir()) == first  # no new run folder
    missing = cli(*_fake("-r", "20000101_000000"))
    assert missing.exit_code == 2 and "no run '20000101_000000'" in missing.stderr


def test_dry_run_lists_tasks_and_writes_nothing(cli, bank):
    result = cli(*_fake("--dry-run", "--max-num-workers", "2"))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("fake-model-0:")
    assert not (bank / "outputs").exists()


def test_a_config_file_with_models_and_datasets(cli, bank):
    run_cfg = bank / "run.py"
    run_cfg.write_text(
        "from mmengine.config import read_base\n"
        "from opencompass.models import HuggingFaceBaseModel\n"
        "with read_base():\n"
        "    from .configs.datasets.seed.seed_ppl import seed_datasets\n"
        "datasets = seed_datasets[:1]\n"
        "models = [dict(type=HuggingFaceBaseModel, abbr='m1', path='fake1', max_out_len=8, batch_size=2),\n"
        "          dict(type=HuggingFaceBaseModel, abbr='m2', path='fake2', max_out_len=8, batch_size=2)]\n",
        encoding="utf-8")
    result = cli("eval", str(run_cfg), "--backend", "fake", "--display", "none", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert sorted((r["model"], r["abbr"], r["mode"]) for r in body["results"]) == [
        ("m1", "seed-values", "ppl"), ("m2", "seed-values", "ppl")]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["eval", "--datasets", "no_such_config", "--hf-path", "x"], 2, "no_such_config"),
        (["eval", "--datasets", "seed_gen"], 2, "no model to evaluate"),
        (["eval", "--hf-path", "x"], 2, "no datasets to evaluate"),
        (["eval", "--datasets", "seed_gen", "--hf-path", "x", "--model-kwargs", "novalue"], 2, "key=value"),
        (["eval", "--datasets", "seed_gen", "--hf-path", "x", "--abbr", "nothing*"], 2, "matches no dataset"),
        (["eval", "--datasets", "seed_gen", "--hf-path", "/no/such/model", "--hf-type", "base"], 2, "model not found"),
        (["eval", "missing.py", "--hf-path", "x"], 2, "config file not found"),
        (["eval", "--datasets", "seed_gen", "--hf-path", "x", "-r", "20261203_1108"], 2, "-r takes a run folder's name"),
    ],
)
def test_bad_input_is_one_clear_line_and_a_usage_exit(cli, bank, args, code, message):
    result = cli(*args, "--display", "none")
    assert result.exit_code == code, result.stderr
    assert message in result.stderr and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_unsupported_config_type_names_file_and_type(cli, bank):
    cfg = bank / "configs" / "datasets" / "seed" / "seed_gen.py"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("import GenInferencer", "import GenInferencer, SCInferencer")
                   .replace("type=GenInferencer", "type=SCInferencer"), encoding="utf-8")
    result = cli(*_fake())
    assert result.exit_code == 2
    assert "SCInferencer" in result.stderr and "seed_gen.py" in result.stderr


def test_invalid_data_is_refused_before_any_model_loads(cli, bank, seed_raw):
    write_dataset(bank / "data", seed_rows(seed_raw, strip=False))  # the raw seed: ' D' answers
    result = cli(*_fake())
    assert result.exit_code == 1
    assert "the data has errors" in result.stderr and "--no-validate" in result.stderr
    assert cli(*_fake("--no-validate")).exit_code == 0


def test_a_real_tiny_model_from_its_folder(cli, bank, tiny_model_dir):
    result = cli("eval", "--datasets", "seed_ppl", "--hf-path", str(tiny_model_dir), "--hf-type", "base",
                 "--num-gpus", "0", "--batch-size", "4", "--display", "plain", "--model-abbr", "tiny")
    assert result.exit_code == 0, result.stderr
    assert "tiny" in result.stdout and "loading model tiny" in result.stderr


def test_opencompass_list_style_arguments_are_expanded():
    assert expand_args(["--datasets", "a", "b", "--model-kwargs", "x=1", "y='z'", "-r"]) == [
        "--datasets", "a", "--datasets", "b", "--model-kwargs", "x=1", "--model-kwargs", "y='z'", "-r", "latest"]
    assert expand_args(["-r", "20240101_120000", "cfg.py"]) == ["-r", "20240101_120000", "cfg.py"]
    assert expand_args(["--reuse", "cfg.py"]) == ["--reuse", "latest", "cfg.py"]


def test_key_value_options_parse_like_opencompass():
    assert parse_kwargs(["padding_side='left'", "trust_remote_code=True", "max=3", "ratio=0.5", "ids=1,2", "x=None"],
                        "--tokenizer-kwargs") == {"padding_side": "left", "trust_remote_code": True, "max": 3,
                                                  "ratio": 0.5, "ids": [1, 2], "x": None}
    assert parse_value("torch.float16") == "torch.float16"
    with pytest.raises(UsageError):
        parse_kwargs(["oops"], "--model-kwargs")


def test_gen_and_ppl_configs_in_one_run_would_collide_and_are_refused(cli, bank):
    result = cli("eval", "--datasets", "seed_gen", "seed_ppl", "--hf-path", "x", "--backend", "fake")
    assert result.exit_code == 2
    assert "both called 'seed-values'" in result.stderr and "separate runs" in result.stderr


def test_infer_then_eval_each_exit_zero_and_eval_needs_a_run(cli, bank):
    infer = cli(*_fake("--mode", "infer"))
    assert infer.exit_code == 0, infer.stderr
    run = next((bank / "outputs" / "default").iterdir())
    assert (run / "predictions" / "fake-model" / "seed-values.json").is_file()
    assert not list((run / "results").rglob("*.json"))  # nothing scored yet
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["results"] == []  # no dataset is reported failed
    scored = cli(*_fake("--mode", "eval", "-r"))
    assert scored.exit_code == 0, scored.stderr
    assert "seed-values" in scored.stdout and (run / "results" / "fake-model" / "seed-values.json").is_file()
    fresh = cli(*_fake("--mode", "eval"))
    assert fresh.exit_code == 2 and "add -r" in fresh.stderr


def test_a_model_that_fails_to_load_fails_its_datasets_and_the_other_model_still_runs(cli, bank, tiny_model_dir):
    broken = bank / "broken-model"
    broken.mkdir()  # exists, but holds no model
    result = cli("eval", "--datasets", "seed_ppl", "--hf-path", str(broken), str(tiny_model_dir), "--hf-type", "base",
                 "--num-gpus", "0", "--display", "plain")
    assert result.exit_code == 1
    assert "failed [broken-model] seed-values: cannot load the tokenizer" in result.stderr
    header, *rows = [line.split() for line in result.stdout.splitlines() if line.strip() and not line.startswith("-")]
    # issue 13: n and the 95% intervals follow OpenCompass's columns (the models were the last two columns)
    tiny = tiny_model_dir.name
    assert header[4:] == ["broken-model", tiny, "n", "ci_low:broken-model", "ci_high:broken-model",
                          f"ci_low:{tiny}", f"ci_high:{tiny}"]
    first = next(r for r in rows if r[0] == "seed-values")
    assert first[4] == "error:" and first[-6].replace(".", "").isdigit()  # the tiny model's score
    assert first[-5] == "10" and first[-4:-2] == ["-", "-"] and first[-1].replace(".", "").isdigit()
    run = next((bank / "outputs" / "default").iterdir())
    assert json.loads((run / "manifest.json").read_text(encoding="utf-8"))["results"]


def test_a_missing_model_path_is_refused_before_a_run_folder_is_made(cli, bank, tiny_model_dir):
    result = cli("eval", "--datasets", "seed_gen", "--hf-path", str(tiny_model_dir), "/no/such/model",
                 "--hf-type", "base", "--num-gpus", "0", "--display", "none")
    assert result.exit_code == 2 and "model not found: /no/such/model" in result.stderr
    assert not (bank / "outputs").exists()


def test_debug_shows_the_traceback_above_the_one_line_error(cli, bank):
    result = cli("eval", "--datasets", "seed_gen", "--hf-path", "/no/such/model", "--hf-type", "base", "--debug")
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: model not found")


def test_resume_notes_what_it_does(cli, bank):
    first = cli(*_fake("-r", "--display", "plain"))
    assert first.exit_code == 0 and "no earlier run under outputs/default: starting a new one" in first.stderr
    again = cli(*_fake("-r", "--display", "plain"))
    assert again.exit_code == 0
    assert "loading model" not in again.stderr  # everything is done: the model is not even loaded
    assert "10/10 done" in again.stderr
    longer = cli(*_fake("-r", "--display", "plain", "--max-out-len", "9"))
    assert longer.exit_code == 0
    assert "earlier predictions were made with other data, prompts or settings: inferring again" in longer.stderr


def test_key_value_lists_stop_at_a_word_that_is_not_a_pair():
    assert expand_args(["--tokenizer-kwargs", "a=b", "run.py", "-r"]) == [
        "--tokenizer-kwargs", "a=b", "run.py", "-r", "latest"]
    assert expand_args(["--model-kwargs", "novalue"]) == ["--model-kwargs", "novalue"]  # still reported as bad


def test_ctrl_c_says_once_how_to_resume_and_exits_130(cli, bank, monkeypatch):
    import toolkit.engine.run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(toolkit.engine.run, "run_eval", interrupted)
    result = cli(*_fake())
    assert result.exit_code == 130
    assert result.stderr == "interrupted: every finished batch is saved; resume with the same command plus -r\n"
