"""Eval tasks: score one model's predictions, dataset by dataset, from a task file.

The counterpart of an infer task (:mod:`toolkit.engine.tasks.infer_task`): a JSON file under
``tasks/`` (``eval-<model>.json``) that ``python -m toolkit.engine.worker FILE`` runs on
its own, so that a cluster runner can launch scoring as it launches inference. For
each dataset it reads the predictions whose reuse key matches the task's model, data
and parameters, merges them into ``predictions/<model>/<abbr>.json`` (OpenCompass's
file), post-processes and scores them and writes ``results/<model>/<abbr>.json``.

A dataset with questions still unpredicted is a failed result that names how many
(or the infer task's own error). With ``score=False`` (``--mode infer``) it only merges
the predictions and reports the datasets that are not complete.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from toolkit.config.spec import ModelSpec
from toolkit.engine.events import EventSink, Merged, Scored
from toolkit.engine.inference import dataset_postprocessor, resolve_mode
from toolkit.engine.rundir import RunDirs
from toolkit.engine.scoring import (
    ResultRecord,
    Truncation,
    failed_record,
    record_from_score,
    score_accuracy,
    write_result,
)
from toolkit.engine.serialize import from_plain, to_plain
from toolkit.engine.tasks.infer_task import TaskItem, item_key
from toolkit.engine.tasks.predictions import finalize, load_done
from toolkit.fileio import atomic_write_text


@dataclass(frozen=True)
class EvalTaskSpec:
    """Score every dataset of ``items`` (``stop`` = its number of test rows) for one model."""

    task_id: str
    model: ModelSpec
    items: tuple[TaskItem, ...]
    run_dir: str
    score: bool = True
    """False: merge the predictions only (``--mode infer``); no result files."""
    kind: Literal["eval"] = "eval"


def eval_tasks(items: Mapping[str, tuple[TaskItem, ...]], models: Sequence[ModelSpec], *, run_dir: str,
               score: bool = True) -> list[EvalTaskSpec]:
    """One eval task per model over whole datasets (``items``: each model's, by its abbr).

    Example:
        >>> eval_tasks({}, (), run_dir="/tmp/r")
        []
    """
    return [EvalTaskSpec(f"eval-{m.abbr}", m, items[m.abbr], run_dir, score) for m in models]


def write_eval_task(path: Path, task: EvalTaskSpec) -> None:
    """Save an eval task file (JSON) atomically."""
    atomic_write_text(path, json.dumps(to_plain(task), ensure_ascii=False, indent=2) + "\n")


def read_eval_task(path: Path) -> EvalTaskSpec:
    """Load a task file written by :func:`write_eval_task`."""
    return from_plain(EvalTaskSpec, json.loads(Path(path).read_text(encoding="utf-8")), str(path))


def evaluate_item(task: EvalTaskSpec, item: TaskItem) -> ResultRecord | None:
    """Score one dataset; None when ``task.score`` is off and its predictions are complete."""
    dirs = RunDirs(Path(task.run_dir))
    ds, model = item.dataset, task.model
    mode = resolve_mode(ds, item.params)
    key = item_key(model, item)
    pred_dir = dirs.predictions / model.abbr
    done = load_done(pred_dir, ds.abbr, key)
    rows = item.stop if item.stop is not None else len(done)
    missing = [i for i in range(item.start, rows) if i not in done]
    recorded = dirs.read_error(model.abbr, ds.abbr)  # its last inference failed, even if others filled the gaps
    if missing or recorded:
        error = recorded or f"{len(missing)} of {rows} questions have no prediction"
        record = failed_record(model.abbr, ds.abbr, ds.version, mode, error)
        if task.score:
            write_result(dirs.results, record)
        return record
    finalize(pred_dir, ds.abbr, key, done)
    if not task.score:
        return None
    post = dataset_postprocessor(ds)
    order = sorted(done)
    preds = [post(str(done[i].get("prediction", ""))) if mode == "gen" else str(done[i].get("prediction", ""))
             for i in order]
    golds = [done[i].get("gold") for i in order]
    t0 = time.perf_counter()
    result = score_accuracy(preds, golds)
    truncation = Truncation.of_predictions(done.values(), item.params.max_seq_len)
    record = record_from_score(model.abbr, ds.abbr, ds.version, mode, result,
                               timings={"eval_seconds": round(time.perf_counter() - t0, 4)}, truncation=truncation)
    write_result(dirs.results, record)
    return record


def run_eval_task(task: EvalTaskSpec, emit: EventSink) -> list[ResultRecord]:
    """Score every dataset of ``task``; returns the records (with ``score=False``: the incomplete ones)."""
    records = []
    for item in task.items:
        record = evaluate_item(task, item)
        if record is None:
            emit(Merged(item.dataset.abbr))
            continue
        records.append(record)
        emit(Scored(record.abbr, record.status, record.value, record.error or None))
    return records
