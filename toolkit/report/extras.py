"""What a run's report shows beyond the summary: intervals, chance lines, the questions, the item analysis.

:func:`run_extras` reads the run folder once (through :mod:`toolkit.analysis.runs`), keeps
a snapshot of its questions, and prepares each part; a run folder it cannot read still
gets its summary and report, with a note saying what is missing and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from toolkit.analysis.uncertainty import (
    INTERVAL_NOTE,
    RowUncertainty,
    summary_uncertainty,
)
from toolkit.engine.scoring.results import ResultRecord
from toolkit.engine.scoring.summary import NAIVE, GroupShape, Summary, group_shapes
from toolkit.errors import ToolkitError
from toolkit.report.items_view import ItemsView
from toolkit.resources import templates_dir


@dataclass(frozen=True)
class ReportExtras:
    """The optional parts of the HTML report (all empty: the plain summary report)."""

    uncertainty: tuple[RowUncertainty, ...] | None = None
    chance: Mapping[tuple[str, str], float] = field(default_factory=dict)
    single_subject_groups: frozenset[str] = frozenset()
    questions: Mapping[str, Any] | None = None
    items: ItemsView | None = None
    flags_count: int = 0
    notes: tuple[str, ...] = ()

    def template_context(self) -> dict[str, Any]:
        """The template variables for these parts."""
        from toolkit.report.questions_view import script_json

        return {
            "uncertainty": self.uncertainty, "interval_note": INTERVAL_NOTE if self.uncertainty else None,
            "questions": self.questions, "questions_json": script_json(self.questions) if self.questions else "",
            "questions_script": questions_script() if self.questions else "", "items": self.items,
            "flags_count": self.flags_count, "extra_notes": list(self.notes),
        }


def questions_script() -> Markup:
    """The per-question view's inline script (``templates/report/questions.js``)."""
    text = (templates_dir() / "report" / "questions.js").read_text(encoding="utf-8")
    if "</" in text:
        raise ValueError("questions.js must not contain '</' (it is inlined in a <script> element)")
    return Markup(text)


def chance_levels(summary: Summary, letters: Mapping[str, int], questions: Mapping[str, int],
                  shapes: Mapping[str, GroupShape]) -> dict[tuple[str, str], float]:
    """Accuracy by guessing, in percent, per (dataset, metric): 100 / options for a subject;
    a group's naive average of its members' chance, or the question-weighted one.

    Example:
        >>> from toolkit.engine.scoring.summary import summarise, ResultRecord as R
        >>> s = summarise([R("m", "a", "v", "gen", "ok", 50.0), R("m", "b", "v", "gen", "ok", 50.0)])
        >>> chance_levels(s, {"a": 4, "b": 2}, {"a": 30, "b": 10}, {"g": GroupShape(("a", "b"), ("a", "b"))})
        {('a', 'accuracy'): 25.0, ('b', 'accuracy'): 50.0, ('g', 'naive_average'): 37.5, ('g', 'weighted_average'): 31.25}
    """
    subject = {abbr: 100 / n for abbr, n in letters.items() if n}

    def naive(name: str) -> float | None:
        parts = [naive(m) if m in shapes else subject.get(m) for m in shapes[name].members]
        known = [p for p in parts if p is not None]
        return sum(known) / len(known) if known else None

    out: dict[tuple[str, str], float] = {(r.dataset, r.metric): subject[r.dataset] for r in summary.rows
                                         if r.kind == "subject" and r.dataset in subject}
    for name, shape in shapes.items():
        value = naive(name)
        if value is not None:
            out[name, NAIVE] = value
        weights = [(subject[leaf], questions.get(leaf, 0)) for leaf in shape.leaves if leaf in subject]
        total = sum(w for _, w in weights)
        if total:
            out[name, "weighted_average"] = sum(c * w for c, w in weights) / total
    return out


def run_extras(run_dir: Any, summary: Summary, records: Iterable[ResultRecord]) -> ReportExtras:
    """Everything :class:`ReportExtras` holds for the run at ``run_dir`` (``summary`` may be a subset of it)."""
    from toolkit.analysis.api import analyze_loaded
    from toolkit.analysis.panel import build_panel
    from toolkit.analysis.runs import load_run
    from toolkit.analysis.snapshot import write_snapshots
    from toolkit.report.items_view import items_view
    from toolkit.report.questions_view import question_payload

    records = list(records)
    try:
        run = load_run(run_dir)
    except (ToolkitError, OSError) as err:
        return ReportExtras(summary_uncertainty(summary, records), notes=(f"questions not shown: {err}",))
    try:
        write_snapshots(run)
    except OSError:
        pass  # the report works without it; only a later comparison with edited data needs it
    subjects = [r.dataset for r in summary.rows if r.kind == "subject"]
    shapes = group_shapes(run.groups, subjects)
    letters = {ds.abbr: len(ds.letters) for ds in run.datasets}
    counts = {ds.abbr: sum(1 for q in ds.questions if q.gold is not None) for ds in run.datasets}
    panel = build_panel([run])
    flagged: Sequence[tuple[str, int]] = ()
    items = None
    in_summary = set(summary.models)
    if sum(1 for m in run.models if m in in_summary) >= 2:
        report = analyze_loaded([run])
        items = items_view(report)
        flagged = [(f.abbr, f.index) for f in report.audit.key_flags]
    payload = question_payload(panel, flagged=set(flagged), datasets=subjects)
    return ReportExtras(summary_uncertainty(summary, records, run.groups), chance_levels(summary, letters, counts, shapes),
                        frozenset(g for g, s in shapes.items() if len(s.leaves) == 1),
                        payload if payload["rows"] else None, items, len(flagged))
