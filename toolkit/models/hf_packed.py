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

from toolkit.models import packed_attention as pa

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
                start: int, *, keep: str, keep_kv: bool = False) -> tuple[torch.Tensor, pa.PackedContext]:
        """Rows (positions from ``start``) packed into one pass; logits [T, V] ("all") or [rows, V] ("last")."""
        segments, ids, pos = [], [], []
        for r in rows:
            segments.append((len(ids), len(ids) + len(r)))
            ids.extend(r)
            pos.extend(range(start, start + len(r)))
        ctx = pa.PackedContext(segments, prefix_layers, keep_kv=keep_kv)
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
        """True when packed passes over a prefix reproduce the plain forward pass's logits."""
        if not pa.register():
            return False
        gen = torch.Generator().manual_seed(0)
        seq = torch.randint(3, max(4, vocab - 1), (12,), generator=gen).tolist()
        prefix, rows = seq[:6], [seq[6:10], seq[6:8]]
        try:
            with torch.inference_mode():
                _, ctx = self.forward([prefix], None, 0, keep="last", keep_kv=True)
                logits, _ = self.forward(rows, ctx.new_kv, len(prefix), keep="all")
                plain = [self.model(input_ids=torch.tensor([prefix + r], device=self.device)).logits[0, len(prefix):]
                         for r in rows]
        except Exception:  # noqa: BLE001 - any failure means: keep the padded path
            return False
        got = [logits[0:4], logits[4:6]]
        scale = max(float(p.abs().max()) for p in plain) or 1.0
        return all(g.shape == p.shape and float((g.float() - p.float()).abs().max()) <= CHECK_TOLERANCE * scale
                   for g, p in zip(got, plain))


def padded_cache(prefix_layers: Sequence[tuple[torch.Tensor, torch.Tensor]] | None,
                 new_kv: Sequence[tuple[torch.Tensor, torch.Tensor]], segments: Sequence[tuple[int, int]],
                 width: int) -> Any:
    """A DynamicCache ``[rows, kv_heads, P + width, d]``: the prefix, then each row's keys left-padded."""
    from transformers import DynamicCache

    rows = len(segments)
    layers = []
    for i, (k, v) in enumerate(new_kv):
        shape = (rows, k.shape[1], width, k.shape[3])
        pk, pv = k.new_zeros(shape), v.new_zeros(shape)
        for r, (s, e) in enumerate(segments):
            pk[r, :, width - (e - s):] = k[0, :, s:e]
            pv[r, :, width - (e - s):] = v[0, :, s:e]
        if prefix_layers:
            p_k, p_v = prefix_layers[i]
            pk = torch.cat([p_k.expand(rows, -1, -1, -1), pk], dim=2)
            pv = torch.cat([p_v.expand(rows, -1, -1, -1), pv], dim=2)
        layers.append((pk, pv))
    return DynamicCache(ddp_cache_data=layers)
