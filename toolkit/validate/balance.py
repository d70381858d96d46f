"""Answer-letter balance: is one letter the answer far more often than chance allows?

For ``n`` answered questions with ``k`` options, each letter's count is, if the
author placed answers at random, Binomial(n, 1/k). We compute the exact upper
tail P(X >= count) in log space with :func:`math.lgamma` (no SciPy: it is not a
declared dependency and one function does not justify one) and correct for
testing ``k`` letters and for the number of files tested (Bonferroni). Files
under ``min_questions`` answered questions are skipped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from toolkit.validate.findings import Finding, make_finding
from toolkit.validate.row_checks import normalise_answer
from toolkit.validate.split_file import SplitFile


def binomial_tail(count: int, n: int, p: float) -> float:
    """P(X >= count) for X ~ Binomial(n, p), exact to floating-point precision.

    Example:
        >>> round(binomial_tail(8, 10, 0.5), 6)  # (45 + 10 + 1) / 1024
        0.054688
    """
    if count <= 0:
        return 1.0
    if count > n:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    terms: list[float] = []
    top = -math.inf
    for i in range(count, n + 1):
        term = base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        terms.append(term)
        top = max(top, term)
        if i > n * p and term < top - 40:  # past the mode the terms only shrink: the rest is < 1e-17
            break
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def imbalance(answers: Sequence[str], letters: Sequence[str]) -> tuple[str, int, float] | None:
    """The most frequent letter, its count and the Bonferroni-corrected p-value; None if no answers."""
    counts = Counter(a for a in answers if a in letters)
    n = sum(counts.values())
    if not n:
        return None
    letter, count = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    p_value = min(1.0, len(letters) * binomial_tail(count, n, 1 / len(letters)))
    return letter, count, p_value


def _answers(f: SplitFile) -> list[str]:
    cells = f.column("answer") or []
    return [a for a in (normalise_answer(c, f.letters) for c in cells) if a is not None]


def balance_findings(files: Sequence[SplitFile], min_questions: int = 20, alpha: float = 0.01) -> list[Finding]:
    """W310 for each file, and each split pooled over several files, whose answers are skewed.

    The p-value is corrected for the letters and for the number of groups tested, so
    that a bank of 400 subjects does not raise a few warnings by chance alone.
    """
    groups: list[tuple[str, list[SplitFile]]] = [("", [f]) for f in files]
    for split in sorted({f.split for f in files}):
        same = [f for f in files if f.split == split]
        if len(same) > 1:
            groups.append((f"all {len(same)} {split} files: ", same))
    tested: list[tuple[str, list[SplitFile], int, tuple[str, int, float]]] = []
    for label, group in groups:
        letters = max((f.letters for f in group), key=len)
        answers = [a for f in group for a in _answers(f)]
        found = imbalance(answers, letters) if len(answers) >= min_questions else None
        if found is not None:
            tested.append((label, group, len(answers), found))
    out: list[Finding] = []
    for label, group, n, (letter, count, p_value) in tested:
        p_value = min(1.0, p_value * len(tested))
        if p_value >= alpha:
            continue
        expected = n / len(group[0].letters or "ABCD")
        message = (f"{label}answer {letter} is {count} of {n} (chance: about {expected:.0f}; p = {p_value:.1g} "
                   f"after correcting for {len(tested)} test{'s' * (len(tested) > 1)})")
        file = group[0].file if len(group) == 1 else str(group[0].path.parent.parent)
        out.append(make_finding("W310", file, message, column="answer", value=letter))
    return out
