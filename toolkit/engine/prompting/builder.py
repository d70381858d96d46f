"""Every question's prompt(s) for one dataset, truncated to ``max_seq_len`` as OpenCompass does.

:class:`PromptBuilder` is what the inferencers use (:func:`build_question_prompts`
renders a whole split at once): it retrieves the in-context examples, renders
the prompt for the mode, and drops examples from the end until the prompt fits
(OpenCompass's rule:
``count_tokens(prompt) <= max_seq_len``, no room kept for the answer unless
``reserve`` asks for it). A question that does not fit even without examples is
kept whole and flagged ``over_length``; the question itself is never cut.

Modes:

* ``gen`` — ``prompt`` is what the model continues (OpenCompass's ``GenInferencer``).
* ``ppl`` — ``label_prompts`` holds one full prompt per label, scored by loss
  (``PPLInferencer``). Labels are processed in order and *share* the shrinking
  example list: once label A's prompt forced an example out, label B starts
  without it, while A's prompt keeps it. ``label_ice_ids`` records each one's.
* ``choice`` — ``label_prompts`` holds the gen prompt completed by each option
  letter; truncation is decided on the gen prompt, so all candidates share
  ``ice_ids`` and one context pass can score them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from toolkit.config.spec import DatasetSpec, InferSpec
from toolkit.engine.data import as_dataset_rows
from toolkit.engine.prompting.prompt_list import Prompt
from toolkit.engine.prompting.retriever import (
    labels_for,
    option_labels,
    render_choice_prompt,
    render_gen_prompt,
    render_ice,
    render_label_prompt,
    retrieve,
)
from toolkit.engine.prompting.template import check_template
from toolkit.errors import UsageError

Mode = Literal["gen", "ppl", "choice"]
CountTokens = Callable[[Prompt], int]


@dataclass(frozen=True)
class QuestionPrompt:
    """One test row's prompt(s), after truncation. Prompts are read-only."""

    index: int
    """Row index in the test split (the key of OpenCompass's predictions file)."""
    ice_ids: tuple[int, ...]
    """Train-split rows used as examples (for ppl: those left after the last label)."""
    dropped: int
    """How many retrieved examples were dropped to fit ``max_seq_len``."""
    prompt: Prompt
    """The generation prompt with ``ice_ids`` (in ppl mode informational: the shared context)."""
    gold: str | None
    """The output column's value, or None when the split has no such column."""
    over_length: bool = False
    """True when the prompt exceeds the budget even with no examples left."""
    label_prompts: Mapping[str, Prompt] = field(default_factory=dict)
    """ppl/choice: label -> the prompt to score, in scoring order; empty for gen."""
    label_ice_ids: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """ppl/choice: label -> the examples its prompt holds."""
    label_ice: Mapping[str, Prompt] = field(default_factory=dict)
    """ppl: label -> the rendered in-context examples its prompt holds (OpenCompass removes them to get
    each label's ``testing input``)."""
    retrieved_ice: Prompt = ""
    """ppl: every retrieved example rendered, before truncation (OpenCompass's ``in-context examples``)."""

    @property
    def labels(self) -> tuple[str, ...]:
        """The candidate labels in scoring order (empty in gen mode)."""
        return tuple(self.label_prompts)


def ice_key(question: QuestionPrompt) -> tuple[tuple[int, ...], ...]:
    """Questions of one dataset with equal keys begin with the same few-shot prefix.

    The backend can compute that prefix's KV cache once per key. In ppl mode the key
    holds each label's example list, since the shared-truncation rule may give
    labels different examples.
    """
    if question.label_ice_ids:
        return tuple(question.label_ice_ids.values())
    return (question.ice_ids,)


class PromptBuilder:
    """Prompts for any rows of one dataset's test split; what all rows share is prepared once.

    Preparing converts both splits to OpenCompass's table rows, retrieves the examples
    and fixes the labels; :meth:`build` then renders just the rows asked for, so a
    large split can be rendered a chunk at a time without redoing that work.

    ``count_tokens`` receives a structured prompt (a gen prompt in gen/choice mode,
    a label prompt in ppl mode) and returns its length in tokens as the model will
    see it: e.g. ``len(tok(to_base_text(p)).input_ids)`` for a base model (special
    tokens included, as OpenCompass counts). It is needed only with ``max_seq_len``.
    The budget is ``max_seq_len - reserve``; ``reserve`` (default 0, OpenCompass's
    rule) keeps room for the answer, e.g. ``max_out_len``.

    Pass the whole test split even when only some rows are built (e.g. the rest of a
    resumed run): OpenCompass's table takes its columns from the split's first row
    and PPL labels may come from all its answers.
    """

    def __init__(
        self,
        spec: DatasetSpec,
        train_rows: Sequence[Mapping[str, Any]],
        test_rows: Sequence[Mapping[str, Any]],
        *,
        mode: Mode,
        count_tokens: CountTokens | None = None,
        max_seq_len: int | None = None,
        reserve: int = 0,
    ) -> None:
        if max_seq_len is not None and count_tokens is None:
            raise ValueError("max_seq_len needs count_tokens")
        self.budget = None if max_seq_len is None else max_seq_len - reserve
        if self.budget is not None and self.budget <= 0:
            raise UsageError(
                f"max_seq_len {max_seq_len} leaves no room for a prompt after reserving {reserve} tokens",
                hint="raise --max-seq-len or lower --max-out-len",
            )
        self.spec, self.mode, self.count_tokens = spec, mode, count_tokens
        infer, self.output = spec.infer, spec.reader.output_column
        for template in (infer.ice_template, infer.prompt_template):
            if template is not None:
                check_template(template)
        # what OpenCompass's Hugging Face tables hold: a short later row reads 'None'
        self.train, self.test = as_dataset_rows(train_rows), as_dataset_rows(test_rows)
        self.retrieved = retrieve(infer.retriever, len(self.train), len(self.test), train_name=spec.reader.train_split)
        self.labels: tuple[str, ...] = ()
        if mode == "ppl":
            self.labels = labels_for(infer, self.test, self.output)
        elif mode == "choice":
            self.labels = option_labels(infer, spec.reader)
        self._ice: dict[tuple[int, ...], Prompt] = {}

    def __len__(self) -> int:
        return len(self.test)

    def _ice_for(self, ids: tuple[int, ...]) -> Prompt:
        if ids not in self._ice:
            self._ice[ids] = render_ice(ids, self.train, self.spec.infer, self.output)
        return self._ice[ids]

    def _fit(self, ids: tuple[int, ...], render: Callable[[Prompt], Prompt]) -> tuple[tuple[int, ...], Prompt, bool]:
        """Drop examples from the end until ``render(ice)`` fits the budget."""
        prompt = render(self._ice_for(ids))
        if self.budget is None:
            return ids, prompt, False
        assert self.count_tokens is not None
        length = self.count_tokens(prompt)
        while ids and length > self.budget:
            ids = ids[:-1]
            prompt = render(self._ice_for(ids))
            length = self.count_tokens(prompt)
        return ids, prompt, length > self.budget

    def build(self, indices: Sequence[int] | None = None) -> list[QuestionPrompt]:
        """The prompts of these test rows (all rows by default), in the order given."""
        return [self._question(i) for i in (range(len(self.test)) if indices is None else indices)]

    def _question(self, index: int) -> QuestionPrompt:
        infer, output = self.spec.infer, self.output
        row, full_ids = self.test[index], self.retrieved[index]
        label_prompts: dict[str, Prompt] = {}
        label_ids: dict[str, tuple[int, ...]] = {}
        label_ice: dict[str, Prompt] = {}
        retrieved_ice: Prompt = ""
        if self.mode == "ppl":
            ids, over = full_ids, False
            retrieved_ice = self._ice_for(full_ids)
            for label in self.labels:
                ids, label_prompts[label], label_over = self._fit(ids, partial(_label_prompt, infer, row, label))
                label_ids[label] = ids
                label_ice[label] = self._ice_for(ids)
                over = over or label_over
            prompt = render_gen_prompt(infer, row, self._ice_for(ids), output)
        else:
            ids, prompt, over = self._fit(full_ids, lambda ice: render_gen_prompt(infer, row, ice, output))
            for label in self.labels:
                label_prompts[label] = render_choice_prompt(infer, row, self._ice_for(ids), label, output)
                label_ids[label] = ids
        return QuestionPrompt(
            index=index,
            ice_ids=ids,
            dropped=len(full_ids) - len(ids),
            prompt=prompt,
            gold=None if output is None else _gold(row, output),
            over_length=over,
            label_prompts=label_prompts,
            label_ice_ids=label_ids,
            label_ice=label_ice,
            retrieved_ice=retrieved_ice,
        )


def _label_prompt(infer: InferSpec, row: Mapping[str, Any], label: str, ice: Prompt) -> Prompt:
    return render_label_prompt(infer, row, ice, label)


def build_question_prompts(
    spec: DatasetSpec,
    train_rows: Sequence[Mapping[str, Any]],
    test_rows: Sequence[Mapping[str, Any]],
    *,
    mode: Mode,
    count_tokens: CountTokens | None = None,
    max_seq_len: int | None = None,
    reserve: int = 0,
    indices: Sequence[int] | None = None,
) -> list[QuestionPrompt]:
    """Render every test row's prompt for ``mode`` (or the rows in ``indices``), dropping examples that do not fit.

    A one-shot :class:`PromptBuilder`; its docstring explains the arguments.

    Example:
        >>> prompts = build_question_prompts(spec, splits["dev"], splits["val"], mode="gen")  # doctest: +SKIP
        >>> to_base_text(prompts[0].prompt).endswith("答案: ")  # doctest: +SKIP
        True
    """
    builder = PromptBuilder(spec, train_rows, test_rows, mode=mode, count_tokens=count_tokens,
                            max_seq_len=max_seq_len, reserve=reserve)
    return builder.build(indices)


def _gold(row: Mapping[str, Any], output: str) -> str | None:
    value = row.get(output)
    return None if value is None else str(value)
