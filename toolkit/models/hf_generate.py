"""Greedy generation that stops as soon as the answer is known.

Base models in OpenCompass's gen mode run to ``max_out_len``; a multiple-choice
answer is decided after a token or two. Each row stops at the first of: an
end-of-sequence token, a stop string (transformers' ``StopStringCriteria``), the
request's ``decided(text)`` callback (the post-processor can no longer change its
answer), or ``max_new_tokens``. Finished rows leave the batch. Shared prompt
prefixes are computed once, on a prefix tree, as in scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from toolkit.models.base import GenRequest, GenResult, ProgressFn
from toolkit.models.hf_forward import Forwarder
from toolkit.models.hf_memory import Budget, is_oom
from toolkit.models.planning import plan_batches
from toolkit.models.prefix_tree import plan_prefix_tree


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """Cut ``text`` at the first occurrence of any stop string (OpenCompass splits on each).

    Example:
        >>> cut_at_stop("C\\n以下是", ["\\n以下"])
        'C'
    """
    for stop in stops:
        if stop:
            text = text.split(stop)[0]
    return text


class Generator:
    """Runs :class:`GenRequest` batches through a :class:`Forwarder`."""

    def __init__(self, fw: Forwarder, tokenizer: Any, eos_ids: Sequence[int], budget: Budget, *,
                 prefix_cache: bool = True, warn: Callable[[str], None] | None = None) -> None:
        self.fw = fw
        self.tokenizer = tokenizer
        self.eos_ids = sorted(set(eos_ids))
        self.budget = budget
        self.prefix_cache = prefix_cache and fw.custom_masks
        self.warn = warn or (lambda msg: None)
        self._stop_criteria: dict[tuple[str, ...], Any] = {}

    def _criteria(self, stops: tuple[str, ...]) -> Any:
        if stops not in self._stop_criteria:
            from transformers import StopStringCriteria

            self._stop_criteria[stops] = StopStringCriteria(tokenizer=self.tokenizer, stop_strings=list(stops))
        return self._stop_criteria[stops]

    def generate(self, requests: Sequence[GenRequest], progress: ProgressFn | None = None,
                 batch_size: int | None = None) -> Iterator[list[GenResult]]:
        """Yield finished results batch by batch, at most ``batch_size`` prompts a batch (None: the budget's)."""
        seqs = [r.tokens for r in requests]
        plan = plan_prefix_tree(seqs, [r.group for r in requests], enabled=self.prefix_cache)
        for prefix, members in plan.walk(lambda node, parent: self.fw.prefill(
                seqs[node.source][node.start:node.end], need_nll=False, parent=parent)):
            yield from self._generate_rows(list(members), requests, seqs, prefix, progress, batch_size)

    def _generate_rows(self, members: list[int], requests: Sequence[GenRequest], seqs: Sequence[Sequence[int]],
                       prefix: Any, progress: ProgressFn | None, batch_size: int | None) -> Iterator[list[GenResult]]:
        p = prefix.length if prefix is not None else 0
        b = self.budget.for_rows(batch_size)
        plan = plan_batches([len(seqs[i]) - p for i in members], max_batch=b.max_batch,
                            token_budget=b.token_budget, context_len=p, kv_budget=b.kv_budget)
        queue = [[members[k] for k in batch] for batch in plan]
        while queue:
            batch = queue.pop(0)
            try:
                results = self._run(batch, requests, prefix)
            except Exception as err:
                if not is_oom(err) or len(batch) == 1:
                    raise
                self.budget = self.budget.halved()
                torch.cuda.empty_cache() if torch.cuda.is_available() else None
                self.warn(f"out of memory generating for {len(batch)} prompts: halving the batch and going on")
                queue[:0] = [batch[: len(batch) // 2], batch[len(batch) // 2:]]
                continue
            if progress:
                progress(len(results))
            yield results

    def _run(self, batch: Sequence[int], requests: Sequence[GenRequest], prefix: Any) -> list[GenResult]:
        p = prefix.length if prefix is not None else 0
        reqs = [requests[i] for i in batch]
        out = self.fw.run([r.tokens[p:] for r in reqs], prefix, keep="last")
        logits = out.logits
        active = list(range(len(reqs)))  # positions in `reqs` of the rows still in the batch
        generated: list[list[int]] = [[] for _ in reqs]
        finished: dict[int, GenResult] = {}
        limit = max(r.max_new_tokens for r in reqs)
        for step in range(limit):
            scores = logits.float()
            for row, ri in enumerate(active):
                if step < reqs[ri].min_new_tokens and self.eos_ids:
                    scores[row, self.eos_ids] = float("-inf")
            next_tokens = scores.argmax(dim=-1)
            chosen = next_tokens.tolist()  # one device-to-host copy a step, not one per row
            still: list[int] = []
            for row, ri in enumerate(active):
                tok = int(chosen[row])
                generated[ri].append(tok)
                reason = self._stop_reason(reqs[ri], generated[ri], tok)
                if reason:
                    finished[ri] = self._result(reqs[ri], generated[ri], reason)
                else:
                    still.append(row)
            if not still:
                break
            if len(still) < len(active):
                keep = torch.tensor(still, dtype=torch.long)
                self.fw.select(out, keep)
                next_tokens = next_tokens.index_select(0, keep.to(next_tokens.device))
                active = [active[row] for row in still]
            logits = self.fw.step(out, next_tokens)
        for ri in active:
            if ri not in finished:
                finished[ri] = self._result(reqs[ri], generated[ri], "length")
        return [finished[i] for i in range(len(reqs))]

    def _stop_reason(self, req: GenRequest, generated: list[int], tok: int) -> str | None:
        if tok in self.eos_ids:
            return "eos"
        if req.stop_strings:
            ids = torch.tensor([generated], dtype=torch.long)
            if bool(self._criteria(req.stop_strings)(ids, None)[0]):
                return "stop_string"
        if req.decided is not None and req.decided(self._text(generated)):
            return "decided"
        if len(generated) >= req.max_new_tokens:
            return "length"
        return None

    def _text(self, tokens: Sequence[int]) -> str:
        return self.tokenizer.decode(list(tokens), skip_special_tokens=True)

    def _result(self, req: GenRequest, generated: list[int], reason: str) -> GenResult:
        text = cut_at_stop(self._text(generated), req.stop_strings)
        return GenResult(req.key, text, len(generated), reason)
