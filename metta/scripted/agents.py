"""Scripted agents: every agent of an env played by a fixed plan read off the true game state.

``ScriptedAgents(env, conduct)`` plays every agent; each agent's ``Conduct`` says what it does besides the economy.
Every step, in this order (an agent that is frozen waits):

1. ``defend``: raise the shield while an unfrozen stranger that can pay for an attack has the agent in its reach
   (the attack's 9 cells, ``REACH``); lower it once no unfrozen stranger is within ``NEAR`` cells;
2. ``steal``: attack an agent in the cells ``reach`` ((right, forward) offsets, the cell in front first, then the
   nearest) that carries diamonds and is unshielded, when the agent has room for them and energy for the swing;
   ``kin_aware`` spares kin (``env.kinship`` >= the structure's ``kin_threshold``);
3. with energy for the altar and the walk to it, go use an altar (an agent on its way keeps going while it can
   still pay the altar, whatever the turns cost);
4. ``gift``: with energy for a gift, no way to earn the altar's energy alone (no free way to an altar; or, short of
   its energy, no generator and charger to earn it from) and a kin that can reach an altar, lacks its energy and
   would have it with the gift, go give that kin energy; of two such kin, the one nearer an altar receives;
5. carrying diamonds, go use a charger when they pay for a heart and its walks (to the charger, then the altar),
   when the inventory is full, when no generator has diamonds, or when one more diamond would leave too little
   energy to reach a charger;
6. ``hunt``: with room and energy for a swing and no free way to a generator with diamonds, go rob an unfrozen,
   unshielded stranger that carries diamonds (the only diamonds left may be the ones a stranger holds);
7. with room, go use a generator that has diamonds;
8. otherwise wait (waiting is free), or, when it stood in the way of a queued agent last step, step to a free cell
   beside it (off that agent's way, when one is).

Energy is budgeted in the game's own costs (``move_cost``, ``rotate_cost`` and ``use_cost`` among its oracle
values): a walk of d cells costs d moves and one turn, measured on the distance field around objects (agents may
move out of the way), and regeneration is not counted on.

"Go use X" walks a shortest path around the agents to a free cell beside the nearest X (steepest descent on the
distance field of every X at once, metta.scripted.fields; of equally short ways, straight on, else one drawn by a
seeded generator), turns to face X
(the one not cooling down, when several are beside) and acts. When every way to X is held by agents, the agent
queues: it waits, facing the way to X, if X can be reached once they move; otherwise it goes on to its next item.
An agent that has queued ``PATIENCE`` steps behind an agent that queues too (the first on its way) gives way on the
toss of a coin, every step: it steps to a free cell off its way (two agents that meet in a corridor would otherwise
wait for each other for ever; the coin decides which of them backs off, and one in a dead end never does).
Steps 3, 5 and 7 queue; the gift and the hunt go only where a free way leads.

The state is read from the global VECTOR view the env renders (the validator keeps every observed variable in
0..255, so the view holds them exactly) and the objects, variables, actions and named values are the game's own
names for them (its ``Metta.oracle`` section, metta.env.game_facts); a game without one has no scripted agents
(ConfigError). The distance fields are computed once per kind of target and step, shared by every agent.

The eval suite's ``oracle`` policy plays every agent under ``ORACLE``'s conduct (metta.scripted.oracle).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metta.errors import ConfigError
from metta.scripted.fields import DIRECTIONS, ORIENTATIONS, ROTATE_TO, distance_at, distance_field, downhill

# the attack's 9 cells, (right, forward) of the attacker: the game's attack inputs 1..9
REACH = ((-1, 1), (0, 1), (1, 1), (-1, 2), (0, 2), (1, 2), (-1, 3), (0, 3), (1, 3))
FRONT = (0, 1)
PATIENCE = 3  # steps an agent queues behind an agent before it may give way
NEAR = 3  # a defender lowers its shield once no stranger is within this many cells (either axis)


def thief_order(reach) -> list[tuple[int, int]]:
    """The cells a thief looks at, in turn: the cell in front first, then the nearest (squared distance; ties in
    ``REACH`` order)."""
    return sorted((tuple(c) for c in reach),
                  key=lambda c: (c != FRONT, c[0] ** 2 + c[1] ** 2, REACH.index(c)))


def ahead(here, facing, offset) -> tuple[int, int]:
    """The cell ``offset`` (right, forward) of an agent at ``here`` facing ``facing`` (dx, dy)."""
    r, fwd = offset
    return here[0] + fwd * facing[0] - r * facing[1], here[1] + fwd * facing[1] + r * facing[0]


def offset_of(here, facing, cell) -> tuple[int, int]:
    """``ahead``'s inverse: the (right, forward) offset of ``cell`` from an agent at ``here`` facing ``facing``."""
    dx, dy = cell[0] - here[0], cell[1] - here[1]
    return dx * -facing[1] + dy * facing[0], dx * facing[0] + dy * facing[1]


@dataclass(frozen=True)
class Conduct:
    """What an agent does besides the economy (the module docstring's steps 1, 2, 4 and 6)."""

    steal: bool = False          # rob a carrier in ``reach``
    kin_aware: bool = True       # ... sparing kin
    reach: tuple = (FRONT,)      # (right, forward) offsets looked at, in thief_order
    defend: bool = False         # shield while a stranger can strike
    gift: bool = False           # give energy to kin that can reach an altar when the agent cannot
    hunt: bool = False           # walk up to a carrier stranger when no generator can be reached


PEACEFUL = Conduct()
ORACLE = Conduct(defend=True, gift=True, hunt=True)
# the scripted policies by name, every agent under one conduct (a teacher in training: metta.scripted.teacher)
CONDUCTS = {"oracle": ORACLE, "peaceful": PEACEFUL}


def conduct_named(name: str, flag: str = "--teacher") -> Conduct:
    """The conduct of the scripted policy ``name``; ConfigError naming ``flag`` and the known names otherwise."""
    if name not in CONDUCTS:
        raise ConfigError(f"{flag}={name}: no scripted policy of that name; known: {', '.join(CONDUCTS)}")
    return CONDUCTS[name]


class ScriptedAgents:
    """Plays every agent of ``env`` under ``conduct`` (one Conduct for all, or one per agent); ``seed`` seeds the
    tie-breaks between equally short ways."""

    def __init__(self, env, conduct: Conduct | list = PEACEFUL, seed: int | None = 0):
        names = env.facts.oracle  # the game's names for what the plans use (its Metta.oracle section)
        if names is None:
            raise ConfigError(f"{env.game.path}: the scripted agents do not apply to this game (its Metta: "
                              f"section has no oracle; docs/games.md)")
        self.env = env
        n = env.num_agents_total
        self.conduct = [conduct] * n if isinstance(conduct, Conduct) else list(conduct)
        if len(self.conduct) != n:
            raise ValueError(f"ScriptedAgents: {len(self.conduct)} conducts for {n} agents")
        e = env.engine
        obj, var, act = names["objects"], names["variables"], names["actions"]
        values = {k: env.game.value(v) for k, v in names["values"].items()}
        self.altar_cost, self.max_inventory = values["altar_cost"], values["max_inventory"]
        self.gift_energy = values["gift_amount"] + values["gift_cost"]
        self.charger_energy, self.attack_cost = values["charger_energy"], values["attack_cost"]
        self.gift_amount = values["gift_amount"]
        self.move_cost, self.rotate_cost, self.use_cost = values["move_cost"], values["rotate_cost"], values["use_cost"]
        self.layer = {k: e.object_names.index(v) for k, v in obj.items()}
        self.avatar = e.object_names.index(env.game.avatar)
        self.objects = len(e.object_names)
        self.channel = {k: e.variable_channel(v) for k, v in var.items()}
        index = e.action_index
        self.forward, self.back = index(act["move"], 1), index(act["move"], 2)
        self.a = {role: index(act[role], 1) for role in ("use", "shield", "gift")}
        self.a["attack"] = index(act["attack"], REACH.index(FRONT) + 1)
        self.attack_at = {c: index(act["attack"], REACH.index(c) + 1) for c in REACH}
        self.turn = {d: index(act["rotate"], i) for d, i in ROTATE_TO.items()}
        self.reach = [thief_order(c.reach) for c in self.conduct]
        self.reset(seed)

    def reset(self, seed: int | None = 0) -> None:
        """A new episode: the tie-breaks seeded anew, no agent on its way to an altar or a gift."""
        self.rng = np.random.default_rng(seed)
        n = len(self.conduct)
        self.bound = np.zeros(n, dtype=bool)           # on its way to an altar
        self.gift_to = np.full(n, -1, dtype=np.int64)  # the kin it is on its way to give to
        self.queued = np.zeros(n, dtype=bool)           # queued this step (go's last branch)
        self.waited = np.zeros(n, dtype=np.int64)       # steps queued in a row
        self.asked: dict[int, set] = {}                 # agent -> the ways of agents queued behind it

    # ------------------------------------------------------------------ the state
    def read(self) -> None:
        """Read this step's state from the global view: the agents' poses and variables, what blocks each cell."""
        e = self.env.engine
        self.kin = self.env.kinship >= self.env.society.kin_threshold   # the teams the env's reset drew
        view = e.global_view()
        self.x, self.y, orientation = (np.asarray(a, dtype=np.int64) for a in e.poses(view))
        self.facing = [ORIENTATIONS[o] for o in orientation.tolist()]
        layers = view[:self.objects] > 0
        self.static = layers.any(axis=0) & ~layers[self.avatar]   # what blocks a walk: objects, not agents
        self.blocked = self.static.copy()
        self.blocked[self.x, self.y] = True                        # ... and agents too
        self.occupant = np.full(self.static.shape, -1, dtype=np.int64)
        self.occupant[self.x, self.y] = np.arange(len(self.x))
        self.v = {k: view[c, self.x, self.y].astype(np.int64) for k, c in self.channel.items()}
        self.cooldown = view[self.channel["cooldown"]]
        self.cells = {k: np.argwhere(layers[c]) for k, c in self.layer.items()}
        gen = self.layer["generator"]
        self.cells["stocked"] = np.argwhere(layers[gen] & (view[self.channel["stock"]] > 0))
        self.fields: dict[tuple[bytes, bool], np.ndarray] = {}    # (cells' bytes, agents block) -> distance field

    def field(self, cells: np.ndarray, dynamic: bool) -> np.ndarray:
        """This step's distance field to the cells beside ``cells``; ``dynamic``: agents block (else only
        objects do). Computed once per step and set of targets."""
        key = (cells.tobytes(), dynamic)
        if key not in self.fields:
            self.fields[key] = distance_field(self.blocked if dynamic else self.static, cells)
        return self.fields[key]

    def here(self, i: int) -> tuple[int, int]:
        return int(self.x[i]), int(self.y[i])

    def beside(self, cell, cells: np.ndarray) -> list[tuple[int, int]]:
        """The directions from ``cell`` to the ones of ``cells`` beside it."""
        near = {(int(a), int(b)) for a, b in cells if abs(a - cell[0]) + abs(b - cell[1]) == 1}
        return [d for d in DIRECTIONS if (cell[0] + d[0], cell[1] + d[1]) in near]

    def distance(self, i: int, cells: np.ndarray, dynamic: bool = True) -> int:
        """Agent i's steps to a free cell beside one of ``cells`` (-1: none can be reached)."""
        if not len(cells):
            return -1
        here = self.here(i)
        return distance_at(self.field(cells, dynamic), here, bool(self.beside(here, cells)))

    # ------------------------------------------------------------------ acting
    def act(self, agents=None) -> np.ndarray:
        """Every agent's action (flat index) for this step; only ``agents`` (indices) are planned when given, the
        others wait."""
        self.read()
        self.was_asked, self.asked = self.asked, {}
        out = np.zeros(len(self.x), dtype=np.int64)
        for i in (range(len(self.x)) if agents is None else agents):
            self.queued[i] = False
            out[i] = self.plan(i)
            if out[i] == 0 and i in self.was_asked and not self.queued[i] and not self.v["frozen"][i]:
                out[i] = self.aside(i, way=self.was_asked[i]) or 0
            self.waited[i] = self.waited[i] + 1 if self.queued[i] else 0
        return out

    def strangers(self, i: int) -> np.ndarray:
        """Agent i's unfrozen strangers."""
        return np.flatnonzero(~self.kin[i] & (self.v["frozen"] == 0))

    def threatened(self, i: int, others: np.ndarray) -> bool:
        """Can one of ``others`` (unfrozen, with energy for a swing) strike agent i where it stands?"""
        here = self.here(i)
        return any(self.v["energy"][j] >= self.attack_cost and
                   offset_of(self.here(j), self.facing[j], here) in REACH for j in others if j != i)

    def plan(self, i: int) -> int:
        c, v = self.conduct[i], self.v
        if v["frozen"][i] > 0:
            return 0
        here, facing = self.here(i), self.facing[i]
        energy, inv = int(v["energy"][i]), int(v["inventory"][i])
        if c.defend:
            others = self.strangers(i)
            if not v["shield"][i] and self.threatened(i, others):
                return self.a["shield"]
            if v["shield"][i] and not any(max(abs(self.x[j] - here[0]), abs(self.y[j] - here[1])) <= NEAR
                                          for j in others if j != i):
                return self.a["shield"]   # lower it: nobody near
        if c.steal and inv < self.max_inventory and energy >= self.attack_cost:
            w, h = self.occupant.shape
            for offset in self.reach[i]:  # the cell in front first, then the nearest
                x, y = ahead(here, facing, offset)
                j = self.occupant[x, y] if 0 <= x < w and 0 <= y < h else -1
                if j >= 0 and self.carrying_unshielded(j) and not (c.kin_aware and self.kin[i, j]):
                    return self.attack_at[offset]
        cells = self.cells
        generators = cells["stocked"]
        d_altar = self.distance(i, cells["altar"], dynamic=False)
        if d_altar >= 0 and energy >= self.altar_cost + (d_altar * self.move_cost if self.bound[i]
                                                          else self.walk(d_altar)):
            step = self.go(i, cells["altar"], self.a["use"])
            if step is not None:
                self.bound[i] = step != self.a["use"]
                return step
        self.bound[i] = False
        if c.gift:
            step = self.give(i, energy, inv)
            if step is not None:
                return step
        if inv > 0 and self.charge_now(i, energy, inv):
            step = self.go(i, cells["charger"], self.a["use"])
            if step is not None:
                return step
        if c.hunt and inv < self.max_inventory and energy >= self.attack_cost and self.distance(i, generators) < 0:
            prey = [j for j in self.strangers(i) if self.carrying_unshielded(j)]
            step = self.go(i, self.agent_cells(prey), self.a["attack"], queue=False)
            if step is not None:
                return step
        if inv < self.max_inventory and len(generators):
            step = self.go(i, generators, self.a["use"])
            if step is not None:
                return step
        return 0

    def walk(self, d: int) -> int:
        """The energy a walk of ``d`` cells costs: d moves and one turn."""
        return d * self.move_cost + self.rotate_cost

    def charge_now(self, i: int, energy: int, inv: int) -> bool:
        """Should agent i, carrying ``inv`` diamonds, go to a charger now (step 5)? When they pay for a heart and
        the walks, the inventory is full, no generator has diamonds, or one more diamond would leave it too little
        energy to reach a charger."""
        cells = self.cells
        d_charger = self.distance(i, cells["charger"], dynamic=False)
        if d_charger < 0:
            return False
        d_altar = max(self.distance(i, cells["altar"], dynamic=False), 0)
        if energy + inv * (self.charger_energy - self.use_cost) - self.walk(d_charger) >= \
                self.altar_cost + self.walk(d_altar):
            return True
        d_gen = self.distance(i, cells["stocked"], dynamic=False)
        return (inv >= self.max_inventory or d_gen < 0 or
                energy < self.walk(d_gen) + self.use_cost + self.walk(d_gen + d_charger) + (inv + 1) * self.use_cost)

    def needs_gift(self, j: int) -> int:
        """Agent j's steps to an altar when it can reach one, lacks the energy for it and would have it with a gift;
        else -1."""
        d = self.distance(j, self.cells["altar"])
        need = self.altar_cost + self.walk(max(d, 0))
        return d if d >= 0 and self.v["energy"][j] < need <= self.v["energy"][j] + self.gift_amount else -1

    def give(self, i: int, energy: int, inv: int) -> int | None:
        """Step 4: agent i's step towards giving energy to kin, or None. An agent keeps to the kin it chose while
        that kin still needs the gift; an agent some kin is on its way to give to does not give."""
        j = int(self.gift_to[i])
        if j >= 0 and (energy < self.gift_energy or self.needs_gift(j) < 0):
            j = self.gift_to[i] = -1
        if j < 0 and energy >= self.gift_energy and i not in self.gift_to:
            cells = self.cells
            d_i = self.distance(i, cells["altar"])
            earns = self.distance(i, cells["charger"], dynamic=False) >= 0 and (
                inv > 0 or self.distance(i, cells["stocked"], dynamic=False) >= 0)
            if d_i < 0 or not earns:
                kin = [(d, k) for k in np.flatnonzero(self.kin[i]) if k != i and self.gift_to[k] < 0
                       for d in (self.needs_gift(k),) if d >= 0 and (d_i < 0 or (d_i, i) > (d, k))]
                if kin:
                    j = self.gift_to[i] = min(kin)[1]
        if j < 0:
            return None
        step = self.go(i, self.agent_cells([j]), self.a["gift"], queue=False)
        if step is None or step == self.a["gift"]:
            self.gift_to[i] = -1
        return step

    def carrying_unshielded(self, j: int) -> bool:
        return self.v["inventory"][j] > 0 and not self.v["shield"][j]

    def agent_cells(self, agents) -> np.ndarray:
        return np.array([self.here(j) for j in agents], dtype=np.int64).reshape(-1, 2)

    def go(self, i: int, cells: np.ndarray, action: int, queue: bool = True) -> int | None:
        """Act on one of ``cells`` beside agent i, or step along a free way towards one; with none free, wait in
        the queue facing the way to one (when ``queue``); None when none can be reached at all."""
        if not len(cells):
            return None
        here, facing = self.here(i), self.facing[i]
        beside = self.beside(here, cells)
        if beside:
            ready = [d for d in beside if not self.cooldown[here[0] + d[0], here[1] + d[1]]]
            want = (ready or beside)[0]
            return action if facing == want else self.turn[want]
        ways = downhill(self.field(cells, dynamic=True), here, self.rng)
        if ways:
            want = facing if facing in ways else ways[0]   # a turn costs a step: keep going straight when as short
            return self.step_to(facing, want)
        if not queue:
            return None
        static = self.field(cells, dynamic=False)
        if static[here] < 0:
            return None
        down = [d for d in downhill(static, here) if static[here[0] + d[0], here[1] + d[1]] < static[here]]
        if not down:
            return None
        want = facing if facing in down else down[0]
        self.queued[i] = True
        j, way = self.in_the_way(i, static)
        if j >= 0:
            self.asked.setdefault(j, set()).update(way)   # an agent with nothing to do makes way next step
        if j >= 0 and self.waited[j] and self.waited[i] >= PATIENCE and self.rng.random() < 0.5:   # give way
            step = self.aside(i, down)
            if step is not None:
                return step
        return 0 if facing == want else self.turn[want]  # queue, facing the agent in the way

    def in_the_way(self, i: int, static: np.ndarray) -> tuple[int, list[tuple[int, int]]]:
        """The first agent on agent i's way down the field ``static`` (the first way of equally short ones), -1
        when none is; and the way's cells."""
        x, y = self.here(i)
        way, j = [], -1
        while static[x, y] > 0:
            down = downhill(static, (x, y))
            if not down:
                break
            x, y = x + down[0][0], y + down[0][1]
            way.append((x, y))
            if j < 0 and self.occupant[x, y] >= 0:
                j = int(self.occupant[x, y])
        return j, way

    def aside(self, i: int, avoid=(), way=()) -> int | None:
        """Agent i's step to a free cell beside it, not in the directions ``avoid`` (one drawn at random, off the
        cells ``way`` when one is); None when there is none."""
        here, facing = self.here(i), self.facing[i]
        free = [d for d in DIRECTIONS if d not in avoid and self.free(here[0] + d[0], here[1] + d[1])]
        free = [d for d in free if (here[0] + d[0], here[1] + d[1]) not in way] or free
        if not free:
            return None
        return self.step_to(facing, free[int(self.rng.integers(len(free)))])

    def step_to(self, facing, d) -> int:
        """The action that moves an agent facing ``facing`` one cell in direction ``d``: forward, back, or a turn
        to face it first."""
        return self.forward if facing == d else self.back if facing == (-d[0], -d[1]) else self.turn[d]

    def free(self, x: int, y: int) -> bool:
        w, h = self.blocked.shape
        return 0 <= x < w and 0 <= y < h and not self.blocked[x, y]
