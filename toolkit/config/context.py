"""gen-config's options, and the plain data each config template is rendered from.

Everything here is pure: dataset facts and options in, dicts of strings and lists out.
The import paths come from :mod:`toolkit.config.typemap`, the one table of the
OpenCompass classes we write and read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.config.facts import DatasetFacts
from toolkit.config.typemap import (
    DATASET_TYPES,
    EVALUATOR_TYPES,
    INFERENCER_TYPES,
    POSTPROCESSOR_TYPES,
    RETRIEVER_TYPES,
    TEMPLATE_TYPES,
    KnownType,
)
from toolkit.dataset.meta import LANGUAGES
from toolkit.errors import DataError, UsageError

SPLIT_CHOICES = {"val": ("val",), "test": ("test",), "both": ("val", "test")}
MODE_CHOICES = {"gen": ("gen",), "ppl": ("ppl",), "both": ("gen", "ppl")}
DEFAULT_SHOTS = 5


@dataclass(frozen=True)
class GenConfigOptions:
    """How to write the configs; the defaults reproduce OpenCompass's C-Eval configs."""

    language: str | None = None
    """``zh`` or ``en``; None: the dataset's (``dataset.json``), else ``zh``."""
    shots: int = DEFAULT_SHOTS
    """In-context examples: dev rows ``0..shots-1`` (FixKRetriever); 0 → ZeroRetriever."""
    hint: str | None = None
    """The instruction line; None: the language's default (see :mod:`toolkit.config.prompts`)."""
    prompt_template: Path | None = None
    """A jinja2 file rendering each subject's question prompt; None: toolkit's own."""
    split: str = "val"
    """``val``, ``test`` or ``both``: which split(s) the datasets evaluate."""
    mode: str = "both"
    """``gen``, ``ppl`` or ``both``: which config files to write."""
    abs_path: bool = False
    """Write the dataset folder's absolute path instead of a path relative to the CWD."""
    data_path: str | None = None
    """Write this data path instead (the folder on the machine that runs OpenCompass)."""
    name: str | None = None
    """The dataset name in file and variable names; None: ``dataset.json``'s, else the folder's."""

    def __post_init__(self) -> None:
        if self.language is not None and self.language not in LANGUAGES:
            raise UsageError(f"--language must be one of {', '.join(LANGUAGES)}, not {self.language!r}")
        if self.split not in SPLIT_CHOICES:
            raise UsageError(f"--split must be one of {', '.join(SPLIT_CHOICES)}, not {self.split!r}")
        if self.mode not in MODE_CHOICES:
            raise UsageError(f"--mode must be one of {', '.join(MODE_CHOICES)}, not {self.mode!r}")
        if self.shots < 0:
            raise UsageError(f"--shots must be 0 or more, not {self.shots}")
        if self.abs_path and self.data_path is not None:
            raise UsageError("--abs-path and --data-path exclude each other", hint="pass one of them")

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits evaluated, in the order the datasets list has them."""
        return SPLIT_CHOICES[self.split]

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes whose files are written."""
        return MODE_CHOICES[self.mode]


def check_rows(facts: DatasetFacts, options: GenConfigOptions) -> None:
    """DataError where OpenCompass would fail late: too few dev rows, or an empty evaluated split.

    Its reader indexes dev (the train split) and the evaluated split by name, and
    ``CEvalDataset`` creates a split only from rows, so an empty one is a KeyError at run
    time; FixKRetriever stops with an index error when dev has fewer rows than examples.
    """
    need = max(options.shots, 1)
    short = [f"{key} ({n['dev']})" for key, n in facts.rows.items() if n["dev"] < need]
    if short:
        fewest = min(n["dev"] for n in facts.rows.values())
        why = f"--shots {options.shots} needs {need} dev rows" if options.shots else "OpenCompass needs a dev row"
        raise DataError(
            f"{why} per subject; these have fewer: {', '.join(short)}",
            file=facts.root / "dev",
            hint="add dev rows" + (f", or pass --shots {fewest}" if fewest else ""),
        )
    for split in options.splits:
        empty = [key for key, n in facts.rows.items() if n[split] == 0]
        if empty:
            other = "val" if split == "test" else "test"
            raise DataError(
                f"the {split} split of {', '.join(empty)} has no rows: OpenCompass would stop with KeyError {split!r}",
                file=facts.root / split,
                hint=f"add {split} rows, or pass --split {other}",
            )


def abbr(name: str, subject: str, split: str) -> str:
    """OpenCompass's dataset abbreviation: ``ceval-law`` (val) or ``ceval-test-law``."""
    return f"{name}-{subject}" if split == "val" else f"{name}-test-{subject}"


def _imports(types: list[KnownType]) -> list[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for t in types:
        grouped.setdefault(t.module, []).append(t.name)
    return list(grouped.items())


def dataset_file_context(
    facts: DatasetFacts,
    options: GenConfigOptions,
    mode: str,
    prompts: Mapping[str, str],
    data_path: str,
) -> dict[str, Any]:
    """What ``dataset_<mode>.py.j2`` renders: one list entry per subject and split."""
    language = options.language or facts.language
    retriever = RETRIEVER_TYPES["FixKRetriever" if options.shots else "ZeroRetriever"]
    inferencer = INFERENCER_TYPES["GenInferencer" if mode == "gen" else "PPLInferencer"]
    evaluator = EVALUATOR_TYPES["AccEvaluator"]
    postprocessor: dict[str, Any] | None = None
    used = [TEMPLATE_TYPES["PromptTemplate"], retriever, inferencer, evaluator, DATASET_TYPES["CEvalDataset"]]
    if mode == "gen":
        # C-Eval's choice for zh (OpenCompass parity); MMLU's sturdier one for en.
        post = POSTPROCESSOR_TYPES["first_capital_postprocess" if language == "zh" else "first_option_postprocess"]
        kwargs = {} if language == "zh" else {"options": "".join(facts.letters)}
        postprocessor = {"name": post.name, "kwargs": kwargs}
        used.append(post)
    return {
        "name": facts.name,
        "mode": mode,
        "header": header_lines(facts, options, "dataset", mode),
        "imports": _imports(used),
        "mapping": [(s.key, s.as_list()) for s in facts.subjects],
        "prompts": [(s.key, prompts[s.key]) for s in facts.subjects],
        "splits": list(options.splits),
        "data_path": data_path,
        "input_columns": ["question", *facts.letters],
        "labels": list(facts.letters),
        "retriever": {"name": retriever.name, "fix_id_list": list(range(options.shots))},
        "inferencer": inferencer.name,
        "evaluator": evaluator.name,
        "postprocessor": postprocessor,
        "dataset_type": DATASET_TYPES["CEvalDataset"].name,
    }


GENERATED_MARK = "# Generated by `toolkit gen-config`"
"""How every generated file starts; gen-config overwrites only files that start so."""


def header_lines(facts: DatasetFacts, options: GenConfigOptions, kind: str, mode: str | None = None) -> list[str]:
    """The comment at the top of a generated file (no paths or dates: output is reproducible).

    ``kind`` is ``dataset`` (a hashed file), ``aggregator`` or ``summary``.
    """
    n = len(facts.subjects)
    what = f"{n} subject{'s' if n != 1 else ''}, split {options.split}"
    if mode is not None:
        what += f", {mode} mode, {options.shots}-shot"
    first = f"{GENERATED_MARK.removeprefix('# ')} for dataset {facts.name} ({what})."
    if kind == "dataset":
        return [
            first,
            "Regenerate it from the dataset rather than editing it. The name's suffix is OpenCompass's",
            "hash of the prompts; after an edit, check it with `toolkit gen-config --check FILE`.",
        ]
    if kind == "aggregator":
        run = f"--datasets {facts.name}_{mode}"
        return [first, f"Run it with `opencompass {run}` or `toolkit eval {run}`."]
    return [
        first,
        f"Import {facts.name}_summary_groups into a run config (inside `with read_base():`) and",
        f"pass it on: summarizer = dict(summary_groups={facts.name}_summary_groups).",
    ]
