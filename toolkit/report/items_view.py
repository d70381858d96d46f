"""The HTML section of the item analysis and answer-key audit, prepared as plain strings for the template."""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.analysis.api import ItemReport
from toolkit.analysis.runs import Question

ROW_LIMIT = 100
"""Rows per list in the HTML section (``toolkit analyze --json`` has every question)."""


@dataclass(frozen=True)
class ItemsView:
    """What the template shows, every value already a string."""

    models: list[tuple[str, str]]
    """(label, accuracy over the scored questions)."""
    scored: int
    flags: list[dict[str, str]]
    flags_total: int
    review: list[dict[str, str]]
    review_counts: dict[str, int]
    bias_header: list[str]
    bias_rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    distractors: str = ""


def _option(question: Question | None, letter: str) -> str:
    text = dict(question.options).get(letter) if question is not None else None
    return f"{letter}. {text}" if text else letter


def items_view(report: ItemReport, limit: int = ROW_LIMIT) -> ItemsView:
    """The section's content: models, key flags, items to review and position bias (``limit`` rows per list)."""
    a, audit = report.analysis, report.audit
    lookup = {(ds.abbr, q.index): q for ds in report.panel.datasets for q in ds.questions}
    flags = []
    for f in audit.key_flags[:limit]:
        q = lookup.get((f.abbr, f.index))
        flags.append({"dataset": f.abbr, "index": str(f.index), "id": f.id or "-",
                      "question": (q.text or "") if q is not None else "", "key": _option(q, f.gold),
                      "suspected": _option(q, f.suspected),
                      "agreement": f"{len(f.agreeing)}/{f.answered} ({f.agreement:.0%})",
                      "models": ", ".join(f.agreeing), "evidence": f"{f.evidence:.1f}", "strength": f.strength})
    review = []
    for r in audit.review[:limit]:
        q = lookup.get((r.abbr, r.index))
        review.append({"dataset": r.abbr, "index": str(r.index), "id": r.id or "-", "reason": r.reason,
                       "question": (q.text or "") if q is not None else "",
                       "discrimination": "-" if r.value is None else f"{r.value:.2f}"})
    counts = {reason: sum(1 for r in audit.review if r.reason == reason)
              for reason in ("negative discrimination", "no model right", "every model right")}
    bias_rows = [[b.letter, f"{b.gold_share:.1%}", *(f"{b.predicted.get(m, 0.0):.1%}" for m in a.labels)] for b in a.bias]
    notes = [f"{x} and {y} answered identically on every question: copies count as separate models here"
             for x, y in a.identical]
    if len(a.labels) < 3:
        notes.append("discrimination (a correlation over the models) needs at least 3 models")
    notes += list(report.panel.notes)
    return ItemsView([(label, "-" if acc is None else f"{acc:.2%}") for label, acc in a.totals.items()], len(a.items),
                     flags, len(audit.key_flags), review, counts, ["letter", "gold", *a.labels], bias_rows, notes,
                     a.distractor_summary() if a.items else "")
