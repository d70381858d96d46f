"""A circular dataset's scores in result files, the summary (per subject and pooled per group),
intervals, chance lines and charts."""

from __future__ import annotations

import doctest
import json

import pytest

import toolkit.engine.scoring.circular_rows as rows_module
import toolkit.report.extras as extras_module
from toolkit.analysis.uncertainty import summary_uncertainty
from toolkit.config.spec import CircularSpec
from toolkit.engine.prompting.circular import variant_of
from toolkit.engine.scoring.circular import score_circular
from toolkit.engine.scoring.results import Counts, ResultRecord, failed_record, record_from_circular
from toolkit.engine.scoring.summary import group_shapes, summarise
from toolkit.report.charts import summary_charts
from toolkit.report.extras import chance_levels
from toolkit.report.tables import format_csv


def test_doctests() -> None:
    for module in (rows_module, extras_module):
        assert doctest.testmod(module).failed == 0


def circular_record(model: str, abbr: str, picks: list[str], golds: list[str], spec: CircularSpec = CircularSpec(), *,
                    by: str = "content"):
    """A scored circular record of questions whose golds as written are ``golds``. ``by="content"``: the model
    picks the option written as ``picks[q]`` wherever it is shown; ``by="letter"``: it answers the letter
    ``picks[q]`` whatever the order."""
    preds, shown_golds, qids, patterns = [], [], [], []
    for i in range(len(golds) * spec.variants):
        q, pattern = variant_of(i, spec)
        qids.append(q)
        patterns.append(pattern)
        preds.append(pattern[spec.option_keys.index(picks[q])] if by == "content" else picks[q])
        shown_golds.append(pattern[spec.option_keys.index(golds[q])])
    result = score_circular(preds, shown_golds, qids, patterns, spec)
    return record_from_circular(model, abbr, "abc123", "gen", result)


def plain(model: str, abbr: str, correct: int, scored: int) -> ResultRecord:
    return ResultRecord(model, abbr, "abc123", "gen", "ok", value=correct / scored * 100, counts=Counts(scored, scored, correct))


def table(summary) -> dict[tuple[str, str], list[str]]:
    return {(r[0], r[2]): r[4:] for r in summary.table()[1:]}


def test_a_model_that_always_answers_d_gets_one_rotation_right() -> None:
    """The issue's case: a model that answers D everywhere looks 25 % right on a balanced key, and is 0 % circular."""
    record = circular_record("m", "x-logic", ["D"] * 4, ["A", "B", "C", "D"], by="letter")
    assert record.metric == "perf_circular" and record.value == 0.0
    metrics = record.circular.metrics()
    assert metrics["acc_circular"] == 25.0 and metrics["acc_origin"] == 25.0 and metrics["more_1_circular"] == 100.0
    assert record.circular.priors() == {"prior_A": 0.0, "prior_B": 0.0, "prior_C": 0.0, "prior_D": 100.0, "prior_-": 0.0}
    assert (record.counts.total, record.counts.scored, record.counts.correct) == (4, 4, 0)


def test_result_files_hold_opencompass_s_numbers_first_and_read_back() -> None:
    record = circular_record("m", "x-a", ["A", "D", "B"], ["A", "B", "C"], by="letter")
    data = record.to_json()
    assert list(data)[:12] == ["acc_origin", "acc_circular", "perf_origin", "more_1_circular", "more_2_circular",
                               "more_3_circular", "perf_circular", "prior_A", "prior_B", "prior_C", "prior_D", "prior_-"]
    assert data["metric"] == "perf_circular" and data["perf_circular"] == record.value
    assert data["circular"]["counts"]["acc_circular"] == [3, 12] and data["circular"]["variants"] == 4
    assert data["details"][0]["variants"][1] == {"pattern": "BCDA", "prediction": "A", "answer": "D", "gold": "B",
                                                  "correct": False}
    again = ResultRecord.from_json(json.loads(json.dumps(data)))
    assert again == record


def test_summary_rows_per_subject_and_pooled_per_group() -> None:
    a = circular_record("m", "x-a", ["A", "A", "C", "D"], ["A", "B", "C", "D"])  # knows 3 of 4
    b = circular_record("m", "x-b", ["B", "B"], ["A", "B"])  # knows 1 of 2
    s = summarise([a, b], [{"name": "x", "subsets": ["x-a", "x-b"]}])
    rows = table(s)
    assert [r[2] for r in s.table()[1:12]] == ["perf_circular", "acc_circular", "acc_origin", "more_1_circular",
                                               "more_2_circular", "more_3_circular", "prior_A", "prior_B", "prior_C",
                                               "prior_D", "perf_circular"]
    assert [r.detail for r in s.rows[:3]] == [False, True, True]
    assert rows["x-a", "perf_circular"] == ["75.00"] and rows["x-b", "perf_circular"] == ["50.00"]
    assert rows["x-a", "acc_circular"] == ["75.00"] and rows["x-a", "more_3_circular"] == ["75.00"]
    assert rows["x-a", "prior_A"] == ["25.00"]  # a model that knows the content shows no letter preference
    # the group pools 16 + 8 variants and 4 + 2 questions; its averages are of perf_circular
    assert rows["x", "acc_circular"] == [f"{(12 + 4) / 24 * 100:.2f}"]
    assert rows["x", "more_1_circular"] == [f"{(3 + 1) / 6 * 100:.2f}"]
    assert rows["x", "prior_B"] == ["25.00"]
    assert rows["x", "naive_average"] == ["62.50"] and rows["x", "weighted_average"] == [f"{4 / 6 * 100:.2f}"]
    assert any("perf_circular: questions right in every rotation" in n for n in s.notes)
    assert any(n.startswith("x: naive_average and weighted_average are of the subjects' perf_*") for n in s.notes)
    assert not any(r.metric == "prior_-" for r in s.rows)  # nobody answered without a letter
    assert "x-a,abc123,prior_D,gen,25.00" in format_csv(s).replace(" ", "")


def test_a_group_mixing_circular_and_plain_subjects_says_so_and_a_failed_one_is_incomplete() -> None:
    a = circular_record("m", "x-a", ["A"], ["A"])
    s = summarise([a, plain("m", "x-b", 1, 2)], [{"name": "x", "subsets": ["x-a", "x-b"]}])
    assert any("x: averages circular subjects' perf_* with plain subjects' accuracy" in n for n in s.notes)
    assert table(s)["x", "acc_circular"] == ["100.00"]  # pooled over its circular subject only
    broken = summarise([a, failed_record("m", "x-c", "abc123", "gen", "boom", metric="perf_circular")],
                       [{"name": "x", "subsets": ["x-a", "x-c"]}])
    assert table(broken)["x-c", "perf_circular"] == ["error: boom"]
    assert table(broken)["x", "acc_circular"][0].startswith("incomplete: x-c")


def test_two_models_where_one_has_no_result() -> None:
    a = circular_record("m1", "x-a", ["A", "B"], ["A", "B"])
    s = summarise([a], models=["m1", "m2"], datasets=["x-a"])
    assert table(s)["x-a", "perf_circular"] == ["100.00", "-"] and table(s)["x-a", "acc_circular"] == ["100.00", "-"]


def test_intervals_only_for_shares_of_questions() -> None:
    a = circular_record("m", "x-a", ["A", "A", "C", "D"], ["A", "B", "C", "D"])
    groups = [{"name": "x", "subsets": ["x-a"]}]
    s = summarise([a], groups)
    unc = {(r.dataset, r.metric): u for r, u in zip(s.rows, summary_uncertainty(s, [a], groups))}
    assert unc["x-a", "perf_circular"].intervals[0].method == "wilson"
    assert unc["x-a", "more_1_circular"].intervals[0] is not None and unc["x-a", "acc_origin"].intervals[0] is not None
    assert unc["x-a", "acc_circular"].intervals[0] is None and unc["x-a", "prior_A"].intervals[0] is None
    assert unc["x", "more_1_circular"].intervals[0] == unc["x-a", "more_1_circular"].intervals[0]
    assert unc["x-a", "prior_A"].n == 4


def test_chance_lines_and_charts() -> None:
    a = circular_record("m", "x-a", ["A", "B"], ["A", "B"])
    s = summarise([a, plain("m", "y", 1, 2)], [{"name": "x", "subsets": ["x-a"]}])
    shapes = group_shapes([{"name": "x", "subsets": ["x-a"]}], ["x-a", "y"])
    chance = chance_levels(s, {"x-a": 4, "y": 2}, {"x-a": 2, "y": 2}, shapes)
    assert chance["x-a", "perf_circular"] == pytest.approx(100 / 256) and chance["y", "accuracy"] == 50.0
    assert chance["x-a", "prior_A"] == 25.0 and chance["x", "prior_C"] == 25.0
    assert chance["x", "naive_average"] == pytest.approx(100 / 256)
    titles = [c.title for c in summary_charts(s, chance=chance)]
    assert "Subjects — perf_circular (right in every rotation)" in titles and "Subjects — accuracy" in titles
    letters = next(c for c in summary_charts(s, chance=chance) if "letters answered" in c.title)
    assert [r.label for r in letters.rows] == ["A", "B", "C", "D"] and letters.title.startswith("x — ")
