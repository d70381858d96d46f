"""The error hierarchy: every error a person can fix says where and how.

The library raises these; only :mod:`toolkit.cli` turns them into a message on
stderr and an exit code (2 for usage errors, 1 for data and run errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, and optionally a line (as an editor counts) and a column."""

    file: str | Path | None = None
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


class ToolkitError(Exception):
    """Base class: a message, an optional location and a hint on how to fix it.

    Example:
        >>> str(ToolkitError("no such file", hint="check the path", file="a.csv"))
        'a.csv: no such file (fix: check the path)'
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        file: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = Location(file, line, column)

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" (fix: {self.hint})"
        return text


class UsageError(ToolkitError):
    """The command was called wrongly: a bad option, a missing file, an existing target."""

    exit_code = 2


class DataError(ToolkitError):
    """The input data is wrong: a bad encoding, unknown columns, a defective row."""

    exit_code = 1


class ConfigError(ToolkitError):
    """A config file cannot be read or uses something we do not support."""

    exit_code = 2


class RunError(ToolkitError):
    """Inference or scoring failed (model load, out of memory, a failed task)."""

    exit_code = 1


class MissingDependencyError(ToolkitError):
    """An optional dependency is needed for this feature: a model backend registered with an ``extra``
    (:data:`toolkit.models.BACKENDS`) whose packages are not installed; the hint names the extra."""

    exit_code = 2
