"""The compute bound: the FLOPs the questions need ÷ this machine's own GEMM throughput.

    python bench/compute_bound.py --requests requests.json --out bound.json [--threads 1]

* **FLOPs** of the unique tokens, per mode, from the requests our engine makes
  (``requests_export.py``): every distinct token prefix counted once (a perfect prefix
  cache: each subject's few-shot block once, each question's own tokens once), and for
  each such token the matrix products of a decoder layer (``2 × weights``), attention
  over its context (``4 × heads × head_dim × position``, causal), and the LM head where
  the mode needs logits (choice and gen: each question's last position, plus one decode
  step per generated token after the first; ppl: every position, for the label losses).
* **Throughput**: fp32 (and bf16) ``torch.mm`` at ``--threads``, on the model's own
  linear shapes with 512 tokens and on a 2048³ product; the best rate is the bound's
  rate, so the bound is optimistic: no engine does better on this machine.

The bound is ``FLOPs ÷ rate``; an engine's ratio is its inference CPU time ÷ the bound.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Shape:
    """The numbers of a decoder-only transformer that set its FLOPs."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Shape:
        heads = int(cfg["num_attention_heads"])
        return cls(int(cfg["num_hidden_layers"]), int(cfg["hidden_size"]), heads,
                   int(cfg.get("num_key_value_heads") or heads), int(cfg.get("head_dim") or cfg["hidden_size"] // heads),
                   int(cfg["intermediate_size"]), int(cfg["vocab_size"]))

    def linear_flops(self) -> int:
        """Per token, all layers: q, k, v, o and the gated MLP (2 FLOPs per weight)."""
        q = self.hidden * self.heads * self.head_dim
        kv = 2 * self.hidden * self.kv_heads * self.head_dim
        mlp = 3 * self.hidden * self.intermediate
        return 2 * self.layers * (2 * q + kv + mlp)

    def attention_flops(self, context: int) -> int:
        """Per token that attends to ``context`` positions (itself included), all layers: QKᵀ and AV."""
        return 4 * self.layers * self.heads * self.head_dim * context

    def head_flops(self) -> int:
        """The LM head at one position."""
        return 2 * self.hidden * self.vocab

    def gemm_shapes(self, tokens: int) -> list[tuple[int, int, int]]:
        """(M, K, N) of one layer's products for ``tokens`` rows."""
        h, q, kv = self.hidden, self.heads * self.head_dim, self.kv_heads * self.head_dim
        return [(tokens, h, q), (tokens, h, kv), (tokens, h, kv), (tokens, q, h), (tokens, h, self.intermediate),
                (tokens, h, self.intermediate), (tokens, self.intermediate, h)]


def unique_positions(seqs: Sequence[Sequence[int]]) -> tuple[int, int]:
    """Distinct token prefixes of ``seqs`` (a trie's nodes) and the sum of their positions (1-based).

    Example:
        >>> unique_positions([(1, 2, 3), (1, 2, 4), (5,)])
        (5, 10)
    """
    ordered = sorted(tuple(s) for s in seqs)
    count = total = 0
    prev: tuple[int, ...] = ()
    for s in ordered:
        shared = 0
        while shared < min(len(s), len(prev)) and s[shared] == prev[shared]:
            shared += 1
        count += len(s) - shared
        total += sum(range(shared + 1, len(s) + 1))
        prev = s
    return count, total


def mode_flops(shape: Shape, rows: Sequence[Mapping[str, Any]], mode: str,
               generated: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Unique tokens and FLOPs of one mode's requests (``rows`` as ``requests_export.py`` writes them)."""
    by_group: dict[str, list[Sequence[int]]] = {}
    extra_tokens = extra_context = 0
    for row in rows:
        seq = row["tokens"] if mode == "gen" else row["prefix"]
        by_group.setdefault(row["group"], []).append(seq)
        if mode == "gen" and generated:
            steps = max(0, generated.get(row["key"], 1) - 1)  # the first token comes from the prompt's logits
            extra_tokens += steps
            extra_context += sum(len(seq) + 1 + i for i in range(steps))
    tokens = positions = 0
    for seqs in by_group.values():
        n, pos = unique_positions(seqs)
        tokens, positions = tokens + n, positions + pos
    tokens, positions = tokens + extra_tokens, positions + extra_context
    heads = tokens if mode == "ppl" else len(rows) + extra_tokens
    flops = {"linear": shape.linear_flops() * tokens, "attention": shape.attention_flops(1) * positions,
             "lm_head": shape.head_flops() * heads}
    return {"questions": len(rows), "unique_tokens": tokens, "flops": flops, "total_flops": sum(flops.values())}


def gemm_rate(shape: Shape, dtype: str, *, tokens: int = 512, repeats: int = 5) -> dict[str, float]:
    """GFLOP/s of ``torch.mm`` at this process's thread count: model-shaped and 2048³."""
    import torch

    dt = getattr(torch, dtype)

    def rate(shapes: list[tuple[int, int, int]]) -> float:
        mats = [(torch.randn(m, k).to(dt), torch.randn(k, n).to(dt)) for m, k, n in shapes]
        for a, b in mats:
            a @ b  # warm-up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for a, b in mats:
                a @ b
            best = min(best, time.perf_counter() - start)
        return sum(2 * m * k * n for m, k, n in shapes) / best / 1e9

    return {"model_shapes": round(rate(shape.gemm_shapes(tokens)), 1), "square_2048": round(rate([(2048,) * 3]), 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--generated", type=Path, help="JSON key → tokens our gen run generated (default: 1 each)")
    p.add_argument("--dtypes", default="float32,bfloat16")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    requests = json.loads(args.requests.read_text(encoding="utf-8"))
    cfg = json.loads((Path(requests["model"]) / "config.json").read_text(encoding="utf-8"))
    shape = Shape.from_config(cfg)
    generated = json.loads(args.generated.read_text(encoding="utf-8")) if args.generated else None
    rates = {dt: gemm_rate(shape, dt) for dt in args.dtypes.split(",")}
    modes = {}
    for mode in ("choice", "gen", "ppl"):
        if requests.get(mode):
            m = mode_flops(shape, requests[mode], mode, generated)
            m["bound_seconds"] = {dt: round(m["total_flops"] / (max(r.values()) * 1e9), 2) for dt, r in rates.items()}
            modes[mode] = m
    result = {"threads": args.threads, "torch": torch.__version__, "shape": shape.__dict__,
              "gemm_gflops": rates, "modes": modes}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
