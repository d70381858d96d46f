"""``toolkit compare`` on stdout: each model's accuracy, the difference to the baseline, and the paired test."""

from __future__ import annotations

from toolkit.analysis.compare import CompareRow, Comparison, PairedTest
from toolkit.analysis.panel import Panel
from toolkit.report.plain import aligned, percent, pvalue


def significant(test: PairedTest | None, alpha: float) -> bool:
    """Significant at ``alpha``: after Holm for subjects, the plain p-value for pooled rows."""
    if test is None:
        return False
    return (test.p_holm if test.p_holm is not None else test.p) <= alpha


def _cells(row: CompareRow, k: int, alpha: float) -> list[str]:
    test = row.tests[k]
    delta = f"{row.deltas[k]:+.2f}"
    if test is None:
        return [delta, "-", "-", "-", ""]
    return [delta, f"{test.b}/{test.c}", pvalue(test.p), pvalue(test.p_holm), "*" if significant(test, alpha) else ""]


def format_comparison(comparison: Comparison, panel: Panel) -> str:
    """The comparison as text: one block of columns per model after the baseline."""
    labels = comparison.labels
    by_label = {e.label: e for e in panel.entries}
    out = ["Models: " + "; ".join(f"{'baseline ' if i == 0 else ''}{label} ({by_label[label].run.path})"
                                  for i, label in enumerate(labels))]
    header = ["dataset", "metric", "n", *labels]
    for label in labels[1:]:
        suffix = "" if len(labels) == 2 else f" {label}"
        header += [f"Δ{suffix}", f"b/c{suffix}", f"p{suffix}", f"p Holm{suffix}", "sig"]
    rows = []
    for row in comparison.rows:
        cells = [row.name, row.metric, str(row.n), *(percent(v) for v in row.values)]
        for k in range(len(labels) - 1):
            cells += _cells(row, k, comparison.alpha)
        rows.append(cells)
    out += ["", aligned(header, rows), ""]
    out.append(f"Δ: accuracy minus the baseline's, in points, on the questions every model answered. b/c: questions "
               f"only the baseline got right / only the other model got right. p: exact McNemar test (two-sided); "
               f"p Holm: corrected across the {sum(r.kind == 'subject' for r in comparison.rows)} subjects; "
               f"sig *: significant at α = {comparison.alpha:g} (subjects after Holm; groups and overall: one pooled test "
               f"each). naive averages have no paired test.")
    if comparison.notes:
        out += ["", "notes:", *(f"- {n}" for n in comparison.notes)]
    return "\n".join(out) + "\n"
