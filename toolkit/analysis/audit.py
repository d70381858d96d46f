"""The answer-key audit: questions whose key the models' answers call into doubt, and items to review.

**Check the answer key**: most models that answered a question (more than half),
including the strongest of them, chose the same letter, and it is not the key. Each
such question carries the agreement (``5/6 models``) and an *evidence* score: the
log-likelihood ratio of "the key is wrong and that letter is right" against "the key is
right", from each model's accuracy ``a`` on ``k`` options — a model picking the suspected
letter adds ``log(a·(k-1)/(1-a))``, one picking the key subtracts as much, others add
nothing. A model at chance weighs nothing, a strong model a lot; flags are sorted by it.

**Items to review**: negative discrimination (weaker models get it right more often than
stronger ones), no model right, every model right (it cannot tell models apart).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from toolkit.analysis.items import ItemAnalysis, ItemStat

STRONG, MODERATE = math.log(100), math.log(10)
"""Evidence thresholds: a likelihood ratio of 100 (strong) and 10 (moderate) for a wrong key."""
_CLAMP = 1e-3
ReviewReason = Literal["negative discrimination", "no model right", "every model right"]


@dataclass(frozen=True)
class KeyFlag:
    """A question whose key most models, the strongest included, contradict with one letter."""

    abbr: str
    index: int
    id: str | None
    gold: str
    suspected: str
    agreeing: tuple[str, ...]
    """Labels of the models that chose ``suspected``."""
    answered: int
    evidence: float

    @property
    def agreement(self) -> float:
        """Share of the models with a verdict that chose the suspected letter."""
        return len(self.agreeing) / self.answered

    @property
    def strength(self) -> str:
        """``strong``, ``moderate`` or ``weak`` evidence (likelihood ratio ≥ 100, ≥ 10, below)."""
        return "strong" if self.evidence >= STRONG else "moderate" if self.evidence >= MODERATE else "weak"


@dataclass(frozen=True)
class ReviewItem:
    """A question to look at, and why."""

    abbr: str
    index: int
    id: str | None
    reason: ReviewReason
    value: float | None = None
    """The discrimination, for ``negative discrimination``."""


@dataclass(frozen=True)
class Audit:
    """The key flags (most suspicious first) and the items to review."""

    key_flags: tuple[KeyFlag, ...]
    review: tuple[ReviewItem, ...]


def model_weight(accuracy: float | None, options: int) -> float:
    """The evidence one model's answer carries: ``log(a·(k-1)/(1-a))``, 0 at or below chance.

    Example:
        >>> model_weight(0.25, 4), round(model_weight(0.9, 4), 3)
        (0.0, 3.296)
    """
    if accuracy is None or options < 2:
        return 0.0
    a = min(max(accuracy, _CLAMP), 1 - _CLAMP)
    return max(0.0, math.log(a * (options - 1) / (1 - a)))


def audit_items(analysis: ItemAnalysis) -> Audit:
    """Flag suspicious keys and list the items to review (needs at least two models per question)."""
    flags = [f for item in analysis.items if (f := _key_flag(item, analysis.labels, analysis.totals)) is not None]
    flags.sort(key=lambda f: (-f.evidence, -f.agreement, f.abbr, f.index))
    flagged = {(f.abbr, f.index) for f in flags}
    negative, none_right, all_right = [], [], []
    for item in analysis.items:
        if item.answered < 2 or (item.abbr, item.index) in flagged:
            continue
        if item.discrimination is not None and item.discrimination < 0:
            negative.append(ReviewItem(item.abbr, item.index, item.id, "negative discrimination", item.discrimination))
        if item.right == 0:
            none_right.append(ReviewItem(item.abbr, item.index, item.id, "no model right"))
        elif item.right == item.answered:
            all_right.append(ReviewItem(item.abbr, item.index, item.id, "every model right"))
    negative.sort(key=lambda r: (r.value or 0.0, r.abbr, r.index))
    return Audit(tuple(flags), tuple(negative + none_right + all_right))


def _key_flag(item: ItemStat, labels: tuple[str, ...], totals: Mapping[str, float | None]) -> KeyFlag | None:
    if item.gold is None or item.answered < 2:
        return None
    chosen = [(label, p) for label, p in zip(labels, item.predictions) if p is not None]
    wrong = [(n, letter) for letter, n in item.choices.items() if letter not in (item.gold, "other")]
    if not wrong:
        return None
    top = max(n for n, _ in wrong)
    candidates = sorted(letter for n, letter in wrong if n == top)
    if top * 2 <= item.answered or len(candidates) > 1:
        return None
    suspected = candidates[0]
    strongest = max(chosen, key=lambda lp: (totals.get(lp[0]) or 0.0, -labels.index(lp[0])))
    if strongest[1] != suspected:
        return None
    evidence = 0.0
    for label, prediction in chosen:
        weight = model_weight(totals.get(label), item.options)
        evidence += weight if prediction == suspected else -weight if prediction == item.gold else 0.0
    agreeing = tuple(label for label, p in chosen if p == suspected)
    return KeyFlag(item.abbr, item.index, item.id, item.gold, suspected, agreeing, item.answered, evidence)
