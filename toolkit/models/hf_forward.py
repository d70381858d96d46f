"""Forward passes with a shared prefix cache: the core of the fast path.

Layout of one batch (``P`` shared prefix tokens, rows left-padded to ``L``)::

    kv:    [ prefix (P, computed once) | pad pad x0 x1 x2 | generated… ]
    query:                             [ pad pad x0 x1 x2 ]

We build the 4-D additive attention mask and the position ids ourselves, so the
padding in the middle is exact: real tokens see the prefix and their own earlier
tokens, with positions ``P, P+1, …`` as if there were no padding. A pad query
sees the prefix and itself only (so no row is ever fully masked and no NaN can
reach the cache).

Models with sliding-window layers get no prefix cache and HF's own masks
(:func:`supports_prefix_cache`).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

Tokens = tuple[int, ...]


@dataclass
class PrefixState:
    """A prefix's key/value cache (batch 1) and what its forward pass told us."""

    tokens: Tokens
    layers: list[tuple[torch.Tensor, torch.Tensor]]
    last_logits: torch.Tensor
    """float32 logits [V] at the prefix's last position (predicting the first own token)."""
    nll_sum: float
    """Sum of NLL over prefix positions 1..P-1 (0.0 unless asked for)."""

    @property
    def length(self) -> int:
        """P."""
        return len(self.tokens)


@dataclass
class TokenCounts:
    """What the forward passes processed, counted as they run (the prefix cache's effect, measured).

    ``prefix_tokens``: tokens of shared prefixes, each computed once (``prefills`` of them);
    ``row_tokens``: the requests' own tokens computed on top (padding not counted);
    ``padded_tokens``: the padding next to them; ``decode_steps``: generated tokens fed back.
    """

    prefills: int = 0
    prefix_tokens: int = 0
    batches: int = 0
    row_tokens: int = 0
    padded_tokens: int = 0
    decode_steps: int = 0


@dataclass
class BatchOutput:
    """Logits of one batch and the cache it left behind (for generation)."""

    logits: torch.Tensor
    """[B, L, V] for keep="all", [B, V] for keep="last" (float, model dtype)."""
    cache: Any
    kv_mask: torch.Tensor
    """[B, kv_len] bool: which cached positions are real tokens."""
    last_positions: torch.Tensor
    """[B] position id of each row's last token."""
    pads: list[int]


def supports_prefix_cache(config: Any) -> bool:
    """False for sliding-window / hybrid models, whose masks we leave to transformers."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    if getattr(text, "is_encoder_decoder", False):
        return False
    layer_types = getattr(text, "layer_types", None)
    if layer_types and any(t != "full_attention" for t in layer_types):
        return False
    return getattr(text, "sliding_window", None) in (None, 0) or not getattr(text, "use_sliding_window", True)


class Forwarder:
    """Runs a causal LM over padded rows on top of an optional shared prefix."""

    def __init__(self, model: Any, pad_id: int) -> None:
        self.model = model
        self.pad_id = pad_id
        self.device = next(model.parameters()).device
        self.dtype = next(model.parameters()).dtype
        params = inspect.signature(model.forward).parameters
        # transformers renamed past_key_values to cache in 5.x; accept both.
        self.cache_kw = "cache" if "cache" in params else "past_key_values"
        self.keeps_logits = "logits_to_keep" in params
        self.custom_masks = supports_prefix_cache(model.config)
        self.counts = TokenCounts()

    # -- building blocks -------------------------------------------------------------
    def _new_cache(self, prefix: PrefixState | None, rows: int) -> Any:
        from transformers import DynamicCache

        if prefix is None or prefix.length == 0:
            return DynamicCache()
        cache = DynamicCache(ddp_cache_data=prefix.layers)
        # Every row reads the same prefix: stride-0 views instead of `rows` copies. The first update
        # concatenates the row's own tokens onto them, which makes the one copy attention needs.
        for layer in cache.layers:
            layer.keys = layer.keys.expand(rows, -1, -1, -1)
            layer.values = layer.values.expand(rows, -1, -1, -1)
        return cache

    def _mask4d(self, kv_real: torch.Tensor, q_len: int, causal_from: int) -> torch.Tensor:
        """Additive mask [B,1,q,kv]: key j visible to query i iff real and j <= causal_from + i (or j is i's own slot)."""
        kv_len = kv_real.shape[1]
        q_idx = torch.arange(q_len, device=self.device).unsqueeze(1) + causal_from
        k_idx = torch.arange(kv_len, device=self.device).unsqueeze(0)
        causal = k_idx <= q_idx  # [q, kv]
        own = k_idx == q_idx
        allowed = (causal.unsqueeze(0) & kv_real.unsqueeze(1)) | own.unsqueeze(0)
        mask = torch.zeros(allowed.shape, dtype=self.dtype, device=self.device)
        mask.masked_fill_(~allowed, torch.finfo(self.dtype).min)
        return mask.unsqueeze(1)

    def _call(self, input_ids: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor, cache: Any,
              keep_last: bool) -> torch.Tensor:
        kwargs: dict[str, Any] = {
            "input_ids": input_ids,
            "position_ids": positions,
            "attention_mask": mask,
            self.cache_kw: cache,
            "use_cache": True,
        }
        if keep_last and self.keeps_logits:
            kwargs["logits_to_keep"] = 1
        logits = self.model(**kwargs).logits
        return logits[:, -1:, :] if keep_last else logits

    # -- public ----------------------------------------------------------------------
    def prefill(self, tokens: Sequence[int], *, need_nll: bool, chunk: int = 1024) -> PrefixState:
        """Run the shared prefix once, in chunks (bounded memory), and keep its cache."""
        cache = self._new_cache(None, 1)
        toks = torch.tensor([list(tokens)], dtype=torch.long, device=self.device)
        n = toks.shape[1]
        self.counts.prefills += 1
        self.counts.prefix_tokens += n
        nll = 0.0
        last = None
        for start in range(0, n, chunk):
            end = min(n, start + chunk)
            piece = toks[:, start:end]
            positions = torch.arange(start, end, device=self.device).unsqueeze(0)
            kv_real = torch.ones((1, end), dtype=torch.bool, device=self.device)
            mask = self._mask4d(kv_real, end - start, start) if self.custom_masks else None
            logits = self._call(piece, positions, mask, cache, keep_last=not need_nll)
            if need_nll:
                logp = torch.log_softmax(logits[0].float(), dim=-1)  # [chunk, V]
                if last is not None:  # the previous chunk's last logits predict this chunk's first token
                    nll -= float(last[piece[0, 0]])
                targets = piece[0, 1:]
                if targets.numel():
                    nll -= float(logp[:-1].gather(1, targets.unsqueeze(1)).sum())
                last = logp[-1]
            else:
                last = torch.log_softmax(logits[0, -1].float(), dim=-1)
        layers = [(layer.keys, layer.values) for layer in cache.layers]
        assert last is not None
        return PrefixState(tuple(tokens), layers, last, nll)

    def run(self, rows: Sequence[Sequence[int]], prefix: PrefixState | None, *, keep: str) -> BatchOutput:
        """Forward left-padded ``rows`` on top of ``prefix``; keep "all" logits or only the "last"."""
        b = len(rows)
        width = max(len(r) for r in rows)
        p = prefix.length if prefix is not None else 0
        pads = [width - len(r) for r in rows]
        self.counts.batches += 1
        self.counts.row_tokens += b * width - sum(pads)
        self.counts.padded_tokens += sum(pads)
        ids = torch.full((b, width), self.pad_id, dtype=torch.long)
        real = torch.zeros((b, width), dtype=torch.bool)
        pos = torch.full((b, width), p, dtype=torch.long)
        for i, r in enumerate(rows):
            if r:
                ids[i, pads[i]:] = torch.tensor(list(r), dtype=torch.long)
                real[i, pads[i]:] = True
                pos[i, pads[i]:] = torch.arange(p, p + len(r))
        ids, real, pos = ids.to(self.device), real.to(self.device), pos.to(self.device)
        kv_real = torch.cat([torch.ones((b, p), dtype=torch.bool, device=self.device), real], dim=1)
        cache = self._new_cache(prefix, b)
        if self.custom_masks:
            mask = self._mask4d(kv_real, width, p)
        else:  # HF builds the masks (sliding windows); positions from the padding
            mask = kv_real.long()
        logits = self._call(ids, pos, mask, cache, keep_last=(keep == "last"))
        if keep == "last":
            logits = logits[:, -1, :]
        return BatchOutput(logits, cache, kv_real, pos[:, -1].clone(), pads)

    def step(self, out: BatchOutput, next_tokens: torch.Tensor) -> torch.Tensor:
        """Feed one new token per row (generation); returns logits [B, V] and updates ``out``."""
        b = next_tokens.shape[0]
        self.counts.decode_steps += b
        out.last_positions = out.last_positions + 1
        out.kv_mask = torch.cat([out.kv_mask, torch.ones((b, 1), dtype=torch.bool, device=self.device)], dim=1)
        ids = next_tokens.view(b, 1).to(self.device)
        pos = out.last_positions.view(b, 1)
        if self.custom_masks:
            kv_len = out.kv_mask.shape[1]
            mask = self._mask4d(out.kv_mask, 1, kv_len - 1)
        else:
            mask = out.kv_mask.long()
        logits = self._call(ids, pos, mask, out.cache, keep_last=True)
        return logits[:, -1, :]

    def select(self, out: BatchOutput, keep_rows: torch.Tensor) -> None:
        """Drop finished rows from a generation batch (cache included)."""
        idx = keep_rows.to(self.device)
        out.cache.batch_select_indices(idx)
        out.kv_mask = out.kv_mask.index_select(0, idx)
        out.last_positions = out.last_positions.index_select(0, idx)
