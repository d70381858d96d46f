"""``n`` and the 95 % intervals on a terminal: a second table under the summary's.

A table of its own, so that the scores keep their columns on a narrow terminal: dataset,
metric, ``n``, then one interval per model (``23.14–63.72``), and the note on the method.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from toolkit.analysis.uncertainty import INTERVAL_NOTE, RowUncertainty
from toolkit.engine.scoring.summary import Summary


def interval_table(summary: Summary, uncertainty: Sequence[RowUncertainty], title: str | None = "95% intervals") -> Table:
    """Dataset, metric, ``n`` and each model's interval, one row per summary row (groups after a rule)."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("dataset", overflow="fold")
    table.add_column("metric", no_wrap=True)
    table.add_column("n", justify="right")
    for model in summary.models:
        table.add_column(model, justify="right", overflow="fold")
    in_groups = False
    for row, unc in zip(summary.rows, uncertainty):
        if row.kind == "group" and not in_groups:
            table.add_section()
            in_groups = True
        cells = ["-" if i is None else f"{i.low:.2f}–{i.high:.2f}" for i in unc.intervals]
        table.add_row(row.dataset, row.metric, str(unc.n) if unc.n else "-", *cells,
                      style="bold" if row.kind == "group" else None)
    return table


def render_intervals(summary: Summary, uncertainty: Sequence[RowUncertainty]) -> RenderableType:
    """The table and the note on how the intervals are computed."""
    return Group(interval_table(summary, uncertainty), Text(f"• {INTERVAL_NOTE}", style="dim"))


def print_intervals(summary: Summary, uncertainty: Sequence[RowUncertainty], console: Console) -> None:
    """Print :func:`render_intervals` on ``console`` (after :func:`toolkit.report.terminal.print_summary`)."""
    console.print(render_intervals(summary, uncertainty))
