"""``toolkit eval`` shows n and 95% intervals wherever it shows a score: stdout, the files, --json."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

ARGS = ("eval", "--datasets", "seed_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
        "--display", "none")


def test_stdout_and_files_carry_n_and_the_interval(cli, bank: Path) -> None:
    result = cli(*ARGS)
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["dataset", "version", "metric", "mode", "fake-model", "n", "ci_low", "ci_high"]
    assert "95% interval" in result.stdout
    run = next((bank / "outputs" / "default").iterdir())
    rows = list(csv.reader(io.StringIO((run / "summary" / f"summary_{run.name}.csv").read_text(encoding="utf-8"))))
    assert rows[0][4:] == ["fake-model", "n", "ci_low", "ci_high"]
    values = {r[0]: r for r in rows[1:] if r[2] == "accuracy"}
    assert values["seed-values"][5] == "10"  # 10 questions in the val split
    low, value, high = float(values["seed-values"][6]), float(values["seed-values"][4]), float(values["seed-values"][7])
    assert low <= value <= high


def test_json_summary_has_n_and_the_interval(cli, bank: Path) -> None:
    result = cli(*ARGS, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    subject = next(r for r in summary if r["dataset"] == "seed-values")
    cell = subject["models"]["fake-model"]
    assert subject["n"] == 10 and cell["n"] == 10 and cell["ci_method"] == "wilson"
    assert cell["ci_low"] <= cell["value"] <= cell["ci_high"]
    naive = next(r for r in summary if r["dataset"] == "seed" and r["metric"] == "naive_average")
    assert naive["models"]["fake-model"]["ci_method"] == "bootstrap"
