"""What every phase of the GPU check shares: settings, the time budget, the data, the result being written.

**The budget.** The whole check must end within ``budget_s`` (450 s by default: 8 minutes less a
margin for the machine's Python start and the wheel install). The runs that give the issue's
numbers are *mandatory* (ours in three modes on every question, the limit, the out-of-memory and
worker checks); the rest is *optional* and sized to fit an allotment: the naive baselines and the
extra correctness runs take as many subjects as their allotment allows, estimated from the limit's
measured token rate, and the JSON says which subjects each used, the estimate and the time it took.
An optional step never eats into the time still reserved for the mandatory steps after it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_BUDGET_S = 450.0

ALLOT_S: Mapping[str, float] = {
    "1b.naive_choice": 20, "1b.naive_ppl": 12, "1b.naive_gen": 35, "1b.uncached": 30, "1b.batch_sizes": 15,
    "8b.naive_choice": 30, "8b.naive_ppl": 12, "8b.naive_gen": 25, "workers.in_turn": 60,
}
"""Seconds for each optional step at the default budget (scaled with ``--budget-s``)."""

RESERVE_S: Mapping[str, float] = {"oom": 25, "workers": 60, "8b": 110}
"""Seconds kept for the mandatory phases still to come (the 8B: build, warm-up, ours ×3, the limit)."""


@dataclass
class Budget:
    """The clock of the whole check."""

    seconds: float
    started: float = field(default_factory=time.perf_counter)
    still_to_come: list[str] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float:
        return self.seconds - self.elapsed()

    def allot(self, step: str) -> float:
        """This optional step's seconds: its share of the budget, less what the mandatory phases still to
        come need (never below 0)."""
        share = ALLOT_S.get(step.replace("smoke-", ""), 10.0) * self.seconds / DEFAULT_BUDGET_S
        reserve = sum(RESERVE_S.get(p.replace("smoke-", ""), 0.0) for p in self.still_to_come) * self.seconds / DEFAULT_BUDGET_S
        return max(0.0, min(share, self.left() - reserve))

    def can_start(self, phase: str) -> bool:
        """Whether a mandatory phase may still start: at least half the seconds reserved for it are left
        (a later model that cannot finish is skipped and said so, rather than cut off by the device's timeout)."""
        return self.left() >= 0.5 * RESERVE_S.get(phase.replace("smoke-", ""), 0.0) * self.seconds / DEFAULT_BUDGET_S

    def done(self, phase: str) -> None:
        if phase in self.still_to_come:
            self.still_to_come.remove(phase)


def spread_order(names: Sequence[str]) -> list[str]:
    """A fixed order that spreads over the config's subjects (which come grouped by category).

    Example:
        >>> spread_order(["a", "b", "c", "d", "e"])
        ['a', 'd', 'b', 'e', 'c']
    """
    n = len(names)
    step = next((s for s in (7, 5, 3, 2) if n % s and s < n), 1) if n > 2 else 1
    return [names[(k * step) % n] for k in range(n)] if math.gcd(step, n) == 1 else list(names)


def fit(names: Sequence[str], cost: Callable[[str], float], seconds: float) -> tuple[list[str], float]:
    """The longest run of ``names`` (in order) whose estimated cost fits in ``seconds``; at least one name.

    Example:
        >>> fit(["a", "b", "c"], {"a": 2.0, "b": 3.0, "c": 1.0}.get, 5.5)
        (['a', 'b'], 5.0)
    """
    chosen: list[str] = []
    total = 0.0
    for name in names:
        c = cost(name)
        if chosen and total + c > seconds:
            break
        chosen.append(name)
        total += c
    return chosen, total


@dataclass
class Context:
    """Settings and shared state of one check."""

    out: Path
    work: Path
    data_dir: Path
    tokenizer_dir: Path
    tokenizer: Any
    device: str
    dtype: Any
    smoke: bool
    budget: Budget
    subjects: list[str]
    settings: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    render: Callable[[Mapping[str, Any]], str] | None = None

    @property
    def cuda(self) -> bool:
        return self.device == "cuda"

    @property
    def pad(self) -> int:
        return int(self.tokenizer.pad_token_id)

    @property
    def eos(self) -> list[int]:
        return [int(self.tokenizer.eos_token_id)]

    def skip(self, what: str, why: str) -> None:
        self.result.setdefault("skipped", []).append({"what": what, "why": why})

    def error(self, phase: str, err: BaseException) -> None:
        self.result.setdefault("errors", []).append({"phase": phase, "error": f"{type(err).__name__}: {err}"[:2000]})

    def save(self) -> None:
        """Write ``gpu_check.json`` and ``gpu_check.md`` (temp file then rename: a run cut short leaves whole files)."""
        self.result["elapsed_s"] = round(self.budget.elapsed(), 1)
        _atomic(self.out / "gpu_check.json", json.dumps(self.result, ensure_ascii=False, indent=2) + "\n")
        if self.render is not None:
            _atomic(self.out / "gpu_check.md", self.render(self.result))


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def free_memory() -> None:
    """Give cached GPU memory back (between phases, before a memory cap)."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
