"""CircularEval as pure functions: rearranging a question, mapping an answer back, and the scores,
each checked against OpenCompass's own code (tests/data/opencompass/circular_eval.py)."""

from __future__ import annotations

import doctest
import string
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import toolkit.engine.prompting.circular as circular_module
import toolkit.engine.scoring.circular as scoring_module
from toolkit.config.spec import CircularSpec
from toolkit.engine.prompting.circular import (
    all_patterns,
    circular_patterns,
    circular_rows,
    map_back,
    move_answer,
    patterns_for,
    rotate_row,
    variant_of,
)
from toolkit.engine.scoring.circular import metric_names, score_circular
from toolkit.errors import RunError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "data" / "opencompass"))
import circular_eval as opencompass  # the oracle, from tests/data/opencompass


def test_doctests() -> None:
    for module in (circular_module, scoring_module):
        assert doctest.testmod(module).failed == 0


option_keys = st.integers(min_value=2, max_value=10).map(lambda n: tuple(string.ascii_uppercase[:n]))


@st.composite
def keys_and_pattern(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    keys = draw(option_keys)
    kind = draw(st.sampled_from(["circular", "all_possible"])) if len(keys) <= 5 else "circular"
    return keys, draw(st.sampled_from(patterns_for(kind, keys)))


@settings(max_examples=400, deadline=None)
@given(keys_and_pattern(), st.data())
def test_mapping_a_rotated_answer_back_is_the_inverse_of_rotating(kp, data) -> None:
    keys, pattern = kp
    letter = data.draw(st.sampled_from(keys))
    assert map_back(move_answer(letter, pattern, keys), pattern, keys) == letter
    assert move_answer(map_back(letter, pattern, keys), pattern, keys) == letter
    # anything that is no option letter is left alone both ways
    assert map_back("", pattern, keys) == "" and move_answer("?", pattern, keys) == "?"


@settings(max_examples=300, deadline=None)
@given(keys_and_pattern(), st.data())
def test_a_rotated_row_keeps_every_option_and_its_gold_points_at_the_same_text(kp, data) -> None:
    keys, pattern = kp
    texts = data.draw(st.lists(st.text(max_size=5), min_size=len(keys), max_size=len(keys), unique=True))
    gold = data.draw(st.sampled_from(keys))
    row = {"question": "q", **dict(zip(keys, texts)), "answer": gold}
    out = rotate_row(row, pattern, keys, "answer", 3)
    assert sorted(out[k] for k in keys) == sorted(texts)
    assert out[out["answer"]] == row[gold]  # the gold moved with its option
    for shown in keys:  # a letter answered under the pattern names the option it maps back to
        assert out[shown] == row[map_back(shown, pattern, keys)]
    assert (out["qid"], out["circular_pattern"]) == (3, "".join(pattern))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=6), st.sampled_from(["circular", "all_possible"]), st.data())
def test_rows_are_opencompass_make_circular_items(n, kind, data) -> None:
    keys = list(string.ascii_uppercase[:n])
    rows = data.draw(st.lists(st.fixed_dictionaries({"question": st.text(max_size=3), **{k: st.text(max_size=3) for k in keys},
                                                     "answer": st.sampled_from([*keys, "", "Z"])}), min_size=1, max_size=3))
    ours = circular_rows(rows, CircularSpec(kind, tuple(keys)), "answer")
    patterns = (opencompass.get_circular_patterns(keys) if kind == "circular"
                else opencompass.get_all_possible_patterns(keys))
    theirs = [item for qid, row in enumerate(rows)
              for item in opencompass.make_circular_items(row, patterns, keys, "answer", None, qid)]
    assert len(ours) == len(theirs) == len(rows) * len(patterns)
    for a, b in zip(ours, theirs):
        assert a == {**b, "circular_pattern": "".join(b["circular_pattern"])}
    for i, row in enumerate(ours):
        assert variant_of(i, CircularSpec(kind, tuple(keys))) == (row["qid"], row["circular_pattern"])


def test_the_patterns_are_opencompass_s() -> None:
    for n in range(2, 11):
        keys = list(string.ascii_uppercase[:n])
        assert circular_patterns(keys) == opencompass.get_circular_patterns(keys)
    for n in range(2, 6):
        keys = list(string.ascii_uppercase[:n])
        assert all_patterns(keys) == opencompass.get_all_possible_patterns(keys)
    assert ["".join(p) for p in circular_patterns("ABCD")] == ["ABCD", "BCDA", "CDAB", "DABC"]


def test_a_gold_with_whitespace_moves_where_opencompass_leaves_it() -> None:
    row = {"A": "a", "B": "b", "answer": " B"}
    assert [r["answer"] for r in circular_rows([row], CircularSpec("circular", ("A", "B")), "answer")] == ["B", "A"]
    theirs = opencompass.make_circular_items(row, opencompass.get_circular_patterns(["A", "B"]), ["A", "B"], "answer", None, 0)
    assert [r["answer"] for r in theirs] == [" B", " B"]  # OpenCompass: ' B' is no key, so never moved


# -- scores ---------------------------------------------------------------------------------------

def _opencompass_scores(preds, golds, qids, patterns, kind):
    test_set = [{"qid": q, "circular_pattern": tuple(p)} for q, p in zip(qids, patterns)]
    return opencompass.CircularEvaluator(kind).score(preds, golds, test_set)


def _variants(n_questions: int, spec: CircularSpec) -> tuple[list[int], list[str]]:
    rows = [variant_of(i, spec) for i in range(n_questions * spec.variants)]
    return [q for q, _ in rows], [p for _, p in rows]


def test_hand_made_predictions_score_as_opencompass_scores_them() -> None:
    spec = CircularSpec()
    qids, patterns = _variants(3, spec)
    # question 0 right in all four rotations; question 1 always answers "A" (right once); question 2 right twice
    golds = ["B", "C", "D", "A", "A", "B", "C", "D", "C", "D", "A", "B"]
    preds = ["B", "C", "D", "A", "A", "A", "A", "A", "C", "D", "", "X"]
    ours = score_circular(preds, golds, qids, patterns, spec)
    theirs = _opencompass_scores(preds, golds, qids, patterns, "circular")
    assert list(ours.scores.metrics()) == list(theirs) == metric_names(spec)
    assert ours.scores.metrics() == theirs
    assert theirs["perf_circular"] == pytest.approx(100 / 3) and theirs["more_2_circular"] == pytest.approx(200 / 3)
    assert (ours.value, ours.perfect, ours.scored, ours.empty_predictions) == (theirs["perf_circular"], 1, 3, 1)
    assert [d.correct for d in ours.details] == [True, False, False]
    assert [d.prediction for d in ours.details] == ["B", "A", "C"]  # most often, in the options' own letters
    assert [v.answer for v in ours.details[1].variants] == ["A", "D", "C", "B"]  # "A" under each rotation
    assert ours.details[0].gold == "B"  # the gold as written (the ABCD variant's)


@settings(max_examples=250, deadline=None)
@given(st.integers(min_value=2, max_value=5), st.sampled_from(["circular", "all_possible"]), st.data())
@example(n=4, kind="all_possible", data=None)
def test_random_predictions_score_exactly_as_opencompass(n, kind, data) -> None:
    spec = CircularSpec(kind, tuple(string.ascii_uppercase[:n]))
    questions = 3 if data is None else data.draw(st.integers(min_value=1, max_value=6))
    qids, patterns = _variants(questions, spec)
    answers = st.sampled_from([*spec.option_keys, "", "?"])
    if data is None:
        preds = [spec.option_keys[i % n] for i in range(len(qids))]
        golds = [spec.option_keys[(i // 3) % n] for i in range(len(qids))]
    else:
        preds = data.draw(st.lists(answers, min_size=len(qids), max_size=len(qids)))
        golds = data.draw(st.lists(st.sampled_from(spec.option_keys), min_size=len(qids), max_size=len(qids)))
    ours = score_circular(preds, golds, qids, patterns, spec).scores.metrics()
    theirs = _opencompass_scores(preds, golds, qids, patterns, kind)
    assert list(ours.items()) == list(theirs.items())  # same names, same order, the same floats


def test_letter_rates_are_opencompass_priors() -> None:
    spec = CircularSpec()
    qids, patterns = _variants(2, spec)
    preds = ["D", "D", "D", "C", "A", "D", "", "B"]
    golds = ["A", "B", "C", "D", "B", "C", "D", "A"]
    ours = score_circular(preds, golds, qids, patterns, spec).scores.priors()
    references = [f"{q}--{g}--{p}" for q, g, p in zip(qids, golds, patterns)]
    theirs = opencompass.IclCircularEvaluator().score(preds, references)
    assert ours == {k: v for k, v in theirs.items() if k.startswith("prior_")}
    assert ours["prior_D"] == 50.0 and ours["prior_-"] == 12.5


def test_questions_without_a_gold_are_not_scored_and_a_split_without_any_is_na() -> None:
    spec = CircularSpec("circular", ("A", "B"))
    qids, patterns = _variants(2, spec)
    partial = score_circular(["A", "B", "A", "A"], ["A", "B", "", None], qids, patterns, spec)
    assert (partial.questions, partial.scored, partial.perfect, partial.value) == (2, 1, 1, 100.0)
    assert [d.correct for d in partial.details] == [True, None]
    assert partial.scores.priors() == {"prior_A": 75.0, "prior_B": 25.0, "prior_-": 0.0}  # every variant answered
    none = score_circular(["A", "B"], ["", ""], [0, 0], ["AB", "BA"], spec)
    assert none.status == "n/a" and none.value is None and none.scores.metrics() == {}


def test_mismatched_lengths_are_a_run_error() -> None:
    with pytest.raises(RunError):
        score_circular(["A"], ["A", "B"], [0, 0], ["AB", "BA"], CircularSpec("circular", ("A", "B")))
