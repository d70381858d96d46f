"""What an import did: rows read, written and skipped (with reasons), per source file.

:class:`ImportReport` is what :func:`toolkit.dataset.importer.import_sheets` returns; its
:meth:`~ImportReport.to_dict` is the ``--json`` summary of ``toolkit new-dataset --from``::

    {"format_version": 1, "dataset": "data/bank", "created": true, "added": ["law"],
     "replaced": [], "backup": null, "language": "zh", "options": 4, "categories": [...],
     "subjects": [{"key", "name_en", "name_zh", "category", "counts": {"dev", "val", "test"},
                   "defaults": [fields that got default names]}],
     "rows_read": 10, "rows_written": 10, "rows_skipped": 0,
     "sources": [{"file", "format", "encoding", "subject", "splits", "rows_read",
                  "rows_written", "skipped": [{"line", "reason"}], "ignored_columns", "notes"}],
     "notes": [...]}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.dataset.questions import SkippedRow
from toolkit.dataset.write import WriteResult


@dataclass(frozen=True)
class SourceReport:
    """What happened to one source file."""

    argument: int
    """Which ``--from`` argument the file came from."""
    file: Path
    format: str
    encoding: str | None
    subject: str
    splits: tuple[str, ...]
    rows_read: int
    rows_written: int
    skipped: tuple[SkippedRow, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_sheets` read, wrote and skipped (with reasons), and the dataset it wrote."""

    result: WriteResult
    sources: tuple[SourceReport, ...]
    notes: tuple[str, ...] = ()

    @property
    def rows_read(self) -> int:
        """Data rows found in all sources (headers and blank lines not counted)."""
        return sum(s.rows_read for s in self.sources)

    @property
    def rows_written(self) -> int:
        """Rows written to split files."""
        return sum(s.rows_written for s in self.sources)

    @property
    def rows_skipped(self) -> int:
        """Rows read but not written; each has a line and a reason in its source's ``skipped``."""
        return sum(len(s.skipped) for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (``format_version`` 1)."""
        return {
            "format_version": 1, **self.result.to_dict(),
            "rows_read": self.rows_read, "rows_written": self.rows_written, "rows_skipped": self.rows_skipped,
            "sources": [
                {"file": str(s.file), "format": s.format, "encoding": s.encoding, "subject": s.subject,
                 "splits": list(s.splits), "rows_read": s.rows_read, "rows_written": s.rows_written,
                 "skipped": [{"line": k.line, "reason": k.reason} for k in s.skipped],
                 "ignored_columns": list(s.ignored_columns), "notes": list(s.notes)}
                for s in self.sources
            ],
            "notes": [*self.result.notes, *self.notes],
        }
