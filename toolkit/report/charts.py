"""Bar-chart geometry for the HTML report, computed here and drawn as inline SVG.

Pure functions: a chart is laid out as rectangles and labels in pixels; the jinja2
template turns them into ``<svg>`` elements (so every label is auto-escaped). Bars
are horizontal, one row per subject or group, one bar per model, on a 0–100 axis
(accuracy in percent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len

from toolkit.engine.scoring import Summary, SummaryRow

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BAR_HEIGHT, BAR_GAP, ROW_GAP = 12, 2, 10
PLOT_WIDTH, CHAR_WIDTH, MARGIN, VALUE_ROOM = 420, 7, 8, 150
AXIS_TICKS: tuple[int, ...] = (0, 25, 50, 75, 100)


@dataclass(frozen=True)
class Bar:
    """One model's bar in a row; ``width`` 0 and ``text`` like ``n/a`` when there is no value."""

    y: float
    width: float
    color: str
    model: str
    text: str


@dataclass(frozen=True)
class ChartRow:
    """A labelled row of bars; ``label_y`` is the baseline of its label."""

    label: str
    label_y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class BarChart:
    """A laid-out chart: plot starts at ``plot_x``; ``ticks`` are (x, label) on the axis."""

    title: str
    width: float
    height: float
    plot_x: float
    plot_width: float
    axis_y: float
    rows: tuple[ChartRow, ...]
    ticks: tuple[tuple[float, str], ...]
    bar_height: float = BAR_HEIGHT


def model_colors(models: Sequence[str]) -> dict[str, str]:
    """A colour per model, in column order (the palette repeats after eight models)."""
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(models)}


def bar_chart(title: str, rows: Sequence[SummaryRow], models: Sequence[str]) -> BarChart:
    """Lay out ``rows`` (each with one cell per model) as a horizontal bar chart.

    Example:
        >>> from toolkit.engine.scoring.summary import Cell, SummaryRow
        >>> row = SummaryRow("ceval-law", "-", "accuracy", "gen", "subject", (Cell("ok", 50.0, "50.00"),))
        >>> chart = bar_chart("Subjects", [row], ["m"])
        >>> chart.rows[0].bars[0].width == chart.plot_width / 2
        True
    """
    colors = model_colors(models)
    plot_x = MARGIN + max((cell_len(r.dataset) for r in rows), default=0) * CHAR_WIDTH + MARGIN
    row_height = len(models) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    laid_out, y = [], float(MARGIN)
    for row in rows:
        bars = []
        for i, (model, cell) in enumerate(zip(models, row.cells)):
            value = cell.value if cell.status == "ok" and cell.value is not None else 0.0
            width = PLOT_WIDTH * max(0.0, min(value, 100.0)) / 100.0
            bars.append(Bar(y + i * (BAR_HEIGHT + BAR_GAP), width, colors[model], model, cell.text))
        laid_out.append(ChartRow(row.dataset, y + row_height / 2 + 4, tuple(bars)))
        y += row_height + ROW_GAP
    axis_y = y
    ticks = tuple((plot_x + PLOT_WIDTH * t / 100, str(t)) for t in AXIS_TICKS)
    return BarChart(title, plot_x + PLOT_WIDTH + VALUE_ROOM, axis_y + 20, plot_x, PLOT_WIDTH, axis_y,
                    tuple(laid_out), ticks)


def summary_charts(summary: Summary) -> list[BarChart]:
    """The report's charts: one per group metric (categories), then one of all subjects."""
    charts = []
    for metric, label in (("naive_average", "naive average"), ("weighted_average", "question-weighted average")):
        group_rows = [r for r in summary.rows if r.kind == "group" and r.metric == metric]
        if group_rows:
            charts.append(bar_chart(f"Categories — {label}", group_rows, summary.models))
    subject_rows = [r for r in summary.rows if r.kind == "subject"]
    if subject_rows:
        charts.append(bar_chart("Subjects — accuracy", subject_rows, summary.models))
    return charts
