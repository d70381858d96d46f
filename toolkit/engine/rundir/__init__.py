"""The run folder: its layout (``<work_dir>/<timestamp>/``, :class:`RunDirs`) and its lock (:class:`RunLock`)."""

from __future__ import annotations

from toolkit.engine.rundir.runlock import HELD_ENV, RunLock
from toolkit.engine.rundir.workdir import (
    LogStream,
    RunDirs,
    claim_run_dir,
    is_timestamp,
    new_timestamp,
    resolve_run_dir,
)

__all__ = ["HELD_ENV", "LogStream", "RunDirs", "RunLock", "claim_run_dir", "is_timestamp", "new_timestamp", "resolve_run_dir"]
