"""What :func:`toolkit.engine.run_eval` gives back: :class:`EvalOutcome`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.engine.scoring import ResultRecord, Summary
from toolkit.engine.tasks import TaskSpec


@dataclass(frozen=True)
class EvalOutcome:
    """What a run produced."""

    run_dir: Path
    tasks: tuple[TaskSpec, ...]
    records: tuple[ResultRecord, ...] = ()
    summary: Summary | None = None
    manifest: Mapping[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    commands: Mapping[str, list[str]] = field(default_factory=dict)
    """Task id → the command a dry run would launch (Slurm runs: the ``srun`` line)."""
    reports: Mapping[str, Path] = field(default_factory=dict)
    """What ``run_eval``'s ``finish`` step wrote (the summary files by format)."""
    summary_stamp: str | None = None
    """The ``<stamp>`` of ``summary/summary_<stamp>.*`` (default: the run folder's name)."""

    @property
    def failed(self) -> list[ResultRecord]:
        """Records of datasets whose task failed."""
        return [r for r in self.records if r.status == "failed"]

    def plan(self) -> list[dict[str, Any]]:
        """A dry run's tasks: id, model, the dataset slices (``abbr``, ``rows``, ``data``) and, for
        Slurm, the ``command``; what ``toolkit eval --dry-run`` lists."""
        plan: list[dict[str, Any]] = []
        for task in self.tasks:
            entry: dict[str, Any] = {"task": task.task_id, "model": task.model.abbr, "items": [
                {"abbr": i.dataset.abbr, "rows": f"{i.start}:{'' if i.stop is None else i.stop}", "data": i.data_dir}
                for i in task.items]}
            if task.task_id in self.commands:
                entry["command"] = self.commands[task.task_id]
            plan.append(entry)
        return plan
