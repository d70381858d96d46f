"""Result files: one versioned record per (model, dataset abbr).

``<work_dir>/results/<model>/<abbr>.json`` keeps OpenCompass's shape where it matters
(the score under the key ``accuracy``; a key ``error`` only when the task failed) so
that OpenCompass's own summariser and people's scripts still read it, and adds what
OpenCompass leaves out::

    {
        "accuracy": 45.0,                 # the value under its metric's name; null for n/a and failed
        "format_version": "1",
        "model": "smollm2-135m", "abbr": "ceval-computer_network",
        "version": "db9ce2", "metric": "accuracy", "mode": "gen",
        "status": "ok",                   # "ok" | "n/a" | "failed"
        "error": "...",                   # only when failed: the error's last line
        "counts": {"total": 19, "scored": 19, "correct": 8, "stripped_golds": 0, "empty_predictions": 0},
        "truncation": {"max_seq_len": 1024, "shots": 5, "prompts_dropping_examples": 19,
                       "examples_dropped": 19, "dropped_per_prompt": {"1": 19}, "over_length": 0},
        "timings": {"infer_seconds": 3.2, "eval_seconds": 0.01},
        "details": [{"prediction": "B", "gold": "B", "correct": true}, ...]
    }

Only ``accuracy`` is a top-level number: OpenCompass's summariser turns every
top-level number into a metric row, which is also why ``format_version`` is a string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toolkit.engine.scoring.evaluate import AccuracyResult, ItemScore
from toolkit.engine.scoring.truncation import Truncation
from toolkit.errors import DataError, ToolkitError
from toolkit.fileio import atomic_write_text

RESULT_FORMAT_VERSION = "1"
ResultStatus = Literal["ok", "n/a", "failed"]
STATUSES: tuple[str, ...] = ("ok", "n/a", "failed")


@dataclass(frozen=True)
class Counts:
    """Rows predicted, rows with a gold answer, right answers, and the data warnings."""

    total: int = 0
    scored: int = 0
    correct: int = 0
    stripped_golds: int = 0
    empty_predictions: int = 0


@dataclass(frozen=True)
class ResultRecord:
    """The outcome of one eval task. ``value`` is set exactly when ``status`` is ``"ok"``."""

    model: str
    abbr: str
    version: str
    mode: str
    """``gen``, ``ppl`` or ``choice`` (``-`` when read from an OpenCompass file)."""
    status: ResultStatus
    value: float | None = None
    metric: str = "accuracy"
    error: str | None = None
    counts: Counts = field(default_factory=Counts)
    timings: Mapping[str, float] = field(default_factory=dict)
    """Seconds by phase, e.g. ``{"infer_seconds": 3.2, "eval_seconds": 0.01}``."""
    truncation: Truncation = field(default_factory=Truncation)
    details: tuple[ItemScore, ...] = ()
    format_version: str = RESULT_FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if (self.value is not None) != (self.status == "ok"):
            raise ValueError(f"a {self.status!r} result must {'' if self.status == 'ok' else 'not '}have a value")
        if (self.status == "failed") != bool(self.error):
            raise ValueError("a failed result needs an error message, and only a failed one")

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to ``results/<model>/<abbr>.json``."""
        data: dict[str, Any] = {self.metric: self.value, "format_version": self.format_version,
                                "model": self.model, "abbr": self.abbr, "version": self.version,
                                "metric": self.metric, "mode": self.mode, "status": self.status}
        if self.error is not None:
            data["error"] = self.error
        data["counts"] = dict(vars(self.counts))
        data["truncation"] = self.truncation.to_json()
        data["timings"] = dict(self.timings)
        data["details"] = [item.to_json() for item in self.details]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, model: str | None = None, abbr: str | None = None) -> ResultRecord:
        """Read our format, or a plain OpenCompass result (``{"accuracy": 45.0}`` or
        ``{"error": ...}``), in which case ``model`` and ``abbr`` must be given.

        Raises ValueError (with the reason) when ``data`` is neither.
        """
        if "format_version" not in data:
            return _from_opencompass(data, model, abbr)
        if data["format_version"] != RESULT_FORMAT_VERSION:
            raise ValueError(f"result format {data['format_version']!r} is newer than this toolkit understands")
        metric = data.get("metric", "accuracy")
        value = data.get(metric)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise ValueError(f"{metric!r} must be a number or null, not {value!r}")
        details = tuple(ItemScore(i, d["prediction"], d["gold"], d["correct"]) for i, d in enumerate(data.get("details", [])))
        try:
            return cls(model=data["model"], abbr=data["abbr"], version=data["version"], mode=data["mode"],
                       status=data["status"], value=value, metric=metric, error=data.get("error"),
                       counts=Counts(**data.get("counts", {})), timings=dict(data.get("timings", {})), details=details,
                       truncation=Truncation.from_json(data.get("truncation", {})))
        except (KeyError, TypeError) as err:
            raise ValueError(f"missing or unknown key {err}") from None


def _from_opencompass(data: Mapping[str, Any], model: str | None, abbr: str | None) -> ResultRecord:
    if model is None or abbr is None:
        raise ValueError("an OpenCompass result file needs its model and dataset abbr (from its path)")
    if "error" in data:
        return ResultRecord(model, abbr, "-", "-", "failed", error=last_error_line(str(data["error"])))
    value = data.get("accuracy")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError("no numeric 'accuracy' in this result")
    return ResultRecord(model, abbr, "-", "-", "ok", value=float(value))


def last_error_line(error: BaseException | str) -> str:
    """The line a person needs from an error: the last non-empty line of its text.

    Example:
        >>> last_error_line("Traceback (most recent call last):\\n  ...\\nValueError: bad row 3\\n")
        'ValueError: bad row 3'
        >>> last_error_line(KeyError("answer"))
        "KeyError: 'answer'"
    """
    if isinstance(error, ToolkitError):
        text = str(error)
    elif isinstance(error, BaseException):
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    else:
        text = error
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def record_from_score(model: str, abbr: str, version: str, mode: str, result: AccuracyResult, *,
                      timings: Mapping[str, float] | None = None, keep_details: bool = True,
                      truncation: Truncation | None = None) -> ResultRecord:
    """The record for a scored task: ``ok`` with its accuracy, or ``n/a`` without gold answers."""
    counts = Counts(result.total, result.scored, result.correct, result.stripped_golds, result.empty_predictions)
    return ResultRecord(model, abbr, version, mode, result.status, value=result.accuracy, counts=counts,
                        timings=dict(timings or {}), details=result.details if keep_details else (),
                        truncation=truncation or Truncation())


def failed_record(model: str, abbr: str, version: str, mode: str, error: BaseException | str, *,
                  timings: Mapping[str, float] | None = None, counts: Counts | None = None) -> ResultRecord:
    """The record for a task that failed; the summary shows ``error: <last line>``."""
    return ResultRecord(model, abbr, version, mode, "failed", error=last_error_line(error),
                        counts=counts or Counts(), timings=dict(timings or {}))


def result_path(results_dir: str | Path, model: str, abbr: str) -> Path:
    """``<results_dir>/<model>/<abbr>.json``, where OpenCompass keeps it too."""
    return Path(results_dir) / model / f"{abbr}.json"


def write_result(results_dir: str | Path, record: ResultRecord) -> Path:
    """Write ``record`` atomically to its :func:`result_path` and return that path."""
    path = result_path(results_dir, record.model, record.abbr)
    atomic_write_text(path, json.dumps(record.to_json(), ensure_ascii=False, indent=4) + "\n")
    return path


def read_result(path: str | Path) -> ResultRecord:
    """Read one result file (ours or OpenCompass's); DataError names the file when it is bad."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("result file not found", file=p, hint="run `toolkit eval` with --mode eval first") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"not a JSON result file ({err})", file=p, hint="delete it and rerun the eval step") from None
    if not isinstance(data, dict):
        raise DataError("a result file must hold a JSON object", file=p, hint="delete it and rerun the eval step")
    try:
        return ResultRecord.from_json(data, model=p.parent.name, abbr=p.stem)
    except ValueError as err:
        raise DataError(f"bad result file: {err}", file=p, hint="delete it and rerun the eval step") from None


def read_results(results_dir: str | Path) -> list[ResultRecord]:
    """Every ``<model>/<abbr>.json`` under ``results_dir``, sorted by model then abbr."""
    root = Path(results_dir)
    return [read_result(p) for p in sorted(root.glob("*/*.json"))] if root.is_dir() else []
