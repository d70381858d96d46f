"""The Slurm runner: every infer task runs as one ``srun`` job, up to ``--max-num-workers`` at once.

Each task is launched the way OpenCompass's Slurm runner launches it::

    srun [-p PARTITION] [--quotatype=Q] [--qos=QOS] [--gres=gpu:N] -N1 -u -J <task id> \\
        python -m toolkit.engine.worker <run>/tasks/<task id>.json

``srun`` streams the worker's ``@@toolkit`` event lines back on its stdout, so the
progress display, the logs (``logs/infer/<model>/<task>.out``, srun's own messages
included) and crash handling are :class:`~toolkit.engine.runners.local.LocalRunner`'s.
What differs: Slurm picks the GPUs (``--gres``; no ``CUDA_VISIBLE_DEVICES`` from
us), a job that never started (bad partition, unknown QOS, more GPUs than a node
has) is recorded as a failed dataset with srun's error line, and Ctrl-C ends the
jobs through srun (its SIGTERM handling cancels a pending or running job).

The node running a job must see the same file system (the run folder and this
Python), as with OpenCompass.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from toolkit.engine.events import Display, Failed, NullDisplay
from toolkit.engine.rundir import RunDirs
from toolkit.engine.runners.local import LocalRunner
from toolkit.engine.spec import SlurmOptions
from toolkit.engine.tasks import TaskSpec
from toolkit.errors import RunError, UsageError

# srun's own reasons for a job that did not run or was stopped; per-task exit reports are not reasons
_SLURM_ERROR = re.compile(r"^(srun|slurmstepd[\w.-]*): (error|fatal): (?!.*: tasks? [\d,-]+: )|^srun: unrecognized option")


def find_srun() -> str:
    """The path of ``srun``; a UsageError naming the fix when it is not on PATH."""
    found = shutil.which("srun")
    if found is None:
        raise UsageError("--slurm needs `srun`, which is not on PATH",
                         hint="run on a Slurm login node (or add Slurm's bin folder to PATH), or drop --slurm to run on this machine")
    return found


def srun_prefix(options: SlurmOptions, *, job_name: str, num_gpus: int, srun: str = "srun") -> list[str]:
    """The ``srun …`` words put before a task's command.

    Example:
        >>> srun_prefix(SlurmOptions(partition="llm", qos="high"), job_name="m-0", num_gpus=2)
        ['srun', '-p', 'llm', '--qos=high', '--gres=gpu:2', '-N1', '-u', '-J', 'm-0']
        >>> srun_prefix(SlurmOptions(), job_name="m-1", num_gpus=0)
        ['srun', '-N1', '-u', '-J', 'm-1']
    """
    words = [srun]
    if options.partition:
        words += ["-p", options.partition]
    if options.quotatype:
        words.append(f"--quotatype={options.quotatype}")
    if options.qos:
        words.append(f"--qos={options.qos}")
    if num_gpus > 0:
        words.append(f"--gres=gpu:{num_gpus}")
    return words + ["-N1", "-u", "-J", job_name]


def task_path(task: TaskSpec) -> Path:
    """Where the runner writes a task's file (``<run>/tasks/<task id>.json``)."""
    return RunDirs(Path(task.run_dir)).tasks / f"{task.task_id}.json"


def srun_commands(tasks: Sequence[TaskSpec], options: SlurmOptions) -> dict[str, list[str]]:
    """Each task's full ``srun`` command line, as ``--dry-run`` shows it (``srun`` need not be installed)."""
    runner = SlurmRunner(NullDisplay(), options, srun="srun")
    return {t.task_id: runner.worker_command(t, task_path(t)) for t in tasks}


def slurm_error(log: Path, offset: int = 0) -> str | None:
    """The line in which srun or slurmstepd says why a job did not run or was stopped: the first
    ``fatal`` line, else the first ``error`` line that is not a task's exit report.

    Only the part of ``log`` from byte ``offset`` on is read (logs grow across resumed runs).
    """
    try:
        with open(log, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    reasons = [line.strip() for line in text.splitlines() if _SLURM_ERROR.match(line.strip())]
    return next((r for r in reasons if ": fatal: " in r), reasons[0] if reasons else None)


class SlurmRunner(LocalRunner):
    """Run each task as a Slurm job through ``srun``; ``max_workers`` jobs at once."""

    def __init__(self, display: Display, options: SlurmOptions | None = None, *, max_workers: int = 1,
                 srun: str | None = None) -> None:
        # no local GPU slots: Slurm gives each job its GPUs (--gres) and sets CUDA_VISIBLE_DEVICES
        super().__init__(display, max_workers=max_workers, gpus_per_worker=0)
        self.options = options or SlurmOptions()
        self.srun = srun or find_srun()

    def worker_command(self, task: TaskSpec, task_file: Path) -> list[str]:
        """``srun … -J <task id>`` followed by the local worker command."""
        gpus = 0 if task.device == "cpu" else task.model.num_gpus  # --device cpu reserves no GPU
        prefix = srun_prefix(self.options, job_name=task.task_id, num_gpus=gpus, srun=self.srun)
        return prefix + super().worker_command(task, task_file)

    def worker_env(self, slot: str, threads: int | None) -> dict[str, str]:
        """This environment (srun exports it to the job) without GPU choices or thread counts of this machine."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("CUDA_VISIBLE_DEVICES", None)
        return env

    def run(self, tasks: Sequence[TaskSpec], dirs: RunDirs) -> dict[str, int]:
        """Returns task id → srun's exit code; jobs that did not run are recorded as failed datasets."""
        logs = {t.task_id: dirs.infer_log(t.model.abbr, t.task_id) for t in tasks}
        offsets = {tid: log.stat().st_size if log.is_file() else 0 for tid, log in logs.items()}
        # Ctrl-C: LocalRunner sends srun SIGTERM, on which srun cancels its job (pending or running);
        # a job whose srun is killed outright is ended by Slurm itself (tests check both)
        codes = super().run(tasks, dirs)
        for task in tasks:
            if codes.get(task.task_id, 0) != 0:
                reason = slurm_error(logs[task.task_id], offsets[task.task_id])
                if reason is not None:
                    self._record_slurm_failure(task, dirs, reason, logs[task.task_id])
        return codes

    def _record_slurm_failure(self, task: TaskSpec, dirs: RunDirs, reason: str, log: Path) -> None:
        error = RunError(reason, hint=f"check -p/--qos/--quotatype and --num-gpus against `sinfo`; "
                                      f"Slurm job {task.task_id}'s output is in {log}")
        for item in task.items:
            recorded = dirs.read_error(task.model.abbr, item.dataset.abbr)
            if recorded is None or recorded.startswith("RuntimeError: worker exited with code"):
                dirs.write_error(task.model.abbr, item.dataset.abbr, error, str(error))
                self.display.handle(task.model.abbr, Failed(item.dataset.abbr, str(error)))

