"""``--mode viz -r TS`` renders from the run's own results and leaves its facts alone (issue 10, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset

RUN = ["eval", "--datasets", "seed_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
       "--display", "none", "--max-out-len", "16", "--batch-size", "2"]


@pytest.fixture
def run(cli, tmp_path: Path, seed_raw: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A finished run of two datasets; the CWD is its work folder's parent."""
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    write_configs(tmp_path / "configs", data)
    monkeypatch.chdir(tmp_path)
    result = cli(*RUN)
    assert result.exit_code == 0, result.stderr
    return next((tmp_path / "outputs" / "default").iterdir())


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _without_renders(manifest: dict) -> dict:
    return {k: v for k, v in manifest.items() if k != "renders"}


def test_viz_needs_nothing_but_the_run_and_changes_none_of_its_facts(cli, run):
    before = _json(run / "manifest.json")
    run_json = (run / "configs" / "run.json").read_bytes()
    summary = (run / "summary" / f"summary_{run.name}.txt").read_text(encoding="utf-8")
    result = cli("eval", "--mode", "viz", "-r", run.name, "--display", "none")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == summary  # the same table, from the run's results
    after = _json(run / "manifest.json")
    assert _without_renders(after) == before
    (entry,) = after["renders"]
    assert entry["subset"] is False and entry["summary"] == f"summary/summary_{run.name}"
    assert entry["datasets"] == ["seed-values", "seed-values_copy"] and entry["models"] == ["fake-model"]
    assert (run / "configs" / "run.json").read_bytes() == run_json
    assert "subset" not in result.stderr


def test_viz_with_other_flags_records_none_of_them(cli, run):
    before = _json(run / "manifest.json")
    result = cli(*[a for a in RUN if a not in ("16", "2", "--max-out-len", "--batch-size")], "--mode", "viz", "-r")
    assert result.exit_code == 0, result.stderr
    after = _json(run / "manifest.json")
    assert _without_renders(after) == before
    assert after["models"][0]["max_out_len"] == 16 and after["models"][0]["batch_size"] == 2
    assert after["timings"] == before["timings"] and after["timings"]["infer_seconds"] > 0


def test_a_narrower_abbr_renders_a_subset_and_says_so(cli, run):
    whole = {p.name: p.read_bytes() for p in (run / "summary").iterdir()}
    result = cli("eval", "--mode", "viz", "-r", run.name, "--abbr", "seed-values", "--display", "none")
    assert result.exit_code == 0, result.stderr
    assert f"rendering a subset of run {run.name}: 1 of 2 datasets, 1 of 1 models" in result.stderr
    assert "seed-values_copy" not in result.stdout
    assert f"a subset of run {run.name}: 1 of 2 datasets" in result.stdout  # the note under the table
    for name, data in whole.items():  # the run's own summary stays whole
        assert (run / "summary" / name).read_bytes() == data
    new = sorted(set(p.name for p in (run / "summary").iterdir()) - set(whole))
    assert len(new) == 4 and all(n.startswith("summary_") for n in new)
    html = next((run / "summary").glob(f"{Path(new[0]).stem}.html")).read_text(encoding="utf-8")
    assert f"a subset of run {run.name}" in html
    entry = _json(run / "manifest.json")["renders"][-1]
    assert entry["subset"] is True and entry["datasets"] == ["seed-values"]
    assert entry["summary"] == f"summary/{Path(new[0]).stem}"


def test_viz_refuses_what_the_run_does_not_hold(cli, run):
    other_model = cli("eval", "--mode", "viz", "-r", run.name, "--hf-path", "other", "--display", "none")
    assert other_model.exit_code == 2 and f"model other not in run {run.name}" in other_model.stderr
    no_match = cli("eval", "--mode", "viz", "-r", run.name, "--abbr", "nothing*", "--display", "none")
    assert no_match.exit_code == 2 and "matches no dataset" in no_match.stderr


def test_viz_of_a_run_without_results_says_how_to_score_it(cli, run):
    for path in (run / "results").rglob("*.json"):
        path.unlink()
    result = cli("eval", "--mode", "viz", "-r", run.name, "--display", "none")
    assert result.exit_code == 2 and "has no results to render" in result.stderr and "--mode eval" in result.stderr


def test_a_later_eval_keeps_the_facts_it_did_not_redo(cli, run):
    before = _json(run / "manifest.json")
    assert cli("eval", "--mode", "viz", "-r", run.name, "--display", "none").exit_code == 0
    result = cli(*RUN, "--mode", "eval", "-r", run.name)
    assert result.exit_code == 0, result.stderr
    after = _json(run / "manifest.json")
    assert after["timings"]["infer_seconds"] == before["timings"]["infer_seconds"]  # nothing was inferred again
    assert after["models"][0]["loaded"] == before["models"][0]["loaded"] != {}
    assert len(after["renders"]) == 1


def test_viz_refuses_while_another_process_holds_the_run(cli, run):
    """A render appends to the manifest and writes the summary: it takes the run folder's lock like eval."""
    import subprocess
    import sys

    hold = ("import sys, time; from pathlib import Path; from toolkit.engine.rundir.runlock import RunLock;"
            "RunLock(Path(sys.argv[1]), command='toolkit eval -r (first)').acquire(); print('held', flush=True);"
            "time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", hold, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        before = (run / "manifest.json").read_bytes()
        result = cli("eval", "--mode", "viz", "-r", run.name, "--display", "none")
        assert result.exit_code == 1 and f"in use by process {proc.pid}" in result.stderr
        assert (run / "manifest.json").read_bytes() == before
    finally:
        proc.kill()
        proc.wait()
