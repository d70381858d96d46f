"""``toolkit gen-config --check``: is a config file's ``_<hash>`` suffix still its prompt hash?

OpenCompass names a dataset config after the hash of its prompts
(``ceval_gen_5f30c7.py``) and ships a separate script to rename stale files. The hash
is taken over the first variable whose name ends in ``_datasets``; a name whose last
``_``-part is not six hex digits (an aggregator like ``ceval_gen.py``) carries no hash
and is reported, not judged; so is a file without a ``*_datasets`` variable.

Configs are read from their text (:mod:`toolkit.config.static`), never executed: checking
a file someone sent you runs none of its code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from toolkit.config.hashing import file_suffix
from toolkit.config.loader import suffixed
from toolkit.config.static import read_config_static
from toolkit.errors import ConfigError, ToolkitError

_SUFFIXED_NAME = re.compile(r"^(?P<stem>.+)_(?P<suffix>[0-9a-f]{6})\.py$")

Status = Literal["ok", "stale", "unhashed", "no-datasets", "error"]


@dataclass(frozen=True)
class SuffixCheck:
    """The verdict on one file."""

    path: Path
    status: Status
    computed: str | None
    """The prompt hash of the file's first ``*_datasets`` list; None when it has none."""
    suffix: str | None
    """The suffix in the file name; None when the name has none."""
    error: ToolkitError | None = None
    """Why the file could not be read or hashed (status ``error``)."""

    @property
    def expected_name(self) -> str:
        """The name the file should have (for an unhashed file: its own name)."""
        m = _SUFFIXED_NAME.match(self.path.name)
        return f"{m.group('stem')}_{self.computed}.py" if m and self.computed else self.path.name

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready record (``--check --json``)."""
        return {
            "file": str(self.path),
            "status": self.status,
            "suffix": self.suffix,
            "computed": self.computed,
            "expected_name": self.expected_name,
            **({"error": str(self.error)} if self.error is not None else {}),
        }


def config_suffix(values: Mapping[str, Any], file: str | Path) -> str:
    """The 6-hex prompt hash of a read config: over its first ``*_datasets`` list, as OpenCompass takes it."""
    names = suffixed(values, "_datasets")
    if not names:
        raise ConfigError("no variable ending in _datasets: nothing to hash", file=file)
    datasets = values[names[0]]
    if not isinstance(datasets, (list, tuple)) or not datasets:
        raise ConfigError(f"{names[0]} must be a non-empty list of dataset dicts", file=file)
    try:
        return file_suffix(datasets)
    except (KeyError, TypeError, AttributeError) as err:
        raise ConfigError(f"{names[0]} cannot be hashed: a dataset dict lacks infer_cfg ({err})", file=file) from None


def check_file(path: str | Path) -> SuffixCheck:
    """Recompute the prompt hash of one config file and compare it with its name.

    Example:
        >>> check_file("toolkit/configs/datasets/ceval/ceval_gen_5f30c7.py").status  # doctest: +SKIP
        'ok'
    """
    p = Path(path)
    values = read_config_static(p)  # a checking command never runs the config's code
    m = _SUFFIXED_NAME.match(p.name)
    if not suffixed(values, "_datasets"):  # a summary-groups or model file: nothing to judge
        return SuffixCheck(p, "no-datasets", None, m.group("suffix") if m else None)
    computed = config_suffix(values, p)
    if m is None:
        return SuffixCheck(p, "unhashed", computed, None)
    return SuffixCheck(p, "ok" if m.group("suffix") == computed else "stale", computed, m.group("suffix"))


def check_files(paths: Iterable[str | Path]) -> list[SuffixCheck]:
    """:func:`check_file` for each path, in order; a file that cannot be read gets status ``error``."""
    results = []
    for p in paths:
        try:
            results.append(check_file(p))
        except ToolkitError as err:
            m = _SUFFIXED_NAME.match(Path(p).name)
            results.append(SuffixCheck(Path(p), "error", None, m.group("suffix") if m else None, err))
    return results
