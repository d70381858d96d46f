"""Inference settings, decided once per model and dataset: :func:`resolve_infer_params`.

A setting can come from a flag (``--max-out-len``), a model (a ``models`` entry, or the
model ``--hf-path`` makes from the flags), a dataset config (``infer_cfg.inferencer``) or
the spec's default. Which wins follows what OpenCompass really does, read from its
``OpenICLInferTask`` (``tasks/openicl_infer.py``) and ``utils/run.py``:

* ``max_out_len`` and ``batch_size``: the dataset config's inferencer, else the model's
  (``opencompass --max-out-len`` only writes the model dict; the infer task then fills the
  inferencer with ``_set_default_value``, which keeps a value the dataset config has), else
  the default. A value typed on the command line that a dataset config overrides is said
  once on stderr (:func:`override_notes`).
* ``max_seq_len``: the model's, else the dataset config's inferencer's. (OpenCompass
  overwrites the inferencer's with the model's, even with None; toolkit has always let a
  dataset's own limit apply when the model sets none, and still does.)
* ``min_out_len``: the run's (``--min-out-len``), else 1. (OpenCompass's ``--min-out-len``
  reaches no model; its configs may set it where ours cannot.)
* ``stop_words`` are the model's; the mode, ``reserve_output`` and ``early_stop`` the run's.

Each value is recorded with its source in the run's manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from toolkit.config.spec import DEFAULT_BATCH_SIZE, DEFAULT_MAX_OUT_LEN, DatasetSpec, ModelSpec
from toolkit.engine.serialize import to_plain
from toolkit.engine.spec import EvalRunSpec

Source = Literal["cli", "model config", "dataset config", "run spec", "default"]
RESOLVED = ("max_out_len", "min_out_len", "batch_size", "max_seq_len")
"""The settings whose value and source the manifest records."""


@dataclass(frozen=True)
class InferParams:
    """Everything besides model and data that shapes one dataset's predictions (the reuse key, but
    ``batch_size``), with the defaults that apply when nobody sets a value."""

    mode: str | None = None
    """``gen``, ``ppl``, ``choice``, or None for what the config says."""
    max_out_len: int = DEFAULT_MAX_OUT_LEN
    min_out_len: int = 1
    max_seq_len: int | None = None
    reserve_output: bool = False
    """Truncate prompts to ``max_seq_len - max_out_len`` (OpenCompass reserves nothing)."""
    stop_words: tuple[str, ...] = ()
    early_stop: bool = True
    """Stop generating once the answer is decided, and at the next example's header."""
    batch_size: int | None = None
    """A dataset config's batch size, which overrides the model's own for this dataset; None: the model's
    (the backend's token budget may make batches smaller still)."""

    def key_values(self) -> dict[str, Any]:
        """The settings that shape predictions, as the reuse key holds them (``batch_size`` does not)."""
        values = to_plain(self)
        del values["batch_size"]
        return values


@dataclass(frozen=True)
class Override:
    """A value typed on the command line that a dataset config overrides (OpenCompass's order)."""

    setting: str
    typed: int
    dataset_value: int
    dataset: str


@dataclass(frozen=True)
class ResolvedParams:
    """One model's settings on one dataset, each with where it came from."""

    params: InferParams
    values: Mapping[str, Any] = field(default_factory=dict)
    """The value of each of :data:`RESOLVED` that applies (``batch_size``: the model's when the dataset sets none)."""
    sources: Mapping[str, Source] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{setting: {"value", "source"}}`` for the manifest."""
        return {name: {"value": self.values[name], "source": self.sources[name]} for name in RESOLVED}


def _model_value(model: ModelSpec, name: str) -> tuple[Any, Source]:
    value = getattr(model, name)
    source = model.set_by.get(name, "model config")
    if source == "default" or value is None:
        return value, "default"
    return value, "cli" if source == "cli" else "model config"


def resolve_infer_params(model: ModelSpec, dataset: DatasetSpec, run: EvalRunSpec) -> ResolvedParams:
    """``model``'s settings on ``dataset`` in ``run``: which value wins, and from where (see the module doc).

    A model typed with ``--max-out-len 16`` on a dataset whose config says ``max_out_len=64``
    generates up to 64 tokens; the result says so (``sources["max_out_len"] == "dataset config"``)
    and keeps the typed value in ``overrides`` for the note on stderr.
    """
    inferencer = dataset.infer.inferencer
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    overrides: list[Override] = []
    for name, default in (("max_out_len", DEFAULT_MAX_OUT_LEN), ("batch_size", DEFAULT_BATCH_SIZE)):
        value, source = _model_value(model, name)
        own = getattr(inferencer, name)
        if own is not None:
            if source == "cli" and own != value:
                overrides.append(Override(name, value, own, dataset.abbr))
            value, source = own, "dataset config"
        values[name], sources[name] = (default, "default") if value is None else (value, source)
    value, source = _model_value(model, "max_seq_len")
    if value is None and inferencer.max_seq_len is not None:
        value, source = inferencer.max_seq_len, "dataset config"
    values["max_seq_len"], sources["max_seq_len"] = value, source
    if run.min_out_len is None:
        values["min_out_len"], sources["min_out_len"] = InferParams.min_out_len, "default"
    else:
        values["min_out_len"] = run.min_out_len
        sources["min_out_len"] = "cli" if run.set_by.get("min_out_len") == "cli" else "run spec"
    params = InferParams(mode=run.infer_mode or inferencer.kind, max_out_len=values["max_out_len"],
                         min_out_len=values["min_out_len"], max_seq_len=values["max_seq_len"],
                         reserve_output=run.reserve_output, stop_words=tuple(model.stop_words),
                         early_stop=run.early_stop,
                         batch_size=values["batch_size"] if sources["batch_size"] == "dataset config" else None)
    return ResolvedParams(params, values, sources, tuple(overrides))


def override_notes(resolved: Iterable[ResolvedParams]) -> list[str]:
    """One line per setting typed on the command line that dataset configs override (said once a run)."""
    by_setting: dict[tuple[str, int], list[Override]] = {}
    for r in resolved:
        for o in r.overrides:
            by_setting.setdefault((o.setting, o.typed), []).append(o)
    notes = []
    for (setting, typed), found in by_setting.items():
        shown = dict.fromkeys(f"{o.dataset}: {o.dataset_value}" for o in found)
        more = f", +{len(shown) - 3} more" if len(shown) > 3 else ""
        notes.append(f"note: {setting} {typed} from the command line is overridden by the dataset config's "
                     f"{setting} ({', '.join(list(shown)[:3])}{more}), as in OpenCompass; "
                     "change infer_cfg.inferencer in the config to change it")
    return notes

