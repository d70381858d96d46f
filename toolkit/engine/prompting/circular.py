"""CircularEval's rearranged questions, as pure functions: patterns, rotating a row, mapping an answer back.

The semantics are OpenCompass's (``opencompass/datasets/circular.py``): a *pattern* is a
tuple of option letters, one per option key, and applying it puts the text of option
``keys[i]`` under the letter ``pattern[i]``. Pattern ``BCDA`` on a row with options
``A=a, B=b, C=c, D=d`` gives ``A=d, B=a, C=b, D=c``, and a gold ``A`` becomes ``B``. The
``circular`` patterns are the cyclic shifts of the keys (``ABCD``, ``BCDA``, ``CDAB``,
``DABC``); ``all_possible`` is every permutation (24 for four options), identity first.

A dataset of N questions becomes N × V rows, question by question, each question's
variants in pattern order (row ``qid * V + p``), every row carrying OpenCompass's ``qid``
and ``circular_pattern`` columns. Only the test split is rearranged: the in-context
examples stay as written, so all variants of a subject share one few-shot prefix.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from toolkit.config.spec import MAX_CIRCULAR_VARIANTS, CircularKind, CircularSpec, DatasetSpec
from toolkit.errors import UsageError

Pattern = tuple[str, ...]
QID, PATTERN = "qid", "circular_pattern"
"""The columns every rearranged row gets (OpenCompass's names)."""
_LETTER = re.compile(r"[A-Z]")


def circular_patterns(keys: Sequence[str]) -> list[Pattern]:
    """The cyclic shifts of ``keys``, starting with ``keys`` itself (OpenCompass's ``get_circular_patterns``).

    Example:
        >>> ["".join(p) for p in circular_patterns("ABCD")]
        ['ABCD', 'BCDA', 'CDAB', 'DABC']
    """
    keys = tuple(keys)
    return [keys[i:] + keys[:i] for i in range(len(keys))]


def all_patterns(keys: Sequence[str]) -> list[Pattern]:
    """Every permutation of ``keys`` in lexicographic order of positions (``itertools.permutations``).

    Example:
        >>> ["".join(p) for p in all_patterns("ABC")]
        ['ABC', 'ACB', 'BAC', 'BCA', 'CAB', 'CBA']
    """
    return [tuple(p) for p in itertools.permutations(keys)]


def patterns_for(kind: CircularKind, keys: Sequence[str]) -> list[Pattern]:
    """The patterns of ``kind`` over ``keys``."""
    return list(_patterns(kind, tuple(keys)))


@lru_cache(maxsize=64)
def _patterns(kind: CircularKind, keys: Pattern) -> tuple[Pattern, ...]:
    return tuple(circular_patterns(keys) if kind == "circular" else all_patterns(keys))


def check_circular(spec: CircularSpec, abbr: str) -> None:
    """UsageError when ``spec`` cannot run: fewer than two option keys, a key twice, or too many variants."""
    keys = spec.option_keys
    if len(keys) < 2 or len(set(keys)) != len(keys):
        raise UsageError(f"{abbr}: circular evaluation needs two or more distinct option columns, not {list(keys)}",
                         hint="name the option columns A, B, C, … in reader_cfg.input_columns")
    if spec.variants > MAX_CIRCULAR_VARIANTS:
        raise UsageError(f"{abbr}: all permutations of {len(keys)} options are {spec.variants:,} variants per question",
                         hint=f"use circular ({len(keys)} rotations); all-perm stops at {MAX_CIRCULAR_VARIANTS} variants (6 options)")


def move_answer(answer: str, pattern: Pattern, keys: Sequence[str]) -> str:
    """Where the option ``answer`` names sits under ``pattern``; an answer that is no key stays as it is.

    Example:
        >>> move_answer("A", tuple("BCDA"), "ABCD"), move_answer("D", tuple("BCDA"), "ABCD"), move_answer("", tuple("BCDA"), "ABCD")
        ('B', 'A', '')
    """
    keys = tuple(keys)
    return pattern[keys.index(answer)] if answer in keys else answer


def map_back(letter: str, pattern: Pattern, keys: Sequence[str]) -> str:
    """The original option a letter shown under ``pattern`` stands for (the inverse of :func:`move_answer`).

    Anything that is not a shown letter (an empty or unparsable answer) is returned unchanged.

    Example:
        >>> map_back("B", tuple("BCDA"), "ABCD"), map_back("A", tuple("BCDA"), "ABCD"), map_back("?", tuple("BCDA"), "ABCD")
        ('A', 'D', '?')
    """
    return tuple(keys)[pattern.index(letter)] if letter in pattern else letter


def rotate_row(row: Mapping[str, Any], pattern: Pattern, keys: Sequence[str], answer_column: str | None,
               qid: int) -> dict[str, Any]:
    """One variant of a question row: each option's text under its new letter, the gold moved with it.

    The gold is compared without surrounding whitespace (as scoring compares it), so ``' D'`` moves too.

    Example:
        >>> rotate_row({"question": "q", "A": "a", "B": "b", "C": "c", "answer": "A"}, tuple("BCA"), "ABC", "answer", 7)
        {'question': 'q', 'A': 'c', 'B': 'a', 'C': 'b', 'answer': 'B', 'qid': 7, 'circular_pattern': 'BCA'}
    """
    out = dict(row)
    for key, letter in zip(keys, pattern):
        out[letter] = row.get(key)
    if answer_column is not None and row.get(answer_column) is not None:
        gold = str(row[answer_column])
        stripped = gold.strip()
        out[answer_column] = move_answer(stripped, pattern, keys) if stripped in keys else gold
    out[QID] = qid
    out[PATTERN] = "".join(pattern)
    return out


def circular_rows(rows: Sequence[Mapping[str, Any]], spec: CircularSpec,
                  answer_column: str | None) -> list[dict[str, Any]]:
    """Every question of ``rows`` once per pattern: row ``qid * V + p`` is question ``qid`` under pattern ``p``.

    Example:
        >>> out = circular_rows([{"A": "x", "B": "y", "answer": "B"}], CircularSpec("circular", ("A", "B")), "answer")
        >>> [(r["A"], r["B"], r["answer"], r["circular_pattern"]) for r in out]
        [('x', 'y', 'B', 'AB'), ('y', 'x', 'A', 'BA')]
    """
    patterns = patterns_for(spec.patterns, spec.option_keys)
    return [rotate_row(row, p, spec.option_keys, answer_column, qid) for qid, row in enumerate(rows) for p in patterns]


def variant_of(index: int, spec: CircularSpec) -> tuple[int, str]:
    """The question and the pattern of rearranged row ``index``.

    Example:
        >>> variant_of(6, CircularSpec())
        (1, 'CDAB')
    """
    qid, p = divmod(index, spec.variants)
    return qid, "".join(_patterns(spec.patterns, spec.option_keys)[p])


def option_columns(dataset: DatasetSpec) -> tuple[str, ...]:
    """The option columns a dataset's prompts read: its input columns named by one capital letter.

    Example:
        >>> from toolkit.config.spec import ReaderSpec
        >>> option_columns(DatasetSpec("x", "ceval", "p", "n", ReaderSpec(("question", "A", "B", "C"), "answer"), None, None, "v"))
        ('A', 'B', 'C')
    """
    return tuple(c for c in dataset.reader.input_columns if _LETTER.fullmatch(c))


def make_circular(datasets: Sequence[DatasetSpec], kind: CircularKind) -> tuple[DatasetSpec, ...]:
    """``toolkit eval --circular``: every dataset asked in every arrangement of its option columns.

    A dataset whose config already makes it circular keeps its own rearrangement when it is
    the same kind; another kind is a UsageError (the config and the flag disagree).
    """
    out = []
    for ds in datasets:
        if ds.circular is not None:
            if ds.circular.patterns != kind:
                raise UsageError(f"{ds.abbr} is already circular ({ds.circular.patterns}) in {ds.source or 'its config'}",
                                 hint=f"drop --circular, or use a plain config with --circular {_FLAG[kind]}")
            out.append(ds)
            continue
        keys = option_columns(ds)
        spec = CircularSpec(kind, keys)
        check_circular(spec, ds.abbr)
        out.append(replace(ds, circular=spec, evaluation=replace(ds.evaluation, evaluator="circular")))
    return tuple(out)


_FLAG: dict[CircularKind, str] = {"circular": "circular", "all_possible": "all-perm"}
