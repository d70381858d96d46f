"""The run-folder reader: what the engine wrote, and the questions behind it (data file, else snapshot)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from toolkit.analysis.runs import load_run, resolve_run_path
from toolkit.analysis.snapshot import snapshot_path
from toolkit.errors import UsageError


def test_a_run_is_read_whole(scripted_runs) -> None:
    run = load_run(scripted_runs["three"])
    assert run.models == ("alpha", "beta", "gamma")
    assert [d.abbr for d in run.datasets] == ["bank-algebra", "bank-history"]
    algebra = run.dataset("bank-algebra")
    assert algebra.split == "val" and algebra.letters == ("A", "B", "C", "D") and algebra.text_source == "data"
    rows = scripted_runs["rows"]["algebra"]
    first = algebra.questions[0]
    assert (first.id, first.text, first.gold) == (rows[0][0], rows[0][1], rows[0][6])
    assert first.options == tuple(zip("ABCD", rows[0][2:6]))
    answers = run.answers["beta", "bank-algebra"]
    result = json.loads((run.path / "results" / "beta" / "bank-algebra.json").read_text(encoding="utf-8"))
    assert [a.prediction for a in answers] == [d["prediction"] for d in result["details"]]
    assert [a.correct for a in answers] == [d["correct"] for d in result["details"]]
    assert answers[0].raw == f"\n{answers[0].prediction}\n"  # the scripted model's raw output, from predictions/
    assert {g["name"] for g in run.groups} == {"bank-stem", "bank-humanities", "bank"}


def test_a_work_dir_means_its_newest_run(scripted_runs) -> None:
    newest = sorted(p for p in (scripted_runs["root"] / "outputs").iterdir())[-1]
    assert resolve_run_path(scripted_runs["root"] / "outputs") == newest
    with pytest.raises(UsageError, match="no manifest.json"):
        resolve_run_path(scripted_runs["root"] / "data")
    with pytest.raises(UsageError, match="no such folder"):
        resolve_run_path(scripted_runs["root"] / "nothing-here")


def test_questions_survive_an_edited_bank_through_the_snapshot(scripted_runs, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(scripted_runs["three"], run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    data = tmp_path / "bank"
    shutil.copytree(Path(manifest["datasets"][0]["data_dir"]), data)
    for d in manifest["datasets"]:  # point the copy's manifest at a copy of the bank we may edit
        for f in d["files"].values():
            f["path"] = str(data / Path(f["path"]).relative_to(d["data_dir"]))
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert snapshot_path(run_dir, "bank-algebra").is_file()  # kept by the report step
    val = data / "val" / "algebra_val.csv"
    val.write_text(val.read_text(encoding="utf-8").replace("以下哪一项", "哪一项"), encoding="utf-8")
    ds = load_run(run_dir).dataset("bank-algebra")
    assert ds.text_source == "snapshot" and ds.questions[0].text == scripted_runs["rows"]["algebra"][0][1]
    snapshot_path(run_dir, "bank-algebra").unlink()
    ds = load_run(run_dir).dataset("bank-algebra")
    assert ds.text_source == "none" and ds.questions[0].text is None and "has changed since the run" in ds.note
    assert ds.questions[0].gold == scripted_runs["rows"]["algebra"][0][6]  # the key is still known (results)


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a run folder"):
        load_run(tmp_path)
