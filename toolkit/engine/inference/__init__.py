"""Inference for one dataset and one model: prompts → requests → prediction records, in gen, ppl or choice mode."""

from __future__ import annotations

from toolkit.engine.inference.dataset import CHUNK_QUESTIONS, DatasetInference
from toolkit.engine.inference.records import Record, dataset_postprocessor, header_stop, resolve_mode

__all__ = ["CHUNK_QUESTIONS", "DatasetInference", "Record", "dataset_postprocessor", "header_stop", "resolve_mode"]
