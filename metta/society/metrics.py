"""Social metrics per agent and per episode: the research outputs.

The game counts what each agent does in per-player Griddly variables (hearts,
diamonds harvested, energy converted, successful attacks and gifts, shield steps,
frozen steps). Whom an attack, gift or bond was with comes from a second per-player
variable the same rule sets (``attack_target``, ``gift_target``, ``bond_target``: the
other agent's player id): for each agent whose counter rose this step, its target
variable names the other agent. At most one read of Griddly's global variables per
step, no action history; and none in a step where no attack, gift or bond could have
landed (``counter_actions``). "Kin" means kinship >= the structure's ``kin_threshold``.

At the episode's end each agent's info carries these under ``"episode"``:
``hearts``, ``diamonds_harvested``, ``energy_converted``, ``attacks_on_kin``,
``attacks_on_strangers``, ``gifts_to_kin``, ``gifts_to_strangers``, ``frozen_steps``,
``shield_steps``, ``bonds_formed`` (counted for both partners), and ``reward`` (the shared reward it received) and ``raw_reward``.
"""
from __future__ import annotations

import numpy as np

COUNTERS = ("hearts", "diamonds_harvested", "energy_converted", "attacks", "gifts", "shield_steps", "frozen_steps",
            "bonds")
TARGETS = {"attacks": "attack_target", "gifts": "gift_target", "bonds": "bond_target"}


def _mentions(node, names: set[str]) -> bool:
    if isinstance(node, str):
        return node.split(".")[-1] in names
    if isinstance(node, dict):
        return any(_mentions(k, names) or _mentions(v, names) for k, v in node.items())
    if isinstance(node, list):
        return any(_mentions(v, names) for v in node)
    return False


def counter_actions(doc: dict) -> frozenset[str] | None:
    """The player actions that can raise the attributed counters, if they can only do so when aimed at an agent.

    Then a counter can rise only in a step where one of these actions pointed at a cell an
    agent occupied before or after the step (an agent moves at most once a step), and a step
    without such an action needs no read of the counters. ``None`` when an internal action,
    or a behaviour aimed at anything but the agent object, touches a counter: read every step.
    """
    watched = set(TARGETS) | set(TARGETS.values())
    avatar = doc["Environment"]["Player"]["AvatarObject"]
    names = set()
    for action in doc.get("Actions", []):
        for behaviour in action.get("Behaviours", []):
            if not _mentions(behaviour, watched):
                continue
            dst = (behaviour.get("Dst") or {}).get("Object")
            if action.get("InputMapping", {}).get("Internal") or dst not in (avatar, [avatar]):
                return None
            names.add(action["Name"])
    return frozenset(names)


class SocialMetrics:
    """Accumulates one episode's social metrics for ``num_agents`` agents."""

    def __init__(self, num_agents: int, variables: set[str]):
        """``variables``: the game's per-player variables; metrics need the counters (and targets) it defines."""
        self.n = num_agents
        self.counters = tuple(c for c in COUNTERS if c in variables)
        self.targeted = tuple(c for c, t in TARGETS.items() if c in variables and t in variables)
        self.reset(np.eye(num_agents), 0.5)

    def reset(self, kinship: np.ndarray, kin_threshold: float) -> None:
        self.kin = kinship >= kin_threshold
        self.attacks_on = np.zeros((2, self.n), dtype=np.int64)  # [kin, strangers]
        self.gifts_to = np.zeros((2, self.n), dtype=np.int64)
        self.reward = np.zeros(self.n)
        self.raw_reward = np.zeros(self.n)
        self.bonds = np.zeros((self.n, self.n))
        self._last = {name: np.zeros(self.n, dtype=np.int64) for name in self.targeted}

    def update(self, engine, raw: np.ndarray, shared: np.ndarray, maybe_targeted: bool = True) -> list[tuple[int, int]]:
        """Account for one step; return the bonds (i, j) formed in it. ``maybe_targeted`` False: no attack, gift
        or bond can have landed this step (see ``counter_actions``), so the counters are not read."""
        self.raw_reward += raw
        self.reward += shared
        if not self.targeted or not maybe_targeted:
            return []
        now = engine.player_counters(self.targeted)
        rose = {c: np.flatnonzero(now[c] > self._last[c]) for c in self.targeted}
        self._last = now
        rose = {c: i for c, i in rose.items() if len(i)}
        if not rose:
            return []
        now.update(engine.player_counters([TARGETS[c] for c in rose]))  # whom, only when something happened
        for counter, table in (("attacks", self.attacks_on), ("gifts", self.gifts_to)):
            if counter in rose:
                i = rose[counter]
                j = now[TARGETS[counter]][i] - 1
                np.add.at(table, (np.where(self.kin[i, j], 0, 1), i), 1)
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
            m = {c: int(totals[c][i]) for c in self.counters if c not in self.targeted}
            if "attacks" in self.targeted:
                m.update(attacks_on_kin=int(self.attacks_on[0, i]), attacks_on_strangers=int(self.attacks_on[1, i]))
            if "gifts" in self.targeted:
                m.update(gifts_to_kin=int(self.gifts_to[0, i]), gifts_to_strangers=int(self.gifts_to[1, i]))
            if "bonds" in self.targeted:
                m.update(bonds_formed=int(self.bonds[i].sum()))
            m.update(reward=float(self.reward[i]), raw_reward=float(self.raw_reward[i]))
            out.append(m)
        return out
