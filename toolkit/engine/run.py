"""``run_eval``: plan → partition → infer → score → summarise → report, for several models and datasets.

The one public entry of the engine. It takes a typed :class:`EvalRunSpec`, never
reads the environment or prints; it reports through a display (stderr) and returns
an :class:`EvalOutcome` the CLI renders. The steps, in order:

1. :func:`_prepare` (nothing written yet): plan the datasets (data found, validated,
   sized), pick the device, resolve every model's settings on every dataset, partition
   the work into tasks, check the models' files and choose the runner;
2. under the run folder's lock, :func:`_run_locked`: the runner infers, one eval task
   per model scores, the summary is built, ``manifest.json`` is written, and ``finish``
   (the CLI's report writer) runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.engine.backend_checks import check_backends, vllm_suggestion
from toolkit.engine.devices import DeviceChoice, resolve_device
from toolkit.engine.events import Display, Event, Loaded, Note, NullDisplay, Plan, Usage, add_usage
from toolkit.engine.manifest import write_manifest
from toolkit.engine.outcome import EvalOutcome
from toolkit.engine.params import ResolvedParams, override_notes, resolve_infer_params
from toolkit.engine.planning import PlannedDataset, partition, plan_datasets, whole_items
from toolkit.engine.prompting.circular import make_circular
from toolkit.engine.rundir import LogStream, RunDirs, RunLock, claim_run_dir, resolve_run_dir
from toolkit.engine.runners import Runner, make_runner, srun_commands
from toolkit.engine.scoring import ResultRecord, summarise
from toolkit.engine.serialize import to_plain
from toolkit.engine.spec import EvalRunSpec
from toolkit.engine.tasklog import EventLog
from toolkit.engine.tasks import EvalTaskSpec, TaskSpec, eval_tasks, run_eval_task, write_eval_task
from toolkit.engine.viz import render_run
from toolkit.fileio import atomic_write_text
from toolkit.models.paths import check_model_paths

Finish = Callable[[EvalOutcome], Mapping[str, Path]]
"""What runs last under the run's lock (the report writer); it returns the files it wrote by kind."""


class _Recorder:
    """Passes events on to the display and keeps what the manifest needs (models as loaded)."""

    def __init__(self, display: Display) -> None:
        self.display = display
        self.loaded: dict[str, Any] = {}
        self.usage: dict[str, dict[str, Any]] = {}

    def handle(self, model: str, event: Event) -> None:
        if isinstance(event, Loaded):
            self.loaded[model] = dict(event.describe)
        elif isinstance(event, Usage):
            self.usage[model] = add_usage(self.usage.get(model, {}), event.usage)
        self.display.handle(model, event)

    def close(self) -> None:
        self.display.close()


@dataclass
class _Run:
    """Everything :func:`run_eval` decided before it writes."""

    spec: EvalRunSpec
    display: _Recorder
    models: Mapping[str, Any]
    planned: list[PlannedDataset]
    device: DeviceChoice
    resolved: dict[tuple[str, str], ResolvedParams]
    dirs: RunDirs
    reused: bool
    tasks: list[TaskSpec] = field(default_factory=list)
    runner: Runner | None = None
    started: float = field(default_factory=time.time)

    def note(self, message: str) -> None:
        self.display.handle("", Note(message))

    def partition(self) -> None:
        """The infer tasks for the run folder (with absolute paths: task files work from any folder)."""
        params = {key: r.params for key, r in self.resolved.items()}
        self.tasks = partition(self.spec.models, self.planned, run_dir=str(self.dirs.root.resolve()), params=params,
                               workers=self.spec.max_workers, backend=self.spec.backend, device=self.spec.device)

    def manifest(self, records: list[ResultRecord], timings: Mapping[str, float], *, interrupted: bool = False) -> dict[str, Any]:
        return write_manifest(self.dirs, self.spec, self.planned, records, timings, reused=self.reused,
                              models=self.models, loaded=self.display.loaded, interrupted=interrupted,
                              device=self.device.to_json(), params=self.resolved, usage=self.display.usage)


def run_eval(spec: EvalRunSpec, *, display: Display | None = None, models: Mapping[str, Any] | None = None,
             finish: Finish | None = None) -> EvalOutcome:
    """Run an evaluation end to end; ``models`` may hold already-loaded models by abbr (tests, notebooks).

    Nothing is written before the run is known to be runnable (datasets planned and
    validated, model paths found). Ctrl-C still writes the manifest (``interrupted``).
    The run folder is locked while this runs (:class:`~toolkit.engine.rundir.RunLock`):
    a second process on it stops with a RunError naming the holder. ``finish`` (the
    report writer) runs under that lock too; what it returns becomes ``reports``.
    A full disk stops the run with an OSError naming the file; what was saved stays
    and ``-r`` resumes from it.
    """
    if spec.circular is not None:  # the datasets themselves become circular (OpenCompass's CircularDatasetMeta)
        spec = replace(spec, datasets=make_circular(spec.datasets, spec.circular))
    if spec.mode == "viz" and not spec.dry_run:
        return render_run(spec, display or NullDisplay(), finish)
    run = _prepare(spec, _Recorder(display or NullDisplay()), dict(models or {}))
    if not models and (hint := vllm_suggestion(run.spec, sum(d.rows for d in run.planned))):
        run.note(hint)
    if spec.dry_run:
        commands = srun_commands(run.tasks, spec.slurm) if spec.slurm is not None else {}
        return EvalOutcome(run.dirs.root, tuple(run.tasks), dry_run=True, commands=commands)
    _check_and_choose_runner(run)
    if not run.reused and (claimed := claim_run_dir(run.dirs.root)) != run.dirs.root:  # another run took the name
        run.dirs = RunDirs(claimed)
        run.partition()
    with RunLock(run.dirs.root, command=spec.command) as lock:  # one process at a time in a run folder
        if lock.swept[0]:
            run.note(f"removed {lock.swept[0]} temporary file(s) ({lock.swept[1] / 1e6:.1f} MB) an interrupted "
                     f"run left in {run.dirs.root}")
        outcome = _run_locked(run)
        return replace(outcome, reports=dict(finish(outcome))) if finish is not None else outcome


def _prepare(spec: EvalRunSpec, display: _Recorder, models: Mapping[str, Any]) -> _Run:
    """Plan, pick the device, resolve settings, find the run folder and partition: nothing is written."""
    planned = plan_datasets(spec.datasets, overrides=spec.data_paths,
                            validate=spec.validate and spec.mode in ("all", "infer"))
    spec, device = resolve_device(spec, preloaded=bool(models))
    run_dir, reused = resolve_run_dir(Path(spec.work_dir), spec.reuse)
    resolved = {(m.abbr, d.dataset.abbr): resolve_infer_params(m, d.dataset, spec) for m in spec.models for d in planned}
    run = _Run(spec, display, models, planned, device, resolved, RunDirs(run_dir), reused)
    run.partition()
    return run


def _check_and_choose_runner(run: _Run) -> None:
    """Before any file is written: the models' files exist and a runner can start; then the run's notes."""
    spec = run.spec
    infers = spec.mode in ("all", "infer")
    backends = spec.model_backends()
    if infers:
        for model in spec.models:
            if model.abbr not in run.models and backends[model.abbr].local_files:
                check_model_paths(model)
        check_backends(spec, {m.abbr for m in spec.models if m.abbr not in run.models})
    run.runner = make_runner(spec, run.display, run.models) if infers else None
    if run.device.note:
        run.note(f"note: {run.device.note}")
    for note in override_notes(run.resolved.values()):
        run.note(note)
    if spec.reuse == "latest" and not run.reused:
        run.note(f"no earlier run under {spec.work_dir}: starting a new one")


def _run_locked(run: _Run) -> EvalOutcome:
    """The part of :func:`run_eval` that writes, under the run folder's lock."""
    spec, dirs = run.spec, run.dirs
    dirs.make()
    atomic_write_text(dirs.configs / "run.json", json.dumps(to_plain(spec), ensure_ascii=False, indent=2) + "\n")
    timings: dict[str, float] = {}
    if run.runner is not None:
        timings["infer_seconds"] = _infer(run, run.runner)
    t0 = time.perf_counter()
    records = _score(run)
    timings["eval_seconds"] = round(time.perf_counter() - t0, 3)
    summary = None
    if spec.mode != "infer":
        summary = summarise(records, spec.summary_groups, models=[m.abbr for m in spec.models],
                            datasets=[d.dataset.abbr for d in run.planned])
    timings["total_seconds"] = round(time.time() - run.started, 3)
    manifest = run.manifest(records, timings)
    return EvalOutcome(dirs.root, tuple(run.tasks), tuple(records), summary, manifest)


def _infer(run: _Run, runner: Runner) -> float:
    """Run the infer tasks; Ctrl-C writes the manifest (``interrupted``) before it goes on up. Returns the seconds."""
    t0 = time.perf_counter()
    run.display.handle("", Plan(sum(d.rows for d in run.planned) * len(run.spec.models), len(run.spec.models)))
    try:
        runner.run(run.tasks, run.dirs)
    except KeyboardInterrupt:
        run.manifest([], {"total_seconds": round(time.time() - run.started, 3)}, interrupted=True)
        raise
    finally:
        run.display.close()
    return round(time.perf_counter() - t0, 3)


def _score(run: _Run) -> list[ResultRecord]:
    """One eval task per model over every whole dataset (``--mode infer``: merge the predictions only)."""
    params = {key: r.params for key, r in run.resolved.items()}
    items = {m.abbr: whole_items(m, run.planned, params) for m in run.spec.models}
    root = str(run.dirs.root.resolve())
    records: list[ResultRecord] = []
    for task in eval_tasks(items, run.spec.models, run_dir=root, score=run.spec.mode != "infer"):
        records += _run_eval_task(task, run.dirs)
    return records


def _run_eval_task(task: EvalTaskSpec, dirs: RunDirs) -> list[ResultRecord]:
    """Write the eval task file and run it here (scoring is cheap), its events logged under ``logs/eval/``."""
    write_eval_task(dirs.tasks / f"{task.task_id}.json", task)
    with LogStream(dirs.eval_log(task.model.abbr, task.task_id)) as fh:
        log = EventLog(stream=fh)
        return run_eval_task(task, lambda event: log.handle(task.model.abbr, event))
