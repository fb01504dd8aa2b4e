"""Scores with their uncertainty: binomial confidence intervals, an exact test between two policies, t-intervals
of means (scipy.stats.t), the kin/stranger rate ratio of a run with its exact interval (``rate_ratio``; the old
Mantel–Haenszel ``mh_rate_ratio`` is kept for comparison), a Poisson GLM kin x arm contrast (``glm_contrast``), a
one-sample t contrast across runs (``contrast_across_runs``) and the effect n units can detect (``power``,
statsmodels' exact noncentral-t power)."""
from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np
from scipy import stats as sps

CORRECTION = 0.5  # mh_rate_ratio: added to the hits of every stratum when its numerator or denominator is 0
ONE_SEED = "no interval: one seed"
JEFFREYS = 0.5  # rate_ratio: the Beta(1/2, 1/2) prior's half-count, added to each of the two hit counts


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


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t with ``df`` degrees of freedom: scipy.stats.t.ppf."""
    if not 0.5 < p < 1 or not df > 0:
        raise ValueError(f"t_quantile needs 0.5 < p < 1 and df > 0, got p={p}, df={df}")
    return float(sps.t.ppf(p, df))


def mean_interval(values, level: float = 0.95) -> dict:
    """Mean, sample standard deviation, n and the t-interval mean +- t_{(1+level)/2, n-1} sd / sqrt(n) of
    ``values`` (scipy.stats.t): the interval is None for fewer than two values, the mean too for none."""
    xs = np.asarray([float(v) for v in values], dtype=np.float64)
    n = len(xs)
    if n < 2:
        return {"mean": float(xs.mean()) if n else None, "sd": None, "n": n, "lo": None, "hi": None}
    mean = float(xs.mean())
    sd = float(xs.std(ddof=1))
    half = t_quantile((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return {"mean": mean, "sd": sd, "n": n, "lo": mean - half, "hi": mean + half}


def mh_rate_ratio(strata, correction: float = CORRECTION) -> dict:
    """The OLD estimator, kept for comparison only (use ``rate_ratio``): biased when events are few. Its 0.5 added to
    the kin and the stranger hits of every episode is equal pseudo-data on unequal exposures (stranger chances
    outnumber kin chances about 6:1), so with a handful of hits it pulls the ratio towards cs/ck; in the simulation of
    tests/test_rate_ratio.py (8 episodes, 1,000 kin and 6,000 stranger chances each, stranger rate 0.00015) its mean
    log ratio is about +0.44 too high at a true ratio of 1 and has the wrong sign at 0.67.

    The Mantel–Haenszel rate ratio (kin over strangers) over ``strata`` [(hk, ck, hs, cs), ...]: h hits, c chances,
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


def rate_ratio(strata, level: float = 0.95) -> dict:
    """The kin/stranger rate ratio of one run, from its counts pooled over ``strata`` [(hk, ck, hs, cs), ...] (h hits,
    c chances, k kin, s strangers; one per episode, None skipped; every stratum's counts are pooled, also those of an
    episode with only one kind of chance), with an exact interval.

    Model: hits are Poisson in chances with rates λk and λs, RR = λk/λs. Given the n = hk + hs events, hk is exactly
    Binomial(n, p) with p = RR·ck / (RR·ck + cs), i.e. RR = p/(1−p) · cs/ck, whatever the rates' common level.
    Point: Jeffreys' Beta(½, ½) prior on p, p̂ = (hk + ½)/(n + 1), so RR̂ = (hk + ½)/(hs + ½) · cs/ck (half a hit added
    to each count: finite at hk = 0 or hs = 0). Its bias on the log scale, exactly, over runs with 8,000 kin and
    48,000 stranger chances (tests/test_rate_ratio.py): +0.01 and +0.05 with 2.4 and 1.6 expected kin hits beside 14
    stranger hits, +0.12 and +0.25 with 1.2 and 0.8 beside 7 (no estimator is unbiased below one expected event);
    the old ``mh_rate_ratio`` is about +0.45 and +0.85 in the last two. Interval: the exact (Clopper–Pearson)
    ``level`` interval for p, from beta quantiles, mapped to RR: ``lo`` is 0 when hk = 0 and ``hi`` is math.inf when
    hs = 0 (the data bound the ratio on one side only; ``zero_count`` True). Conditional on n its coverage is at least
    ``level`` (about 0.99 in that simulation: conservative). ``p``: the exact two-sided binomial test of RR = 1
    (p = ck/(ck + cs)), twice the smaller tail, the test this interval inverts (p < 1 − level exactly when the
    interval excludes 1). Counts are integers (summed counters).

    No events (n = 0): ``ratio``/``log_ratio`` hold the prior's value cs/ck (p̂ = ½), which the data do not inform:
    ``no_events`` is True, the interval and ``p`` are None (the exact interval would be all of (0, ∞)); a caller
    aggregating runs must leave such a run out (metta.experiments.seed_stats does). No kin or no stranger chances
    (ck = 0 or cs = 0): no ratio at all (None). Returns ratio, log_ratio, lo, hi, level, p, the pooled counts and
    rates (Σ h / Σ c), events, no_events, zero_count, method."""
    strata = [s for s in strata if s is not None]
    hk, ck, hs, cs = (float(sum(s[i] for s in strata)) for i in range(4))
    n = hk + hs
    out: dict[str, Any] = {
        "ratio": None, "log_ratio": None, "lo": None, "hi": None, "level": level, "p": None,
        "hits_kin": hk, "chances_kin": ck, "hits_strangers": hs, "chances_strangers": cs,
        "rate_kin": hk / ck if ck else None, "rate_strangers": hs / cs if cs else None,
        "events": n, "no_events": n == 0, "zero_count": n > 0 and (hk == 0 or hs == 0),
        "method": "pooled counts; exact conditional binomial: Jeffreys point, Clopper-Pearson interval"}
    if ck <= 0 or cs <= 0:
        return out
    scale = cs / ck
    ratio = (hk + JEFFREYS) / (hs + JEFFREYS) * scale
    out["ratio"], out["log_ratio"] = ratio, math.log(ratio)
    if n == 0:
        return out
    a = 1 - level
    p_lo = float(sps.beta.ppf(a / 2, hk, hs + 1)) if hk > 0 else 0.0
    p_hi = float(sps.beta.ppf(1 - a / 2, hk + 1, hs)) if hs > 0 else 1.0
    out["lo"] = p_lo / (1 - p_lo) * scale
    out["hi"] = p_hi / (1 - p_hi) * scale if p_hi < 1 else math.inf
    k, m, p0 = int(round(hk)), int(round(n)), ck / (ck + cs)
    out["p"] = min(1.0, 2 * float(min(sps.binom.sf(k - 1, m, p0), sps.binom.cdf(k, m, p0))))
    return out


def glm_contrast(cells, level: float = 0.95) -> dict:
    """A secondary check: the kin × arm interaction of a Poisson GLM (statsmodels; log link, offset log chances) over
    ``cells`` [(hits, chances, kin, arm), ...] with kin, arm in {0, 1} (rows may repeat a cell, e.g. one per
    episode; rows without chances are dropped): log E[hits] = log chances + b0 + b1·kin + b2·arm + b3·kin·arm.
    b3 is the log of (arm 1's kin/stranger rate ratio) / (arm 0's). Returns ``estimate`` b3, its Wald ``se``, ``lo``,
    ``hi`` (``level``), ``p``, the same on the ratio scale (``ratio``, ``ratio_lo``, ``ratio_hi``) and ``dispersion``
    (Pearson χ²/df, None with one row per cell: above 1, the Poisson SE is too small). All None with a ``note`` when
    a cell has no chances (not estimable), no hits (the MLE is infinite), or the fit fails or does not converge."""
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    out = {"estimate": None, "se": None, "lo": None, "hi": None, "p": None, "ratio": None, "ratio_lo": None,
           "ratio_hi": None, "dispersion": None, "level": level, "converged": False, "note": None,
           "method": "Poisson GLM, offset log(chances), kin x arm interaction, Wald interval"}
    rows = np.asarray([r for r in cells if r is not None], dtype=np.float64).reshape(-1, 4)
    if not np.isin(rows[:, 2:], (0, 1)).all():
        raise ValueError("glm_contrast: kin and arm must be 0 or 1")
    rows = rows[rows[:, 1] > 0]
    for kin in (0, 1):
        for arm in (0, 1):
            cell = rows[(rows[:, 2] == kin) & (rows[:, 3] == arm)]
            if len(cell) == 0:
                out["note"] = f"no chances for kin={kin}, arm={arm}: the interaction is not estimable"
                return out
            if cell[:, 0].sum() == 0:
                out["note"] = f"no hits for kin={kin}, arm={arm}: the interaction's MLE is infinite"
                return out
    kins, arms = rows[:, 2], rows[:, 3]
    x = np.column_stack([np.ones(len(rows)), kins, arms, kins * arms])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = GLM(rows[:, 0], x, family=Poisson(), offset=np.log(rows[:, 1])).fit()
    except (ValueError, np.linalg.LinAlgError, RuntimeError) as err:
        out["note"] = f"the fit failed: {err}"
        return out
    b, se = float(fit.params[3]), float(fit.bse[3])
    out["converged"] = bool(fit.converged)
    if not fit.converged or not (math.isfinite(b) and math.isfinite(se)) or se > 100:
        out["note"] = "the fit did not converge to a finite estimate"
        return out
    z = float(sps.norm.ppf((1 + level) / 2))
    out.update(estimate=b, se=se, lo=b - z * se, hi=b + z * se, p=float(fit.pvalues[3]), ratio=math.exp(b),
               ratio_lo=math.exp(b - z * se), ratio_hi=math.exp(b + z * se),
               dispersion=float(fit.pearson_chi2 / fit.df_resid) if fit.df_resid > 0 else None)
    return out


@functools.lru_cache(maxsize=None)
def smallest_effect(n: int, level: float = 0.95, target: float = 0.80) -> float:
    """The smallest standardized effect d = mean/sd a two-sided one-sample t-test at 1 − ``level`` detects with
    ``target`` power from n units (statsmodels TTestPower: exact, noncentral t)."""
    from statsmodels.stats.power import TTestPower

    return float(TTestPower().solve_power(effect_size=None, nobs=n, alpha=1 - level, power=target,
                                          alternative="two-sided"))


def power(sd: float | None, n: int, level: float = 0.95, target: float = 0.80) -> dict:
    """What n seeds with log-ratio spread ``sd`` can detect. ``detectable``: the smallest ratio whose ``level``
    t-interval excludes 1, exp(t_{(1+level)/2, n−1}·sd/√n); ``mdr80``: the ratio detected with ``target`` power by a
    two-sided one-sample t-test at 1 − ``level``, exp(d·sd) with d from ``smallest_effect`` (exact noncentral-t
    power). Ratios below 1 mirror them (1/detectable, 1/mdr80)."""
    if n < 2 or sd is None:
        return {"detectable": None, "mdr80": None, "note": ONE_SEED if n == 1 else "no seeds"}
    t = t_quantile((1 + level) / 2, n - 1)
    return {"detectable": math.exp(t * sd / math.sqrt(n)), "mdr80": math.exp(smallest_effect(n, level, target) * sd),
            "note": None}


def contrast_across_runs(values, level: float = 0.95, target: float = 0.80) -> dict:
    """A one-sample (or paired: pass the per-run differences) contrast across runs, each run one value (e.g. its log
    rate ratio, or the difference of two log ratios); None values are skipped. Returns ``mean``, ``sd``, ``n``, the
    ``level`` t-interval ``lo``, ``hi``, the two-sided p of scipy.stats.ttest_1samp against 0, and on the values'
    own (log) scale ``detectable`` = t_{(1+level)/2, n−1}·sd/√n (the smallest |mean| whose interval excludes 0) and
    ``mde80`` = d·sd, the smallest |effect| detected with ``target`` power at this n and spread (statsmodels). All
    but mean and n are None for fewer than two values; ``p`` is None when the values do not vary."""
    xs = [float(v) for v in values if v is not None]
    out = {**mean_interval(xs, level), "p": None, "detectable": None, "mde80": None, "level": level}
    n = out["n"]
    if n < 2:
        return out
    if out["sd"] > 1e-12 * max(1.0, abs(out["mean"])):  # values that do not vary (to rounding) have no test
        out["p"] = float(sps.ttest_1samp(xs, 0.0).pvalue)
    out["detectable"] = t_quantile((1 + level) / 2, n - 1) * out["sd"] / math.sqrt(n)
    out["mde80"] = smallest_effect(n, level, target) * out["sd"]
    return out
