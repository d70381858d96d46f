"""Writing files so that nothing is ever left half-written.

Every file toolkit writes goes to a temporary file in the same folder first and
is then renamed over the target (an atomic step on POSIX and Windows).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds.

    Example:
        >>> with atomic_open("out.txt") as f:  # doctest: +SKIP
        ...     f.write("all or nothing")
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (``\\n`` line endings are written as given)."""
    with atomic_open(path, "w", encoding=encoding, newline="") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def backup_path(path: str | Path, stamp: str | None = None) -> Path:
    """The name a backup of ``path`` gets: ``<name>.bak-<YYYYmmdd-HHMMSS>`` beside it."""
    p = Path(path)
    stamp = stamp or datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = p.with_name(f"{p.name}.bak-{stamp}")
    n = 1
    while candidate.exists():
        candidate = p.with_name(f"{p.name}.bak-{stamp}-{n}")
        n += 1
    return candidate


def make_backup(path: str | Path, stamp: str | None = None) -> Path:
    """Copy a file or folder to a fresh backup name beside it and return that name."""
    src = Path(path)
    dst = backup_path(src, stamp)
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)
    return dst
