"""Dataset paths in configs: which ones OpenCompass would swap for a download, and where data is.

OpenCompass's ``get_data_path`` (``opencompass/utils/datasets.py``) treats a config's
``path`` like this: an absolute path is used as is; a dataset id from its
``DATASETS_MAPPING`` (``opencompass/ceval-exam``) becomes that entry's local path; every
relative path is joined to ``$COMPASS_DATA_CACHE`` (empty: the CWD). If the result does
not exist it tries ``~/.cache/opencompass/<path>`` and then **downloads** the official
archive of any ``DATASETS_URL`` key found in the path (``/ceval/``, ``/mmlu/``, ``/cmmlu/``…),
or fails with "No valid url". So a user's ``./data/ceval/`` silently becomes the
official C-Eval when the folder is missing on the machine that runs OpenCompass.

:func:`check_config_data_path` keeps such paths out of the configs we write;
:func:`resolve_data_path` finds data the way ``get_data_path`` does, minus downloads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from toolkit.config.base_files import SHIPPED_CONFIGS_DIR
from toolkit.errors import DataError, UsageError

_INFO_FILE = SHIPPED_CONFIGS_DIR / "opencompass_data_paths.json"
DEFAULT_CACHE = Path("~/.cache/opencompass")
"""OpenCompass's fallback data folder (``DEFAULT_DATA_FOLDER``)."""


@cache
def _info() -> tuple[tuple[str, ...], dict[str, str]]:
    data = json.loads(_INFO_FILE.read_text(encoding="utf-8"))
    return tuple(data["download_keys"]), dict(data["local_paths"])


def download_keys() -> tuple[str, ...]:
    """OpenCompass's ``DATASETS_URL`` keys: a path containing one may be replaced by a download."""
    return _info()[0]


def dataset_ids() -> dict[str, str]:
    """OpenCompass's dataset ids and their local paths (``opencompass/ceval-exam`` → ``./data/ceval/formal_ceval``)."""
    return dict(_info()[1])


def config_data_path(dataset_dir: str | Path, *, absolute: bool = False, cwd: str | Path | None = None) -> str:
    """The ``path`` to write into a config for ``dataset_dir``: relative to the CWD, or absolute.

    Relative paths start with ``./`` (or ``../``) and use ``/``, as OpenCompass's own do.

    Example:
        >>> config_data_path("data/my_bank", cwd=".")
        './data/my_bank'
    """
    base = Path(cwd) if cwd is not None else Path.cwd()
    target = (base / Path(dataset_dir).expanduser()).resolve()
    if absolute:
        return target.as_posix()
    try:
        rel = Path(os.path.relpath(target, base.resolve())).as_posix()
    except ValueError:  # another drive on Windows: only an absolute path can name it
        return target.as_posix()
    return rel if rel.startswith("../") or rel == ".." else f"./{rel}".removesuffix("/.")


def check_config_data_path(path: str) -> None:
    """Raise UsageError if OpenCompass could replace ``path`` by an official dataset.

    Absolute paths are always safe (``get_data_path`` returns them untouched). A relative
    path is unsafe when it is one of OpenCompass's dataset ids or contains one of its
    download keys as a path segment (checked with ``/`` around it, so ``./data/ceval``
    counts as ``/ceval/``: OpenCompass joins ``val/…`` to it).

    Example:
        >>> check_config_data_path("./data/my_bank")
        >>> check_config_data_path("./data/ceval")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        toolkit.errors.UsageError: data path './data/ceval' contains '/ceval/'...
    """
    if Path(path).is_absolute() or path.startswith("/"):
        return
    if path in dataset_ids():
        raise UsageError(
            f"data path {path!r} is an OpenCompass dataset id: OpenCompass would read (or download) "
            "its official copy, not your data",
            hint="point the config at your own folder (the default), or use --abs-path",
        )
    padded = f"/{path.strip('/')}/"
    hit = next((key for key in download_keys() if key in padded), None)
    if hit is not None:
        raise UsageError(
            f"data path {path!r} contains {hit!r}: when that folder is missing, OpenCompass downloads "
            "its official dataset in its place and scores that instead",
            hint=f"use --abs-path (absolute paths are never replaced), or move the data to a folder "
            f"whose path does not contain {hit!r}",
        )


def _candidates(path: str, cache: str, cwd: Path) -> list[Path]:
    relative = dataset_ids().get(path, path)
    found = [Path(cache).expanduser() / relative] if cache else []
    found += [cwd / relative, DEFAULT_CACHE.expanduser() / relative]
    return list(dict.fromkeys(found))


def resolve_data_path(
    path: str,
    *,
    overrides: Mapping[str, str | Path] | None = None,
    cwd: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """The local folder a config's dataset ``path`` names, following OpenCompass's ``get_data_path``.

    In order: an entry of ``overrides`` (``{id_or_path: local_dir}``, what
    ``toolkit eval --data-path ID=DIR`` passes); an absolute path as is; otherwise the
    first existing of ``$COMPASS_DATA_CACHE/<p>``, ``<cwd>/<p>`` and
    ``~/.cache/opencompass/<p>``, where ``<p>`` is the local path OpenCompass maps a
    dataset id to (``opencompass/ceval-exam`` → ``./data/ceval/formal_ceval``) or the
    relative path itself. Unlike OpenCompass it never downloads: a missing folder is a
    DataError listing the places tried.

    Example:
        >>> resolve_data_path("opencompass/ceval-exam", overrides={"opencompass/ceval-exam": "/data/ceval"})
        PosixPath('/data/ceval')
    """
    env = os.environ if environ is None else environ
    if overrides:
        for key in (path, os.path.normpath(path)):
            if key in overrides:
                return Path(overrides[key]).expanduser()
    if Path(path).expanduser().is_absolute():
        return Path(path).expanduser()
    base = Path(cwd) if cwd is not None else Path.cwd()
    tried = _candidates(path, env.get("COMPASS_DATA_CACHE", ""), base)
    for candidate in tried:
        if candidate.is_dir():
            return candidate
    listed = ", ".join(str(c) for c in tried)
    what = "OpenCompass dataset id" if path in dataset_ids() else "data path"
    raise DataError(
        f"{what} {path!r} not found (tried {listed}); toolkit never downloads datasets",
        hint=f"put the data in one of those folders, or map it: --data-path {path}=/your/folder",
    )
