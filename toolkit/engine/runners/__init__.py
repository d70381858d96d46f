"""Runners: where infer tasks execute. :func:`make_runner` picks one for a run.

* :class:`~toolkit.engine.runners.inprocess.InProcessRunner`: here, one task after another;
* :class:`~toolkit.engine.runners.local.LocalRunner`: worker processes on this machine;
* :class:`~toolkit.engine.runners.slurm.SlurmRunner`: one ``srun`` job per task.

Each runs a list of :class:`~toolkit.engine.tasks.TaskSpec` in a run folder and returns every
task's exit code, feeding the task events to a :class:`~toolkit.engine.events.Display`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from toolkit.engine.events import Display
from toolkit.engine.rundir import RunDirs
from toolkit.engine.runners.inprocess import InProcessRunner
from toolkit.engine.runners.local import LocalRunner
from toolkit.engine.runners.slurm import SlurmRunner, srun_commands
from toolkit.engine.spec import EvalRunSpec
from toolkit.engine.tasks import TaskSpec
from toolkit.models import get_backend

__all__ = ["InProcessRunner", "LocalRunner", "Runner", "SlurmRunner", "make_runner", "srun_commands"]


class Runner(Protocol):
    """Runs infer tasks; returns task id → exit code (0 ok, 1 a dataset failed, else a crash)."""

    def run(self, tasks: Sequence[TaskSpec], dirs: RunDirs) -> dict[str, int]:
        """Run every task in the run folder ``dirs``."""
        ...


def make_runner(spec: EvalRunSpec, display: Display, models: Mapping[str, Any] | None = None) -> Runner:
    """Slurm jobs when asked; in this process for ``debug``, one worker or preloaded ``models``; else local workers."""
    if spec.slurm is not None and not spec.debug:
        return SlurmRunner(display, spec.slurm, max_workers=spec.max_workers)
    if spec.debug or spec.max_workers <= 1 or models:
        return InProcessRunner(display, debug=spec.debug, models=dict(models or {}))
    gpus = spec.num_gpus if get_backend(spec.backend).torch_device else 0  # a backend without torch needs no GPU slot
    return LocalRunner(display, max_workers=spec.max_workers, gpus_per_worker=gpus)
