"""Social metrics per agent and per episode: the research outputs.

The game counts what each agent does in per-player Griddly variables (hearts,
diamonds harvested, energy converted, successful attacks and gifts, shield steps,
frozen steps). The counters are the game's own: every per-player variable that the
rules only ever raise and that is not a target variable (the env reads them from the
game, metta.env.counters, and hands their names here); so a counter a game file
declares and raises is reported with no code change. Whom an attack, gift or bond was with comes from a second
per-player variable the same rule sets (``attack_target``, ``gift_target``, ``bond_target``: the
other agent's player id): for each agent whose counter rose this step, its target
variable names the other agent. At most one read of Griddly's global variables per
step, no action history; and none in a step where no attack, gift or bond could have
landed (the env's ``counter_actions``). "Kin" means kinship >= the structure's ``kin_threshold``.

At the episode's end each agent's info carries these under ``"episode"`` (for
``games/metta.yaml``; another game's counters by their own names): ``hearts``,
``diamonds_harvested``, ``energy_converted``, ``attacks_on_kin``,
``attacks_on_strangers``, ``gifts_to_kin``, ``gifts_to_strangers``, ``frozen_steps``,
``shield_steps``, ``bonds_formed`` (counted for both partners), and ``reward`` (the shared reward it received)
and ``raw_reward``; under a structure with arms (``mixed_teams``) also ``team_reward``, its team's share alpha of
the episode (its arm).

Chances, for fair kin-directed rates. Raw counts mislead: among 24 agents in teams of 4, a
random attacker hits strangers more often only because there are more of them. So for every
step and agent the env also counts the kin and the strangers standing in a cell its attacks
(or gifts) could reach from where it stands and faces: ``attack_chances_kin``,
``attack_chances_strangers``, ``gift_chances_kin``, ``gift_chances_strangers`` (agent pairs ×
steps). A rate per chance is then ``attack_rate_kin = Σ attacks_on_kin / Σ attack_chances_kin``
over the episode's agents (likewise for strangers and gifts), and
``attack_kin_stranger_ratio = attack_rate_kin / attack_rate_strangers``. A policy blind to
kinship picks among the agents in reach alike, so its ratio is 1 whatever the team sizes.

Actionable chances. An agent in reach is no real chance when the actor cannot act (frozen, too little energy)
or the target is not worth the act (shielded, carrying nothing). A game says what makes a chance actionable in
its ``Metta.actionable`` section (metta.env.game_facts; docs/games.md): per directed counter, conditions on the
actor's and on the target's own variables, read at the step's start from the global VECTOR view the env renders
anyway, at the agents' cells (so as the observer shows them, 0..255). For such a counter the env also counts
``attack_actionable_kin``, ``attack_actionable_strangers`` (the chances whose actor and target met the
conditions), and the hits on a target that, with its attacker, met them at the step's start:
``attacks_on_kin_actionable``, ``attacks_on_strangers_actionable`` (gifts: ``gift_actionable_kin``,
``gift_actionable_strangers``, ``gifts_to_kin_actionable``, ``gifts_to_strangers_actionable``). Their rates
are ``attack_actionable_rate_kin = Σ attacks_on_kin_actionable / Σ attack_actionable_kin`` (likewise
strangers and gifts) and ``attack_actionable_kin_stranger_ratio``. A game without the section, or a counter it
leaves out, has none of these keys (none is guessed); the counts of every agent in reach stay beside them.

Social outcome metrics of the episode (Perolat et al. 2017; Hughes et al. 2018), the same
value in every agent's dict. ``R_i`` is agent i's own return in the game (``raw_reward``:
what it earned, before kinship shares it out; on shared returns equality would rise by
construction), ``T`` the episode's steps, ``N`` the agents:

- ``efficiency`` U = Σ_i R_i / T: reward produced per step;
- ``equality`` E = 1 − Σ_i Σ_j |R_i − R_j| / (2 N Σ_i R_i), one minus the Gini coefficient of
  the returns (None when Σ_i R_i <= 0);
- ``sustainability`` S = the mean over agents of the mean step (1..T) at which the agent got a
  positive reward; agents that got none are left out (None when no agent got one). Late
  rewards mean a resource lasted;
- ``peace`` = (N·T − Σ_i frozen steps of i) / (N·T): the share of agent-steps not frozen
  (Perolat's P divided by N, so that it compares across agent counts).

Values that are undefined for an episode are None (null in JSON); means skip them.
"""
from __future__ import annotations

import numpy as np
from numba import njit

# the attributed counters split into kin and strangers, with chances and rates:
# counter -> (prefix of its chances and rates, prefix of its kin/stranger counts)
DIRECTED = {"attacks": ("attack", "attacks_on"), "gifts": ("gift", "gifts_to")}
# counters of actions that have a target, and the per-player variable naming it: split into kin and strangers
TARGETS = {"attacks": "attack_target", "gifts": "gift_target", "bonds": "bond_target"}
ARM = "team_reward"  # each agent's team's share alpha, under a structure with arms (mixed_teams)


def arm_label(alpha: float) -> str:
    """How an arm is named wherever metrics are split by it (``alpha_0``, ``alpha_1``, ``alpha_0.5``)."""
    return f"alpha_{float(alpha):g}"
# the comparisons an actionable condition may make (metta.env.game_facts); a condition's opcode is its index here
OPS = ("==", "!=", "<", "<=", ">", ">=")


def actionable_names(counter: str) -> dict[str, str]:
    """The names of a directed counter's actionable metrics (see the module docstring), by role."""
    prefix, hit = DIRECTED[counter]
    return {"chances_kin": f"{prefix}_actionable_kin", "chances_strangers": f"{prefix}_actionable_strangers",
            "hits_kin": f"{hit}_kin_actionable", "hits_strangers": f"{hit}_strangers_actionable",
            "rate_kin": f"{prefix}_actionable_rate_kin", "rate_strangers": f"{prefix}_actionable_rate_strangers",
            "ratio": f"{prefix}_actionable_kin_stranger_ratio"}


def derived_metric_names() -> frozenset[str]:
    """Every name ``SocialMetrics.episode`` computes rather than reads from a game counter."""
    names = {"reward", "raw_reward", "bonds_formed", "efficiency", "equality", "sustainability", "peace", ARM}
    for counter, (prefix, hit) in DIRECTED.items():
        names |= {f"{hit}_kin", f"{hit}_strangers", f"{prefix}_chances_kin", f"{prefix}_chances_strangers",
                  f"{prefix}_rate_kin", f"{prefix}_rate_strangers", f"{prefix}_kin_stranger_ratio"}
        names |= set(actionable_names(counter).values())
    return frozenset(names)


def gini_equality(returns: np.ndarray) -> float | None:
    """1 − the Gini coefficient of ``returns``: 1 − Σ_i Σ_j |R_i − R_j| / (2 N Σ_i R_i); None when Σ R <= 0."""
    total = float(returns.sum())
    if total <= 0:
        return None
    return 1.0 - float(np.abs(returns[:, None] - returns[None, :]).sum()) / (2 * len(returns) * total)


def rate(hits: int, chances: int) -> float | None:
    return hits / chances if chances > 0 else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


@njit(cache=True, nogil=True)
def _count_chances(in_reach, kin, table):  # pragma: no cover (compiled)
    for i in range(in_reach.shape[0]):
        for r in range(in_reach.shape[1]):
            j = in_reach[i, r]
            if j >= 0:
                table[0 if kin[i, j] else 1, i] += 1


@njit(cache=True, nogil=True)
def _count_actionable(in_reach, kin, actor_ok, target_ok, table, actionable):  # pragma: no cover (compiled)
    for i in range(in_reach.shape[0]):
        for r in range(in_reach.shape[1]):
            j = in_reach[i, r]
            if j >= 0:
                side = 0 if kin[i, j] else 1
                table[side, i] += 1
                if actor_ok[i] and target_ok[j]:
                    actionable[side, i] += 1


@njit(cache=True, nogil=True)
def _holds(cells, x, y, channel, op, value, group, out):  # pragma: no cover (compiled)
    """out[g, i]: agent i meets every condition of group g; ``cells`` (height, width, channel) the global view."""
    out[:] = True
    for k in range(len(channel)):
        c, o, w, g = channel[k], op[k], value[k], group[k]
        for i in range(len(x)):
            v = np.int64(cells[y[i], x[i], c])
            if o == 0:
                holds = v == w
            elif o == 1:
                holds = v != w
            elif o == 2:
                holds = v < w
            elif o == 3:
                holds = v <= w
            elif o == 4:
                holds = v > w
            else:
                holds = v >= w
            if not holds:
                out[g, i] = False


class SocialMetrics:
    """Accumulates one episode's social metrics for ``num_agents`` agents."""

    def __init__(self, num_agents: int, counters, variables=(), actionable=None):
        """``counters``: the names of the game's per-player counters; ``variables``: the names of its per-player
        variables, where the target variables of attributed counters are looked up. ``actionable``: ``{directed
        counter: (actor conditions, target conditions)}``, each condition ``(channel of the global view, op of
        OPS, integer)`` (the game's ``Metta.actionable``, its variables placed by the env); a counter that is not
        attributed here is left out."""
        self.n = num_agents
        self.counters = tuple(counters)
        variables = set(variables)
        self.targeted = tuple(c for c, t in TARGETS.items() if c in self.counters and t in variables)
        actionable = {c: v for c, v in (actionable or {}).items() if c in DIRECTED and c in self.targeted}
        self.actionable = tuple(actionable)  # counter k's actor conditions are group 2k, its target's 2k + 1
        rows = [(cond, 2 * k + role) for k, c in enumerate(self.actionable) for role in (0, 1)
                for cond in actionable[c][role]]
        self._channel = np.array([int(cond[0]) for cond, _ in rows], dtype=np.int64)
        self._op = np.array([OPS.index(cond[1]) for cond, _ in rows], dtype=np.int64)
        self._value = np.array([int(cond[2]) for cond, _ in rows], dtype=np.int64)
        self._group = np.array([g for _, g in rows], dtype=np.int64)
        self.reset(np.eye(num_agents), 0.5)

    def reset(self, kinship: np.ndarray, kin_threshold: float, team_rewards: np.ndarray | None = None) -> None:
        """A new episode's kinship; ``team_rewards``: each agent's team's share alpha (its arm), reported with its
        metrics as ``team_reward``."""
        self.kin = kinship >= kin_threshold
        self.team_rewards = team_rewards
        self.hits = {c: np.zeros((2, self.n), dtype=np.int64) for c in DIRECTED}  # [kin, strangers]
        self.reward = np.zeros(self.n)
        self.raw_reward = np.zeros(self.n)
        self.chances = {c: np.zeros((2, self.n), dtype=np.int64) for c in DIRECTED}  # [kin, strangers]
        # the actionable ones, and the hits on targets actionable at their step's start: [kin, strangers]
        self.actionable_chances = {c: np.zeros((2, self.n), dtype=np.int64) for c in self.actionable}
        self.actionable_hits = {c: np.zeros((2, self.n), dtype=np.int64) for c in self.actionable}
        self.steps = 0
        self.positive_steps = np.zeros(self.n, dtype=np.int64)   # steps with a positive raw reward
        self.positive_time = np.zeros(self.n, dtype=np.int64)    # the sum of those steps' numbers (1..T)
        self.bonds = np.zeros((self.n, self.n))
        self._last = {name: np.zeros(self.n, dtype=np.int64) for name in self.targeted}

    def actionable_at(self, view: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """Who meets which actionable conditions in the global VECTOR view ``view`` (channels, width, height), the
        agents standing at ``(x, y)``: bool ``(2 K, N)``, row 2k counter k's actor conditions, row 2k + 1 its
        target's (``self.actionable``'s order); None without actionable counters. A new array each call."""
        if not self.actionable:
            return None
        out = np.empty((2 * len(self.actionable), self.n), dtype=np.bool_)
        _holds(view.transpose(2, 1, 0), x, y, self._channel, self._op, self._value, self._group, out)
        return out

    def roles_ok(self, ok: np.ndarray | None, counter: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(actor_ok, target_ok)`` of ``counter`` from ``actionable_at``'s rows ``ok``; None without them."""
        if ok is None or counter not in self.actionable:
            return None
        k = 2 * self.actionable.index(counter)
        return ok[k], ok[k + 1]

    def count_chances(self, counter: str, in_reach: np.ndarray, ok: np.ndarray | None = None) -> None:
        """``in_reach`` (agent, cell): the agent standing in each cell agent i's ``counter`` actions can reach at
        this step, -1 for none. Each one is a chance, for kin or for a stranger; an actionable one too when ``ok``
        (``actionable_at`` at this step's start) says the actor and the target meet the counter's conditions."""
        roles = self.roles_ok(ok, counter)
        if roles is not None:
            _count_actionable(in_reach, self.kin, *roles, self.chances[counter], self.actionable_chances[counter])
        else:
            _count_chances(in_reach, self.kin, self.chances[counter])

    def update(self, engine, raw: np.ndarray, shared: np.ndarray, maybe_targeted: bool = True,
               ok: np.ndarray | None = None) -> list[tuple[int, int]]:
        """Account for one step; return the bonds (i, j) formed in it. ``maybe_targeted`` False: no attack, gift
        or bond can have landed this step (see the env's ``counter_actions``), so the counters are not read.
        ``ok``: ``actionable_at`` at the step's start, which says whether a hit landed on an actionable target."""
        self.steps += 1
        self.raw_reward += raw
        self.reward += shared
        if raw.any():
            positive = raw > 0
            self.positive_steps += positive
            self.positive_time += positive * self.steps
        if not self.targeted or not maybe_targeted:
            return []
        now = engine.player_counters(self.targeted)
        rose = {c: np.flatnonzero(now[c] > self._last[c]) for c in self.targeted}
        self._last = now
        rose = {c: i for c, i in rose.items() if len(i)}
        if not rose:
            return []
        now.update(engine.player_counters([TARGETS[c] for c in rose]))  # whom, only when something happened
        for counter, table in self.hits.items():
            if counter in rose:
                i = rose[counter]
                j = now[TARGETS[counter]][i] - 1
                side = np.where(self.kin[i, j], 0, 1)
                np.add.at(table, (side, i), 1)
                roles = self.roles_ok(ok, counter)
                if roles is not None:
                    good = roles[0][i] & roles[1][j]
                    np.add.at(self.actionable_hits[counter], (side[good], i[good]), 1)
        formed = []
        for i in rose.get("bonds", ()):
            j = int(now["bond_target"][i]) - 1
            formed.append((int(i), j))
            self.bonds[i, j] = self.bonds[j, i] = 1.0
        return formed

    def episode(self, engine) -> list[dict]:
        """Per agent: every counter the game defines; attributed counters split into kin and strangers."""
        totals = engine.player_counters(list(self.counters))
        out = []
        for i in range(self.n):
            m: dict[str, int | float] = {c: int(totals[c][i]) for c in self.counters if c not in self.targeted}
            for counter, (_, hit) in DIRECTED.items():
                if counter in self.targeted:
                    m[f"{hit}_kin"] = int(self.hits[counter][0, i])
                    m[f"{hit}_strangers"] = int(self.hits[counter][1, i])
            if "bonds" in self.targeted:
                m.update(bonds_formed=int(self.bonds[i].sum()))
            for counter, (prefix, _) in DIRECTED.items():
                if counter in self.targeted:
                    m[f"{prefix}_chances_kin"] = int(self.chances[counter][0, i])
                    m[f"{prefix}_chances_strangers"] = int(self.chances[counter][1, i])
            for counter in self.actionable:
                names = actionable_names(counter)
                m[names["chances_kin"]] = int(self.actionable_chances[counter][0, i])
                m[names["chances_strangers"]] = int(self.actionable_chances[counter][1, i])
                m[names["hits_kin"]] = int(self.actionable_hits[counter][0, i])
                m[names["hits_strangers"]] = int(self.actionable_hits[counter][1, i])
            m.update(reward=float(self.reward[i]), raw_reward=float(self.raw_reward[i]))
            if self.team_rewards is not None:
                m[ARM] = float(self.team_rewards[i])
            out.append(m)
        shared = self.outcomes(totals.get("frozen_steps"))
        for m in out:
            m.update(shared)
        return out

    def outcomes(self, frozen_steps: np.ndarray | None) -> dict:
        """The episode's outcome metrics and kin-directed rates per chance (see the module docstring)."""
        n, t = self.n, max(self.steps, 1)
        got = self.positive_steps > 0
        out = {"efficiency": float(self.raw_reward.sum()) / t,
               "equality": gini_equality(self.raw_reward),
               "sustainability": (float(np.mean(self.positive_time[got] / self.positive_steps[got])) if got.any()
                                  else None)}
        if frozen_steps is not None:
            out["peace"] = (n * t - float(np.sum(frozen_steps))) / (n * t)
        for counter, (prefix, _) in DIRECTED.items():
            if counter in self.targeted:
                table = self.hits[counter]
                kin = rate(int(table[0].sum()), int(self.chances[counter][0].sum()))
                strangers = rate(int(table[1].sum()), int(self.chances[counter][1].sum()))
                out.update({f"{prefix}_rate_kin": kin, f"{prefix}_rate_strangers": strangers,
                            f"{prefix}_kin_stranger_ratio": ratio(kin, strangers)})
        for counter in self.actionable:
            names = actionable_names(counter)
            hits, chances = self.actionable_hits[counter], self.actionable_chances[counter]
            kin = rate(int(hits[0].sum()), int(chances[0].sum()))
            strangers = rate(int(hits[1].sum()), int(chances[1].sum()))
            out.update({names["rate_kin"]: kin, names["rate_strangers"]: strangers,
                        names["ratio"]: ratio(kin, strangers)})
        return out
