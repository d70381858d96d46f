"""The engine's own typed specs, read from OpenCompass-style config files.

A config file says *what* to evaluate with OpenCompass's vocabulary (dicts with a
``type``); these frozen dataclasses are what our engine actually runs. The loader
(:mod:`toolkit.config.loader`) converts one into the other and rejects anything we
do not implement, naming the file and the type.

Prompt templates are kept as plain data (str / dict / list), exactly the structure
OpenCompass's ``PromptTemplate`` receives, because prompt rendering must be
byte-identical to OpenCompass's; :mod:`toolkit.engine.prompting.builder` interprets them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from toolkit.config.api_spec import ApiSpec

DEFAULT_MAX_OUT_LEN = 256
"""Tokens a model may generate when neither a flag, the model nor the dataset config says (OpenCompass's 256)."""
DEFAULT_BATCH_SIZE = 8
"""Questions per batch when neither a flag, the model nor the dataset config says (OpenCompass's 8)."""
DEFAULT_NUM_GPUS = 1
"""GPUs per model (OpenCompass's ``--hf-num-gpus`` default); without CUDA the run uses the CPU."""

RetrieverKind = Literal["zero", "fixk"]
InferencerKind = Literal["gen", "ppl", "choice"]
HfType = Literal["base", "chat"]
CircularKind = Literal["circular", "all_possible"]
"""OpenCompass's ``circular_patterns``: the cyclic rotations of the options, or all their permutations."""
MAX_CIRCULAR_VARIANTS = 720
"""The most variants one question may be asked in (``all_possible`` over 6 options); 7 options would be 5,040."""


@dataclass(frozen=True)
class ReaderSpec:
    """Which columns feed the prompt, which holds the answer, and which splits to use."""

    input_columns: tuple[str, ...]
    output_column: str | None
    train_split: str = "dev"
    test_split: str = "val"


@dataclass(frozen=True)
class PromptTemplateSpec:
    """An OpenCompass ``PromptTemplate``.

    ``template`` is one of: a string; a meta dict ``{"begin": ..., "round": [{"role":
    "HUMAN", "prompt": ...}, ...], "end": ...}``; or a dict keyed by label (PPL) whose
    values are strings or meta dicts. Treat it as read-only.
    """

    template: Any
    ice_token: str | None = None
    sep_token: str | None = None

    @property
    def is_label_keyed(self) -> bool:
        """True for PPL-style templates keyed by answer label."""
        return isinstance(self.template, Mapping) and not set(self.template) <= {"begin", "round", "end"}


@dataclass(frozen=True)
class RetrieverSpec:
    """Which dev rows become in-context examples."""

    kind: RetrieverKind = "zero"
    fix_id_list: tuple[int, ...] = ()
    ice_separator: str = "\n"
    ice_eos_token: str = "\n"


@dataclass(frozen=True)
class InferencerSpec:
    """How the model is asked: ``gen`` (generate text), ``ppl`` (lowest loss label), ``choice``."""

    kind: InferencerKind
    max_out_len: int | None = None
    max_seq_len: int | None = None
    batch_size: int | None = None
    stopping_criteria: tuple[str, ...] = ()
    labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class InferSpec:
    """``infer_cfg``: templates, retriever and inferencer."""

    retriever: RetrieverSpec
    inferencer: InferencerSpec
    ice_template: PromptTemplateSpec | None = None
    prompt_template: PromptTemplateSpec | None = None


@dataclass(frozen=True)
class EvalCfgSpec:
    """``eval_cfg``: the evaluator and the prediction post-processor (by name)."""

    evaluator: Literal["acc", "circular"] = "acc"
    """``acc`` (``AccEvaluator``) or ``circular`` (OpenCompass's ``CircularEvaluator`` of ``datasets/circular.py``)."""
    pred_postprocessor: str | None = None
    """``first_capital_postprocess``, ``first_option_postprocess``, ``strict_option_postprocess`` or None."""
    postprocessor_kwargs: Mapping[str, Any] = field(default_factory=dict)
    pred_role: str | None = None


@dataclass(frozen=True)
class CircularSpec:
    """CircularEval (OpenCompass's ``CircularDatasetMeta``): each test question is asked once per
    arrangement of its options, and counts as right only when every arrangement is answered right.

    ``option_keys`` are the columns whose contents move (CircularCEvalDataset's default: A–D); the
    in-context examples (the train split) are never rearranged, so every variant shares one prefix.
    """

    patterns: CircularKind = "circular"
    option_keys: tuple[str, ...] = ("A", "B", "C", "D")

    @property
    def variants(self) -> int:
        """How many times each question is asked: n rotations, or n! permutations.

        Example:
            >>> CircularSpec().variants, CircularSpec("all_possible").variants, CircularSpec("circular", ("A", "B")).variants
            (4, 24, 2)
        """
        n = len(self.option_keys)
        return n if self.patterns == "circular" else math.factorial(n)


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset entry of a ``*_datasets`` list: one subject and split."""

    abbr: str
    loader: str
    """Our loader for the config's dataset ``type``: ``"ceval"`` for ``CEvalDataset``."""
    path: str
    name: str
    reader: ReaderSpec
    infer: InferSpec
    evaluation: EvalCfgSpec
    version: str
    """OpenCompass's 6-hex prompt hash of this dataset's ``infer_cfg`` (summary "version")."""
    source: str | None = None
    """The config file it came from, for messages."""
    circular: CircularSpec | None = None
    """Ask every test question once per arrangement of its options (CircularEval); None: once, as written."""


@dataclass(frozen=True)
class ModelSpec:
    """A model to evaluate, as OpenCompass's model configs describe one: a Hugging Face folder, or a model
    behind an API (:attr:`api`)."""

    abbr: str
    path: str
    hf_type: HfType = "base"
    tokenizer_path: str | None = None
    tokenizer_kwargs: Mapping[str, Any] = field(default_factory=dict)
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    generation_kwargs: Mapping[str, Any] = field(default_factory=dict)
    max_seq_len: int | None = None
    max_out_len: int = DEFAULT_MAX_OUT_LEN
    batch_size: int = DEFAULT_BATCH_SIZE
    num_gpus: int = DEFAULT_NUM_GPUS
    stop_words: tuple[str, ...] = ()
    pad_token_id: int | None = None
    backend: str | None = None
    """The model's own backend (``vllm`` for OpenCompass's ``VLLM`` dicts); None: the run's (``--backend``),
    or ``api`` when :attr:`api` is set."""
    api: ApiSpec | None = None
    """Set for a model behind an OpenAI-compatible API (then :attr:`path` is the served model's name)."""
    set_by: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Where ``max_seq_len``, ``max_out_len`` and ``batch_size`` came from: ``"cli"`` (a flag),
    ``"model config"`` (a models entry) or ``"default"`` (nobody set it). Recorded in the manifest;
    a setting not listed counts as the model's own (a spec built in Python)."""


@dataclass(frozen=True)
class LoadedConfig:
    """What a config file holds: datasets, models (for ``toolkit eval CONFIG.py``), its name and groups."""

    datasets: tuple[DatasetSpec, ...]
    models: tuple[ModelSpec, ...] = ()
    source: str | None = None
    summary_groups: tuple[Mapping[str, Any], ...] = ()
    subject_mappings: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    """Each ``<name>_subject_mapping`` by ``<name>``: subject → (English name, Chinese name, category)."""
    groups: tuple[Mapping[str, Any], ...] = ()
    """The groups a run of this file summarises: ``summary_groups`` if it declares some, else the
    category groups of its ``subject_mappings``, else those of the config files it imports."""
