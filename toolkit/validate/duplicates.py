"""Exact and near-duplicate questions, and answer leaks, found by hashing (linear time).

A question is its stem *and* its options: C-Eval has many stems such as
"下列说法正确的是____" whose options differ, and those are different questions.

- exact: the question and the options, in order, are the same text (surrounding
  whitespace aside);
- near: the same after normalising (NFKC, case-folded, whitespace and punctuation
  removed) with the options in any order.

Each row's keys go into a dict, so the cost is one pass over the rows — no
pairwise comparison. A val or test row that exactly matches one of its own
subject's dev examples is an answer leak (E307, an error): the few-shot prompt
shows it solved. A near match is W313, a warning: the same question with shuffled
options is a leak, but "x-1" and "x1" also normalise alike, so a person decides.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

from toolkit.dataset.layout import SPLITS
from toolkit.validate.findings import Finding, make_finding
from toolkit.validate.split_file import SplitFile

_SEP = "\x1f"


@functools.lru_cache(maxsize=1)
def _drop_pattern() -> re.Pattern[str]:
    """Runs of whitespace or punctuation (Unicode categories Z*, P* and control whitespace), BMP only."""
    drop = [cp for cp in range(0x10000) if unicodedata.category(chr(cp))[0] in "PZ" or chr(cp).isspace()]
    ranges: list[tuple[int, int]] = []
    for cp in drop:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges) + "]+")


def normalise_text(text: str) -> str:
    """The text with case, width, whitespace and punctuation normalised away.

    Punctuation goes first, so NFKC (slow on CJK text) runs only where something
    else, such as a full-width letter, still needs it.

    Example:
        >>> normalise_text(" 下列说法，正确的是 ____。") == normalise_text("下列说法正确的是____")
        True
    """
    drop = _drop_pattern()
    text = drop.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = drop.sub("", unicodedata.normalize("NFKC", text))
    return text.casefold()


def _rows(f: SplitFile) -> Iterator[tuple[int, str, list[str]]]:
    """(kept index, question, options) for every row with a non-empty question."""
    questions = f.column("question")
    if questions is None:
        return
    options = [cells for letter in f.letters if (cells := f.column(letter)) is not None]
    for i, question in enumerate(questions):
        if question.strip():
            yield i, question, [cells[i] for cells in options]


def _keys(question: str, options: Sequence[str], near: bool) -> tuple[str, str | None]:
    exact = _SEP.join([question.strip(), *(o.strip() for o in options)])
    if not near:
        return exact, None
    # one normalisation call per row: NUL survives it (neither space nor punctuation) and splits the cells again
    cells = normalise_text("\0".join([question, *options])).split("\0")
    return exact, cells[0] + "\0\0" + "\0".join(sorted(cells[1:]))


Seen = tuple[SplitFile, int]


def duplicate_findings(files: Iterable[SplitFile], near: bool = True) -> list[Finding]:
    """W308/W309 for questions seen before (dev, then val, then test), E307/W313 for answer leaks.

    Every copy after the first is reported, pointing at the first.
    """
    ordered = sorted(files, key=lambda f: (SPLITS.index(f.split) if f.split in SPLITS else 9, str(f.path)))
    dev_keys: dict[tuple[str | None, str], Seen] = {}  # (subject, key) -> the dev example
    first: dict[str, Seen] = {}
    out: list[Finding] = []
    for f in ordered:
        for i, question, options in _rows(f):
            exact, fuzzy = _keys(question, options, near)
            keys = [(exact, False)] + ([(fuzzy, True)] if fuzzy is not None else [])
            if f.split == "dev":
                for key, _ in keys:
                    dev_keys.setdefault((f.subject, key), (f, i))
            elif f.split in ("val", "test"):
                leak = next(((dev_keys[(f.subject, k)], is_near) for k, is_near in keys if (f.subject, k) in dev_keys),
                            None)
                if leak is not None:
                    out.append(_report("W313" if leak[1] else "E307", f, i, question, leak[0], leak[1]))
                    continue
            earlier = next(((first[k], is_near) for k, is_near in keys if k in first), None)
            if earlier is not None:
                out.append(_report("W309" if earlier[1] else "W308", f, i, question, earlier[0], earlier[1]))
            for key, _ in keys:
                first.setdefault(key, (f, i))
    return out


def _report(code: str, f: SplitFile, i: int, question: str, seen: Seen, near: bool) -> Finding:
    other, j = seen
    where = "line" if other.path == f.path else f"{other.file} line"
    how = " (up to whitespace and punctuation)" if near else ""
    if code in ("E307", "W313"):
        message = f"also dev example at {where} {other.line(j)}{how}: the prompt shows the model this answer"
    else:
        message = f"same question as {where} {other.line(j)}{how}"
    return make_finding(code, f.file, message, line=f.line(i), column="question", value=question)
