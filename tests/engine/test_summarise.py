"""The summariser: layout, both averages, N/A exclusion, failures, nested groups."""

from __future__ import annotations

import doctest

import pytest

import toolkit.engine.scoring.summary as summarise_module
from toolkit.config.groups import category_groups
from toolkit.dataset.mapping import Subject
from toolkit.engine.scoring.results import Counts, ResultRecord, failed_record
from toolkit.engine.scoring.summary import Cell, summarise
from toolkit.errors import ConfigError


def ok(model: str, abbr: str, correct: int, scored: int, mode: str = "gen", version: str = "abc123") -> ResultRecord:
    return ResultRecord(model, abbr, version, mode, "ok", value=correct / scored * 100,
                        counts=Counts(scored, scored, correct))


def na(model: str, abbr: str) -> ResultRecord:
    return ResultRecord(model, abbr, "abc123", "gen", "n/a", counts=Counts(total=7))


def rows_by_key(summary) -> dict[tuple[str, str], list[str]]:
    return {(r[0], r[2]): r[4:] for r in summary.table()[1:]}


def test_layout_follows_opencompass() -> None:
    s = summarise([ok("m1", "x-b", 1, 2), ok("m1", "x-a", 3, 4), ok("m2", "x-a", 1, 4)],
                  [{"name": "x", "subsets": ["x-a", "x-b"]}])
    assert s.header == ["dataset", "version", "metric", "mode", "m1", "m2"]
    assert [r[:4] for r in s.table()[1:]] == [
        ["x-b", "abc123", "accuracy", "gen"],
        ["x-a", "abc123", "accuracy", "gen"],
        ["x", "-", "naive_average", "gen"],
        ["x", "-", "weighted_average", "gen"],
    ]
    assert [r.kind for r in s.rows] == ["subject", "subject", "group", "group"]
    assert s.table()[1][4:] == ["50.00", "-"]  # m2 never ran x-b


def test_naive_and_weighted_averages_differ_and_are_right() -> None:
    s = summarise([ok("m", "x-a", 1, 10), ok("m", "x-b", 9, 10), ok("m", "x-c", 90, 100)],
                  [{"name": "x", "subsets": ["x-a", "x-b", "x-c"]}])
    rows = rows_by_key(s)
    assert rows["x", "naive_average"] == ["63.33"]  # (10 + 90 + 90) / 3
    assert rows["x", "weighted_average"] == ["83.33"]  # 100 / 120
    weighted = s.rows[-1].cells[0]
    assert weighted.questions == 120 and weighted.value == pytest.approx(100 / 120 * 100)


def test_na_subjects_are_excluded_and_said_so() -> None:
    s = summarise([ok("m1", "x-a", 1, 2), na("m1", "x-b"), ok("m2", "x-a", 2, 2), ok("m2", "x-b", 0, 2)],
                  [{"name": "x", "subsets": ["x-a", "x-b"]}])
    rows = rows_by_key(s)
    assert rows["x-b", "accuracy"] == ["n/a", "0.00"]
    assert rows["x", "naive_average"] == ["50.00", "50.00"]
    assert rows["x", "weighted_average"] == ["50.00", "50.00"]
    assert s.rows[2].cells[0].excluded == ("x-b",)
    assert "x: n/a subjects excluded from its averages (for m1): x-b" in s.notes
    assert any(n.startswith("n/a: the split has no gold answers") for n in s.notes)


def test_group_of_only_na_subjects_is_na() -> None:
    s = summarise([na("m", "x-a"), na("m", "x-b")], [{"name": "x", "subsets": ["x-a", "x-b"]}])
    assert rows_by_key(s)["x", "naive_average"] == ["n/a"]
    assert rows_by_key(s)["x", "weighted_average"] == ["n/a"]


def test_failed_task_shows_its_error_and_marks_groups_incomplete() -> None:
    failed = failed_record("m", "x-b", "abc123", "gen", "Traceback...\nRuntimeError: CUDA error: device-side assert")
    s = summarise([ok("m", "x-a", 1, 2), failed], [{"name": "x", "subsets": ["x-a", "x-b"]}])
    rows = rows_by_key(s)
    assert rows["x-b", "accuracy"] == ["error: RuntimeError: CUDA error: device-side assert"]
    assert rows["x", "naive_average"] == ["incomplete: x-b failed"]
    assert s.rows[1].cells[0] == Cell("failed", text="error: RuntimeError: CUDA error: device-side assert")
    assert [(f.model, f.abbr, f.error) for f in s.failures] == [("m", "x-b", "RuntimeError: CUDA error: device-side assert")]


def test_long_errors_are_cut_for_display_only() -> None:
    record = failed_record("m", "x-a", "abc123", "gen", "E" * 500)
    s = summarise([record])
    assert len(s.table()[1][4]) == len("error: ") + 200
    assert s.failures[0].error == "E" * 500


def test_missing_results_make_a_group_incomplete() -> None:
    s = summarise([ok("m", "x-a", 1, 2)], [{"name": "x", "subsets": ["x-a", "x-b", "x-c", "x-d"]}],
                  datasets=["x-a", "x-b", "x-c", "x-d"])
    assert rows_by_key(s)["x-b", "-"] == ["-"]
    assert rows_by_key(s)["x", "naive_average"] == ["incomplete: x-b missing, x-c missing, +1 more"]


def test_subsets_outside_the_run_are_dropped_with_a_note() -> None:
    s = summarise([ok("m", "x-a", 1, 2)], [{"name": "x", "subsets": ["x-a", "x-b", "x-c"]},
                                            {"name": "y", "subsets": ["y-a"]}])
    assert rows_by_key(s)["x", "naive_average"] == ["50.00"]
    assert "x: 2 of 3 subsets not in this run; its averages cover the other 1" in s.notes
    assert ("y", "naive_average") not in rows_by_key(s)  # nothing of y ran: no row, as in OpenCompass


def test_nested_groups_naive_counts_a_group_once_weighted_counts_questions() -> None:
    records = [ok("m", "s-a", 1, 10), ok("m", "s-b", 3, 10), ok("m", "h-a", 80, 100)]
    groups = [
        {"name": "all", "subsets": ["stem", "hum"]},  # refers to groups defined later
        {"name": "stem", "subsets": ["s-a", "s-b"]},
        {"name": "hum", "subsets": ["h-a"]},
    ]
    rows = rows_by_key(summarise(records, groups))
    assert rows["stem", "naive_average"] == ["20.00"]
    assert rows["all", "naive_average"] == ["50.00"]  # (20 + 80) / 2, like OpenCompass
    assert rows["all", "weighted_average"] == ["70.00"]  # 84 / 120


def test_shared_subjects_are_counted_once_in_weighted_average() -> None:
    records = [ok("m", "a", 1, 10), ok("m", "b", 9, 10)]
    groups = [{"name": "g1", "subsets": ["a"]}, {"name": "g2", "subsets": ["g1", "a", "b"]}]
    assert rows_by_key(summarise(records, groups))["g2", "weighted_average"] == ["50.00"]


def test_mixed_modes_and_versions() -> None:
    s = summarise([ok("m1", "x-a", 1, 2, "gen", "aaaaaa"), ok("m2", "x-a", 1, 2, "ppl", "bbbbbb"),
                   ok("m1", "x-b", 1, 2, "gen")], [{"name": "x", "subsets": ["x-a", "x-b"]}])
    assert s.table()[1][1:4] == ["aaaaaa/bbbbbb", "accuracy", "gen/ppl"]
    assert s.rows[2].mode == "mixed"


def test_unknown_question_counts_leave_weighted_blank() -> None:
    plain = ResultRecord("m", "x-a", "-", "-", "ok", value=40.0)  # read from an OpenCompass file
    s = summarise([plain], [{"name": "x", "subsets": ["x-a"]}])
    assert rows_by_key(s)["x", "naive_average"] == ["40.00"]
    assert rows_by_key(s)["x", "weighted_average"] == ["-"]
    assert any("weighted_average needs question counts" in n for n in s.notes)


def test_model_order_and_opencompass_metric_pairs() -> None:
    s = summarise([ok("b", "x-a", 1, 2), ok("a", "x-a", 2, 2)], [{"name": "x", "subsets": [["x-a", "accuracy"]]}],
                  models=["a", "b"])
    assert s.header[4:] == ["a", "b"]
    assert rows_by_key(s)["x", "naive_average"] == ["100.00", "50.00"]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([{"subsets": ["x-a"]}], "needs a 'name'"),
        ([{"name": "x", "subsets": ["x-a"], "weights": {"x-a": 2}}], "unsupported key"),
        ([{"name": "x", "subsets": [3]}], "is not a dataset abbr or group name"),
        ([{"name": "x", "subsets": ["y"]}, {"name": "y", "subsets": ["x"]}], "cycle: x -> y -> x"),
        ([{"name": "x-a", "subsets": ["x-a"]}], "is also a dataset abbr"),
    ],
)
def test_bad_groups_are_config_errors(groups: list[dict], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        summarise([ok("m", "x-a", 1, 2)], groups)


def test_duplicate_records_are_refused() -> None:
    with pytest.raises(ValueError, match="two results for model 'm' on 'x-a'"):
        summarise([ok("m", "x-a", 1, 2), ok("m", "x-a", 1, 2)])


def test_empty_summary() -> None:
    s = summarise([])
    assert s.table() == [["dataset", "version", "metric", "mode"]]
    assert s.notes == () and s.failures == ()


def test_category_groups_match_opencompass_names() -> None:
    mapping = {
        "computer_network": Subject("computer_network", "Computer Network", "计算机网络", "STEM"),
        "marxism": Subject("marxism", "Marxism", "马克思主义基本原理", "Social Science"),
        "law": Subject("law", "Law", "法学", "Humanities"),
        "civil_servant": Subject("civil_servant", "Civil Servant", "公务员", "Other"),
        "tea": Subject("tea", "Tea", "茶", "Tea & Culture"),
    }
    groups = category_groups("ceval", mapping)
    assert [g["name"] for g in groups] == [
        "ceval-stem", "ceval-social-science", "ceval-humanities", "ceval-other", "ceval-tea-culture", "ceval"]
    assert groups[1]["subsets"] == ["ceval-marxism"]
    assert groups[-1]["subsets"] == [f"ceval-{k}" for k in mapping]
    assert category_groups("ceval-test", {"law": "Humanities"})[0] == {
        "name": "ceval-test-humanities", "subsets": ["ceval-test-law"]}


def test_docstring_examples_run() -> None:
    assert doctest.testmod(summarise_module).failed == 0
