"""Item analysis over the models of a panel: the classical test theory a bank author knows.

* **difficulty**: the share of models that answer a question right (1.0: everyone);
* **discrimination**: the point-biserial correlation between getting the question right
  and the model's score on the *other* questions (the corrected item–total correlation,
  so a question does not correlate with itself); negative means weaker models get it
  right more often than stronger ones — a sign of a wrong key or an ambiguous question;
* **chosen options**: how many models picked each letter, and the distractors nobody picked;
* **position bias**: how often each letter is predicted, by each model, against how often it is gold.

Models here are the panel's entries; with few models every figure is coarse, which the
report says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from toolkit.analysis.panel import Panel
from toolkit.analysis.stats import point_biserial

OTHER = "other"
"""The choice bucket for an empty or unparseable prediction."""


@dataclass(frozen=True)
class ItemStat:
    """One question's statistics across the models that have a verdict on it."""

    abbr: str
    index: int
    id: str | None
    gold: str | None
    options: int
    """How many options the question has (its dataset's letters)."""
    answered: int
    right: int
    difficulty: float | None
    discrimination: float | None
    choices: Mapping[str, int]
    """Letter (or ``other``) → how many models chose it."""
    unused_distractors: tuple[str, ...]
    predictions: tuple[str | None, ...]
    """Each entry's scored prediction (None: no verdict), in entry order."""


@dataclass(frozen=True)
class LetterBias:
    """How often a letter is gold, and how often each model predicts it (shares of answered questions)."""

    letter: str
    gold_share: float
    predicted: Mapping[str, float]


@dataclass(frozen=True)
class ItemAnalysis:
    """Per-question statistics, each model's score, position bias, and models that answered identically."""

    labels: tuple[str, ...]
    totals: Mapping[str, float | None]
    """Each entry's accuracy (fraction) over the panel's scored questions."""
    items: tuple[ItemStat, ...]
    bias: tuple[LetterBias, ...]
    identical: tuple[tuple[str, str], ...] = ()

    def distractor_summary(self) -> str:
        """How many distractors no model chose, e.g. ``"41 of 165 distractors (25%) chosen by no model; ..."``."""
        total = sum(i.options - 1 for i in self.items)
        unused = sum(len(i.unused_distractors) for i in self.items)
        dead = sum(1 for i in self.items if i.options > 1 and len(i.unused_distractors) == i.options - 1)
        if not total:
            return "no distractors to count"
        return (f"{unused} of {total} distractors ({unused / total:.0%}) chosen by no model; in {dead} question(s) "
                f"no model chose any distractor (with {len(self.labels)} models, read this with care: few models "
                "leave many options unpicked)")


def analyse_items(panel: Panel) -> ItemAnalysis:
    """Statistics for every scored question of ``panel`` (one with a gold answer and some verdict)."""
    labels = panel.labels
    right = Counter[str]()
    scored = Counter[str]()
    for ds in panel.datasets:
        for label, answers in zip(labels, ds.answers):
            for a in answers:
                if a is not None and a.correct is not None:
                    scored[label] += 1
                    right[label] += bool(a.correct)
    totals = {label: (right[label] / scored[label] if scored[label] else None) for label in labels}
    items = []
    for ds in panel.datasets:
        for qi, question in enumerate(ds.questions):
            if question.gold is None:
                continue
            verdicts = [(label, a) for label, answers in zip(labels, ds.answers)
                        if (a := answers[qi]) is not None and a.correct is not None]
            if not verdicts:
                continue
            xs = [1.0 if a.correct else 0.0 for _, a in verdicts]
            rest = [(right[label] - x) / (scored[label] - 1) if scored[label] > 1 else 0.0
                    for (label, _), x in zip(verdicts, xs)]
            choices = Counter(a.prediction if a.prediction in ds.letters else OTHER for _, a in verdicts)
            unused = tuple(x for x in ds.letters if x != question.gold and not choices.get(x))
            predictions = tuple(None if (a := answers[qi]) is None else a.prediction for answers in ds.answers)
            items.append(ItemStat(ds.abbr, question.index, question.id, question.gold, len(ds.letters), len(verdicts),
                                  int(sum(xs)), sum(xs) / len(xs), point_biserial(xs, rest) if len(xs) > 2 else None,
                                  dict(choices), unused, predictions))
    return ItemAnalysis(labels, totals, tuple(items), _position_bias(panel), _identical(panel))


def _position_bias(panel: Panel) -> tuple[LetterBias, ...]:
    letters = list(dict.fromkeys(x for ds in panel.datasets for x in ds.letters))
    gold = Counter[str]()
    picked = {label: Counter[str]() for label in panel.labels}
    answered = Counter[str]()
    golds = 0
    for ds in panel.datasets:
        for qi, question in enumerate(ds.questions):
            if question.gold is None:
                continue
            golds += 1
            gold[question.gold] += 1
            for label, answers in zip(panel.labels, ds.answers):
                a = answers[qi]
                if a is not None and a.correct is not None:
                    answered[label] += 1
                    picked[label][a.prediction if a.prediction in letters else OTHER] += 1
    rows = []
    for letter in [*letters, OTHER]:
        shares = {label: picked[label][letter] / answered[label] for label in panel.labels if answered[label]}
        if letter == OTHER and not any(shares.values()):
            continue
        rows.append(LetterBias(letter, gold[letter] / golds if golds else 0.0, shares))
    return tuple(rows)


def _identical(panel: Panel) -> tuple[tuple[str, str], ...]:
    """Pairs of entries whose scored predictions are the same on every question (e.g. a model and its copy)."""
    seqs = {label: [a.prediction if a is not None else None for ds in panel.datasets for a in ds.answers[i]]
            for i, label in enumerate(panel.labels)}
    labels = panel.labels
    return tuple((a, b) for i, a in enumerate(labels) for b in labels[i + 1:]
                 if any(x is not None for x in seqs[a]) and seqs[a] == seqs[b])
