"""Lining runs up (same data, or paired by id when allowed) and comparing them with exact McNemar tests."""

from __future__ import annotations

import doctest

import pytest
from scipy.stats import binomtest

import toolkit.analysis.compare as compare_module
from toolkit.analysis.api import compare_runs, comparison_json, run_groups
from toolkit.analysis.compare import compare_panel
from toolkit.analysis.panel import build_panel, panel_entries
from toolkit.analysis.runs import load_run
from toolkit.analysis.stats import holm
from toolkit.errors import UsageError


def test_models_of_several_runs_get_unique_labels(scripted_runs) -> None:
    three, second = load_run(scripted_runs["three"]), load_run(scripted_runs["second"])
    labels = [e.label for e in panel_entries([three, second])]
    assert labels == [f"alpha@{three.name}", "beta", "gamma", f"alpha@{second.name}", "delta"]
    with pytest.raises(UsageError, match="the same run is given twice"):
        panel_entries([three, load_run(scripted_runs["three"])])


def test_runs_on_different_data_are_refused_with_the_reason(scripted_runs) -> None:
    runs = [load_run(scripted_runs["three"]), load_run(scripted_runs["edited"])]
    with pytest.raises(UsageError) as err:
        build_panel(runs)
    message = str(err.value)
    assert "bank-algebra: the val file differs between" in message and "--allow-different-data" in message
    assert "bank-history" not in message  # that subject is byte-identical in both banks


def test_allowed_different_data_pairs_by_id_and_says_what_was_dropped(scripted_runs) -> None:
    three, edited = load_run(scripted_runs["three"]), load_run(scripted_runs["edited"])
    panel = build_panel([three, edited], allow_different_data=True)
    algebra = next(d for d in panel.datasets if d.abbr == "bank-algebra")
    assert algebra.paired_by_id and len(algebra.questions) == 30
    edited_alpha = algebra.answers[-1]
    assert edited_alpha[3] is None  # question id 3 was removed from the edited bank
    assert sum(a is not None for a in edited_alpha) == 29
    # the edited run's answer to id 10 is its own answer at that id's new position (9)
    assert edited_alpha[10] == edited.answers["alpha", "bank-algebra"][9]
    note = next(n for n in panel.notes if n.startswith("bank-algebra"))
    assert "29 questions paired by id" in note and "1 only in the first run" in note and "1 only in this run" in note
    assert "1 paired question(s) have another answer key here" in note
    history = next(d for d in panel.datasets if d.abbr == "bank-history")
    assert not history.paired_by_id  # identical file: paired by position


def test_compare_counts_discordant_pairs_and_tests_them_exactly(scripted_runs) -> None:
    run = load_run(scripted_runs["three"])
    panel = build_panel([run])
    comparison = compare_panel(panel, run.groups)
    assert comparison.labels == ("alpha", "beta", "gamma")
    subjects = [r for r in comparison.rows if r.kind == "subject"]
    for row in subjects:
        a, b = run.answers["alpha", row.name], run.answers["beta", row.name]
        only_alpha = sum(1 for x, y in zip(a, b) if x.correct and not y.correct)
        only_beta = sum(1 for x, y in zip(a, b) if y.correct and not x.correct)
        test = row.tests[0]
        assert (test.b, test.c) == (only_alpha, only_beta)
        assert test.p == pytest.approx(binomtest(only_alpha, only_alpha + only_beta, 0.5).pvalue)
        assert row.values[0] == pytest.approx(100 * sum(x.correct for x in a) / len(a))
        assert row.deltas[0] == pytest.approx(row.values[1] - row.values[0])
    # Holm across the subjects, per model
    assert [r.tests[1].p_holm for r in subjects] == pytest.approx(holm([r.tests[1].p for r in subjects]))
    overall = comparison.rows[-1]
    assert overall.name == "overall" and overall.n == 55 and overall.tests[0].p_holm is None
    assert (overall.tests[0].b, overall.tests[0].c) == (sum(r.tests[0].b for r in subjects), sum(r.tests[0].c for r in subjects))
    naive = next(r for r in comparison.rows if r.name == "bank" and r.metric == "naive_average")
    assert naive.values[0] == pytest.approx(sum(r.values[0] for r in subjects) / 2) and naive.tests == (None, None)


def test_compare_across_runs_with_a_baseline(scripted_runs) -> None:
    comparison, panel = compare_runs([scripted_runs["three"], scripted_runs["second"]], baseline="delta")
    assert comparison.baseline == "delta" and len(comparison.labels) == 5
    data = comparison_json(comparison, panel)
    assert data["baseline"] == "delta" and set(data["rows"][0]["vs_baseline"]) == set(comparison.labels[1:])
    first = data["rows"][0]["vs_baseline"]["beta"]
    assert {"delta", "b", "c", "p", "p_holm", "significant"} <= set(first)
    with pytest.raises(UsageError, match="no model 'nobody'"):
        compare_runs([scripted_runs["three"]], baseline="nobody")


def test_compare_needs_two_models(scripted_runs) -> None:
    with pytest.raises(UsageError, match="at least two models"):
        compare_runs([scripted_runs["edited"]])


def test_groups_come_from_the_runs(scripted_runs) -> None:
    runs = [load_run(scripted_runs["three"]), load_run(scripted_runs["second"])]
    assert [g["name"] for g in run_groups(runs)] == ["bank-stem", "bank-humanities", "bank"]


def test_docstring_examples_run() -> None:
    assert doctest.testmod(compare_module).failed == 0
