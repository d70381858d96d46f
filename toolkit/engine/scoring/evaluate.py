"""Accuracy scoring: OpenCompass's ``AccEvaluator`` without its traps.

OpenCompass compares ``str(prediction) == str(gold)`` over every row and reports
the mean in percent. On clean data we give the same number; where its rules
mislead, ours differ on purpose:

* a row without a gold answer (a blank ``answer`` cell, as in C-Eval's test split) is
  not scored at all; a split where no row has one is N/A (``accuracy`` None), never 0;
* golds are compared after stripping surrounding whitespace (OpenCompass never
  matches gold ``' D'`` with prediction ``'D'``), and we count how many needed it;
* an empty prediction is always wrong.

Predictions are compared exactly as given: post-processing (see
:mod:`toolkit.engine.scoring.postprocess`) happens before scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from toolkit.errors import RunError

ScoreStatus = Literal["ok", "n/a"]


@dataclass(frozen=True)
class ItemScore:
    """One row's verdict: ``correct`` is None when the row has no gold answer."""

    index: int
    prediction: str
    gold: str | None
    correct: bool | None

    def to_json(self) -> dict[str, object]:
        """``{"prediction", "gold", "correct"}``, the shape stored in result files."""
        return {"prediction": self.prediction, "gold": self.gold, "correct": self.correct}


@dataclass(frozen=True)
class AccuracyResult:
    """What :func:`score_accuracy` found.

    ``accuracy`` is in percent (0–100) like OpenCompass's, over the ``scored`` rows
    (those with a gold answer); None when no row could be scored.
    """

    accuracy: float | None
    correct: int
    total: int
    scored: int
    stripped_golds: int
    """Golds that had surrounding whitespace (OpenCompass would have marked those rows wrong)."""
    empty_predictions: int
    """Scored rows whose prediction was empty (each counted wrong)."""
    details: tuple[ItemScore, ...] = ()

    @property
    def status(self) -> ScoreStatus:
        """``"ok"``, or ``"n/a"`` when the split has no gold answers."""
        return "n/a" if self.accuracy is None else "ok"


def normalise_gold(gold: object) -> tuple[str | None, bool]:
    """The gold to compare with (None when absent or blank) and whether stripping changed it.

    Example:
        >>> normalise_gold(" D"), normalise_gold(""), normalise_gold(None)
        (('D', True), (None, False), (None, False))
    """
    if gold is None:
        return None, False
    text = str(gold)
    stripped = text.strip()
    return (stripped or None), bool(stripped) and stripped != text


def score_accuracy(predictions: Sequence[str | None], golds: Sequence[object]) -> AccuracyResult:
    """Score post-processed ``predictions`` against ``golds``, row by row.

    Raises RunError when the two lists differ in length (a task bug, never data).

    Example:
        >>> r = score_accuracy(["A", "", "C", "B"], ["A", "B", " C", ""])
        >>> r.accuracy, r.correct, r.scored, r.total, r.stripped_golds, r.status
        (66.66666666666666, 2, 3, 4, 1, 'ok')
        >>> score_accuracy(["A", "B"], ["", None]).status
        'n/a'
    """
    if len(predictions) != len(golds):
        raise RunError(
            f"{len(predictions)} predictions for {len(golds)} gold answers",
            hint="delete the predictions file and run inference again",
        )
    details: list[ItemScore] = []
    correct = scored = stripped = empty = 0
    for index, (raw_prediction, raw_gold) in enumerate(zip(predictions, golds)):
        prediction = "" if raw_prediction is None else str(raw_prediction)
        gold, was_stripped = normalise_gold(raw_gold)
        verdict: bool | None = None
        if gold is not None:
            scored += 1
            stripped += was_stripped
            empty += prediction == ""
            verdict = prediction == gold
            correct += verdict
        details.append(ItemScore(index, prediction, gold, verdict))
    # Same operation order as OpenCompass (fraction, then x100) so the floats agree exactly.
    accuracy = correct / scored * 100 if scored else None
    return AccuracyResult(accuracy, correct, len(details), scored, stripped, empty, tuple(details))
