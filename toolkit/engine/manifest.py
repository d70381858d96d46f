"""``manifest.json``: everything needed to know what a run was.

The model and its parameters (and what the backend reported when it loaded),
every data file's sha256, every dataset's config hash, the inference parameters,
toolkit / torch / transformers versions, timings and the machine.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from toolkit import __version__
from toolkit.engine.events import add_usage
from toolkit.engine.params import ResolvedParams
from toolkit.engine.planning import PlannedDataset
from toolkit.engine.rundir import RunDirs
from toolkit.engine.scoring import ResultRecord
from toolkit.engine.serialize import to_plain
from toolkit.engine.spec import EvalRunSpec
from toolkit.engine.tasks import data_files, file_sha256, stable_hash
from toolkit.fileio import atomic_write_text

MANIFEST_FORMAT_VERSION = 1


def machine_facts(*, torch: bool = True) -> dict[str, Any]:
    """Platform, CPU count, memory and, with ``torch`` (a run whose backend runs on torch), the torch and
    transformers versions and the GPUs torch sees; without it torch is never imported (about 2 s)."""
    facts: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            facts["memory_gib"] = round(int(fh.readline().split()[1]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        pass
    if torch:
        facts.update(_torch_facts())
    return facts


def _torch_facts() -> dict[str, Any]:
    try:
        import torch
        import transformers
    except ImportError:
        return {}
    facts: dict[str, Any] = {"torch": torch.__version__, "transformers": transformers.__version__}
    if torch.cuda.is_available():
        facts["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return facts


def build_manifest(spec: EvalRunSpec, planned: Sequence[PlannedDataset], records: Sequence[ResultRecord],
                   timings: Mapping[str, float], *, reused: bool, loaded: Mapping[str, Any] | None = None,
                   interrupted: bool = False, device: Mapping[str, Any] | None = None,
                   params: Mapping[tuple[str, str], ResolvedParams] | None = None,
                   usage: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The manifest as a dict (pure apart from hashing the data files).

    ``device`` says what the run asked for and what it used (``--num-gpus 1`` on a
    machine without CUDA runs on the CPU); the models' ``num_gpus`` are those used.
    ``params`` (by model and dataset abbr) become ``inference.settings``: each setting's
    value and where it came from (``cli``, ``model config``, ``dataset config``, ``default``).
    ``usage`` (by model abbr): an API model's requests, retries, failures and tokens.
    """
    datasets = []
    for d in planned:
        files = data_files(d.dataset, d.data_dir)
        datasets.append({
            "abbr": d.dataset.abbr, "version": d.dataset.version, "config": d.dataset.source,
            "infer_cfg_sha256": stable_hash(d.dataset.infer), "data_dir": d.data_dir, "rows": d.rows,
            "files": {split: {"path": str(p), "sha256": file_sha256(p)} for split, p in files.items()},
        })
    return {
        "format_version": MANIFEST_FORMAT_VERSION,
        "toolkit": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": spec.command,
        "reused_run": reused,
        "interrupted": interrupted,
        "mode": spec.mode,
        "device": dict(device or {"used": spec.device}),
        "models": [{**to_plain(m), "loaded": dict((loaded or {}).get(m.abbr, {})),
                    **({"usage": dict(usage[m.abbr])} if usage and m.abbr in usage else {})} for m in spec.models],
        "inference": {"infer_mode": spec.infer_mode, "min_out_len": 1 if spec.min_out_len is None else spec.min_out_len,
                      "reserve_output": spec.reserve_output, "early_stop": spec.early_stop,
                      "settings": [{"model": model, "dataset": abbr, **r.to_json()}
                                   for (model, abbr), r in (params or {}).items()]},
        "datasets": datasets,
        "results": [{"model": r.model, "abbr": r.abbr, "status": r.status, "value": r.value,
                     "truncation": r.truncation.to_json()} for r in records],
        "timings": dict(timings),
        "machine": machine_facts(torch=spec.on_torch()),
    }


def write_manifest(dirs: RunDirs, spec: EvalRunSpec, planned: Sequence[PlannedDataset], records: Sequence[ResultRecord],
                   timings: Mapping[str, float], *, reused: bool, models: Mapping[str, Any] | None = None,
                   loaded: Mapping[str, Any] | None = None, interrupted: bool = False,
                   device: Mapping[str, Any] | None = None,
                   params: Mapping[tuple[str, str], ResolvedParams] | None = None,
                   usage: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Write ``manifest.json`` atomically and return it (``interrupted``: after Ctrl-C, before any scoring).

    A reused run keeps what this invocation did not redo: the models as they were loaded
    (``-r`` with nothing left to infer loads none), the inference time when nothing was
    inferred (``--mode eval``), and the ``renders`` of ``--mode viz``; an API model's usage
    is the earlier invocations' plus this one's.
    """
    facts = dict(loaded or {})
    for abbr, model in (models or {}).items():
        facts.setdefault(abbr, model.describe())
    earlier = _earlier(dirs) if reused else {}
    for m in earlier.get("models", []):
        if isinstance(m, dict) and m.get("loaded") and not facts.get(str(m.get("abbr"))):
            facts[m["abbr"]] = m["loaded"]
    usage = _with_earlier_usage(usage or {}, earlier)
    timings = dict(timings)
    if "infer_seconds" not in timings and "infer_seconds" in earlier.get("timings", {}):
        timings["infer_seconds"] = earlier["timings"]["infer_seconds"]
    data = build_manifest(spec, planned, records, timings, reused=reused, loaded=facts, interrupted=interrupted,
                          device=device, params=params, usage=usage)
    if earlier.get("renders"):
        data["renders"] = earlier["renders"]
    atomic_write_text(dirs.manifest, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return data


def _with_earlier_usage(usage: Mapping[str, Mapping[str, Any]], earlier: Mapping[str, Any]) -> dict[str, Any]:
    """This invocation's usage plus what the run's earlier manifest recorded, by model."""
    total: dict[str, Any] = {abbr: dict(u) for abbr, u in usage.items()}
    for m in earlier.get("models", []):
        if isinstance(m, dict) and isinstance(m.get("usage"), dict):
            total[m["abbr"]] = add_usage(m["usage"], total.get(m["abbr"], {}))
    return total


def _earlier(dirs: RunDirs) -> dict[str, Any]:
    """The manifest an earlier invocation of this run wrote ({} when there is none or it is unreadable)."""
    try:
        data = json.loads(dirs.manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
