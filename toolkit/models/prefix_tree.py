"""A prefix tree (radix tree) over the requests' token sequences: every shared prefix computed once.

One exact prefix per group misses whenever prompts of a subject differ early: under
``--max-seq-len`` some prompts drop in-context examples, so they share the instruction
and the first examples but not the whole few-shot block, and each would otherwise pay
for its own 1,500-token prefix. Here the sequences are sorted and split where they
diverge; a split whose shared stretch saves enough work becomes a **node** whose
key/value cache is computed once, on top of its parent's. Every sequence is attached
as a *row* to its deepest node and keeps at least one token of its own. Pure planning
(no torch), like :mod:`toolkit.models.planning`.

A shared stretch of ``s`` tokens among ``m`` sequences becomes a node when
``s >= min_prefix`` and ``(m - 1) * s >= min_saving``: shorter stretches (two
questions that both begin with "下列") are cheaper to recompute than to give a
forward pass and a batch split of their own; their sequences stay on the parent.

Example:
    >>> a, b, c = (1,) * 20 + (2, 3), (1,) * 20 + (2, 4), (1,) * 10 + (5,) * 30
    >>> plan = plan_prefix_tree([a, b, c], ["s"] * 3, min_saving=8)
    >>> [(n.start, n.end, n.rows) for n in plan.nodes]
    [(0, 10, (2,)), (10, 21, (0, 1))]
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from toolkit.models.planning import MIN_SHARED_PREFIX, common_prefix_len

S = TypeVar("S")

MIN_NODE_SAVING = 64
"""Recomputed tokens a node must save (``(members - 1) × its own length``) to earn a forward pass."""


@dataclass(frozen=True)
class TreeNode:
    """A shared prefix ``seqs[source][:end]``; its own segment is ``[start:end]`` on top of its parent."""

    index: int
    parent: int | None
    """Index of the parent node (its ``end`` equals this node's ``start``); None: a root."""
    source: int
    """A sequence that holds the prefix (any member does)."""
    start: int
    end: int
    rows: tuple[int, ...]
    """Sequences attached here: each runs ``seqs[i][end:]`` on this node's cache."""
    last_descendant: int = -1
    """The last node of this node's subtree in depth-first order (itself for a leaf): once that one is
    done, this node's cache can go."""

    @property
    def length(self) -> int:
        """Tokens of the whole prefix (``end``)."""
        return self.end


@dataclass(frozen=True)
class TreePlan:
    """Nodes in depth-first order (a parent before its children) and the sequences with no prefix."""

    nodes: tuple[TreeNode, ...]
    loose: tuple[int, ...]

    def unique_tokens(self, seqs: Sequence[Sequence[int]]) -> int:
        """Tokens the plan computes: every node's segment once, every row's own part once."""
        own = sum(len(seqs[i]) - n.end for n in self.nodes for i in n.rows)
        return sum(n.end - n.start for n in self.nodes) + own + sum(len(seqs[i]) for i in self.loose)

    def walk(self, prefill: Callable[[TreeNode, S | None], S]) -> Iterator[tuple[S | None, tuple[int, ...]]]:
        """Each node's prefix state (``prefill(node, parent's state)``) with the rows attached there, in order,
        then the loose rows with None. A node's state is dropped as soon as its whole subtree is done, so at
        most one root-to-leaf path of caches is alive."""
        states: dict[int, S] = {}
        for node in self.nodes:
            parent = states[node.parent] if node.parent is not None else None
            state = states[node.index] = prefill(node, parent)
            if node.rows:
                yield state, node.rows
            for k in [k for k in states if self.nodes[k].last_descendant == node.index]:
                del states[k]
        if self.loose:
            yield None, self.loose


class _Builder:
    def __init__(self, seqs: Sequence[Sequence[int]], min_prefix: int, min_saving: int) -> None:
        self.seqs = seqs
        self.min_prefix = min_prefix
        self.min_saving = min_saving
        self.nodes: list[dict] = []
        self.loose: list[int] = []

    def worth(self, shared: int, members: int) -> bool:
        return shared >= self.min_prefix and (members - 1) * shared >= self.min_saving

    def attach(self, node: int | None, members: Sequence[int]) -> None:
        if node is None:
            self.loose.extend(members)
        else:
            self.nodes[node]["rows"].extend(members)

    def build(self, members: list[int]) -> None:
        """Visit the splits depth first (an explicit stack: nesting can be as deep as there are sequences)."""
        stack: list[tuple[list[int], int | None, int]] = [(members, None, 0)]
        while stack:
            stack.extend(reversed(self.visit(*stack.pop())))

    def visit(self, members: list[int], anchor: int | None, anchor_end: int) -> list[tuple[list[int], int | None, int]]:
        """``members`` (sorted by their sequences) share more than ``anchor_end`` tokens, or are one; returns
        the parts still to visit, in order."""
        seqs = self.seqs
        if len(members) == 1:
            self.attach(anchor, members)
            return []
        cap = min(len(seqs[i]) for i in members) - 1  # each keeps one token of its own
        shared = min(common_prefix_len([seqs[members[0]], seqs[members[-1]]]), cap)
        if shared > anchor_end and self.worth(shared - anchor_end, len(members)):
            self.nodes.append({"parent": anchor, "source": members[0], "start": anchor_end, "end": shared, "rows": []})
            anchor, anchor_end = len(self.nodes) - 1, shared
        if shared == cap:  # some members end one token after the shared part: they stay here
            ending = [i for i in members if len(seqs[i]) == shared + 1]
            self.attach(anchor, ending)
            rest = [i for i in members if len(seqs[i]) > shared + 1]
            return [(rest, anchor, anchor_end)] if rest else []
        split: list[list[int]] = []
        for i in members:  # sorted, so equal tokens at `shared` are neighbours
            if split and seqs[split[-1][0]][shared] == seqs[i][shared]:
                split[-1].append(i)
            else:
                split.append([i])
        return [(part, anchor, anchor_end) for part in split]


def plan_prefix_tree(seqs: Sequence[Sequence[int]], groups: Sequence[Hashable | None], *,
                     min_prefix: int = MIN_SHARED_PREFIX, min_saving: int = MIN_NODE_SAVING,
                     enabled: bool = True) -> TreePlan:
    """Plan the shared prefixes of ``seqs``; requests without a group (or with caching off) share nothing."""
    keyed = [i for i, g in enumerate(groups) if g is not None] if enabled else []
    loose = sorted(set(range(len(seqs))) - set(keyed))
    builder = _Builder(seqs, min_prefix, min_saving)
    keyed.sort(key=lambda i: (tuple(seqs[i]), i))
    if len(keyed) > 1:
        builder.build(keyed)
    else:
        builder.loose.extend(keyed)
    # nodes were appended in depth-first pre-order, so a subtree is a contiguous run: its last node is
    # the last one before the next node that is not a descendant
    last = list(range(len(builder.nodes)))
    for k in range(len(builder.nodes) - 1, -1, -1):
        parent = builder.nodes[k]["parent"]
        if parent is not None:
            last[parent] = max(last[parent], last[k])
    nodes = tuple(TreeNode(k, n["parent"], n["source"], n["start"], n["end"], tuple(sorted(n["rows"])), last[k])
                  for k, n in enumerate(builder.nodes))
    return TreePlan(nodes, tuple(sorted(builder.loose + loose)))
