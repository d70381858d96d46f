"""``toolkit eval --circular`` and ``gen-config --circular`` through Typer's CliRunner: the tiny model end to end,
the summary in every format and in ``--json``, the per-question view, viz, analyze and compare."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "chinese_core_socialist_values"


def _fake(*extra: str) -> list[str]:
    return ["eval", "--datasets", "seed_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
            "--display", "none", *extra]


def _run_dir(bank: Path) -> Path:
    return max((bank / "outputs" / "default").iterdir())


def _questions(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="questions-data">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_the_tiny_model_circular_end_to_end(cli, bank, tiny_model_dir):
    result = cli("eval", "--datasets", "seed_gen", "--abbr", "seed-values", "--hf-path", tiny_model_dir, "--hf-type",
                 "base", "--max-out-len", "4", "--num-gpus", "0", "--display", "none", "--circular", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    record = body["results"][0]
    assert record["metric"] == "perf_circular" and record["status"] == "ok"
    assert record["circular"]["variants"] == 4 and record["counts"]["total"] == 10
    rows = {(r["dataset"], r["metric"]): r for r in body["summary"]}
    model = Path(tiny_model_dir).name
    for metric in ("perf_circular", "acc_circular", "acc_origin", "more_1_circular", "prior_A", "prior_D"):
        assert rows["seed-values", metric]["models"][model]["status"] == "ok"
    assert rows["seed", "acc_circular"]["kind"] == "group" and rows["seed", "naive_average"]["n"] == 10
    assert rows["seed-values", "perf_circular"]["models"][model]["ci_method"] == "wilson"
    assert rows["seed-values", "prior_A"]["models"][model]["ci_low"] is None
    run = _run_dir(bank)
    predictions = json.loads((run / "predictions" / model / "seed-values.json").read_text(encoding="utf-8"))
    assert len(predictions) == 40 and predictions["5"]["circular_pattern"] == "BCDA" and predictions["5"]["qid"] == 1
    files = {kind: Path(path) for kind, path in body["summary_files"].items()}
    for kind in ("txt", "csv", "md"):
        text = files[kind].read_text(encoding="utf-8")
        assert "perf_circular" in text and "prior_B" in text and "more_3_circular" in text, kind
    html = files["html"].read_text(encoding="utf-8")
    assert "letters answered" in html and "right in every rotation" in html and 'class="subject detail"' in html
    payload = _questions(html)
    assert payload["circular"] is True and payload["subjects"][0]["circular"] is True
    first = payload["rows"][0]
    answer = first[6][0]
    assert len(first[4]) == 4 and len(answer) == 4 and [v[0] for v in answer[3]] == ["ABCD", "BCDA", "CDAB", "DABC"]
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["datasets"][0]["rows"] == 40


def test_all_perm_and_the_value_check(cli, bank):
    result = cli(*_fake("--circular", "all-perm", "--abbr", "seed-values"))
    assert result.exit_code == 0, result.stderr
    assert "perf_all_possible" in result.stdout and "acc_all_possible" in result.stdout
    bad = cli(*_fake("--circular=sideways"))
    assert bad.exit_code == 2 and "sideways" in bad.stderr
    assert "--circular" in cli("eval", "--help").stdout


def test_viz_renders_a_circular_run_again_and_resume_reuses_it(cli, bank):
    assert cli(*_fake("--circular")).exit_code == 0
    stamp = _run_dir(bank).name
    viz = cli("eval", "--mode", "viz", "-r", stamp, "--display", "none")
    assert viz.exit_code == 0, viz.stderr
    assert "acc_circular" in viz.stdout and "prior_C" in viz.stdout
    again = cli(*_fake("--circular", "-r"))
    assert again.exit_code == 0 and "inferring again" not in again.stderr
    plain = cli(*_fake("-r"))  # the same run without --circular: plain predictions, the circular ones set aside
    assert plain.exit_code == 0 and "inferring again" in plain.stderr and "perf_circular" not in plain.stdout


def test_analyze_and_compare_circular_runs(cli, bank):
    assert cli(*_fake("--circular"), "--hf-path", "other-model").exit_code == 0
    circular_run = _run_dir(bank)
    analyzed = cli("analyze", str(circular_run), "--json")
    assert analyzed.exit_code == 0, analyzed.stderr
    compared = cli("compare", str(circular_run))
    assert compared.exit_code == 0, compared.stderr
    assert "perf_circular" in compared.stdout
    assert cli(*_fake()).exit_code == 0
    mixed = cli("compare", str(circular_run), str(_run_dir(bank)))
    assert mixed.exit_code == 0, mixed.stderr
    assert "the comparison sets plain accuracy against perf_circular" in mixed.stdout


def test_gen_config_circular_then_eval(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLE, tmp_path / "data" / "bank")
    assert cli("validate", "data/bank", "--fix").exit_code in (0, 1)
    made = cli("gen-config", "data/bank", "--name", "bank", "--mode", "gen", "--circular")
    assert made.exit_code == 0, made.stderr
    assert "configs/datasets/bank/bank_circular_gen.py" in made.stdout
    assert "then bank_circular_gen in a second run" in made.stderr
    result = cli("eval", "--datasets", "bank_circular_gen", "--hf-path", "fake", "--backend", "fake", "--hf-type",
                 "base", "--display", "none", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["metric"] == "perf_circular"
    # the flag on a circular config is the same thing; another kind is an error before anything runs
    same = cli("eval", "--datasets", "bank_circular_gen", "--hf-path", "fake", "--backend", "fake", "--display", "none",
               "--circular")
    assert same.exit_code == 0, same.stderr
    other = cli("eval", "--datasets", "bank_circular_gen", "--hf-path", "fake", "--backend", "fake", "--display",
                "none", "--circular", "all-perm")
    assert other.exit_code == 2 and "already circular" in other.stderr
    allperm = cli("gen-config", "data/bank", "--name", "bank", "--mode", "ppl", "--circular", "all-perm", "--json")
    assert allperm.exit_code == 0
    names = [Path(f["file"]).name for f in json.loads(allperm.stdout)["files"]]
    assert "bank_allperm_ppl.py" in names
