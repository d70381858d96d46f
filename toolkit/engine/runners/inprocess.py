"""The in-process runner: infer tasks run here, one after another (``--debug``, one worker, preloaded models).

A model is loaded once for all the tasks that use it; with ``debug`` the first error
propagates with its traceback. Each task's events also go, as plain lines, to
``logs/infer/<model>/<task>.out``, as a worker process's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolkit.engine.events import Display, Event
from toolkit.engine.rundir import LogStream, RunDirs
from toolkit.engine.tasklog import EventLog
from toolkit.engine.tasks import TaskSpec, load_task_model, run_task, write_task


class InProcessRunner:
    """Run tasks here, sequentially; a model is loaded once for all tasks that use it.

    Each task's events also go, as plain lines, to ``logs/infer/<model>/<task>.out``,
    as a worker process's do.
    """

    def __init__(self, display: Display, *, debug: bool = False, models: dict[str, Any] | None = None) -> None:
        self.display = display
        self.debug = debug
        self.models: dict[str, Any] = dict(models or {})

    def run(self, tasks: Sequence[TaskSpec], dirs: RunDirs) -> dict[str, int]:
        """Returns task id → exit code (0 ok, 1 a dataset failed)."""
        codes: dict[str, int] = {}
        for task in tasks:
            write_task(dirs.tasks / f"{task.task_id}.json", task)
            with LogStream(dirs.infer_log(task.model.abbr, task.task_id)) as log_fh:
                log = EventLog(stream=log_fh)
                abbr = task.model.abbr

                def emit(event: Event, m: str = abbr, log: EventLog = log) -> None:
                    log.handle(m, event)
                    self.display.handle(m, event)

                def load(task: TaskSpec = task, emit: Any = emit) -> Any:
                    model = load_task_model(task, emit)
                    self.models[task.model.abbr] = model
                    return model

                ok = run_task(task, emit, model=self.models.get(abbr), load=load, debug=self.debug)
            codes[task.task_id] = 0 if ok else 1
        return codes
