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

Where the model passes the packed path's self-check (:mod:`toolkit.models.hf_packed`),
``prefill``, ``run`` and ``step`` pack their rows into one unpadded sequence and read the
prefix's cache in place instead (no mask, no padding, no per-row copy of the prefix);
the results are the same up to float rounding.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from toolkit.models.hf_packed import PackedForward, PackedRows

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
    packed: PackedRows | None = None
    """For a packed pass: the rows' own keys and values, which generation steps extend."""
    segments: Any = None
    """For a packed pass with every position's logits: ``logits`` is [T, V], row i at ``segments[i]``."""

    def row_logits(self, i: int) -> torch.Tensor:
        """Logits [n, V] at row ``i``'s own tokens (keep="all")."""
        if self.segments is not None:
            start, end = self.segments[i]
            return self.logits[start:end]
        return self.logits[i, self.pads[i]:]


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

    def __init__(self, model: Any, pad_id: int, *, packed: bool = True) -> None:
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
        self.packed: PackedForward | None = None
        if packed and self.custom_masks and self.device.type == "cpu":
            candidate = PackedForward(model, self.cache_kw)
            text = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
            if candidate.check(int(getattr(text, "vocab_size", 0) or 0)):
                self.packed = candidate

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
    def prefill(self, tokens: Sequence[int], *, need_nll: bool, chunk: int = 1024,
                parent: PrefixState | None = None) -> PrefixState:
        """Run a shared prefix once, in chunks (bounded memory), and keep its cache.

        With ``parent``, ``tokens`` continue the parent's prefix (a prefix-tree node): they run on its
        cache, and the result covers ``parent.tokens + tokens``.
        """
        base = parent.length if parent is not None else 0
        self.counts.prefills += 1
        self.counts.prefix_tokens += len(tokens)
        if self.packed is not None:
            return self._prefill_packed(list(tokens), need_nll=need_nll, chunk=chunk, parent=parent)
        cache = self._new_cache(parent, 1)
        toks = torch.tensor([list(tokens)], dtype=torch.long, device=self.device)
        n = toks.shape[1]
        nll = parent.nll_sum if parent is not None else 0.0
        last = parent.last_logits if parent is not None else None
        for start in range(0, n, chunk):
            end = min(n, start + chunk)
            piece = toks[:, start:end]
            positions = torch.arange(base + start, base + end, device=self.device).unsqueeze(0)
            kv_real = torch.ones((1, base + end), dtype=torch.bool, device=self.device)
            mask = self._mask4d(kv_real, end - start, base + start) if self.custom_masks else None
            logits = self._call(piece, positions, mask, cache, keep_last=not need_nll)
            last, nll = _account(logits[0], piece[0], last, nll, need_nll)
        layers = [(layer.keys, layer.values) for layer in cache.layers]
        assert last is not None
        return PrefixState((parent.tokens if parent is not None else ()) + tuple(tokens), layers, last, nll)

    def _prefill_packed(self, tokens: list[int], *, need_nll: bool, chunk: int,
                        parent: PrefixState | None) -> PrefixState:
        assert self.packed is not None
        layers = list(parent.layers) if parent is not None else None
        nll = parent.nll_sum if parent is not None else 0.0
        last = parent.last_logits if parent is not None else None
        done = parent.length if parent is not None else 0
        for start in range(0, len(tokens), chunk):
            piece = tokens[start:start + chunk]
            logits, ctx = self.packed.forward([piece], layers, done, keep="all" if need_nll else "last", keep_kv=True)
            layers = ([(torch.cat([pk, k], dim=2), torch.cat([pv, v], dim=2)) for (pk, pv), (k, v) in zip(layers, ctx.new_kv)]
                      if layers else list(ctx.new_kv))
            target = torch.tensor(piece, dtype=torch.long, device=self.device)
            last, nll = _account(logits, target, last, nll, need_nll)
            done += len(piece)
        assert last is not None and layers is not None
        return PrefixState((parent.tokens if parent is not None else ()) + tuple(tokens), layers, last, nll)

    def run(self, rows: Sequence[Sequence[int]], prefix: PrefixState | None, *, keep: str) -> BatchOutput:
        """Forward left-padded ``rows`` on top of ``prefix``; keep "all" logits or only the "last"."""
        packed = self.packed is not None and all(rows)
        b = len(rows)
        width = max(len(r) for r in rows)
        self.counts.batches += 1
        self.counts.row_tokens += sum(len(r) for r in rows)
        self.counts.padded_tokens += 0 if packed else b * width - sum(len(r) for r in rows)
        if packed:
            return self._run_packed(rows, prefix, keep=keep)
        p = prefix.length if prefix is not None else 0
        pads = [width - len(r) for r in rows]
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

    def _run_packed(self, rows: Sequence[Sequence[int]], prefix: PrefixState | None, *, keep: str) -> BatchOutput:
        """The packed pass; "all" logits stay packed ([T, V], read through :meth:`BatchOutput.row_logits`)."""
        assert self.packed is not None
        b, width = len(rows), max(len(r) for r in rows)
        p = prefix.length if prefix is not None else 0
        logits, ctx = self.packed.forward(rows, prefix.layers if prefix is not None else None, p, keep=keep,
                                          keep_kv=True)
        pads = [width - len(r) for r in rows]
        real = torch.tensor([[j >= pads[i] for j in range(width)] for i in range(b)], dtype=torch.bool,
                            device=self.device)
        kv_real = torch.cat([torch.ones((b, p), dtype=torch.bool, device=self.device), real], dim=1)
        last_positions = torch.tensor([p + len(r) - 1 for r in rows], dtype=torch.long, device=self.device)
        state = PackedRows(prefix.layers if prefix is not None else None, ctx.new_kv, ctx.segments)
        return BatchOutput(logits, None, kv_real, last_positions, pads, packed=state,
                           segments=list(ctx.segments) if keep == "all" else None)

    def _step_packed(self, out: BatchOutput, next_tokens: torch.Tensor) -> torch.Tensor:
        assert self.packed is not None and out.packed is not None
        out.last_positions = out.last_positions + 1
        rows = [[int(t)] for t in next_tokens.tolist()]
        logits, ctx = self.packed.forward(rows, out.packed.prefix, out.last_positions.tolist(), keep="last",
                                          keep_kv=True, row_past=out.packed.rows)
        out.packed.append(ctx.new_kv)
        return logits

    def step(self, out: BatchOutput, next_tokens: torch.Tensor) -> torch.Tensor:
        """Feed one new token per row (generation); returns logits [B, V] and updates ``out``."""
        b = next_tokens.shape[0]
        self.counts.decode_steps += b
        if out.packed is not None:
            return self._step_packed(out, next_tokens)
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
        if out.packed is not None:
            out.packed.select(keep_rows.tolist())
        else:
            out.cache.batch_select_indices(idx)
        out.kv_mask = out.kv_mask.index_select(0, idx)
        out.last_positions = out.last_positions.index_select(0, idx)


def _account(logits: torch.Tensor, targets: torch.Tensor, last: torch.Tensor | None, nll: float,
             need_nll: bool) -> tuple[torch.Tensor, float]:
    """After a prefix chunk: the log-probabilities at its last position, and the NLL so far.

    ``logits`` are [n, V] with ``need_nll`` (else [≥1, V], only the last row used); ``last`` (the
    previous chunk's or the parent's last log-probabilities) predicts this chunk's first token.
    """
    if not need_nll:
        return torch.log_softmax(logits[-1].float(), dim=-1), nll
    logits = logits.float()
    lse = torch.logsumexp(logits, dim=-1)  # logsumexp - logit: no [n, V] log-softmax written out
    if last is not None:
        nll -= float(last[targets[0]])
    if targets.numel() > 1:
        nll += float((lse[:-1] - logits[:-1].gather(1, targets[1:].unsqueeze(1)).squeeze(1)).sum())
    return logits[-1] - lse[-1], nll
