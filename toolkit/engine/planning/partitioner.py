"""Partitioning: which worker infers which dataset rows.

One task per model and worker. With one worker a model's task holds every
dataset (the model is loaded once). With several, the size-aware strategy splits
datasets larger than a worker's fair share into row slices and hands the pieces
out longest-first to the least-loaded worker, so that workers finish together.
Pure and deterministic: the same inputs give the same tasks.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from toolkit.config.spec import DatasetSpec, ModelSpec
from toolkit.engine.params import InferParams
from toolkit.engine.tasks import TaskItem, TaskSpec
from toolkit.models import model_backend


@dataclass(frozen=True)
class PlannedDataset:
    """A dataset ready to run: its spec, local data folder and number of test rows."""

    dataset: DatasetSpec
    data_dir: str
    rows: int

    @property
    def row_cost(self) -> float:
        """Relative cost of one row: a prompt holds the question plus its examples."""
        return 1.0 + len(self.dataset.infer.retriever.fix_id_list)


ParamsFor = InferParams | Mapping[tuple[str, str], InferParams]
"""One set of inference settings for everything, or each (model abbr, dataset abbr)'s."""


def _pieces(datasets: Sequence[PlannedDataset], workers: int, min_rows: int,
            params: Callable[[PlannedDataset], InferParams]) -> list[tuple[float, TaskItem]]:
    total = sum(d.rows * d.row_cost for d in datasets)
    share = total / workers if workers else total
    pieces: list[tuple[float, TaskItem]] = []
    for d in datasets:
        cost = d.rows * d.row_cost
        if workers > 1 and cost > share and d.rows >= 2 * min_rows:
            n = min(workers, max(1, round(cost / share)), d.rows // min_rows)
            bounds = [round(k * d.rows / n) for k in range(n + 1)]
            for a, b in zip(bounds, bounds[1:]):
                pieces.append(((b - a) * d.row_cost, TaskItem(d.dataset, d.data_dir, a, b, params(d))))
        else:
            pieces.append((cost, TaskItem(d.dataset, d.data_dir, 0, None, params(d))))
    return pieces


def whole_items(model: ModelSpec, datasets: Sequence[PlannedDataset], params: ParamsFor) -> tuple[TaskItem, ...]:
    """Every dataset whole, with ``model``'s settings on it (what an eval task scores)."""
    return tuple(TaskItem(d.dataset, d.data_dir, 0, d.rows, _params_for(params, model, d)) for d in datasets)


def _params_for(params: ParamsFor, model: ModelSpec, d: PlannedDataset) -> InferParams:
    return params if isinstance(params, InferParams) else params[model.abbr, d.dataset.abbr]


def partition(models: Sequence[ModelSpec], datasets: Sequence[PlannedDataset], *, run_dir: str,
              params: ParamsFor, workers: int = 1, backend: str = "hf", min_rows: int = 16,
              device: str | None = None) -> list[TaskSpec]:
    """Tasks for every model × worker; empty workers get no task.

    Example:
        >>> partition([], [], run_dir="/tmp/r", params=InferParams())
        []
    """
    workers = max(1, workers)
    tasks: list[TaskSpec] = []
    for model in models:
        pieces = _pieces(datasets, workers, min_rows, partial(_params_for, params, model))
        bins: list[list[TaskItem]] = [[] for _ in range(workers)]
        heap = [(0.0, k) for k in range(workers)]
        # longest first, ties by original order, onto the least-loaded worker
        for cost, item in sorted(pieces, key=lambda p: -p[0]):
            load, k = heapq.heappop(heap)
            bins[k].append(item)
            heapq.heappush(heap, (load + cost, k))
        order = {id(item): n for n, (_, item) in enumerate(pieces)}
        for k, items in enumerate(bins):
            if items:
                items.sort(key=lambda it: order[id(it)])
                tasks.append(TaskSpec(f"{model.abbr}-{k}", model, tuple(items), run_dir, model_backend(model, backend),
                                      device))
    return tasks
