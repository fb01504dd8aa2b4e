"""The kin/stranger rate ratio of a run (metta.evals.stats.rate_ratio) against hand-computed numbers and in a
simulation of few events, beside the old Mantel–Haenszel estimator it replaces; the Poisson GLM contrast, the
contrast across runs and the power of n runs against closed forms and published values."""
import math

import numpy as np
import pytest

A = 0.05  # 1 - level: the 95% intervals


def test_rate_ratio_point_and_exact_interval_by_hand():
    from metta.evals.stats import rate_ratio

    # one kin hit in 10 chances, one stranger hit in 30: RR = 1.5/1.5 * 30/10 = 3; given n = 2 events, hk ~ Bin(2, p)
    # and the Clopper-Pearson bounds solve 1 - (1 - p)^2 = 0.025 and 1 - p^2 = 0.025
    r = rate_ratio([(1, 10, 1, 30)])
    p_lo, p_hi = 1 - math.sqrt(1 - A / 2), math.sqrt(1 - A / 2)
    assert r["ratio"] == pytest.approx(3.0, rel=1e-12) and r["log_ratio"] == pytest.approx(math.log(3))
    assert r["lo"] == pytest.approx(p_lo / (1 - p_lo) * 3, rel=1e-9)
    assert r["hi"] == pytest.approx(p_hi / (1 - p_hi) * 3, rel=1e-9)
    # exact test of RR = 1, p0 = 10/40: P(X=0), P(1), P(2) = 9/16, 6/16, 1/16; twice the smaller tail P(X >= 1)
    assert r["p"] == pytest.approx(2 * 7 / 16, rel=1e-9)
    assert (r["rate_kin"], r["rate_strangers"], r["events"]) == (0.1, 1 / 30, 2)
    assert not r["no_events"] and not r["zero_count"]
    # no kin hit: RR = 0.5/3.5 * 60/10 = 6/7, lo = 0, hi from (1 - p)^3 = 0.025
    r = rate_ratio([(0, 10, 3, 60)])
    p_hi = 1 - (A / 2) ** (1 / 3)
    assert r["ratio"] == pytest.approx(6 / 7, rel=1e-12) and r["lo"] == 0.0 and r["zero_count"]
    assert r["hi"] == pytest.approx(p_hi / (1 - p_hi) * 6, rel=1e-9)
    # no stranger hit: RR = 2.5/0.5 * 6/10 = 3, hi unbounded, lo from p^2 = 0.025
    r = rate_ratio([(1, 4, 0, 4), (1, 6, 0, 2)])
    p_lo = math.sqrt(A / 2)
    assert r["ratio"] == pytest.approx(3.0, rel=1e-12) and r["hi"] == math.inf and r["zero_count"]
    assert r["lo"] == pytest.approx(p_lo / (1 - p_lo) * 0.6, rel=1e-9)


def test_rate_ratio_pools_every_episode_and_says_when_it_has_nothing():
    from metta.evals.stats import rate_ratio

    # counts are pooled over all episodes, also those with one kind of chance only (unlike Mantel-Haenszel)
    r = rate_ratio([(2, 10, 1, 20), None, (0, 5, 3, 15), (0, 0, 5, 9), (3, 7, 0, 0)])
    assert (r["hits_kin"], r["chances_kin"], r["hits_strangers"], r["chances_strangers"]) == (5, 22, 9, 44)
    assert r["ratio"] == pytest.approx(5.5 / 9.5 * 2, rel=1e-12)
    # no event: the prior's value cs/ck, flagged, and no interval
    r = rate_ratio([(0, 10, 0, 60)])
    assert r["no_events"] and r["ratio"] == pytest.approx(6.0) and r["lo"] is None and r["hi"] is None
    assert r["p"] is None
    # no kin (or no stranger) chances: no ratio
    for strata in ([(0, 0, 5, 9)], [(3, 7, 0, 0)], [], [None]):
        r = rate_ratio(strata)
        assert r["ratio"] is None and r["log_ratio"] is None and r["lo"] is None


def test_rate_ratio_interval_is_scipys_exact_binomial_interval():
    from scipy.stats import binomtest

    from metta.evals.stats import rate_ratio

    for hk, ck, hs, cs in [(3, 1000, 17, 6000), (0, 800, 5, 5000), (12, 900, 2, 6100), (40, 8000, 300, 48000)]:
        r = rate_ratio([(hk, ck, hs, cs)])
        ci = binomtest(hk, hk + hs).proportion_ci(confidence_level=1 - A, method="exact")
        to_rr = lambda p: p / (1 - p) * cs / ck if p < 1 else math.inf  # noqa: E731
        assert r["lo"] == pytest.approx(to_rr(ci.low), rel=1e-6, abs=1e-12)
        assert r["hi"] == pytest.approx(to_rr(ci.high), rel=1e-6)
        assert (r["p"] < A) == (r["lo"] > 1 or r["hi"] < 1)  # the test the interval inverts
    # 4/9398 kin, 4/46484 strangers: P(X >= 4 | 8 events, p0 = 9398/55882) = 0.0316, so p = 0.063 (not the 0.032 of
    # a minimum-likelihood two-sided test) and the interval reaches below 1
    r = rate_ratio([(4, 9398, 4, 46484)])
    p0 = 9398 / 55882
    tail = sum(math.comb(8, k) * p0 ** k * (1 - p0) ** (8 - k) for k in range(4, 9))
    assert r["p"] == pytest.approx(2 * tail, rel=1e-9) and r["lo"] < 1


def mh_wald_covers(strata, truth):
    """The old estimator's usual interval, for the comparison only: the Mantel–Haenszel rate ratio (with the old 0.5
    correction when a sum is 0) ± 1.96 Greenland–Robins SEs on the log scale (Greenland & Robins 1985, person-time)."""
    both = [s for s in strata if s[1] > 0 and s[3] > 0]
    r0 = sum(k * c_s / (c_k + c_s) for k, c_k, _, c_s in both)
    s0 = sum(s * c_k / (c_k + c_s) for _, c_k, s, c_s in both)
    add = 0.5 if r0 == 0 or s0 == 0 else 0.0
    both = [(k + add, c_k, s + add, c_s) for k, c_k, s, c_s in both]
    r = sum(k * c_s / (c_k + c_s) for k, c_k, _, c_s in both)
    s = sum(h * c_k / (c_k + c_s) for _, c_k, h, c_s in both)
    var = sum((k + h) * c_k * c_s / (c_k + c_s) ** 2 for k, c_k, h, c_s in both) / (r * s)
    half = 1.959963984540054 * math.sqrt(var)
    return math.log(r / s) - half <= math.log(truth) <= math.log(r / s) + half


SETTINGS = [(rate, rr) for rate in (0.0003, 0.00015) for rr in (1.0, 0.67)]
DRAWS, EPISODES, KIN, STRANGERS = 2000, 8, 1000, 6000


@pytest.fixture(scope="module")
def simulation():
    """Per setting, 2,000 fabricated runs of 8 episodes (1,000 kin and 6,000 stranger chances each; binomial hits at
    the stranger rate and RR times it), both estimators on each run: bias of the mean log ratio over the runs that
    have one, and coverage of the true RR over all runs (a run without an interval does not cover)."""
    from metta.evals.stats import mh_rate_ratio, rate_ratio

    out = {}
    for i, (rate, rr) in enumerate(SETTINGS):
        rng = np.random.default_rng(20240 + i)
        hk = rng.binomial(KIN, rr * rate, size=(DRAWS, EPISODES))
        hs = rng.binomial(STRANGERS, rate, size=(DRAWS, EPISODES))
        new, old, new_cover, old_cover = [], [], 0, 0
        for d in range(DRAWS):
            strata = [(int(k), KIN, int(s), STRANGERS) for k, s in zip(hk[d], hs[d])]
            r, m = rate_ratio(strata), mh_rate_ratio(strata)
            if not r["no_events"]:
                new.append(r["log_ratio"])
                new_cover += r["lo"] <= rr <= r["hi"]
            old.append(m["log_ratio"])
            old_cover += mh_wald_covers(strata, rr)
        truth = math.log(rr)
        out[(rate, rr)] = {"new": {"n": len(new), "bias": float(np.mean(new)) - truth, "cover": new_cover / DRAWS},
                           "old": {"n": len(old), "bias": float(np.mean(old)) - truth, "cover": old_cover / DRAWS}}
    print("\n  rate      RR    estimator          runs with a ratio  bias of mean log RR  95% coverage")
    for (rate, rr), row in out.items():
        for name, label in (("new", "rate_ratio (exact)"), ("old", "MH + 0.5 (GR Wald)")):
            c = row[name]
            print(f"  {rate:<8} {rr:<5} {label:<20} {c['n']:>10}/{DRAWS}  {c['bias']:>+17.3f}  {c['cover']:>12.3f}")
    return out


def test_simulation_new_estimator_is_nearly_unbiased_with_a_few_events(simulation):
    for rr in (1.0, 0.67):
        c = simulation[(0.0003, rr)]["new"]
        assert c["n"] >= 0.99 * DRAWS and abs(c["bias"]) <= 0.1, (rr, c)


def test_simulation_new_estimator_beats_the_old_one_with_fewer_events(simulation):
    for rr in (1.0, 0.67):
        row = simulation[(0.00015, rr)]
        assert abs(row["new"]["bias"]) < abs(row["old"]["bias"]), (rr, row)


def test_simulation_exact_interval_covers(simulation):
    for key, row in simulation.items():
        assert row["new"]["cover"] >= 0.93, (key, row)


def test_simulation_documents_the_old_estimators_failure(simulation):
    # the old Mantel-Haenszel estimator with its 0.5 added to both hit counts: far off at few events, wrong sign at
    # a true ratio of 0.67 (its mean log ratio above 0)
    assert simulation[(0.00015, 1.0)]["old"]["bias"] > 0.3
    assert simulation[(0.00015, 0.67)]["old"]["bias"] + math.log(0.67) > 0


def test_glm_contrast_is_the_saturated_models_closed_form():
    from metta.evals.stats import glm_contrast

    # (hits, chances, kin, arm): with one row per cell the model is saturated, so the interaction is the log of the
    # ratio of the two arms' kin/stranger rate ratios, and its Wald SE is sqrt(sum of 1/hits)
    cells = [(4, 1000, 1, 0), (30, 6000, 0, 0), (9, 1000, 1, 1), (20, 6000, 0, 1)]
    b = math.log((9 / 1000 / (20 / 6000)) / (4 / 1000 / (30 / 6000)))
    se = math.sqrt(1 / 4 + 1 / 30 + 1 / 9 + 1 / 20)
    g = glm_contrast(cells)
    assert g["converged"] and g["note"] is None and g["dispersion"] is None
    assert g["estimate"] == pytest.approx(b, rel=1e-6) and g["se"] == pytest.approx(se, rel=1e-6)
    assert g["lo"] == pytest.approx(b - 1.959963984540054 * se, abs=1e-6)
    assert g["ratio"] == pytest.approx(math.exp(b), rel=1e-6)
    assert g["p"] == pytest.approx(math.erfc(abs(b) / se / math.sqrt(2)), rel=1e-5)
    # the same counts split evenly over two episodes per cell: the same estimate, no overdispersion at all
    split = [(h / 2, c / 2, k, a) for h, c, k, a in cells for _ in range(2)]
    g2 = glm_contrast(split)
    assert g2["estimate"] == pytest.approx(b, rel=1e-6) and g2["dispersion"] == pytest.approx(0.0, abs=1e-9)


def test_glm_contrast_says_when_a_cell_makes_it_infinite_or_unestimable():
    from metta.evals.stats import glm_contrast

    g = glm_contrast([(0, 1000, 1, 0), (30, 6000, 0, 0), (9, 1000, 1, 1), (20, 6000, 0, 1)])
    assert g["estimate"] is None and g["se"] is None and "kin=1, arm=0" in g["note"] and "infinite" in g["note"]
    g = glm_contrast([(3, 0, 1, 0), (30, 6000, 0, 0), (9, 1000, 1, 1), (20, 6000, 0, 1)])
    assert g["estimate"] is None and "not estimable" in g["note"]
    with pytest.raises(ValueError):
        glm_contrast([(1, 10, 2, 0)])


def test_contrast_across_runs_by_hand():
    from metta.evals.stats import contrast_across_runs

    xs = [0.1, 0.3, -0.2, 0.4]
    mean = 0.15
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / 3)
    t975_3 = 3.182446305284263  # Student's t, 0.975 quantile, df 3 (any table)
    c = contrast_across_runs(xs + [None])
    assert c["n"] == 4 and c["mean"] == pytest.approx(mean) and c["sd"] == pytest.approx(sd)
    assert c["hi"] == pytest.approx(mean + t975_3 * sd / 2, rel=1e-9)
    # df 3's t distribution in closed form: F(t) = 1/2 + (t/(sqrt3 (1 + t^2/3)) + atan(t/sqrt3)) / pi
    t = mean / (sd / 2)
    cdf = 0.5 + (t / (math.sqrt(3) * (1 + t * t / 3)) + math.atan(t / math.sqrt(3))) / math.pi
    assert c["p"] == pytest.approx(2 * (1 - cdf), rel=1e-9)
    assert c["detectable"] == pytest.approx(t975_3 * sd / 2, rel=1e-9)
    assert c["mde80"] > c["detectable"]  # 80% power needs more than a bare 95% exclusion
    one = contrast_across_runs([0.3])
    assert one["n"] == 1 and one["lo"] is None and one["p"] is None and one["mde80"] is None
    assert contrast_across_runs([0.2, 0.2])["p"] is None  # no spread: no test


def test_power_is_the_exact_noncentral_t_power():
    from scipy.stats import nct

    from metta.evals.stats import power, smallest_effect, t_quantile

    # published (Cohen 1988; G*Power): a two-sided one-sample t-test at 5% needs n = 34 for 80% power at d = 0.5
    assert smallest_effect(34) < 0.5 < smallest_effect(33)
    for n in (2, 4, 10):
        d, tc = smallest_effect(n), t_quantile(0.975, n - 1)
        achieved = nct.sf(tc, n - 1, d * math.sqrt(n)) + nct.cdf(-tc, n - 1, d * math.sqrt(n))
        assert achieved == pytest.approx(0.80, abs=1e-5), n
    p = power(0.5, 4)
    assert p["detectable"] == pytest.approx(math.exp(t_quantile(0.975, 3) * 0.5 / 2))
    assert p["mdr80"] == pytest.approx(math.exp(smallest_effect(4) * 0.5))
    assert power(None, 1)["note"] == "no interval: one seed" and power(None, 0)["mdr80"] is None
