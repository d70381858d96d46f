"""The issue's "done when": the demo model and a copy of it under another name, evaluated together from
the README's commands, then ``toolkit analyze``, ``toolkit compare`` and the report in a real browser (slow)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_browser import OVERFLOW, _keys, _scores_match_the_csv, _set

pytestmark = pytest.mark.slow


def test_two_copies_of_the_demo_model(cli, seed_raw: Path, demo_model_dir: Path, chromium, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "SmolLM2-copy"
    os.symlink(demo_model_dir, copy, target_is_directory=True)  # the same weights under another name
    for step in (("new-dataset", "chinese_core_socialist_values", "--from", seed_raw),
                 ("validate", "data/chinese_core_socialist_values", "--fix"),
                 ("gen-config", "data/chinese_core_socialist_values")):
        assert cli(*step).exit_code == 0
    run = cli("eval", "--datasets", "chinese_core_socialist_values_gen", "--hf-type", "base", "--hf-path",
              demo_model_dir, copy, "--max-seq-len", "2048", "--max-out-len", "16", "--num-gpus", "0",
              "-w", "outputs/two", "--display", "none", "--json")
    assert run.exit_code == 0, run.stderr
    body = json.loads(run.stdout)
    run_dir = Path(body["run_dir"]).resolve()
    cells = body["summary"][0]["models"]
    assert set(cells) == {demo_model_dir.name, "SmolLM2-copy"}
    assert cells["SmolLM2-copy"]["value"] == cells[demo_model_dir.name]["value"]  # same weights, same answers
    assert all(c["ci_low"] <= c["value"] <= c["ci_high"] for c in cells.values())

    analyze = cli("analyze", "outputs/two")
    assert analyze.exit_code == 0, analyze.stderr
    assert "Models (2)" in analyze.stdout and "answered identically on every question" in analyze.stdout
    compare = cli("compare", run_dir, "--json")
    assert compare.exit_code == 0, compare.stderr
    overall = next(r for r in json.loads(compare.stdout)["rows"] if r["name"] == "overall")
    assert overall["vs_baseline"]["SmolLM2-copy"] == {"delta": 0.0, "b": 0, "c": 0, "p": 1.0, "significant": False}

    html = run_dir / "summary" / f"summary_{run_dir.name}.html"
    for width, mobile in ((1280, False), (390, True)):
        page = chromium.open(html.as_uri(), width=width, mobile=mobile)
        try:
            assert page.remote_requests() == [] and page.evaluate(OVERFLOW) == 0
            _scores_match_the_csv(page, run_dir)
            assert len(_keys(page)) == 5
            _set(page, "q-disagree", True)
            assert _keys(page) == []  # the copy never disagrees
            assert page.evaluate("document.getElementById('items') !== null")  # two models: the item analysis
            page.screenshot(tmp_path / f"demo-two-models-{width}px.png")
        finally:
            page.close()
