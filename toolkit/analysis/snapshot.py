"""``questions/<abbr>.json``: the questions a run answered, kept beside its results.

People edit their bank in place and rerun; without a copy, the earlier run's question
texts and ids would be lost with the old file, and neither the per-question view nor
``toolkit compare --allow-different-data`` (which pairs questions by id) could work.
The report step writes one snapshot per dataset right after the run, only when the data
file is still the one the manifest hashed, and never overwrites one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.fileio import atomic_write_text

if TYPE_CHECKING:
    from toolkit.analysis.runs import Run

SNAPSHOT_FORMAT_VERSION = "1"
SNAPSHOT_DIR = "questions"


def snapshot_path(run_dir: Path, abbr: str) -> Path:
    """``<run>/questions/<abbr>.json``."""
    return Path(run_dir) / SNAPSHOT_DIR / f"{abbr}.json"


def write_snapshots(run: Run) -> list[Path]:
    """Write the snapshot of every dataset read from its (unchanged) data file; return the new files."""
    written = []
    for ds in run.datasets:
        path = snapshot_path(run.path, ds.abbr)
        if ds.text_source != "data" or path.exists():
            continue
        body = {
            "format_version": SNAPSHOT_FORMAT_VERSION, "abbr": ds.abbr, "split": ds.split,
            "sha256": ds.files.get(ds.split, ""), "letters": list(ds.letters),
            "questions": [{"id": q.id, "question": q.text, "options": dict(q.options), "answer": q.gold}
                          for q in ds.questions],
        }
        atomic_write_text(path, json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        written.append(path)
    return written


def read_snapshot(run_dir: Path, abbr: str, sha256: str) -> list[dict[str, Any]] | None:
    """The snapshot's questions as data rows (``id``, ``question``, a column per letter, ``answer``).

    None when there is none, it is unreadable, or it was taken of other data than ``sha256``.
    """
    path = snapshot_path(run_dir, abbr)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format_version") != SNAPSHOT_FORMAT_VERSION or data.get("sha256") != sha256:
        return None
    rows = []
    for q in data.get("questions", []):
        row = {"id": q.get("id") or "", "question": q.get("question"), "answer": q.get("answer") or ""}
        row.update({k: str(v) for k, v in (q.get("options") or {}).items()})
        rows.append(row)
    return rows
