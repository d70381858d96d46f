"""The statistics, cross-checked against scipy (a dev extra; toolkit never imports it)."""

from __future__ import annotations

import doctest
import random

import pytest
from scipy import stats as sp

import toolkit.analysis.stats as stats_module
from toolkit.analysis.stats import binomial_cdf_half, holm, mcnemar_exact, point_biserial, wilson_interval


@pytest.mark.parametrize("successes,trials", [(0, 1), (1, 1), (0, 5), (5, 5), (8, 19), (2, 3), (50, 100), (999, 1000),
                                             (1, 10_000), (4321, 10_000)])
def test_wilson_matches_scipy(successes: int, trials: int) -> None:
    ci = sp.binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(successes, trials)
    assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)
    assert 0.0 <= low <= successes / trials <= high <= 1.0


def test_wilson_refuses_impossible_counts() -> None:
    for bad in ((1, 0), (-1, 3), (4, 3)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)


def test_exact_mcnemar_matches_scipy_small_and_large() -> None:
    rng = random.Random(7)
    cases = [(0, 0), (0, 1), (1, 0), (3, 3), (0, 6), (11, 2), (2, 11)]
    cases += [(rng.randrange(60), rng.randrange(60)) for _ in range(40)]
    cases += [(1000, 1100), (2400, 2600), (40_000, 40_500), (10, 3000)]  # the log-space path above 2,000 trials
    for b, c in cases:
        expected = 1.0 if b + c == 0 else sp.binomtest(b, b + c, 0.5).pvalue
        assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9, abs=1e-300), (b, c)


def test_binomial_tail_matches_scipy() -> None:
    for n in (1, 2, 7, 40, 2000, 2001, 5000):
        for k in (0, n // 3, n // 2, n - 1):
            assert binomial_cdf_half(k, n) == pytest.approx(sp.binom.cdf(k, n, 0.5), rel=1e-9, abs=1e-300), (k, n)
    assert binomial_cdf_half(-1, 5) == 0.0 and binomial_cdf_half(5, 5) == 1.0


def test_holm_matches_the_step_down_definition() -> None:
    rng = random.Random(3)
    for _ in range(50):
        ps = [rng.random() ** 3 for _ in range(rng.randrange(1, 12))]
        m = len(ps)
        order = sorted(range(m), key=lambda i: ps[i])
        expected, running = [0.0] * m, 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * ps[i]))
            expected[i] = running
        assert holm(ps) == pytest.approx(expected)
        # rejections at alpha are exactly Holm's procedure: reject in order while p_(j) <= alpha/(m-j)
        alpha = 0.05
        rejected = set()
        for rank, i in enumerate(order):
            if ps[i] > alpha / (m - rank):
                break
            rejected.add(i)
        assert {i for i, p in enumerate(holm(ps)) if p <= alpha} == rejected


def test_point_biserial_is_pearson() -> None:
    rng = random.Random(5)
    for _ in range(20):
        xs = [float(rng.random() < 0.5) for _ in range(9)]
        ys = [rng.random() for _ in range(9)]
        r = point_biserial(xs, ys)
        if len(set(xs)) == 1:
            assert r is None
        else:
            assert r == pytest.approx(sp.pearsonr(xs, ys).statistic)
    assert point_biserial([1, 0], [0.5, 0.5]) is None


def test_docstring_examples_run() -> None:
    assert doctest.testmod(stats_module).failed == 0
