"""``python -m toolkit.engine.worker TASK.json``: run one task file (infer or eval) in its own process.

Infer tasks (``tasks/<model>-<n>.json``) infer their dataset slices; eval tasks
(``tasks/eval-<model>.json``) score the predictions and write ``results/``. Events go
to stdout as ``@@toolkit {json}`` lines for the runner to show; logs and library
chatter go to stderr (the runner writes it to ``logs/infer/…``). Exit code 0 when
every dataset succeeded, 1 when one failed (or the run folder is in use, or the disk is
full), 130 when interrupted. Run by hand, a task takes the run folder's lock
(:mod:`toolkit.engine.rundir.runlock`); under a runner that holds it, it does not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from toolkit.engine.events import Event, Interrupted, to_json
from toolkit.engine.rundir import RunLock
from toolkit.errors import RunError, ToolkitError
from toolkit.fileio import os_error

MARKER = "@@toolkit "


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m toolkit.engine.worker TASK.json", file=sys.stderr)
        return 2
    path = Path(args[0])
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("kind", "infer")
    except (OSError, ValueError, AttributeError) as err:
        print(f"error: {path}: not a task file ({err})", file=sys.stderr)
        return 2

    def emit(event: Event) -> None:
        sys.stdout.write(MARKER + json.dumps(to_json(event), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    try:
        if kind == "eval":
            from toolkit.engine.tasks import read_eval_task, run_eval_task

            eval_task = read_eval_task(path)
            with RunLock(Path(eval_task.run_dir)):  # a no-op under a runner that holds it
                records = run_eval_task(eval_task, emit)
            return 1 if any(r.status == "failed" for r in records) else 0
        from toolkit.engine.tasks import read_task, run_task

        task = read_task(path)
        with RunLock(Path(task.run_dir)):
            return 0 if run_task(task, emit) else 1
    except KeyboardInterrupt:
        emit(Interrupted())
        return 130
    except RunError as err:  # the run folder is in use by another process
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ToolkitError as err:  # a task file that does not fit: its path and what is wrong
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk: one line (what was saved stays; the run resumes with -r)
        print(f"error: {os_error(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
