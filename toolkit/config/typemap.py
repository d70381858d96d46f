"""Which OpenCompass ``type`` values toolkit implements, and the import paths configs use for them.

One table serves both directions: :mod:`toolkit.config.render` writes these import
paths into the configs it generates (they enter the prompt hash, so they must be
OpenCompass's own), and :mod:`toolkit.config.loader` maps a config's ``type`` back
to our implementation, rejecting anything else with the list of what is supported.

A ``type`` may be written as its import path (``opencompass.datasets.CEvalDataset``,
what a config's ``from opencompass.datasets import CEvalDataset`` gives), as a longer
path to the same class (``opencompass.datasets.ceval.CEvalDataset``), or as the bare
registry name (``"CEvalDataset"``, ``"first-capital"``), as OpenCompass accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError


@dataclass(frozen=True)
class KnownType:
    """One class or function of OpenCompass that toolkit implements."""

    name: str
    """The name a config imports: ``GenInferencer``."""
    module: str
    """Where OpenCompass's own configs import it from: ``opencompass.openicl.icl_inferencer``."""
    kind: str
    """Our implementation: ``gen``."""
    aliases: tuple[str, ...] = ()
    """Registry names OpenCompass also accepts as a bare string (``first-capital``)."""

    @property
    def path(self) -> str:
        """The import path a loaded config shows: ``opencompass.openicl.icl_inferencer.GenInferencer``."""
        return f"{self.module}.{self.name}"


def _table(*types: KnownType) -> Mapping[str, KnownType]:
    return {t.name: t for t in types}


_ICL = "opencompass.openicl"
_POST = "opencompass.utils.text_postprocessors"

_CIRCULAR = "opencompass.datasets.circular"
DATASET_TYPES = _table(
    KnownType("CEvalDataset", "opencompass.datasets", "ceval"),
    KnownType("CircularCEvalDataset", _CIRCULAR, "ceval-circular"),
)
"""A ``-circular`` kind is CircularEval over the loader before the dash (OpenCompass's ``CircularDatasetMeta``)."""
TEMPLATE_TYPES = _table(KnownType("PromptTemplate", f"{_ICL}.icl_prompt_template", "prompt"))
RETRIEVER_TYPES = _table(
    KnownType("ZeroRetriever", f"{_ICL}.icl_retriever", "zero"),
    KnownType("FixKRetriever", f"{_ICL}.icl_retriever", "fixk"),
)
INFERENCER_TYPES = _table(
    KnownType("GenInferencer", f"{_ICL}.icl_inferencer", "gen"),
    KnownType("PPLInferencer", f"{_ICL}.icl_inferencer", "ppl"),
)
EVALUATOR_TYPES = _table(
    KnownType("AccEvaluator", f"{_ICL}.icl_evaluator", "acc"),
    KnownType("AccwithDetailsEvaluator", f"{_ICL}.icl_evaluator", "acc"),
    KnownType("CircularEvaluator", _CIRCULAR, "circular"),
)
CIRCULAR_EVALUATOR_MODULES = (_CIRCULAR, "opencompass.datasets")
"""Where the ``CircularEvaluator`` of circular datasets lives; ``opencompass.openicl.icl_evaluator`` has
another class of that name (and the registry name means that one), which scores references of the
form ``index--answer--pattern`` that no circular dataset writes."""
POSTPROCESSOR_TYPES = _table(
    KnownType("first_capital_postprocess", _POST, "first_capital_postprocess", aliases=("first-capital",)),
    KnownType("first_option_postprocess", _POST, "first_option_postprocess"),
)
POSTPROCESSOR_KWARGS: Mapping[str, frozenset[str]] = {
    "first_capital_postprocess": frozenset(),
    "first_option_postprocess": frozenset({"options", "cushion"}),
}
"""The keyword arguments each post-processor takes (besides the text)."""
MODEL_TYPES = _table(
    KnownType("HuggingFaceBaseModel", "opencompass.models", "base"),
    KnownType("HuggingFacewithChatTemplate", "opencompass.models", "chat"),
    KnownType("HuggingFaceCausalLM", "opencompass.models", "base"),
    KnownType("HuggingFace", "opencompass.models", "base"),
    KnownType("OpenAISDK", "opencompass.models", "api"),
    KnownType("OpenAI", "opencompass.models", "api"),
    KnownType("VLLM", "opencompass.models", "vllm-base"),
    KnownType("VLLMwithChatTemplate", "opencompass.models", "vllm-chat"),
)


def lookup_type(
    value: Any,
    table: Mapping[str, KnownType],
    what: str,
    *,
    file: str | Path | None = None,
    where: str = "",
) -> KnownType:
    """The :class:`KnownType` that a config's ``type`` value names; ConfigError if toolkit lacks it.

    Example:
        >>> lookup_type("opencompass.openicl.icl_inferencer.GenInferencer", INFERENCER_TYPES, "inferencer").kind
        'gen'
    """
    supported = ", ".join(table)
    context = f"{where}: " if where else ""
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{context}{what} type must be a class imported from opencompass, not {value!r}",
            file=file,
            hint=f"supported: {supported}",
        )
    module, _, name = value.rpartition(".")
    found = table.get(name) or next((t for t in table.values() if name in t.aliases), None)
    if found is None or (module and module.split(".")[0] != "opencompass"):
        raise ConfigError(
            f"{context}unsupported {what} type {value!r}",
            file=file,
            hint=f"toolkit supports: {supported}",
        )
    return found
