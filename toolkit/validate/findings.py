"""What validation produces: findings, the report that holds them, and the options it ran with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.validate.codes import Severity, check_info

SHORT_VALUE = 40
"""Values longer than this are shortened in findings (the full text is in the file)."""


def shorten(text: str, limit: int = SHORT_VALUE) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis; line breaks shown as ``\\n``.

    Example:
        >>> shorten("a\\nb" + "x" * 50, 8)
        'a\\\\nbxxx…'
    """
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Finding:
    """One defect: which check, where (file, editor line, column), the value and what to do."""

    code: str
    severity: Severity
    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str
    hint: str

    @property
    def name(self) -> str:
        """The check's name, e.g. ``ragged-row``."""
        return check_info(self.code).name

    def to_dict(self) -> dict[str, object]:
        """The finding as JSON-ready data (the ``findings`` items of ``--json``)."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "hint": self.hint,
        }


def make_finding(
    code: str,
    file: str | Path,
    message: str | None = None,
    *,
    line: int | None = None,
    column: str | None = None,
    value: str | None = None,
    hint: str | None = None,
) -> Finding:
    """A :class:`Finding` whose severity, default message and hint come from the catalogue.

    Example:
        >>> make_finding("E101", "a.csv", line=3).severity.value
        'error'
    """
    info = check_info(code)
    return Finding(
        code=code,
        severity=info.severity,
        file=str(file),
        line=line,
        column=column,
        value=None if value is None else shorten(value),
        message=message or info.summary,
        hint=hint or info.hint,
    )


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Order by file, then line (file-level first), then code."""
    return sorted(findings, key=lambda f: (f.file, f.line or 0, f.code, f.column or ""))


@dataclass(frozen=True)
class Change:
    """One repair made by ``--fix``: a cell (line, column) or the whole file (line None)."""

    file: str
    line: int | None
    column: str | None
    before: str
    after: str
    backup: str | None = None
    """Where the original file was copied before it was rewritten (None with ``--output``)."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready data (the ``changes`` items of ``--json``)."""
        return {"file": self.file, "line": self.line, "column": self.column, "before": self.before,
                "after": self.after, "backup": self.backup}


@dataclass(frozen=True)
class ValidateOptions:
    """How to validate.

    ``split`` names the split of a single CSV file whose name does not say it (for a
    dataset folder it restricts the check to that split's files); ``subject`` restricts a
    dataset folder to one subject; ``schema`` replaces the stock schema of every split by
    a user's pandera YAML file, and ``split_schemas`` replaces only the schema of the
    splits (or ``subject_mapping``) it names. ``encoding`` names the encoding of CSV
    files that are not UTF-8 (``--encoding``; valid UTF-8 is always read as UTF-8).
    """

    shots: int = 5
    near_duplicates: bool = True
    schema: Path | None = None
    split_schemas: Mapping[str, Path] = field(default_factory=dict)
    """``{"dev"|"val"|"test"|"subject_mapping": file}`` (``--schema SPLIT=FILE``); wins over ``schema``."""
    subject: str | None = None
    split: str | None = None
    balance_min_questions: int = 20
    balance_alpha: float = 0.01
    encoding: str | None = None

    def schema_for(self, kind: str) -> Path | None:
        """The user's schema for ``kind`` (a split or ``subject_mapping``); None: the stock one.

        Example:
            >>> ValidateOptions(schema=Path("all.yaml"), split_schemas={"val": Path("v.yaml")}).schema_for("dev")
            PosixPath('all.yaml')
        """
        if kind in self.split_schemas:
            return self.split_schemas[kind]
        return self.schema if kind != "subject_mapping" else None


FORMAT_VERSION = 1
"""Version of the ``--json`` document; bumped when its shape changes."""


@dataclass(frozen=True)
class ValidationReport:
    """Every finding for one validated path, plus the files that were checked."""

    path: str
    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    changes: tuple[Change, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    """Messages for the person (how the path was read), not defects; the CLI prints them on stderr."""

    @property
    def counts(self) -> dict[str, int]:
        """``{"error": n, "warning": n, "info": n}``."""
        seen = Counter(f.severity.value for f in self.findings)
        return {s.value: seen.get(s.value, 0) for s in Severity}

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings and info allowed)."""
        return self.counts["error"] == 0

    def passed(self, strict: bool = False) -> bool:
        """True when clean enough: no errors, and with ``strict`` no warnings either."""
        return self.ok and not (strict and self.counts["warning"])

    def to_dict(self) -> dict[str, object]:
        """The ``--json`` document (see the README for its shape)."""
        return {
            "format_version": FORMAT_VERSION,
            "path": self.path,
            "ok": self.ok,
            "counts": self.counts,
            "files": list(self.files),
            "findings": [f.to_dict() for f in self.findings],
            "changes": [c.to_dict() for c in self.changes],
            "notes": list(self.notes),
        }
