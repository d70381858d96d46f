"""Aligned plain-text tables for stdout (``toolkit analyze``, ``toolkit compare``).

Columns two spaces apart, wide characters measured as a terminal shows them, columns
whose every value is a number right-aligned (as the summary's txt table does).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len


def _numeric(text: str) -> bool:
    text = text.rstrip("%*").replace("+", "", 1)
    try:
        float(text)
    except ValueError:
        return text in ("", "-")
    return True


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The table as lines (header, a rule, rows), each without trailing spaces.

    Example:
        >>> print(aligned(["name", "score"], [["法学", "5.00"], ["law", "45.00"]]))
        name  score
        ----  -----
        法学   5.00
        law   45.00
    """
    table = [list(header), *(list(r) for r in rows)]
    widths = [max(cell_len(v) for v in col) for col in zip(*table)]
    right = [bool(rows) and all(_numeric(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(table):
        cells = []
        for v, w, r in zip(row, widths, right):
            gap = " " * (w - cell_len(v))
            cells.append(gap + v if r and n else v + gap)
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def percent(value: float | None, digits: int = 2) -> str:
    """``45.00`` (already in percent) or ``-``."""
    return "-" if value is None else f"{value:.{digits}f}"


def pvalue(p: float | None) -> str:
    """A p-value readable at a glance: ``0.0312``, ``<0.0001``, ``1`` or ``-``.

    Example:
        >>> pvalue(0.03125), pvalue(1e-9), pvalue(1.0), pvalue(None)
        ('0.0312', '<0.0001', '1', '-')
    """
    if p is None:
        return "-"
    if p >= 1:
        return "1"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"
