"""Truncation is never silent: results, manifest, the notes under the summary and one stderr line (issue 10, item 4)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw), val_copies=1)
    write_configs(tmp_path / "configs", data)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _eval(cli, model_dir: Path, *extra: str):
    return cli("eval", "--datasets", "seed_gen", "--hf-path", str(model_dir), "--hf-type", "base", "--num-gpus", "0",
               "--max-out-len", "2", "--model-abbr", "tiny", "--abbr", "seed-values", "--display", "none", *extra)


def _lengths(run: Path) -> list[int]:
    preds = json.loads((run / "predictions" / "tiny" / "seed-values.json").read_text(encoding="utf-8"))
    return [r["prompt_tokens"] for r in preds.values()]


def test_dropped_examples_are_counted_everywhere(cli, bank, tiny_model_dir):
    full = _eval(cli, tiny_model_dir)
    assert full.exit_code == 0, full.stderr
    assert "truncation" not in full.stderr and "in-context examples" not in full.stdout
    first = next((bank / "outputs" / "default").iterdir())
    lengths = sorted(_lengths(first))
    limit = lengths[len(lengths) // 2]  # about half the 5-shot prompts are longer than this
    result = _eval(cli, tiny_model_dir, "--max-seq-len", str(limit))
    assert result.exit_code == 0, result.stderr
    run = max((bank / "outputs" / "default").iterdir())
    preds = json.loads((run / "predictions" / "tiny" / "seed-values.json").read_text(encoding="utf-8"))
    dropped = Counter(r.get("dropped_examples", 0) for r in preds.values())
    dropped.pop(0, None)
    n = sum(dropped.values())
    assert 0 < n < len(preds)  # some prompts lost an example, some did not
    expected = {"max_seq_len": limit, "shots": 5, "prompts_dropping_examples": n,
                "examples_dropped": sum(k * v for k, v in dropped.items()),
                "dropped_per_prompt": {str(k): v for k, v in sorted(dropped.items())}, "over_length": 0}
    result_file = json.loads((run / "results" / "tiny" / "seed-values.json").read_text(encoding="utf-8"))
    assert result_file["truncation"] == expected
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["results"][0]["truncation"] == expected
    note = f"seed-values (tiny): to fit max_seq_len {limit}, {n} of 5 prompts dropped in-context examples"
    assert note in result.stdout
    for fmt in ("txt", "md", "html"):
        assert note in (run / "summary" / f"summary_{run.name}.{fmt}").read_text(encoding="utf-8"), fmt
    lines = [line for line in result.stderr.splitlines() if line.startswith("truncation:")]
    assert lines == [f"truncation: max_seq_len dropped in-context examples from {n} of 5 prompts "
                     f"({expected['examples_dropped']} examples, 1 of 1 datasets); 0 prompts over length even "
                     "without examples (see the notes under the summary)"]
    assert result.stderr.rstrip().endswith(lines[0])  # the run's last line


def test_prompts_over_length_even_without_examples_are_counted(cli, bank, tiny_model_dir):
    result = _eval(cli, tiny_model_dir, "--max-seq-len", "20")
    assert result.exit_code == 0, result.stderr
    run = next((bank / "outputs" / "default").iterdir())
    truncation = json.loads((run / "results" / "tiny" / "seed-values.json").read_text(encoding="utf-8"))["truncation"]
    assert truncation["over_length"] == 5 and truncation["dropped_per_prompt"] == {"5": 5}
    assert "seed-values (tiny): 5 prompts exceed max_seq_len 20 even without examples; kept whole" in result.stdout
    assert "5 prompts over length" in result.stderr


def test_resumed_runs_count_what_the_earlier_invocation_dropped(cli, bank, tiny_model_dir):
    assert _eval(cli, tiny_model_dir, "--max-seq-len", "20").exit_code == 0
    again = _eval(cli, tiny_model_dir, "--max-seq-len", "20", "-r")  # nothing left to infer
    assert again.exit_code == 0 and "5 prompts over length" in again.stderr


def test_docstring_examples_run():
    import doctest

    import toolkit.engine.scoring.truncation as module

    assert doctest.testmod(module).failed == 0
