"""Cross-play after Melting Pot: a focal group from one population among background agents from another.

    python -m metta.evals.crossplay --focal EXP --background OTHER [--env metta-teams] [--episodes 8]
    python -m metta.evals.crossplay --focal random --background oracle --json

Each episode (seeded 0..E-1) picks the focal group from the env's kinship after the reset: one kinship team, the
agents whose kinship to a randomly drawn agent is >= the structure's ``kin_threshold``. The focal group is played by
the ``--focal`` policy, everyone else by ``--background`` (experiments in ``--train_dir``, or ``random``/``oracle``;
a composite policy, metta.evals.policies.CompositePolicy, routes each agent to its policy). Three conditions share the
episode seeds, so the same maps, kinship and focal indices:

- ``crossplay``: focal among background;
- ``resident``: every agent from the focal population (its focal group is the same agent indices);
- ``placebo``: crossplay with the focal agents' kinship channel shuffled: each focal observer sees, for the episode,
  its own row of observed kinship permuted over the other agents (its own cell stays 255; which agents look like kin
  changes, how many does not). The env is wrapped: the kinship channel of the focal agents' windows is redrawn from
  the agents' poses with the permuted rows (metta.society.observation.render_kinship); nothing else changes.
  A policy that reads the true state (``oracle``) is blind to this.

Reported per condition, each with a 95% t-interval over episodes: the focal per-capita raw return (own reward before
sharing, per agent and episode), and its difference from the resident run, paired by seed; the focal agents' attacks
on kin and strangers per agent; the background's attacks on the focal group per focal agent. Rates per chance pool
all episodes (Σ hits / Σ chances): the focal kin/stranger ratio and the background's rate on focal agents against its
rate on other background agents, both as rate ratios of the pooled counts with their exact intervals
(metta.evals.stats.rate_ratio). Under a kinship structure with arms (``mixed_teams``) the focal team's arm is its drawn
share alpha (each population plays the preset as it trained on it), and every per-condition number is also given per
focal arm (``by_arm``, keyed ``alpha_<a>``).
Whom each attack hit, and who stood in reach, is tallied each step from the game's ``attacks``/``attack_target``
counters and the engine's reach, as metta.society.metrics does. With several ``--focal``/``--background``
experiments (paired in order; one of them may be a single experiment) each pair is a seed: the summary takes the
per-pair values and a t-interval over pairs (ratios on the log scale), n = pairs.

Writes ``--out`` (default ``train_dir/crossplay/FOCAL_vs_BACKGROUND.json``) atomically; ``--json`` prints it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from metta.errors import UsageError
from metta.evals.policies import CompositePolicy, policy_for
from metta.evals.stats import mean_interval, rate_ratio
from metta.society.metrics import ARM, arm_label
from metta.env.counters import actions_raising
from metta.society.observation import quantize, render_kinship

CONDITIONS = ("crossplay", "resident", "placebo")


class CrossplayEnv:
    """``env`` with a focal kinship team drawn at every reset (``focal``, ``roles``), whom-attacked-whom and
    who-was-in-reach tallied per step (``attacks[i, j]``, ``chances[i, j]``), and with ``placebo`` the focal
    observers' kinship rows permuted (``perm[i]``: the agent whose kinship observer i sees at agent j's cell)."""

    def __init__(self, env, placebo: bool = False):
        self.env, self.placebo = env, placebo
        n = env.num_agents_total
        self.focal, self.roles, self.perm = np.zeros(0, dtype=np.int64), ["background"] * n, np.arange(n)
        self._kin_channel = env.channel_names.index("kinship")
        self._counted = "attacks" in env.metrics.targeted
        self._reach = env.engine.reach(actions_raising(env.game, "attacks")) if self._counted else np.zeros(0)

    def __getattr__(self, name):  # everything else is the env's
        return getattr(self.env, name)

    def reset(self, seed: int | None = None, options=None):
        obs, infos = self.env.reset(seed=seed)
        n, rng = self.env.num_agents_total, np.random.default_rng([int(seed or 0), 7])
        kin = self.env.kinship >= self.env.society.kin_threshold
        self.focal = np.flatnonzero(kin[int(rng.integers(n))])
        self.roles = ["focal" if i in set(self.focal.tolist()) else "background" for i in range(n)]
        self.perm = np.tile(np.arange(n), (n, 1))
        for i in self.focal:
            others = np.array([j for j in range(n) if j != i])
            self.perm[i, others] = rng.permutation(others)
        self.attacks, self.chances = np.zeros((n, n), dtype=np.int64), np.zeros((n, n), dtype=np.int64)
        self._last = self._counters()
        return (self.shuffle(obs) if self.placebo else obs), infos

    def _counters(self):
        return self.env.engine.player_counters(["attacks", "attack_target"]) if self._counted else None

    def step(self, actions):
        if self._counted and len(self._reach):
            x, y, facing = self.env.engine.poses()
            aimed = self.env.engine.aimed_agents(self._reach, facing, self.env.engine.padded_cells(x, y))
            i, r = np.nonzero(aimed >= 0)
            np.add.at(self.chances, (i, aimed[i, r]), 1)
        obs, rewards, term, trunc, infos = self.env.step(actions)
        if self._counted:
            now = self._counters()
            rose = np.flatnonzero(now["attacks"] > self._last["attacks"])
            np.add.at(self.attacks, (rose, now["attack_target"][rose] - 1), 1)
            self._last = now
        return (self.shuffle(obs) if self.placebo else obs), rewards, term, trunc, infos

    def kinship_channel(self, rows: np.ndarray) -> np.ndarray:
        """Every agent's kinship channel ``(n, W, H)`` rendered now with observed kinship ``rows`` (n, n)."""
        x, y, orientation = self.env.engine.poses()
        out = np.empty((len(rows), 2) + self.env.obs_shape[1:], dtype=np.uint8)
        return render_kinship(out, x, y, orientation, quantize(rows),
                              quantize(self.env.kinship_noise_levels))[:, 0]

    def shuffle(self, obs: dict) -> dict:
        """``obs`` with the focal agents' kinship channel redrawn from their permuted rows."""
        seen = self.env.observed_kinship
        channel = self.kinship_channel(np.take_along_axis(seen, self.perm, axis=1))
        out = dict(obs)
        for i in self.focal:
            a = self.env.possible_agents[i]
            out[a] = obs[a].copy()
            out[a][self._kin_channel] = channel[i]
        return out


def episode_record(env: CrossplayEnv, outcome) -> dict:
    """What one episode left for the report: focal indices, per-agent metrics, the attack and chance tallies."""
    return {"seed": outcome.seed, "steps": outcome.steps, "focal": env.focal.tolist(),
            "kinship": env.kinship.tolist(), "kin_threshold": env.society.kin_threshold,
            "attacks": env.attacks.tolist(), "chances": env.chances.tolist(), "agents": outcome.metrics}


def episode_values(e: dict) -> dict:
    """Per-episode numbers of one record (module docstring), and its strata for the pooled ratios."""
    n, focal = len(e["agents"]), np.array(e["focal"], dtype=np.int64)
    bg = np.setdiff1d(np.arange(n), focal)
    a, c = np.array(e["attacks"]), np.array(e["chances"])
    m = e["agents"]

    def total(key, who):
        return float(sum(m[i].get(key) or 0 for i in who))

    on_focal, on_bg = a[np.ix_(bg, focal)].sum(), a[np.ix_(bg, bg)].sum()
    arm = m[int(focal[0])].get(ARM)
    return {"focal_arm": None if arm is None else arm_label(arm),
            "focal_return": total("raw_reward", focal) / len(focal),
            "focal_attacks_on_kin": total("attacks_on_kin", focal) / len(focal),
            "focal_attacks_on_strangers": total("attacks_on_strangers", focal) / len(focal),
            "background_attacks_on_focal": float(on_focal) / len(focal),
            "focal_strata": (total("attacks_on_kin", focal), total("attack_chances_kin", focal),
                             total("attacks_on_strangers", focal), total("attack_chances_strangers", focal)),
            "background_strata": (float(on_focal), float(c[np.ix_(bg, focal)].sum()),
                                  float(on_bg), float(c[np.ix_(bg, bg)].sum()))}


PER_EPISODE = ("focal_return", "focal_attacks_on_kin", "focal_attacks_on_strangers", "background_attacks_on_focal")


def condition_summary(values: list[dict], records: list[dict], resident: dict | None) -> dict:
    """Each per-episode number's mean and 95% interval over ``values`` (episodes), the pooled rate ratios, and the
    focal return minus the resident's (``resident``: seed -> its focal return), paired by episode seed."""
    s = {k: mean_interval([v[k] for v in values]) for k in PER_EPISODE}
    s["focal_kin_stranger_ratio"] = rate_ratio([v["focal_strata"] for v in values])
    s["background_focal_ratio"] = rate_ratio([v["background_strata"] for v in values])
    if resident is not None:
        s["return_vs_resident"] = mean_interval([v["focal_return"] - resident[e["seed"]]
                                                 for v, e in zip(values, records)])
    return s


def summarize_pair(episodes: dict[str, list[dict]]) -> dict:
    """Per condition: ``condition_summary`` over its episodes, and (structures with arms) over the episodes of each
    focal arm (``by_arm``)."""
    out = {}
    for cond, records in episodes.items():
        values = [episode_values(e) for e in records]
        resident = None
        if cond != "resident" and "resident" in episodes:
            resident = {e["seed"]: episode_values(e)["focal_return"] for e in episodes["resident"]}
        s = condition_summary(values, records, resident)
        arms = sorted({v["focal_arm"] for v in values if v["focal_arm"] is not None})
        if arms:
            s["by_arm"] = {arm: condition_summary([v for v in values if v["focal_arm"] == arm],
                                                  [e for v, e in zip(values, records) if v["focal_arm"] == arm],
                                                  resident) for arm in arms}
        out[cond] = s
    return out


def across_pairs(pairs: list[dict]) -> dict:
    """The pairs' per-condition means (ratios' logs, of pairs with events) with a t-interval over pairs: n = pairs;
    per focal arm too (``by_arm``) when the conditions have arms."""
    out = {}
    for cond in pairs[0]:
        out[cond] = _across([p[cond] for p in pairs])
        arms = sorted({a for p in pairs for a in p[cond].get("by_arm", {})})
        if arms:
            out[cond]["by_arm"] = {a: _across([p[cond]["by_arm"][a] for p in pairs if a in p[cond].get("by_arm", {})])
                                   for a in arms}
    return out


def _across(cells: list[dict]) -> dict:
    out = {}
    for k in cells[0]:
        if k == "by_arm":
            continue
        if "ratio" in k:
            logs = [c[k]["log_ratio"] for c in cells if c[k]["log_ratio"] is not None and not c[k].get("no_events")]
            s = mean_interval(logs)
            out[k] = {key: (None if s[key] is None else math.exp(s[key])) for key in ("mean", "lo", "hi")}
            out[k]["n"] = s["n"]
        else:
            out[k] = mean_interval([c[k]["mean"] for c in cells if c[k]["mean"] is not None])
    return out


def play_pair(make, focal: str, background: str, episodes: int, train_dir: str, bar=None) -> dict:
    """Every condition's episode records for one (focal, background) pair."""
    from metta.evals.play import play_episode

    out = {}
    for cond in CONDITIONS:
        env = CrossplayEnv(make(), placebo=cond == "placebo")
        specs = {"focal": focal, "background": focal if cond == "resident" else background}
        policies = {role: policy_for(spec, env, train_dir, seed=k) for k, (role, spec) in enumerate(specs.items())}
        policy = CompositePolicy(policies, lambda env=env: env.roles, env.possible_agents)
        try:
            out[cond] = [episode_record(env, play_episode(env, policy, seed, progress=bar)) for seed in range(episodes)]
        finally:
            env.close()
    return out


def run(args) -> dict:
    from metta.env import EnvConfig, make_env
    from metta.env.presets import get_preset
    from metta.runtime.name_values import parse_name_values

    focal, background = args.focal, args.background
    if len(focal) != len(background) and 1 not in (len(focal), len(background)):
        raise UsageError(f"--focal gives {len(focal)} and --background {len(background)}: pair them one to one, "
                         "or give one of them once")
    if args.episodes < 1:
        raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
    pairs = list(zip(focal * (len(background) if len(focal) == 1 else 1),
                     background * (len(focal) if len(background) == 1 else 1)))
    texts = parse_name_values(args.option, str, "--option", "KEY=VALUE (a setting of the env's config)",
                              "map.num_agents=8")
    options = {key: EnvConfig.from_text(key, text) for key, text in texts.items()}
    config = get_preset(args.env).override({**options, "max_steps": args.max_steps} if args.max_steps else options)
    make = lambda: make_env(config, name=args.env)  # noqa: E731
    probe = make()
    steps = probe.max_steps
    probe.close()
    from tqdm import tqdm

    results = []
    with tqdm(total=len(pairs) * len(CONDITIONS) * args.episodes * steps, desc="crossplay", unit="step",
              disable=args.json) as bar:
        for f, b in pairs:
            episodes = play_pair(make, f, b, args.episodes, args.train_dir, bar)
            results.append({"focal": f, "background": b, "summary": summarize_pair(episodes), "episodes": episodes})
    report = {"env": args.env, "options": options, "max_steps": steps, "episodes": args.episodes,
              "pairs": results, "across_pairs": across_pairs([r["summary"] for r in results]), "n_pairs": len(pairs)}
    return report


def text(report: dict) -> str:
    lines = [f"cross-play on {report['env']}: {report['episodes']} episodes per condition, {report['n_pairs']} pair(s)"]
    for r in report["pairs"]:
        lines.append(f"focal {r['focal']} among background {r['background']}")
        for cond, s in r["summary"].items():
            cells = [f"{k} {s[k]['mean']:.3g}" + (f" [{s[k]['lo']:.3g}, {s[k]['hi']:.3g}]" if s[k]["lo"] is not None
                                                  else "") for k in PER_EPISODE]
            ratios = [f"{k} {'-' if s[k]['ratio'] is None else format(s[k]['ratio'], '.3g')}"
                      for k in ("focal_kin_stranger_ratio", "background_focal_ratio")]
            lines.append(f"  {cond:9s} " + "; ".join(cells + ratios))
    return "\n".join(lines)


def main(argv=None) -> int:
    from metta.runtime.files import write_json
    from metta.runtime.lifetime import run_command

    ap = argparse.ArgumentParser(prog="python -m metta.evals.crossplay", description=__doc__.split("\n\n")[0])
    ap.add_argument("--focal", nargs="+", required=True, help="experiment(s) in --train_dir, or random/oracle")
    ap.add_argument("--background", nargs="+", required=True, help="experiment(s), or random/oracle")
    ap.add_argument("--env", default="metta-teams", help="preset (default metta-teams)")
    ap.add_argument("--option", action="append", default=[],
                    help="a setting of the env's config KEY=VALUE, by dotted key or an older spelling "
                         "(map.num_agents=8, team_reward=1; repeatable)")
    ap.add_argument("--episodes", type=int, default=8)
    ap.add_argument("--max_steps", type=int, default=None, help="episode length (default: the game's)")
    ap.add_argument("--train_dir", default="train_dir")
    ap.add_argument("--out", default=None, help="the JSON report (default: train_dir/crossplay/F_vs_B.json)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)

    def body(stops):
        report = run(args)
        out = args.out or os.path.join(args.train_dir, "crossplay",
                                       f"{'+'.join(args.focal)}_vs_{'+'.join(args.background)}.json")
        os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
        write_json(out, report)
        print(json.dumps(report) if args.json else f"{text(report)}\nwrote {out}")

    return run_command(body)


if __name__ == "__main__":
    sys.exit(main())
