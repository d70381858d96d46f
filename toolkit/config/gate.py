"""The validation gate: data with validation errors stops ``gen-config`` and ``eval`` before they write.

Both say what was found and give the exact ``toolkit validate PATH`` command that lists
every finding (``--fix`` repairs what is safe); ``--no-validate`` overrides.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from toolkit.errors import DataError

DEFAULT_SHOTS = 5
"""``toolkit validate``'s own default for ``--shots``."""


def validate_command(path: str | Path, shots: int = DEFAULT_SHOTS) -> str:
    """The command that lists the findings of ``path``, ready to copy.

    Example:
        >>> validate_command("data/my bank", shots=0)
        "toolkit validate 'data/my bank' --shots 0"
    """
    extra = f" --shots {shots}" if shots != DEFAULT_SHOTS else ""
    return f"toolkit validate {shlex.quote(str(path))}{extra}"


def validation_hint(commands: Sequence[str], override: str = "--no-validate") -> str:
    """How to see and repair the findings, and how to go on anyway."""
    listed = " and ".join(f"`{c}`" for c in dict.fromkeys(commands))
    return f"run {listed} to list them (add --fix to repair what is safe), or pass {override} to go on anyway"


def check_dataset_folder(path: str | Path, *, shots: int = DEFAULT_SHOTS) -> None:
    """Validate a dataset folder as ``toolkit validate PATH --shots K`` does; DataError when it has errors."""
    from toolkit.validate import ValidateOptions, validate_path

    report = validate_path(Path(path), ValidateOptions(shots=shots))
    if report.ok:
        return
    c = report.counts
    errors = [f for f in report.findings if f.severity.value == "error"]
    first = errors[0]
    where = f"{first.file}:{first.line}" if first.line else str(first.file)
    counts = (f"{c['error']} error{'s' * (c['error'] != 1)}, {c['warning']} warning{'s' * (c['warning'] != 1)} "
              f"in {len(report.files)} file{'s' * (len(report.files) != 1)}")
    raise DataError(f"the dataset has validation errors ({counts}); the first: {where}: {first.code} {first.message}",
                    file=path, hint=validation_hint([validate_command(path, shots)]))
