"""Check the dilemma game with scripted populations, before any training.

``python -m metta.experiments.dilemma_check [--seeds 8] [--episodes 2] [--json out.json]`` plays
populations of scripted agents on ``games/dilemma.yaml`` (the preset ``metta-dilemma``'s map and
kinship: 24 agents on 30x30, teams of 4, ``bond_share`` 0) and tests the predictions of
docs/dilemma.md with 95% t intervals across seeds (n = seeds; a seed's episodes are pooled into one
value first). Every population of a seed plays the same maps, teams and focal agent (episode seed
``1000 * seed + episode``, focal agent ``(3 * seed + episode) % N``), so differences are paired.

Scripts, from Griddly's true state (like metta.evals.policies.ScriptedOracle):
- peaceful: with energy for the altar, go use the nearest altar; with diamonds enough for a heart
  (or a full inventory, or no generator left), go charge; else go harvest; else wait. "Go" takes a
  shortest path around agents to a free cell beside the nearest target; with no free path the agent
  waits in the queue, facing the way to the target (so a waiting agent faces the one in its way).
- thief: a peaceful agent that first attacks the agent in front of it (adjacent) when that agent is
  carrying diamonds and unshielded and the thief has room for them and energy for the swing; a
  kin-aware thief spares kin (``env.kinship``), a kin-blind one does not.

Populations: ``peaceful``; ``thieves_blind`` / ``thieves_aware``; ``lone_thief_blind`` /
``lone_thief_aware`` (the focal agent steals among peaceful agents); ``lone_peaceful`` (the focal
agent is peaceful among kin-blind thieves). The focal agent's raw return in peaceful, lone_thief,
lone_peaceful and thieves is Leibo et al.'s empirical R, T, S and P.

Shared returns at team_reward α ∈ {0, 0.5, 1} are computed from each episode's raw returns and
teams (r' = T(α) r; no bonds form, and bond_share is 0 anyway): the scripts ignore α. Chances per
agent and episode: ``attack_chances_kin`` (the env's: kin in the 9 cells an attack can reach) and
profitable chances (an unshielded agent carrying diamonds in those cells; ``front``: in the cell in
front). Checked: (a) T − R > 0; (b) per-capita hearts thieves < peaceful; (c) a sharer's shared
return kin-aware − kin-blind; and the Macy–Flache conditions on the focal agent's R, T, S, P.
"""
from __future__ import annotations

import argparse
import json
import os
from collections import deque

import numpy as np

from metta.evals import stats
from metta.evals.policies import FACING, ROTATE_TO
from metta.society.kinship import Teams

GAME = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "games", "dilemma.yaml"))
MAP = dict(width=30, height=30, num_agents=24, wall_density=0.05, rooms=0)
KINSHIP = dict(structure="teams", team_size=4, team_reward=1.0, bond_share=0.0)
ALPHAS = (0.0, 0.5, 1.0)
# population -> (who steals: "none" / "all" / "focal" / "others", kin-aware)
POPULATIONS = {"peaceful": ("none", False), "thieves_blind": ("all", False), "thieves_aware": ("all", True),
               "lone_thief_blind": ("focal", False), "lone_thief_aware": ("focal", True),
               "lone_peaceful": ("others", False)}
BLOCKING = ("wall", "generator", "charger", "altar", "marker")
# the attack's 9 cells, (right, forward) of the attacker: metta.yaml's attack inputs 1..9
COLUMNS = ("hearts", "raw", "focal_raw", "attacks_kin", "attacks_strangers", "frozen", "kin_chances", "profitable",
           "profitable_front")
REACH = [(-1, 1), (0, 1), (1, 1), (-1, 2), (0, 2), (1, 2), (-1, 3), (0, 3), (1, 3)]


def t_quantile(df: int) -> float:
    """The two-sided 95% t quantile t_{0.975, df} (metta.evals.stats.t_quantile: scipy)."""
    return stats.t_quantile(0.975, df)


def t_interval(values) -> dict:
    """Mean and 95% t interval of per-seed ``values`` (n = len(values), df = n − 1; metta.evals.stats.mean_interval);
    no interval for n < 2."""
    s = stats.mean_interval(values)
    return dict(mean=s["mean"], lo=s["lo"], hi=s["hi"], n=s["n"])


class Scripted:
    """Plays every agent: peaceful, or a thief (``thieves[i]``) that spares kin when ``kin_aware``."""

    def __init__(self, env, thieves: np.ndarray, kin_aware: bool):
        self.env, self.thieves, self.kin_aware = env, thieves, kin_aware
        v = env.game.named_values()
        self.altar_cost, self.charger_energy = v["altar_cost"], v["charger_energy"]
        self.max_inv, self.attack_cost = v["agent_max_inventory"], v["attack_cost"]
        index = env.engine.action_index
        self.a = {k: index(*k) for k in (("move", 1), ("move", 2), ("use", 1), ("attack", 2))}
        self.turn = {d: index("rotate", i) for d, i in ROTATE_TO.items()}
        self.kin = env.kinship >= env.society.kin_threshold
        self.rng = np.random.default_rng(0)
        self.fields, self.profitable = {}, np.zeros((2, env.num_agents_total), dtype=np.int64)  # [reach, front]

    def read(self) -> None:
        state = self.env.engine.state()
        self.w, self.h = state["Grid"]["Width"], state["Grid"]["Height"]
        self.objects, self.agents = {}, {}
        for o in state["Objects"]:
            loc = tuple(o["Location"])
            if o["Name"] == self.env.game.avatar:
                self.agents[o["PlayerId"] - 1] = o
            self.objects[loc] = o
        self.cell_agent = {tuple(o["Location"]): j for j, o in self.agents.items()}
        self.step_fields = {}

    def field(self, targets: tuple, agents_block: bool) -> dict:
        """Steps from each cell to the nearest free cell beside one of ``targets``; with ``agents_block`` agents
        are obstacles (recomputed each step), else only the map's objects are (cached for the episode)."""
        key = (targets, agents_block)
        cache = self.step_fields if agents_block else self.fields
        if key not in cache:
            blocked = self.cell_agent if agents_block else {}

            def free(c):
                return (0 <= c[0] < self.w and 0 <= c[1] < self.h and c not in blocked
                        and (c not in self.objects or self.objects[c]["Name"] not in BLOCKING))

            dist = {c: 0 for t in targets for d in ROTATE_TO if free(c := (t[0] + d[0], t[1] + d[1]))}
            queue = deque(dist)
            while queue:
                c = queue.popleft()
                for d in ROTATE_TO:
                    n = (c[0] + d[0], c[1] + d[1])
                    if n not in dist and free(n):
                        dist[n] = dist[c] + 1
                        queue.append(n)
            cache[key] = dist
        return cache[key]

    def targets(self, name: str, keep=lambda o: True) -> tuple:
        return tuple(sorted(loc for loc, o in self.objects.items() if o["Name"] == name and keep(o)))

    def act(self) -> np.ndarray:
        self.read()
        out = np.zeros(self.env.num_agents_total, dtype=np.int64)
        for i, me in self.agents.items():
            self.count_chances(i, me)
            out[i] = self.plan(i, me)
        return out

    def count_chances(self, i: int, me: dict) -> None:
        f = FACING.get(me["Orientation"])
        if f is None:
            return
        x, y = me["Location"]
        for n, (r, fwd) in enumerate(REACH):
            j = self.cell_agent.get((x + fwd * f[0] - r * f[1], y + fwd * f[1] + r * f[0]))
            if j is not None and self._carrying_unshielded(j):
                self.profitable[0, i] += 1
                self.profitable[1, i] += n == 1

    def _carrying_unshielded(self, j: int) -> bool:
        v = self.agents[j]["Variables"]
        return v.get("inventory", 0) > 0 and not v.get("shield", 0)

    def plan(self, i: int, me: dict) -> int:
        v = me["Variables"]
        if v.get("frozen", 0) > 0:
            return 0
        here, facing = tuple(me["Location"]), FACING.get(me["Orientation"])
        energy, inv = v.get("energy", 0), v.get("inventory", 0)
        if self.thieves[i] and facing is not None and inv < self.max_inv and energy >= self.attack_cost:
            j = self.cell_agent.get((here[0] + facing[0], here[1] + facing[1]))
            if j is not None and self._carrying_unshielded(j) and not (self.kin_aware and self.kin[i, j]):
                return self.a[("attack", 2)]
        generators = self.targets("generator", lambda o: o["Variables"].get("diamonds", 0) > 0)
        plan = []
        if energy >= self.altar_cost:
            plan.append(self.targets("altar"))
        if inv > 0 and (energy + inv * self.charger_energy >= self.altar_cost or inv >= self.max_inv
                        or not generators):
            plan.append(self.targets("charger"))
        if inv < self.max_inv and generators:
            plan.append(generators)
        for targets in plan:
            step = self.go_use(here, facing, targets)
            if step is not None:
                return step
        return 0

    def go_use(self, here, facing, targets: tuple) -> int | None:
        """Use a target beside ``here``, or step along a free path towards one; with no free path, wait in the
        queue facing the way to it; None when no target can be reached at all."""
        beside = [d for d in ROTATE_TO if (here[0] + d[0], here[1] + d[1]) in targets]
        if beside:
            ready = [d for d in beside
                     if not self.objects[(here[0] + d[0], here[1] + d[1])]["Variables"].get("cooldown", 0)]
            want = (ready or beside)[0]
            return self.a[("use", 1)] if facing == want else self.turn[want]
        dist = self.field(targets, agents_block=True)
        steps = [(dist[n], self.rng.random(), d) for d in ROTATE_TO
                 if (n := (here[0] + d[0], here[1] + d[1])) in dist]
        if steps:
            want = min(steps)[2]
            back = facing == (-want[0], -want[1])
            return self.a[("move", 1)] if facing == want else self.a[("move", 2)] if back else self.turn[want]
        static = self.field(targets, agents_block=False)
        down = [d for d in ROTATE_TO if here in static
                and static.get((here[0] + d[0], here[1] + d[1]), 1 << 30) < static[here]]
        if not down:
            return None
        want = down[0] if facing not in down else facing
        return 0 if facing == want else self.turn[want]  # queue, facing the agent in the way


def play(env, population: str, seed: int, episode: int) -> dict:
    """One episode of ``population`` on the map of (``seed``, ``episode``): per-agent metrics and teams."""
    who, aware = POPULATIONS[population]
    env.reset(seed=1000 * seed + episode)
    n = env.num_agents_total
    focal = (3 * seed + episode) % n
    ids = np.arange(n)
    thieves = {"none": ids < 0, "all": ids >= 0, "focal": ids == focal, "others": ids != focal}[who]
    policy = Scripted(env, thieves, aware)
    while True:
        *_, episode_metrics = env.step_arrays(policy.act())
        if episode_metrics is not None:
            break
    raw = np.array([m["raw_reward"] for m in episode_metrics])
    shared = {a: (Teams(team_size=4, team_reward=a).sharing(env.kinship) @ raw).tolist() for a in ALPHAS}

    def pick(key):
        return [m[key] for m in episode_metrics]

    return dict(focal=focal, raw=raw.tolist(), shared=shared, hearts=pick("hearts"),
                attacks_kin=pick("attacks_on_kin"), attacks_strangers=pick("attacks_on_strangers"),
                frozen=pick("frozen_steps"), kin_chances=pick("attack_chances_kin"),
                profitable=policy.profitable[0].tolist(), profitable_front=policy.profitable[1].tolist())


def summarise(runs: dict) -> dict:
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
        table[pop] = {key: t_interval(over(pop, capita(key))) for key in COLUMNS if key != "focal_raw"}
        table[pop]["focal_raw"] = t_interval(over(pop, focal()))
    R, T = np.array(over("peaceful", focal())), np.array(over("lone_thief_blind", focal()))
    S, P = np.array(over("lone_peaceful", focal())), np.array(over("thieves_blind", focal()))

    def drop(key):
        return np.array(over("peaceful", capita(key))) - np.array(over("thieves_blind", capita(key)))

    checks = {"(a) T - R: lone thief's raw minus the same agent's, peaceful": T - R,
              "(b) hearts per capita: peaceful - thieves (kin-blind)": drop("hearts"),
              "R - P (focal raw)": R - P, "R - P (raw per capita)": drop("raw"), "R - S": R - S,
              "2R - T - S": 2 * R - T - S, "P - S (fear)": P - S}
    for a in ALPHAS:
        lone = [np.array(over(f"lone_thief_{kind}", focal("shared", a))) for kind in ("aware", "blind")]
        pops = [np.array(over(f"thieves_{kind}", lambda ep, a=a: float(np.mean(ep["shared"][a]))))
                for kind in ("aware", "blind")]
        checks[f"(c) lone thief's shared, aware - blind, alpha={a}"] = lone[0] - lone[1]
        checks[f"(c) thieves' shared per capita, aware - blind, alpha={a}"] = pops[0] - pops[1]
    return dict(seeds=seeds, populations=table,
                checks={k: dict(t_interval(v), per_seed=v.tolist()) for k, v in checks.items()})


def fmt(iv: dict) -> str:
    return f"{iv['mean']:7.3f}" + ("" if iv["lo"] is None else f" [{iv['lo']:7.3f}, {iv['hi']:7.3f}]")


def report(summary: dict) -> str:
    lines = [f"n = {len(summary['seeds'])} seeds; per agent per episode, mean [95% t interval across seeds]", ""]
    for pop, row in summary["populations"].items():
        lines.append(f"{pop}")
        lines += [f"  {c:18s} {fmt(row[c])}" for c in COLUMNS]
    lines += ["", "checks (differences paired by seed; holds: the interval is above 0)"]
    for name, iv in summary["checks"].items():
        holds = "unclear" if iv["lo"] is None else "holds" if iv["lo"] > 0 else "fails" if iv["hi"] < 0 else "unclear"
        lines.append(f"  {name:58s} {fmt(iv)}  {holds}")
    return "\n".join(lines)


def main(argv=None) -> int:
    from tqdm import tqdm

    from metta.env import make_env

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="seeds (the unit of the intervals)")
    ap.add_argument("--episodes", type=int, default=2, help="episodes per seed and population")
    ap.add_argument("--game", default=GAME, help="the game file (default games/dilemma.yaml)")
    ap.add_argument("--max-steps", type=int, default=None, help="episode length (default: the game's max_steps)")
    ap.add_argument("--json", help="write the per-seed values and intervals here")
    args = ap.parse_args(argv)
    env = make_env("metta-teams", game=args.game, kinship=KINSHIP, max_steps=args.max_steps, seed=0, **MAP)
    runs = {pop: {s: [] for s in range(args.seeds)} for pop in POPULATIONS}
    with tqdm(total=args.seeds * args.episodes * len(POPULATIONS), desc="episodes") as bar:
        for s in range(args.seeds):
            for e in range(args.episodes):
                for pop in POPULATIONS:
                    runs[pop][s].append(play(env, pop, s, e))
                    bar.update()
    summary = summarise(runs)
    summary.update(game=args.game, map=MAP, kinship=KINSHIP, episodes=args.episodes, max_steps=env.max_steps)
    env.close()
    print(report(summary))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(summary, runs=runs), f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
