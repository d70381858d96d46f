"""Scoring candidates (PPL labels, choice continuations) with as few forward passes as possible.

For each question the candidates share everything but their tail (``…答案: \\nA`` vs
``…\\nB``); questions share their few-shot prefixes. A prefix tree
(:mod:`toolkit.models.prefix_tree`) finds every shared prefix worth caching; each tree
node runs once (:meth:`Forwarder.prefill`, on its parent's cache), then one row per
question over its own tokens on its deepest node, and each candidate's single tail
token is read off the row's last-position logits — one forward pass per question.
Candidates whose tails are longer than one token get a row each (still on top of the
shared prefix).

Scores follow OpenCompass's definition: ``total_nll`` sums the token losses over
positions 1..n-1 of the whole sequence, which OpenCompass divides by n.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch

from toolkit.models.base import CandidateScore, ProgressFn, ScoreRequest, ScoreResult
from toolkit.models.hf_forward import Forwarder, PrefixState
from toolkit.models.hf_memory import Budget, is_oom
from toolkit.models.planning import common_prefix_len, plan_batches
from toolkit.models.prefix_tree import plan_prefix_tree


@dataclass(frozen=True)
class _Row:
    req: int
    cand: int | None
    """None: a shared question row whose candidates are single tokens read at the end."""
    tokens: tuple[int, ...]


def _question_len(cands: Sequence[Sequence[int]]) -> int:
    """Tokens shared by all candidates, leaving every candidate at least one of its own."""
    return max(0, min(common_prefix_len(cands), min(len(c) for c in cands) - 1))


def _rows_for(idx: int, req: ScoreRequest, q_len: int, p: int) -> list[_Row]:
    tails = [c[q_len:] for c in req.candidates]
    if q_len > p and all(len(t) == 1 for t in tails):
        return [_Row(idx, None, req.candidates[0][p:q_len])]
    return [_Row(idx, j, c[p:]) for j, c in enumerate(req.candidates)]


def _token_nlls(logits: torch.Tensor, row: Sequence[int], prefix: PrefixState | None) -> tuple[list[float], torch.Tensor]:
    """NLL of each row token (index 0 uses the prefix's last logits; without a prefix it has none) and the
    log-probabilities at the row's last position.

    ``logsumexp - logit`` per position: the whole [n, V] log-softmax is never written out.
    """
    logits = logits.float()
    lse = torch.logsumexp(logits, dim=-1)
    targets = torch.tensor(list(row[1:]), dtype=torch.long, device=logits.device)
    inner = ((lse[:-1] - logits[:-1].gather(1, targets.unsqueeze(1)).squeeze(1)).tolist() if len(row) > 1 else [])
    first = [-float(prefix.last_logits[row[0]])] if prefix is not None else [0.0]
    return first + inner, logits[-1] - lse[-1]


class Scorer:
    """Runs :class:`ScoreRequest` batches through a :class:`Forwarder`."""

    def __init__(self, fw: Forwarder, budget: Budget, *, prefix_cache: bool = True,
                 warn: Callable[[str], None] | None = None) -> None:
        self.fw = fw
        self.budget = budget
        self.prefix_cache = prefix_cache and fw.custom_masks
        self.warn = warn or (lambda msg: None)

    def score(self, requests: Sequence[ScoreRequest], *, need_total: bool, progress: ProgressFn | None = None,
              batch_size: int | None = None) -> Iterator[list[ScoreResult]]:
        """Yield finished results batch by batch, at most ``batch_size`` rows a batch (None: the budget's)."""
        q_lens = [_question_len(r.candidates) for r in requests]
        questions = [r.candidates[0][:q] if q else r.candidates[0][:1] for r, q in zip(requests, q_lens)]
        plan = plan_prefix_tree(questions, [r.group for r in requests], enabled=self.prefix_cache)
        for prefix, members in plan.walk(lambda node, parent: self.fw.prefill(
                questions[node.source][node.start:node.end], need_nll=need_total, parent=parent)):
            yield from self._score_rows(members, requests, q_lens, prefix, need_total, progress, batch_size)

    def _score_rows(self, members: Sequence[int], requests: Sequence[ScoreRequest], q_lens: Sequence[int],
                    prefix: PrefixState | None, need_total: bool,
                    progress: ProgressFn | None, batch_size: int | None) -> Iterator[list[ScoreResult]]:
        """The questions ``members`` on top of ``prefix`` (None: from scratch), batch by batch."""
        p = prefix.length if prefix is not None else 0
        rows = [row for i in members for row in _rows_for(i, requests[i], q_lens[i], p)]
        pending: dict[int, dict[int, CandidateScore]] = {}
        needed = {i: len(requests[i].candidates) for i in members}
        queue = [[rows[k] for k in b] for b in self._plan(rows, p, batch_size)]
        while queue:
            batch = queue.pop(0)
            try:
                scored = self._run(batch, requests, q_lens, prefix, need_total)
            except Exception as err:
                if not is_oom(err) or len(batch) == 1:
                    raise
                self._on_oom(len(batch))
                half = len(batch) // 2
                queue[:0] = [batch[:half], batch[half:]]
                continue
            done: list[ScoreResult] = []
            for req, cand, score in scored:
                pending.setdefault(req, {})[cand] = score
                if len(pending[req]) == needed[req]:
                    got = pending.pop(req)
                    done.append(ScoreResult(requests[req].key, tuple(got[j] for j in range(needed[req]))))
            if done:
                if progress:
                    progress(len(done))
                yield done

    def _plan(self, rows: Sequence[_Row], p: int, batch_size: int | None) -> list[list[int]]:
        b = self.budget.for_rows(batch_size)
        return plan_batches([len(r.tokens) for r in rows], max_batch=b.max_batch, token_budget=b.token_budget,
                            context_len=p, kv_budget=b.kv_budget)

    def _on_oom(self, rows: int) -> None:
        self.budget = self.budget.halved()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        self.warn(f"out of memory with a batch of {rows} rows: halving the batch and going on")

    def _run(self, batch: Sequence[_Row], requests: Sequence[ScoreRequest], q_lens: Sequence[int],
             prefix: PrefixState | None, need_total: bool) -> list[tuple[int, int, CandidateScore]]:
        full = need_total or any(r.cand is not None for r in batch)
        out = self.fw.run([r.tokens for r in batch], prefix, keep="all" if full else "last")
        p = prefix.length if prefix is not None else 0
        # Without need_total the prefix's losses were not computed: totals would be meaningless.
        base = (prefix.nll_sum if prefix is not None else 0.0) if need_total else float("nan")
        results: list[tuple[int, int, CandidateScore]] = []
        for i, row in enumerate(batch):
            req = requests[row.req]
            if full:
                nlls, last = _token_nlls(out.row_logits(i), row.tokens, prefix)
            else:
                last = torch.log_softmax(out.logits[i].float(), dim=-1)
                nlls = []
            if row.cand is None:  # one row, every candidate a single tail token
                own = sum(nlls)
                for j, cand in enumerate(req.candidates):
                    tail = -float(last[cand[-1]])
                    results.append((row.req, j, CandidateScore(base + own + tail, len(cand), tail, 1)))
            else:
                cand = req.candidates[row.cand]
                tail_from = q_lens[row.req] - p
                tail = sum(nlls[tail_from:])
                results.append((row.req, row.cand, CandidateScore(base + sum(nlls), len(cand), tail,
                                                                  len(cand) - q_lens[row.req])))
        return results
