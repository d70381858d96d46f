"""Writing files so that nothing is ever left half-written, with the modes people expect.

Every file toolkit writes goes to a temporary file in the same folder first, is
flushed to disk, and is then renamed over the target (an atomic step on POSIX);
the folder is synced after the rename so that the new name survives a crash.

Modes: a new file gets what ``open()`` would give it, ``0666 & ~umask`` (folders
``0777 & ~umask``); a file that is rewritten keeps its own mode (and group). The
temporary names carry the writer's PID (:mod:`toolkit.debris`), so the next write
into a folder removes what a killed process left there.

Every byte goes through :data:`_os_write`; an error names the file people asked
for, never the temporary one (:func:`write_error` turns it into one clear line).
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from toolkit.debris import remove_stale, temp_prefix
from toolkit.errors import ToolkitError

_os_write = os.write
"""The one call that puts bytes on disk (a test double replaces it to simulate a full disk)."""

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_NOT_WRITABLE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR, errno.EEXIST})


class WriteError(ToolkitError):
    """A file could not be written: a full disk (exit 1), or a place we may not write to (exit 2)."""

    def __init__(self, message: str, *, file: str | Path | None = None, hint: str | None = None,
                 exit_code: int = 1) -> None:
        super().__init__(message, file=file, hint=hint)
        self.exit_code = exit_code


def is_disk_full(err: BaseException) -> bool:
    """True for "no space left", "quota exceeded" and "file too large"."""
    return isinstance(err, OSError) and err.errno in DISK_FULL


def write_error(err: OSError, path: str | Path | None = None, *, retry: str = "run the command again") -> WriteError:
    """The one-line error for a failed write: ``path`` (default: the error's file), what happened, what to do."""
    where = path if path is not None else err.filename
    if err.errno == errno.ENOSPC:
        return WriteError("no space left on device", file=where, hint=f"free some space on that filesystem, then {retry}")
    if err.errno == errno.EDQUOT:
        return WriteError("disk quota exceeded (no space left for you)", file=where,
                          hint=f"free some space or ask for a larger quota, then {retry}")
    if err.errno == errno.EFBIG:
        return WriteError("file too large for this filesystem", file=where, hint="write to another filesystem")
    if err.errno in _NOT_WRITABLE:
        reason = (err.strerror or str(err)).lower()
        return WriteError(f"cannot write ({reason})", file=where, exit_code=2,
                          hint="check that the folder exists and is writable")
    return WriteError(f"cannot write ({err.strerror or err})", file=where, hint=f"check the disk, then {retry}")


def os_error(err: OSError) -> ToolkitError:
    """One line for any OSError: a failed write as :func:`write_error` says it, else its reason and file."""
    if err.errno in DISK_FULL or err.errno == errno.EROFS:
        return write_error(err)
    return ToolkitError(err.strerror or str(err), file=err.filename)


def labelled(err: OSError, path: str | Path) -> OSError:
    """``err`` naming ``path`` (the file people asked for) instead of no file or a temporary one."""
    return OSError(err.errno, err.strerror or str(err), str(path))


def current_umask() -> int:
    """This process's umask (read from /proc where possible, so it is never changed, even briefly)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """``0666 & ~umask``: the mode ``open()`` gives a new file."""
    return 0o666 & ~current_umask()


def new_dir_mode() -> int:
    """``0777 & ~umask``: the mode ``mkdir`` gives a new folder."""
    return 0o777 & ~current_umask()


def fsync_dir(folder: str | Path) -> None:
    """Make a rename or a new entry in ``folder`` durable (a no-op where folders cannot be synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)


def _take_mode(fd: int, model: Path | None) -> None:
    """Give the open file ``fd`` the mode (and group, owner as root) of ``model``, or a new file's mode."""
    if not hasattr(os, "fchmod"):
        return  # no POSIX modes here (Windows)
    try:
        st = os.stat(model) if model is not None else None
    except OSError:
        st = None
    if st is None:
        os.fchmod(fd, new_file_mode())
        return
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if st.st_gid != os.getegid() or (root and st.st_uid != os.geteuid()):
        try:
            os.fchown(fd, st.st_uid if root else -1, st.st_gid)
        except OSError:
            pass  # not a member of that group: the mode still follows
    os.fchmod(fd, stat.S_IMODE(st.st_mode))


class _RawFile(io.RawIOBase):
    """A raw file whose writes go through :data:`_os_write`; errors name ``label``."""

    def __init__(self, fd: int, label: Path) -> None:
        self._fd = fd
        self._label = label

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: Any) -> int:
        try:
            return _os_write(self._fd, data)
        except OSError as err:
            raise labelled(err, self._label) from None

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self._fd)
            finally:
                super().close()


def open_fd(fd: int, mode: str, label: Path, encoding: str | None = "utf-8", newline: str | None = None) -> IO:
    """A buffered (binary or text) file object on ``fd`` whose bytes go through :data:`_os_write`."""
    buffered = io.BufferedWriter(_RawFile(fd, label), buffer_size=1 << 16)
    if "b" in mode:
        return buffered
    return io.TextIOWrapper(buffered, encoding=encoding or "utf-8", newline=newline, write_through=False)


def make_temp(target: Path) -> tuple[int, Path]:
    """Create an empty temporary file beside ``target`` (removing stale ones a killed process left there)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=".tmp", dir=target.parent)
    except OSError as err:
        raise labelled(err, target) from None
    return fd, Path(tmp)


@contextmanager
def write_temp(target: Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None,
               like: Path | None = None) -> Iterator[tuple[IO, Path]]:
    """Yield a file object on a new temporary file beside ``target``, and its path.

    On success the file is flushed, given its final mode (``like``'s, else the
    target's if it exists, else a new file's) and synced; it is left for the
    caller to rename. On any error it is removed.
    """
    fd, tmp = make_temp(target)
    handle = open_fd(fd, mode, target, encoding, newline)
    try:
        yield handle, tmp
        handle.flush()
        try:
            _take_mode(fd, like if like is not None else target)
            os.fsync(fd)
        except OSError as err:
            raise labelled(err, target) from None
        handle.close()
    except BaseException:
        try:
            handle.close()
        except OSError:
            pass  # a full disk fails the last flush too: the file goes anyway
        tmp.unlink(missing_ok=True)
        raise


def replace_into(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` over ``target`` and sync the folder."""
    try:
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise labelled(err, target) from None
    fsync_dir(target.parent)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds.

    Example:
        >>> with atomic_open("out.txt") as f:  # doctest: +SKIP
        ...     f.write("all or nothing")
    """
    target = Path(path)
    with write_temp(target, mode, encoding, newline) as (handle, tmp):
        yield handle
    replace_into(tmp, target)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (``\\n`` line endings are written as given)."""
    with atomic_open(path, "w", encoding=encoding, newline="") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def append_bytes(path: str | Path, data: bytes) -> None:
    """Append ``data`` to an existing file in full, then fsync; on failure the file is cut back as it was."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        view = memoryview(data)
        try:
            while view:
                view = view[_os_write(fd, view):]
            os.fsync(fd)
        except OSError as err:
            try:
                os.ftruncate(fd, size)  # never a torn record followed by good ones
            except OSError:
                pass
            raise labelled(err, p) from None
    finally:
        os.close(fd)


def copy_into(src: Path, handle: IO) -> None:
    """Copy the bytes of ``src`` into an open binary file object."""
    with open(src, "rb") as fh:
        shutil.copyfileobj(fh, handle, 1 << 20)


def copy_file(src: str | Path, dst: str | Path, *, keep_mode: bool = False) -> None:
    """Copy ``src`` to ``dst`` atomically: a new file's mode, or with ``keep_mode`` ``src``'s (and its times)."""
    s, d = Path(src), Path(dst)
    with write_temp(d, "wb", like=s if keep_mode else None) as (handle, tmp):
        copy_into(s, handle)
    if keep_mode:
        st = s.stat()
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    replace_into(tmp, d)


def backup_path(path: str | Path, stamp: str | None = None, taken: set[Path] | frozenset[Path] = frozenset()) -> Path:
    """The name a backup of ``path`` gets: ``<name>.bak-<YYYYmmdd-HHMMSS>`` beside it (free, not in ``taken``)."""
    p = Path(path)
    stamp = stamp or datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = p.with_name(f"{p.name}.bak-{stamp}")
    n = 1
    while candidate.exists() or candidate in taken:
        candidate = p.with_name(f"{p.name}.bak-{stamp}-{n}")
        n += 1
    return candidate
