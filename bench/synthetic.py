"""Synthetic question banks of any size, in the C-Eval layout, for scale benchmarks.

Short arithmetic questions in Chinese (``第17题：38加54等于多少？``) with four numeric
options; every subject has 5 dev rows (the few-shot examples) and its share of the
questions in ``val``; ``test`` holds a header only. Deterministic for a seed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from toolkit.dataset.textio import write_csv

HEADER = ("id", "question", "A", "B", "C", "D", "answer")


def _row(rng: random.Random, idx: int) -> list[str]:
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    right = a + b
    wrong = rng.sample([v for v in range(right - 9, right + 10) if v != right], 3)
    options = [right, *wrong]
    rng.shuffle(options)
    answer = "ABCD"[options.index(right)]
    return [str(idx), f"第{idx + 1}题：{a}加{b}等于多少？", *(str(o) for o in options), answer]


def subject_sizes(questions: int, subjects: int) -> list[int]:
    """Questions per subject, as even as possible.

    Example:
        >>> subject_sizes(10, 3)
        [4, 3, 3]
    """
    share, extra = divmod(questions, subjects)
    return [share + (1 if i < extra else 0) for i in range(subjects)]


def make_bank(root: Path, name: str, questions: int, subjects: int = 10, seed: int = 0) -> Path:
    """Write ``root/name`` with ``questions`` val questions over ``subjects`` subjects; returns the folder."""
    rng = random.Random(seed)
    folder = root / name
    mapping = {}
    for s, size in enumerate(subject_sizes(questions, subjects)):
        key = f"s{s:03d}"
        mapping[key] = [f"Arithmetic {s}", f"算术{s}", "STEM"]
        write_csv(folder / "dev" / f"{key}_dev.csv", HEADER, [_row(rng, i) for i in range(5)])
        write_csv(folder / "val" / f"{key}_val.csv", HEADER, [_row(rng, i) for i in range(size)])
        write_csv(folder / "test" / f"{key}_test.csv", HEADER, [])
    lines = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in mapping.items())
    (folder / "subject_mapping.json").write_text("{\n" + lines + "\n}\n", encoding="utf-8")
    return folder
