"""The prefix tree: every shared prefix worth a forward pass becomes a node, computed once."""

from __future__ import annotations

import random

from toolkit.models.prefix_tree import plan_prefix_tree


def _trie_size(seqs):
    """Distinct (position, prefix) pairs: what a perfect prefix cache computes."""
    return len({tuple(s[:i + 1]) for s in seqs for i in range(len(s))})


def _check_invariants(plan, seqs):
    seen = sorted([i for n in plan.nodes for i in n.rows] + list(plan.loose))
    assert seen == list(range(len(seqs)))  # every sequence exactly once
    by_index = {n.index: n for n in plan.nodes}
    for pos, node in enumerate(plan.nodes):
        assert node.index == pos
        prefix = tuple(seqs[node.source][:node.end])
        if node.parent is None:
            assert node.start == 0
        else:
            parent = by_index[node.parent]
            assert parent.index < node.index and node.start == parent.end < node.end
            assert node.index <= parent.last_descendant
        for i in node.rows:
            assert tuple(seqs[i][:node.end]) == prefix and len(seqs[i]) > node.end  # one own token at least


def test_prompts_that_dropped_examples_share_the_instruction_and_the_examples_they_kept():
    # C-Eval logic under --max-seq-len: 16 prompts with examples 1-4, 6 with examples 1-3 only
    rng = random.Random(0)
    header, ex = [7] * 40, [[rng.randrange(100, 200) for _ in range(300)] for _ in range(4)]
    full = header + ex[0] + ex[1] + ex[2] + ex[3]
    short = header + ex[0] + ex[1] + ex[2]
    seqs = [tuple(full + [rng.randrange(300, 400) for _ in range(rng.randrange(20, 60))]) for _ in range(16)]
    seqs += [tuple(short + [rng.randrange(400, 500) for _ in range(rng.randrange(20, 60))]) for _ in range(6)]
    keys = [("logic", "examples 1-4")] * 16 + [("logic", "examples 1-3")] * 6  # two ice keys, one tree
    plan = plan_prefix_tree(seqs, keys)
    _check_invariants(plan, seqs)
    assert [(n.parent, n.start, n.end) for n in plan.nodes] == [(None, 0, len(short)), (0, len(short), len(full))]
    assert sorted(plan.nodes[0].rows) == list(range(16, 22)) and sorted(plan.nodes[1].rows) == list(range(16))
    assert plan.nodes[0].last_descendant == 1 and plan.nodes[1].last_descendant == 1
    # the shared 940 tokens once and the 300 of the fourth example once, not 22 whole prompts
    assert plan.unique_tokens(seqs) == len(full) + sum(len(s) - len(full) for s in seqs[:16]) + sum(
        len(s) - len(short) for s in seqs[16:])


def test_short_shared_stretches_stay_on_the_parent():
    base = [1] * 30
    seqs = [tuple(base + [2, 3, 4] + [10 + i]) for i in range(3)] + [tuple(base + [5, 6])]
    plan = plan_prefix_tree(seqs, ["s"] * 4, min_saving=64)
    _check_invariants(plan, seqs)
    assert [(n.start, n.end) for n in plan.nodes] == [(0, 30)]  # [2, 3, 4] saves 6 tokens: not a node
    assert plan.nodes[0].rows == (0, 1, 2, 3)
    plan = plan_prefix_tree(seqs, ["s"] * 4, min_prefix=3, min_saving=6)
    assert [(n.start, n.end) for n in plan.nodes] == [(0, 30), (30, 33)]


def test_no_group_or_caching_off_means_no_prefix():
    seqs = [tuple([1] * 50 + [i]) for i in range(4)]
    assert plan_prefix_tree(seqs, [None] * 4).loose == (0, 1, 2, 3)
    assert plan_prefix_tree(seqs, ["g"] * 4, enabled=False).nodes == ()
    mixed = plan_prefix_tree(seqs, ["g", None, "g", "g"])
    assert mixed.loose == (1,) and mixed.nodes[0].rows == (0, 2, 3)
    assert plan_prefix_tree(seqs[:1], ["g"]).loose == (0,)  # one prompt alone: nothing to share


def test_duplicates_and_prompts_that_are_prefixes_of_others():
    a = tuple(range(100))
    seqs = [a, a, a[:60], a + (5, 6), a[:60]]
    plan = plan_prefix_tree(seqs, ["g"] * 5)
    _check_invariants(plan, seqs)
    assert plan.unique_tokens(seqs) >= _trie_size(seqs)


def test_deep_nesting_does_not_recurse():
    seqs = [tuple(range(i + 2)) for i in range(3000)]  # each a prefix of the next
    plan = plan_prefix_tree(seqs, ["g"] * len(seqs), min_prefix=1, min_saving=1)
    _check_invariants(plan, seqs)


def test_random_banks_keep_the_invariants_and_save_what_a_trie_saves():
    rng = random.Random(1)
    for _ in range(30):
        stems = [[rng.randrange(5) for _ in range(rng.randrange(1, 80))] for _ in range(3)]
        seqs = []
        for _ in range(rng.randrange(1, 25)):
            stem = rng.choice(stems)
            seqs.append(tuple(stem[:rng.randrange(0, len(stem) + 1)] + [rng.randrange(5) for _ in range(rng.randrange(1, 9))]))
        plan = plan_prefix_tree(seqs, ["g"] * len(seqs), min_prefix=1, min_saving=1)
        _check_invariants(plan, seqs)
        # with every stretch worth a node, only the rows' own tails are ever recomputed
        assert plan.unique_tokens(seqs) <= _trie_size(seqs) + len(seqs)
