"""Packed forward passes on top of a cached prefix (see :mod:`toolkit.models.packed_attention`).

The rows of a batch go through the model as one sequence with no padding: every
linear layer computes only real tokens, and the prefix's keys and values are read
where they are (one ``[1, kv_heads, P, d]`` tensor per layer) instead of being copied
into a ``[rows, …, P + L]`` cache. Logits are computed only where they are needed.

Used when the model passes :func:`PackedForward.check` at load: a few random tokens
through the packed path must give the plain forward pass's logits. A model whose
attention does not go through transformers' attention interface, or whose layers do
something else with positions, fails the check and keeps the padded path.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import torch

import toolkit.models.packed_attention as pa

CHECK_TOLERANCE = 1e-3
"""Largest logit difference (relative to the logits' scale) the self-check accepts."""


class PackedForward:
    """Packed rows over a prefix, for one loaded model."""

    def __init__(self, model: Any, cache_kw: str) -> None:
        self.model = model
        self.device = next(model.parameters()).device
        self.cache_kw = cache_kw

    @contextmanager
    def _implementation(self) -> Any:
        config = self.model.config
        saved = config._attn_implementation
        config._attn_implementation = pa.NAME
        try:
            yield
        finally:
            config._attn_implementation = saved

    def forward(self, rows: Sequence[Sequence[int]], prefix_layers: Sequence[tuple[torch.Tensor, torch.Tensor]] | None,
                start: int | Sequence[int], *, keep: str, keep_kv: bool = False,
                row_past: Sequence[Sequence[tuple[torch.Tensor, torch.Tensor]]] | None = None,
                ) -> tuple[torch.Tensor, pa.PackedContext]:
        """Rows (positions from ``start``, one per row or one for all) packed into one pass; logits [T, V]
        ("all") or [rows, V] ("last")."""
        starts = [start] * len(rows) if isinstance(start, int) else list(start)
        segments: list[tuple[int, int]] = []
        ids: list[int] = []
        pos: list[int] = []
        for r, first in zip(rows, starts):
            segments.append((len(ids), len(ids) + len(r)))
            ids.extend(r)
            pos.extend(range(first, first + len(r)))
        ctx = pa.PackedContext(segments, prefix_layers, keep_kv=keep_kv, row_past=row_past)
        kwargs: dict[str, Any] = {
            "input_ids": torch.tensor([ids], dtype=torch.long, device=self.device),
            "position_ids": torch.tensor([pos], dtype=torch.long, device=self.device),
            "use_cache": False,
            pa.KWARG: ctx,
        }
        if keep == "last":
            kwargs["logits_to_keep"] = torch.tensor([e - 1 for _, e in segments], dtype=torch.long, device=self.device)
        with self._implementation():
            logits = self.model(**kwargs).logits[0]
        return logits, ctx

    def check(self, vocab: int) -> bool:
        """True when packed passes over a prefix, and a generation step after them, reproduce the plain
        forward pass's logits."""
        if not pa.register():
            return False
        gen = torch.Generator().manual_seed(0)
        seq = torch.randint(3, max(4, vocab - 1), (14,), generator=gen).tolist()
        prefix, rows, nxt = seq[:6], [seq[6:10], seq[6:8]], [seq[12], seq[13]]
        try:
            with torch.inference_mode():
                _, ctx = self.forward([prefix], None, 0, keep="last", keep_kv=True)
                logits, rows_ctx = self.forward(rows, ctx.new_kv, len(prefix), keep="all", keep_kv=True)
                state = PackedRows(ctx.new_kv, rows_ctx.new_kv, rows_ctx.segments)
                stepped, _ = self.forward([[t] for t in nxt], ctx.new_kv, [len(prefix) + len(r) for r in rows],
                                          keep="last", row_past=state.rows)
                plain = [self.model(input_ids=torch.tensor([prefix + r + [t]], device=self.device)).logits[0, len(prefix):]
                         for r, t in zip(rows, nxt)]
        except Exception:  # noqa: BLE001 - any failure means: keep the padded path
            return False
        got = [torch.cat([logits[0:4], stepped[0:1]]), torch.cat([logits[4:6], stepped[1:2]])]
        scale = max(float(p.abs().max()) for p in plain) or 1.0
        return all(g.shape == p.shape and float((g.float() - p.float()).abs().max()) <= CHECK_TOLERANCE * scale
                   for g, p in zip(got, plain))


class PackedRows:
    """A generation batch's own keys and values, per layer and row, next to the shared prefix's."""

    def __init__(self, prefix: Sequence[tuple[torch.Tensor, torch.Tensor]] | None,
                 new_kv: Sequence[tuple[torch.Tensor, torch.Tensor]], segments: Sequence[tuple[int, int]]) -> None:
        self.prefix = prefix
        self.rows = [[(k[:, :, s:e], v[:, :, s:e]) for s, e in segments] for k, v in new_kv]

    def append(self, new_kv: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Add one step's keys and values (row i's at packed position i)."""
        self.rows = [[(torch.cat([pk, k[:, :, i:i + 1]], dim=2), torch.cat([pv, v[:, :, i:i + 1]], dim=2))
                      for i, (pk, pv) in enumerate(layer)] for layer, (k, v) in zip(self.rows, new_kv)]

    def select(self, keep: Sequence[int]) -> None:
        """Keep only these rows (finished ones leave the batch)."""
        self.rows = [[layer[i] for i in keep] for layer in self.rows]
