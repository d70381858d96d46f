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

__all__ = ["InProcessRunner", "LocalRunner", "Runner", "SlurmRunner", "make_runner", "srun_commands"]


class Runner(Protocol):
    """Runs infer tasks; returns task id → exit code (0 ok, 1 a dataset failed, else a crash)."""

    def run(self, tasks: Sequence[TaskSpec], dirs: RunDirs) -> dict[str, int]:
        """Run every task in the run folder ``dirs``."""
        ...


def make_runner(spec: EvalRunSpec, display: Display, models: Mapping[str, Any] | None = None) -> Runner:
    """Slurm jobs when asked; in this process for ``debug``, one worker or preloaded ``models``; else local workers."""
    from toolkit.engine.backend_checks import vllm_python

    if spec.slurm is not None and not spec.debug:
        slurm = SlurmRunner(display, spec.slurm, max_workers=spec.max_workers)
        slurm.pythons = {"vllm": vllm_python(spec)}
        return slurm
    own_python = {abbr for abbr, b in spec.model_backends().items() if b.own_python and abbr not in (models or {})}
    if spec.debug or ((spec.max_workers <= 1 or models) and not own_python):
        return InProcessRunner(display, debug=spec.debug, models=dict(models or {}))
    gpus = spec.num_gpus if spec.on_torch() else 0  # a backend without torch needs no GPU slot
    return LocalRunner(display, max_workers=spec.max_workers, gpus_per_worker=gpus,
                       pythons={"vllm": vllm_python(spec)})
