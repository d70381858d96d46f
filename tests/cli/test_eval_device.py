"""--num-gpus without CUDA: said once on stderr, and the run records what it used (issue 10, item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset

import toolkit.engine.devices as devices


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw), val_copies=1)
    write_configs(tmp_path / "configs", data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(devices, "cuda_status", lambda: (False, "9.9.9"))  # the same on a GPU machine
    return tmp_path


def _run(cli, model_dir: Path, *extra: str):
    return cli("eval", "--datasets", "seed_ppl", "--hf-path", str(model_dir), "--hf-type", "base",
               "--batch-size", "4", "--model-abbr", "tiny", "--abbr", "seed-values", *extra)


@pytest.mark.parametrize("display", ["plain", "none"])
def test_default_num_gpus_without_cuda_is_said_once_and_recorded(cli, bank, tiny_model_dir, display):
    result = _run(cli, tiny_model_dir, "--display", display)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("--num-gpus 1 asks for GPUs, but torch 9.9.9 sees no CUDA device: running on the CPU") == 1
    run = next((bank / "outputs" / "default").iterdir())
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["device"]["used"] == "cpu"
    assert manifest["device"]["requested"] == {"device": None, "num_gpus": {"tiny": 1}}
    assert "running on the CPU" in manifest["device"]["note"]
    (model,) = manifest["models"]
    assert model["num_gpus"] == 0 and model["loaded"]["device"] == "cpu"
    assert json.loads((run / "configs" / "run.json").read_text(encoding="utf-8"))["device"] == "cpu"
    html = (run / "summary" / f"summary_{run.name}.html").read_text(encoding="utf-8")
    assert "<th>device</th>" in html and "sees no CUDA device: running on the CPU" in html


def test_num_gpus_zero_says_nothing(cli, bank, tiny_model_dir):
    result = _run(cli, tiny_model_dir, "--num-gpus", "0", "--display", "plain")
    assert result.exit_code == 0, result.stderr
    assert "CUDA" not in result.stderr
    run = next((bank / "outputs" / "default").iterdir())
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["device"] == {"used": "cpu", "requested": {"device": None, "num_gpus": {"tiny": 0}}}


def test_device_cuda_without_cuda_is_a_usage_error_before_anything_is_written(cli, bank, tiny_model_dir):
    result = _run(cli, tiny_model_dir, "--device", "cuda", "--display", "none")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --device cuda, but torch 9.9.9 sees no CUDA device")
    assert not (bank / "outputs").exists()
