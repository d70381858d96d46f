"""The Slurm runner: srun command lines, failure reasons, the CLI flags, and (slow) runs on a real one-node cluster."""

from __future__ import annotations

import _thread
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from engine_data import seed_rows, write_configs, write_dataset
from slurm_cluster import ClusterUnavailable, SlurmCluster, processes, running_cluster, write_fake_srun

from toolkit.config.loader import load_config
from toolkit.config.spec import ModelSpec
from toolkit.engine import EvalRunSpec, run_eval
from toolkit.engine.events import Event, to_json
from toolkit.engine.rundir.workdir import RunDirs
from toolkit.engine.runners.local import LocalRunner
from toolkit.engine.runners.slurm import SlurmOptions, SlurmRunner, slurm_error, srun_commands, srun_prefix
from toolkit.engine.tasks.infer_task import TaskSpec


class Recorder:
    """A display that keeps every event (in its JSON form)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def handle(self, model: str, event: Event) -> None:
        self.events.append((model, to_json(event)))

    def close(self) -> None:
        return None


@pytest.fixture
def spec(tmp_path: Path, seed_raw: Path) -> EvalRunSpec:
    data = write_dataset(tmp_path / "data", seed_rows(seed_raw), val_copies=4)
    cfg = write_configs(tmp_path / "configs", data)["gen"]
    model = ModelSpec(abbr="fake", path="fake", hf_type="base", max_out_len=8, batch_size=4, num_gpus=1)
    return EvalRunSpec(datasets=load_config(cfg).datasets, models=(model,), work_dir=str(tmp_path / "out"),
                       backend="fake", max_workers=2, slurm=SlurmOptions())


@pytest.fixture
def bank(tmp_path: Path, seed_raw: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """configs/datasets/seed/seed_gen.py and its data in the CWD, for the CLI."""
    write_configs(tmp_path / "configs", write_dataset(tmp_path / "data", seed_rows(seed_raw)))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _eval(*extra: str) -> list[str]:
    return ["eval", "--datasets", "seed_gen", "--hf-path", "fake-model", "--backend", "fake", "--hf-type", "base",
            "--display", "plain", *extra]


def _tasks(spec: EvalRunSpec) -> tuple[TaskSpec, ...]:
    return run_eval(replace(spec, dry_run=True)).tasks


# --- command lines -------------------------------------------------------------------------------

def test_srun_prefix_has_opencompass_shape_and_gres_only_with_gpus():
    opts = SlurmOptions(partition="llm", quotatype="spot", qos="high")
    assert srun_prefix(opts, job_name="m-0", num_gpus=2, srun="/usr/bin/srun") == [
        "/usr/bin/srun", "-p", "llm", "--quotatype=spot", "--qos=high", "--gres=gpu:2", "-N1", "-u", "-J", "m-0"]
    assert srun_prefix(SlurmOptions(), job_name="m-1", num_gpus=0) == ["srun", "-N1", "-u", "-J", "m-1"]


def test_worker_command_wraps_the_local_worker_with_the_task_id_as_job_name(spec):
    task = _tasks(spec)[0]
    runner = SlurmRunner(Recorder(), SlurmOptions(partition="gpu"), srun="srun")
    path = Path("run/tasks/fake-0.json")
    local = LocalRunner(Recorder()).worker_command(task, path)
    assert runner.worker_command(task, path) == ["srun", "-p", "gpu", "--gres=gpu:1", "-N1", "-u", "-J", "fake-0", *local]
    cpu_task = replace(task, model=replace(task.model, num_gpus=0))
    assert "--gres=gpu:1" not in runner.worker_command(cpu_task, path)
    assert "--gres=gpu:1" not in runner.worker_command(replace(task, device="cpu"), path)


def test_dry_run_commands_name_each_task_file(spec):
    dry = run_eval(replace(spec, dry_run=True, slurm=SlurmOptions(qos="low")))
    assert list(dry.commands) == ["fake-0", "fake-1"]
    for tid, cmd in dry.commands.items():
        assert cmd[:6] == ["srun", "--qos=low", "--gres=gpu:1", "-N1", "-u", "-J"] and cmd[6] == tid
        assert cmd[-1] == str(dry.run_dir / "tasks" / f"{tid}.json")
    assert srun_commands(dry.tasks, SlurmOptions(qos="low")) == dry.commands
    assert not dry.run_dir.exists()


def test_slurm_chooses_the_gpus_not_us(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    runner = SlurmRunner(Recorder(), max_workers=3, srun="srun")
    assert runner._slots() == ["", "", ""]  # no local GPU slots, however many GPUs this machine has
    env = runner.worker_env("", 4)
    assert "CUDA_VISIBLE_DEVICES" not in env and env["PYTHONUNBUFFERED"] == "1"


# --- srun's error lines --------------------------------------------------------------------------

def test_slurm_error_picks_the_reason_not_the_task_exit_report(tmp_path):
    log = tmp_path / "t.out"
    log.write_text("old run\nsrun: error: invalid partition specified: old\n")
    start = log.stat().st_size
    with open(log, "a") as fh:
        fh.write("Traceback ...\nsrun: error: vm: task 0: Exited with exit code 1\n")
    assert slurm_error(log, start) is None  # the worker failed and said why itself
    with open(log, "a") as fh:
        fh.write("srun: error: invalid partition specified: nosuch\n"
                 "srun: error: Unable to allocate resources: Invalid partition name specified\n")
    assert slurm_error(log, start) == "srun: error: invalid partition specified: nosuch"
    assert slurm_error(log, 0) == "srun: error: invalid partition specified: old"
    log.write_text("srun: error: fetch_config: DNS SRV lookup failed\nsrun: fatal: Could not establish a configuration source\n")
    assert slurm_error(log) == "srun: fatal: Could not establish a configuration source"
    log.write_text("slurmstepd-vm: error: *** JOB 7 ON vm CANCELLED AT 2026-01-01T00:00:00 DUE TO TIME LIMIT ***\n")
    assert "DUE TO TIME LIMIT" in slurm_error(log)
    assert slurm_error(tmp_path / "missing.out") is None


# --- the runner through a stand-in srun (always runs) ----------------------------------------------

@pytest.fixture
def fake_srun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    srun = write_fake_srun(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{srun.parent}{os.pathsep}{os.environ['PATH']}")
    return srun


def test_events_stream_back_through_srun_and_a_refused_job_is_a_failed_dataset(spec, fake_srun):
    shown = Recorder()
    out = run_eval(spec, display=shown)
    assert {r.status for r in out.records} == {"ok"}
    assert [e["event"] for _, e in shown.events].count("finish") == 2  # events came through srun's stdout
    bad = run_eval(replace(spec, slurm=SlurmOptions(partition="nosuch")), display=shown)
    assert [r.status for r in bad.failed] == ["failed", "failed"]
    assert all(r.error.startswith("srun: error: invalid partition specified: nosuch") for r in bad.failed)
    assert ("fake", {"event": "error", "abbr": "seed-values", "error": bad.failed[0].error}) in shown.events
    unknown = run_eval(replace(spec, slurm=SlurmOptions(quotatype="spot")))  # srun exits 255: a crash, explained
    assert {r.error.split(" (fix:")[0] for r in unknown.failed} == {"srun: unrecognized option '--quotatype=spot'"}


# --- the CLI -------------------------------------------------------------------------------------

def test_help_lists_the_slurm_options(cli):
    result = cli("eval", "--help")
    for option in ("--slurm", "--partition", "--quotatype", "--qos"):
        assert option in result.stdout


def test_dry_run_shows_the_srun_lines(cli, bank):
    result = cli(*_eval("--slurm", "-p", "gpu", "--max-num-workers", "2", "--num-gpus", "0", "--dry-run"))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("fake-model-0: seed-values")
    assert lines[1].startswith("  srun -p gpu -N1 -u -J fake-model-0 ") and lines[1].endswith("tasks/fake-model-0.json")
    body = json.loads(cli(*_eval("--slurm", "--max-num-workers", "2", "--dry-run", "--json")).stdout)
    assert [t["command"][:6] for t in body["tasks"]] == [["srun", "--gres=gpu:1", "-N1", "-u", "-J", f"fake-model-{i}"] for i in (0, 1)]
    assert not (bank / "outputs").exists()


@pytest.mark.parametrize("flags, message", [
    (["-p", "gpu"], "--partition only applies to Slurm runs"),
    (["--qos", "high"], "--qos only applies to Slurm runs"),
    (["--slurm", "--debug"], "cannot be combined with --slurm"),
])
def test_slurm_flags_misused_are_usage_errors(cli, bank, flags, message):
    result = cli(*_eval(*flags))
    assert result.exit_code == 2 and message in result.stderr and not result.stdout


def test_no_srun_exits_2_before_writing_anything(cli, bank, monkeypatch):
    monkeypatch.setenv("PATH", str(bank / "nothing-here"))
    result = cli(*_eval("--slurm"))
    assert result.exit_code == 2
    assert "--slurm needs `srun`, which is not on PATH" in result.stderr and "drop --slurm" in result.stderr
    assert not (bank / "outputs").exists()


# --- a real one-node Slurm cluster (slow) ---------------------------------------------------------

@pytest.fixture(scope="session")
def slurm() -> Iterator[SlurmCluster]:
    """munged + slurmctld + slurmd with 8 CPUs and 2 fake GPUs under a temp dir; SLURM_CONF set meanwhile."""
    try:
        with running_cluster(cpus=8, gpus=2) as cluster, pytest.MonkeyPatch.context() as mp:
            mp.setenv("SLURM_CONF", str(cluster.conf))
            yield cluster
    except ClusterUnavailable as err:
        pytest.skip(f"no Slurm cluster: {err}")


class _Script(LocalRunner):
    """A worker that runs ``script`` (with the task id as argv[1]) instead of a real task."""

    script = ""

    def worker_command(self, task: TaskSpec, task_file: Path) -> list[str]:
        return [sys.executable, "-c", self.script, task.task_id]


class ScriptSlurmRunner(SlurmRunner, _Script):
    """srun … -J <task id> python -c SCRIPT <task id>."""


@pytest.mark.slow
def test_an_eval_through_slurm_equals_a_local_run(cli, bank, slurm):
    result = cli(*_eval("--slurm", "--max-num-workers", "2", "--num-gpus", "1", "-w", "slurm"))
    assert result.exit_code == 0, result.stderr
    local = cli(*_eval("-w", "local"))
    assert local.exit_code == 0, local.stderr
    s_run, l_run = (next((bank / w).iterdir()) for w in ("slurm", "local"))
    for abbr in ("seed-values", "seed-values_copy"):
        s_preds, l_preds = (json.loads((r / "predictions" / "fake-model" / f"{abbr}.json").read_text(encoding="utf-8"))
                            for r in (s_run, l_run))
        assert sorted(map(int, s_preds)) == list(range(len(l_preds))) and s_preds == l_preds
        s_res, l_res = (json.loads((r / "results" / "fake-model" / f"{abbr}.json").read_text(encoding="utf-8"))
                        for r in (s_run, l_run))
        assert s_res["accuracy"] == l_res["accuracy"] and s_res["status"] == "ok"
    assert result.stdout == local.stdout.replace("local", "slurm")
    logs = sorted(p.name for p in (s_run / "logs" / "infer" / "fake-model").glob("*.out"))
    assert logs == ["fake-model-0.out", "fake-model-1.out"]
    ran = slurm.client("squeue", "-h", "-t", "all", "-o", "%j %T %b").stdout.splitlines()
    assert {"fake-model-0 COMPLETED gres:gpu:1", "fake-model-1 COMPLETED gres:gpu:1"} <= set(ran)


@pytest.mark.slow
def test_a_bad_partition_is_a_failed_dataset_with_sruns_reason(cli, bank, slurm):
    result = cli(*_eval("--slurm", "-p", "nosuch", "--max-num-workers", "2", "--num-gpus", "0"))
    assert result.exit_code == 1
    assert "error: srun: error: invalid partition specified: nosuch" in result.stdout
    assert "failed [fake-model] seed-values: srun: error: invalid partition specified: nosuch" in result.stderr
    run = next((bank / "outputs" / "default").iterdir())
    error = (run / "status" / "fake-model" / "seed-values.error").read_text(encoding="utf-8")
    assert "check -p/--qos/--quotatype" in error and "fake-model-0.out" in error
    assert not slurm.jobs()


@pytest.mark.slow
def test_each_job_gets_its_gpus_from_slurm(spec, slurm, tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")  # this machine's choice must not reach the jobs
    a, b = _tasks(spec)
    cpu = replace(b, task_id="fake-cpu", model=replace(b.model, num_gpus=0))
    runner = ScriptSlurmRunner(Recorder(), max_workers=3)
    runner.script = ("import json, os, sys, time; time.sleep(1.5); print('@@toolkit ' + json.dumps("
                     "{'event': 'warning', 'message': sys.argv[1] + '=' + os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}))")
    codes = runner.run([a, b, cpu], RunDirs(tmp_path / "run").make())
    assert codes == {"fake-0": 0, "fake-1": 0, "fake-cpu": 0}
    seen = dict(e["message"].split("=") for _, e in runner.display.events)
    assert {seen["fake-0"], seen["fake-1"]} == {"0", "1"}  # held at once, so one fake GPU each
    assert seen["fake-cpu"] == "unset"


@pytest.mark.slow
def test_ctrl_c_stops_every_job(spec, slurm, tmp_path):
    marker = f"toolkit-test-sleeper-{os.getpid()}"
    runner = ScriptSlurmRunner(Recorder(), max_workers=2)
    runner.script = f"import time; print('@@toolkit {{\"event\": \"loading\"}}', flush=True); time.sleep(300)  # {marker}"
    running: list[str] = []

    def press_ctrl_c() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (len(processes(marker)) < 4  # 2 sruns, 2 sleeping workers
                                               or len(slurm.client("squeue", "-h", "-t", "R").stdout.splitlines()) < 2):
            time.sleep(0.1)
        running.extend(slurm.client("squeue", "-h", "-t", "R", "-o", "%j").stdout.split())
        sruns = [pid for pid, parent in processes(marker).items() if parent == os.getpid()]
        # A terminal's Ctrl-C reaches us and srun at once. Interrupt us first: on a loaded machine the
        # sruns could otherwise exit and the run return normally before the interrupt lands.
        _thread.interrupt_main()
        for pid in sruns:
            os.kill(pid, signal.SIGINT)

    # A shell that starts us in the background (`cmd &` in a script) leaves SIGINT ignored, and then
    # interrupt_main() does nothing: give the test the handler an interactive Python has.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=press_ctrl_c, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            runner.run(_tasks(spec), RunDirs(tmp_path / "run").make())
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 25
    assert sorted(running) == ["fake-0", "fake-1"]  # both jobs were running when Ctrl-C came
    assert slurm.wait_no_jobs(10), slurm.client("squeue").stdout
    assert not processes(marker)


@pytest.mark.slow
def test_a_job_whose_srun_is_killed_is_ended_by_slurm(slurm):
    """Why the runner needs no scancel of its own: a hung srun that LocalRunner SIGKILLs takes its job along."""
    marker = f"toolkit-test-orphan-{os.getpid()}"
    srun = subprocess.Popen(["srun", "-N1", "-u", "-J", marker, sys.executable, "-c", "import time; time.sleep(300)", marker],
                            env=slurm.env)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(processes(marker)) < 2:  # srun and the job's python
        time.sleep(0.1)
    assert slurm.client("squeue", "-h", "-n", marker, "-o", "%T").stdout.strip() == "RUNNING"
    srun.kill()
    srun.wait()
    assert slurm.wait_no_jobs(10)
    assert not processes(marker)
