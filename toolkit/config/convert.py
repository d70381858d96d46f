"""Turn one OpenCompass dataset or model dict (plain data) into our engine's typed spec.

Strict by design: a key or a ``type`` we do not implement is a :class:`ConfigError`
naming the file, the dataset (or model), the key and what is supported. A silently
ignored key would mean our engine runs something other than what the config says.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, cast, get_args

from toolkit.config.hashing import dataset_version
from toolkit.config.spec import (
    MAX_CIRCULAR_VARIANTS,
    CircularKind,
    CircularSpec,
    DatasetSpec,
    EvalCfgSpec,
    HfType,
    InferencerKind,
    InferencerSpec,
    InferSpec,
    ModelSpec,
    PromptTemplateSpec,
    ReaderSpec,
    RetrieverSpec,
)
from toolkit.config.typemap import (
    CIRCULAR_EVALUATOR_MODULES,
    DATASET_TYPES,
    EVALUATOR_TYPES,
    INFERENCER_TYPES,
    MODEL_TYPES,
    POSTPROCESSOR_KWARGS,
    POSTPROCESSOR_TYPES,
    RETRIEVER_TYPES,
    TEMPLATE_TYPES,
    lookup_type,
)
from toolkit.errors import ConfigError

DATASET_KEYS = ("type", "path", "name", "abbr", "reader_cfg", "infer_cfg", "eval_cfg")
"""The keys of a dataset dict, exactly as OpenCompass's C-Eval configs have them."""
CIRCULAR_KEYS = ("circular_patterns", "option_keys")
"""What a circular dataset dict may add: ``CircularDatasetMeta.load``'s own arguments."""
CIRCULAR_SPLITS = ("val", "test")
"""The splits ``CircularCEvalDataset`` rearranges (its ``default_circular_splits``)."""

_READER_KEYS = ("input_columns", "output_column", "train_split", "test_split")
_INFER_KEYS = ("ice_template", "prompt_template", "retriever", "inferencer")
_TEMPLATE_KEYS = ("type", "template", "ice_token", "sep_token")
_RETRIEVER_KEYS = {
    "fixk": ("type", "fix_id_list", "ice_separator", "ice_eos_token", "ice_num"),
    "zero": ("type", "ice_eos_token"),
}
_INFERENCER_KEYS = {
    "gen": ("type", "max_out_len", "max_seq_len", "batch_size", "stopping_criteria"),
    "ppl": ("type", "max_seq_len", "batch_size", "labels"),
}
_EVAL_KEYS = ("evaluator", "pred_postprocessor", "pred_role")

MODEL_KEYS = (
    "type", "abbr", "path", "tokenizer_path", "tokenizer_kwargs", "model_kwargs", "generation_kwargs",
    "max_seq_len", "max_out_len", "batch_size", "run_cfg", "stop_words", "pad_token_id",
)  # fmt: skip
# Keys OpenCompass writes with an empty or default value (its CLI sets peft_path=None…):
# accepted with exactly that value, rejected otherwise. batch_padding is accepted with
# any value because our engine always pads a batch.
_MODEL_NEUTRAL: Mapping[str, tuple[Any, ...]] = {
    "peft_path": (None, ""),
    "peft_kwargs": (None, {}),
    "meta_template": (None,),
    "fastchat_template": (None,),
    "end_str": (None,),
    "min_out_len": (None,),
    "mode": ("none",),
    "tokenizer_only": (False,),
    "drop_middle": (False,),
}


class _Where:
    """The file and the entry a message is about."""

    def __init__(self, file: str | Path | None, entry: str) -> None:
        self.file, self.entry = file, entry

    def error(self, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.entry}: {message}", file=self.file, hint=hint)

    def mapping(self, value: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(f"{what} must be a dict, not {type(value).__name__}")
        return value

    def keys(self, value: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
        allowed = tuple(allowed)
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.error(
                f"unsupported key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {what}",
                hint=f"toolkit supports {', '.join(allowed)}",
            )

    def required(self, value: Mapping[str, Any], key: str, what: str) -> Any:
        if value.get(key) is None:
            raise self.error(f"{what} lacks {key!r}")
        return value[key]

    def count(self, value: Any, key: str, minimum: int = 1) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(f"{key} must be an integer >= {minimum}, not {value!r}")
        return value

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{key} must be a list of strings, not {value!r}")
        return tuple(value)


def _template(where: _Where, value: Any, what: str) -> PromptTemplateSpec | None:
    if value is None:
        return None
    cfg = where.mapping(value, what)
    where.keys(cfg, _TEMPLATE_KEYS, what)
    lookup_type(cfg.get("type"), TEMPLATE_TYPES, f"{what}", file=where.file, where=where.entry)
    template = where.required(cfg, "template", what)
    if not isinstance(template, (str, Mapping)):
        raise where.error(f"{what}.template must be a string or a dict, not {type(template).__name__}")
    return PromptTemplateSpec(template=template, ice_token=cfg.get("ice_token"), sep_token=cfg.get("sep_token"))


def _retriever(where: _Where, value: Any) -> RetrieverSpec:
    cfg = where.mapping(value, "retriever")
    kind = lookup_type(cfg.get("type"), RETRIEVER_TYPES, "retriever", file=where.file, where=where.entry).kind
    where.keys(cfg, _RETRIEVER_KEYS[kind], f"retriever ({cfg['type']})")
    if kind == "zero":  # ZeroRetriever joins nothing and ends with "" unless told otherwise
        return RetrieverSpec("zero", (), "", cfg.get("ice_eos_token", ""))
    ids = where.required(cfg, "fix_id_list", "FixKRetriever")
    if not isinstance(ids, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids):
        raise where.error(f"fix_id_list must be a list of row numbers (0, 1, …), not {ids!r}")
    # ice_num is accepted and, as in OpenCompass's FixKRetriever, has no effect.
    return RetrieverSpec("fixk", tuple(ids), cfg.get("ice_separator", "\n"), cfg.get("ice_eos_token", "\n"))


def _inferencer(where: _Where, value: Any) -> InferencerSpec:
    cfg = where.mapping(value, "inferencer")
    if "fix_id_list" in cfg:
        raise where.error("fix_id_list belongs to the retriever, not the inferencer", hint="move it into FixKRetriever")
    kind = lookup_type(cfg.get("type"), INFERENCER_TYPES, "inferencer", file=where.file, where=where.entry).kind
    where.keys(cfg, _INFERENCER_KEYS[kind], f"inferencer ({cfg['type']})")
    labels = cfg.get("labels")
    return InferencerSpec(
        kind=cast(InferencerKind, kind),  # INFERENCER_TYPES maps only to gen and ppl
        max_out_len=where.count(cfg.get("max_out_len"), "max_out_len"),
        max_seq_len=where.count(cfg.get("max_seq_len"), "max_seq_len"),
        batch_size=where.count(cfg.get("batch_size"), "batch_size"),
        stopping_criteria=where.strings(cfg.get("stopping_criteria", ()), "stopping_criteria"),
        labels=None if labels is None else tuple(str(label) for label in where.strings(labels, "labels")),
    )


def _infer(where: _Where, value: Any) -> InferSpec:
    cfg = where.mapping(value, "infer_cfg")
    where.keys(cfg, _INFER_KEYS, "infer_cfg")
    ice = _template(where, cfg.get("ice_template"), "ice_template")
    prompt = _template(where, cfg.get("prompt_template"), "prompt_template")
    if ice is None and prompt is None:
        raise where.error("infer_cfg has neither ice_template nor prompt_template")
    return InferSpec(
        retriever=_retriever(where, where.required(cfg, "retriever", "infer_cfg")),
        inferencer=_inferencer(where, where.required(cfg, "inferencer", "infer_cfg")),
        ice_template=ice,
        prompt_template=prompt,
    )


def _evaluator(where: _Where, cfg: Mapping[str, Any]) -> tuple[str, str | None]:
    """The evaluator's kind, and for ``CircularEvaluator`` its ``circular_pattern`` (default ``circular``)."""
    evaluator = where.mapping(where.required(cfg, "evaluator", "eval_cfg"), "evaluator")
    kind = lookup_type(evaluator.get("type"), EVALUATOR_TYPES, "evaluator", file=where.file, where=where.entry).kind
    if kind != "circular":
        where.keys(evaluator, ("type",), "evaluator")
        return kind, None
    where.keys(evaluator, ("type", "circular_pattern"), "evaluator (CircularEvaluator)")
    module = str(evaluator["type"]).rpartition(".")[0]
    if module not in CIRCULAR_EVALUATOR_MODULES:
        raise where.error(f"evaluator {evaluator['type']!r} is the CircularEvaluator that scores 'index--answer--pattern' "
                          "references, which no circular dataset writes",
                          hint="import it from opencompass.datasets.circular, as OpenCompass's eval_circular.py does")
    pattern = evaluator.get("circular_pattern", "circular")
    if pattern not in get_args(CircularKind):
        raise where.error(f"circular_pattern must be 'circular' or 'all_possible', not {pattern!r}")
    return kind, str(pattern)


def _evaluation(where: _Where, value: Any) -> EvalCfgSpec:
    cfg = where.mapping(value, "eval_cfg")
    where.keys(cfg, _EVAL_KEYS, "eval_cfg")
    evaluator = cast(Literal["acc", "circular"], _evaluator(where, cfg)[0])  # EVALUATOR_TYPES maps to these only
    post = cfg.get("pred_postprocessor")
    if post is None:
        return EvalCfgSpec(evaluator, pred_role=cfg.get("pred_role"))
    post = where.mapping(post, "pred_postprocessor")
    name = lookup_type(post.get("type"), POSTPROCESSOR_TYPES, "pred_postprocessor", file=where.file, where=where.entry).kind
    kwargs = {k: v for k, v in post.items() if k != "type"}
    where.keys(kwargs, POSTPROCESSOR_KWARGS[name], f"pred_postprocessor ({name})")
    if name == "first_option_postprocess" and "options" not in kwargs:  # OpenCompass's function has no default for it
        raise where.error("first_option_postprocess needs options (OpenCompass fails without it)",
                          hint="dict(type=first_option_postprocess, options='ABCD')")
    return EvalCfgSpec(evaluator, pred_postprocessor=name, postprocessor_kwargs=kwargs, pred_role=cfg.get("pred_role"))


def _reader(where: _Where, value: Any) -> ReaderSpec:
    cfg = where.mapping(value, "reader_cfg")
    where.keys(cfg, _READER_KEYS, "reader_cfg")
    output = cfg.get("output_column")
    if output is not None and not isinstance(output, str):
        raise where.error(f"output_column must be a column name, not {output!r}")
    return ReaderSpec(
        input_columns=where.strings(where.required(cfg, "input_columns", "reader_cfg"), "input_columns"),
        output_column=output,
        train_split=str(cfg.get("train_split", "dev")),
        test_split=str(cfg.get("test_split", "val")),
    )


def dataset_abbr(cfg: Mapping[str, Any]) -> str:
    """``abbr``, or OpenCompass's fallback ``<path>_<name>`` with ``/`` made ``_``."""
    if cfg.get("abbr"):
        return str(cfg["abbr"])
    abbr = str(cfg.get("path", ""))
    if "name" in cfg:
        abbr += f"_{cfg['name']}"
    return abbr.replace("/", "_")


def dataset_spec(cfg: Any, *, file: str | Path | None = None) -> DatasetSpec:
    """The :class:`DatasetSpec` for one entry of a ``*_datasets`` list (types as import-path strings).

    ``version`` is OpenCompass's 6-hex prompt hash of the entry, as its summary shows it.
    """
    where = _Where(file, "dataset")
    cfg = where.mapping(cfg, "a *_datasets entry")
    where = _Where(file, f"dataset {dataset_abbr(cfg)!r}")
    loader = lookup_type(cfg.get("type"), DATASET_TYPES, "dataset", file=file, where=where.entry).kind
    circular_type = loader.endswith("-circular")
    where.keys(cfg, DATASET_KEYS + (CIRCULAR_KEYS if circular_type else ()), "the dataset dict")
    path, name = where.required(cfg, "path", "the dataset dict"), where.required(cfg, "name", "the dataset dict")
    if not isinstance(path, str) or not isinstance(name, str):
        raise where.error("path and name must be strings")
    reader = _reader(where, where.required(cfg, "reader_cfg", "the dataset dict"))
    infer = _infer(where, where.required(cfg, "infer_cfg", "the dataset dict"))
    evaluation = _evaluation(where, where.required(cfg, "eval_cfg", "the dataset dict"))
    if evaluation.evaluator == "circular" and not circular_type:
        raise where.error("CircularEvaluator scores the variants of a circular dataset; this one is not circular",
                          hint="use CircularCEvalDataset (from opencompass.datasets.circular) or AccEvaluator")
    return DatasetSpec(
        abbr=dataset_abbr(cfg),
        loader=loader.removesuffix("-circular"),
        path=path,
        name=name,
        reader=reader,
        infer=infer,
        evaluation=evaluation,
        version=dataset_version(cfg),
        source=None if file is None else str(file),
        circular=_circular(where, cfg, reader) if circular_type else None,
    )


def _circular(where: _Where, cfg: Mapping[str, Any], reader: ReaderSpec) -> CircularSpec:
    """A circular dataset's rearrangement, read as OpenCompass's ``CircularDatasetMeta.load`` reads it.

    Its evaluator must be the ``CircularEvaluator`` with the same ``circular_pattern`` (OpenCompass would
    otherwise score each variant as a question, or report permutations it never asked); only the val
    and test splits are rearranged (``CircularCEvalDataset.default_circular_splits``).
    """
    patterns = cfg.get("circular_patterns", "circular")
    if patterns not in get_args(CircularKind):
        raise where.error(f"circular_patterns must be 'circular' or 'all_possible', not {patterns!r}",
                          hint="a list of patterns is not supported (nor by OpenCompass: NotImplementedError)")
    keys = where.strings(cfg.get("option_keys", CircularSpec.option_keys), "option_keys")
    missing = [k for k in keys if k not in reader.input_columns]
    if missing:
        raise where.error(f"option_keys {list(keys)} name columns the reader does not read: {', '.join(missing)}",
                          hint=f"input_columns are {list(reader.input_columns)}")
    evaluator, evaluator_pattern = _evaluator(where, where.mapping(cfg.get("eval_cfg"), "eval_cfg"))
    if evaluator != "circular" or evaluator_pattern != patterns:
        shown = "AccEvaluator" if evaluator != "circular" else f"CircularEvaluator(circular_pattern={evaluator_pattern!r})"
        raise where.error(f"a circular dataset ({patterns}) is scored with {shown}",
                          hint=f"use dict(type=CircularEvaluator, circular_pattern={patterns!r}) from opencompass.datasets.circular")
    rearranged = CIRCULAR_SPLITS
    if reader.test_split not in rearranged or reader.train_split in rearranged:
        raise where.error(f"CircularCEvalDataset rearranges the {' and '.join(rearranged)} splits: test_split "
                          f"{reader.test_split!r} and train_split {reader.train_split!r} would not work",
                          hint="evaluate val or test, with examples from dev")
    spec = CircularSpec(cast(CircularKind, patterns), keys)
    if len(set(keys)) != len(keys) or len(keys) < 2 or spec.variants > MAX_CIRCULAR_VARIANTS:
        raise where.error(f"option_keys {list(keys)} give {spec.variants:,} {patterns} variants per question",
                          hint=f"two or more distinct keys, and at most {MAX_CIRCULAR_VARIANTS} variants "
                               "(all_possible over 6 options; use circular beyond)")
    return spec


def model_abbr(cfg: Mapping[str, Any]) -> str:
    """``abbr``, or OpenCompass's fallback: the type and the last two parts of the real path."""
    if cfg.get("abbr"):
        return str(cfg["abbr"])
    tail = "_".join(os.path.realpath(str(cfg["path"])).split("/")[-2:])
    return f"{cfg['type']}_{tail}".replace("/", "_")


def _options(where: _Where, cfg: Mapping[str, Any], key: str) -> dict[str, Any]:
    return dict(where.mapping(cfg.get(key) or {}, key))


def _num_gpus(where: _Where, run_cfg: Mapping[str, Any]) -> int:
    """``run_cfg.num_gpus`` (0 or more), else the spec's default."""
    given = where.count(run_cfg.get("num_gpus"), "run_cfg.num_gpus", minimum=0)
    return ModelSpec.num_gpus if given is None else given


def model_spec(cfg: Any, *, file: str | Path | None = None) -> ModelSpec:
    """The :class:`ModelSpec` for one entry of a ``models`` list (OpenCompass's HF model keys)."""
    where = _Where(file, "model")
    cfg = where.mapping(cfg, "a models entry")
    where = _Where(file, f"model {cfg.get('abbr') or cfg.get('path') or '?'!r}")
    hf_type = lookup_type(cfg.get("type"), MODEL_TYPES, "model", file=file, where=where.entry).kind
    if hf_type not in ("base", "chat"):  # OpenAISDK / OpenAI, VLLM / VLLMwithChatTemplate
        from toolkit.config.backend_models import backend_model_spec

        return backend_model_spec(cfg, hf_type, where.error, abbr=model_abbr(cfg))
    for key, value in cfg.items():
        if key in _MODEL_NEUTRAL and key != "batch_padding" and value not in _MODEL_NEUTRAL[key]:
            raise where.error(f"{key}={value!r} is not supported", hint=f"remove {key} (toolkit implements none of it)")
    where.keys(cfg, (*MODEL_KEYS, *_MODEL_NEUTRAL, "batch_padding"), "the model dict")
    path = where.required(cfg, "path", "the model dict")
    run_cfg = _options(where, cfg, "run_cfg")
    where.keys(run_cfg, ("num_gpus", "num_procs"), "run_cfg")
    if run_cfg.get("num_procs", 1) != 1:
        raise where.error("run_cfg.num_procs other than 1 is not supported", hint="remove num_procs")
    pad = cfg.get("pad_token_id")
    if pad is not None and (isinstance(pad, bool) or not isinstance(pad, int)):
        raise where.error(f"pad_token_id must be an integer, not {pad!r}")
    return ModelSpec(
        abbr=model_abbr(cfg),
        path=str(path),
        hf_type=cast(HfType, hf_type),  # MODEL_TYPES maps only to base and chat
        tokenizer_path=None if cfg.get("tokenizer_path") is None else str(cfg["tokenizer_path"]),
        tokenizer_kwargs=_options(where, cfg, "tokenizer_kwargs"),
        model_kwargs=_options(where, cfg, "model_kwargs"),
        generation_kwargs=_options(where, cfg, "generation_kwargs"),
        max_seq_len=where.count(cfg.get("max_seq_len"), "max_seq_len"),
        max_out_len=where.count(cfg.get("max_out_len"), "max_out_len") or ModelSpec.max_out_len,
        batch_size=where.count(cfg.get("batch_size"), "batch_size") or ModelSpec.batch_size,
        num_gpus=_num_gpus(where, run_cfg),
        stop_words=where.strings(cfg.get("stop_words") or (), "stop_words"),
        pad_token_id=pad,
        set_by={key: "model config" if cfg.get(key) is not None else "default"
                for key in ("max_seq_len", "max_out_len", "batch_size")},
    )
