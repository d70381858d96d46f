"""The two entry points behind ``toolkit analyze`` and ``toolkit compare``, and their JSON.

Each reads the run folders, lines their questions up (refusing different data unless
allowed) and returns one frozen result; ``*_json`` turn it into what ``--json`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.analysis.audit import Audit, audit_items
from toolkit.analysis.compare import Comparison, compare_panel
from toolkit.analysis.items import ItemAnalysis, analyse_items
from toolkit.analysis.panel import Panel, build_panel
from toolkit.analysis.runs import Run, load_run

JSON_FORMAT_VERSION = "1"


@dataclass(frozen=True)
class ItemReport:
    """What ``toolkit analyze`` shows: the panel, its item statistics and the audit."""

    runs: tuple[Run, ...]
    panel: Panel
    analysis: ItemAnalysis
    audit: Audit


def analyze_runs(paths: Sequence[str | Path], *, allow_different_data: bool = False) -> ItemReport:
    """Item analysis and the answer-key audit over every model of the runs at ``paths``."""
    runs = tuple(load_run(p) for p in paths)
    return analyze_loaded(runs, allow_different_data=allow_different_data)


def analyze_loaded(runs: Sequence[Run], *, allow_different_data: bool = False) -> ItemReport:
    """:func:`analyze_runs` on runs already read."""
    panel = build_panel(runs, allow_different_data=allow_different_data)
    analysis = analyse_items(panel)
    return ItemReport(tuple(runs), panel, analysis, audit_items(analysis))


def run_groups(runs: Sequence[Run]) -> list[Mapping[str, Any]]:
    """The summary groups of the runs (the first definition of each name wins)."""
    seen: dict[str, Mapping[str, Any]] = {}
    for run in runs:
        for group in run.groups:
            seen.setdefault(str(group.get("name")), group)
    return list(seen.values())


def compare_runs(paths: Sequence[str | Path], *, allow_different_data: bool = False, baseline: str | None = None,
                 alpha: float = 0.05) -> tuple[Comparison, Panel]:
    """Compare the models of the runs at ``paths`` (the first model of the first run is the baseline)."""
    runs = tuple(load_run(p) for p in paths)
    panel = build_panel(runs, allow_different_data=allow_different_data)
    return compare_panel(panel, run_groups(runs), baseline=baseline, alpha=alpha), panel


def _entries_json(panel: Panel) -> list[dict[str, Any]]:
    return [{"label": e.label, "model": e.model, "run": str(e.run.path)} for e in panel.entries]


def comparison_json(comparison: Comparison, panel: Panel) -> dict[str, Any]:
    """The comparison as ``toolkit compare --json`` prints it."""
    others = comparison.labels[1:]
    rows = []
    for r in comparison.rows:
        versus = {}
        for label, delta, test in zip(others, r.deltas, r.tests):
            entry: dict[str, Any] = {"delta": round(delta, 4)}
            if test is not None:
                entry.update(b=test.b, c=test.c, p=test.p)
                if test.p_holm is not None:
                    entry.update(p_holm=test.p_holm, significant=test.p_holm <= comparison.alpha)
                else:
                    entry["significant"] = test.p <= comparison.alpha
            versus[label] = entry
        rows.append({"name": r.name, "kind": r.kind, "metric": r.metric, "n": r.n,
                     "values": {label: round(v, 4) for label, v in zip(comparison.labels, r.values)},
                     "vs_baseline": versus})
    return {"format_version": JSON_FORMAT_VERSION, "baseline": comparison.baseline, "alpha": comparison.alpha,
            "test": "exact McNemar (two-sided) on paired questions; Holm across subjects",
            "models": _entries_json(panel), "rows": rows, "notes": list(comparison.notes)}


def item_report_json(report: ItemReport) -> dict[str, Any]:
    """The item analysis and audit as ``toolkit analyze --json`` prints them."""
    a, labels = report.analysis, report.analysis.labels
    items = [{"dataset": i.abbr, "index": i.index, "id": i.id, "gold": i.gold, "answered": i.answered,
              "right": i.right, "difficulty": i.difficulty, "discrimination": i.discrimination,
              "choices": dict(i.choices), "unused_distractors": list(i.unused_distractors),
              "predictions": dict(zip(labels, i.predictions))} for i in a.items]
    flags = [{"dataset": f.abbr, "index": f.index, "id": f.id, "gold": f.gold, "suspected": f.suspected,
              "agreeing": list(f.agreeing), "answered": f.answered, "agreement": f.agreement,
              "evidence": round(f.evidence, 4), "strength": f.strength} for f in report.audit.key_flags]
    review = [{"dataset": r.abbr, "index": r.index, "id": r.id, "reason": r.reason, "discrimination": r.value}
              for r in report.audit.review]
    bias = [{"letter": b.letter, "gold_share": b.gold_share, "predicted": dict(b.predicted)} for b in a.bias]
    models = [{**e, "accuracy": a.totals.get(e["label"])} for e in _entries_json(report.panel)]
    return {"format_version": JSON_FORMAT_VERSION, "models": models, "key_flags": flags, "review": review,
            "position_bias": bias, "identical_models": [list(p) for p in a.identical], "items": items,
            "notes": list(report.panel.notes)}
