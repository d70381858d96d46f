"""The summary on a terminal: a rich table, coloured by status, with the notes below."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from toolkit.engine.scoring import HEADER_PREFIX, Cell, Summary

SCORE_MIN_WIDTH = 8
"""A model's column keeps room for a score (or a short model name) on a narrow terminal."""
_STYLES = {"ok": "", "n/a": "dim", "failed": "bold red", "missing": "dim", "incomplete": "yellow"}


def _cell_text(cell: Cell) -> Text:
    return Text(cell.text, style=_STYLES[cell.status])


def summary_table(summary: Summary, title: str | None = "Summary", width: int | None = None) -> Table:
    """A rich Table of the summary: subjects, a rule, then the group averages in bold.

    On a terminal narrower than the table (``width``), long dataset and model names fold onto
    more lines instead of being cut with "…" (C-Eval's ``ceval-middle_school_*`` subjects would
    all read ``ceval-middle_schoo…``), and model names fold first, down to their scores' width.
    """
    table = Table(title=title, title_justify="left", header_style="bold")
    columns = list(zip(*summary.table())) or [(h,) for h in summary.header]
    natural = sum(max(cell_len(v) for v in col) + 3 for col in columns) + 1  # content, padding and borders
    narrow = width is not None and natural > width
    for name in HEADER_PREFIX:
        table.add_column(name, no_wrap=name != "dataset", overflow="fold")
    for model, col in zip(summary.models, columns[len(HEADER_PREFIX):]):
        scores = max((cell_len(v) for v in col[1:]), default=0)
        table.add_column(model, justify="right", overflow="fold", min_width=min(cell_len(model), SCORE_MIN_WIDTH),
                         max_width=max(SCORE_MIN_WIDTH, scores) if narrow else None)
    in_groups = False
    for row in summary.rows:
        if row.kind == "group" and not in_groups:
            table.add_section()
            in_groups = True
        style = "bold" if row.kind == "group" else None
        fixed = [Text(v, style=style or "") for v in (row.dataset, row.version, row.metric, row.mode)]
        table.add_row(*fixed, *(_cell_text(c) for c in row.cells))
    return table


def render_summary(summary: Summary, width: int | None = None) -> RenderableType:
    """The table (for a terminal ``width`` columns wide) followed by its notes, ready for ``console.print``."""
    parts: list[RenderableType] = [summary_table(summary, width=width)]
    if summary.notes:
        parts.append(Text("\n".join(f"• {note}" for note in summary.notes), style="dim"))
    return Group(*parts)


def print_summary(summary: Summary, console: Console) -> None:
    """Print the summary on ``console`` (the CLI passes its stdout console)."""
    console.print(render_summary(summary, console.width))
