"""Retrievers and the assembly of in-context examples (OpenCompass's ``BaseRetriever``).

``ZeroRetriever`` gives every question no examples; ``FixKRetriever`` gives every
question the same dev rows (``fix_id_list``). The examples are rendered with the
``ice_template`` and joined: for a meta template with nothing between them (the
round structure separates them), otherwise with ``ice_separator`` between examples
and ``ice_eos_token`` after the last: ``"\\n"`` each by default, which is where the
PPL configs' three newlines between examples and five before the question come from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from toolkit.config.spec import InferSpec, PromptTemplateSpec, ReaderSpec, RetrieverSpec
from toolkit.engine.prompting.prompt_list import Prompt, PromptList
from toolkit.engine.prompting.template import is_meta, render_gen_item, render_ice_item, render_label_item
from toolkit.errors import ConfigError, DataError

Row = Mapping[str, Any]
_OPTION_LETTER = re.compile(r"[A-Z]")


def retrieve(retriever: RetrieverSpec, n_train: int, n_test: int, *, train_name: str = "dev") -> list[tuple[int, ...]]:
    """The example ids (rows of the train split) for each of ``n_test`` questions.

    Example:
        >>> retrieve(RetrieverSpec("fixk", (0, 1)), n_train=5, n_test=2)
        [(0, 1), (0, 1)]
    """
    if retriever.kind == "zero":
        return [()] * n_test
    for i in retriever.fix_id_list:
        if not 0 <= i < n_train:
            raise DataError(
                f"the {train_name} split has {n_train} rows, but fix_id_list asks for row {i}",
                hint=f"add rows to the {train_name} split or shorten fix_id_list",
            )
    return [tuple(retriever.fix_id_list)] * n_test


def ice_separators(retriever: RetrieverSpec) -> tuple[str, str]:
    """``(ice_separator, ice_eos_token)`` as the retriever class applies them.

    ``ZeroRetriever`` takes no separator; its end token is the spec's (the config
    loader fills in OpenCompass's default, ``""``, when the config gives none).
    """
    if retriever.kind == "zero":
        return "", retriever.ice_eos_token
    return retriever.ice_separator, retriever.ice_eos_token


def render_ice(
    ids: Sequence[int],
    train_rows: Sequence[Row],
    infer: InferSpec,
    output_column: str | None,
) -> Prompt:
    """The in-context examples for one question, ready to replace the ``ice_token``.

    With no examples this is just the end token (``""`` for a meta template), a
    string; with examples from a meta template it is a :class:`PromptList`.
    """
    template = infer.ice_template
    if template is None:
        if ids:
            raise ConfigError(
                "the retriever selects in-context examples but the config has no ice_template",
                hint="add an ice_template or use ZeroRetriever",
            )
        return ""
    sep, eos = ("", "") if is_meta(template.template) else ice_separators(infer.retriever)
    items = [render_ice_item(template, train_rows[i], _example_label(template, train_rows, i, output_column)) for i in ids]
    if items and isinstance(items[0], PromptList):
        ice = PromptList()
        for item in items:
            ice += item + sep  # adding "" adds nothing; the end token below is always appended
        ice.append(eos)
        return ice
    texts = [item for item in items if isinstance(item, str)]
    if len(texts) != len(items):
        raise ConfigError("the ice_template mixes string and meta-dict bodies", hint="use one kind for every label")
    return sep.join(texts) + eos


def _example_label(template: PromptTemplateSpec, rows: Sequence[Row], i: int, output_column: str | None) -> Any:
    """The example's answer, which picks the body of a label-keyed template."""
    label = rows[i].get(output_column) if output_column is not None else None
    if template.is_label_keyed and label not in template.template:
        labels = ", ".join(repr(k) for k in template.template)
        raise DataError(
            f"in-context example row {i}: answer {label!r} is not one of the template's labels ({labels})",
            hint="fix that answer cell in the dev split (e.g. ' D' -> 'D')",
        )
    return label


def final_template(infer: InferSpec) -> PromptTemplateSpec:
    """The template that renders the question: ``prompt_template`` if any, else ``ice_template``.

    When examples are involved that template must carry the ``ice_token`` saying
    where they go (OpenCompass raises NotImplementedError otherwise).
    """
    if infer.prompt_template is not None and infer.ice_template is not None:
        if infer.prompt_template.ice_token is None:
            raise ConfigError("prompt_template has no ice_token", hint="set ice_token='</E>' and put '</E>' in its template")
        return infer.prompt_template
    if infer.ice_template is not None:
        if infer.ice_template.ice_token is None:
            raise ConfigError("ice_template has no ice_token", hint="set ice_token='</E>' and put '</E>' in its template")
        return infer.ice_template
    if infer.prompt_template is not None:
        return infer.prompt_template
    raise ConfigError("infer_cfg has neither an ice_template nor a prompt_template", hint="add a prompt_template")


def render_gen_prompt(infer: InferSpec, row: Row, ice: Prompt, output_column: str | None) -> Prompt:
    """The prompt a generating model completes: examples, then the question with its answer blank."""
    return render_gen_item(final_template(infer), row, ice, output_column)


def render_label_prompt(infer: InferSpec, row: Row, ice: Prompt, label: str) -> Prompt:
    """The prompt for one candidate label (PPL): the template keyed by ``label``, or the one template."""
    return render_label_item(final_template(infer), row, ice, label)


def render_choice_prompt(infer: InferSpec, row: Row, ice: Prompt, label: str, output_column: str | None) -> Prompt:
    """A candidate for choice scoring: the question with its answer column set to ``label``.

    For the C-Eval gen template and a base model this is the gen prompt + ``"\\n" + label``.
    """
    if output_column is not None:
        row = {**row, output_column: label}
    return render_label_item(final_template(infer), row, ice, label)


def labels_for(infer: InferSpec, test_rows: Sequence[Row], output_column: str | None) -> tuple[str, ...]:
    """The candidate labels of a PPL run, in the order they are scored.

    The inferencer's ``labels`` if given; else a label-keyed template's keys
    (``prompt_template`` first, as OpenCompass's ``get_labels``); else the distinct
    gold answers, sorted (OpenCompass takes a ``set``, whose order varies by run).
    """
    if infer.inferencer.labels is not None:
        return tuple(infer.inferencer.labels)
    prompt, ice = infer.prompt_template, infer.ice_template
    # OpenCompass also takes the keys of a meta dict ('begin', 'round') here: a bug, not followed.
    if prompt is not None and prompt.is_label_keyed:
        return tuple(prompt.template)
    if ice is not None and ice.ice_token is not None and ice.is_label_keyed:
        return tuple(ice.template)
    if output_column is None:
        raise ConfigError("a PPL run needs labels: none in the inferencer, the template or an output column")
    return tuple(sorted({str(row.get(output_column)) for row in test_rows}))


def option_labels(infer: InferSpec, reader: ReaderSpec) -> tuple[str, ...]:
    """The options a choice run compares: the inferencer's labels, else the input columns named by one capital letter.

    Example:
        >>> from toolkit.config.spec import InferencerSpec
        >>> infer = InferSpec(RetrieverSpec(), InferencerSpec("choice"))
        >>> option_labels(infer, ReaderSpec(("question", "A", "B", "C", "D"), "answer"))
        ('A', 'B', 'C', 'D')
    """
    if infer.inferencer.labels is not None:
        return tuple(infer.inferencer.labels)
    letters = tuple(c for c in reader.input_columns if _OPTION_LETTER.fullmatch(c))
    if not letters:
        raise ConfigError(
            "choice mode needs option columns named by single capital letters (A, B, ...)",
            hint="name the option columns A, B, C, ... in reader_cfg.input_columns, or set the inferencer's labels",
        )
    return letters
