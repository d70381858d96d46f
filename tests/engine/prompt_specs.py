"""Dataset specs shaped like OpenCompass's stock C-Eval configs, built by hand for prompt tests.

``ceval_gen_5f30c7.py``: a meta ice_template (``begin='</E>'``, HUMAN question turn,
BOT ``{answer}``), FixKRetriever [0..4], GenInferencer. ``ceval_ppl_578f8d.py``: the
same turn, keyed by label with the label as the BOT turn, PPLInferencer.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from toolkit.config.spec import (
    DatasetSpec,
    EvalCfgSpec,
    InferencerKind,
    InferencerSpec,
    InferSpec,
    PromptTemplateSpec,
    ReaderSpec,
    RetrieverSpec,
)
from toolkit.engine.prompting.model_input import to_base_text
from toolkit.engine.prompting.prompt_list import Prompt

SEED_SUBJECT = "社会主义核心价值观"
FIVE_SHOT = RetrieverSpec("fixk", (0, 1, 2, 3, 4))
ZERO_SHOT = RetrieverSpec("zero", (), "", "")
"""``dict(type=ZeroRetriever)`` as the config loader reads it."""


def human_turn(chinese_name: str) -> str:
    """The C-Eval question turn for one subject."""
    return (
        f"以下是中国关于{chinese_name}考试的单项选择题，请选出其中的正确答案。\n"
        "{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\n答案: "
    )


def meta_round(chinese_name: str, answer: str = "{answer}") -> dict:
    """``dict(begin='</E>', round=[HUMAN question, BOT answer])``."""
    return {
        "begin": "</E>",
        "round": [{"role": "HUMAN", "prompt": human_turn(chinese_name)}, {"role": "BOT", "prompt": answer}],
    }


def dataset_spec(
    template: object,
    *,
    kind: InferencerKind = "gen",
    retriever: RetrieverSpec = FIVE_SHOT,
    output_column: str | None = "answer",
    prompt_template: PromptTemplateSpec | None = None,
    labels: tuple[str, ...] | None = None,
    name: str = "seed",
    sep_token: str | None = None,
) -> DatasetSpec:
    """A val-split dataset spec with ``template`` as its ice_template (``ice_token='</E>'``)."""
    return DatasetSpec(
        abbr=f"ceval-{name}",
        loader="ceval",
        path=".",
        name=name,
        reader=ReaderSpec(("question", "A", "B", "C", "D"), output_column, "dev", "val"),
        infer=InferSpec(
            retriever=retriever,
            inferencer=InferencerSpec(kind, labels=labels),
            ice_template=PromptTemplateSpec(template, ice_token="</E>", sep_token=sep_token),
            prompt_template=prompt_template,
        ),
        evaluation=EvalCfgSpec(pred_postprocessor="first_capital_postprocess"),
        version="000000",
    )


def gen_spec(chinese_name: str = SEED_SUBJECT, **kwargs: object) -> DatasetSpec:
    """As ``ceval_gen_5f30c7.py`` builds it for one subject."""
    return dataset_spec(meta_round(chinese_name), **kwargs)  # type: ignore[arg-type]


def ppl_spec(chinese_name: str = SEED_SUBJECT, **kwargs: object) -> DatasetSpec:
    """As ``ceval_ppl_578f8d.py`` builds it for one subject."""
    template = {label: meta_round(chinese_name, label) for label in "ABCD"}
    return dataset_spec(template, kind="ppl", **kwargs)  # type: ignore[arg-type]


def seed_layout(seed_csv: Path, root: Path, subject: str = "seed") -> Path:
    """The raw seed file placed as dev = val = test of ``subject`` under ``root``."""
    for split in ("dev", "val", "test"):
        (root / split).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed_csv, root / split / f"{subject}_{split}.csv")
    return root


def chars_as_tokens(prompt: Prompt) -> int:
    """A stand-in for the SmolLM2 tokenizer on Chinese text: ~1.6 tokens a character.

    On the seed bank it makes the same decision the real tokenizer made with
    ``max_seq_len=1024``: 5 examples (>= 692 characters, >= 1085 tokens) do not fit,
    4 (<= 627 characters, <= 1008 tokens) do.
    """
    return math.ceil(len(to_base_text(prompt)) * 1.6)
