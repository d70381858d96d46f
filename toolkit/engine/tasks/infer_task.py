"""Tasks: self-contained units of work, written to JSON files and runnable on their own.

An *infer task* is one model and a list of dataset slices; a worker runs it with
the model loaded once. A cluster runner can launch ``python -m toolkit.engine.worker
TASK.json`` unchanged. Predictions are appended per batch under the run folder, so a
killed task resumes where it stopped; errors are written beside them so the summary
can show each failed dataset's last error line.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toolkit.config.spec import DatasetSpec, ModelSpec
from toolkit.dataset.layout import SPLITS, split_file
from toolkit.engine.events import EventSink, Failed, Finish, Loaded, Loading, Progress, Start, Usage, Warned
from toolkit.engine.inference import DatasetInference, resolve_mode, test_rows
from toolkit.engine.params import InferParams
from toolkit.engine.rundir import RunDirs
from toolkit.engine.serialize import from_plain, to_plain
from toolkit.engine.tasks.fingerprint import prediction_key
from toolkit.engine.tasks.predictions import PartialWriter, finalize, load_done
from toolkit.errors import RunError
from toolkit.fileio import atomic_write_text, is_disk_full


@dataclass(frozen=True)
class TaskItem:
    """One dataset, or a slice ``[start, stop)`` of its test rows, with its resolved local data folder and
    the inference settings that apply to it (:func:`toolkit.engine.params.resolve_infer_params`)."""

    dataset: DatasetSpec
    data_dir: str
    start: int = 0
    stop: int | None = None
    params: InferParams = field(default_factory=InferParams)

    @property
    def slice_name(self) -> str:
        """``0-120``-style name for partial files."""
        return f"{self.start}-{'end' if self.stop is None else self.stop}"


@dataclass(frozen=True)
class TaskSpec:
    """An infer task: one model, several dataset slices, one run folder."""

    task_id: str
    model: ModelSpec
    items: tuple[TaskItem, ...]
    run_dir: str
    backend: str = "hf"
    device: str | None = None
    kind: Literal["infer"] = "infer"


def write_task(path: Path, task: TaskSpec) -> None:
    """Save a task file (JSON) atomically."""
    atomic_write_text(path, json.dumps(to_plain(task), ensure_ascii=False, indent=2) + "\n")


def read_task(path: Path) -> TaskSpec:
    """Load a task file written by :func:`write_task`."""
    return from_plain(TaskSpec, json.loads(Path(path).read_text(encoding="utf-8")), str(path))


def data_files(dataset: DatasetSpec, data_dir: str) -> dict[str, Path]:
    """The split files of a C-Eval-layout dataset that exist (all three are read)."""
    files = {s: split_file(data_dir, dataset.name, s) for s in SPLITS}
    return {s: p for s, p in files.items() if p.is_file()}


def item_key(model: ModelSpec, item: TaskItem) -> str:
    """The reuse key of the item's predictions (model, data bytes, infer_cfg, mode, parameters)."""
    files = data_files(item.dataset, item.data_dir)
    mode = resolve_mode(item.dataset, item.params)
    params = item.params.key_values()
    params["mode"] = mode
    return prediction_key(model, item.dataset, files, mode, params)


@dataclass(frozen=True)
class _ItemPlan:
    """What one item still needs: its rows without a prediction (and what finding them read)."""

    item: TaskItem
    key: str
    splits: Mapping[str, Any]
    total: int
    todo: tuple[int, ...]
    stale: tuple[Path, ...]
    rows: int
    """The dataset's prediction rows (test rows; for a circular dataset every question × pattern)."""


def _plan_item(task: TaskSpec, item: TaskItem) -> _ItemPlan:
    from toolkit.engine.data import load_ceval_splits

    dirs = RunDirs(Path(task.run_dir))
    key = item_key(task.model, item)
    splits = load_ceval_splits(item.data_dir, item.dataset.name)
    n_test = len(test_rows(item.dataset, splits))
    stop = n_test if item.stop is None else min(item.stop, n_test)
    stale: list[Path] = []
    done = load_done(dirs.predictions / task.model.abbr, item.dataset.abbr, key, stale=stale)
    todo = tuple(i for i in range(item.start, stop) if i not in done)
    return _ItemPlan(item, key, splits, stop - item.start, todo, tuple(stale), n_test)


def _run_item(task: TaskSpec, plan: _ItemPlan, model: Any, emit: EventSink) -> None:
    """Infer the rows of one item that have no prediction yet; append them batch by batch."""
    dirs = RunDirs(Path(task.run_dir))
    item, abbr = plan.item, plan.item.dataset.abbr
    if plan.stale:
        emit(Warned("earlier predictions were made with other data, prompts or settings: inferring again "
                    f"(kept as {', '.join(p.name for p in plan.stale)})", abbr))
    emit(Start(abbr, plan.total, plan.total - len(plan.todo)))
    dirs.clear_error(task.model.abbr, abbr)
    pred_dir = dirs.predictions / task.model.abbr
    if plan.todo:
        started = time.perf_counter()
        inference = DatasetInference(model, item.dataset, plan.splits, item.params, indices=plan.todo)
        writer = PartialWriter(pred_dir, abbr, item.slice_name, plan.key)
        failed: list[Mapping[str, Any]] = []
        for records in inference.run(progress=lambda n: emit(Progress(abbr, n))):
            writer.append(records)
            failed += [r for r in records if "error" in r]
        too_long = inference.too_long
        if too_long:
            emit(Warned(f"{len(too_long)} question(s) exceed max_seq_len even without examples; kept whole "
                        f"(rows {', '.join(map(str, too_long[:5]))}{'…' if len(too_long) > 5 else ''})", abbr))
        emit(Finish(abbr, round(time.perf_counter() - started, 3)))
        if failed:
            first = min(failed, key=lambda r: int(r["index"]))
            raise RunError(f"{len(failed)} of {len(plan.todo)} questions got no answer (row {first['index']}: "
                           f"{first['error']}); the others are saved, and -r asks again for these",
                           hint="rerun with -r once the server answers")
    else:
        emit(Finish(abbr))
    # the last slice of a dataset to finish writes OpenCompass's predictions file
    done = load_done(pred_dir, abbr, plan.key)
    if all(i in done for i in range(plan.rows)):
        finalize(pred_dir, abbr, plan.key, done)


def _fail(task: TaskSpec, item: TaskItem, err: BaseException, emit: EventSink) -> None:
    """Record and announce a failed item; never fails itself (the disk may be full)."""
    from toolkit.engine.scoring import last_error_line

    dirs = RunDirs(Path(task.run_dir))
    dirs.write_error(task.model.abbr, item.dataset.abbr, err, traceback.format_exc())
    emit(Failed(item.dataset.abbr, last_error_line(err)))


def load_task_model(task: TaskSpec, emit: EventSink) -> Any:
    """Load the task's model, announcing it (``loading`` / ``loaded`` events)."""
    from toolkit.models import load_model

    emit(Loading(task.model.abbr))
    model = load_model(task.model, task.backend, device=task.device,
                       warn=lambda msg: emit(Warned(msg)))
    emit(Loaded(task.model.abbr, model.describe()))
    return model


def run_task(task: TaskSpec, emit: EventSink, *, model: Any = None,
             load: Callable[[], Any] | None = None, debug: bool = False) -> bool:
    """Run every item of an infer task; returns True when all succeeded.

    The model (``model``, else ``load()``, else :func:`load_task_model`) is loaded once
    for the whole task, and only when some item has rows left to infer. A failing item
    is recorded (its error goes to the run's status folder) and the others still run,
    unless ``debug`` asks for the traceback to propagate. A full disk stops the task
    (the OSError propagates): what was saved stays, and ``-r`` resumes from it.
    """
    plans, ok = _plan_items(task, emit, debug)
    if model is None and any(p.todo for p in plans):
        try:
            model = load() if load is not None else load_task_model(task, emit)
        except Exception as err:
            if debug:
                raise
            for plan in plans:
                _fail(task, plan.item, err, emit)
            return False
    before = _usage(model)
    try:
        return _run_items(task, plans, model, emit, debug) and ok
    finally:
        after = _usage(model)
        if after is not None:  # this task's share (a model kept loaded across tasks counts on)
            emit(Usage(_delta(after, before or {})))


def _usage(model: Any) -> dict[str, Any] | None:
    """An API model's usage counts so far (None for a model that has none)."""
    usage = getattr(model, "usage", None)
    return dict(usage()) if callable(usage) else None


def _delta(after: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """``after - before``, key by key (nested counts too; zero counts of a mapping dropped)."""
    out: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, Mapping):
            out[key] = {k: n for k, n in _delta(value, before.get(key) or {}).items() if n}
        elif isinstance(value, (int, float)):
            out[key] = value - before.get(key, 0)
    return out


def _plan_items(task: TaskSpec, emit: EventSink, debug: bool) -> tuple[list[_ItemPlan], bool]:
    """What each item still needs; an item that cannot be planned is recorded as failed (False)."""
    ok = True
    plans: list[_ItemPlan] = []
    for item in task.items:
        try:
            plans.append(_plan_item(task, item))
        except Exception as err:
            if debug or is_disk_full(err):
                raise
            ok = False
            _fail(task, item, err, emit)
    return plans, ok


def _run_items(task: TaskSpec, plans: list[_ItemPlan], model: Any, emit: EventSink, debug: bool) -> bool:
    """Infer every planned item; a failing one is recorded and the others still run (Ctrl-C stops them all)."""
    ok = True
    for plan in plans:
        try:
            _run_item(task, plan, model, emit)
        except Exception as err:
            if debug:
                raise
            if is_disk_full(err):  # every other dataset would fail the same way: stop, keeping what was saved
                RunDirs(Path(task.run_dir)).write_error(task.model.abbr, plan.item.dataset.abbr, err,
                                                        traceback.format_exc())
                raise  # said once, by whoever runs the task
            ok = False
            _fail(task, plan.item, err, emit)
    return ok
