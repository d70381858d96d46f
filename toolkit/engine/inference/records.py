"""Pieces of a dataset's inference: the mode, what a model reads, stop strings, and prediction records.

A record is one test row's prediction as the predictions file keeps it: ``index``,
``origin_prompt``, ``prediction``, ``gold``, the in-context examples used and the
prompt's length (ppl records first carry OpenCompass's own ``label: X`` entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast, get_args

from toolkit.config.spec import DatasetSpec, InferencerKind
from toolkit.engine.params import InferParams
from toolkit.engine.prompting import Prompt, QuestionPrompt, option_labels, to_base_text, to_chat_messages
from toolkit.engine.scoring import resolve_postprocessor
from toolkit.errors import ConfigError, UsageError
from toolkit.models.base import LanguageModel

Record = dict[str, Any]


def resolve_mode(dataset: DatasetSpec, params: InferParams) -> InferencerKind:
    """The inference mode for ``dataset``: the override, else its inferencer's kind."""
    mode = params.mode or dataset.infer.inferencer.kind
    if mode not in get_args(InferencerKind):
        raise UsageError(f"unknown inference mode {mode!r}", hint="use gen, ppl or choice")
    return cast(InferencerKind, mode)


def render_for(model: LanguageModel, prompt: Prompt, *, generation: bool) -> Any:
    """Base models see OpenCompass's joined text; chat models a message list."""
    if model.hf_type == "chat":
        return to_chat_messages(prompt, "gen" if generation else "ppl")
    return to_base_text(prompt)


def dataset_postprocessor(dataset: DatasetSpec) -> Any:
    """The dataset's pred_postprocessor, its option letters defaulting to the dataset's own."""
    try:
        letters: str | None = "".join(option_labels(dataset.infer, dataset.reader))
    except ConfigError:  # no option columns: the post-processor keeps its own default
        letters = None
    return resolve_postprocessor(dataset.evaluation.pred_postprocessor, dataset.evaluation.postprocessor_kwargs,
                                 options=letters)


def shown(prompt: Prompt, chat: bool) -> Any:
    """A prompt as a predictions file shows it in ppl mode: base text, or the chat messages with every turn."""
    return to_chat_messages(prompt, "ppl") if chat else to_base_text(prompt)


def header_stop(text: str) -> str | None:
    """Where a base model starts writing the next example: newline + the prompt's first line.

    Example:
        >>> header_stop("以下是中国关于计算机网络考试的单项选择题，请选出其中的正确答案。\\n题目")
        '\\n以下是中国关于计算机网络'
    """
    first = text.split("\n", 1)[0].strip()
    return "\n" + first[:12] if len(first) >= 4 else None


def ppl_record(q: QuestionPrompt, scores: Sequence[Any], n_tokens: int, *, chat: bool) -> Record:
    """OpenCompass's PPLInferencer record (``in-context examples``, ``origin_prompt``, one ``label: X``
    entry per label with ``testing input``, ``prompt``, ``PPL`` and ``BPB``), then our own keys."""
    rec: Record = {"index": q.index, "in-context examples": shown(q.retrieved_ice, chat)}
    entries: dict[str, Any] = {}
    for label, score in zip(q.labels, scores):
        prompt = shown(q.label_prompts[label], chat)
        ice = shown(q.label_ice[label], chat)
        if chat:  # the messages of the examples go; the question's own turns stay
            testing: Any = prompt[len(ice):] if prompt[:len(ice)] == ice else prompt
            size = len("".join(m["content"] for m in testing).encode("utf-8"))
        else:
            testing = prompt.replace(ice, "")
            size = len(testing.encode("utf-8"))
        ppl = score.avg_nll
        entries[f"label: {label}"] = {"testing input": testing, "prompt": prompt, "PPL": ppl,
                                      "BPB": ppl * score.n_tokens / size if size else None}
    rec["origin_prompt"] = entries[f"label: {q.labels[0]}"]["testing input"] if q.labels else ""
    rec.update(entries)
    ours = base_record(q, None, n_tokens)
    del ours["index"], ours["origin_prompt"]  # already set, in OpenCompass's order
    rec.update(ours)
    return rec


def base_record(q: QuestionPrompt, origin_prompt: Any, n_tokens: int) -> Record:
    """The record every mode starts from: the test row, the prompt shown, the gold answer, the examples used."""
    rec: Record = {
        "index": q.index,
        "origin_prompt": origin_prompt,
        "prediction": "",
        "gold": q.gold,
        "in_context_examples": list(q.ice_ids),
        "prompt_tokens": n_tokens,
    }
    if q.dropped:
        rec["dropped_examples"] = q.dropped
    if q.over_length:
        rec["over_length"] = True
    return rec
