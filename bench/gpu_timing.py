"""Timing on the device: a path's run (:class:`Timed`), the block timer that synchronises the GPU at both
ends and reads its peak memory, the warm-up and the per-step cost of ``model.generate``.

Every time in the GPU check is taken with the device synchronised before and after (CUDA kernels run
asynchronously: without it a timer measures how fast Python queues them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from gpu_models import Shape


@dataclass
class Timed:
    """One path's run: seconds, the work it did (padding not counted) and what it computed."""

    seconds: float = 0.0
    tokens: int = 0
    pairs: int = 0
    logit_rows: int = 0
    padded_tokens: int = 0
    """Tokens including padding (what the device computed)."""
    peak_bytes: int | None = None
    out: dict[str, Any] = field(default_factory=dict)
    """key → label NLLs (choice), label PPLs (ppl) or text (gen)."""

    def flops(self, shape: Shape) -> float:
        """Model FLOPs of the work done."""
        return shape.flops(self.tokens, self.pairs, self.logit_rows)


@contextmanager
def timed(result: Timed, device: torch.device) -> Iterator[None]:
    """Time the block into ``result`` (device synchronised at both ends; peak memory on a GPU)."""
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    yield
    if cuda:
        torch.cuda.synchronize(device)
        result.peak_bytes = int(torch.cuda.max_memory_allocated(device))
    result.seconds = time.perf_counter() - start



def warm_up(model: Any, pad: int) -> float:
    """One small forward and a short generate (kernel selection, cuBLAS handles): seconds taken."""
    device = next(model.parameters()).device
    result = Timed()
    with torch.inference_mode(), timed(result, device):
        ids = torch.full((4, 64), max(pad, 3), dtype=torch.long, device=device)
        model(input_ids=ids)
        model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=2,
                       min_new_tokens=2, pad_token_id=pad)
    return result.seconds


def decode_step_seconds(model: Any, pad: int, batch: int, context: int) -> float:
    """Seconds per greedy decoding step of ``model.generate`` at ``batch`` rows of ``context`` tokens
    (the difference between 9 and 1 new tokens, over 8): used to size the gen phases."""
    device = next(model.parameters()).device
    ids = torch.full((batch, context), max(pad, 3), dtype=torch.long, device=device)
    times = []
    for steps in (1, 9):
        result = Timed()
        with torch.inference_mode(), timed(result, device):
            model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=steps,
                           min_new_tokens=steps, pad_token_id=pad)
        times.append(result.seconds)
    return max(1e-4, (times[1] - times[0]) / 8)
