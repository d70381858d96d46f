"""``run_eval``: partition → infer → eval → summarise → report, for several models and datasets.

The one public entry of the engine. It takes a typed :class:`EvalRunSpec`, never
reads the environment or prints; it reports through a display (stderr) and returns
an :class:`EvalOutcome` the CLI renders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.engine.devices import resolve_device
from toolkit.engine.tasks import EvalTaskSpec, eval_tasks, run_eval_task, write_eval_task
from toolkit.engine.manifest import write_manifest
from toolkit.engine.outcome import EvalOutcome
from toolkit.engine.params import ResolvedParams, override_notes, resolve_infer_params
from toolkit.engine.planning import partition, whole_items
from toolkit.engine.planning import plan_datasets
from toolkit.engine.progress import Display, NullDisplay, PlainDisplay
from toolkit.engine.scoring import ResultRecord
from toolkit.engine.runners import make_runner
from toolkit.engine.serialize import to_plain
from toolkit.engine.runners.slurm import srun_commands
from toolkit.engine.spec import EvalRunSpec
from toolkit.engine.scoring import summarise
from toolkit.engine.tasks import TaskSpec
from toolkit.engine.rundir import RunLock
from toolkit.engine.viz import render_run
from toolkit.engine.rundir import LogStream, RunDirs, claim_run_dir, resolve_run_dir
from toolkit.fileio import atomic_write_text
from toolkit.models.paths import check_model_paths

class _Recorder:
    """Passes events on to the display and keeps what the manifest needs (models as loaded)."""

    def __init__(self, display: Display) -> None:
        self.display = display
        self.loaded: dict[str, Any] = {}

    def handle(self, model: str, event: dict[str, Any]) -> None:
        if event.get("event") == "loaded":
            self.loaded[model] = event.get("describe", {})
        self.display.handle(model, event)

    def close(self) -> None:
        self.display.close()


def run_eval(spec: EvalRunSpec, *, display: Display | None = None, models: Mapping[str, Any] | None = None,
             finish: Callable[[EvalOutcome], Mapping[str, Path]] | None = None) -> EvalOutcome:
    """Run an evaluation end to end; ``models`` may hold already-loaded models by abbr (tests, notebooks).

    Nothing is written before the run is known to be runnable (datasets planned and
    validated, model paths found). Ctrl-C still writes the manifest (``interrupted``).
    The run folder is locked while this runs (:class:`~toolkit.engine.rundir.runlock.RunLock`):
    a second process on it stops with a RunError naming the holder. ``finish`` (the
    report writer) runs under that lock too; what it returns becomes ``reports``.
    A full disk stops the run with an OSError naming the file; what was saved stays
    and ``-r`` resumes from it.
    """
    if spec.mode == "viz" and not spec.dry_run:
        return render_run(spec, display or NullDisplay(), finish)
    display = _Recorder(display or NullDisplay())
    started = time.time()
    planned = plan_datasets(spec.datasets, overrides=spec.data_paths, validate=spec.validate and spec.mode in ("all", "infer"))
    spec, device = resolve_device(spec, preloaded=bool(models))
    run_dir, reused = resolve_run_dir(Path(spec.work_dir), spec.reuse)
    dirs = RunDirs(run_dir)
    resolved = {(m.abbr, d.dataset.abbr): resolve_infer_params(m, d.dataset, spec) for m in spec.models for d in planned}
    params = {key: r.params for key, r in resolved.items()}
    root = str(run_dir.resolve())  # task files work from any folder (cluster jobs)
    tasks = partition(spec.models, planned, run_dir=root, params=params, workers=spec.max_workers,
                      backend=spec.backend, device=spec.device)
    if spec.dry_run:
        commands = srun_commands(tasks, spec.slurm) if spec.slurm is not None else {}
        return EvalOutcome(run_dir, tuple(tasks), dry_run=True, commands=commands)
    if spec.mode in ("all", "infer") and spec.backend == "hf":
        for model in spec.models:
            if model.abbr not in (models or {}):
                check_model_paths(model)
    runner = make_runner(spec, display, models) if spec.mode in ("all", "infer") else None  # before any file is written
    if device.note:
        display.handle("", {"event": "note", "message": f"note: {device.note}"})
    for note in override_notes(resolved.values()):
        display.handle("", {"event": "note", "message": note})
    if spec.reuse == "latest" and not reused:
        display.handle("", {"event": "note", "message": f"no earlier run under {spec.work_dir}: starting a new one"})
    if not reused and (claimed := claim_run_dir(run_dir)) != run_dir:  # another run took this name meanwhile
        run_dir, dirs, root = claimed, RunDirs(claimed), str(claimed.resolve())
        tasks = partition(spec.models, planned, run_dir=root, params=params, workers=spec.max_workers,
                          backend=spec.backend, device=spec.device)
    with RunLock(run_dir, command=spec.command) as lock:  # one process at a time in a run folder
        if lock.swept[0]:
            display.handle("", {"event": "note", "message": f"removed {lock.swept[0]} temporary file(s) "
                                f"({lock.swept[1] / 1e6:.1f} MB) an interrupted run left in {run_dir}"})
        return _run_locked(spec, display, models, finish, planned, dirs, reused, resolved, root, tasks, runner,
                           started, device.to_json())


def _run_locked(spec: EvalRunSpec, display: _Recorder, models: Mapping[str, Any] | None,
                finish: Callable[[EvalOutcome], Mapping[str, Path]] | None, planned: list[Any], dirs: RunDirs,
                reused: bool, resolved: Mapping[tuple[str, str], ResolvedParams], root: str, tasks: list[TaskSpec],
                runner: Any, started: float, device: Mapping[str, Any]) -> EvalOutcome:
    """The part of :func:`run_eval` that writes, under the run folder's lock."""
    run_dir = dirs.root
    dirs.make()
    atomic_write_text(dirs.configs / "run.json", json.dumps(to_plain(spec), ensure_ascii=False, indent=2) + "\n")
    timings: dict[str, float] = {}
    records: list[ResultRecord] = []
    if runner is not None:
        t0 = time.perf_counter()
        display.handle("", {"event": "plan", "total": sum(d.rows for d in planned) * len(spec.models),
                            "models": len(spec.models)})
        try:
            runner.run(tasks, dirs)
        except KeyboardInterrupt:
            timings["total_seconds"] = round(time.time() - started, 3)
            write_manifest(dirs, spec, planned, records, timings, reused=reused, models=models,
                           loaded=display.loaded, interrupted=True, device=device, params=resolved)
            raise
        finally:
            display.close()
        timings["infer_seconds"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    params = {key: r.params for key, r in resolved.items()}
    items = {m.abbr: whole_items(m, planned, params) for m in spec.models}
    for task in eval_tasks(items, spec.models, run_dir=root, score=spec.mode != "infer"):
        records += _run_eval_task(task, dirs, display)
    timings["eval_seconds"] = round(time.perf_counter() - t0, 3)
    summary = None
    if spec.mode != "infer":
        summary = summarise(records, spec.summary_groups, models=[m.abbr for m in spec.models],
                            datasets=[d.dataset.abbr for d in planned])
    timings["total_seconds"] = round(time.time() - started, 3)
    manifest = write_manifest(dirs, spec, planned, records, timings, reused=reused, models=models, loaded=display.loaded,
                              device=device, params=resolved)
    outcome = EvalOutcome(run_dir, tuple(tasks), tuple(records), summary, manifest)
    return replace(outcome, reports=dict(finish(outcome))) if finish is not None else outcome


def _run_eval_task(task: EvalTaskSpec, dirs: RunDirs, display: Display) -> list[ResultRecord]:
    """Write the eval task file and run it here (scoring is cheap), its events logged under ``logs/eval/``."""
    write_eval_task(dirs.tasks / f"{task.task_id}.json", task)
    with LogStream(dirs.eval_log(task.model.abbr, task.task_id)) as fh:
        log = PlainDisplay(stream=fh)
        return run_eval_task(task, lambda event: log.handle(task.model.abbr, event))
