"""``toolkit eval``'s backend flags: --backend vllm / -a vllm without vLLM, and the API flags' errors."""

from __future__ import annotations

import pytest
from engine_data import seed_rows, write_configs, write_dataset


@pytest.fixture
def configs(tmp_path, seed_raw):
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    write_configs(tmp_path / "configs", data)
    return tmp_path / "configs"


@pytest.mark.parametrize("flags", [["--backend", "vllm"], ["-a", "vllm"], ["--accelerator", "vllm"]])
def test_vllm_without_vllm_is_one_line_saying_what_to_install(cli, configs, tiny_model_dir, tmp_path, flags,
                                                              monkeypatch):
    monkeypatch.delenv("TOOLKIT_VLLM_PYTHON", raising=False)
    result = cli("eval", "--datasets", "seed_gen", "--config-dir", configs, "--hf-path", tiny_model_dir,
                 "-w", tmp_path / "out", *flags)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "needs vLLM" in line and 'pip install -e ".[vllm]"' in line
    assert not (tmp_path / "out").exists()


def test_vllm_python_that_lacks_vllm(cli, configs, tiny_model_dir, tmp_path):
    import sys

    result = cli("eval", "--datasets", "seed_gen", "--config-dir", configs, "--hf-path", tiny_model_dir,
                 "--backend", "vllm", "--vllm-python", sys.executable, "-w", tmp_path / "out")
    assert result.exit_code == 2 and "needs vLLM" in result.stderr


@pytest.mark.parametrize(("flags", "message"), [
    (["-a", "lmdeploy", "--hf-path", "m"], "-a/--accelerator lmdeploy is not supported"),
    (["--api-model", "m"], "--api-model needs --api-base URL"),
    (["--hf-path", "m", "--api-base", "http://127.0.0.1:9/v1"], "--api-base needs --api-model NAME"),
    (["--hf-path", "m", "--qps", "2"], "--qps needs --api-model NAME"),
    (["--api-base", "127.0.0.1:9", "--api-model", "m"], "is not an http(s) URL"),
    (["--hf-path", "m", "--backend", "api"], "--backend api is chosen by --api-base"),
])
def test_api_and_backend_flag_errors(cli, configs, tmp_path, flags, message):
    result = cli("eval", "--datasets", "seed_gen", "--config-dir", configs, "-w", tmp_path / "out", *flags)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_several_api_models_are_several_models(cli, configs, tmp_path):
    result = cli("eval", "--datasets", "seed_gen", "--config-dir", configs, "--api-base", "http://127.0.0.1:9/v1",
                 "--api-model", "org/model-a", "model-b", "--dry-run", "-w", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "org_model-a-0" in result.stdout and "model-b-0" in result.stdout


@pytest.fixture
def vllm_on_path(tmp_path, monkeypatch):
    """A ``vllm`` package this Python finds (never imported: the hint only looks for it)."""
    (tmp_path / "site" / "vllm").mkdir(parents=True)
    (tmp_path / "site" / "vllm" / "__init__.py").write_text("raise ImportError('not to be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))


@pytest.mark.parametrize(("crossover", "backend", "installed", "hinted"), [
    (5, "hf", True, True),  # 20 questions ≥ 3 × 5: far past the crossover
    (10, "hf", True, False),  # 20 < 3 × 10: not far enough
    (5, "hf", False, False),  # vLLM not installed
    (5, "fake", True, False),  # not the HF backend
])
def test_hf_runs_far_past_the_vllm_crossover_get_one_hint_line(cli, configs, tiny_model_dir, tmp_path, monkeypatch,
                                                                request, crossover, backend, installed, hinted):
    import toolkit.engine.backend_checks as checks

    monkeypatch.setattr(checks, "VLLM_CROSSOVER", crossover)
    monkeypatch.delenv("TOOLKIT_VLLM_PYTHON", raising=False)
    if installed:
        request.getfixturevalue("vllm_on_path")
    result = cli("eval", "--datasets", "seed_gen", "--config-dir", configs, "--hf-path", tiny_model_dir,
                 "--backend", backend, "--dry-run", "--display", "plain", "-w", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "--backend vllm" in line]
    assert len(lines) == (1 if hinted else 0), result.stderr
    if hinted:
        assert lines[0].startswith("hint: 20 questions per model") and f"about {crossover} questions" in lines[0]


def test_the_crossover_is_the_benchs_measurement():
    """VLLM_CROSSOVER is what bench/api_bench.py measured (its largest finite crossover), not a guess."""
    import json
    from pathlib import Path

    from toolkit.engine.backend_checks import VLLM_CROSSOVER

    results = Path(__file__).resolve().parents[2] / "bench" / "results" / "api_bench.json"
    crossover = json.loads(results.read_text(encoding="utf-8"))["crossover"]
    measured = [c["crossover_questions"] for c in crossover.values() if c["crossover_questions"] is not None]
    assert VLLM_CROSSOVER == max(measured)
