"""The summary on a terminal: a rich table, coloured by status, with the notes below
(and, given the rows' uncertainty, ``n`` and a 95 % interval per model after the scores)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from toolkit.engine.summarise import HEADER_PREFIX, Cell, Summary

if TYPE_CHECKING:
    from toolkit.analysis.uncertainty import RowUncertainty

_STYLES = {"ok": "", "n/a": "dim", "failed": "bold red", "missing": "dim", "incomplete": "yellow"}


def _cell_text(cell: Cell) -> Text:
    return Text(cell.text, style=_STYLES[cell.status])


def summary_table(summary: Summary, title: str | None = "Summary",
                  uncertainty: Sequence[RowUncertainty] | None = None) -> Table:
    """A rich Table of the summary: subjects, a rule, then the group averages in bold."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for name in HEADER_PREFIX:
        table.add_column(name, no_wrap=name != "dataset")
    for model in summary.models:
        table.add_column(model, justify="right")
    if uncertainty is not None:
        table.add_column("n", justify="right")
        for model in summary.models:
            table.add_column("95% CI" + (f" {model}" if len(summary.models) > 1 else ""), justify="right", style="dim")
    in_groups = False
    for i, row in enumerate(summary.rows):
        if row.kind == "group" and not in_groups:
            table.add_section()
            in_groups = True
        style = "bold" if row.kind == "group" else None
        fixed = [Text(v, style=style or "") for v in (row.dataset, row.version, row.metric, row.mode)]
        extra = []
        if uncertainty is not None:
            unc = uncertainty[i]
            extra = [Text(str(unc.n) if unc.n else "-"),
                     *(Text("-" if c is None else f"{c.low:.2f}–{c.high:.2f}") for c in unc.intervals)]
        table.add_row(*fixed, *(_cell_text(c) for c in row.cells), *extra)
    return table


def render_summary(summary: Summary, uncertainty: Sequence[RowUncertainty] | None = None) -> RenderableType:
    """The table followed by its notes, ready for ``console.print``."""
    parts: list[RenderableType] = [summary_table(summary, uncertainty=uncertainty)]
    notes = list(summary.notes)
    if uncertainty is not None:
        from toolkit.analysis.uncertainty import INTERVAL_NOTE

        notes.append(INTERVAL_NOTE)
    if notes:
        parts.append(Text("\n".join(f"• {note}" for note in notes), style="dim"))
    return Group(*parts)


def print_summary(summary: Summary, console: Console, uncertainty: Sequence[RowUncertainty] | None = None) -> None:
    """Print the summary on ``console`` (the CLI passes its stdout console)."""
    console.print(render_summary(summary, uncertainty))
