"""Reading a run folder: the one place that knows what the engine writes.

A run folder holds ``manifest.json`` (models, data files with their sha256, timings),
``configs/run.json`` (the resolved run: each dataset's split and columns, the summary
groups), ``results/<model>/<abbr>.json`` (the score and each question's verdict) and
``predictions/<model>/<abbr>.json`` (each question's raw output). The questions
themselves come from the data file the manifest names when its sha256 still matches,
else from the snapshot the report step kept (``questions/<abbr>.json``, see
:mod:`toolkit.analysis.snapshot`); failing both, only the gold answers are known.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from toolkit.engine.rundir.workdir import is_timestamp
from toolkit.engine.scoring.evaluate import normalise_gold
from toolkit.engine.scoring.results import ResultRecord, read_results
from toolkit.errors import DataError, UsageError

TextSource = Literal["data", "snapshot", "none"]
_LETTER = re.compile(r"[A-Z]")
DEFAULT_LETTERS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Question:
    """One question of a dataset's evaluated split; text and options are None/() when unknown."""

    index: int
    id: str | None
    text: str | None
    options: tuple[tuple[str, str], ...]
    gold: str | None


@dataclass(frozen=True)
class Answer:
    """One model's answer: what was scored (post-processed), the raw output, the verdict."""

    prediction: str
    raw: str | None
    correct: bool | None


@dataclass(frozen=True)
class DatasetRun:
    """A dataset as a run saw it."""

    abbr: str
    version: str
    name: str
    split: str
    letters: tuple[str, ...]
    files: Mapping[str, str]
    """Split → sha256 of the file the run read (from the manifest)."""
    questions: tuple[Question, ...]
    text_source: TextSource
    note: str | None = None
    """Why the question texts are missing, when they are."""


@dataclass(frozen=True)
class Run:
    """Everything a run folder says, read once."""

    path: Path
    models: tuple[str, ...]
    datasets: tuple[DatasetRun, ...]
    records: Mapping[tuple[str, str], ResultRecord]
    answers: Mapping[tuple[str, str], tuple[Answer, ...]]
    """(model, abbr) → one answer per question, for scored results with per-question details."""
    groups: tuple[Mapping[str, Any], ...]
    manifest: Mapping[str, Any]
    settings: Mapping[str, Any]
    """``configs/run.json`` ({} when absent)."""

    @property
    def name(self) -> str:
        """The run's folder name (its timestamp)."""
        return self.path.name

    def dataset(self, abbr: str) -> DatasetRun | None:
        """The dataset ``abbr`` of this run, if it has one."""
        return next((d for d in self.datasets if d.abbr == abbr), None)


def resolve_run_path(path: str | Path) -> Path:
    """``path`` if it is a run folder; the newest run inside it if it is a work dir (``outputs/default``)."""
    p = Path(path)
    if (p / "manifest.json").is_file():
        return p
    if p.is_dir():
        runs = sorted(c for c in p.iterdir() if c.is_dir() and is_timestamp(c.name[:15]) and (c / "manifest.json").is_file())
        if runs:
            return runs[-1]
        raise UsageError("not a run folder: no manifest.json, and no run folders inside", file=p,
                         hint="pass a run folder such as outputs/default/20240501_093000 (or its work dir)")
    raise UsageError("no such folder", file=p, hint="pass a run folder such as outputs/default/20240501_093000")


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{what} is not valid JSON ({err})", file=path) from None


def load_run(path: str | Path) -> Run:
    """Read the run folder ``path`` (or the newest run of a work dir)."""
    root = resolve_run_path(path)
    manifest = _read_json(root / "manifest.json", "the manifest")
    settings_file = root / "configs" / "run.json"
    settings = _read_json(settings_file, "the run settings") if settings_file.is_file() else {}
    records = {(r.model, r.abbr): r for r in read_results(root / "results")}
    models = tuple(m["abbr"] for m in manifest.get("models", []) if isinstance(m, dict) and "abbr" in m)
    models += tuple(dict.fromkeys(m for m, _ in records if m not in models))
    specs = {d.get("abbr"): d for d in settings.get("datasets", []) if isinstance(d, dict)}
    answers: dict[tuple[str, str], tuple[Answer, ...]] = {}
    for (model, abbr), record in records.items():
        if record.status == "ok" and record.details:
            raw = _raw_outputs(root / "predictions" / model / f"{abbr}.json")
            answers[model, abbr] = tuple(Answer(d.prediction, raw.get(i), d.correct) for i, d in enumerate(record.details))
    datasets = []
    for entry in manifest.get("datasets", []):
        abbr = entry["abbr"]
        golds = next((tuple(d.gold for d in r.details) for (m, a), r in records.items() if a == abbr and r.details), None)
        datasets.append(_dataset(root, entry, specs.get(abbr, {}), golds))
    return Run(root, models, tuple(datasets), records, answers, tuple(settings.get("summary_groups") or ()),
               manifest, settings)


def read_groups(run_dir: str | Path) -> tuple[Mapping[str, Any], ...]:
    """The run's summary groups (``configs/run.json``); () when it has none or cannot be read."""
    try:
        settings = json.loads((Path(run_dir) / "configs" / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return ()
    groups = settings.get("summary_groups") if isinstance(settings, dict) else None
    return tuple(g for g in groups or () if isinstance(g, dict))


def _raw_outputs(path: Path) -> dict[int, str]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return {int(k): str(v.get("prediction", "")) for k, v in data.items() if isinstance(v, dict) and k.isdigit()}


def _dataset(root: Path, entry: Mapping[str, Any], spec: Mapping[str, Any], golds: tuple[str | None, ...] | None) -> DatasetRun:
    from toolkit.analysis.snapshot import read_snapshot

    reader = spec.get("reader") or {}
    files = {split: f.get("sha256", "") for split, f in (entry.get("files") or {}).items()}
    split = reader.get("test_split") or ("val" if "val" in files else "test")
    columns = list(reader.get("input_columns") or ())
    letters = tuple(c for c in columns if _LETTER.fullmatch(c)) or DEFAULT_LETTERS
    name = spec.get("name") or entry["abbr"]
    base = dict(abbr=entry["abbr"], version=str(entry.get("version", "-")), name=name, split=split, letters=letters,
                files=files)
    rows, note = _data_rows(entry, split)
    source: TextSource = "data"
    if rows is None:
        snap = read_snapshot(root, entry["abbr"], files.get(split, ""))
        if snap is not None:
            rows, source = snap, "snapshot"
    if rows is not None and golds is not None and len(rows) != len(golds):
        note = f"the data has {len(rows)} questions but the results {len(golds)}"
        rows = None
    if rows is None:
        questions = tuple(Question(i, None, None, (), g) for i, g in enumerate(golds or ()))
        return DatasetRun(**base, questions=questions, text_source="none", note=note)
    text_column, output = "question", "answer"  # a snapshot's keys
    if source == "data":
        text_column = "question" if "question" in columns else next((c for c in columns if not _LETTER.fullmatch(c)),
                                                                    "question")
        output = reader.get("output_column") or "answer"
    questions = tuple(
        Question(i, row.get("id") or None, row.get(text_column), tuple((x, row.get(x) or "") for x in letters),
                 golds[i] if golds is not None else normalise_gold(row.get(output))[0])
        for i, row in enumerate(rows))
    return DatasetRun(**base, questions=questions, text_source=source)


def _data_rows(entry: Mapping[str, Any], split: str) -> tuple[list[dict[str, str]] | None, str | None]:
    """The split's rows when the file the manifest names is still byte-identical; else (None, why)."""
    from toolkit.engine.data import load_ceval_splits
    from toolkit.engine.tasks.fingerprint import file_sha256

    info = (entry.get("files") or {}).get(split)
    if not info:
        return None, f"the manifest names no {split} file"
    path = Path(info.get("path", ""))
    if not path.is_file():
        return None, f"{path} is gone"
    if file_sha256(path) != info.get("sha256"):
        return None, f"{path} has changed since the run (its sha256 differs from the manifest's)"
    name = path.name.removesuffix(f"_{split}.csv")
    try:
        return load_ceval_splits(path.parent.parent, name)[split], None
    except DataError as err:
        return None, str(err)
