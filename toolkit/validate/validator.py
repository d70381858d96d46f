"""The public entry points: validate a path, or one split file.

Import-light by design (pandas and pandera, never torch): the engine calls
:func:`validate_path` before it loads a model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from toolkit.dataset.layout import DEFAULT_CATEGORIES, SPLITS
from toolkit.validate.dataset_checks import content_findings, missing_split_findings
from toolkit.validate.findings import Finding, ValidateOptions, ValidationReport, sort_findings
from toolkit.validate.mapping_checks import read_mapping_findings
from toolkit.validate.split_file import SplitFile, check_split_file, check_split_files
from toolkit.validate.targets import Target, resolve_target

BATCH_FILES = 200
"""Files read and schema-checked together (bounds memory; pandera's cost is per call)."""


def _split_schemas(options: ValidateOptions) -> dict[str, Path]:
    """The user's schema of each split that has one (the others keep the stock schema)."""
    return {split: path for split in SPLITS if (path := options.schema_for(split)) is not None}


Progress = Callable[[int, int, str], None]
"""Called as ``progress(done, total, file)`` before each file is read."""


def _check_files(target: Target, options: ValidateOptions, progress: Progress | None) -> list[SplitFile]:
    letters = target.letters
    checked: list[SplitFile] = []
    total = len(target.files) + len(target.misnamed)  # a misnamed file is checked too (its name)
    schemas = _split_schemas(options)
    for start in range(0, len(target.files), BATCH_FILES):
        batch = target.files[start : start + BATCH_FILES]
        if progress is not None:
            progress(start, total, str(batch[0][0]))
        checked += check_split_files(batch, letters, schemas, options.encoding)
    return checked


def validate_path(
    path: str | Path, options: ValidateOptions = ValidateOptions(), progress: Progress | None = None
) -> ValidationReport:
    """Validate a CSV file, one subject (``options.subject`` or the prefix ``bank/<subject>``) or a dataset.

    Every check runs and every finding is collected; nothing stops at the first.
    Raises UsageError (exit 2) only when ``path`` names nothing to validate.

    Example:
        >>> report = validate_path("examples/raw/chinese_core_socialist_values.csv")  # doctest: +SKIP
        >>> report.counts
        {'error': 3, 'warning': 29, 'info': 0}
    """
    target = resolve_target(path, options)
    checked = _check_files(target, options, progress)
    findings: list[Finding] = list(target.findings)
    findings += [f for sf in checked for f in sf.findings]
    if target.mapping is not None and target.root is not None:
        declared = target.meta.categories if target.meta is not None else ()
        mapping_findings, _ = read_mapping_findings(
            target.mapping, (*DEFAULT_CATEGORIES, *declared), set(target.present), only=target.subject,
            schema=options.schema_for("subject_mapping"),
        )
        findings += mapping_findings + missing_split_findings(target.root, target.present, target.splits)
    findings += content_findings(checked, options)
    return ValidationReport(
        path=str(path),
        findings=tuple(sort_findings(findings)),
        files=(*(sf.file for sf in checked), *map(str, target.misnamed)),
        notes=target.notes,
    )


def validate_split_file(
    path: str | Path, split: str, letters: tuple[str, ...] | None = None, options: ValidateOptions = ValidateOptions()
) -> list[Finding]:
    """Every finding for one split file: file, row and within-file checks (duplicates, balance, shots).

    ``letters`` defaults to the option letters the header uses.

    Example:
        >>> [f.code for f in validate_split_file("bank/val/law_val.csv", "val")]  # doctest: +SKIP
        ['W208', 'E207']
    """
    checked = check_split_file(path, split, letters, schema=_split_schemas(options), encoding=options.encoding)
    return sort_findings([*checked.findings, *content_findings([checked], options)])
