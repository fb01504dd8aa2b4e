"""Statistics with the seed as the unit: one value per training run, intervals across runs.

Episodes of one run share its policy, so they are not independent samples of the question "does this training
setting change behaviour"; the runs (seeds) are. Every statistic here is computed in two stages.

Per seed (run). A metric is first averaged over the run's evaluation episodes (each episode's value being the mean
over its agents, metta.experiments.sweep_report.episode_sample). Kin-directed rates are pooled, not averaged:
``attack_rate_kin = Σ_e hk_e / Σ_e ck_e`` over all the run's episodes and agents (h hits, c chances, k kin, s
strangers), likewise for strangers and gifts. The kin/stranger ratio of a run is the Mantel–Haenszel rate ratio with
episodes as strata (Rothman & Greenland, Modern Epidemiology, ch. 15):

    RR_MH = Σ_e hk_e·cs_e/T_e  /  Σ_e hs_e·ck_e/T_e,    T_e = ck_e + cs_e

An episode without kin or stranger chances adds nothing to either sum; an episode with no stranger attack still counts
(it adds to the numerator only). Zero counts: when either sum is 0 (no kin hit, or no stranger hit, in the whole run)
0.5 is added to hk_e and hs_e of every episode with both kinds of chance (a continuity correction), and the run is
counted as ``corrected``; a run with no such episode has no ratio (``undefined``). Ratios are taken on the log scale.

Across seeds. For n seeds with values x_1..x_n (log RR for ratios, the per-seed value otherwise): the mean, the sample
sd s and the 95% t-interval mean ± t_{0.975, n−1}·s/√n (metta.evals.stats.t_quantile, exact for integer df); for
ratios all three are exponentiated (the geometric mean of the seeds' ratios and its interval). n = seeds. With one
seed there is no interval ("no interval: one seed").

Power (ratios): with the seeds' spread s, the smallest ratio this design tells from 1 at 95% is
``exp(t_{0.975,n−1}·s/√n)`` (an observed effect at least that large has an interval excluding 1), and the ratio it
would detect with 80% power is ``exp((t_{0.975,n−1} + t_{0.80,n−1})·s/√n)`` (the usual normal-approximation rule
with t quantiles). Both assume the next experiment's seeds spread like these.
"""
from __future__ import annotations

import json
import math
import os

from metta.evals.stats import CORRECTION, ONE_SEED, mean_interval, mh_rate_ratio, power  # noqa: F401 (re-exported)
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
    return tuple(float(sum(v)) for v in values)


def across_seeds(values, log: bool = False) -> dict:
    """Mean, sd, n (= seeds) and 95% t-interval over the seeds' values; ``log``: over their logs, exponentiated
    (mean = the geometric mean), plus the power line. ``seeds``: the values, as given (None kept in place)."""
    given = [v for v in values if v is not None]
    if not log:
        return {**mean_interval(given), "seeds": list(values), "scale": "linear"}
    s = mean_interval([math.log(v) for v in given])
    out = {"mean": None if s["mean"] is None else math.exp(s["mean"]), "n": s["n"],
           "lo": None if s["lo"] is None else math.exp(s["lo"]), "hi": None if s["hi"] is None else math.exp(s["hi"]),
           "sd": s["sd"], "log_mean": s["mean"], "seeds": list(values), "scale": "log"}
    return {**out, "power": power(s["sd"], s["n"])}


def is_ratio(metric: str) -> bool:
    return metric.endswith(RATIO)


def corrected(seed: dict, metric: str) -> bool:
    """Did this seed's ratio ``metric`` need the zero-count correction?"""
    return is_ratio(metric) and bool((seed["mh"].get(metric[:-len(RATIO)]) or {}).get("corrected"))


def seed_values(stats: dict, rows: list[dict], metrics: list[str]) -> dict:
    """One run's value of every metric (module docstring): the episode mean, pooled rates, the MH ratio; and the
    MH details per directed prefix under ``"mh"``."""
    episodes = [list(e["agents"].values()) for e in stats["episodes"]]
    out, mh = {}, {}
    for m in metrics:
        values = [r[m] for r in rows if _number(r.get(m))]
        out[m] = sum(values) / len(values) if values else None
    for prefix in DIRECTED:
        strata = [episode_counts(agents, prefix) for agents in episodes]
        if not any(s is not None for s in strata):
            continue
        mh[prefix] = r = mh_rate_ratio(strata)
        for name, value in (("rate_kin", r["rate_kin"]), ("rate_strangers", r["rate_strangers"]),
                            ("kin_stranger_ratio", r["ratio"])):
            if f"{prefix}_{name}" in out:
                out[f"{prefix}_{name}"] = value
    return {"values": out, "mh": mh, "episodes": len(episodes)}


def per_seed(desc: dict, sweep_dir: str, rows: list[dict], metrics: list[str]) -> list[dict]:
    """Per run (sweep order): name, params, seed, episodes, every metric's per-seed value and the MH details."""
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
    log scale), with ``corrected``/``undefined`` counts of seeds for ratios. ``value`` maps a grid value for output."""
    points = {}
    for s in seeds:
        points.setdefault(json.dumps(s["params"]), []).append(s)
    out = []
    for key, members in points.items():
        cells = {}
        for m in metrics:
            cell = across_seeds([s["values"].get(m) for s in members], log=is_ratio(m))
            if is_ratio(m):
                prefix = m[:-len(RATIO)]
                details = [s["mh"].get(prefix) for s in members]
                cell["corrected"] = sum(1 for d in details if d and d["corrected"])
                cell["undefined"] = sum(1 for d in details if not d or d["ratio"] is None)
            cells[m] = cell
        out.append({"params": {p: value(v) for p, v in json.loads(key).items()}, "runs": [s["run"] for s in members],
                    "metrics": cells})
    return out


def power_line(metric: str, cell: dict) -> str:
    """One sentence: the seeds, the geometric mean and interval, and what the design can detect."""
    n, p = cell["n"], cell.get("power") or {}
    if cell["mean"] is None:
        return f"{metric}: no seed has a ratio (n = 0 seeds)"
    head = f"{metric}: {cell['mean']:.3g} over n = {n} seed{'s' if n != 1 else ''}"
    if p.get("detectable") is None:
        return f"{head}; {ONE_SEED}, no power"
    return (f"{head} [{cell['lo']:.3g}, {cell['hi']:.3g}]; log-ratio sd across seeds {cell['sd']:.3g}: the smallest "
            f"ratio distinguishable from 1 at 95% is {p['detectable']:.3g} (or 1/{p['detectable']:.3g}), "
            f"detected with 80% power from {p['mdr80']:.3g}"
            + (f"; {cell['corrected']} seed(s) with the 0.5 zero-count correction" if cell.get("corrected") else "")
            + (f"; {cell['undefined']} seed(s) without a ratio" if cell.get("undefined") else ""))
