"""Counterfactual probes: does a policy's choice to attack depend on whether it sees its target as kin?
(docs/dilemma.md, "The experiment: both arms in every episode", "Counterfactual probes".)

At every state of an episode where an agent i has another agent j in one of the cells its attack can reach, the
policy's log-probability of the attack aimed at j's cell is computed twice, from the same memory: once with the
kinship channel at j's cell of i's window showing the value v i observes, once showing 255 - v (everything else of
the observation as observed). Of the two, the higher value shows j as kin and the lower as a stranger (without
kinship noise: 255 and 0, one of them observed, the other the flip), and

    d = log p(attack j's cell | j shown as a stranger) - log p(attack j's cell | j shown as kin)

d > 0: the policy attacks strangers more readily than kin; a policy blind to the kinship channel has d = 0. Both
forward passes of every probe of a step go to the policy in one batch; neither advances its memory nor samples, so
the episode plays exactly as it would unprobed.

A policy can be probed when it has ``log_probs(grids, agents, rewards=None)`` (metta.evals.policies, the Policy
contract): ``grids`` (R, C, W, H) uint8 observations in the env's layout, ``agents`` (R,) each row's agent, as its
position among the observations ``act`` is given (a policy playing every agent of an env: the agent's index; rows
may repeat an agent), ``rewards`` None or (R,) the reward ``act`` will be given with that agent's observation this
step (None: as ``act`` given None). It returns (R, actions) log-probabilities of every action for each row as that
agent would act on it now, and changes nothing of the policy (memory, last actions, sampler).

``probe_episode(env, policy, seed)`` plays one episode (metta.evals.play.play_episode) and returns its outcome and
one record per probed (state, actor, target):

- ``seed``, ``step`` (steps taken before the state), ``actor``, ``target`` (agent indices), ``action`` (the flat
  attack action aimed at the target's cell);
- ``kin``: the true kinship of actor to target is at least the structure's ``kin_threshold``;
- ``arm``: the actor's team's share alpha (``env.team_rewards``), None for a structure without arms;
- ``actionable``: the chance counts as one by the game's own conditions (its ``Metta.actionable`` for attacks, as
  the env's social metrics count it, metta.society.metrics: in games/metta.yaml the actor is not frozen and has
  the energy for the attack, the target is unshielded and carries something); None for a game without them;
- ``shown``: the kinship value the actor observes at the target's cell; ``logp_kin``, ``logp_stranger``: the
  attack's log-probability with the target shown as kin and as a stranger; ``d`` their difference as above.

``summarize_probes(records)``: for all records (``overall``) and per arm (``arms``, keyed by the alpha written with
``format(alpha, "g")``), over actionable states and over every in-reach state, each for ``all`` targets, ``kin`` and
``stranger``: the mean d with n and a t-interval (metta.evals.stats.mean_interval; it takes the states as
independent, which they are not within an episode: across runs is the test). ``contrast``: the actionable mean d of
the arm with the highest alpha minus the lowest's (sharers minus selfish, per run), None without two such arms.
"""
from __future__ import annotations

import numpy as np

from metta.env.counters import actions_raising
from metta.evals.stats import mean_interval
from metta.society.metrics import arm_label
from metta.society.observation import CHANNELS as KIN_CHANNELS

COUNTER = "attacks"  # the per-player counter an attack raises: the actions that raise it are the attacks
KIN_CHANNEL = KIN_CHANNELS[0]
SCOPES = ("actionable", "in_reach")
TARGETS = ("all", "kin", "stranger")


def probeable(policy) -> bool:
    """Does ``policy`` implement the probe protocol (``log_probs``, the module docstring)?"""
    return callable(getattr(policy, "log_probs", None))


def _world_aim(v: tuple[int, int], facing: int) -> tuple[int, int]:
    """A relative VectorToDest turned to ``facing`` (0 up, 1 right, 2 down, 3 left), as the engine turns it."""
    dx, dy = v
    return [(dx, dy), (-dy, dx), (-dx, -dy), (dy, -dx)][facing]


def _window_offset(w: tuple[int, int], facing: int) -> tuple[int, int]:
    """Where a world offset appears in a window rotated with an avatar facing ``facing`` (facing up)."""
    dx, dy = w
    return [(dx, dy), (dy, -dx), (-dx, -dy), (-dy, dx)][facing]


def attack_cells(env) -> tuple[np.ndarray, np.ndarray]:
    """The attacks with distinct aims (``env.engine.reach``) and, per attack and facing (0 up, 1 right, 2 down,
    3 left), the cell ``(x, y)`` of the attacker's window (the env's ``(channel, x, y)`` layout) it aims at; a cell
    outside the window is (-1, -1)."""
    e = env.engine
    actions = e.reach(actions_raising(env.game, COUNTER))
    w, h, rotate = e.window
    cells = np.full((len(actions), 4, 2), -1, dtype=np.int64)
    for r, a in enumerate(actions):
        entry = e.actions[a]
        for f in range(4):
            world = _world_aim(entry.vector, f) if entry.relative else entry.vector
            dx, dy = _window_offset(world, f) if rotate else world
            x, y = w // 2 + dx, h // 2 + dy
            if 0 <= x < w and 0 <= y < h:
                cells[r, f] = (x, y)
    return actions, cells


class Prober:
    """Collects the probe records of ``policy`` in ``env``: call ``step(obs, rewards)`` with every state's
    observations before the policy acts on them (``watch`` is the same, with play_episode's signature)."""

    def __init__(self, env, policy, seed: int | None = None):
        if not probeable(policy):
            raise TypeError(f"{type(policy).__name__} cannot be probed: it has no log_probs (metta.evals.probes)")
        self.env, self.policy, self.seed = env, policy, seed
        self.actions, self.cells = attack_cells(env)
        names = env.channel_names
        self.kin_channel = names.index(KIN_CHANNEL)
        self.agent_channel = names.index(env.game.avatar)
        self.records: list[dict] = []

    def watch(self, env, obs: dict, rewards: dict | None) -> None:
        self.records.extend(self.step(obs, rewards))

    def step(self, obs: dict, rewards: dict | None = None) -> list[dict]:
        """The records of the state ``obs`` shows (the env's current state), ``rewards`` those the env returned
        with it (None at an episode's start)."""
        env, e = self.env, self.env.engine
        if not len(self.actions):
            return []
        x, y, facing = e.poses()
        aimed = e.aimed_agents(self.actions, facing, e.padded_cells(x, y))
        actor, r = np.nonzero(aimed >= 0)
        names = list(obs)
        position = {a: k for k, a in enumerate(names)}
        index = env.possible_agents
        keep = [k for k in range(len(actor)) if index[actor[k]] in position
                and self.cells[r[k], facing[actor[k]], 0] >= 0]
        if not keep:
            return []
        actor, r = actor[keep], r[keep]
        target = aimed[actor, r]
        cx, cy = self.cells[r, facing[actor]].T
        grids = np.stack([obs[index[i]] for i in actor])
        if not (grids[np.arange(len(actor)), self.agent_channel, cx, cy] == 1).all():
            raise RuntimeError("counterfactual probes: an agent the engine finds in attack reach is not at the "
                               "window cell the attack's aim maps to (metta.evals.probes.attack_cells)")
        shown = grids[np.arange(len(actor)), self.kin_channel, cx, cy].astype(np.int64)
        rows = np.concatenate([grids, grids])
        n = len(actor)
        rows[np.arange(n, 2 * n), self.kin_channel, cx, cy] = 255 - shown
        agents = np.array([position[index[i]] for i in actor] * 2, dtype=np.int64)
        last = None if rewards is None else np.array([rewards.get(index[i], 0.0) for i in actor] * 2)
        lp = np.asarray(self.policy.log_probs(rows, agents, last), dtype=np.float64)
        attack = self.actions[r]
        seen, flipped = lp[np.arange(n), attack], lp[np.arange(n, 2 * n), attack]
        as_kin = shown >= 128  # of v and 255 - v the higher shows kin
        logp_kin = np.where(as_kin, seen, flipped)
        logp_stranger = np.where(as_kin, flipped, seen)
        kin = env.kinship[actor, target] >= env.society.kin_threshold
        actionable = self._actionable(actor, target)
        arms = env.team_rewards
        step = env.steps
        return [{"seed": self.seed, "step": step, "actor": int(i), "target": int(j), "action": int(a),
                 "kin": bool(k), "arm": None if arms is None else float(arms[i]),
                 "actionable": None if actionable is None else bool(actionable[m]),
                 "shown": int(v), "logp_kin": float(pk), "logp_stranger": float(ps), "d": float(ps - pk)}
                for m, (i, j, a, k, v, pk, ps) in enumerate(zip(actor, target, attack, kin, shown, logp_kin,
                                                                 logp_stranger))]

    def _actionable(self, actor: np.ndarray, target: np.ndarray) -> np.ndarray | None:
        """Per (actor, target): is the chance actionable now, by the game's own conditions (its
        ``Metta.actionable`` for attacks, as the env's metrics count it)? None when the game declares none."""
        ok = self.env.actionable(COUNTER)
        if ok is None:
            return None
        actor_ok, target_ok = ok
        return actor_ok[actor] & target_ok[target]


def probe_episode(env, policy, seed: int, options: dict | None = None):
    """Play one episode of ``policy`` (metta.evals.play.play_episode; ``options``: the env's reset options, e.g.
    ``{"swap_arms": True}``) with every state probed: ``(outcome, records)``."""
    from metta.evals.play import play_episode

    prober = Prober(env, policy, seed)
    outcome = play_episode(env, policy, seed, watch=prober.watch, options=options)
    return outcome, prober.records


def _cells(records: list[dict]) -> dict:
    out = {}
    for scope in SCOPES:
        rs = [r for r in records if r["actionable"]] if scope == "actionable" else records
        out[scope] = {"all": mean_interval([r["d"] for r in rs]),
                      "kin": mean_interval([r["d"] for r in rs if r["kin"]]),
                      "stranger": mean_interval([r["d"] for r in rs if not r["kin"]])}
    return out


def summarize_probes(records: list[dict]) -> dict:
    """Mean d per arm and overall, over actionable and all in-reach states, all/kin/stranger targets (the module
    docstring), and the arms' ``contrast``."""
    arms = sorted({r["arm"] for r in records if r["arm"] is not None})
    per_arm = {a: _cells([r for r in records if r["arm"] == a]) for a in arms}
    means = [(a, c["actionable"]["all"]["mean"]) for a, c in per_arm.items() if c["actionable"]["all"]["n"]]
    contrast = means[-1][1] - means[0][1] if len(means) >= 2 else None
    return {"overall": _cells(records), "arms": {format(a, "g"): c for a, c in per_arm.items()},
            "contrast": contrast}


def tally_probes(records: list[dict]) -> dict:
    """An episode's records as sums, which add up across episodes: over all records (``all``) and per arm
    (``by_arm``, keyed ``alpha_<a>``), for actionable and all in-reach states, the count ``n`` and the ``sum`` and
    ``sumsq`` of d (metta.experiments.arms_report reads them)."""
    def tally(rs):
        d = [r["d"] for r in rs]
        return {"n": len(d), "sum": float(sum(d)), "sumsq": float(sum(x * x for x in d))}

    def scopes(rs):
        return {"actionable": tally([r for r in rs if r["actionable"]]), "in_reach": tally(rs)}

    arms = sorted({r["arm"] for r in records if r["arm"] is not None})
    return {"all": scopes(records), "by_arm": {arm_label(a): scopes([r for r in records if r["arm"] == a])
                                               for a in arms}}
