"""What a killed process leaves behind, and proving it stale before removing it.

Every temporary file and staging folder toolkit makes beside its target is named
``.<target>.<pid>-<host>-<random>.tmp`` (or ``….partial`` for a folder), where
``<host>`` is a short tag of this machine (its name and PID namespace). A process
killed with SIGKILL cannot remove its temporaries; the next write into the same
folder can, but only when their creator is provably gone: the tag is ours and
the PID is not running, or is running but started after the entry was last
touched (the PID was reused). Anything else — another machine's entry, an old
name without a PID — is left alone: it may belong to a live process.

Inside a run folder whose lock we hold (:mod:`toolkit.engine.rundir.runlock`) no other
process may be writing, so every hidden ``*.tmp`` there is stale.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
from pathlib import Path

_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-(?P<host>[0-9a-f]{8})-[A-Za-z0-9_]+\.(?:tmp|partial)$")
_SLACK = 2.0
"""Seconds of clock slack when comparing a process's start with an entry's modification time."""


def _host_tag() -> str:
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return hashlib.sha1(f"{socket.gethostname()}\0{namespace}".encode()).hexdigest()[:8]


HOST_TAG = _host_tag()


def temp_prefix(name: str) -> str:
    """``.<name>.<pid>-<host>-``: the start of a temporary entry's name (mkstemp adds the rest)."""
    return f".{name}.{os.getpid()}-{HOST_TAG}-"


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def process_start(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch), where the system says (Linux); else None."""
    boot = _boot_time()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return None if boot is None else boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this machine (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def owner_gone(pid: int, touched: float) -> bool:
    """True when the process that created an entry last touched at ``touched`` has provably ended."""
    if pid == os.getpid():
        return False
    if not pid_alive(pid):
        return True
    started = process_start(pid)
    return started is not None and started > touched + _SLACK


def is_stale(path: Path) -> bool:
    """True for a temporary entry of ours whose creator has provably ended."""
    m = _NAME.match(path.name)
    if m is None or m["host"] != HOST_TAG:
        return False
    try:
        touched = path.lstat().st_mtime
    except OSError:
        return False
    return owner_gone(int(m["pid"]), touched)


def _remove(path: Path) -> int | None:
    """Remove a file or folder; return the bytes freed, None when it could not be removed."""
    try:
        if path.is_dir() and not path.is_symlink():
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path)
        else:
            size = path.lstat().st_size
            path.unlink()
    except OSError:
        return None
    return size


def remove_stale(folder: str | Path) -> list[Path]:
    """Remove the provably stale temporary files and staging folders directly in ``folder``; return them."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(".") and (entry.name.endswith(".tmp") or entry.name.endswith(".partial")):
            path = Path(entry.path)
            if is_stale(path) and _remove(path) is not None:
                removed.append(path)
    return removed


def sweep_locked_folder(root: str | Path) -> tuple[int, int]:
    """Under a lock on ``root``: remove every hidden ``*.tmp`` file and staging folder in it.

    Returns (entries removed, bytes freed). Hidden folders left empty (an emptied
    ``predictions/<model>/.partial``) are removed too, without being counted.
    """
    count = freed = 0
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            if name.startswith(".") and name.endswith(".tmp"):
                size = _remove(Path(dirpath) / name)
                if size is not None:
                    count, freed = count + 1, freed + size
        for name in dirnames:
            path = Path(dirpath) / name
            if _NAME.match(name) and name.endswith(".partial"):
                size = _remove(path)
                if size is not None:
                    count, freed = count + 1, freed + size
            elif name.startswith("."):
                try:
                    path.rmdir()  # only when empty
                except OSError:
                    pass
    return count, freed
