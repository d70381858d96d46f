"""n and 95% intervals for every summary row: Wilson for proportions, a seeded bootstrap for naive averages."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from fixed_run import CATEGORIES, MODELS, build_records

import toolkit.analysis.uncertainty as uncertainty_module
from toolkit.analysis.stats import wilson_interval
from toolkit.analysis.uncertainty import summary_uncertainty, uncertainty_json
from toolkit.config.groups import category_groups
from toolkit.engine.scoring.results import Counts, ResultRecord
from toolkit.engine.scoring.summary import summarise

DATASETS = [f"ceval-{s}" for s in CATEGORIES]


@pytest.fixture
def fixed():
    records = build_records()
    groups = category_groups("ceval", CATEGORIES)
    summary = summarise(records, groups, models=MODELS, datasets=DATASETS)
    return records, groups, summary, summary_uncertainty(summary, records, groups)


def _row(summary, name, metric):
    return next(i for i, r in enumerate(summary.rows) if r.dataset == name and r.metric == metric)


def test_subjects_get_the_wilson_interval_of_their_counts(fixed) -> None:
    records, _, summary, unc = fixed
    by_key = {(r.model, r.abbr): r for r in records}
    for i, row in enumerate(summary.rows):
        if row.kind != "subject":
            continue
        for m, (model, cell) in enumerate(zip(MODELS, row.cells)):
            interval = unc[i].intervals[m]
            if cell.status != "ok":
                assert interval is None  # failed and n/a cells get none
                continue
            c = by_key[model, row.dataset].counts
            low, high = wilson_interval(c.correct, c.scored)
            assert (interval.low, interval.high, interval.method) == (low * 100, high * 100, "wilson")
            assert interval.low <= cell.value <= interval.high
            assert unc[i].n == c.scored


def test_weighted_averages_are_wilson_over_the_pooled_questions(fixed) -> None:
    _, _, summary, unc = fixed
    i = _row(summary, "ceval-humanities", "weighted_average")
    # smollm2: law 7/24 + logic 4/22 (art_studies is n/a and left out)
    low, high = wilson_interval(11, 46)
    assert unc[i].intervals[0].low == pytest.approx(low * 100) and unc[i].intervals[0].high == pytest.approx(high * 100)
    assert unc[i].n == 46
    assert unc[i].intervals[1] is None  # qwen's humanities average is incomplete (logic failed)


def test_naive_averages_are_a_seeded_stratified_bootstrap(fixed) -> None:
    records, groups, summary, unc = fixed
    i = _row(summary, "ceval-stem", "naive_average")
    again = summary_uncertainty(summary, records, groups)
    assert again == unc  # the same seed, the same interval on every render
    interval = unc[i].intervals[0]
    assert interval.method == "bootstrap" and interval.low < summary.rows[i].cells[0].value < interval.high
    # resampling the questions themselves (not binomial draws) gives the same interval, within Monte-Carlo error
    rng = np.random.default_rng(1)
    subjects = [np.array([1] * 5 + [0] * 14), np.array([1] * 6 + [0] * 13)]  # computer_network 5/19, os 6/19
    means = np.mean([[rng.choice(s, s.size).mean() * 100 for s in subjects] for _ in range(20_000)], axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    assert interval.low == pytest.approx(low, abs=1.5) and interval.high == pytest.approx(high, abs=1.5)
    # and its width is about the normal approximation's for a mean of proportions
    sd = math.sqrt(sum(p * (1 - p) / 19 for p in (5 / 19, 6 / 19))) / 2 * 100
    assert interval.high - interval.low == pytest.approx(2 * 1.96 * sd, rel=0.15)


def test_nested_groups_average_their_members_once() -> None:
    def rec(abbr, correct, n):
        return ResultRecord("m", abbr, "v", "gen", "ok", value=correct / n * 100, counts=Counts(n, n, correct))

    records = [rec("a", 10, 20), rec("b", 30, 40), rec("c", 2, 40)]
    groups = [{"name": "ab", "subsets": ["a", "b"]}, {"name": "all", "subsets": ["ab", "c"]}]
    summary = summarise(records, groups)
    unc = summary_uncertainty(summary, records, groups, resamples=4000)
    i = _row(summary, "all", "naive_average")
    assert summary.rows[i].cells[0].value == pytest.approx(((50 + 75) / 2 + 5) / 2)
    # sd of ((a + b)/2 + c)/2 with independent subjects
    var = (0.25 * (0.5 * 0.5 / 20 + 0.75 * 0.25 / 40) + 0.05 * 0.95 / 40) / 4
    interval = unc[i].intervals[0]
    assert interval.high - interval.low == pytest.approx(2 * 1.96 * math.sqrt(var) * 100, rel=0.15)


def test_opencompass_results_without_counts_get_no_interval() -> None:
    record = ResultRecord("m", "x", "-", "-", "ok", value=50.0)  # a plain OpenCompass file: no question counts
    summary = summarise([record], [{"name": "g", "subsets": ["x"]}])
    assert all(i is None for u in summary_uncertainty(summary, [record], [{"name": "g", "subsets": ["x"]}])
               for i in u.intervals)


def test_a_group_with_an_uncounted_subject_gets_no_interval() -> None:
    counted = ResultRecord("m", "a", "v", "gen", "ok", value=50.0, counts=Counts(10, 10, 5))
    plain = ResultRecord("m", "b", "-", "-", "ok", value=30.0)  # OpenCompass's file: a score, no counts
    groups = [{"name": "g", "subsets": ["a", "b"]}]
    summary = summarise([counted, plain], groups)
    unc = summary_uncertainty(summary, [counted, plain], groups)
    naive = _row(summary, "g", "naive_average")
    assert summary.rows[naive].cells[0].status == "ok"  # the summary still averages the two scores
    assert unc[naive].intervals == (None,)  # but an interval over only one of them would be wrong
    assert unc[0].intervals[0] is not None and unc[1].intervals == (None,)


def test_json_rows_carry_n_and_the_interval(fixed) -> None:
    _, _, summary, unc = fixed
    rows = uncertainty_json(summary, unc)
    first = rows[0]["models"]["smollm2-135m"]
    assert rows[0]["dataset"] == "ceval-computer_network" and rows[0]["n"] == 19
    assert first["n"] == 19 and first["ci_method"] == "wilson" and first["ci_low"] < first["value"] < first["ci_high"]
    assert rows[3]["models"]["qwen2-0.5b"]["ci_low"] is None  # failed


def test_docstring_examples_run() -> None:
    assert doctest.testmod(uncertainty_module).failed == 0
