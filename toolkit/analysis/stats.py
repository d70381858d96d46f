"""The statistics behind the numbers: Wilson intervals, the exact McNemar test, Holm's correction.

Pure Python (``math`` only); the tests cross-check each against scipy, which toolkit never imports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval."""
_EXACT_LIMIT = 2000
"""Up to this many trials binomial tails are summed exactly in integers; above, in log space."""


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion, as fractions in [0, 1].

    Unlike the textbook ``p ± z·se`` it never leaves [0, 1] and is not empty at 0 % or
    100 %, which is what small subjects need. Raises ValueError for impossible counts.

    Example:
        >>> [round(x, 4) for x in wilson_interval(8, 19)]
        [0.2314, 0.6372]
        >>> wilson_interval(0, 10)[0], round(wilson_interval(0, 10)[1], 4)
        (0.0, 0.2775)
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    low, high = centre - half, centre + half
    # exact ends where the formula's rounding would leave a hair outside
    return (0.0 if successes == 0 else max(0.0, low)), (1.0 if successes == trials else min(1.0, high))


def binomial_cdf_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2): exact in integers for n <= 2000, log-space above.

    Example:
        >>> binomial_cdf_half(0, 3), binomial_cdf_half(1, 3), binomial_cdf_half(3, 3)
        (0.125, 0.5, 1.0)
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if n <= _EXACT_LIMIT:
        total, term = 0, 1
        for i in range(k + 1):
            total += term
            term = term * (n - i) // (i + 1)
        return total / 2**n
    log_terms = [_log_comb(n, i) - n * math.log(2) for i in range(k + 1)]
    top = max(log_terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in log_terms))


def _log_comb(n: int, i: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)


def mcnemar_exact(b: int, c: int) -> float:
    """The two-sided exact McNemar p-value for ``b`` and ``c`` discordant pairs.

    ``b``: questions the first model got right and the second wrong; ``c``: the reverse.
    Under the null each discordant pair goes either way with probability 1/2, so the
    p-value is ``min(1, 2·P(X <= min(b, c)))`` for X ~ Binomial(b + c, 1/2) (scipy's
    ``binomtest(b, b + c, 0.5)``); 1.0 when there is no discordant pair.

    Example:
        >>> mcnemar_exact(0, 0), mcnemar_exact(5, 5), round(mcnemar_exact(0, 6), 5)
        (1.0, 1.0, 0.03125)
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be >= 0")
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2 * binomial_cdf_half(min(b, c), n))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control), in the input order.

    A hypothesis is rejected at level α when its adjusted p-value is <= α; the adjusted
    values are monotone in the raw ones and capped at 1.

    Example:
        >>> holm([0.01, 0.04, 0.03])
        [0.03, 0.06, 0.06]
    """
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def point_biserial(item: Sequence[float], totals: Sequence[float]) -> float | None:
    """Pearson's correlation of a 0/1 item with the totals (None when either does not vary).

    Example:
        >>> point_biserial([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.2])
        0.9863939238321437
        >>> point_biserial([1, 1, 1], [0.9, 0.5, 0.1]) is None
        True
    """
    n = len(item)
    if n != len(totals) or n < 2:
        return None
    mx, my = sum(item) / n, sum(totals) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(item, totals))
    sxx = sum((x - mx) ** 2 for x in item)
    syy = sum((y - my) ** 2 for y in totals)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sxy / math.sqrt(sxx * syy)
