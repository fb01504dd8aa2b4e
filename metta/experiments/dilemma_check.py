"""Check the dilemma games with scripted populations, before any training.

``python -m metta.experiments.dilemma_check [--env metta-dilemma | metta-kin-dilemma] [--seeds 8] [--episodes 2]
[--json out.json] [--schelling diagram.png]`` plays populations of scripted agents on one of the check
configurations of ``CHECKS`` and tests the predictions of docs/dilemma.md with 95% t intervals across seeds
(metta.evals.stats.mean_interval, n = seeds; a seed's episodes are pooled into one value first). Every population
of a seed plays the same maps, teams and focal agent (episode seed ``1000 * seed + episode``, focal agent
``(3 * seed + episode) % N``), so differences are paired.

The check configurations (``--env``; the default is ``metta-dilemma``, so the first design's recorded command
reproduces its numbers unchanged):
- ``metta-dilemma``, the first design (docs/dilemma.md, "The check: scripted populations"): ``games/dilemma.yaml``
  on the preset's map and kinship (24 agents on 30x30, teams of 4, ``bond_share`` 0); shared returns at
  α ∈ {0, 0.5, 1}; the thief attacks only the agent directly in front of it. Kept exactly as it was recorded.
- ``metta-kin-dilemma``, the kin dilemma: ``games/kin_dilemma.yaml`` on the preset's map and kinship (12 agents on
  17x17, ``mixed_teams``: 4 teams of 3, ``bond_share`` 0); shared returns at α ∈ {0, 1}; the thief attacks any
  agent in the 9 cells its attack reaches (``REACH``), the cell in front first, then the nearest.

Scripts: metta.scripted.agents (``ScriptedAgents``, from the true game state, with the game's names for objects,
variables, actions and values: its ``Metta.oracle`` section):
- peaceful: with energy for the altar, go use the nearest altar; with diamonds enough for a heart
  (or a full inventory, or no generator left), go charge; else go harvest; else wait. "Go" takes a
  shortest path around agents to a free cell beside the nearest target; with no free path the agent
  waits in the queue, facing the way to the target (so a waiting agent faces the one in its way).
- thief: a peaceful agent that first attacks an agent in its reach (the configuration's ``thief_reach``) when
  that agent is carrying diamonds and unshielded and the thief has room for them (inventory below the cap) and
  energy for the swing (the game's ``attack_cost``); a kin-aware thief spares kin (``env.kinship`` >= the
  structure's ``kin_threshold``), a kin-blind one does not.

Populations: ``peaceful``; ``thieves_blind`` / ``thieves_aware``; ``lone_thief_blind`` /
``lone_thief_aware`` (the focal agent steals among peaceful agents); ``lone_peaceful`` (the focal
agent is peaceful among kin-blind thieves). The focal agent's raw return in peaceful, lone_thief,
lone_peaceful and thieves is Leibo et al.'s empirical R, T, S and P.

Shared returns at the configuration's α are computed from each episode's raw returns with every team at that α
(``team_sharing(env.kinship, α) @ raw``; no bonds form, and bond_share is 0 anyway): the scripts ignore α. Chances
per agent and episode: ``attack_chances_kin`` (the env's: kin in the 9 cells an attack can reach) and
profitable chances (an unshielded agent carrying diamonds in those cells; ``front``: in the cell in
front). Checked: (a) T − R > 0; (b) per-capita hearts thieves < peaceful; (c) a sharer's shared
return kin-aware − kin-blind; and the Macy–Flache conditions on the focal agent's R, T, S, P.

``--schelling FILE.png``: a Schelling diagram (Hughes et al. 2018) of populations of k peaceful agents and N − k
kin-blind thieves, k = 0..N, on the same maps per seed (metta.experiments.schelling). k = N is ``peaceful`` and
k = 0 is ``thieves_blind``, reused.
"""
from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass

import numpy as np

from metta.evals.stats import mean_interval
from metta.experiments.schelling import SCHELLING_ALPHA, plot_schelling, schelling, schelling_thieves
from metta.scripted.agents import FRONT, REACH, Conduct, ScriptedAgents, ahead, thief_order
from metta.society.kinship.teams import team_sharing

GAMES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "games"))


@dataclass(frozen=True)
class CheckConfig:
    """One check: ``make_env(preset, game=game, kinship=kinship, **map)``; shared returns at the team shares
    ``alphas``; the scripted thief attacks the cells ``thief_reach`` ((right, forward) offsets of ``REACH``)."""

    preset: str
    game: str
    map: dict
    kinship: dict
    alphas: tuple
    thief_reach: tuple


CHECKS = {
    "metta-dilemma": CheckConfig(
        preset="metta-teams", game=os.path.join(GAMES, "dilemma.yaml"),
        map=dict(width=30, height=30, num_agents=24, wall_density=0.05, rooms=0),
        kinship=dict(structure="teams", team_size=4, team_reward=1.0, bond_share=0.0),
        alphas=(0.0, 0.5, 1.0), thief_reach=(FRONT,)),
    "metta-kin-dilemma": CheckConfig(
        preset="metta-kin-dilemma", game=os.path.join(GAMES, "kin_dilemma.yaml"),
        map=dict(width=17, height=17, num_agents=12, wall_density=0.0, rooms=0),
        kinship=dict(structure="mixed_teams", num_teams=4, arms=[0.0, 1.0], bond_share=0.0),
        alphas=(0.0, 1.0), thief_reach=tuple(REACH)),
}
DEFAULT_CHECK = "metta-dilemma"
# the first design's check, under the names it always had
GAME, MAP, KINSHIP, ALPHAS = (getattr(CHECKS[DEFAULT_CHECK], k) for k in ("game", "map", "kinship", "alphas"))
# population -> (who steals: "none" / "all" / "focal" / "others", kin-aware)
POPULATIONS = {"peaceful": ("none", False), "thieves_blind": ("all", False), "thieves_aware": ("all", True),
               "lone_thief_blind": ("focal", False), "lone_thief_aware": ("focal", True),
               "lone_peaceful": ("others", False)}
COLUMNS = ("hearts", "raw", "focal_raw", "attacks_kin", "attacks_strangers", "frozen", "kin_chances", "profitable",
           "profitable_front")


def shared_returns(kinship: np.ndarray, raw, alpha: float) -> np.ndarray:
    """An episode's shared returns if every team shared ``alpha``: ``team_sharing(kinship, α) @ raw``."""
    raw = np.asarray(raw, dtype=np.float64)
    return team_sharing(kinship, np.full(len(raw), float(alpha))) @ raw


class Scripted(ScriptedAgents):
    """The populations: every agent peaceful, or a thief (``thieves[i]``) that spares kin when ``kin_aware`` and
    attacks an agent in the cells ``reach`` ((right, forward) offsets; the default: only the cell in front)
    (metta.scripted.agents); ``act()`` also tallies each agent's profitable chances (``profitable``: [reach,
    front])."""

    def __init__(self, env, thieves: np.ndarray, kin_aware: bool, reach=(FRONT,)):
        super().__init__(env, [Conduct(steal=bool(t), kin_aware=kin_aware, reach=tuple(reach)) for t in thieves])
        self.thieves = np.asarray(thieves, bool)
        self.profitable = np.zeros((2, env.num_agents_total), dtype=np.int64)  # [reach, front]

    def act(self, agents=None) -> np.ndarray:
        out = super().act(agents)
        w, h = self.occupant.shape
        for i in range(len(self.x)):
            for n, offset in enumerate(REACH):
                x, y = ahead(self.here(i), self.facing[i], offset)
                j = self.occupant[x, y] if 0 <= x < w and 0 <= y < h else -1
                if j >= 0 and self.carrying_unshielded(j):
                    self.profitable[0, i] += 1
                    self.profitable[1, i] += offset == FRONT
        return out


def make_check_env(check: CheckConfig, game: str | None = None, max_steps: int | None = None):
    """The env a check plays: its preset with its game (or ``game``), map and kinship."""
    from metta.env import make_env

    return make_env(check.preset, game=game or check.game, kinship=dict(check.kinship), max_steps=max_steps, seed=0,
                    **check.map)


def focal_agent(seed: int, episode: int, n: int) -> int:
    return (3 * seed + episode) % n


def population_thieves(population: str, n: int, focal: int) -> np.ndarray:
    """Who steals in ``population`` (POPULATIONS) of ``n`` agents with focal agent ``focal``."""
    ids = np.arange(n)
    return {"none": ids < 0, "all": ids >= 0, "focal": ids == focal, "others": ids != focal}[POPULATIONS[population][0]]


def play(env, check: CheckConfig, seed: int, episode: int, thieves: np.ndarray, aware: bool) -> dict:
    """One episode on the map of (``seed``, ``episode``) with ``thieves`` stealing (kin-aware when ``aware``):
    per-agent metrics and shared returns at the check's alphas."""
    env.reset(seed=1000 * seed + episode)
    n = env.num_agents_total
    policy = Scripted(env, thieves, aware, reach=check.thief_reach)
    while True:
        *_, episode_metrics = env.step_arrays(policy.act())
        if episode_metrics is not None:
            break
    raw = np.array([m["raw_reward"] for m in episode_metrics])
    shared = {a: shared_returns(env.kinship, raw, a).tolist() for a in check.alphas}

    def pick(key):
        return [m[key] for m in episode_metrics]

    return dict(focal=focal_agent(seed, episode, n), thieves=np.asarray(thieves, bool).tolist(), raw=raw.tolist(),
                shared=shared, hearts=pick(env.facts.headline or "hearts"),
                attacks_kin=pick("attacks_on_kin"), attacks_strangers=pick("attacks_on_strangers"),
                frozen=pick("frozen_steps"), kin_chances=pick("attack_chances_kin"),
                profitable=policy.profitable[0].tolist(), profitable_front=policy.profitable[1].tolist())


def play_population(env, check: CheckConfig, population: str, seed: int, episode: int) -> dict:
    n = env.num_agents_total
    thieves = population_thieves(population, n, focal_agent(seed, episode, n))
    return play(env, check, seed, episode, thieves, POPULATIONS[population][1])


def scripted_hearts(preset: str, episodes: int) -> float:
    """The peaceful population's hearts per agent per episode on ``preset``'s check (its game, map and kinship),
    over the first episode of seeds 0..episodes-1: a reference for what trained agents make."""
    from metta.errors import ConfigError

    if preset not in CHECKS:
        raise ConfigError(f"no scripted population plays {preset!r}: the checks are {', '.join(CHECKS)}")
    check = CHECKS[preset]
    env = make_check_env(check)
    try:
        return float(np.mean([np.mean(play_population(env, check, "peaceful", seed, 0)["hearts"])
                              for seed in range(episodes)]))
    finally:
        env.close()


def summarise(runs: dict, alphas=ALPHAS) -> dict:
    """``runs[population][seed]``: that seed's episodes -> per-seed values and intervals of every figure."""
    seeds = sorted(next(iter(runs.values())))

    def over(pop, f):  # per seed: the mean of f(episode) over the seed's episodes
        return [float(np.mean([f(ep) for ep in runs[pop][s]])) for s in seeds]

    def focal(key="raw", alpha=None):
        return lambda ep: (ep[key] if alpha is None else ep[key][alpha])[ep["focal"]]

    def capita(key):
        return lambda ep: float(np.mean(ep[key]))

    table = {}
    for pop in runs:
        table[pop] = {key: mean_interval(over(pop, capita(key))) for key in COLUMNS if key != "focal_raw"}
        table[pop]["focal_raw"] = mean_interval(over(pop, focal()))
    R, T = np.array(over("peaceful", focal())), np.array(over("lone_thief_blind", focal()))
    S, P = np.array(over("lone_peaceful", focal())), np.array(over("thieves_blind", focal()))

    def drop(key):
        return np.array(over("peaceful", capita(key))) - np.array(over("thieves_blind", capita(key)))

    checks = {"(a) T - R: lone thief's raw minus the same agent's, peaceful": T - R,
              "(b) hearts per capita: peaceful - thieves (kin-blind)": drop("hearts"),
              "R - P (focal raw)": R - P, "R - P (raw per capita)": drop("raw"), "R - S": R - S,
              "2R - T - S": 2 * R - T - S, "P - S (fear)": P - S}
    for a in alphas:
        lone = [np.array(over(f"lone_thief_{kind}", focal("shared", a))) for kind in ("aware", "blind")]
        pops = [np.array(over(f"thieves_{kind}", lambda ep, a=a: float(np.mean(ep["shared"][a]))))
                for kind in ("aware", "blind")]
        checks[f"(c) lone thief's shared, aware - blind, alpha={a}"] = lone[0] - lone[1]
        checks[f"(c) thieves' shared per capita, aware - blind, alpha={a}"] = pops[0] - pops[1]
    return dict(seeds=seeds, populations=table,
                checks={k: dict(mean_interval(v), per_seed=v.tolist()) for k, v in checks.items()})


def fmt(iv: dict) -> str:
    return f"{iv['mean']:7.3f}" + ("" if iv["lo"] is None else f" [{iv['lo']:7.3f}, {iv['hi']:7.3f}]")


def verdict(iv: dict) -> str:
    return "unclear" if iv["lo"] is None else "holds" if iv["lo"] > 0 else "fails" if iv["hi"] < 0 else "unclear"


def report(summary: dict) -> str:
    lines = [f"n = {len(summary['seeds'])} seeds; per agent per episode, mean [95% t interval across seeds]", ""]
    for pop, row in summary["populations"].items():
        lines.append(f"{pop}")
        lines += [f"  {c:18s} {fmt(row[c])}" for c in COLUMNS]
    lines += ["", "checks (differences paired by seed; holds: the interval is above 0)"]
    for name, iv in summary["checks"].items():
        lines.append(f"  {name:58s} {fmt(iv)}  {verdict(iv)}")
    diagram = summary.get("schelling")
    if diagram:
        n = diagram["n_agents"]
        lines += ["", f"Schelling diagram: {n} agents, k cooperators (peaceful) and {n} - k defectors (kin-blind "
                      f"thieves); x = other cooperators; mean return per agent per episode [95% t interval, n = "
                      f"{len(diagram['seeds'])} seeds]"]
        for panel, groups in diagram["panels"].items():
            c = {p["x"]: p for p in groups["cooperators"]}
            d = {p["x"]: p for p in groups["defectors"]}
            lines += [f"  {panel}", f"  {'x':>4s}  {'cooperators':27s}  {'defectors':27s}"]
            for x in range(n):
                lines.append(f"  {x:4d}  {fmt(c[x]) if x in c else '-':27s}  {fmt(d[x]) if x in d else '-':27s}")
            lines.append(f"  conditions (Hughes et al. 2018; paired by seed; holds: the interval is above 0), {panel}")
            for name, iv in groups["conditions"].items():
                lines.append(f"    {name:58s} {fmt(iv)}  {verdict(iv)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    from tqdm import tqdm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default=DEFAULT_CHECK, choices=sorted(CHECKS),
                    help=f"the check configuration (default {DEFAULT_CHECK}, the first design's recorded check)")
    ap.add_argument("--seeds", type=int, default=8, help="seeds (the unit of the intervals)")
    ap.add_argument("--episodes", type=int, default=2, help="episodes per seed and population")
    ap.add_argument("--game", default=None, help="the game file (default: the check's, e.g. games/dilemma.yaml)")
    ap.add_argument("--max-steps", type=int, default=None, help="episode length (default: the game's max_steps)")
    ap.add_argument("--json", help="write the per-seed values and intervals here")
    ap.add_argument("--schelling", metavar="FILE.png",
                    help="also play the Schelling populations (k peaceful, N - k kin-blind thieves, k = 0..N) and "
                         "draw their diagram here")
    args = ap.parse_args(argv)
    check = CHECKS[args.env]
    env = make_check_env(check, game=args.game, max_steps=args.max_steps)
    n = env.num_agents_total
    middle = range(1, n) if args.schelling else range(0)  # k = 0 and k = N are thieves_blind and peaceful
    # population (or number of thieves) -> seed -> each episode's result
    runs: dict[str, dict[int, list[dict]]] = {pop: {s: [] for s in range(args.seeds)} for pop in POPULATIONS}
    ladder: dict[int, dict[int, list[dict]]] = \
        {k: {s: [] for s in range(args.seeds)} for k in range(n + 1)} if args.schelling else {}
    with tqdm(total=args.seeds * args.episodes * (len(POPULATIONS) + len(middle)), desc="episodes") as bar:
        for s in range(args.seeds):
            for e in range(args.episodes):
                for pop in POPULATIONS:
                    runs[pop][s].append(play_population(env, check, pop, s, e))
                    bar.update()
                for k in middle:
                    ladder[k][s].append(play(env, check, s, e, schelling_thieves(k, n, s, e), False))
                    bar.update()
                if args.schelling:
                    ladder[0][s].append(runs["thieves_blind"][s][-1])
                    ladder[n][s].append(runs["peaceful"][s][-1])
    summary = summarise(runs, check.alphas)
    game = args.game or check.game
    summary.update(env=args.env, game=game, map=check.map, kinship=check.kinship, alphas=list(check.alphas),
                   thief_reach=[list(c) for c in thief_order(check.thief_reach)], episodes=args.episodes,
                   max_steps=env.max_steps)
    if args.schelling:
        alpha = SCHELLING_ALPHA if SCHELLING_ALPHA in check.alphas else None
        summary["schelling"] = schelling(ladder, alpha)
        name = env.game.doc.get("Environment", {}).get("Name", os.path.basename(game))
        plot_schelling(summary["schelling"], args.schelling,
                       f"Schelling diagram: {name} ({os.path.basename(game)}), {n} agents, {env.max_steps} steps; "
                       f"95% t intervals over n = {args.seeds} seeds ({args.episodes} episode"
                       f"{'s' if args.episodes != 1 else ''} each)")
    env.close()
    print(report(summary))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(summary, runs=runs, schelling_runs=ladder), f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
