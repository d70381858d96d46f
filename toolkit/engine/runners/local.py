"""The local runner: N worker processes at once (``python -m toolkit.engine.worker TASK.json``).

Each worker gets its own ``--num-gpus`` GPUs through ``CUDA_VISIBLE_DEVICES`` (none on a
CPU machine) and loads its model once for all the datasets of its task. Its events come
back as ``@@toolkit {json}`` lines on its stdout; they go to the display and, as plain
lines with everything else the worker prints, to ``logs/infer/<model>/<task>.out``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue

from toolkit.engine.events import Display, Event, from_json
from toolkit.engine.rundir import LogStream, RunDirs
from toolkit.engine.tasklog import EventLog
from toolkit.engine.tasks import TaskSpec, write_task
from toolkit.engine.worker import MARKER


def visible_gpus() -> list[str]:
    """GPU ids this process may use (``CUDA_VISIBLE_DEVICES`` or all CUDA devices)."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g for g in env.split(",") if g.strip()]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - no torch/CUDA means no GPUs
        return []


@dataclass(frozen=True)
class _Worker:
    """A running worker process: its task and the GPU slot it holds."""

    proc: subprocess.Popen[str]
    slot: str
    task: TaskSpec


def _stop(procs: Sequence[subprocess.Popen[str]]) -> None:
    """Ctrl-C: ask every worker to stop, then kill those that do not within 30 s."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _event(line: str) -> Event | None:
    """The event of a worker's ``@@toolkit {json}`` line; None for any other line (it goes to the log)."""
    if not line.startswith(MARKER):
        return None
    try:
        data = json.loads(line[len(MARKER):])
    except json.JSONDecodeError:
        return None
    return from_json(data) if isinstance(data, dict) else None


class LocalRunner:
    """Up to ``max_workers`` worker processes at once, ``gpus_per_worker`` GPUs each."""

    def __init__(self, display: Display, *, max_workers: int = 1, gpus_per_worker: int = 1,
                 pythons: dict[str, str] | None = None) -> None:
        self.display = display
        self.max_workers = max(1, max_workers)
        self.gpus_per_worker = max(0, gpus_per_worker)
        self.pythons = dict(pythons or {})
        """Backend → the Python that runs its tasks (vLLM's own environment); others: this Python."""

    def python_for(self, task: TaskSpec) -> str:
        """The interpreter of ``task``'s worker."""
        return self.pythons.get(task.backend) or sys.executable

    def _slots(self) -> list[str]:
        gpus = visible_gpus() if self.gpus_per_worker else []
        if not gpus:
            return [""] * self.max_workers
        n = max(1, min(self.max_workers, len(gpus) // self.gpus_per_worker))
        return [",".join(gpus[k * self.gpus_per_worker:(k + 1) * self.gpus_per_worker]) for k in range(n)]

    def run(self, tasks: Sequence[TaskSpec], dirs: RunDirs) -> dict[str, int]:
        """Returns task id → exit code; Ctrl-C stops every worker (their saved batches stay)."""
        free = self._slots()
        threads_each = max(1, (os.cpu_count() or 1) // len(free)) if not free[0] else None
        pending = list(tasks)
        running: dict[str, _Worker] = {}
        events: Queue[tuple[str, Event]] = Queue()
        codes: dict[str, int] = {}
        try:
            while pending or running:
                while pending and free:
                    task = pending.pop(0)
                    running[task.task_id] = self._start(task, dirs, free.pop(0), threads_each, events)
                try:
                    self.display.handle(*events.get(timeout=0.2))
                except Empty:
                    pass
                for tid, worker in list(running.items()):
                    if worker.proc.poll() is not None:
                        codes[tid] = self._finished(worker, dirs, events)
                        free.append(worker.slot)
                        del running[tid]
            self._drain(events)
        except KeyboardInterrupt:
            _stop([w.proc for w in running.values()])
            raise
        return codes

    def _finished(self, worker: _Worker, dirs: RunDirs, events: Queue[tuple[str, Event]]) -> int:
        """A worker that exited: show its last events; a crash (not 0 or 1) fails its datasets."""
        time.sleep(0.05)
        self._drain(events)
        code = worker.proc.returncode
        if code not in (0, 1):
            self._record_crash(worker.task, dirs, code)
        return code

    def worker_command(self, task: TaskSpec, task_file: Path) -> list[str]:
        """The command that runs one task file (a cluster runner wraps it, e.g. in ``srun``)."""
        return [self.python_for(task), "-m", "toolkit.engine.worker", str(task_file)]

    def worker_env(self, slot: str, threads: int | None) -> dict[str, str]:
        """The worker's environment: its GPUs, unbuffered output, a thread count on CPU."""
        env = dict(os.environ, CUDA_VISIBLE_DEVICES=slot, PYTHONUNBUFFERED="1")
        if threads:
            env.setdefault("OMP_NUM_THREADS", str(threads))
        return env

    def _drain(self, events: Queue[tuple[str, Event]]) -> None:
        while True:
            try:
                model, event = events.get_nowait()
            except Empty:
                return
            self.display.handle(model, event)

    def _start(self, task: TaskSpec, dirs: RunDirs, slot: str, threads: int | None,
               events: Queue[tuple[str, Event]]) -> _Worker:
        path = dirs.tasks / f"{task.task_id}.json"
        write_task(path, task)
        env = self.worker_env(slot, threads)
        if self.python_for(task) != sys.executable:  # another environment runs this checkout's toolkit
            from toolkit.engine.backend_checks import toolkit_root

            env["PYTHONPATH"] = os.pathsep.join(p for p in (toolkit_root(), env.get("PYTHONPATH")) if p)
        log_fh = LogStream(dirs.infer_log(task.model.abbr, task.task_id))  # closed by the reader thread
        proc = subprocess.Popen(self.worker_command(task, path), stdout=subprocess.PIPE,
                                stderr=log_fh.fileno() if log_fh.fileno() >= 0 else subprocess.DEVNULL,
                                env=env, text=True, encoding="utf-8")

        plain = EventLog(stream=log_fh)

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                event = _event(line)
                if event is None:
                    log_fh.write(line)
                    continue
                plain.handle(task.model.abbr, event)
                events.put((task.model.abbr, event))
            log_fh.close()

        threading.Thread(target=read, daemon=True).start()
        return _Worker(proc, slot, task)

    def _record_crash(self, task: TaskSpec, dirs: RunDirs, code: int) -> None:
        log = dirs.infer_log(task.model.abbr, task.task_id)
        message = f"worker exited with code {code}; see {log}"
        for item in task.items:
            if dirs.read_error(task.model.abbr, item.dataset.abbr) is None:
                dirs.write_error(task.model.abbr, item.dataset.abbr, RuntimeError(message), message)
