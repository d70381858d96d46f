"""The files a finished run leaves for people: summary tables (txt/csv/md) and the HTML report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.engine.outcome import EvalOutcome
from toolkit.report.extras import run_extras
from toolkit.report.html import write_html_report
from toolkit.report.tables import write_summary_files

if TYPE_CHECKING:
    from toolkit.analysis.uncertainty import RowUncertainty


def _started(manifest: Mapping[str, Any]) -> str | None:
    """When the invocation that wrote the manifest started: its end (``created``) minus its duration."""
    try:
        end = datetime.fromisoformat(str(manifest["created"]))
        seconds = float(manifest["timings"]["total_seconds"])
    except (KeyError, TypeError, ValueError):
        return None
    return (end - timedelta(seconds=seconds)).isoformat(timespec="seconds")


def report_facts(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a run manifest the HTML report shows."""
    keep = ("toolkit", "created", "command", "mode", "device", "timings", "machine")
    facts = {k: manifest[k] for k in keep if k in manifest}
    facts["models"] = [{k: m.get(k) for k in ("abbr", "path", "hf_type", "max_seq_len", "max_out_len", "batch_size")}
                       | {"loaded": m.get("loaded", {})} | ({"usage": m["usage"]} if m.get("usage") else {})
                       for m in manifest.get("models", [])]
    facts["datasets"] = [{"abbr": d["abbr"], "version": d["version"], "rows": d["rows"],
                          "data": {s: f["sha256"][:12] for s, f in d["files"].items()}} for d in manifest.get("datasets", [])]
    return _start_and_settings(manifest) | facts


def _start_and_settings(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What the run section shows first: when the run started and how it inferred (mode, early stop, lengths, batch)."""
    first: dict[str, Any] = {}
    started = _started(manifest)
    if started is not None:
        first["started"] = started
    models = manifest.get("models", [])
    if "inference" in manifest or models:
        first["inference"] = dict(manifest.get("inference", {})) | {
            m.get("abbr", "?"): {k: m.get(k) for k in ("max_seq_len", "max_out_len", "batch_size", "num_gpus")}
            for m in models}
    return first


def run_uncertainty(outcome: EvalOutcome) -> tuple[RowUncertainty, ...] | None:
    """``n`` and the 95 % intervals of the run's summary rows (None without a summary)."""
    from toolkit.analysis.runs import read_groups
    from toolkit.analysis.uncertainty import summary_uncertainty

    if outcome.summary is None:
        return None
    return summary_uncertainty(outcome.summary, outcome.records, read_groups(outcome.run_dir))


def summary_json(outcome: EvalOutcome) -> list[dict[str, Any]]:
    """The summary rows with ``n``, ``ci_low`` and ``ci_high`` per model (``toolkit eval --json``)."""
    from toolkit.analysis.uncertainty import uncertainty_json

    uncertainty = run_uncertainty(outcome)
    return [] if outcome.summary is None or uncertainty is None else uncertainty_json(outcome.summary, uncertainty)


def write_run_reports(outcome: EvalOutcome) -> dict[str, Path]:
    """Write ``summary/summary_<ts>.{txt,csv,md,html}`` for a run; returns the paths by format."""
    if outcome.summary is None:
        return {}
    folder = outcome.run_dir / "summary"
    stamp = outcome.summary_stamp or outcome.run_dir.name
    extras = run_extras(outcome.run_dir, outcome.summary, outcome.records)
    files = dict(write_summary_files(outcome.summary, folder, stamp, uncertainty=extras.uncertainty))
    files["html"] = write_html_report(folder / f"summary_{stamp}.html", outcome.summary, report_facts(outcome.manifest),
                                      extras=extras)
    return files
