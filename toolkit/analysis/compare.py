"""Runs side by side: accuracy per subject, group and overall on the questions every entry answered,
the difference to the baseline, and a paired exact McNemar test.

For each entry against the baseline (the first, unless named), the discordant questions
are counted — ``b``: the baseline right and the entry wrong, ``c``: the reverse — and the
two-sided exact test gives the p-value (per subject, per group's pooled questions, and
overall). Subjects are many tests at once, so their p-values are also Holm-corrected
(per entry, across subjects); a subject's difference is *significant* when its Holm
p-value is at most ``alpha``. Groups and the overall row are single pooled tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from toolkit.analysis.panel import Panel
from toolkit.analysis.runs import Answer
from toolkit.analysis.stats import holm, mcnemar_exact
from toolkit.engine.scoring.summary import NAIVE, WEIGHTED, group_shapes
from toolkit.errors import UsageError

OVERALL = "overall"


@dataclass(frozen=True)
class PairedTest:
    """The exact McNemar test of one entry against the baseline on the paired questions."""

    b: int
    """Questions the baseline got right and the entry wrong."""
    c: int
    """Questions the baseline got wrong and the entry right."""
    p: float
    p_holm: float | None = None
    """Holm-adjusted across subjects (subject rows only)."""


@dataclass(frozen=True)
class CompareRow:
    """One subject, group average or the overall row."""

    name: str
    kind: Literal["subject", "group", "overall"]
    metric: str
    n: int
    """Questions every entry answered (for a naive average: over its subjects)."""
    values: tuple[float, ...]
    """Accuracy in percent per entry, on those questions."""
    deltas: tuple[float, ...]
    """Per entry after the baseline: its value minus the baseline's, in points."""
    tests: tuple[PairedTest | None, ...]
    """Per entry after the baseline; None for naive averages (a mean of subjects, not one paired sample)."""


@dataclass(frozen=True)
class Comparison:
    """Everything ``toolkit compare`` shows."""

    labels: tuple[str, ...]
    """Entries, the baseline first."""
    rows: tuple[CompareRow, ...]
    notes: tuple[str, ...]
    alpha: float

    @property
    def baseline(self) -> str:
        """The entry the others are compared with."""
        return self.labels[0]


def compare_panel(panel: Panel, groups: Sequence[Mapping[str, Any]] = (), *, baseline: str | None = None,
                  alpha: float = 0.05) -> Comparison:
    """Compare every entry of ``panel`` with the baseline (default: the first entry)."""
    labels = list(panel.labels)
    if len(labels) < 2:
        raise UsageError(f"compare needs at least two models, these runs have {len(labels)}",
                         hint="pass two or more run folders (or a run with several models)")
    if baseline is not None:
        if baseline not in labels:
            raise UsageError(f"no model {baseline!r} in these runs", hint=f"use one of: {', '.join(labels)}")
        labels.remove(baseline)
        labels.insert(0, baseline)
    order = [panel.labels.index(label) for label in labels]
    notes = list(panel.notes)
    verdicts: dict[str, list[tuple[bool, ...]]] = {}
    for ds in panel.datasets:
        answers = [ds.answers[i] for i in order]
        silent = [labels[k] for k, a in enumerate(answers) if all(x is None or x.correct is None for x in a)]
        if silent:
            notes.append(f"{ds.abbr}: no scored answers from {', '.join(silent)}: not compared")
            continue
        rows = [verdict for q in range(len(ds.questions)) if (verdict := _verdicts(answers, q)) is not None]
        unscored = sum(1 for q in ds.questions if q.gold is not None) - len(rows)
        if unscored > 0:
            notes.append(f"{ds.abbr}: {unscored} question(s) not answered by every model: left out")
        if rows:
            verdicts[ds.abbr] = rows
    subject_rows = [_row(abbr, "subject", "accuracy", v) for abbr, v in verdicts.items()]
    subject_rows = _holm_adjusted(subject_rows, len(labels) - 1)
    table = list(subject_rows)
    values = {r.name: r.values for r in subject_rows}
    shapes = group_shapes(groups, list(verdicts))
    for name, shape in shapes.items():
        pooled = [v for leaf in shape.leaves for v in verdicts[leaf]]
        table.append(_naive_row(name, shape.members, shapes, values, len(pooled)))
        table.append(_row(name, "group", WEIGHTED, pooled))
    everything = [v for rows_ in verdicts.values() for v in rows_]
    if everything:
        table.append(_row(OVERALL, "overall", "accuracy", everything))
    return Comparison(tuple(labels), tuple(table), tuple(notes), alpha)


def _holm_adjusted(subject_rows: Sequence[CompareRow], contrasts: int) -> list[CompareRow]:
    """Each subject test's Holm-adjusted p-value, per contrast, over the subjects that have that test."""
    tests = [list(r.tests) for r in subject_rows]
    for k in range(contrasts):
        tested = [(i, t) for i, r in enumerate(subject_rows) if (t := r.tests[k]) is not None]
        for (i, t), p in zip(tested, holm([t.p for _, t in tested])):
            tests[i][k] = replace(t, p_holm=p)
    return [replace(r, tests=tuple(t)) for r, t in zip(subject_rows, tests)]


def _verdicts(answers: Sequence[Sequence[Answer | None]], q: int) -> tuple[bool, ...] | None:
    """Each model's right/wrong on question ``q``; None unless every model has a verdict."""
    out = []
    for per_model in answers:
        a = per_model[q]
        if a is None or a.correct is None:
            return None
        out.append(a.correct)
    return tuple(out)


def _row(name: str, kind: Literal["subject", "group", "overall"], metric: str, rows: Sequence[tuple[bool, ...]]) -> CompareRow:
    n = len(rows)
    values = tuple(100 * sum(r[k] for r in rows) / n for k in range(len(rows[0])))
    tests = []
    for k in range(1, len(values)):
        b = sum(1 for r in rows if r[0] and not r[k])
        c = sum(1 for r in rows if r[k] and not r[0])
        tests.append(PairedTest(b, c, mcnemar_exact(b, c)))
    return CompareRow(name, kind, metric, n, values, tuple(v - values[0] for v in values[1:]), tuple(tests))


def _naive_row(name: str, members: Sequence[str], shapes: Mapping[str, Any], values: dict[str, tuple[float, ...]],
               n: int) -> CompareRow:
    """Mean of the members' values (a nested group counts once, as in the summary)."""
    parts = []
    for member in members:
        if member in shapes and member not in values:
            sub = shapes[member]
            values[member] = _naive_row(member, sub.members, shapes, values, 0).values
        parts.append(values[member])
    mean = tuple(sum(p[k] for p in parts) / len(parts) for k in range(len(parts[0])))
    return CompareRow(name, "group", NAIVE, n, mean, tuple(v - mean[0] for v in mean[1:]), (None,) * (len(mean) - 1))
