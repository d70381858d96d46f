"""Content keys for reuse: predictions are reused only when nothing that shapes them changed.

OpenCompass's ``-r`` reuses a predictions file when it merely exists; ours is
keyed by the model's identity, the dataset files' bytes, the whole ``infer_cfg``,
the inference mode and every generation parameter. Change any of them and the
stale predictions are set aside, never answered from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolkit.config.spec import DatasetSpec, ModelSpec
from toolkit.engine.serialize import to_plain

FORMAT_VERSION = 1


def stable_hash(obj: Any) -> str:
    """sha256 of a canonical JSON form of ``obj`` (dataclasses, mappings and sequences allowed)."""
    text = json.dumps(to_plain(obj, canonical=True), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=4096)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (memoised per size and modification time)."""
    st = Path(path).stat()
    return _file_sha256(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


def model_identity(spec: ModelSpec) -> dict[str, Any]:
    """What identifies a model's weights and tokenizer without hashing gigabytes.

    The path plus the bytes of its small JSON files and the name, size and
    modification time of every weight file. A model behind an API is its server, its
    name there and how it is asked (not how fast: concurrency, rate, time-outs and the
    key's variable may change between ``-r`` runs).
    """
    if spec.api is not None:
        api = spec.api
        return {"api": {"base_url": api.base_url, "model": spec.path, "hf_type": spec.hf_type,
                        "endpoint": api.endpoint, "temperature": api.temperature,
                        "extra_body": to_plain(api.extra_body, canonical=True)},
                "tokenizer_path": spec.tokenizer_path}
    ident: dict[str, Any] = {
        "path": spec.path, "tokenizer_path": spec.tokenizer_path, "hf_type": spec.hf_type,
        "model_kwargs": to_plain(spec.model_kwargs, canonical=True),
        "tokenizer_kwargs": to_plain(spec.tokenizer_kwargs, canonical=True),
        "pad_token_id": spec.pad_token_id,
    }
    files: dict[str, Any] = {}
    for root in {spec.path, spec.tokenizer_path or spec.path}:
        p = Path(root).expanduser()
        entries = [p] if p.is_file() else sorted(p.iterdir()) if p.is_dir() else []
        for f in entries:
            if not f.is_file():
                continue
            st = f.stat()
            files[str(f)] = file_sha256(f) if f.suffix in {".json", ".txt", ".model", ".jinja"} else [st.st_size, st.st_mtime_ns]
    ident["files"] = files
    return ident


def prediction_key(model: ModelSpec, dataset: DatasetSpec, data_files: Mapping[str, Path], mode: str,
                   params: Mapping[str, Any]) -> str:
    """The reuse key of one (model, dataset) predictions file.

    A circular dataset's rearrangement (its patterns and option keys) is part of the key, so
    plain and circular predictions, or rotations and all permutations, are never mixed up; a
    plain dataset's key is what it was before circular evaluation existed.
    """
    key: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "model": model_identity(model),
        "dataset": {"loader": dataset.loader, "name": dataset.name, "reader": dataset.reader,
                    "files": {split: file_sha256(p) for split, p in sorted(data_files.items())}},
        "infer": dataset.infer,
        "eval_postprocessor": dataset.evaluation.pred_postprocessor,
        "mode": mode,
        "params": params,
    }
    if dataset.circular is not None:
        key["circular"] = dataset.circular
    return stable_hash(key)
