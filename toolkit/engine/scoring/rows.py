"""The summary's building blocks: a row, a model's cell in it, and the cell a subject's result makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from toolkit.engine.scoring.results import ResultRecord

CellStatus = Literal["ok", "n/a", "failed", "missing", "incomplete"]
ERROR_DISPLAY_LIMIT = 200


@dataclass(frozen=True)
class Cell:
    """One model's entry in one row; ``text`` is what tables print."""

    status: CellStatus
    value: float | None = None
    text: str = "-"
    questions: int = 0
    """Scored questions behind the value (for groups: of the included subjects)."""
    excluded: tuple[str, ...] = ()
    """For groups: the N/A subjects left out of the average."""


@dataclass(frozen=True)
class SummaryRow:
    """A table row: a subject (``kind="subject"``) or one average of a group."""

    dataset: str
    version: str
    metric: str
    mode: str
    kind: Literal["subject", "group"]
    cells: tuple[Cell, ...]
    detail: bool = False
    """A circular dataset's further scores (``acc_circular``, ``prior_A``…) under its headline row;
    charts, intervals and averages use the headline rows only."""


def subject_cell(record: ResultRecord | None) -> Cell:
    """A subject's headline cell: its value, ``n/a``, ``error: <last line>``, or ``-`` when it has no result."""
    if record is None:
        return Cell("missing")
    if record.status == "ok":
        assert record.value is not None
        return Cell("ok", record.value, f"{record.value:.2f}", record.counts.scored)
    if record.status == "n/a":
        return Cell("n/a", text="n/a")
    error = record.error or "unknown error"
    shown = error if len(error) <= ERROR_DISPLAY_LIMIT else error[: ERROR_DISPLAY_LIMIT - 1] + "…"
    return Cell("failed", text=f"error: {shown}")
