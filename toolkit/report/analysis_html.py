"""``toolkit analyze --html`` and ``toolkit compare --html``: standalone pages with the question list.

The same inline CSS and question view as the run report (``templates/report/``), so a
page works offline from ``file://`` and on a phone.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from toolkit.analysis.api import ItemReport
from toolkit.analysis.compare import Comparison
from toolkit.analysis.panel import Panel
from toolkit.fileio import atomic_write_text
from toolkit.report.compare_text import significant
from toolkit.report.extras import ReportExtras
from toolkit.report.html import _environment
from toolkit.report.items_text import MIN_MODELS_NOTE
from toolkit.report.items_view import items_view
from toolkit.report.plain import percent, pvalue
from toolkit.report.questions_view import question_payload


def _common(panel: Panel, title: str, generated: str | None, flagged: set[tuple[str, int]]) -> dict[str, Any]:
    payload = question_payload(panel, flagged=flagged)
    context = ReportExtras(questions=payload if payload["rows"] else None, flags_count=len(flagged)).template_context()
    return {"title": title, "generated": generated or datetime.now().astimezone().isoformat(timespec="seconds"),
            "entries": [{"label": e.label, "run": str(e.run.path)} for e in panel.entries], **context}


def render_item_report_html(report: ItemReport, *, title: str = "toolkit item analysis",
                            generated: str | None = None) -> str:
    """The item analysis, the answer-key audit and every question, as one HTML page."""
    flagged = {(f.abbr, f.index) for f in report.audit.key_flags}
    enough = len(report.analysis.labels) >= 2
    context = _common(report.panel, title, generated, flagged)
    context.update(items=items_view(report) if enough else None,
                   few_models=MIN_MODELS_NOTE.format(n=len(report.analysis.labels)))
    return _environment().get_template("analysis.html.j2").render(**context)


def render_comparison_html(comparison: Comparison, panel: Panel, *, title: str = "toolkit comparison",
                           generated: str | None = None) -> str:
    """The comparison table and every question (with a "models disagree" filter), as one HTML page."""
    rows = []
    for r in comparison.rows:
        versus = [{"delta": f"{d:+.2f}", "bc": "-" if t is None else f"{t.b}/{t.c}", "p": pvalue(None if t is None else t.p),
                   "p_holm": pvalue(None if t is None else t.p_holm), "sig": "*" if significant(t, comparison.alpha) else ""}
                  for d, t in zip(r.deltas, r.tests)]
        rows.append({"name": r.name, "kind": r.kind, "metric": r.metric, "n": r.n,
                     "scores": [percent(v) for v in r.values], "versus": versus})
    order = [panel.labels.index(label) for label in comparison.labels]
    reordered = Panel(tuple(panel.entries[i] for i in order),
                      tuple(type(ds)(ds.abbr, ds.letters, ds.questions, tuple(ds.answers[i] for i in order),
                                     ds.paired_by_id) for ds in panel.datasets), panel.notes)
    return _environment().get_template("compare.html.j2").render(
        **_common(reordered, title, generated, set()), comparison=comparison, rows=rows,
        subjects=sum(1 for r in comparison.rows if r.kind == "subject"))


def write_item_report_html(path: str | Path, report: ItemReport) -> Path:
    """Write :func:`render_item_report_html` atomically to ``path``."""
    atomic_write_text(Path(path), render_item_report_html(report))
    return Path(path)


def write_comparison_html(path: str | Path, comparison: Comparison, panel: Panel) -> Path:
    """Write :func:`render_comparison_html` atomically to ``path``."""
    atomic_write_text(Path(path), render_comparison_html(comparison, panel))
    return Path(path)
