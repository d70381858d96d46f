"""Result records and files: round trips, OpenCompass compatibility, bad files."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest

import toolkit.engine.scoring.results as results_module
from toolkit.engine.scoring.evaluate import score_accuracy
from toolkit.engine.scoring.results import (
    Counts,
    ResultRecord,
    failed_record,
    last_error_line,
    read_result,
    read_results,
    record_from_score,
    result_path,
    write_result,
)
from toolkit.errors import DataError, RunError

METRIC_BLACKLIST = ["bp", "sys_len", "ref_len", "type"]


def opencompass_metrics(result: dict) -> dict:
    """What OpenCompass's DefaultSummarizer picks out of a result file (its own rule)."""
    result = dict(result)
    result.pop("details", None)
    if "error" in result:
        return {"error": result["error"]}
    return {k: v for k, v in result.items() if k not in METRIC_BLACKLIST and isinstance(v, (int, float))}


def ok_record() -> ResultRecord:
    score = score_accuracy(["A", "B", "C", "D"], ["A", "B", " C", "A"])
    return record_from_score("smol", "ceval-law", "db9ce2", "gen", score, timings={"infer_seconds": 1.5})


def test_record_from_score_copies_counts_and_value() -> None:
    record = ok_record()
    assert record.status == "ok"
    assert record.value == 75.0
    assert record.counts == Counts(total=4, scored=4, correct=3, stripped_golds=1, empty_predictions=0)
    assert len(record.details) == 4


def test_json_keeps_opencompass_at_home() -> None:
    data = ok_record().to_json()
    assert data["accuracy"] == 75.0
    assert list(data)[0] == "accuracy"
    assert opencompass_metrics(data) == {"accuracy": 75.0}  # no stray metric rows in their summary
    assert "error" not in data


def test_na_and_failed_json_as_opencompass_reads_them() -> None:
    na = record_from_score("smol", "ceval-test-law", "db9ce2", "gen", score_accuracy(["A"], [""]))
    assert na.status == "n/a" and na.value is None
    assert na.to_json()["accuracy"] is None
    assert opencompass_metrics(na.to_json()) == {}
    failed = failed_record("smol", "ceval-law", "db9ce2", "gen", RunError("CUDA out of memory", hint="lower --batch-size"))
    assert failed.to_json()["error"] == "CUDA out of memory (fix: lower --batch-size)"
    assert opencompass_metrics(failed.to_json()) == {"error": "CUDA out of memory (fix: lower --batch-size)"}


@pytest.mark.parametrize("record", [ok_record(), failed_record("m", "d", "abcdef", "ppl", "boom\n")])
def test_json_round_trip(record: ResultRecord) -> None:
    assert ResultRecord.from_json(json.loads(json.dumps(record.to_json()))) == record


def test_write_and_read_files(tmp_path: Path) -> None:
    record = ok_record()
    path = write_result(tmp_path / "results", record)
    assert path == result_path(tmp_path / "results", "smol", "ceval-law") == tmp_path / "results/smol/ceval-law.json"
    assert read_result(path) == record
    other = failed_record("big", "ceval-law", "db9ce2", "gen", ValueError("bad"))
    write_result(tmp_path / "results", other)
    assert read_results(tmp_path / "results") == [other, record]
    assert read_results(tmp_path / "nowhere") == []
    assert not list((tmp_path / "results/smol").glob(".*.tmp"))  # nothing left half-written


def test_reads_plain_opencompass_result_files(tmp_path: Path) -> None:
    ok = tmp_path / "results/hf_qwen/ceval-law.json"
    ok.parent.mkdir(parents=True)
    ok.write_text(json.dumps({"accuracy": 40}), encoding="utf-8")
    bad = tmp_path / "results/hf_qwen/ceval-logic.json"
    bad.write_text(json.dumps({"error": "Traceback...\nIndexError: list index out of range"}), encoding="utf-8")
    assert read_result(ok) == ResultRecord("hf_qwen", "ceval-law", "-", "-", "ok", value=40.0)
    assert read_result(bad).error == "IndexError: list index out of range"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON result file"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"details": []}', "no numeric 'accuracy'"),
        ('{"format_version": "9"}', "newer than this toolkit understands"),
        ('{"format_version": "1", "accuracy": 1.0}', "missing or unknown key 'model'"),
        ('{"format_version": "1", "accuracy": "high"}', "must be a number or null"),
    ],
)
def test_bad_files_name_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m" / "d.json"
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        read_result(path)
    assert str(path) in str(err.value)


def test_missing_file() -> None:
    with pytest.raises(DataError, match="result file not found"):
        read_result("/nonexistent/m/d.json")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "ok"}, "must have a value"),
        ({"status": "n/a", "value": 1.0}, "must not have a value"),
        ({"status": "failed"}, "needs an error message"),
        ({"status": "ok", "value": 1.0, "error": "x"}, "only a failed one"),
        ({"status": "done"}, "status must be one of"),
    ],
)
def test_inconsistent_records_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ResultRecord("m", "d", "abcdef", "gen", **kwargs)


@pytest.mark.parametrize(
    ("error", "line"),
    [
        ("", "unknown error"),
        ("one\n\n  two  \n", "two"),
        (KeyboardInterrupt(), "KeyboardInterrupt"),
        (RunError("no model", file="/m"), "/m: no model"),
    ],
)
def test_last_error_line(error: object, line: str) -> None:
    assert last_error_line(error) == line


def test_docstring_examples_run() -> None:
    assert doctest.testmod(results_module).failed == 0
