"""``toolkit eval``'s options → the engine's typed :class:`~toolkit.engine.spec.EvalRunSpec`.

The command-line side of a run, and the only place that knows flag names: it reads the
``CONFIG.py`` and ``--datasets`` configs (each once, with their summary groups), builds
models from ``--hf-path`` (or takes the config's ``models``), parses OpenCompass-style
``key=value`` options exactly as OpenCompass does (mmengine's ``DictAction``:
``padding_side='left' trust_remote_code=True``), and says what is wrong in terms of
flags. Settings the user did not type stay None ("not given"): the specs' defaults and
:func:`toolkit.engine.params.resolve_infer_params` decide them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from toolkit.cli._common import CIRCULAR_KINDS
from toolkit.cli.api_options import api_models, run_backend
from toolkit.config.spec import DatasetSpec, LoadedConfig, ModelSpec
from toolkit.engine.spec import DeviceName, EvalRunSpec, InferMode, RunMode, SlurmOptions
from toolkit.errors import UsageError


def _scalar(text: str) -> Any:
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return None if text == "None" else text


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def parse_value(text: str) -> Any:
    """One value as OpenCompass's ``DictAction`` reads it.

    Example:
        >>> parse_value("'left'"), parse_value("True"), parse_value("1,2"), parse_value("[a,(1,2)]")
        ('left', True, [1, 2], ['a', (1, 2)])
    """
    text = text.strip("'\"").replace(" ", "")
    if text.startswith("(") and text.endswith(")"):
        return tuple(parse_value(p) for p in _split_top(text[1:-1]) if p)
    if text.startswith("[") and text.endswith("]"):
        return [parse_value(p) for p in _split_top(text[1:-1]) if p]
    if "," in text:
        return [parse_value(p) for p in _split_top(text) if p]
    return _scalar(text)


def parse_kwargs(items: Iterable[str], option: str) -> dict[str, Any]:
    """``["padding_side='left'", "trust_remote_code=True"]`` → a dict; a bad item is a usage error."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"{option} expects key=value, got {item!r}", hint=f"write e.g. {option} trust_remote_code=True")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


@dataclass(frozen=True)
class EvalOptions:
    """Every option of ``toolkit eval`` as typed; None where the user typed nothing."""

    config: Path | None = None
    datasets: tuple[str, ...] = ()
    config_dir: Path | None = None
    abbr: tuple[str, ...] = ()
    hf_paths: tuple[str, ...] = ()
    model_abbr: str | None = None
    tokenizer_path: str | None = None
    tokenizer_kwargs: tuple[str, ...] = ()
    model_kwargs: tuple[str, ...] = ()
    generation_kwargs: tuple[str, ...] = ()
    hf_type: str = "chat"
    max_seq_len: int | None = None
    max_out_len: int | None = None
    min_out_len: int | None = None
    batch_size: int | None = None
    num_gpus: int | None = None
    pad_token_id: int | None = None
    stop_words: tuple[str, ...] = ()
    work_dir: str = "outputs/default"
    reuse: str | None = None
    mode: str = "all"
    infer_mode: str | None = None
    circular: str | None = None
    """``circular`` or ``all-perm`` (the flag's spelling), None without ``--circular``."""
    max_num_workers: int = 1
    debug: bool = False
    dry_run: bool = False
    data_paths: tuple[str, ...] = ()
    validate: bool = True
    reserve_output: bool = False
    early_stop: bool = True
    device: str | None = None
    backend: str = "hf"
    command: str = ""
    slurm: bool = False
    partition: str | None = None
    quotatype: str | None = None
    qos: str | None = None
    api_base: str | None = None
    api_models: tuple[str, ...] = ()
    api_key_env: str | None = None
    api_concurrency: int | None = None
    qps: float | None = None
    api_timeout: float | None = None
    api_retries: int | None = None
    accelerator: str | None = None
    vllm_python: str | None = None


INFER_FLAGS = {"max_seq_len": "--max-seq-len", "max_out_len": "--max-out-len", "batch_size": "--batch-size",
               "min_out_len": "--min-out-len"}
"""The flag of each inference setting a user can type."""


def _given(opts: EvalOptions, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(opts, name) for name in names if getattr(opts, name) is not None}


def model_from_path(path: str, opts: EvalOptions, abbr: str | None) -> ModelSpec:
    """The model of one ``--hf-path``: the flags the user typed, the spec's defaults for the rest."""
    name = abbr or Path(path.rstrip("/")).name.removesuffix(".gguf") or "model"
    settings = _given(opts, ("max_seq_len", "max_out_len", "batch_size", "num_gpus"))
    return ModelSpec(
        abbr=name, path=path, hf_type="chat" if opts.hf_type == "chat" else "base",
        tokenizer_path=opts.tokenizer_path,
        tokenizer_kwargs=parse_kwargs(opts.tokenizer_kwargs, "--tokenizer-kwargs"),
        model_kwargs=parse_kwargs(opts.model_kwargs, "--model-kwargs"),
        generation_kwargs=parse_kwargs(opts.generation_kwargs, "--generation-kwargs"),
        stop_words=tuple(opts.stop_words), pad_token_id=opts.pad_token_id,
        set_by={key: "cli" if key in settings else "default" for key in ("max_seq_len", "max_out_len", "batch_size")},
        **settings,
    )


def _config_groups(configs: Sequence[LoadedConfig]) -> list[dict[str, Any]]:
    by_name: dict[str, dict[str, Any]] = {}
    for group in (g for loaded in configs for g in loaded.groups):
        by_name.setdefault(group["name"], dict(group))  # the first of a name wins
    return list(by_name.values())


def _select(datasets: Sequence[DatasetSpec], patterns: Sequence[str]) -> tuple[DatasetSpec, ...]:
    if not patterns:
        return tuple(datasets)
    chosen = tuple(d for d in datasets if any(fnmatch.fnmatchcase(d.abbr, p) for p in patterns))
    if not chosen:
        some = ", ".join(d.abbr for d in datasets[:5])
        raise UsageError(f"--abbr {' '.join(patterns)} matches no dataset", hint=f"abbrs look like: {some}")
    return chosen


def _read_configs(opts: EvalOptions) -> list[LoadedConfig]:
    """The ``CONFIG.py`` (with its models) and every ``--datasets`` config, each read once."""
    from toolkit.config.loader import load_config, load_dataset_args

    configs: list[LoadedConfig] = []
    if opts.config is not None:
        if not opts.config.is_file():
            looks_like_run = re.fullmatch(r"[\d_]+", opts.config.name) is not None
            raise UsageError("config file not found", file=opts.config,
                             hint="-r takes a run folder's name, YYYYMMDD_HHMMSS" if looks_like_run else "check the path")
        configs.append(load_config(opts.config))
    if opts.datasets:
        configs += load_dataset_args(opts.datasets, opts.config_dir)
    return configs


def _models(opts: EvalOptions, from_config: Sequence[ModelSpec]) -> list[ModelSpec]:
    """The config's models, then one per ``--hf-path``; two with one abbr are an error."""
    models = list(from_config)
    for i, path in enumerate(opts.hf_paths):
        abbr = opts.model_abbr if len(opts.hf_paths) == 1 else (f"{opts.model_abbr}-{i}" if opts.model_abbr else None)
        models.append(model_from_path(path, opts, abbr))
    models += api_models(opts)
    abbrs = [m.abbr for m in models]
    if len(set(abbrs)) != len(abbrs):
        raise UsageError(f"two models share the abbr {sorted(a for a in abbrs if abbrs.count(a) > 1)[0]!r}",
                         hint="give each model its own abbr (--model-abbr, or abbr= in the config)")
    return models


def _unique_datasets(datasets: Sequence[DatasetSpec]) -> list[DatasetSpec]:
    """Each abbr once (a config named twice is fine); two different datasets with one abbr are an error."""
    unique: dict[str, DatasetSpec] = {}
    for d in datasets:
        seen = unique.setdefault(d.abbr, d)
        if seen is not d and (seen.version, seen.infer, seen.path) != (d.version, d.infer, d.path):
            raise UsageError(
                f"two datasets are both called {d.abbr!r} (from {seen.source} and {d.source}); results would collide",
                hint="evaluate them in separate runs (e.g. the _gen and the _ppl config one after the other), "
                     "or use --infer-mode to score one config in another mode")
    return list(unique.values())


def build_run_spec(opts: EvalOptions) -> EvalRunSpec:
    """Resolve everything the options name; raise UsageError/ConfigError naming what is missing."""
    configs = _read_configs(opts)
    datasets = [d for loaded in configs for d in loaded.datasets]
    render = opts.mode == "viz" and not opts.dry_run  # the run's own datasets and models unless named
    if not datasets and not render:
        raise UsageError("no datasets to evaluate", hint="pass --datasets NAME (e.g. my_bank_gen) or a CONFIG.py")
    models = _models(opts, [m for loaded in configs for m in loaded.models])
    if not models and not render:
        raise UsageError("no model to evaluate", hint="pass --hf-path PATH (see `toolkit demo-model`), --api-base URL --api-model NAME, "
                                                            "or a CONFIG.py with models")
    unique = _unique_datasets(datasets)
    if opts.mode in ("eval", "viz") and opts.reuse is None and not opts.dry_run:
        raise UsageError(f"--mode {opts.mode} works on the predictions of an earlier run",
                         hint="add -r (the latest run) or -r TIMESTAMP")
    spec = EvalRunSpec(
        datasets=_select(unique, opts.abbr) if unique else (),
        abbr_patterns=tuple(opts.abbr),
        models=tuple(models),
        work_dir=opts.work_dir,
        reuse=opts.reuse,
        mode=cast(RunMode, opts.mode),  # EvalRunSpec checks the value
        infer_mode=cast("InferMode | None", opts.infer_mode),
        circular=CIRCULAR_KINDS[opts.circular] if opts.circular else None,
        min_out_len=opts.min_out_len,
        reserve_output=opts.reserve_output,
        early_stop=opts.early_stop,
        max_workers=opts.max_num_workers,
        num_gpus=ModelSpec.num_gpus if opts.num_gpus is None else opts.num_gpus,
        debug=opts.debug,
        dry_run=opts.dry_run,
        backend=run_backend(opts),
        vllm_python=opts.vllm_python,
        device=cast("DeviceName | None", opts.device),
        data_paths=parse_data_paths(opts.data_paths),
        validate=opts.validate,
        summary_groups=tuple(_config_groups(configs)),
        command=opts.command,
        slurm=slurm_options(opts),
        set_by={"min_out_len": "cli"} if opts.min_out_len is not None else {},
    )
    check_room(spec)
    return spec


def _flag_or_setting(name: str, value: Any, source: str) -> str:
    return f"{INFER_FLAGS[name]} {value}" if source == "cli" else f"{name} {value} ({source})"


def check_room(spec: EvalRunSpec) -> None:
    """``--reserve-output`` keeps ``max_out_len`` tokens free in gen mode: ``max_seq_len`` must leave room
    for a prompt, with the values that apply to each model and dataset (flags named as typed)."""
    from toolkit.engine.params import resolve_infer_params

    if not spec.reserve_output:
        return
    for m in spec.models:
        for d in spec.datasets:
            r = resolve_infer_params(m, d, spec)
            seq, out = r.values["max_seq_len"], r.values["max_out_len"]
            if r.params.mode == "gen" and seq is not None and seq <= out:
                raise UsageError(f"{_flag_or_setting('max_seq_len', seq, r.sources['max_seq_len'])} leaves no room "
                                 f"for a prompt after reserving {_flag_or_setting('max_out_len', out, r.sources['max_out_len'])}"
                                 " tokens (--reserve-output)", hint="raise --max-seq-len or lower --max-out-len")


def slurm_options(opts: EvalOptions) -> SlurmOptions | None:
    """``--slurm -p P --quotatype Q --qos Q`` → SlurmOptions; None without ``--slurm``."""
    given = [flag for flag, value in (("--partition", opts.partition), ("--quotatype", opts.quotatype),
                                      ("--qos", opts.qos)) if value]
    if not opts.slurm:
        if given:
            raise UsageError(f"{given[0]} only applies to Slurm runs", hint="add --slurm, or drop " + given[0])
        return None
    if opts.debug:
        raise UsageError("--debug runs every task in this process, so it cannot be combined with --slurm",
                         hint="drop --debug, or drop --slurm to debug on this machine")
    return SlurmOptions(partition=opts.partition, quotatype=opts.quotatype, qos=opts.qos)


def parse_data_paths(items: Iterable[str]) -> dict[str, str]:
    """``["opencompass/ceval-exam=../shared/data/ceval"]`` → {id: folder}."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--data-path expects ID=DIR, got {item!r}", hint="e.g. --data-path opencompass/ceval-exam=/data/ceval")
        key, value = item.split("=", 1)
        out[key] = value
    return out
