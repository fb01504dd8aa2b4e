"""The kinship experiment's reading when every run holds both arms (kinship ``mixed_teams``; docs/dilemma.md, "The kin
dilemma"): per run and arm, the contrast between arms inside each run, and its test across runs.

Inputs: each run's ``RUN/eval/stats.json`` from the paired evaluation with probes (metta.evals.evaluate
``--paired --probes``): every evaluation seed played twice, the second time with the teams' arms swapped
(``swapped``), each agent's metrics with its arm (``team_reward``), and each episode's probe tallies
(metta.evals.probes); the run's TensorBoard logs for the learning curves.

Per run and arm (the agents whose team shared alpha = a), over all the run's evaluation episodes:

- hearts, raw and shared reward per agent-episode;
- for attacks and gifts, hits on kin and on strangers per **actionable** chance (the attacker could act, the target
  was unshielded and carrying; metta.society.metrics), and per chance in reach, pooled over episodes and agents; the
  kin/stranger rate ratio of the pooled counts with its exact interval (metta.evals.stats.rate_ratio);
- the probe value: the mean over the arm's actionable probe states of d = log p(attack | target shown as a
  stranger) − log p(attack | shown as kin) (metta.evals.probes), and over every in-reach state.

Per run, the **primary estimand** ``contrast`` = log RR(alpha = 1) − log RR(alpha = 0) of attacks per actionable
chance (None when either arm has no ratio: no actionable chance, or no attack at all), and the **probe contrast** =
d(alpha = 1) − d(alpha = 0). Across runs (n = runs), each is tested against 0 with a t-interval and p
(metta.evals.stats.contrast_across_runs), with its power line: the smallest |contrast| the runs' spread detects at
95% with 80% power. Below 0 means sharers spare kin more than the selfish do.

The paired evaluation: per run, each agent's hearts, raw reward and actionable attacks on kin and on strangers when
its team shared (alpha = 1) minus the same agent on the same map when it did not, averaged over agents and seeds
(the episode pair is the unit of its t-interval).

Learning curves: TensorBoard's ``social/alpha_<a>/hearts`` per run (with a curriculum ``social/<task>/alpha_<a>/hearts``
of its first task, the game as designed), read at half and at the full budget (the mean of the points logged in the
last 5% of the budget before each), against the scripted peaceful population's hearts per agent on the same preset
(``reference``).
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from metta.evals.stats import contrast_across_runs, mean_interval, rate_ratio
from metta.experiments.arms_page import plot, run_text
from metta.runtime.files import read_json
from metta.society.metrics import ARM, arm_label

# (action, chances) -> the per-agent counts: kin hits, kin chances, stranger hits, stranger chances
COUNTS = {
    ("attack", "actionable"): ("attacks_on_kin_actionable", "attack_actionable_kin",
                               "attacks_on_strangers_actionable", "attack_actionable_strangers"),
    ("attack", "reach"): ("attacks_on_kin", "attack_chances_kin", "attacks_on_strangers", "attack_chances_strangers"),
    ("gift", "actionable"): ("gifts_to_kin_actionable", "gift_actionable_kin",
                             "gifts_to_strangers_actionable", "gift_actionable_strangers"),
    ("gift", "reach"): ("gifts_to_kin", "gift_chances_kin", "gifts_to_strangers", "gift_chances_strangers"),
}
PRIMARY = ("attack", "actionable")
PAIRED = ("hearts", "raw_reward", "attacks_on_kin_actionable", "attacks_on_strangers_actionable")
PER_AGENT = ("hearts", "raw_reward", "reward")
WINDOW = 0.05  # a learning curve's value at a budget: the mean of its points in the last 5% of the budget before it
PLATEAU = 1.10  # plateaued: hearts at the full budget at most 10% above those at three quarters of it
# the two co-primary contrasts (counts, probes) are each read at this level: Bonferroni over the two
PRIMARY_ALPHA = 0.025


def agent_episodes(stats: dict) -> list[dict]:
    """Every agent-episode's metrics of an evaluation, each with its agent's name and its episode's seed."""
    return [{**m, "_agent": name, "_seed": e["seed"]} for e in stats["episodes"] for name, m in e["agents"].items()]


def arms_of(rows: list[dict]) -> list[float]:
    """The arms the agent-episodes ``rows`` played; ValueError when they carry none."""
    if not rows or any(r.get(ARM) is None for r in rows):
        raise ValueError(f"the evaluation's agents carry no {ARM!r}: not a run of a kinship structure with arms")
    return sorted({float(r[ARM]) for r in rows})


def pooled(rows: list[dict], keys: tuple[str, str, str, str]) -> tuple[float, ...] | None:
    """(hk, ck, hs, cs) summed over agent-episodes; None when the counts are not in the metrics."""
    if not rows or any(k not in rows[0] for k in keys):
        return None
    return tuple(float(sum(r[k] or 0 for r in rows)) for k in keys)


def probe_values(stats: dict, arm: float) -> dict:
    """Mean probe difference d of the arm's actors, over actionable and over all in-reach probe states (summed from
    each episode's probe tallies, metta.evals.probes)."""
    out = {}
    for kind in ("actionable", "in_reach"):
        n = total = 0.0
        for e in stats["episodes"]:
            cell = ((e.get("probes") or {}).get("by_arm") or {}).get(arm_label(arm), {}).get(kind)
            if cell:
                n += cell["n"]
                total += cell["sum"]
        out[kind] = {"n": int(n), "mean": total / n if n else None}
    return out


def run_values(stats: dict) -> dict:
    """One run's arms (``alphas``), its values per arm, its contrast and probe contrast, and its paired evaluation
    (module docstring)."""
    rows = agent_episodes(stats)
    arms = arms_of(rows)
    per_arm = {}
    for a in arms:
        mine = [r for r in rows if float(r[ARM]) == a]
        cell: dict = {"agent_episodes": len(mine)}
        for k in PER_AGENT:
            values = [r[k] for r in mine if r.get(k) is not None]
            cell[k] = float(np.mean(values)) if values else None
        for (action, chances), keys in COUNTS.items():
            counts = pooled(mine, keys)
            cell[f"{action}_{chances}"] = None if counts is None else rate_ratio([counts])
        cell["probe"] = probe_values(stats, a)
        per_arm[arm_label(a)] = cell
    out = {"alphas": arms, "arms": per_arm, "contrast": None, "probe_contrast": None, "paired": paired(rows, arms)}
    if len(arms) == 2:
        lo, hi = (per_arm[arm_label(a)] for a in arms)
        r0, r1 = lo[f"{PRIMARY[0]}_{PRIMARY[1]}"], hi[f"{PRIMARY[0]}_{PRIMARY[1]}"]
        if r0 and r1 and r0["ratio"] is not None and r1["ratio"] is not None \
                and not r0["no_events"] and not r1["no_events"]:
            out["contrast"] = r1["log_ratio"] - r0["log_ratio"]
        d0, d1 = lo["probe"]["actionable"]["mean"], hi["probe"]["actionable"]["mean"]
        if d0 is not None and d1 is not None:
            out["probe_contrast"] = d1 - d0
    return out


def paired(rows: list[dict], arms: list[float]) -> dict:
    """Per metric of ``PAIRED``: an agent's value in the play where its team had the higher arm minus its value in the
    play of the same seed where it had the lower, averaged over agents per seed; mean and t-interval over seeds."""
    if len(arms) != 2:
        return {}
    by: dict[Any, dict[Any, dict[float, dict]]] = {}  # seed -> agent -> its arm -> its row
    for r in rows:
        by.setdefault(r["_seed"], {}).setdefault(r["_agent"], {})[float(r[ARM])] = r
    out = {}
    for k in PAIRED:
        per_seed = []
        for agents in by.values():
            diffs = [v[arms[1]][k] - v[arms[0]][k] for v in agents.values()
                     if len(v) == 2 and v[arms[1]].get(k) is not None and v[arms[0]].get(k) is not None]
            if diffs:
                per_seed.append(float(np.mean(diffs)))
        out[k] = mean_interval(per_seed)
    return out


def curve_value(points: list[tuple[int, float]], at: float) -> float | None:
    """The mean of a curve's points in the last ``WINDOW`` of the budget before step ``at``."""
    window = [v for s, v in points if at * (1 - WINDOW) <= s <= at * (1 + 1e-9)]
    if not window:
        earlier = [v for s, v in points if s <= at]
        return earlier[-1] if earlier else None
    return float(np.mean(window))


def curve_task(run_dir: str) -> str | None:
    """The curriculum task whose episodes the learning curves follow: the first of the run's curriculum (the kin
    dilemma's lists the game as designed first); None for a run without a curriculum."""
    from metta.curriculum.tasks import load_curriculum
    from metta.sf_integration.checkpoints import read_config
    from metta.sf_integration.config import env_config_from_cfg

    cfg = read_config(run_dir)
    if not cfg.get("curriculum"):
        return None
    spec = load_curriculum(cfg["curriculum"], env_config_from_cfg(cfg, os.path.join(run_dir, "config.json")))
    return next(iter(spec.tasks))


def learning_curves(run_dir: str, arms: list[float], env_steps: int) -> dict:
    """Per arm, the run's hearts per agent in training (TensorBoard; with a curriculum, in its first task's episodes)
    at half and at the full budget, and the curve."""
    from metta.bench.training.scalars import scalars

    task = curve_task(run_dir)
    prefix = f"social/{task}/" if task else "social/"
    tags = {arm_label(a): f"{prefix}{arm_label(a)}/hearts" for a in arms}
    found = scalars(run_dir, tuple(tags.values()))
    out = {}
    for label, tag in tags.items():
        points = found.get(tag, [])
        full, late = curve_value(points, env_steps), curve_value(points, 0.75 * env_steps)
        out[label] = {"half": curve_value(points, env_steps / 2), "three_quarters": late, "full": full,
                      "plateaued": None if full is None or late is None else full <= PLATEAU * late,
                      "points": points}
    return out


def summarize(runs: list[dict]) -> dict:
    """Across runs: the contrast and the probe contrast tested against 0, the mean of every per-arm value, and the
    paired differences; n = runs with a value."""
    arms = list(runs[0]["values"]["arms"]) if runs else []
    out: dict[str, Any] = {
        "contrast": contrast_across_runs([r["values"]["contrast"] for r in runs]),
        "probe_contrast": contrast_across_runs([r["values"]["probe_contrast"] for r in runs]),
        "runs_without_contrast": [r["run"] for r in runs if r["values"]["contrast"] is None],
        "arms": {}, "paired": {}}
    for label in arms:
        cells = [r["values"]["arms"][label] for r in runs]
        arm: dict[str, Any] = {k: mean_interval([c[k] for c in cells if c[k] is not None]) for k in PER_AGENT}
        for action, chances in COUNTS:
            logs = [c[f"{action}_{chances}"]["log_ratio"] for c in cells
                    if c[f"{action}_{chances}"] and c[f"{action}_{chances}"]["log_ratio"] is not None
                    and not c[f"{action}_{chances}"]["no_events"]]
            arm[f"{action}_{chances}_log_ratio"] = mean_interval(logs)
        arm["probe"] = mean_interval([c["probe"]["actionable"]["mean"] for c in cells
                                      if c["probe"]["actionable"]["mean"] is not None])
        arm["learning_half"] = mean_interval([r["curves"][label]["half"] for r in runs
                                              if r["curves"].get(label, {}).get("half") is not None])
        arm["learning_full"] = mean_interval([r["curves"][label]["full"] for r in runs
                                              if r["curves"].get(label, {}).get("full") is not None])
        arm["plateaued"] = sum(1 for r in runs if r["curves"].get(label, {}).get("plateaued"))
        out["arms"][label] = arm
    for k in PAIRED:
        out["paired"][k] = mean_interval([r["values"]["paired"][k]["mean"] for r in runs
                                          if r["values"]["paired"].get(k, {}).get("mean") is not None])
    return out


def _test(c: dict, what: str, unit: str) -> str:
    """One co-primary contrast's sentence: the estimate, its 95% interval and p, and the decision at PRIMARY_ALPHA
    (Bonferroni over the two), or the smallest effect detectable with 80% power."""
    if c["n"] < 2:
        return f"{what}: {c['n']} run(s) with a value, no interval and no test. "
    text = (f"{what}: {c['mean']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}] (95%, n = {c['n']} runs, p = "
            f"{'–' if c['p'] is None else format(c['p'], '.3g')}). ")
    if c["p"] is not None and c["p"] < PRIMARY_ALPHA:
        side = "sharers spare kin more than the selfish do" if c["mean"] < 0 else \
            "sharers spare kin *less* than the selfish do, against the hypothesis"
        return text + f"Shown at p < {PRIMARY_ALPHA} (Bonferroni over the two contrasts): {side}. "
    return text + (f"Not shown at p < {PRIMARY_ALPHA}; with this spread (sd {c['sd']:.3f}) and n the design detects "
                   f"|contrast| ≥ {c['mde80']:.3f} {unit} with 80% power at 95%. ")


def reading(summary: dict) -> str:
    """The two co-primary contrasts, each with its interval and its decision or its power line."""
    c = summary["contrast"]
    text = _test(c, "Contrast, log RR(α = 1) − log RR(α = 0) of attacks on kin over strangers per actionable chance",
                 "(log)")
    if c["n"] >= 1 and c["mean"] is not None:
        text += f"(a ratio of ratios of {math.exp(c['mean']):.2f}.) "
    text += _test(summary["probe_contrast"], "Probe contrast, d(α = 1) − d(α = 0) on actionable states",
                  "(log-probability)")
    if summary["runs_without_contrast"]:
        text += (f"{len(summary['runs_without_contrast'])} run(s) had no attack in an arm and so no count contrast: "
                 f"{', '.join(summary['runs_without_contrast'])}. ")
    return text


def arms_report(desc: dict, sweep_dir: str, reference: float | None = None) -> dict:
    """Every run's values and curves, the summary and the reading, from the runs' files; draws ``arms.png``."""
    runs = []
    for r in desc["runs"]:
        run_dir = os.path.join(sweep_dir, r["name"])
        stats = read_json(os.path.join(run_dir, "eval", "stats.json"), "evaluation stats")
        values = run_values(stats)
        runs.append({"run": r["name"], "seed": r["seed"], "episodes": len(stats["episodes"]), "values": values,
                     "curves": learning_curves(run_dir, values["alphas"], desc["env_steps"])})
    summary = summarize(runs)
    report = {"runs": runs, "summary": summary, "reference_hearts": reference, "reading": reading(summary),
              "env_steps": desc["env_steps"], "figure": "arms.png"}
    plot(report, os.path.join(sweep_dir, "arms.png"), reference)
    return report


def main(argv=None) -> int:
    """``python -m metta.experiments.arms_report --experiment NAME [--train_dir D] [--env_steps N]``: one trained
    run's reading from its ``eval/stats.json`` (evaluate --paired --probes) and its TensorBoard logs."""
    import argparse

    from metta.runtime.lifetime import run_command
    from metta.sf_integration.checkpoints import trained_steps

    ap = argparse.ArgumentParser(prog="python -m metta.experiments.arms_report", description=main.__doc__)
    ap.add_argument("--experiment", required=True)
    ap.add_argument("--train_dir", default="train_dir")
    ap.add_argument("--env_steps", type=int, default=None, help="the budget whose half and end the curves are read "
                                                                "at (default: what the run trained)")
    ap.add_argument("--reference_episodes", type=int, default=0,
                    help="episodes of the scripted peaceful population to compare hearts with (default 0: none)")
    ap.add_argument("--plot", default=None, metavar="PNG", help="draw the run's contrasts and learning curves there")
    args = ap.parse_args(argv)

    def body(stops):
        run_dir = os.path.join(args.train_dir, args.experiment)
        stats = read_json(os.path.join(run_dir, "eval", "stats.json"), "evaluation stats")
        values = run_values(stats)
        curves = learning_curves(run_dir, values["alphas"], args.env_steps or trained_steps(run_dir))
        reference = None
        if args.reference_episodes:
            from metta.experiments.dilemma_check import scripted_hearts

            reference = scripted_hearts(stats["env"], args.reference_episodes)
        print(run_text(args.experiment, values, curves, reference))
        if args.plot:
            runs = [{"run": args.experiment, "values": values, "curves": curves}]
            plot({"runs": runs, "summary": summarize(runs)}, args.plot, reference)
            print(f"wrote {args.plot}")
        return 0

    return run_command(body)


if __name__ == "__main__":
    import sys

    sys.exit(main())
