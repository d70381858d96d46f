"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no CDN).

It shows the models side by side in the summary table, bar charts per category and
per subject, the notes that explain the numbers, the failed tasks with their errors,
and the run's manifest (model, data hashes, timings: whatever the caller passes).
Rendered from ``templates/report/report.html.j2`` with autoescaping on, so dataset
names and error messages can never inject markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from toolkit.engine.scoring import Summary
from toolkit.fileio import atomic_write_text
from toolkit.report.charts import model_colors, summary_charts
from toolkit.resources import templates_dir

TEMPLATE = "report.html.j2"
DEFAULT_TITLE = "toolkit evaluation report"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir() / "report"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html_report(summary: Summary, manifest: Mapping[str, Any] | None = None, *,
                       title: str = DEFAULT_TITLE, generated: str | None = None) -> str:
    """The report as one HTML string.

    ``manifest`` is shown as nested tables (dicts) and lists; ``generated`` is the
    time stamp printed under the title (default: now).

    Example:
        >>> from toolkit.engine.scoring.summary import summarise
        >>> from toolkit.engine.scoring.results import ResultRecord as R
        >>> html = render_html_report(summarise([R("m", "ceval-law", "db9ce2", "gen", "ok", 45.0)]), {"model": "m"})
        >>> "<svg" in html and "45.00" in html
        True
    """
    template = _environment().get_template(TEMPLATE)
    return template.render(
        title=title,
        generated=generated if generated is not None else datetime.now().astimezone().isoformat(timespec="seconds"),
        summary=summary,
        charts=summary_charts(summary),
        colors=model_colors(summary.models),
        manifest=dict(manifest or {}),
    )


def write_html_report(path: str | Path, summary: Summary, manifest: Mapping[str, Any] | None = None, *,
                      title: str = DEFAULT_TITLE, generated: str | None = None) -> Path:
    """Render the report and write it atomically to ``path``; return the path."""
    target = Path(path)
    atomic_write_text(target, render_html_report(summary, manifest, title=title, generated=generated))
    return target
