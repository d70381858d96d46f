"""Pure planning for the backends: shared prefixes and token-budget batches.

Nothing here touches torch, so the rules are easy to test:

* requests of one ``group`` share the longest common token prefix of their
  sequences (the few-shot examples of a subject); it is computed once;
* every member keeps at least one token of its own after the prefix, so the
  logits at its last position come from a forward pass over its own tokens;
* members are sorted longest first and packed into batches by a token budget
  (rows × padded length), not by a fixed count.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

Tokens = tuple[int, ...]

MIN_SHARED_PREFIX = 8
"""Below this many shared tokens a prefix cache costs more than it saves."""


def common_prefix_len(seqs: Sequence[Sequence[int]]) -> int:
    """Length of the longest common prefix of token sequences.

    Example:
        >>> common_prefix_len([(1, 2, 3), (1, 2, 4), (1, 2)])
        2
    """
    if not seqs:
        return 0
    first = seqs[0]
    n = min(len(s) for s in seqs)
    for other in seqs[1:]:
        i = 0
        limit = min(n, len(other))
        while i < limit and first[i] == other[i]:
            i += 1
        n = i
        if n == 0:
            break
    return n


@dataclass(frozen=True)
class PrefixGroup:
    """Members (indices into the request list) that share ``prefix_len`` leading tokens."""

    prefix_len: int
    members: tuple[int, ...]


def plan_prefix_groups(
    seqs: Sequence[Sequence[int]],
    groups: Sequence[Hashable | None],
    *,
    min_prefix: int = MIN_SHARED_PREFIX,
    enabled: bool = True,
) -> list[PrefixGroup]:
    """Group requests by their ``group`` key and find each group's shared prefix.

    Requests without a key (or with prefix caching disabled) land in one group
    with no prefix. The prefix never swallows a member whole: each keeps ≥ 1 token.

    Example:
        >>> plan_prefix_groups([(1,) * 10 + (2,), (1,) * 10 + (3, 4)], ["s", "s"])
        [PrefixGroup(prefix_len=10, members=(0, 1))]
    """
    by_key: dict[Hashable, list[int]] = {}
    loose: list[int] = []
    for i, key in enumerate(groups):
        if key is None or not enabled:
            loose.append(i)
        else:
            by_key.setdefault(key, []).append(i)
    planned: list[PrefixGroup] = []
    for members in by_key.values():
        member_seqs = [seqs[i] for i in members]
        shared = common_prefix_len(member_seqs)
        shared = min(shared, min(len(s) for s in member_seqs) - 1)
        if shared < min_prefix:
            loose.extend(members)
        else:
            planned.append(PrefixGroup(shared, tuple(members)))
    if loose:
        planned.append(PrefixGroup(0, tuple(sorted(loose))))
    return planned


def plan_batches(lengths: Sequence[int], *, max_batch: int, token_budget: int, context_len: int = 0,
                 kv_budget: int | None = None) -> list[list[int]]:
    """Pack row indices into batches, longest first, within a token budget.

    A batch's cost is ``rows × longest row`` new tokens (what the forward pass
    computes, padding included) and ``rows × (context_len + longest row)`` cached
    tokens (what attention reads and the KV cache holds). A row longer than the
    budget still gets a batch of its own.

    Example:
        >>> plan_batches([5, 50, 10, 40], max_batch=8, token_budget=100)
        [[1, 3], [2, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        n = max(lengths[i], 1)
        width = max(longest, n)
        rows = len(current) + 1
        fits = rows <= max_batch and rows * width <= token_budget
        if kv_budget is not None:
            fits = fits and rows * (context_len + width) <= kv_budget
        if current and not fits:
            batches.append(current)
            current, width = [], n
        current.append(i)
        longest = width
    if current:
        batches.append(current)
    return batches
