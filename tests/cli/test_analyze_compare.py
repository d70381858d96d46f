"""``toolkit analyze`` and ``toolkit compare`` through Typer's CliRunner: outputs, streams, exit codes."""

from __future__ import annotations

import json
from pathlib import Path


def test_analyze_prints_the_audit_on_stdout(cli, scripted_runs) -> None:
    result = cli("analyze", scripted_runs["three"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("Models (3), accuracy over the 55 scored questions: alpha")
    for heading in ("Check the answer key:", "Items to review (besides the key flags above):", "Position bias:"):
        assert heading in out
    assert result.stderr == ""


def test_analyze_json_is_everything_and_nothing_else(cli, scripted_runs) -> None:
    result = cli("analyze", scripted_runs["three"], "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [m["label"] for m in data["models"]] == ["alpha", "beta", "gamma"]
    assert len(data["items"]) == 55 and {"difficulty", "discrimination", "choices"} <= set(data["items"][0])
    assert [b["letter"] for b in data["position_bias"]] == ["A", "B", "C", "D"]


def test_analyze_a_work_dir_and_write_html(cli, scripted_runs, tmp_path: Path) -> None:
    page = tmp_path / "items.html"
    result = cli("analyze", scripted_runs["root"] / "outputs", "--html", page, "--top", "3")
    assert result.exit_code == 0, result.stderr
    assert "using its newest run" in result.stderr and f"html: {page}" in result.stderr
    html = page.read_text(encoding="utf-8")
    assert "Item analysis" in html and 'id="questions-data"' in html
    assert "… and" in result.stdout  # --top 3 cut the lists


def test_analyze_one_model_explains_what_it_cannot_do(cli, scripted_runs) -> None:
    result = cli("analyze", scripted_runs["edited"])
    assert result.exit_code == 0
    assert "need at least 2 models; these runs have 1" in result.stdout and "Position bias" in result.stdout


def test_analyze_errors(cli, tmp_path: Path) -> None:
    missing = cli("analyze", tmp_path / "nope")
    assert missing.exit_code == 2 and "error:" in missing.stderr and "no such folder" in missing.stderr
    assert missing.stdout == ""
    assert cli("analyze").exit_code == 2  # a run is required


def test_compare_two_runs(cli, scripted_runs) -> None:
    result = cli("compare", scripted_runs["three"], scripted_runs["second"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Models: baseline alpha@")
    assert any(line.startswith("bank-algebra") and "accuracy" in line for line in lines)
    assert any(line.startswith("overall") for line in lines) and "exact McNemar" in result.stdout


def test_compare_refuses_different_data_with_the_reason(cli, scripted_runs) -> None:
    result = cli("compare", scripted_runs["three"], scripted_runs["edited"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "different data" in result.stderr and "bank-algebra: the val file differs" in result.stderr
    assert "--allow-different-data" in result.stderr


def test_compare_allowed_different_data_reports_what_was_dropped(cli, scripted_runs, tmp_path: Path) -> None:
    page = tmp_path / "cmp.html"
    result = cli("compare", scripted_runs["three"], scripted_runs["edited"], "--allow-different-data", "--json",
                 "--html", page)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert any("paired by id" in n and "1 only in the first run" in n for n in data["notes"])
    algebra = next(r for r in data["rows"] if r["name"] == "bank-algebra")
    assert algebra["n"] == 29  # 30 questions, one removed in the edited bank
    assert page.is_file() and "Comparison" in page.read_text(encoding="utf-8")


def test_compare_usage_errors(cli, scripted_runs) -> None:
    alone = cli("compare", scripted_runs["edited"])
    assert alone.exit_code == 2 and "at least two models" in alone.stderr
    unknown = cli("compare", scripted_runs["three"], "--baseline", "nobody")
    assert unknown.exit_code == 2 and "no model 'nobody'" in unknown.stderr
    bad_alpha = cli("compare", scripted_runs["three"], "--alpha", "2")
    assert bad_alpha.exit_code == 2


def test_analyze_and_compare_stay_light(scripted_runs) -> None:
    """Reading runs needs neither torch, transformers, pandas nor numpy (or scipy, a dev extra only)."""
    import subprocess
    import sys

    run = str(scripted_runs["three"])
    code = ("import sys; from typer.testing import CliRunner; from toolkit.cli.main import app;"
            f"assert CliRunner().invoke(app, ['analyze', {run!r}]).exit_code == 0;"
            f"assert CliRunner().invoke(app, ['compare', {run!r}]).exit_code == 0;"
            "heavy = [m for m in ('torch', 'transformers', 'pandas', 'numpy', 'scipy') if m in sys.modules];"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
