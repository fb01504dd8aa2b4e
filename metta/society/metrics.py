"""Social metrics per agent and per episode: the research outputs.

The game counts what each agent does in per-player Griddly variables (hearts,
diamonds harvested, energy converted, successful attacks and gifts, shield steps,
frozen steps). Whom an attack or gift landed on comes from Griddly's action history:
for each agent whose success counter rose this step, its logged action names the
target's player. "Kin" means kinship >= the structure's ``kin_threshold``.

At the episode's end each agent's info carries these under ``"episode"``:
``hearts``, ``diamonds_harvested``, ``energy_converted``, ``attacks_on_kin``,
``attacks_on_strangers``, ``gifts_to_kin``, ``gifts_to_strangers``, ``frozen_steps``,
``shield_steps``, ``bonds_formed`` (counted for both partners), and ``reward`` (the shared reward it received) and ``raw_reward``.
"""
from __future__ import annotations

import numpy as np

COUNTERS = ("hearts", "diamonds_harvested", "energy_converted", "attacks", "gifts", "shield_steps", "frozen_steps",
            "bonds")
ATTACK_ACTIONS = frozenset({"attack"})
GIFT_ACTIONS = frozenset({"gift_energy", "gift_diamond"})
BOND_ACTIONS = frozenset({"bond"})
TARGETED = ("attacks", "gifts", "bonds")


class SocialMetrics:
    """Accumulates one episode's social metrics for ``num_agents`` agents."""

    def __init__(self, num_agents: int, counters: tuple[str, ...]):
        self.n = num_agents
        self.counters = counters  # the subset of COUNTERS this game defines
        self.reset(np.eye(num_agents), 0.5)

    def reset(self, kinship: np.ndarray, kin_threshold: float) -> None:
        self.kin = kinship >= kin_threshold
        self.attacks_on = np.zeros((2, self.n), dtype=np.int64)  # [kin, strangers]
        self.gifts_to = np.zeros((2, self.n), dtype=np.int64)
        self.reward = np.zeros(self.n)
        self.raw_reward = np.zeros(self.n)
        self.bonds = np.zeros((self.n, self.n))
        self._last = {name: np.zeros(self.n, dtype=np.int64) for name in TARGETED}

    def update(self, engine, raw: np.ndarray, shared: np.ndarray) -> list[tuple[int, int]]:
        """Account for one step; return the bonds (i, j) formed in it."""
        self.raw_reward += raw
        self.reward += shared
        tracked = [c for c in TARGETED if c in self.counters]
        history = engine.history()
        if not tracked:
            return []
        now = engine.player_counters(tracked)
        rose = {c: np.flatnonzero(now[c] > self._last[c]) for c in tracked}
        self._last = now
        if not any(len(v) for v in rose.values()):
            return []
        by_player = {}
        for event in history:
            if event["PlayerId"] > 0 and event["Delay"] == 0:
                by_player[(event["PlayerId"] - 1, event["ActionName"])] = event["DestinationObjectPlayerId"] - 1
        for counter, names, table in (("attacks", ATTACK_ACTIONS, self.attacks_on), ("gifts", GIFT_ACTIONS,
                                                                                      self.gifts_to)):
            for i in rose.get(counter, ()):
                for name in names:
                    j = by_player.get((i, name))
                    if j is not None and 0 <= j < self.n:
                        table[0 if self.kin[i, j] else 1, i] += 1
                        break
        formed = []
        for i in rose.get("bonds", ()):
            j = by_player.get((i, "bond"))
            if j is not None and 0 <= j < self.n and j != i:
                formed.append((int(i), int(j)))
                self.bonds[i, j] = self.bonds[j, i] = 1.0
        return formed

    def episode(self, engine) -> list[dict]:
        totals = engine.player_counters(list(self.counters))
        out = []
        for i in range(self.n):
            m = {c: int(totals[c][i]) for c in self.counters if c not in TARGETED}
            m.update(attacks_on_kin=int(self.attacks_on[0, i]), attacks_on_strangers=int(self.attacks_on[1, i]),
                     gifts_to_kin=int(self.gifts_to[0, i]), gifts_to_strangers=int(self.gifts_to[1, i]),
                     bonds_formed=int(self.bonds[i].sum()),
                     reward=float(self.reward[i]), raw_reward=float(self.raw_reward[i]))
            out.append(m)
        return out
