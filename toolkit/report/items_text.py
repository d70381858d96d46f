"""``toolkit analyze`` on stdout: the models, the answer-key audit, the items to review, position bias."""

from __future__ import annotations

from toolkit.analysis.api import ItemReport
from toolkit.analysis.audit import KeyFlag
from toolkit.report.plain import aligned

MIN_MODELS_NOTE = "item statistics and the answer-key audit need at least 2 models; these runs have {n}"


def _more(shown: int, total: int) -> list[str]:
    return [f"… and {total - shown} more (--top 0 shows all; --json has every question)"] if total > shown else []


def _id(value: str | None) -> str:
    return "-" if value is None else value


def _flag_row(f: KeyFlag) -> list[str]:
    return [f.abbr, str(f.index), _id(f.id), f.gold, f.suspected, f"{len(f.agreeing)}/{f.answered} ({f.agreement:.0%})",
            f"{f.evidence:.1f}", f.strength]


def format_item_report(report: ItemReport, top: int = 20) -> str:
    """The analysis as text; each list shows its first ``top`` rows (0: all)."""
    a, audit = report.analysis, report.audit
    limit = (lambda rows: rows) if top <= 0 else (lambda rows: rows[:top])
    out = []
    scored = len(a.items)
    models = ", ".join(f"{label} {'-' if acc is None else f'{acc:.2%}'}" for label, acc in a.totals.items())
    out.append(f"Models ({len(a.labels)}), accuracy over the {scored} scored questions: {models}")
    if len(a.labels) < 2:
        out += ["", MIN_MODELS_NOTE.format(n=len(a.labels))]
    else:
        flags = list(audit.key_flags)
        out += ["", f"Check the answer key: {len(flags)} question(s) where most models, the strongest included, "
                    "chose the same other letter"]
        if flags:
            shown = limit(flags)
            out.append(aligned(["dataset", "#", "id", "key", "models say", "agreement", "evidence", "strength"],
                               [_flag_row(f) for f in shown]))
            out += _more(len(shown), len(flags))
        review = list(audit.review)
        counts = {r: sum(1 for x in review if x.reason == r)
                  for r in ("negative discrimination", "no model right", "every model right")}
        out += ["", "Items to review (besides the key flags above): "
                + ", ".join(f"{n} {reason}" for reason, n in counts.items())]
        if review:
            shown = limit(review)
            out.append(aligned(["dataset", "#", "id", "reason", "discrimination"],
                               [[r.abbr, str(r.index), _id(r.id), r.reason, "-" if r.value is None else f"{r.value:.2f}"]
                                for r in shown]))
            out += _more(len(shown), len(review))
        if len(a.labels) < 3:
            out.append("discrimination needs at least 3 models (a correlation over the models)")
    if a.items:
        out += ["", "Distractors: " + a.distractor_summary()]
    out += ["", "Position bias: how often each letter is gold, and how often each model answers it"]
    out.append(aligned(["letter", "gold", *a.labels],
                       [[b.letter, f"{b.gold_share:.1%}", *(f"{b.predicted.get(m, 0.0):.1%}" for m in a.labels)]
                        for b in a.bias]))
    notes = [f"{x} and {y} answered identically on every question (copies count as separate models)"
             for x, y in a.identical] + list(report.panel.notes)
    if notes:
        out += ["", "notes:", *(f"- {n}" for n in notes)]
    return "\n".join(out) + "\n"
