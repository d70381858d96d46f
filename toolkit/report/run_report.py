"""The files a finished run leaves for people: summary tables (txt/csv/md) and the HTML report."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from toolkit.engine.outcome import EvalOutcome
from toolkit.report.html import write_html_report
from toolkit.report.tables import write_summary_files


def report_facts(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a run manifest the HTML report shows."""
    keep = ("toolkit", "created", "command", "mode", "device", "timings", "machine")
    facts = {k: manifest[k] for k in keep if k in manifest}
    facts["models"] = [{k: m.get(k) for k in ("abbr", "path", "hf_type", "max_seq_len", "max_out_len", "batch_size")}
                       | {"loaded": m.get("loaded", {})} for m in manifest.get("models", [])]
    facts["datasets"] = [{"abbr": d["abbr"], "version": d["version"], "rows": d["rows"],
                          "data": {s: f["sha256"][:12] for s, f in d["files"].items()}} for d in manifest.get("datasets", [])]
    return facts


def write_run_reports(outcome: EvalOutcome) -> dict[str, Path]:
    """Write ``summary/summary_<ts>.{txt,csv,md,html}`` for a run; returns the paths by format."""
    if outcome.summary is None:
        return {}
    folder = outcome.run_dir / "summary"
    stamp = outcome.summary_stamp or outcome.run_dir.name
    files = dict(write_summary_files(outcome.summary, folder, stamp))
    files["html"] = write_html_report(folder / f"summary_{stamp}.html", outcome.summary, report_facts(outcome.manifest))
    return files
