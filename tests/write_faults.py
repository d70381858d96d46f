"""A test double of the write layer: the disk fills up after a budget of bytes (ENOSPC, as a real disk says it).

Every byte toolkit writes goes through :data:`toolkit.fileio._os_write`; replacing it
simulates a full disk where a small filesystem cannot be mounted.
"""

from __future__ import annotations

import errno
import os

import pytest


def disk_full_after(monkeypatch: pytest.MonkeyPatch, budget: int) -> list[int]:
    """``budget`` bytes go through, then a short write, then ENOSPC; returns [bytes left] for inspection."""
    from toolkit import fileio

    left = [budget]

    def write(fd: int, data) -> int:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = min(len(data), left[0])
        left[0] -= n
        return os.write(fd, bytes(data[:n]))

    monkeypatch.setattr(fileio, "_os_write", write)
    return left
