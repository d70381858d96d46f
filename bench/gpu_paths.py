"""The two yardsticks of the GPU check, as plain torch/transformers loops over pre-tokenised prompts.

* **limit** — the bare-forward bound: per subject, one forward pass over the few-shot
  prefix (batch 1), then each question's own tokens once, on copies of that prefix's
  key/value cache, right-padded into batches of ``batch_size`` (longest first), logits
  only at the positions that are read. No prompt building, no tokenising, no Python
  per token: what any engine that computes each question's answer must at least pay.
* **naive** — what lm-evaluation-harness's ``hf`` model and OpenCompass's
  ``HuggingFaceBaseModel`` do: every prompt whole, no cache shared between questions.
  ``choice`` as lm-eval's log-likelihood multiple choice (one row per question when the
  options are single tokens, rows sorted longest first and right-padded, logits and
  ``log_softmax`` over every position); ``ppl`` as OpenCompass's ``get_ppl`` (every
  label's prompt a row of its own, cross-entropy over every position, divided by the
  length); ``gen`` as plain greedy ``model.generate`` (left padding, dataset order,
  ``max_new_tokens``, ``min_new_tokens=1`` as OpenCompass's ``min_out_len``).

Every path is timed with the device synchronised at both ends and returns what it
computed (label NLLs, PPLs, texts), so that its answers can be compared with ours.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from gpu_models import causal_pairs
from gpu_timing import Timed, timed

Tokens = tuple[int, ...]


@dataclass(frozen=True)
class Item:
    """One question as the paths see it: token ids of what ours scored or generated from."""

    key: str
    """``abbr/index``."""
    abbr: str
    prompt: Tokens
    """The gen prompt (choice and gen modes)."""
    choice: tuple[Tokens, ...]
    """The gen prompt completed by each option letter."""
    ppl: tuple[Tokens, ...] = ()
    """Each label's whole PPL prompt."""
    labels: tuple[str, ...] = ("A", "B", "C", "D")
    stops: tuple[str, ...] = ()


def shared_len(cands: Sequence[Tokens]) -> int:
    """Tokens every candidate shares, leaving each at least one of its own.

    Example:
        >>> shared_len([(1, 2, 3), (1, 2, 4)])
        2
    """
    first, n = cands[0], min(len(c) for c in cands)
    for other in cands[1:]:
        i = 0
        while i < n and other[i] == first[i]:
            i += 1
        n = i
    return max(0, min(n, min(len(c) for c in cands) - 1))


@dataclass(frozen=True)
class Row:
    """Tokens to run (after any prefix) and what to read off them: (position in the row, target token, candidate)."""

    item: int
    tokens: Tokens
    reads: tuple[tuple[int, int, int], ...]


def score_rows(i: int, cands: Sequence[Tokens], prefix: int) -> list[Row]:
    """One row per question when the candidates differ only in their last token, else one per candidate.

    Example:
        >>> score_rows(0, [(5, 6, 1), (5, 6, 2)], prefix=1)
        [Row(item=0, tokens=(6,), reads=((0, 1, 0), (0, 2, 1)))]
    """
    q = shared_len(cands)
    if all(len(c) == q + 1 for c in cands):
        return [Row(i, tuple(cands[0][prefix:q]), tuple((q - 1 - prefix, c[q], j) for j, c in enumerate(cands)))]
    return [Row(i, tuple(c[prefix:len(c) - 1]), tuple((t - 1 - prefix, c[t], j) for t in range(q, len(c))))
            for j, c in enumerate(cands)]


def _batches(rows: Sequence[Row], size: int, *, longest_first: bool = True) -> Iterator[list[Row]]:
    order = sorted(rows, key=lambda r: -len(r.tokens)) if longest_first else list(rows)
    for k in range(0, len(order), size):
        yield order[k:k + size]


def _padded(seqs: Sequence[Sequence[int]], pad: int, device: torch.device, *, left: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for k, s in enumerate(seqs):
        lo = width - len(s) if left else 0
        ids[k, lo:lo + len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[k, lo:lo + len(s)] = 1
    return ids.to(device), mask.to(device)


def _cache_kw(module: Any) -> str:
    """transformers 5 renamed ``past_key_values`` to ``cache``; take whichever this version has."""
    return "cache" if "cache" in inspect.signature(module.forward).parameters else "past_key_values"


def _add_nlls(out: dict[str, list[float]], items: Sequence[Item], batch: Sequence[Row], logp: torch.Tensor,
              index: Sequence[Sequence[int]]) -> None:
    """Add ``-logp[k, token]`` to candidate j of the row's item, for every read (k: its position's row in logp)."""
    flat = [(k, tok, items[row.item], j) for row, reads in zip(batch, index) for (k, (_, tok, j)) in zip(reads, row.reads)]
    if not flat:
        return
    picked = logp[[f[0] for f in flat], [f[1] for f in flat]].float().tolist()
    for (_, _, item, j), value in zip(flat, picked):
        out.setdefault(item.key, [0.0] * len(item.choice))[j] -= value


def run_limit(model: Any, items: Sequence[Item], *, batch_size: int, pad: int) -> Timed:
    """The bare-forward limit over the choice rows (see the module docstring)."""
    from transformers import DynamicCache

    device = next(model.parameters()).device
    kw = _cache_kw(model.model)
    result = Timed()
    nlls: dict[str, list[float]] = {}
    groups: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        groups.setdefault(it.abbr, []).append(i)
    with torch.inference_mode(), timed(result, device):
        for members in groups.values():
            shared = [items[i].choice[0][:shared_len(items[i].choice)] for i in members]
            p = shared_len(shared) if len(shared) > 1 else 0
            layers: list[tuple[torch.Tensor, torch.Tensor]] = []
            if p:
                cache = DynamicCache()
                model.model(input_ids=torch.tensor([list(shared[0][:p])], device=device), use_cache=True, **{kw: cache})
                layers = [(layer.keys, layer.values) for layer in cache.layers]
                result.tokens += p
                result.padded_tokens += p
                result.pairs += causal_pairs(0, p)
            rows = [row for i in members for row in score_rows(i, items[i].choice, p)]
            for batch in _batches(rows, batch_size):
                ids, _ = _padded([r.tokens for r in batch], pad, device)
                b, width = ids.shape
                positions = torch.arange(p, p + width, device=device).expand(b, width)
                rows_cache = DynamicCache(ddp_cache_data=[(k.expand(b, -1, -1, -1), v.expand(b, -1, -1, -1)) for k, v in layers]) \
                    if layers else DynamicCache()
                hidden = model.model(input_ids=ids, position_ids=positions, use_cache=True, **{kw: rows_cache}).last_hidden_state
                where = sorted({(k, pos) for k, r in enumerate(batch) for (pos, _, _) in r.reads})
                slot = {w: n for n, w in enumerate(where)}
                picked = hidden[[w[0] for w in where], [w[1] for w in where]]
                logp = torch.log_softmax(model.lm_head(picked).float(), dim=-1)
                _add_nlls(nlls, items, batch, logp, [[slot[(k, pos)] for (pos, _, _) in r.reads] for k, r in enumerate(batch)])
                result.tokens += sum(len(r.tokens) for r in batch)
                result.pairs += sum(causal_pairs(p, len(r.tokens)) for r in batch)
                result.logit_rows += len(where)
                result.padded_tokens += b * width
    result.out = nlls
    return result


def naive_choice(model: Any, items: Sequence[Item], *, batch_size: int, pad: int) -> Timed:
    """lm-evaluation-harness's ``hf`` log-likelihood path: whole prompts, full logits, ``log_softmax`` everywhere."""
    device = next(model.parameters()).device
    result = Timed()
    nlls: dict[str, list[float]] = {}
    rows = [row for i, it in enumerate(items) for row in score_rows(i, it.choice, 0)]
    with torch.inference_mode(), timed(result, device):
        for batch in _batches(rows, batch_size):
            ids, _ = _padded([r.tokens for r in batch], pad, device)
            logp = torch.log_softmax(model(input_ids=ids).logits, dim=-1)  # [B, L, V] in the model's dtype, as lm-eval
            flat = logp.reshape(-1, logp.shape[-1])
            width = ids.shape[1]
            _add_nlls(nlls, items, batch, flat, [[k * width + pos for (pos, _, _) in r.reads] for k, r in enumerate(batch)])
            result.tokens += sum(len(r.tokens) for r in batch)
            result.pairs += sum(causal_pairs(0, len(r.tokens)) for r in batch)
            result.logit_rows += sum(len(r.tokens) for r in batch)
            result.padded_tokens += ids.numel()
    result.out = nlls
    return result


def naive_ppl(model: Any, items: Sequence[Item], *, batch_size: int, pad: int) -> Timed:
    """OpenCompass's ``get_ppl``: each label's prompt whole, cross-entropy over all positions ÷ length."""
    device = next(model.parameters()).device
    result = Timed()
    ppl: dict[str, list[float]] = {}
    with torch.inference_mode(), timed(result, device):
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            for j in range(len(chunk[0].ppl)):
                seqs = [it.ppl[j] for it in chunk]
                ids, mask = _padded(seqs, pad, device)
                logits = model(input_ids=ids, attention_mask=mask).logits
                b, width, vocab = logits.shape
                shift = logits[:, :-1].contiguous().float()  # as OpenCompass: flat rows, float32
                loss = torch.nn.functional.cross_entropy(shift.view(-1, vocab), ids[:, 1:].reshape(-1),
                                                         reduction="none").view(b, width - 1)
                loss = (loss * mask[:, 1:]).sum(-1) / mask.sum(-1)
                for it, value in zip(chunk, loss.tolist()):
                    ppl.setdefault(it.key, [0.0] * len(it.ppl))[j] = value
                result.tokens += sum(len(s) for s in seqs)
                result.pairs += sum(causal_pairs(0, len(s)) for s in seqs)
                result.logit_rows += sum(len(s) for s in seqs)
                result.padded_tokens += ids.numel()
    result.out = ppl
    return result


def naive_gen(model: Any, tokenizer: Any, items: Sequence[Item], *, batch_size: int, pad: int,
              max_new_tokens: int, eos: Sequence[int]) -> Timed:
    """Plain greedy ``model.generate`` on whole prompts, left-padded, in dataset order."""
    device = next(model.parameters()).device
    result = Timed()
    texts: dict[str, str] = {}
    new_tokens: dict[str, int] = {}
    with torch.inference_mode(), timed(result, device):
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            ids, mask = _padded([it.prompt for it in chunk], pad, device, left=True)
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new_tokens,
                                 min_new_tokens=1, pad_token_id=pad, eos_token_id=list(eos))
            gen = out[:, ids.shape[1]:]
            steps = gen.shape[1]
            for it, row in zip(chunk, gen.tolist()):
                kept = _until_eos(row, eos)
                texts[it.key] = tokenizer.decode(kept, skip_special_tokens=True)
                new_tokens[it.key] = len(kept)
            # the prefill gives the first new token; each later one costs a step over every row of the batch
            lengths = [len(it.prompt) for it in chunk]
            result.tokens += sum(lengths) + (steps - 1) * len(chunk)
            result.pairs += sum(causal_pairs(0, n) + causal_pairs(n, steps - 1) for n in lengths)
            result.logit_rows += steps * len(chunk)  # generate keeps the prefill's last logits only
            result.padded_tokens += ids.numel() + (steps - 1) * len(chunk)
    result.out = {"texts": texts, "new_tokens": new_tokens}
    return result


def _until_eos(row: Sequence[int], eos: Sequence[int]) -> list[int]:
    """Generated ids up to the first end-of-sequence token (padding after it dropped).

    Example:
        >>> _until_eos([5, 6, 2, 0, 0], [2])
        [5, 6, 2]
    """
    for k, tok in enumerate(row):
        if tok in eos:
            return list(row[:k + 1])
    return list(row)



def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """OpenCompass's cut: the text before the first occurrence of each stop string, in turn.

    Example:
        >>> cut_at_stop("B\\n以下是", ["\\n以下"])
        'B'
    """
    for stop in stops:
        if stop:
            text = text.split(stop)[0]
    return text

