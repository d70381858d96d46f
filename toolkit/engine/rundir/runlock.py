"""One process at a time in a run folder: an advisory lock, ``<run>/.lock``.

The lock is ``flock`` on the file (the kernel drops it when the holder dies, even
by SIGKILL, so a lock is never stale); the file holds who has it — PID, host,
since when, the command — for the message a second process prints. A worker
process started by a runner that holds the lock is told so through
:data:`HELD_ENV` (and the lock file names that runner) and does not lock again;
a task file run by hand takes the lock itself.

Holding the lock proves that nothing else writes in the folder, so every hidden
``*.tmp`` there is debris of a killed run and is removed (:mod:`toolkit.debris`).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
from datetime import datetime
from pathlib import Path
from types import TracebackType

from toolkit.debris import sweep_locked_folder
from toolkit.errors import RunError

LOCK_NAME = ".lock"
HELD_ENV = "TOOLKIT_RUN_LOCK_HELD"
"""Set by the holder for the workers it starts: ``<pid>:<run folder>``."""


def _holder_text(info: dict) -> str:
    who = f"process {info.get('pid', '?')} on {info.get('host', '?')}"
    if info.get("since"):
        who += f" since {info['since']}"
    if info.get("command"):
        who += f" ({info['command']})"
    return who


class RunLock:
    """The lock on one run folder; use as a context manager or :meth:`acquire` / :meth:`release`.

    Example:
        >>> with RunLock(Path("outputs/default/20260101_120000"), command="toolkit eval -r"):  # doctest: +SKIP
        ...     ...  # only this process writes in the run folder here
    """

    def __init__(self, root: Path, *, command: str = "") -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_NAME
        self.command = command
        self._fd: int | None = None
        self.swept: tuple[int, int] = (0, 0)
        """(entries, bytes) of debris removed when the lock was taken."""

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> RunLock:
        """Take the lock (RunError naming the holder when another process has it), then sweep debris."""
        if self._held_for_us():
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                raise self._busy() from None
            try:  # the holder we waited on may have removed the file: lock the one that is there now
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self._fd = fd
        self._record()
        os.environ[HELD_ENV] = self._token()  # for the workers we start
        self.swept = sweep_locked_folder(self.root)
        return self

    def _token(self) -> str:
        return f"{os.getpid()}:{self.root.resolve()}"

    def _held_for_us(self) -> bool:
        """True in a worker whose runner (another process) holds this folder's lock right now."""
        pid, _, root = os.environ.get(HELD_ENV, "").partition(":")
        if not pid.isdigit() or int(pid) == os.getpid() or root != str(self.root.resolve()):
            return False
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return False
        return info.get("pid") == int(pid)  # the holder named in the lock file is the one that started us

    def _record(self) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": datetime.now().astimezone().isoformat(timespec="seconds"),
                "command": self.command or " ".join(sys.argv)}
        assert self._fd is not None
        data = (json.dumps(info) + "\n").encode("utf-8")
        try:  # written over the old note, then cut to length: a reader never finds it empty
            os.pwrite(self._fd, data, 0)
            os.ftruncate(self._fd, len(data))
        except OSError:
            pass  # a full disk: the lock holds all the same, only the note of who holds it is missing

    def _busy(self) -> RunError:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            info = {}
        return RunError(f"the run folder is in use by {_holder_text(info)}", file=self.root,
                        hint="wait for that run to finish (or stop it), then run the command again")

    def release(self) -> None:
        """Give the lock up and remove the lock file."""
        if self._fd is None:
            return
        if os.environ.get(HELD_ENV) == self._token():
            del os.environ[HELD_ENV]
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None
