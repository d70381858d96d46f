"""``--mode viz -r TS``: summarise an earlier run again, from its own results and recorded settings.

A render never changes what the run was: ``manifest.json``'s facts (timings, the models
as loaded, the flags) stay as the run wrote them, and only a ``renders`` entry is
appended. The datasets, models and summary groups come from the run's
``configs/run.json``; ``--datasets``, ``--hf-path`` (or a config) and ``--abbr`` may
narrow them. A narrower render is a *subset*: it is said on stderr and in the
report's notes, and it is written as ``summary_<render time>.*`` so the run's own
``summary_<TS>.*`` stays whole.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.engine.events import Note
from toolkit.engine.outcome import EvalOutcome
from toolkit.engine.rundir import RunDirs, RunLock, new_timestamp, resolve_run_dir
from toolkit.engine.scoring import ResultRecord, read_result, result_path, summarise
from toolkit.engine.spec import EvalRunSpec
from toolkit.errors import DataError, UsageError
from toolkit.fileio import atomic_write_text

if TYPE_CHECKING:
    from toolkit.engine.events import Display


@dataclass(frozen=True)
class RecordedRun:
    """What an earlier run evaluated, as it recorded it."""

    datasets: tuple[str, ...]
    models: tuple[str, ...]
    groups: tuple[Mapping[str, Any], ...]
    manifest: Mapping[str, Any] | None
    """``manifest.json`` as written (None when the run left none, e.g. killed)."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"not readable JSON ({err})", file=path, hint="the run folder is damaged") from None


def read_recorded_run(dirs: RunDirs) -> RecordedRun:
    """The run's datasets, models and groups from ``configs/run.json`` (else from its result files)."""
    spec = _read_json(dirs.configs / "run.json")
    manifest = _read_json(dirs.manifest)
    if isinstance(spec, dict) and spec.get("datasets") and spec.get("models"):
        return RecordedRun(tuple(d["abbr"] for d in spec["datasets"]), tuple(m["abbr"] for m in spec["models"]),
                           tuple(spec.get("summary_groups") or ()), manifest)
    files = sorted(dirs.results.glob("*/*.json")) if dirs.results.is_dir() else []
    return RecordedRun(tuple(dict.fromkeys(p.stem for p in files)), tuple(dict.fromkeys(p.parent.name for p in files)),
                       (), manifest)


def _chosen(asked: Sequence[str], recorded: Sequence[str], what: str, stamp: str) -> list[str]:
    if not asked:
        return list(recorded)
    absent = [a for a in asked if a not in recorded]
    if absent:
        raise UsageError(f"{what} {', '.join(absent)} not in run {stamp}",
                         hint=f"its {what}s: {', '.join(recorded) or 'none'} (or leave the option out to render all)")
    return list(dict.fromkeys(asked))


def render_run(spec: EvalRunSpec, display: Display,
               finish: Callable[[EvalOutcome], Mapping[str, Path]] | None = None) -> EvalOutcome:
    """Summarise the run ``spec.reuse`` names; nothing of the run but a ``renders`` entry is rewritten.

    The run folder is locked while it renders; ``finish`` (the report writer) runs under the lock.
    """
    run_dir, reused = resolve_run_dir(Path(spec.work_dir), spec.reuse)
    if not reused:
        raise UsageError(f"no run under {spec.work_dir} to render", hint="run `toolkit eval` first, then --mode viz -r")
    with RunLock(run_dir, command=spec.command):
        outcome = _render(spec, display, RunDirs(run_dir))
        return replace(outcome, reports=dict(finish(outcome))) if finish is not None else outcome


def _render(spec: EvalRunSpec, display: Display, dirs: RunDirs) -> EvalOutcome:
    run_dir = dirs.root
    recorded = read_recorded_run(dirs)
    models = _chosen([m.abbr for m in spec.models], recorded.models, "model", dirs.stamp)
    datasets = _chosen([d.abbr for d in spec.datasets], recorded.datasets, "dataset", dirs.stamp)
    if spec.abbr_patterns and not spec.datasets:
        datasets = [d for d in datasets if any(fnmatch.fnmatchcase(d, p) for p in spec.abbr_patterns)]
        if not datasets:
            raise UsageError(f"--abbr {' '.join(spec.abbr_patterns)} matches no dataset of run {dirs.stamp}",
                             hint=f"its datasets: {', '.join(recorded.datasets[:5])}")
    records: list[ResultRecord] = [read_result(p) for m in models for d in datasets
                                   if (p := result_path(dirs.results, m, d)).is_file()]
    if not records:
        raise UsageError(f"run {dirs.stamp} has no results to render",
                         hint=f"score its predictions first: toolkit eval … --mode eval -r {dirs.stamp}")
    groups = spec.summary_groups if spec.datasets else recorded.groups
    summary = summarise(records, groups, models=models, datasets=datasets)
    subset = datasets != list(recorded.datasets) or models != list(recorded.models)
    stamp = dirs.stamp
    if subset:
        stamp = _render_stamp(dirs)
        note = (f"a subset of run {dirs.stamp}: {len(datasets)} of {len(recorded.datasets)} datasets, "
                f"{len(models)} of {len(recorded.models)} models; the run's own summary is summary_{dirs.stamp}.*")
        summary = replace(summary, notes=(note, *summary.notes))
        display.handle("", Note(f"note: rendering {note}; writing summary_{stamp}.*"))
    manifest = dict(recorded.manifest or {})
    if recorded.manifest is not None:
        entry = {"created": datetime.now().astimezone().isoformat(timespec="seconds"), "command": spec.command,
                 "summary": f"summary/summary_{stamp}", "subset": subset, "datasets": datasets, "models": models}
        manifest["renders"] = [*manifest.get("renders", []), entry]
        atomic_write_text(dirs.manifest, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return EvalOutcome(run_dir, (), tuple(records), summary, manifest, summary_stamp=stamp)


def _render_stamp(dirs: RunDirs) -> str:
    """A new ``summary_<stamp>`` name that clashes with no file of the run."""
    stamp, n = new_timestamp(), 1
    base = stamp
    while stamp == dirs.stamp or any(dirs.summary.glob(f"summary_{stamp}.*")):
        stamp = f"{base}_{n}"
        n += 1
    return stamp
