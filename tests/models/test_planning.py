"""Prefix groups and token-budget batches (pure planning)."""

from __future__ import annotations

from toolkit.models.planning import common_prefix_len, plan_batches, plan_prefix_groups


def test_common_prefix_len_handles_empty_and_short_sequences():
    assert common_prefix_len([]) == 0
    assert common_prefix_len([(1, 2, 3)]) == 3
    assert common_prefix_len([(1, 2, 3), (1, 2), (1, 9)]) == 1
    assert common_prefix_len([(5,), (6,)]) == 0


def test_prefix_groups_share_only_within_a_group_and_leave_each_member_a_token():
    base = tuple(range(20))
    seqs = [base + (100,), base + (101, 102), base, (7,) * 30]
    groups = plan_prefix_groups(seqs, ["a", "a", "a", "b"])
    by_members = {g.members: g.prefix_len for g in groups}
    # member 2 is exactly the prefix: the shared part stops one token short of it
    assert by_members[(0, 1, 2)] == 19
    # a group of one shares nothing worth caching... except with itself, capped at len-1
    assert by_members[(3,)] == 29


def test_prefix_groups_fall_back_to_no_prefix_when_short_or_disabled():
    seqs = [(1, 2, 3), (1, 2, 4)]
    assert plan_prefix_groups(seqs, ["g", "g"])[0].prefix_len == 0  # 2 shared tokens < minimum
    assert plan_prefix_groups([(1,) * 50, (1,) * 60], ["g", "g"], enabled=False)[0].prefix_len == 0
    loose = plan_prefix_groups([(1,) * 50, (2,) * 50], [None, None])
    assert [(g.prefix_len, g.members) for g in loose] == [(0, (0, 1))]


def test_batches_are_longest_first_and_respect_the_token_budget():
    lengths = [10, 300, 20, 290, 5, 5]
    batches = plan_batches(lengths, max_batch=8, token_budget=600)
    assert batches[0] == [1, 3]  # 2 rows x 300 tokens = 600
    assert sorted(i for b in batches for i in b) == list(range(6))
    for b in batches:
        assert len(b) * max(lengths[i] for i in b) <= 600 or len(b) == 1


def test_batches_respect_max_batch_and_kv_budget():
    assert all(len(b) <= 2 for b in plan_batches([1] * 7, max_batch=2, token_budget=10_000))
    # 100 prefix tokens per row: kv budget 250 allows two rows of 20
    batches = plan_batches([20, 20, 20], max_batch=8, token_budget=10_000, context_len=100, kv_budget=250)
    assert [len(b) for b in batches] == [2, 1]


def test_a_row_longer_than_the_budget_still_runs_alone():
    assert plan_batches([5000, 10], max_batch=4, token_budget=100) == [[0], [1]]
