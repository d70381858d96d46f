"""Several files written all or nothing, and folders built aside then renamed into place.

:class:`StagedWrites` writes each file to a temporary file beside its target;
nothing is renamed into place until every one of them is on disk. A full disk,
an error or Ctrl-C before that point removes every temporary file (and every
folder the batch created), so the targets are exactly as they were. The renames
at the end need no space; each is atomic, in the order the files were staged
(so a backup staged before its file is in place before the file changes).

:func:`staging_folder` builds a whole new folder (a dataset, a model, a fixed
copy, a backup) under a hidden temporary name beside it and renames it into place.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

from toolkit.debris import remove_stale, temp_prefix
from toolkit.fileio import backup_path, copy_file, copy_into, fsync_dir, labelled, new_dir_mode, write_temp


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


@contextmanager
def staging_folder(target: Path, *, like: Path | None = None, replace: bool = False) -> Iterator[Path]:
    """A hidden temporary folder beside ``target``, renamed to ``target`` when the block succeeds.

    ``target`` may exist as an empty folder (it is replaced, its mode kept), or with
    ``replace`` as any folder (moved aside, then removed once the new one is in place).
    The renamed folder gets ``like``'s mode, else an existing target's, else a new
    folder's. On any error the staging folder is removed. Stale staging folders of
    killed runs are removed first.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=temp_prefix(target.name), suffix=".partial", dir=target.parent))
    except OSError as err:
        raise labelled(err, target) from None
    old: Path | None = None
    try:
        yield staging
        model = like if like is not None else (target if target.is_dir() else None)
        os.chmod(staging, stat.S_IMODE(model.stat().st_mode) if model is not None else new_dir_mode())
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        elif replace and target.exists():
            old = Path(tempfile.mkdtemp(prefix=temp_prefix(target.name), suffix=".partial", dir=target.parent))
            os.replace(target, old)  # the debris name: removed below, or by the next write if we are killed
        try:
            os.rename(staging, target)
        except OSError as err:
            if old is not None:
                os.replace(old, target)
                old = None
            raise labelled(err, target) from None
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def copy_tree(src: str | Path, dst: str | Path, *, keep_mode: bool = False) -> None:
    """Copy the folder ``src`` into ``dst`` (which may exist), file by file with :func:`copy_file`."""
    s, d = Path(src), Path(dst)
    for dirpath, dirnames, filenames in os.walk(s):
        here = d / Path(dirpath).relative_to(s)
        here.mkdir(exist_ok=True)
        if keep_mode:
            os.chmod(here, stat.S_IMODE(os.stat(dirpath).st_mode))
        dirnames.sort()
        for name in sorted(filenames):
            copy_file(Path(dirpath) / name, here / name, keep_mode=keep_mode)


def make_backup(path: str | Path, stamp: str | None = None) -> Path:
    """Copy a file or folder, complete or not at all, to a fresh backup name beside it; return that name.

    The copy keeps the original's modes and times.
    """
    src = Path(path)
    dst = backup_path(src, stamp)
    if src.is_dir():
        try:
            with staging_folder(dst, like=src) as staging:
                copy_tree(src, staging, keep_mode=True)
        except OSError as err:
            raise labelled(err, dst) from None
    else:
        copy_file(src, dst, keep_mode=True)
    return dst
