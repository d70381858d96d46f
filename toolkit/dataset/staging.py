"""Writing a whole dataset all or nothing.

Everything is rendered in memory first; only then does :func:`commit_files` touch
the disk. A new dataset is built in a hidden temporary folder beside its target and
renamed into place in one step. Changes to an existing dataset are staged: every
changed file is written to a temporary file beside it first, and only when all
are on disk are they renamed into place (:class:`toolkit.staged.StagedWrites`),
so an error or a full disk never leaves a dataset half-changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from toolkit.errors import UsageError
from toolkit.fileio import write_error
from toolkit.staged import StagedWrites, staging_folder


def _create(dataset_dir: Path, files: Mapping[str, str]) -> None:
    root = dataset_dir.parent
    made_root = not root.exists()
    try:
        with staging_folder(dataset_dir) as staging, StagedWrites() as batch:
            for relative, text in files.items():
                batch.write_text(staging / relative, text)
    except BaseException as err:
        if made_root and root.is_dir() and not any(root.iterdir()):
            root.rmdir()
        if isinstance(err, OSError):
            raise write_error(err, _outside(err, dataset_dir)) from None
        raise


def _outside(err: OSError, dataset_dir: Path) -> Path:
    """The path an error names, as people will know it (inside the dataset, not the staging folder)."""
    name = Path(err.filename) if err.filename else dataset_dir
    for parent in name.parents:
        if parent.parent == dataset_dir.parent and parent.name.endswith(".partial"):
            return dataset_dir / name.relative_to(parent)
    return name


def _update(dataset_dir: Path, files: Mapping[str, str]) -> None:
    try:
        with StagedWrites() as batch:
            for relative, text in files.items():
                batch.write_text(dataset_dir / relative, text)
    except OSError as err:
        raise write_error(err, err.filename or dataset_dir) from None


def commit_files(dataset_dir: str | Path, files: Mapping[str, str]) -> None:
    """Write ``{relative path: text}`` under ``dataset_dir``, all or nothing.

    A missing (or empty) ``dataset_dir`` is built aside and renamed into place;
    in an existing one every file is staged first, then all are renamed into place.
    A failed write raises :class:`toolkit.fileio.WriteError` naming the file.

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
