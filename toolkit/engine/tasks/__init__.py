"""Tasks: self-contained units of work saved as JSON under ``<run>/tasks/`` and runnable alone
(``python -m toolkit.engine.worker TASK.json``): an infer task (one model, dataset slices) writes
predictions; an eval task (one model, whole datasets) scores them."""

from __future__ import annotations

from toolkit.engine.tasks.eval_task import EvalTaskSpec, eval_tasks, read_eval_task, run_eval_task, write_eval_task
from toolkit.engine.tasks.fingerprint import file_sha256, prediction_key, stable_hash
from toolkit.engine.tasks.infer_task import (
    TaskItem,
    TaskSpec,
    data_files,
    item_key,
    load_task_model,
    read_task,
    run_task,
    write_task,
)

__all__ = ["EvalTaskSpec", "TaskItem", "TaskSpec", "data_files", "file_sha256", "eval_tasks", "item_key", "load_task_model", "prediction_key", "read_eval_task", "read_task", "run_eval_task", "run_task", "stable_hash", "write_eval_task", "write_task"]
