"""Attention for packed rows over a shared, cached prefix: no padding, no copies of the prefix.

The rows of a batch are packed into one sequence (``[q1 | q2 | q3]``, no padding), each
with its own position ids. Attention of a row's query splits in two parts, merged
exactly by their log-sum-exps:

* **over the prefix** — every row sees all of it, so no mask is needed and the grouped
  query heads of a key/value head fold into one long query block (``[kv_heads, groups ×
  tokens, dim]``): one flash-attention call per layer against the cached prefix, which is
  neither copied per row nor repeated per head;
* **over the row's own tokens** — causal, one call per row (small); in a generation step a
  row's one new token reads its row's own earlier keys and values (``row_past``) instead.

``out = o₁·e^{lse₁-lse} + o₂·e^{lse₂-lse}``, ``lse = logaddexp(lse₁, lse₂)``: the same
softmax as one attention over ``[prefix | own]``, up to float rounding.

It plugs into transformers as an attention implementation (``AttentionInterface``);
the prefix and the row layout travel in a :class:`PackedContext` passed as a model
keyword argument (transformers hands unknown keywords down to the attention function).
A call without the context falls back to SDPA, so the model stays usable as before.
CPU only (the kernel that returns the log-sum-exp is PyTorch's CPU flash attention); a
model on a GPU keeps the padded path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

NAME = "toolkit_packed"
KWARG = "toolkit_packed"
_flash = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu


@dataclass
class PackedContext:
    """What one packed forward pass needs besides the tokens."""

    segments: Sequence[tuple[int, int]]
    """(start, end) of each row in the packed sequence."""
    prefix: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None
    """Per layer the prefix's keys and values, [1, kv_heads, P, head_dim]; None: no prefix."""
    keep_kv: bool = False
    new_kv: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    """Per layer the packed tokens' own keys and values (when ``keep_kv``)."""
    row_past: Sequence[Sequence[tuple[torch.Tensor, torch.Tensor]]] | None = None
    """Per layer, per row: keys and values of the row's own earlier tokens (generation steps: each row
    then has exactly one new token)."""


def _attend(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, *, causal: bool,
            scale: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    """PyTorch's CPU flash attention, which also returns the log-sum-exp of each query's scores."""
    out, lse = _flash(query, key, value, 0.0, causal, attn_mask=None, scale=scale)
    return out, lse.float()


def packed_attention(ctx: PackedContext, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     layer: int, scale: float | None) -> torch.Tensor:
    """Query [1, H, T, d], key/value [1, KV, T, d] (own tokens, after RoPE) → output [1, T, H, d]."""
    heads, kv_heads = query.shape[1], key.shape[1]
    groups = heads // kv_heads
    tokens, dim = query.shape[2], query.shape[3]
    if ctx.keep_kv:
        ctx.new_kv.append((key, value))
    outs, lses = [], []
    if ctx.row_past is not None:  # one new token per row: it sees all of its row, so the heads fold
        for r, (start, end) in enumerate(ctx.segments):
            pk, pv = ctx.row_past[layer][r]
            q = query[:, :, start:end].reshape(1, kv_heads, groups * (end - start), dim)
            o, lse = _attend(q, torch.cat([pk, key[:, :, start:end]], dim=2), torch.cat([pv, value[:, :, start:end]], dim=2),
                             causal=False, scale=scale)
            outs.append(o.reshape(1, heads, end - start, dim))
            lses.append(lse.reshape(1, heads, end - start))
    else:
        own_key = key.repeat_interleave(groups, dim=1) if groups > 1 else key
        own_value = value.repeat_interleave(groups, dim=1) if groups > 1 else value
        for start, end in ctx.segments:
            o, lse = _attend(query[:, :, start:end], own_key[:, :, start:end], own_value[:, :, start:end], causal=True,
                             scale=scale)
            outs.append(o)
            lses.append(lse)
    own = torch.cat(outs, dim=2) if len(outs) > 1 else outs[0]
    own_lse = torch.cat(lses, dim=2) if len(lses) > 1 else lses[0]
    if not ctx.prefix:
        return own.transpose(1, 2)
    pk, pv = ctx.prefix[layer]
    folded = query.contiguous().view(1, kv_heads, groups * tokens, dim)  # head h reads kv head h // groups
    o, lse = _attend(folded, pk, pv, causal=False, scale=scale)
    pre = o.reshape(1, heads, tokens, dim)
    pre_lse = lse.reshape(1, heads, tokens)
    total = torch.logaddexp(pre_lse, own_lse)
    out = pre.float() * torch.exp(pre_lse - total).unsqueeze(-1) + own.float() * torch.exp(own_lse - total).unsqueeze(-1)
    return out.to(query.dtype).transpose(1, 2)


def _attention_function(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                        attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                        **kwargs: Any) -> tuple[torch.Tensor, None]:
    ctx = kwargs.pop(KWARG, None)
    if ctx is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    return packed_attention(ctx, query, key, value, module.layer_idx, scaling), None


def register() -> bool:
    """Make ``toolkit_packed`` known to transformers (attention and mask functions); False if it cannot be."""
    try:
        from transformers import AttentionInterface
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS
    except ImportError:  # pragma: no cover - an old transformers
        return False
    if NAME not in AttentionInterface._global_mapping:
        AttentionInterface.register(NAME, _attention_function)
        ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])
    return True
