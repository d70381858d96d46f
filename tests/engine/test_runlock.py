"""Issue 9 items 7 and 8: one process at a time in a run folder; debris of a killed run; no failure exits 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from engine_data import seed_rows, write_configs, write_dataset

from toolkit.config.loader import load_config
from toolkit.config.spec import ModelSpec
from toolkit.engine import EvalRunSpec, run_eval
from toolkit.engine.rundir.runlock import HELD_ENV, RunLock
from toolkit.engine.tasks.infer_task import write_task
from toolkit.engine.tasks.predictions import PartialWriter, finalize, load_done
from toolkit.errors import RunError

HOLD = """
import sys, time
from pathlib import Path
from toolkit.engine.rundir.runlock import RunLock
lock = RunLock(Path(sys.argv[1]), command="toolkit eval -r (the first one)").acquire()
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path: Path):
    """Another process holding the lock on ``tmp_path/run`` until killed."""
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc, run
    proc.kill()
    proc.wait()


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    write_configs(tmp_path / "configs", data)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _fake(*extra: str) -> list[str]:
    return ["eval", "--datasets", "seed_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
            "--display", "none", *extra]


def test_a_second_process_is_told_who_holds_the_run(holder) -> None:
    proc, run = holder
    with pytest.raises(RunError) as info:
        RunLock(run).acquire()
    message = str(info.value)
    assert f"in use by process {proc.pid} on {socket.gethostname()} since 20" in message
    assert "toolkit eval -r (the first one)" in message and str(run) in message


def test_the_lock_dies_with_its_holder_even_by_sigkill(holder) -> None:
    proc, run = holder
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with RunLock(run) as lock:
        assert lock.held
        assert json.loads((run / ".lock").read_text())["pid"] == os.getpid()
    assert not (run / ".lock").exists()  # released: the folder is left as it was


def test_one_process_cannot_take_the_same_run_twice(tmp_path: Path) -> None:
    with RunLock(tmp_path / "run"):
        with pytest.raises(RunError, match=f"in use by process {os.getpid()}"):
            RunLock(tmp_path / "run").acquire()


def test_a_worker_trusts_only_the_runner_named_in_the_lock_file(holder, monkeypatch: pytest.MonkeyPatch) -> None:
    proc, run = holder
    monkeypatch.setenv(HELD_ENV, f"{proc.pid}:{run.resolve()}")
    assert not RunLock(run).acquire().held  # started by the holder: runs under its lock
    monkeypatch.setenv(HELD_ENV, f"{proc.pid + 1}:{run.resolve()}")  # a stale or forged claim
    with pytest.raises(RunError):
        RunLock(run).acquire()


def test_a_second_eval_on_a_run_in_use_exits_1_naming_the_holder(cli, bank: Path) -> None:
    assert cli(*_fake()).exit_code == 0
    run = next((bank / "outputs" / "default").iterdir())
    predictions = {p: p.read_bytes() for p in (run / "predictions").rglob("*.json")}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        second = cli(*_fake("-r"))
    finally:
        proc.kill()
        proc.wait()
    assert second.exit_code == 1, second.stderr
    assert second.stderr.startswith("error: ") and f"in use by process {proc.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert {p: p.read_bytes() for p in (run / "predictions").rglob("*.json")} == predictions
    assert not (run / "status").exists()  # nothing written by the process that was turned away


def test_a_task_file_run_by_hand_takes_the_lock(holder, tmp_path: Path, seed_raw: Path) -> None:
    _, run = holder
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw))
    cfg = write_configs(tmp_path / "configs", data)["gen"]
    spec = EvalRunSpec(datasets=load_config(cfg).datasets, models=(ModelSpec(abbr="fake", path="fake", hf_type="base"),),
                       work_dir=str(tmp_path / "out"), backend="fake", dry_run=True)
    task = replace(run_eval(spec).tasks[0], run_dir=str(run))
    write_task(tmp_path / "task.json", task)
    env = {k: v for k, v in os.environ.items() if k != HELD_ENV}
    proc = subprocess.run([sys.executable, "-m", "toolkit.engine.worker", str(tmp_path / "task.json")],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "in use by process" in proc.stderr
    assert not (run / "predictions").exists()


def test_resume_removes_what_a_killed_run_left_and_says_so(cli, bank: Path) -> None:
    assert cli(*_fake()).exit_code == 0
    run = next((bank / "outputs" / "default").iterdir())
    junk = run / "predictions" / "fake-model" / ".seed-values.json.k3j4h5g6.tmp"
    junk.write_bytes(b"x" * 12_000_000)
    second = cli(*_fake("-r", "--display", "plain"))
    assert second.exit_code == 0, second.stderr
    assert not junk.exists()
    assert "removed 1 temporary file(s) (12.0 MB) an interrupted run left" in second.stderr
    assert not [p for p in run.rglob(".*") if p.name not in (".keys",)]


def test_a_dataset_whose_inference_failed_never_scores_as_ok(cli, bank: Path) -> None:
    """The infer step failed (here: its error is on record), yet every prediction is there."""
    assert cli(*_fake()).exit_code == 0
    run = next((bank / "outputs" / "default").iterdir())
    error = run / "status" / "fake-model" / "seed-values.error"
    error.parent.mkdir(parents=True)
    error.write_text("FileNotFoundError: [Errno 2] No such file or directory: '.partial/seed-values.0-end.jsonl'\n\n")
    result = cli(*_fake("-r", "--mode", "eval"))
    assert result.exit_code == 1
    assert "FileNotFoundError" in result.stdout  # the summary shows the dataset's error


def test_finalize_and_resume_tolerate_partial_files_that_are_already_gone(tmp_path: Path) -> None:
    writer = PartialWriter(tmp_path, "ds", "0-end", "k")
    writer.append([{"index": 0, "prediction": "A"}, {"index": 1, "prediction": "B"}])
    done = load_done(tmp_path, "ds", "k")
    (tmp_path / ".partial" / "ds.0-end.jsonl").unlink()  # merged meanwhile by someone else
    finalize(tmp_path, "ds", "k", done)
    assert json.loads((tmp_path / "ds.json").read_text())["1"]["prediction"] == "B"
    assert not (tmp_path / ".partial").exists()  # no empty hidden folder left behind


def test_two_new_runs_in_the_same_second_get_two_folders(bank: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.engine import run as run_module

    taken = bank / "outputs" / "default" / "20260101_120000"

    def resolve_then_lose_the_race(work_dir, reuse):
        taken.mkdir(parents=True)  # another run creates the name between our choice and our mkdir
        return taken, False

    monkeypatch.setattr(run_module, "resolve_run_dir", resolve_then_lose_the_race)
    cfg = bank / "configs" / "datasets" / "seed" / "seed_gen.py"
    spec = EvalRunSpec(datasets=load_config(cfg).datasets[:1], models=(ModelSpec(abbr="fake", path="fake", hf_type="base"),),
                       work_dir="outputs/default", backend="fake")
    out = run_eval(spec)
    assert out.run_dir.name == "20260101_120000_1" and not any(taken.iterdir())
    task = json.loads((out.run_dir / "tasks" / "fake-0.json").read_text())
    assert task["run_dir"] == str(out.run_dir.resolve())  # the tasks point at the folder actually used
