"""Scores with their uncertainty: binomial confidence intervals, an exact test between two policies, and t-intervals
of means."""
from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=None)
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (p > 0.5) of Student's t with ``df`` degrees of freedom, exact to float precision.

    Inverts the closed form of P(|T| <= t) for integer df (Abramowitz & Stegun 26.7.3-4, a finite sum in
    theta = atan(t / sqrt(df))) by bisection: no table, no scipy."""
    if not 0.5 < p < 1 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 < p < 1 and df >= 1, got p={p}, df={df}")

    def two_sided(t: float) -> float:
        theta = math.atan(t / math.sqrt(df))
        c2, total = math.cos(theta) ** 2, 0.0
        term, m = (math.cos(theta), 1) if df % 2 else (1.0, 1)
        for _ in range((df - 1) // 2 if df % 2 else df // 2):
            total += term
            term *= c2 * ((2 * m) / (2 * m + 1) if df % 2 else (2 * m - 1) / (2 * m))
            m += 1
            if term < 1e-17 * total:
                break
        if df % 2:
            return 2 / math.pi * (theta + math.sin(theta) * total)
        return math.sin(theta) * total

    target, lo, hi = 2 * p - 1, 0.0, 1.0
    while two_sided(hi) < target:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if two_sided(mid) < target else (lo, mid)
        if hi - lo <= 1e-15 * hi:
            break
    return (lo + hi) / 2


def mean_interval(values, level: float = 0.95) -> dict:
    """Mean, sample standard deviation, n and the t-interval mean +- t_{(1+level)/2, n-1} sd / sqrt(n) of
    ``values``: the interval is None for fewer than two values, the mean too for none."""
    xs = [float(v) for v in values]
    n = len(xs)
    mean = sum(xs) / n if n else None
    if n < 2:
        return {"mean": mean, "sd": None, "n": n, "lo": None, "hi": None}
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_quantile((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return {"mean": mean, "sd": sd, "n": n, "lo": mean - half, "hi": mean + half}
