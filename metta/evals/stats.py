"""Scores with their uncertainty: binomial confidence intervals, an exact test between two policies, t-intervals
of means, the Mantel–Haenszel rate ratio over strata, and the effect a t-interval of n units can detect."""
from __future__ import annotations

import functools
import math

CORRECTION = 0.5  # added to the hits of a rate ratio whose numerator or denominator is 0
ONE_SEED = "no interval: one seed"


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


def mh_rate_ratio(strata, correction: float = CORRECTION) -> dict:
    """The Mantel–Haenszel rate ratio (kin over strangers) over ``strata`` [(hk, ck, hs, cs), ...]: h hits, c chances,
    k kin, s strangers; one stratum per episode. RR_MH = Σ hk·cs/T / Σ hs·ck/T with T = ck + cs. A stratum without both
    kinds of chance adds nothing; when either sum is 0, ``correction`` is added to hk and hs of every informative
    stratum (``corrected`` True); with no informative stratum there is no ratio. Returns ``ratio``, ``log_ratio``,
    ``corrected``, the pooled counts and the pooled rates (Σ h / Σ c)."""
    strata = [s for s in strata if s is not None]
    hk, ck, hs, cs = (sum(s[i] for s in strata) for i in range(4))
    out = {"hits_kin": hk, "chances_kin": ck, "hits_strangers": hs, "chances_strangers": cs,
           "rate_kin": hk / ck if ck else None, "rate_strangers": hs / cs if cs else None,
           "ratio": None, "log_ratio": None, "corrected": False}
    informative = [s for s in strata if s[1] > 0 and s[3] > 0]
    if not informative:
        return out

    def sums(add: float):
        num = sum((k + add) * c_s / (c_k + c_s) for k, c_k, _, c_s in informative)
        den = sum((s + add) * c_k / (c_k + c_s) for _, c_k, s, c_s in informative)
        return num, den

    num, den = sums(0.0)
    if num == 0 or den == 0:
        num, den = sums(correction)
        out["corrected"] = True
    out["ratio"] = num / den
    out["log_ratio"] = math.log(num / den)
    return out


def power(sd: float | None, n: int, level: float = 0.95, target: float = 0.80) -> dict:
    """The smallest ratio n seeds with log-ratio spread ``sd`` tell from 1 at ``level``, and the ratio detected with
    ``target`` power: exp(t_{(1+level)/2, n−1}·sd/√n), exp((t_{(1+level)/2, n−1} + t_{target, n−1})·sd/√n)."""
    if n < 2 or sd is None:
        return {"detectable": None, "mdr80": None, "note": ONE_SEED if n == 1 else "no seeds"}
    se = sd / math.sqrt(n)
    t = t_quantile((1 + level) / 2, n - 1)
    return {"detectable": math.exp(t * se), "mdr80": math.exp((t + t_quantile(target, n - 1)) * se), "note": None}
