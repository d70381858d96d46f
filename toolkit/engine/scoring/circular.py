"""CircularEval's scores, with OpenCompass's definitions and names (``CircularEvaluator`` in
``opencompass/datasets/circular.py``), computed from one row per question and pattern.

For each *family* of patterns — ``origin`` (the options as written), ``circular`` (the
cyclic rotations) and, when every permutation was asked, ``all_possible`` — OpenCompass reports:

* ``acc_<family>``: the share of that family's variants answered right (each variant a question);
* ``more_<k>_<family>``: the share of questions answered right in at least ``k`` of the family's variants;
* ``perf_<family>``: the share right in all of them ("perfect": CircularEval's score).

in the order its evaluator builds them (``acc_origin, acc_circular, perf_origin, more_1_circular,
…, perf_circular``), each ``count / total * 100`` so that the floats agree exactly. Besides those,
``prior_<X>`` is the share of all variants answered with letter ``X`` as shown to the model
(``prior_-``: no option letter), the name OpenCompass's other circular evaluator gives the
per-letter prediction rates: a model without a letter preference gives every letter 100 / n %.

Where OpenCompass's numbers mislead, ours differ as plain scoring does: a question without a
gold answer is not scored (OpenCompass divides by every row), golds are compared without
surrounding whitespace, and an empty prediction is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from toolkit.config.spec import CircularKind, CircularSpec
from toolkit.engine.prompting.circular import Pattern, circular_patterns, map_back, patterns_for
from toolkit.engine.scoring.evaluate import ItemScore, ScoreStatus, Variant, normalise_gold
from toolkit.errors import RunError

NO_LETTER = "-"
"""The ``prior_`` key of answers that are no option letter (OpenCompass's)."""


def families(spec: CircularSpec) -> dict[str, list[Pattern]]:
    """The pattern families scored for ``spec``, in OpenCompass's order.

    Example:
        >>> {k: len(v) for k, v in families(CircularSpec("all_possible")).items()}
        {'origin': 1, 'circular': 4, 'all_possible': 24}
    """
    keys = tuple(spec.option_keys)
    found: dict[str, list[Pattern]] = {"origin": [keys], "circular": circular_patterns(keys)}
    if spec.patterns == "all_possible":
        found["all_possible"] = patterns_for("all_possible", keys)
    return found


def metric_names(spec: CircularSpec) -> list[str]:
    """Every metric :func:`score_circular` reports for ``spec``, in OpenCompass's order.

    Example:
        >>> metric_names(CircularSpec())
        ['acc_origin', 'acc_circular', 'perf_origin', 'more_1_circular', 'more_2_circular', 'more_3_circular', 'perf_circular']
    """
    fams = families(spec)
    names = [f"acc_{k}" for k in fams]
    for k, patterns in fams.items():
        names += [f"more_{j}_{k}" for j in range(1, len(patterns))] + [f"perf_{k}"]
    return names


@dataclass(frozen=True)
class CircularScores:
    """A circular dataset's counts: each metric as (numerator, denominator), and the letters answered."""

    patterns: CircularKind
    option_keys: tuple[str, ...]
    counts: Mapping[str, tuple[int, int]]
    """Metric → (right, out of): variants for ``acc_*``, questions for ``more_*`` and ``perf_*``."""
    letters: Mapping[str, int] = field(default_factory=dict)
    """Letter as shown → how many variants were answered with it (``-``: no option letter)."""

    @property
    def spec(self) -> CircularSpec:
        """The rearrangement these scores are of."""
        return CircularSpec(self.patterns, self.option_keys)

    @property
    def headline(self) -> str:
        """The metric a circular dataset is summarised by: ``perf_circular`` or ``perf_all_possible``."""
        return f"perf_{self.patterns}"

    def metrics(self) -> dict[str, float]:
        """Each metric in percent, in OpenCompass's order (none without a scored question)."""
        return {name: n / d * 100 for name, (n, d) in self.counts.items() if d}

    def priors(self) -> dict[str, float]:
        """``prior_<letter>``: the share of all variants answered with each letter, in percent."""
        total = sum(self.letters.values())
        return {f"prior_{x}": c / total * 100 for x, c in self.letters.items()} if total else {}

    def to_json(self) -> dict[str, Any]:
        """The ``circular`` entry of a result file."""
        return {"patterns": self.patterns, "option_keys": list(self.option_keys), "variants": self.spec.variants,
                "counts": {k: list(v) for k, v in self.counts.items()}, "letters": dict(self.letters)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CircularScores:
        """Read :meth:`to_json`'s form; ValueError when it is not that."""
        if data.get("patterns") not in ("circular", "all_possible"):
            raise ValueError(f"unknown circular patterns {data.get('patterns')!r}")
        counts = {str(k): (int(v[0]), int(v[1])) for k, v in dict(data.get("counts", {})).items()}
        return cls(cast(CircularKind, data["patterns"]), tuple(str(k) for k in data.get("option_keys", ())), counts,
                   {str(k): int(v) for k, v in dict(data.get("letters", {})).items()})


@dataclass(frozen=True)
class CircularResult:
    """What :func:`score_circular` found: the scores, and one verdict per question (right in every variant)."""

    scores: CircularScores
    details: tuple[ItemScore, ...]
    questions: int
    scored: int
    """Questions with a gold answer."""
    perfect: int
    """Scored questions right in every variant."""
    stripped_golds: int
    empty_predictions: int
    """Variants of scored questions whose prediction was empty (each wrong)."""

    @property
    def value(self) -> float | None:
        """The headline (``perf_<patterns>``) in percent; None without a scored question."""
        return self.perfect / self.scored * 100 if self.scored else None

    @property
    def status(self) -> ScoreStatus:
        """``"ok"``, or ``"n/a"`` when no question has a gold answer."""
        return "ok" if self.scored else "n/a"


def _vote(answers: Sequence[str]) -> str:
    """The answer given most often; a tie goes to the one given first (the options as written come first)."""
    return max(dict.fromkeys(answers), key=answers.count) if answers else ""


def score_circular(predictions: Sequence[str | None], golds: Sequence[object], qids: Sequence[int],
                   patterns: Sequence[str], spec: CircularSpec) -> CircularResult:
    """Score post-processed predictions, one per (question, pattern) row, as OpenCompass's CircularEvaluator.

    ``golds`` are as shown in each variant (moved with the options); ``patterns`` are strings
    such as ``"BCDA"``. Raises RunError when the lists differ in length (a task bug).

    Example:
        >>> spec = CircularSpec("circular", ("A", "B"))
        >>> r = score_circular(["A", "B", "B", "B"], ["A", "B", "B", "A"], [0, 0, 1, 1], ["AB", "BA", "AB", "BA"], spec)
        >>> r.scores.metrics(), r.value, r.scores.priors()
        ({'acc_origin': 100.0, 'acc_circular': 75.0, 'perf_origin': 100.0, 'more_1_circular': 100.0, \
'perf_circular': 50.0}, 50.0, {'prior_A': 25.0, 'prior_B': 75.0, 'prior_-': 0.0})
    """
    n = len(predictions)
    if not n == len(golds) == len(qids) == len(patterns):
        raise RunError(f"{n} predictions for {len(golds)} gold answers, {len(qids)} questions and {len(patterns)} patterns",
                       hint="delete the predictions file and run inference again")
    keys = tuple(spec.option_keys)
    fams = families(spec)
    family_sets = {k: {"".join(p) for p in v} for k, v in fams.items()}
    letters = dict.fromkeys((*keys, NO_LETTER), 0)
    by_question: dict[int, list[Variant]] = {}
    stripped: set[int] = set()
    empty = 0
    for raw_pred, raw_gold, qid, pattern in zip(predictions, golds, qids, patterns):
        pred = "" if raw_pred is None else str(raw_pred)
        gold, was_stripped = normalise_gold(raw_gold)
        letters[pred if pred in keys else NO_LETTER] += 1
        if was_stripped:
            stripped.add(qid)
        verdict = None if gold is None else pred == gold
        empty += gold is not None and pred == ""
        by_question.setdefault(qid, []).append(Variant(pattern, pred, map_back(pred, tuple(pattern), keys),
                                                       gold, verdict))
    counts = _counts(by_question, fams, family_sets)
    details = []
    for qid, variants in by_question.items():
        first = variants[0]
        gold = None if first.gold is None else map_back(first.gold, tuple(first.pattern), keys)
        verdict = None if gold is None else all(v.correct for v in variants)
        details.append(ItemScore(qid, _vote([v.answer for v in variants]), gold, verdict, tuple(variants)))
    headline = counts[f"perf_{spec.patterns}"]
    scores = CircularScores(spec.patterns, keys, counts, letters)
    return CircularResult(scores, tuple(details), len(by_question), headline[1], headline[0], len(stripped), empty)


def _counts(by_question: Mapping[int, Sequence[Variant]], fams: Mapping[str, list[Pattern]],
            family_sets: Mapping[str, set[str]]) -> dict[str, tuple[int, int]]:
    """Each metric's (right, out of) over the questions with a gold answer, in OpenCompass's order."""
    scored = {q: vs for q, vs in by_question.items() if vs and vs[0].gold is not None}
    counts: dict[str, tuple[int, int]] = {}
    for k in fams:
        inside = [v for vs in scored.values() for v in vs if v.pattern in family_sets[k]]
        counts[f"acc_{k}"] = (sum(bool(v.correct) for v in inside), len(inside))
    for k, patterns in fams.items():
        right = [sum(bool(v.correct) for v in vs if v.pattern in family_sets[k]) for vs in scored.values()]
        for j in range(1, len(patterns) + 1):
            name = f"more_{j}_{k}" if j < len(patterns) else f"perf_{k}"
            counts[name] = (sum(r >= j for r in right), len(right))
    return counts
