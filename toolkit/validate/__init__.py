"""Check a question bank before any model sees it: every defect at once, with a fix for each.

Public API (import-light: pandas and pandera, never torch)::

    from toolkit.validate import validate_path, ValidateOptions
    report = validate_path("data/my_bank", ValidateOptions(shots=5))
    report.ok, report.counts, report.findings

Checks are declared in :mod:`toolkit.validate.codes`; the pandera schemas live in
``schemas/`` as YAML. :func:`fix_path` applies the safe repairs.
"""

from toolkit.validate.codes import CHECKS, CheckInfo, Severity
from toolkit.validate.findings import Change, Finding, ValidateOptions, ValidationReport
from toolkit.validate.validator import validate_path, validate_split_file

__all__ = [
    "CHECKS",
    "Change",
    "CheckInfo",
    "Finding",
    "Severity",
    "ValidateOptions",
    "ValidationReport",
    "validate_path",
    "validate_split_file",
]
