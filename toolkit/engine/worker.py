"""``python -m toolkit.engine.worker TASK.json``: run one infer task in its own process.

Events go to stdout as ``@@toolkit {json}`` lines for the runner to show; logs and
library chatter go to stderr (the runner writes it to ``logs/infer/…``). Exit code
0 when every dataset succeeded, 1 when one failed, 130 when interrupted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MARKER = "@@toolkit "


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m toolkit.engine.worker TASK.json", file=sys.stderr)
        return 2
    from toolkit.engine.task import read_task, run_task

    task = read_task(Path(args[0]))

    def emit(event: dict) -> None:
        sys.stdout.write(MARKER + json.dumps(event, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    try:
        return 0 if run_task(task, emit) else 1
    except KeyboardInterrupt:
        emit({"event": "interrupted"})
        return 130


if __name__ == "__main__":
    sys.exit(main())
