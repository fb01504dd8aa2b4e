"""Scores with their uncertainty: binomial confidence intervals and an exact test between two policies."""
from __future__ import annotations

import math


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval (95% by default) for a success rate: honest at 0/n and n/n, unlike p +- z*se."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test that successes k1/n1 and k2/n2 share one rate.

    Exact for the small episode counts an eval suite runs: the probability, under the
    hypergeometric law with the observed margins, of tables no more likely than the one seen.
    """
    total, successes = n1 + n2, k1 + k2

    def prob(k: int) -> float:
        return math.comb(n1, k) * math.comb(n2, successes - k) / math.comb(total, successes)

    observed = prob(k1)
    lo, hi = max(0, successes - n2), min(n1, successes)
    return min(1.0, sum(p for p in (prob(k) for k in range(lo, hi + 1)) if p <= observed * (1 + 1e-9)))
