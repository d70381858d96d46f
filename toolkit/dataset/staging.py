"""Writing a whole dataset all or nothing.

Everything is rendered in memory first; only then does :func:`commit_files` touch
the disk. A new dataset is built in a hidden temporary folder beside its target and
renamed into place in one step. Changes to an existing dataset are written file by
file (each atomically), and if any write fails every file already written is put
back as it was, so an error never leaves a dataset half-changed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from toolkit.errors import UsageError
from toolkit.fileio import atomic_write_bytes, atomic_write_text


def _os_error(err: OSError, path: Path) -> UsageError:
    return UsageError(f"cannot write ({err.strerror or err})", file=getattr(err, "filename", None) or path,
                      hint="check that the folder exists and is writable")


def _create(dataset_dir: Path, files: Mapping[str, str]) -> None:
    root = dataset_dir.parent
    made_root = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dataset_dir.name}.", suffix=".partial", dir=root))
    except OSError as err:
        raise _os_error(err, root) from None
    try:
        for relative, text in files.items():
            atomic_write_text(staging / relative, text)
        if dataset_dir.is_dir() and not any(dataset_dir.iterdir()):
            dataset_dir.rmdir()  # an empty folder may be replaced; anything else was refused earlier
        os.rename(staging, dataset_dir)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if made_root and root.is_dir() and not any(root.iterdir()):
            root.rmdir()
        if isinstance(err, OSError):
            raise _os_error(err, dataset_dir) from None
        raise


def _update(dataset_dir: Path, files: Mapping[str, str]) -> None:
    written: list[tuple[Path, bytes | None]] = []
    new_dirs = [dataset_dir / d for d in {Path(r).parent for r in files} if not (dataset_dir / d).exists()]
    try:
        for relative, text in files.items():
            target = dataset_dir / relative
            before = target.read_bytes() if target.is_file() else None
            atomic_write_text(target, text)
            written.append((target, before))
    except BaseException as err:
        for target, before in reversed(written):
            if before is None:
                target.unlink(missing_ok=True)
            else:
                atomic_write_bytes(target, before)
        for folder in new_dirs:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if isinstance(err, OSError):
            raise _os_error(err, dataset_dir) from None
        raise


def commit_files(dataset_dir: str | Path, files: Mapping[str, str]) -> None:
    """Write ``{relative path: text}`` under ``dataset_dir``, all or nothing.

    A missing (or empty) ``dataset_dir`` is built aside and renamed into place;
    an existing one is updated file by file with rollback on any failure.

    Example:
        >>> commit_files("data/bank", {"dataset.json": "{}\\n"})  # doctest: +SKIP
    """
    target = Path(dataset_dir)
    if target.exists() and not target.is_dir():
        raise UsageError("exists and is not a folder", file=target, hint="choose another dataset name or --root")
    if target.is_dir() and any(target.iterdir()):
        _update(target, files)
    else:
        _create(target, files)
