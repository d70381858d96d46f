"""OpenCompass's prompt hash: the ``_5f30c7`` in ``ceval_gen_5f30c7.py`` and the summary's "version".

The algorithm is OpenCompass's ``get_prompt_hash`` (``opencompass/utils/prompt.py``),
reproduced on plain data: a dataset dict whose ``type`` values are the import-path
strings written in the config (``"opencompass.openicl.icl_inferencer.GenInferencer"``),
as ``mmengine``'s ``Config.fromfile(...).to_dict()`` gives them.

For one dataset dict: take its ``infer_cfg``; if the retriever holds ``fix_id_list``,
move that key into the inferencer ("a compromise for the hash consistency", says
OpenCompass); serialise with ``json.dumps(obj, sort_keys=True)`` (default separators,
ASCII escapes) and take the sha256 hex digest. For a list of several dicts: sha256 of
the comma-joined per-dict digests, in list order; a one-element list hashes as its dict.

Nothing here mutates its input.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

SUFFIX_LENGTH = 6
"""Hex digits OpenCompass keeps for file suffixes and summary versions."""

DatasetCfg = Mapping[str, Any]


def _dataset_infer_hash(dataset_cfg: DatasetCfg) -> str:
    # A deep copy: OpenCompass mutates the config it hashes; we must not.
    infer_cfg = copy.deepcopy(dict(dataset_cfg["infer_cfg"]))
    if "reader_cfg" in infer_cfg:
        # OpenCompass's legacy layout (reader_cfg inside infer_cfg), kept step for step.
        reader = dataset_cfg["reader_cfg"]
        infer_cfg["reader"] = {
            "type": "DatasetReader",
            "input_columns": reader["input_columns"],
            "output_column": reader["output_column"],
        }
        if "train_split" in infer_cfg["reader_cfg"]:
            infer_cfg["retriever"]["index_split"] = infer_cfg["reader_cfg"]["train_split"]
        if "test_split" in infer_cfg["reader_cfg"]:
            infer_cfg["retriever"]["test_split"] = infer_cfg["reader_cfg"]["test_split"]
        for value in infer_cfg.values():
            value["type"] = value["type"].split(".")[-1]
    retriever = infer_cfg.get("retriever")
    if isinstance(retriever, dict) and "fix_id_list" in retriever:
        infer_cfg["inferencer"]["fix_id_list"] = retriever.pop("fix_id_list")
    text = json.dumps(infer_cfg, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def prompt_hash(datasets: DatasetCfg | Sequence[DatasetCfg]) -> str:
    """The full sha256 hex of one dataset dict, or of a list of them, exactly as OpenCompass computes it.

    Example:
        >>> cfg = {"infer_cfg": {"retriever": {"type": "ZeroRetriever"}, "inferencer": {"type": "GenInferencer"}}}
        >>> prompt_hash(cfg) == prompt_hash([cfg])
        True
    """
    if isinstance(datasets, Mapping):
        return _dataset_infer_hash(datasets)
    items = list(datasets)
    if len(items) == 1:
        return _dataset_infer_hash(items[0])
    joined = ",".join(_dataset_infer_hash(item) for item in items)
    return hashlib.sha256(joined.encode()).hexdigest()


def dataset_version(dataset_cfg: DatasetCfg) -> str:
    """The 6-hex "version" OpenCompass's summary shows for one dataset (e.g. ``db9ce2``)."""
    return prompt_hash(dataset_cfg)[:SUFFIX_LENGTH]


def file_suffix(datasets: Sequence[DatasetCfg]) -> str:
    """The 6-hex suffix of a config file whose first ``*_datasets`` list is ``datasets``."""
    if not datasets:
        raise ValueError("an empty datasets list has no prompt hash")
    return prompt_hash(datasets)[:SUFFIX_LENGTH]
