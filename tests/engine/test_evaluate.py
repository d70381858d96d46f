"""Accuracy scoring: equal to OpenCompass on clean data, honest where OpenCompass is not."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit.engine.scoring.evaluate as evaluate_module
from toolkit.engine.scoring.evaluate import ItemScore, normalise_gold, score_accuracy
from toolkit.errors import RunError


def opencompass_accuracy(predictions: list[str], references: list[str]) -> float:
    """OpenCompass's AccEvaluator, step for step: map str() labels to ints, then
    ``accuracy_score`` (a mean of equalities) times 100."""
    mapping = {label: idx for idx, label in enumerate(set(map(str, references)))}
    for pred in set(predictions):
        mapping.setdefault(str(pred), len(mapping))
    golds = [mapping[str(g)] for g in references]
    preds = [mapping[str(p)] for p in predictions]
    hits = sum(p == g for p, g in zip(preds, golds))
    return hits / len(golds) * 100


letters = st.sampled_from(["A", "B", "C", "D"])


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(st.one_of(letters, st.just(""), st.just("E")), letters), min_size=1, max_size=60))
def test_equals_opencompass_on_clean_data(rows: list[tuple[str, str]]) -> None:
    predictions = [p for p, _ in rows]
    golds = [g for _, g in rows]
    result = score_accuracy(predictions, golds)
    assert result.accuracy == opencompass_accuracy(predictions, golds)
    assert (result.total, result.scored, result.stripped_golds) == (len(rows), len(rows), 0)


def test_counts_and_details() -> None:
    result = score_accuracy(["A", "", "C", "B", "D"], ["A", "B", " C", "", "A"])
    assert (result.correct, result.scored, result.total) == (2, 4, 5)
    assert result.accuracy == 50.0
    assert result.status == "ok"
    assert result.stripped_golds == 1
    assert result.empty_predictions == 1
    assert result.details == (
        ItemScore(0, "A", "A", True),
        ItemScore(1, "", "B", False),
        ItemScore(2, "C", "C", True),
        ItemScore(3, "B", None, None),
        ItemScore(4, "D", "A", False),
    )
    assert result.details[3].to_json() == {"prediction": "B", "gold": None, "correct": None}


def test_gold_with_whitespace_matches_where_opencompass_fails() -> None:
    result = score_accuracy(["D", "A"], [" D", "A\n"])
    assert result.accuracy == 100.0
    assert result.stripped_golds == 2
    assert opencompass_accuracy(["D", "A"], [" D", "A\n"]) == 0.0


def test_empty_prediction_never_matches_an_empty_gold() -> None:
    """OpenCompass scores blank test splits by matching blanks; we do not score them."""
    result = score_accuracy(["", "", "B"], ["", "", ""])
    assert result.accuracy is None
    assert result.status == "n/a"
    assert (result.correct, result.scored, result.total) == (0, 0, 3)
    assert opencompass_accuracy(["", "", "B"], ["", "", ""]) == pytest.approx(66.67, abs=0.01)


def test_none_predictions_and_golds() -> None:
    result = score_accuracy([None, "A"], ["A", None])
    assert (result.correct, result.scored, result.empty_predictions) == (0, 1, 1)
    assert result.accuracy == 0.0


def test_empty_split_is_na() -> None:
    result = score_accuracy([], [])
    assert result.status == "n/a"
    assert result.total == 0


def test_non_string_golds_are_compared_as_text() -> None:
    assert score_accuracy(["1", "2"], [1, 3]).accuracy == 50.0


def test_length_mismatch_is_a_run_error() -> None:
    with pytest.raises(RunError, match="2 predictions for 1 gold answers"):
        score_accuracy(["A", "B"], ["A"])


@pytest.mark.parametrize(
    ("gold", "expected"),
    [("D", ("D", False)), (" D ", ("D", True)), ("  ", (None, False)), ("", (None, False)), (None, (None, False))],
)
def test_normalise_gold(gold: object, expected: tuple[str | None, bool]) -> None:
    assert normalise_gold(gold) == expected


def test_docstring_examples_run() -> None:
    assert doctest.testmod(evaluate_module).failed == 0
