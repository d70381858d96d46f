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
from typing import Any

from toolkit.config.spec import DatasetSpec, ModelSpec
from toolkit.dataset.layout import SPLITS, split_file
from toolkit.engine.fingerprint import prediction_key
from toolkit.engine.infer import DatasetInference, InferParams, resolve_mode
from toolkit.engine.predictions import PartialWriter, load_done
from toolkit.engine.serialize import from_plain, to_plain
from toolkit.engine.workdir import RunDirs
from toolkit.fileio import atomic_write_text

Event = dict[str, Any]
EventSink = Callable[[Event], None]


@dataclass(frozen=True)
class TaskItem:
    """One dataset, or a slice ``[start, stop)`` of its test rows, with its resolved local data folder."""

    dataset: DatasetSpec
    data_dir: str
    start: int = 0
    stop: int | None = None

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
    params: InferParams = field(default_factory=InferParams)
    backend: str = "hf"
    device: str | None = None


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


def item_key(task: TaskSpec, item: TaskItem) -> str:
    """The reuse key of the item's predictions (model, data bytes, infer_cfg, mode, parameters)."""
    files = data_files(item.dataset, item.data_dir)
    mode = resolve_mode(item.dataset, task.params)
    params = to_plain(task.params)
    params["mode"] = mode
    return prediction_key(task.model, item.dataset, files, mode, params)


def run_item(task: TaskSpec, item: TaskItem, model: Any, emit: EventSink) -> None:
    """Infer the rows of one item that have no prediction yet; append them batch by batch."""
    from toolkit.engine.data import load_ceval_splits

    dirs = RunDirs(Path(task.run_dir))
    abbr = item.dataset.abbr
    key = item_key(task, item)
    splits = load_ceval_splits(item.data_dir, item.dataset.name)
    n_test = len(splits.get(item.dataset.reader.test_split, []))
    stop = n_test if item.stop is None else min(item.stop, n_test)
    pred_dir = dirs.predictions / task.model.abbr
    done = load_done(pred_dir, abbr, key)
    todo = [i for i in range(item.start, stop) if i not in done]
    emit({"event": "start", "abbr": abbr, "total": stop - item.start, "done": stop - item.start - len(todo)})
    dirs.clear_error(task.model.abbr, abbr)
    if not todo:
        emit({"event": "finish", "abbr": abbr})
        return
    started = time.perf_counter()
    inference = DatasetInference(model, item.dataset, splits, task.params, indices=todo)
    writer = PartialWriter(pred_dir, abbr, item.slice_name, key)
    for records in inference.run(progress=lambda n: emit({"event": "progress", "abbr": abbr, "n": n})):
        writer.append(records)
    too_long = inference.too_long
    if too_long:
        emit({"event": "warning", "abbr": abbr,
              "message": f"{len(too_long)} question(s) exceed max_seq_len even without examples; kept whole "
                         f"(rows {', '.join(map(str, too_long[:5]))}{'…' if len(too_long) > 5 else ''})"})
    emit({"event": "finish", "abbr": abbr, "seconds": round(time.perf_counter() - started, 3)})


def run_task(task: TaskSpec, emit: EventSink, *, model: Any = None, debug: bool = False) -> bool:
    """Run every item of an infer task; returns True when all succeeded.

    The model is loaded once for the whole task. A failing item is recorded (its
    error goes to the run's status folder) and the others still run, unless
    ``debug`` asks for the traceback to propagate.
    """
    dirs = RunDirs(Path(task.run_dir))
    ok = True
    if model is None:
        try:
            from toolkit.models import load_model

            emit({"event": "loading", "model": task.model.abbr})
            model = load_model(task.model, task.backend, device=task.device,
                               warn=lambda msg: emit({"event": "warning", "message": msg}))
            emit({"event": "loaded", "model": task.model.abbr, "describe": model.describe()})
        except Exception as err:
            if debug:
                raise
            for item in task.items:
                dirs.write_error(task.model.abbr, item.dataset.abbr, err, traceback.format_exc())
                emit({"event": "error", "abbr": item.dataset.abbr, "error": dirs.read_error(task.model.abbr, item.dataset.abbr)})
            return False
    for item in task.items:
        try:
            run_item(task, item, model, emit)
        except KeyboardInterrupt:
            raise
        except Exception as err:
            if debug:
                raise
            ok = False
            dirs.write_error(task.model.abbr, item.dataset.abbr, err, traceback.format_exc())
            emit({"event": "error", "abbr": item.dataset.abbr, "error": dirs.read_error(task.model.abbr, item.dataset.abbr)})
    return ok


def describe_items(task: TaskSpec) -> list[Mapping[str, Any]]:
    """A compact listing for ``--dry-run``."""
    return [{"abbr": i.dataset.abbr, "rows": f"{i.start}:{'' if i.stop is None else i.stop}", "data": i.data_dir}
            for i in task.items]
