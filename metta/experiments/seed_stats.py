"""Statistics with the seed as the unit: one value per training run, intervals across runs.

Episodes of one run share its policy, so they are not independent samples of the question "does this training
setting change behaviour"; the runs (seeds) are. Every statistic here is computed in two stages.

Per seed (run). A metric is first averaged over the run's evaluation episodes (each episode's value being the mean
over its agents, metta.experiments.sweep_report.episode_sample). Kin-directed rates are pooled, not averaged:
``attack_rate_kin = Σ_e hk_e / Σ_e ck_e`` over all the run's episodes and agents (h hits, c chances, k kin, s
strangers), likewise for strangers and gifts. The kin/stranger ratio of a run is metta.evals.stats.rate_ratio on
those pooled counts: given the run's n = hk + hs events, hk is Binomial(n, p) with p = RR·ck/(RR·ck + cs), and

    RR̂ = (hk + ½)/(hs + ½) · cs/ck

(Jeffreys' half-count on each hit count), with an exact (Clopper–Pearson) 95% interval for p mapped to RR, kept in
the seed's ``ratios`` details. A zero count on one side (hk = 0 or hs = 0, not both) still gives a ratio
(``zero_count``; its interval is open on that side). A run with no event at all (hk = hs = 0) has no ratio: the
estimate would be the prior's cs/ck, not data (``no_events``); nor has a run without kin or stranger chances. Both
count as ``undefined``. (The Mantel–Haenszel ratio with 0.5 added to every episode's hits when a sum was 0,
metta.evals.stats.mh_rate_ratio, was used before: it is biased towards cs/ck with few events.)

Across seeds. Ratios are taken on the log scale. For n seeds with values x_1..x_n (log RR̂ for ratios, the per-seed
value otherwise; seeds without a value left out): the mean, the sample sd s and the 95% t-interval
mean ± t_{0.975, n−1}·s/√n (scipy.stats.t); for ratios all three are exponentiated (the geometric mean of the seeds'
ratios and its interval). n = seeds with a value. With one seed there is no interval ("no interval: one seed").

Power (ratios): with the seeds' spread s, the smallest ratio this design tells from 1 at 95% is
``exp(t_{0.975,n−1}·s/√n)`` (an observed effect at least that large has an interval excluding 1), and the ratio a
two-sided one-sample t-test at 5% detects with 80% power is ``exp(d·s)``, d the smallest standardized effect with
that power at n (statsmodels TTestPower, exact noncentral t). Both assume the next experiment's seeds spread like
these.
"""
from __future__ import annotations

import json
import math
import os

from metta.evals.stats import (  # noqa: F401 (re-exported)
    CORRECTION, ONE_SEED, mean_interval, mh_rate_ratio, power, rate_ratio)
from metta.society.metrics import DIRECTED as DIRECTED_COUNTERS

# rate prefix -> (kin hits, stranger hits) as the env names them (metta.society.metrics)
DIRECTED = {prefix: (f"{hit}_kin", f"{hit}_strangers") for prefix, hit in DIRECTED_COUNTERS.values()}
RATIO = "_kin_stranger_ratio"


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def episode_counts(agents: list[dict], prefix: str) -> tuple[float, float, float, float] | None:
    """(hk, ck, hs, cs): an episode's kin and stranger hits and chances summed over its agents; None when the
    episode's metrics do not hold them."""
    kin, strangers = DIRECTED[prefix]
    keys = (kin, f"{prefix}_chances_kin", strangers, f"{prefix}_chances_strangers")
    values = [[a[k] for a in agents if _number(a.get(k))] for k in keys]
    if not all(values):
        return None
    hk, ck, hs, cs = (float(sum(v)) for v in values)
    return hk, ck, hs, cs


def across_seeds(values, log: bool = False) -> dict:
    """Mean, sd, n (= seeds) and 95% t-interval over the seeds' values; ``log``: over their logs, exponentiated
    (mean = the geometric mean), plus the power line; a ratio of 0 (no event on the kin side, an env metric's raw
    ratio) has no log and is left out, counted in ``zero``. ``seeds``: the values, as given (None kept in place)."""
    given = [v for v in values if v is not None]
    if not log:
        return {**mean_interval(given), "seeds": list(values), "scale": "linear"}
    s = mean_interval([math.log(v) for v in given if v > 0])
    out = {"mean": None if s["mean"] is None else math.exp(s["mean"]), "n": s["n"],
           "lo": None if s["lo"] is None else math.exp(s["lo"]), "hi": None if s["hi"] is None else math.exp(s["hi"]),
           "sd": s["sd"], "log_mean": s["mean"], "seeds": list(values), "scale": "log",
           "zero": sum(1 for v in given if v <= 0)}
    return {**out, "power": power(s["sd"], s["n"])}


def is_ratio(metric: str) -> bool:
    return metric.endswith(RATIO)


def _details(seed: dict, metric: str) -> dict:
    return (seed["ratios"].get(metric[:-len(RATIO)]) or {}) if is_ratio(metric) else {}


def zero_count(seed: dict, metric: str) -> bool:
    """Does this seed's ratio ``metric`` rest on a zero count on one side (no kin or no stranger hit, not both)?"""
    return bool(_details(seed, metric).get("zero_count"))


def no_events(seed: dict, metric: str) -> bool:
    """Has this seed no event at all for the ratio ``metric`` (chances, but no kin and no stranger hit)?"""
    d = _details(seed, metric)
    return bool(d.get("no_events")) and bool(d.get("chances_kin")) and bool(d.get("chances_strangers"))


def seed_values(stats: dict, rows: list[dict], metrics: list[str]) -> dict:
    """One run's value of every metric (module docstring): the episode mean, pooled rates, the rate ratio (None with
    no event); and per directed prefix under ``"ratios"`` metta.evals.stats.rate_ratio's details, an unbounded
    interval end (math.inf) stored as None so that results.json stays valid JSON."""
    episodes = [list(e["agents"].values()) for e in stats["episodes"]]
    out, ratios = {}, {}
    for m in metrics:
        values = [r[m] for r in rows if _number(r.get(m))]
        out[m] = sum(values) / len(values) if values else None
    for prefix in DIRECTED:
        strata = [episode_counts(agents, prefix) for agents in episodes]
        if not any(s is not None for s in strata):
            continue
        r = rate_ratio(strata)
        ratios[prefix] = {k: None if v == math.inf else v for k, v in r.items()}
        for name, value in (("rate_kin", r["rate_kin"]), ("rate_strangers", r["rate_strangers"]),
                            ("kin_stranger_ratio", None if r["no_events"] else r["ratio"])):
            if f"{prefix}_{name}" in out:
                out[f"{prefix}_{name}"] = value
    return {"values": out, "ratios": ratios, "episodes": len(episodes)}


def per_seed(desc: dict, sweep_dir: str, rows: list[dict], metrics: list[str]) -> list[dict]:
    """Per run (sweep order): name, params, seed, episodes, every metric's per-seed value and the ratio details."""
    out = []
    for run in desc["runs"]:
        with open(os.path.join(sweep_dir, run["name"], "eval", "stats.json"), encoding="utf-8") as f:
            stats = json.load(f)
        mine = [r for r in rows if r["run"] == run["name"]]
        out.append({"run": run["name"], "params": run["params"], "seed": run["seed"],
                    **seed_values(stats, mine, metrics)})
    return out


def summarize(desc: dict, seeds: list[dict], metrics: list[str], value=lambda v: v) -> list[dict]:
    """Per grid point (grid order): its runs and, per metric, ``across_seeds`` of its seeds' values (ratios on the
    log scale), with, for ratios, the counts of seeds whose ratio rests on a zero count (``zero_count``), with no
    event (``no_events``) and without a ratio (``undefined``: no events or no chances). ``value`` maps a grid value
    for output."""
    points: dict[str, list[dict]] = {}  # the grid point's parameters, as JSON -> its seeds
    for s in seeds:
        points.setdefault(json.dumps(s["params"]), []).append(s)
    out = []
    for key, members in points.items():
        cells = {}
        for m in metrics:
            cell = across_seeds([s["values"].get(m) for s in members], log=is_ratio(m))
            if is_ratio(m):
                cell["zero_count"] = sum(1 for s in members if zero_count(s, m))
                cell["no_events"] = sum(1 for s in members if no_events(s, m))
                cell["undefined"] = sum(1 for s in members if s["values"].get(m) is None)
            cells[m] = cell
        out.append({"params": {p: value(v) for p, v in json.loads(key).items()}, "runs": [s["run"] for s in members],
                    "metrics": cells})
    return out


def power_line(metric: str, cell: dict) -> str:
    """One sentence: the seeds, the geometric mean and interval, and what the design can detect."""
    n, p = cell["n"], cell.get("power") or {}
    if cell["mean"] is None:
        zero = f" ({cell['zero']} with a ratio of 0)" if cell.get("zero") else ""
        return f"{metric}: no seed has a ratio above 0 (n = 0 seeds){zero}"
    head = f"{metric}: {cell['mean']:.3g} over n = {n} seed{'s' if n != 1 else ''}"
    if p.get("detectable") is None:
        return f"{head}; {ONE_SEED}, no power"
    return (f"{head} [{cell['lo']:.3g}, {cell['hi']:.3g}]; log-ratio sd across seeds {cell['sd']:.3g}: the smallest "
            f"ratio distinguishable from 1 at 95% is {p['detectable']:.3g} (or 1/{p['detectable']:.3g}), "
            f"detected with 80% power from {p['mdr80']:.3g}"
            + (f"; {cell['zero_count']} seed(s) with no kin or no stranger hit" if cell.get("zero_count") else "")
            + (f"; {cell['undefined']} seed(s) without a ratio" if cell.get("undefined") else "")
            + (f"; {cell['zero']} seed(s) with a ratio of 0 left out" if cell.get("zero") else "")
            + (f" ({cell['no_events']} with no event at all)" if cell.get("no_events") else ""))
