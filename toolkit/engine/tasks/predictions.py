"""Predictions on disk: appended batch by batch, resumable, and finally in OpenCompass's format.

While a task runs, each finished batch is appended to
``predictions/<model>/.partial/<abbr>.<slice>.jsonl`` in ONE write followed by
fsync; the file's first line holds the reuse key. A run killed mid-way leaves at
most a torn last line, which is ignored; an append that fails (a full disk) cuts
the file back to its last whole record. ``-r`` then resumes at the first sample
without a record. When every sample of a dataset is done the records are merged
into ``predictions/<model>/<abbr>.json`` — a JSON object keyed by the row index
(as a string) with ``origin_prompt``, ``prediction`` and ``gold``, as OpenCompass
writes it (ppl records as its PPLInferencer does: ``in-context examples``, the question
alone as ``origin_prompt``, and ``label: X`` → ``testing input``, ``prompt``, ``PPL``,
``BPB`` per label), then our own keys — atomically; its reuse key goes beside it to
``.keys/<abbr>.key``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from toolkit.fileio import append_bytes, atomic_write_text


def partial_dir(pred_dir: Path) -> Path:
    """Where in-progress records live."""
    return pred_dir / ".partial"


def _read_partial(path: Path, key: str) -> dict[int, dict[str, Any]] | None:
    """Records of one partial file, or None when its key differs (stale)."""
    records: dict[int, dict[str, Any]] = {}
    with open(path, "rb") as fh:  # bytes: a killed write may end inside a UTF-8 character
        header = fh.readline()
        try:
            if json.loads(header).get("key") != key:
                return None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        for line in fh:
            if not line.endswith(b"\n"):
                break  # torn last write of a killed run
            try:
                rec = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                break
            if "error" not in rec:  # a question the API never answered is not done: -r asks again
                records[int(rec["index"])] = rec
    return records


def load_done(pred_dir: Path, abbr: str, key: str, *, stale: list[Path] | None = None) -> dict[int, dict[str, Any]]:
    """Every finished record of ``abbr`` whose key matches, from the final file or partial files.

    Files with another key (other data, prompts or settings) are renamed ``*.stale`` so
    they are never read again; their new paths are appended to ``stale`` when given.
    """
    final = pred_dir / f"{abbr}.json"
    key_file = _key_file(pred_dir, abbr)
    if final.is_file() and key_file.is_file():
        if key_file.read_text(encoding="utf-8").strip() == key:
            return read_predictions(final)
        _set_aside(final, stale)
        key_file.unlink()
    done: dict[int, dict[str, Any]] = {}
    folder = partial_dir(pred_dir)
    for path in sorted(folder.glob(f"{abbr}.*.jsonl")) if folder.is_dir() else []:
        try:
            got = _read_partial(path, key)
        except FileNotFoundError:
            continue  # finalized meanwhile (a run folder is locked, so not by another run)
        if got is None:
            _set_aside(path, stale)
            continue
        done.update(got)
    return done


def _set_aside(path: Path, stale: list[Path] | None) -> None:
    target = path.with_name(path.name + ".stale") if path.suffix == ".json" else path.with_suffix(".stale")
    path.rename(target)
    if stale is not None:
        stale.append(target)


class PartialWriter:
    """Appends records of one task slice; each :meth:`append` is one write + fsync."""

    def __init__(self, pred_dir: Path, abbr: str, slice_name: str, key: str) -> None:
        folder = partial_dir(pred_dir)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{abbr}.{slice_name}.jsonl"
        fresh = not self.path.is_file() or _read_partial(self.path, key) is None
        if fresh:
            if self.path.is_file():
                self.path.rename(self.path.with_suffix(".stale"))
            atomic_write_text(self.path, json.dumps({"key": key}) + "\n")
        else:
            self._truncate_torn_tail()

    def _truncate_torn_tail(self) -> None:
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            with open(self.path, "r+b") as fh:
                fh.truncate(end)

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records (each must carry ``index``) in full, then fsync; a failed append leaves the file as it was."""
        text = "".join(json.dumps(dict(r), ensure_ascii=False) + "\n" for r in records)
        if text:
            append_bytes(self.path, text.encode("utf-8"))


def _key_file(pred_dir: Path, abbr: str) -> Path:
    return pred_dir / ".keys" / f"{abbr}.key"


def finalize(pred_dir: Path, abbr: str, key: str, records: Mapping[int, Mapping[str, Any]]) -> Path:
    """Write ``<abbr>.json`` (OpenCompass's shape) and its key file; drop the partial files.

    Nothing is rewritten when the file is already final for ``key`` and no partial file is left.
    """
    final = pred_dir / f"{abbr}.json"
    folder = partial_dir(pred_dir)
    partials = list(folder.glob(f"{abbr}.*.jsonl")) if folder.is_dir() else []
    key_file = _key_file(pred_dir, abbr)
    if not partials and final.is_file() and key_file.is_file() and key_file.read_text(encoding="utf-8").strip() == key:
        return final
    body: dict[str, Any] = {}
    for index in sorted(records):
        rec = dict(records[index])
        rec.pop("index", None)
        body[str(index)] = rec
    atomic_write_text(final, json.dumps(body, ensure_ascii=False, indent=4) + "\n")
    atomic_write_text(key_file, key + "\n")
    for path in partials:
        path.unlink(missing_ok=True)
    try:
        folder.rmdir()  # when this was the last dataset in progress
    except OSError:
        pass
    return final


def read_predictions(path: Path) -> dict[int, dict[str, Any]]:
    """Load a final predictions file (ours or OpenCompass's) as index → record."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {int(k): v for k, v in data.items()}
