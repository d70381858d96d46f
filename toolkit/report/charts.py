"""Bar-chart geometry for the HTML report, computed here and drawn as inline SVG.

Pure functions: a chart is laid out as rectangles and labels in pixels; the jinja2
template turns them into ``<svg>`` elements (so every label is auto-escaped). Bars
are horizontal, one row per subject or group (its name above its bars, so that a chart
scaled down to a phone's width stays readable), one bar per model, on a 0–100 axis
(accuracy in percent), with a dashed chance line at 100 / number of options (one line
when every row has the same chance, else a mark per row). A chart that would only repeat
another is left out: a category with a single subject is that subject, and a naive average
equal to the weighted one everywhere needs one chart, not two.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from toolkit.engine.scoring import Summary, SummaryRow

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BAR_HEIGHT, BAR_GAP, ROW_GAP, LABEL_HEIGHT = 12, 2, 10, 15
PLOT_WIDTH, CHAR_WIDTH, MARGIN, VALUE_ROOM = 360, 7, 8, 96
AXIS_TICKS: tuple[int, ...] = (0, 25, 50, 75, 100)
LABEL_LIMIT = (PLOT_WIDTH + VALUE_ROOM) // CHAR_WIDTH
"""Longest row label in characters (the chart's width); longer ones keep their start and end around an ellipsis."""
VALUE_LIMIT = (VALUE_ROOM - 6) // CHAR_WIDTH
"""Longest value text beside a bar (``error: …`` is cut; the tooltip and the table have it whole)."""


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
    """A labelled row of bars; ``label_y`` is the baseline of its label (above the bars)."""

    label: str
    label_y: float
    bars: tuple[Bar, ...]
    full_label: str = ""
    """The untruncated name (a tooltip), when ``label`` is shortened."""


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
    chance: tuple[tuple[float, float, float], ...] = ()
    """Dashed chance marks as (x, y1, y2): one full-height line, or one per row."""
    chance_text: str = ""
    """What the chance line is, for the caption (e.g. ``chance: 25% (1 of 4 options)``)."""


def model_colors(models: Sequence[str]) -> dict[str, str]:
    """A colour per model, in column order (the palette repeats after eight models)."""
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(models)}


def short_label(label: str, limit: int = LABEL_LIMIT) -> str:
    """``label`` cut in the middle to at most ``limit`` characters.

    Example:
        >>> short_label("middle_school_mathematics", 12)
        'middl…matics'
    """
    if len(label) <= limit:
        return label
    head = (limit - 1) // 2
    return label[:head] + "…" + label[len(label) - (limit - 1 - head):]


def bar_chart(title: str, rows: Sequence[SummaryRow], models: Sequence[str], *,
              chance: Mapping[tuple[str, str], float] | None = None, labels: Sequence[str] | None = None) -> BarChart:
    """Lay out ``rows`` (each with one cell per model) as a horizontal bar chart.

    ``chance`` maps (dataset, metric) to the accuracy of guessing, in percent; ``labels``
    replace the rows' dataset names.

    Example:
        >>> from toolkit.engine.scoring.summary import Cell, SummaryRow
        >>> row = SummaryRow("ceval-law", "-", "accuracy", "gen", "subject", (Cell("ok", 50.0, "50.00"),))
        >>> chart = bar_chart("Subjects", [row], ["m"])
        >>> chart.rows[0].bars[0].width == chart.plot_width / 2
        True
    """
    colors = model_colors(models)
    plot_x = float(MARGIN)
    bars_height = len(models) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    laid_out, y = [], float(MARGIN)
    marks: list[tuple[float, float, float]] = []
    levels = [(chance or {}).get((r.dataset, r.metric)) for r in rows]
    names = list(labels) if labels is not None else [r.dataset for r in rows]
    for row, level, name in zip(rows, levels, names):
        label = short_label(name)
        top = y + LABEL_HEIGHT
        bars = []
        for i, (model, cell) in enumerate(zip(models, row.cells)):
            value = cell.value if cell.status == "ok" and cell.value is not None else 0.0
            width = PLOT_WIDTH * max(0.0, min(value, 100.0)) / 100.0
            bars.append(Bar(top + i * (BAR_HEIGHT + BAR_GAP), width, colors[model], model, cell.text))
        if level is not None:
            marks.append((plot_x + PLOT_WIDTH * level / 100, top - 2, top + bars_height + 2))
        laid_out.append(ChartRow(label, y + LABEL_HEIGHT - 4, tuple(bars), name if label != name else ""))
        y = top + bars_height + ROW_GAP
    axis_y = y
    ticks = tuple((plot_x + PLOT_WIDTH * t / 100, str(t)) for t in AXIS_TICKS)
    known = {round(x, 6) for x in levels if x is not None}
    if len(known) == 1 and len(marks) == len(rows):  # the same chance everywhere: one line
        marks = [(marks[0][0], float(MARGIN), axis_y)]
    text = ""
    if known:
        level = next(iter(known))
        options = round(100 / level) if len(known) == 1 and abs(100 / level - round(100 / level)) < 1e-6 else None
        text = (f"dashed line: chance, {level:.4g}% (1 of {options} options)" if options
                else "dashed marks: chance, 100% / the number of options of each row's questions")
    return BarChart(title, plot_x + PLOT_WIDTH + VALUE_ROOM, axis_y + 20, plot_x, PLOT_WIDTH, axis_y,
                    tuple(laid_out), ticks, chance=tuple(marks), chance_text=text)


def _shown(rows: Sequence[SummaryRow]) -> list[tuple[str, tuple[str, ...]]]:
    """What a chart of ``rows`` shows: names and the values as printed."""
    return [(r.dataset, tuple(c.text for c in r.cells)) for r in rows]


def summary_charts(summary: Summary, *, chance: Mapping[tuple[str, str], float] | None = None,
                   single_subject_groups: Collection[str] = ()) -> list[BarChart]:
    """The report's charts: the categories (one per group metric, or one when both agree), then the subjects.

    Groups in ``single_subject_groups`` (one subject each: the subject's own bar) are left
    out of the category charts, and a category chart with no row left is not drawn.
    """
    charts = []
    naive, weighted = ([r for r in summary.rows if r.kind == "group" and r.metric == m and r.dataset not in
                        single_subject_groups] for m in ("naive_average", "weighted_average"))
    if naive and _shown(naive) == _shown(weighted):
        charts.append(bar_chart("Categories — average (naive and question-weighted agree)", naive, summary.models,
                                chance=chance))
    elif len(naive) == 1 and len(weighted) == 1:  # one group left (the overall one): one chart, two rows
        name = naive[0].dataset
        charts.append(bar_chart(f"{name} — naive and question-weighted average", [naive[0], weighted[0]],
                                summary.models, chance=chance, labels=[f"{name} (naive)", f"{name} (weighted)"]))
    else:
        for rows, label in ((naive, "naive average"), (weighted, "question-weighted average")):
            if rows:
                charts.append(bar_chart(f"Categories — {label}", rows, summary.models, chance=chance))
    subject_rows = [r for r in summary.rows if r.kind == "subject"]
    if subject_rows:
        charts.append(bar_chart("Subjects — accuracy", subject_rows, summary.models, chance=chance))
    return charts
