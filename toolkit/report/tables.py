"""The summary as text files: ``summary/summary_<timestamp>.{txt,csv,md}``.

The txt table is aligned like OpenCompass's (tabulate's "simple" format: headers
padded by two, columns two spaces apart, all-number columns right-aligned), and wide
characters are measured as the terminal shows them. The md table keeps
OpenCompass's layout. Notes that explain the numbers (N/A exclusions, stripped
golds, what each average means) follow the table in txt and md; the csv is the
bare table for machines.

Given the rows' uncertainty (:mod:`toolkit.analysis.uncertainty`), every format keeps
OpenCompass's columns first and adds ``n, ci_low, ci_high`` after them (with several
models: ``n`` then ``ci_low:<model>, ci_high:<model>`` per model), so parsers that read
OpenCompass's columns keep working.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.cells import cell_len

from toolkit.engine.scoring import HEADER_PREFIX, Summary
from toolkit.fileio import atomic_write_text

if TYPE_CHECKING:
    from toolkit.analysis.uncertainty import RowUncertainty

SUMMARY_FORMATS: tuple[str, ...] = ("txt", "csv", "md")
_HEADER_PADDING = 2  # tabulate's MIN_PADDING, which OpenCompass's txt summary shows


def summary_timestamp(now: datetime | None = None) -> str:
    """OpenCompass's run timestamp, ``YYYYmmdd_HHMMSS``.

    Example:
        >>> summary_timestamp(datetime(2024, 5, 1, 9, 30, 0))
        '20240501_093000'
    """
    return (now or datetime.now()).strftime("%Y%m%d_%H%M%S")


def _notes_lines(summary: Summary, bullet: str, uncertainty: Sequence[RowUncertainty] | None = None) -> list[str]:
    notes = list(summary.notes)
    if uncertainty is not None:
        from toolkit.analysis.uncertainty import INTERVAL_NOTE

        notes.append(INTERVAL_NOTE)
    return ["", "notes:", *(f"{bullet}{note}" for note in notes)] if notes else []


def interval_header(models: Sequence[str]) -> list[str]:
    """The columns added after OpenCompass's: ``n, ci_low, ci_high`` (several models: per model).

    Example:
        >>> interval_header(["m"]), interval_header(["a", "b"])
        (['n', 'ci_low', 'ci_high'], ['n', 'ci_low:a', 'ci_high:a', 'ci_low:b', 'ci_high:b'])
    """
    if len(models) == 1:
        return ["n", "ci_low", "ci_high"]
    return ["n", *(f"{k}:{m}" for m in models for k in ("ci_low", "ci_high"))]


def summary_rows(summary: Summary, uncertainty: Sequence[RowUncertainty] | None = None) -> list[list[str]]:
    """The header and rows as strings: OpenCompass's columns, then ``n`` and the intervals when given."""
    table = summary.table()
    if uncertainty is None:
        return table
    table[0] += interval_header(summary.models)
    for row, unc in zip(table[1:], uncertainty):
        row.append(str(unc.n) if unc.n else "-")
        for interval in unc.intervals:
            row += ["-", "-"] if interval is None else [f"{interval.low:.2f}", f"{interval.high:.2f}"]
    return table


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - cell_len(text))
    return gap + text if right else text + gap


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_txt(summary: Summary, uncertainty: Sequence[RowUncertainty] | None = None) -> str:
    """The aligned table, then the notes (with ``uncertainty``: ``n`` and intervals after the models).

    Example:
        >>> from toolkit.engine.scoring.summary import summarise
        >>> from toolkit.engine.scoring.results import ResultRecord as R
        >>> print(format_txt(summarise([R("qwen", "ceval-law", "db9ce2", "gen", "ok", 45.0)])), end="")
        dataset    version    metric    mode      qwen
        ---------  ---------  --------  ------  ------
        ceval-law  db9ce2     accuracy  gen      45.00
    """
    table = summary_rows(summary, uncertainty)
    fixed = len(HEADER_PREFIX)
    widths = [max(cell_len(col[0]) + _HEADER_PADDING, *(cell_len(v) for v in col[1:])) for col in zip(*table)]
    # tabulate right-aligns a column only when every value is a number; so do we
    right = [i >= fixed and all(_is_number(v) for v in col[1:]) for i, col in enumerate(zip(*table))]
    lines = ["  ".join(_pad(v, w, r) for v, w, r in zip(row, widths, right)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + _notes_lines(summary, "- ", uncertainty)) + "\n"


def format_csv(summary: Summary, uncertainty: Sequence[RowUncertainty] | None = None) -> str:
    """The table as CSV (quoted only where a cell needs it, unlike OpenCompass's
    comma-to-space replacement, so error messages survive intact)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(summary_rows(summary, uncertainty))
    return out.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_md(summary: Summary, uncertainty: Sequence[RowUncertainty] | None = None) -> str:
    """The table in OpenCompass's markdown layout, then the notes as a list."""
    table = [[_md_cell(v) for v in row] for row in summary_rows(summary, uncertainty)]
    lines = ["| " + " | ".join(table[0]) + " |", "|" + " | ".join("-----" for _ in table[0]) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    return "\n".join(lines + _notes_lines(summary, "- ", uncertainty)) + "\n"


_FORMATTERS = {"txt": format_txt, "csv": format_csv, "md": format_md}


def summary_paths(summary_dir: str | Path, timestamp: str) -> dict[str, Path]:
    """``{"txt": <dir>/summary_<ts>.txt, "csv": …, "md": …}``."""
    return {fmt: Path(summary_dir) / f"summary_{timestamp}.{fmt}" for fmt in SUMMARY_FORMATS}


def write_summary_files(summary: Summary, summary_dir: str | Path, timestamp: str | None = None, *,
                        uncertainty: Sequence[RowUncertainty] | None = None) -> dict[str, Path]:
    """Write the txt, csv and md summaries atomically; return their paths by format."""
    paths = summary_paths(summary_dir, timestamp or summary_timestamp())
    for fmt, path in paths.items():
        atomic_write_text(path, _FORMATTERS[fmt](summary, uncertainty))
    return paths
