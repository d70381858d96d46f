"""The run folder, as OpenCompass users know it, plus what OpenCompass leaves out.

```
<work_dir>/<YYYYMMDD_HHMMSS>/
    configs/         the resolved run spec (models, datasets) as JSON
    tasks/           one JSON file per infer task and per model's eval task (each runnable alone)
    predictions/<model>/<abbr>.json      origin_prompt, prediction, gold (+ .partial/ while running)
    results/<model>/<abbr>.json          accuracy, status, counts
    summary/summary_<ts>.{txt,csv,md,html}
    logs/infer/<model>/<task>.out        each infer task's log
    logs/eval/<model>/eval-<model>.out   each eval task's log
    status/<model>/<abbr>.error          a failed dataset's error (last line first, then the traceback)
    manifest.json    model and its parameters, data file hashes, config hashes, versions, timings, machine
    .lock            while a process works on the run: its PID, host and start (toolkit.engine.rundir.runlock)
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from toolkit.errors import UsageError
from toolkit.fileio import atomic_write_text

_STAMP = re.compile(r"^\d{8}_\d{6}$")


def new_timestamp() -> str:
    """``YYYYMMDD_HHMMSS`` (local time), OpenCompass's run folder name."""
    return datetime.now().strftime("%Y%m%d_%H%M%S")


def is_timestamp(text: str) -> bool:
    """True for ``20261129_141502``-style names."""
    return bool(_STAMP.match(text))


def resolve_run_dir(work_dir: Path, reuse: str | None) -> tuple[Path, bool]:
    """The run folder to use and whether it is reused.

    ``reuse`` None → a new timestamped folder; ``"latest"`` → the newest existing run
    (a new one if there is none); a timestamp → that run (an error if it does not exist).
    """
    work_dir = Path(work_dir)
    if reuse is None:
        stamp = new_timestamp()
        path = work_dir / stamp
        n = 1
        while path.exists():  # two runs in the same second
            path = work_dir / f"{stamp}_{n}"
            n += 1
        return path, False
    runs = sorted(p for p in work_dir.glob("*") if p.is_dir() and is_timestamp(p.name[:15]))
    if reuse == "latest":
        return (runs[-1], True) if runs else resolve_run_dir(work_dir, None)
    path = work_dir / reuse
    if not path.is_dir():
        listed = ", ".join(p.name for p in runs[-5:]) or "none"
        raise UsageError(f"no run {reuse!r} under {work_dir}", hint=f"existing runs: {listed}")
    return path, True


def claim_run_dir(path: Path) -> Path:
    """Create the new run folder ``path``; when another run took that name meanwhile, the next free one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = path, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            candidate = path.parent / f"{path.name[:15]}_{n}"
            n += 1


class LogStream:
    """A log file (appended to) that never fails the run: after a failed write (a full disk) it goes quiet.

    Example:
        >>> with LogStream(Path("run/logs/infer/m/m-0.out")) as log:  # doctest: +SKIP
        ...     print("loaded", file=log, flush=True)
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.failed = False
        self._fh: TextIO | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # closed by close()
        except OSError:
            self.failed = True

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, text: str) -> int:
        """Append ``text`` (nothing once a write has failed)."""
        if self._fh is not None and not self.failed:
            try:
                return self._fh.write(text)
            except (OSError, ValueError):
                self.failed = True
        return len(text)

    def flush(self) -> None:
        """Flush what is buffered, quietly."""
        if self._fh is not None and not self.failed:
            try:
                self._fh.flush()
            except (OSError, ValueError):
                self.failed = True

    def fileno(self) -> int:
        """The file descriptor (a worker process writes its stderr there); -1 without a file."""
        return self._fh.fileno() if self._fh is not None else -1

    def isatty(self) -> bool:
        """A log file is no terminal."""
        return False

    def close(self) -> None:
        """Close the file, quietly."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None


@dataclass(frozen=True)
class RunDirs:
    """Paths inside one run folder."""

    root: Path

    @property
    def stamp(self) -> str:
        """The run's timestamp (its folder name)."""
        return self.root.name

    @property
    def predictions(self) -> Path:
        """``predictions/``."""
        return self.root / "predictions"

    @property
    def results(self) -> Path:
        """``results/``."""
        return self.root / "results"

    @property
    def summary(self) -> Path:
        """``summary/``."""
        return self.root / "summary"

    @property
    def tasks(self) -> Path:
        """``tasks/``."""
        return self.root / "tasks"

    @property
    def configs(self) -> Path:
        """``configs/``."""
        return self.root / "configs"

    @property
    def manifest(self) -> Path:
        """``manifest.json``."""
        return self.root / "manifest.json"

    def infer_log(self, model: str, task_id: str) -> Path:
        """``logs/infer/<model>/<task>.out``."""
        return self.root / "logs" / "infer" / model / f"{task_id}.out"

    def eval_log(self, model: str, task_id: str) -> Path:
        """``logs/eval/<model>/<task>.out``."""
        return self.root / "logs" / "eval" / model / f"{task_id}.out"

    def error_file(self, model: str, abbr: str) -> Path:
        """``status/<model>/<abbr>.error``."""
        return self.root / "status" / model / f"{abbr}.error"

    def write_error(self, model: str, abbr: str, err: BaseException, trace: str) -> bool:
        """Record a failed dataset: the error's last line first, then the traceback.

        Never raises for a write that fails (the disk may be the very thing that is full):
        returns False then, and the caller still has the error in hand.
        """
        from toolkit.engine.scoring import last_error_line

        try:
            atomic_write_text(self.error_file(model, abbr), last_error_line(err) + "\n\n" + trace)
        except OSError:
            return False
        return True

    def read_error(self, model: str, abbr: str) -> str | None:
        """The last error line recorded for a dataset, if any."""
        path = self.error_file(model, abbr)
        return path.read_text(encoding="utf-8").split("\n", 1)[0] if path.is_file() else None

    def clear_error(self, model: str, abbr: str) -> None:
        """Forget an earlier failure (the dataset is being retried)."""
        self.error_file(model, abbr).unlink(missing_ok=True)

    def make(self) -> RunDirs:
        """Create the folders."""
        for p in (self.predictions, self.results, self.summary, self.tasks, self.configs):
            p.mkdir(parents=True, exist_ok=True)
        return self
