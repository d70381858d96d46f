"""The values a config sees in place of what it imports, and how they become plain data again.

``from opencompass.datasets import CEvalDataset`` binds an :class:`ImportedName`
standing for ``"opencompass.datasets.CEvalDataset"``; a base config's dicts arrive as
:class:`ConfigDict` (attribute access, ``.deepcopy()``), as mmengine gives them;
:func:`unmarked` turns both back into strings and plain dicts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from toolkit.errors import ConfigError


@dataclass(frozen=True)
class ImportedName:
    """A name a config imported from a package we do not import (OpenCompass, mmengine, torch…).

    It stands for its dotted import path; attribute access extends the path
    (``torch.bfloat16`` → ``"torch.bfloat16"``), which is all configs do with them.
    """

    path: str

    def __getattr__(self, attr: str) -> ImportedName:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return ImportedName(f"{self.path}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """A config may not call what it imports: that would need OpenCompass itself."""
        raise ConfigError(
            f"the config calls {self.path}(...), which toolkit cannot run without OpenCompass",
            hint=f"write dict(type={self.path.rsplit('.', 1)[-1]}, ...) instead of calling it",
        )

    def __str__(self) -> str:
        return self.path


class ConfigDict(dict):
    """What a base import binds a dict to: like mmengine's ``ConfigDict``, keys read as attributes too."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def deepcopy(self) -> ConfigDict:
        """A deep copy (configs call ``dataset.deepcopy()`` on imported dataset dicts)."""
        return copy.deepcopy(self)


def imported_copy(value: Any) -> Any:
    """A base config's value as an importer gets it: its own copy, dicts as :class:`ConfigDict`."""
    if isinstance(value, dict):
        return ConfigDict({key: imported_copy(item) for key, item in value.items()})
    if isinstance(value, list):
        return [imported_copy(item) for item in value]
    if isinstance(value, tuple):
        return tuple(imported_copy(item) for item in value)
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - open files, locks…: share the object, as a plain import would
        return value


def unmarked(value: Any) -> Any:
    """``value`` with containers rebuilt and every :class:`ImportedName` replaced by its import path."""
    if isinstance(value, ImportedName):
        return value.path
    if isinstance(value, dict):
        return {key: unmarked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unmarked(item) for item in value]
    if isinstance(value, tuple):
        return tuple(unmarked(item) for item in value)
    return value
