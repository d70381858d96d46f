"""Sizing batches to the memory there is, and surviving an out-of-memory error.

The batch planner packs rows by a *token budget* (rows × padded length) and a
*KV budget* (rows × (prefix + length)); this module turns free memory into those
budgets. ``--batch-size`` caps the number of rows; the budgets decide the rest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import torch

CPU_TOKEN_BUDGET = 4096
"""On a CPU, bigger batches stop paying off early; this keeps memory modest too."""


@dataclass(frozen=True)
class Budget:
    """Limits for one batch."""

    max_batch: int
    token_budget: int
    kv_budget: int
    halvings: int = 0
    """Out-of-memory errors survived so far (each halved the budget)."""

    def halved(self) -> Budget:
        """The budget after an out-of-memory error."""
        return Budget(max(1, self.max_batch // 2), max(1, self.token_budget // 2), max(1, self.kv_budget // 2),
                      self.halvings + 1)

    def for_rows(self, rows: int | None) -> Budget:
        """This budget for a call that allows ``rows`` rows a batch (a dataset's ``batch_size``; None:
        the model's own), halved as often as this one was.

        Example:
            >>> Budget(8, 4096, 8192).halved().for_rows(16).max_batch
            8
        """
        return self if rows is None else replace(self, max_batch=max(1, rows >> self.halvings))


def is_oom(err: BaseException) -> bool:
    """True for CUDA (or other device) out-of-memory errors."""
    if isinstance(err, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def free_memory_bytes(device: torch.device) -> int:
    """Free memory on ``device`` (GPU: what CUDA reports; CPU: MemAvailable)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * 1024**3


def kv_bytes_per_token(config: Any, dtype: torch.dtype) -> int:
    """Bytes of key/value cache one token costs across all layers."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    layers = int(getattr(text, "num_hidden_layers", 32))
    heads = int(getattr(text, "num_attention_heads", 32))
    kv_heads = int(getattr(text, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(text, "head_dim", None) or getattr(text, "hidden_size", 4096) // heads)
    itemsize = torch.tensor([], dtype=dtype).element_size()
    return 2 * layers * kv_heads * head_dim * itemsize


def plan_budget(config: Any, device: torch.device, dtype: torch.dtype, *, max_batch: int,
                full_logits: bool, token_budget: int | None = None) -> Budget:
    """Derive a batch budget from free memory (or use the given ``token_budget``)."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    vocab = int(getattr(text, "vocab_size", 32000))
    hidden = int(getattr(text, "hidden_size", 4096))
    itemsize = torch.tensor([], dtype=dtype).element_size()
    kv_tok = kv_bytes_per_token(config, dtype)
    # activations of one new token: a few hidden-size buffers plus the MLP (~4x); logits in float32 twice.
    act_tok = hidden * itemsize * 24 + (vocab * 4 * 3 if full_logits else 0) + kv_tok
    free = free_memory_bytes(device)
    env = os.environ.get("TOOLKIT_TOKEN_BUDGET")
    if token_budget is None and env:
        token_budget = int(env)
    if token_budget is None:
        usable = free * (0.45 if device.type == "cuda" else 0.25)
        token_budget = max(256, int(usable // act_tok))
        if device.type != "cuda":
            token_budget = min(token_budget, CPU_TOKEN_BUDGET)
    kv_budget = max(token_budget, int(free * (0.35 if device.type == "cuda" else 0.2) // max(kv_tok, 1)))
    return Budget(max(1, max_batch), token_budget, kv_budget)
