"""Worker processes: several at once, each with its own GPUs, tasks runnable alone from their files."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset

from toolkit.cli.progress import PlainDisplay
from toolkit.config.loader import load_config
from toolkit.config.spec import ModelSpec
from toolkit.engine import EvalRunSpec, run_eval
from toolkit.engine.params import InferParams
from toolkit.engine.planning.partitioner import PlannedDataset, partition
from toolkit.engine.runners.local import LocalRunner
from toolkit.engine.tasks.infer_task import read_task, write_task


@pytest.fixture
def spec(tmp_path: Path, seed_raw: Path) -> EvalRunSpec:
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw), val_copies=8)
    cfg = write_configs(tmp_path / "configs", data)["gen"]
    model = ModelSpec(abbr="fake", path="fake", hf_type="base", max_out_len=8, batch_size=4)
    return EvalRunSpec(datasets=load_config(cfg).datasets, models=(model,), work_dir=str(tmp_path / "out"),
                       backend="fake", max_workers=2)


def test_two_worker_processes_share_the_work_and_finish_every_question(spec, capsys):
    out = run_eval(spec, display=PlainDisplay())
    assert [t.task_id for t in out.tasks] == ["fake-0", "fake-1"]
    assert {r.status for r in out.records} == {"ok"}
    for abbr in ("seed-values", "seed-values_copy"):
        preds = json.loads((out.run_dir / "predictions" / "fake" / f"{abbr}.json").read_text(encoding="utf-8"))
        assert sorted(map(int, preds)) == list(range(40))
    logs = list((out.run_dir / "logs" / "infer" / "fake").glob("*.out"))
    assert len(logs) == 2
    assert "finished" in capsys.readouterr().err


def test_each_worker_gets_its_own_gpus(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3,4")
    runner = LocalRunner(PlainDisplay(), max_workers=4, gpus_per_worker=2)
    assert runner._slots() == ["0,1", "2,3"]  # a fifth GPU alone cannot host a 2-GPU worker
    assert runner.worker_env("2,3", None)["CUDA_VISIBLE_DEVICES"] == "2,3"
    cpu = LocalRunner(PlainDisplay(), max_workers=2, gpus_per_worker=0)
    assert cpu._slots() == ["", ""] and cpu.worker_env("", 1)["OMP_NUM_THREADS"]


def test_size_aware_partition_splits_a_large_dataset_so_workers_finish_together(spec):
    big, small = spec.datasets
    planned = [PlannedDataset(big, "/d", 400), PlannedDataset(small, "/d", 40)]
    tasks = partition(spec.models, planned, run_dir="/r", params=InferParams(), workers=4)
    loads = [sum(((i.stop or 40) - i.start) for i in t.items) for t in tasks]
    assert len(tasks) == 4 and max(loads) - min(loads) <= 40
    covered = sorted((i.start, i.stop) for t in tasks for i in t.items if i.dataset.abbr == big.abbr)
    assert covered[0][0] == 0 and covered[-1][1] == 400
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))  # contiguous slices, nothing twice
    assert partition(spec.models, planned, run_dir="/r", params=InferParams(), workers=4) == tasks  # deterministic


def test_a_task_file_runs_on_its_own(spec, tmp_path):
    dry = run_eval(replace(spec, max_workers=1, dry_run=True))
    task = replace(dry.tasks[0], run_dir=str(tmp_path / "run"))
    path = tmp_path / "task.json"
    write_task(path, task)
    assert read_task(path) == task
    proc = subprocess.run([sys.executable, "-m", "toolkit.engine.worker", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line.split(" ", 1)[1]) for line in proc.stdout.splitlines() if line.startswith("@@toolkit ")]
    assert [e["event"] for e in events if e["event"] in ("start", "finish")] == ["start", "finish", "start", "finish"]
    pred_dir = tmp_path / "run" / "predictions" / "fake"
    assert not list((pred_dir / ".partial").glob("*.jsonl"))  # complete: merged into OpenCompass's files
    for abbr in ("seed-values", "seed-values_copy"):
        preds = json.loads((pred_dir / f"{abbr}.json").read_text(encoding="utf-8"))
        assert sorted(map(int, preds)) == list(range(40)) and {"origin_prompt", "prediction", "gold"} <= set(preds["0"])


def test_a_task_file_from_a_run_works_from_any_folder_and_its_eval_task_too(spec, tmp_path):
    """What a cluster runner relies on: absolute paths in task files, and scoring as a task of its own."""
    out = run_eval(spec, display=PlainDisplay())
    tasks = sorted(p.name for p in (out.run_dir / "tasks").glob("*.json"))
    assert tasks == ["eval-fake.json", "fake-0.json", "fake-1.json"]
    infer = read_task(out.run_dir / "tasks" / "fake-0.json")
    assert Path(infer.run_dir).is_absolute() and all(Path(i.data_dir).is_absolute() for i in infer.items)
    expected = {p.name: p.read_text(encoding="utf-8") for p in (out.run_dir / "results" / "fake").glob("*.json")}
    for p in (out.run_dir / "results" / "fake").glob("*.json"):
        p.unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([sys.executable, "-m", "toolkit.engine.worker", str(out.run_dir.resolve() / "tasks" / "eval-fake.json")],
                          capture_output=True, text=True, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line.split(" ", 1)[1]) for line in proc.stdout.splitlines() if line.startswith("@@toolkit ")]
    assert [(e["event"], e["abbr"], e["status"]) for e in events] == [("scored", "seed-values", "ok"),
                                                                       ("scored", "seed-values_copy", "ok")]
    again = {p.name: p.read_text(encoding="utf-8") for p in (out.run_dir / "results" / "fake").glob("*.json")}
    assert again.keys() == expected.keys()
    for name in expected:  # the same scores (timings aside)
        a, b = json.loads(expected[name]), json.loads(again[name])
        a.pop("timings"), b.pop("timings")
        assert a == b
    assert not list(elsewhere.iterdir())  # nothing written relative to the working folder
    log = (out.run_dir / "logs" / "eval" / "fake" / "eval-fake.out").read_text(encoding="utf-8")
    assert "[fake] seed-values: scored ok" in log
