"""The HTML report: one self-contained file (inline CSS, SVG and script; nothing from a CDN).

It shows the models side by side in the summary table (with ``n`` and 95 % intervals),
bar charts per category and per subject with the chance line, the notes that explain the
numbers, every question with each model's answer (searchable; the only script, inline),
the item analysis when the run has two or more models, the failed tasks with their
errors, and the run's manifest (model, data hashes, timings: whatever the caller passes).
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
from toolkit.report.charts import VALUE_LIMIT, model_colors, summary_charts
from toolkit.report.extras import ReportExtras
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
                       title: str = DEFAULT_TITLE, generated: str | None = None,
                       extras: ReportExtras | None = None) -> str:
    """The report as one HTML string.

    ``manifest`` is shown as nested tables (dicts) and lists; ``generated`` is the
    time stamp printed under the title (default: now); ``extras`` adds intervals, chance
    lines, the questions and the item analysis (see :func:`toolkit.report.extras.run_extras`).

    Example:
        >>> from toolkit.engine.scoring.summary import summarise
        >>> from toolkit.engine.scoring.results import ResultRecord as R
        >>> html = render_html_report(summarise([R("m", "ceval-law", "db9ce2", "gen", "ok", 45.0)]), {"model": "m"})
        >>> "<svg" in html and "45.00" in html
        True
    """
    template = _environment().get_template(TEMPLATE)
    extras = extras or ReportExtras()
    return template.render(
        title=title,
        generated=generated if generated is not None else datetime.now().astimezone().isoformat(timespec="seconds"),
        summary=summary,
        charts=summary_charts(summary, chance=extras.chance, single_subject_groups=extras.single_subject_groups),
        colors=model_colors(summary.models),
        value_limit=VALUE_LIMIT,
        manifest=dict(manifest or {}),
        **extras.template_context(),
    )


def write_html_report(path: str | Path, summary: Summary, manifest: Mapping[str, Any] | None = None, *,
                      title: str = DEFAULT_TITLE, generated: str | None = None,
                      extras: ReportExtras | None = None) -> Path:
    """Render the report and write it atomically to ``path``; return the path."""
    target = Path(path)
    atomic_write_text(target, render_html_report(summary, manifest, title=title, generated=generated, extras=extras))
    return target
