"""``n`` and a 95 % interval for every row of a summary.

* a subject's accuracy and a group's ``weighted_average`` are proportions of questions:
  the Wilson score interval of ``correct / n``;
* a group's ``naive_average`` is a mean of subject accuracies (a nested group counts once)
  — with one scored subject, that subject's accuracy and its Wilson interval; with more,
  a percentile bootstrap over questions, stratified by subject — each subject's questions
  resampled with replacement, which is a Binomial(n, p) draw of its correct count —
  2,000 resamples with a fixed seed, so the interval is the same on every render.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from toolkit.analysis.stats import wilson_interval
from toolkit.engine.scoring.results import ResultRecord
from toolkit.engine.scoring.summary import NAIVE, WEIGHTED, GroupShape, Summary, group_shapes

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
INTERVAL_NOTE = ("n: questions scored; ci_low–ci_high: 95% interval — Wilson score interval for subjects and "
                 f"{WEIGHTED}s; for {NAIVE}s over two or more subjects a percentile bootstrap over questions, "
                 f"stratified by subject ({BOOTSTRAP_RESAMPLES:,} resamples, seed {BOOTSTRAP_SEED})")


@dataclass(frozen=True)
class Interval:
    """A 95 % interval in percent (the summary's unit)."""

    low: float
    high: float
    method: Literal["wilson", "bootstrap"]


@dataclass(frozen=True)
class RowUncertainty:
    """A summary row's question count and one interval per model (None where there is no score)."""

    n: int | None
    intervals: tuple[Interval | None, ...]


def wilson_percent(correct: int, n: int) -> Interval:
    """The Wilson interval of ``correct / n`` in percent.

    Example:
        >>> i = wilson_percent(8, 19)
        >>> round(i.low, 2), round(i.high, 2), i.method
        (23.14, 63.72, 'wilson')
    """
    low, high = wilson_interval(correct, n)
    return Interval(low * 100, high * 100, "wilson")


def summary_uncertainty(summary: Summary, records: Iterable[ResultRecord], groups: Sequence[Mapping[str, Any]] = (), *,
                        seed: int = BOOTSTRAP_SEED, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[RowUncertainty, ...]:
    """One :class:`RowUncertainty` per row of ``summary`` (built from ``records`` and ``groups``).

    Cells that are not ``ok``, and scores read from plain OpenCompass result files
    (no question counts), get no interval.
    """
    records = list(records)
    counts = {(r.model, r.abbr): (r.counts.correct, r.counts.scored) for r in records
              if r.status == "ok" and r.counts.scored > 0}
    uncounted = {(r.model, r.abbr) for r in records if r.status == "ok" and r.counts.scored == 0}
    shapes = group_shapes(groups, [r.dataset for r in summary.rows if r.kind == "subject"])
    boot = _Bootstrap(counts, shapes, seed, resamples)
    out = []
    for row in summary.rows:
        cells: list[Interval | None] = []
        for model, cell in zip(summary.models, row.cells):
            if cell.status != "ok":
                cells.append(None)
            elif row.kind == "subject":
                c = counts.get((model, row.dataset))
                cells.append(wilson_percent(*c) if c else None)
            elif row.metric in (WEIGHTED, NAIVE) and row.dataset in shapes:
                if any((model, leaf) in uncounted for leaf in shapes[row.dataset].leaves):
                    cells.append(None)  # a score without question counts (an OpenCompass file): no interval
                    continue
                pooled = [counts.get((model, leaf)) for leaf in shapes[row.dataset].leaves]
                ok = [p for p in pooled if p is not None]
                if row.metric == WEIGHTED or len(ok) == 1:  # one scored subject: its naive average is its accuracy
                    cells.append(wilson_percent(sum(c for c, _ in ok), sum(n for _, n in ok)) if ok else None)
                else:
                    cells.append(boot.interval(model, row.dataset))
            else:
                cells.append(None)
        n = max((c.questions for c in row.cells if c.status == "ok"), default=0)
        out.append(RowUncertainty(n or None, tuple(cells)))
    return tuple(out)


class _Bootstrap:
    """Resampled subject accuracies per model, drawn once and shared by every group.

    Pure Python on purpose: :class:`random.Random` streams are reproducible across Python
    versions and machines (numpy's Generator streams may change between releases), so a
    report renders the same interval everywhere. Each (model, subject) has its own stream.
    """

    def __init__(self, counts: Mapping[tuple[str, str], tuple[int, int]], shapes: Mapping[str, GroupShape],
                 seed: int, resamples: int) -> None:
        self.counts, self.shapes, self.seed, self.resamples = counts, shapes, seed, resamples
        self._draws: dict[tuple[str, str], list[float]] = {}

    def _subject(self, model: str, subject: str) -> list[float] | None:
        if (model, subject) not in self.counts:
            return None
        if (model, subject) not in self._draws:
            correct, n = self.counts[model, subject]
            rng = random.Random(f"{self.seed}:{model}:{subject}")
            cdf = _binomial_cdf(n, correct / n)
            self._draws[model, subject] = [bisect.bisect_left(cdf, rng.random()) / n * 100
                                           for _ in range(self.resamples)]
        return self._draws[model, subject]

    def _naive(self, model: str, name: str) -> list[float] | None:
        """Replicates of ``name``'s naive average (None when no member has a score: n/a)."""
        parts = []
        for member in self.shapes[name].members:
            value = self._naive(model, member) if member in self.shapes else self._subject(model, member)
            if value is not None:
                parts.append(value)
        return [sum(column) / len(parts) for column in zip(*parts)] if parts else None

    def interval(self, model: str, group: str) -> Interval | None:
        values = self._naive(model, group)
        if values is None:
            return None
        values.sort()
        return Interval(_quantile(values, 0.025), _quantile(values, 0.975), "bootstrap")


def _binomial_cdf(n: int, p: float) -> list[float]:
    """P(X <= k) for k = 0..n, X ~ Binomial(n, p) (log-space, so large n does not underflow)."""
    if p <= 0.0 or p >= 1.0:
        return [0.0] * n + [1.0] if p >= 1.0 else [1.0] * (n + 1)
    logs = [math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
            for k in range(n + 1)]
    cdf = list(itertools.accumulate(math.exp(x) for x in logs))
    cdf[-1] = 1.0
    return cdf


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default ``percentile``)."""
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def uncertainty_json(summary: Summary, uncertainty: Sequence[RowUncertainty]) -> list[dict[str, Any]]:
    """The summary rows with ``n``, ``ci_low`` and ``ci_high`` per model, for ``--json`` output."""
    rows = []
    for row, unc in zip(summary.rows, uncertainty):
        cells = {}
        for model, cell, interval in zip(summary.models, row.cells, unc.intervals):
            cells[model] = {"status": cell.status, "value": cell.value, "text": cell.text,
                            "n": cell.questions if cell.status == "ok" else None,
                            "ci_low": None if interval is None else round(interval.low, 4),
                            "ci_high": None if interval is None else round(interval.high, 4),
                            "ci_method": None if interval is None else interval.method}
        rows.append({"dataset": row.dataset, "version": row.version, "metric": row.metric, "mode": row.mode,
                     "kind": row.kind, "n": unc.n, "models": cells})
    return rows
