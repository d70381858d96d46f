"""Several files written all or nothing.

:class:`StagedWrites` writes each file to a temporary file beside its target;
nothing is renamed into place until every one of them is on disk. A full disk,
an error or Ctrl-C before that point removes every temporary file (and every
folder the batch created), so the targets are exactly as they were. The renames
at the end need no space; each is atomic, in the order the files were staged
(so a backup staged before its file is in place before the file changes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

from toolkit.fileio import backup_path, copy_into, fsync_dir, labelled, write_temp


class StagedWrites:
    """A batch of file writes committed together.

    Example:
        >>> with StagedWrites() as batch:  # doctest: +SKIP
        ...     batch.write_text("out/a.txt", "one")
        ...     batch.write_text("out/b.txt", "two")   # a.txt and b.txt appear together, or neither
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._made: list[Path] = []
        self._backups: set[Path] = set()
        self.committed: list[Path] = []

    def __enter__(self) -> StagedWrites:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

    def _folder(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue
            self._made.append(path)

    @contextmanager
    def open(self, path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = "",
             like: Path | None = None) -> Iterator[IO]:
        """Stage a file written through the yielded handle (``like``: take that file's mode)."""
        target = Path(path)
        self._folder(target.parent)
        with write_temp(target, mode, encoding, newline, like=like) as (handle, tmp):
            yield handle
        self._staged.append((tmp, target))

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        """Stage ``text`` for ``path`` (line endings as given)."""
        with self.open(path, "w", encoding=encoding, newline="") as handle:
            handle.write(text)

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        """Stage ``data`` for ``path``."""
        with self.open(path, "wb") as handle:
            handle.write(data)

    def copy(self, src: str | Path, dst: str | Path, *, keep_mode: bool = False) -> None:
        """Stage a copy of ``src`` at ``dst`` (``keep_mode``: ``src``'s mode and times, as a backup needs)."""
        s = Path(src)
        with self.open(dst, "wb", like=s if keep_mode else None) as handle:
            copy_into(s, handle)
        if keep_mode:
            st = s.stat()
            os.utime(self._staged[-1][0], ns=(st.st_atime_ns, st.st_mtime_ns))

    def backup(self, path: str | Path, stamp: str | None = None) -> Path:
        """Stage a byte-exact copy of ``path`` under a fresh ``<name>.bak-<time>`` and return that name."""
        dst = backup_path(path, stamp, self._backups)
        self._backups.add(dst)
        self.copy(path, dst, keep_mode=True)
        return dst

    def commit(self) -> list[Path]:
        """Rename every staged file into place (in staging order); return the targets."""
        folders: dict[Path, None] = {}
        try:
            while self._staged:
                tmp, target = self._staged[0]
                try:
                    os.replace(tmp, target)
                except OSError as err:
                    raise labelled(err, target) from None
                self._staged.pop(0)
                self.committed.append(target)
                folders[target.parent] = None
        except BaseException:
            self.abort()
            raise
        for folder in folders:
            fsync_dir(folder)
        self._made.clear()
        return self.committed

    def abort(self) -> None:
        """Remove every staged temporary file and every folder this batch created (when empty)."""
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()
        for folder in reversed(self._made):
            try:
                folder.rmdir()
            except OSError:
                pass
        self._made.clear()
