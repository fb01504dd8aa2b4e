"""Energy profiles (bodies): per-agent multipliers on action costs, max energy and regeneration.

A profile scales the game's named values for one agent: every action cost
(``move_cost`` .. ``bond_offer_cost``) by ``cost``, ``agent_max_energy`` by
``max_energy`` and ``agent_energy_regen`` by ``regen``, each rounded to an integer.
Each episode every agent draws a profile from the mix (independently, with the
mix's weights) from the env's seeded generator. The agent's ``body`` variable holds
the profile's index (1-based, in the order the mix lists them) and is observed
by everyone who can see it. Without a mix every agent has the game's own numbers
(the standard body, ``body`` = 0) and nothing is refitted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from metta.errors import ConfigError

ACTION_COSTS = ("move_cost", "rotate_cost", "use_cost", "attack_cost", "shield_cost", "gift_cost", "mark_cost",
                "bond_offer_cost")


@dataclass(frozen=True)
class Body:
    cost: float = 1.0
    max_energy: float = 1.0
    regen: float = 1.0


PROFILES: dict[str, Body] = {
    "standard": Body(),
    "light": Body(cost=0.5, max_energy=0.6, regen=1.0),     # cheap to run, small tank
    "heavy": Body(cost=1.5, max_energy=1.0, regen=2.0),     # costly actions, recovers fast
    "sprinter": Body(cost=0.75, max_energy=0.8, regen=0.0),  # cheap, never regenerates
}


class BodyMix:
    """A validated mix of named profiles, and the per-agent numbers it gives for a game."""

    def __init__(self, mix: dict[str, float], profiles: dict[str, Any] | None = None):
        table = dict(PROFILES)
        for name, spec in (profiles or {}).items():
            if isinstance(spec, Body):
                table[name] = spec
            elif isinstance(spec, dict):
                unknown = set(spec) - {"cost", "max_energy", "regen"}
                if unknown:
                    raise ConfigError(f"body profile {name!r}: unknown field(s) {', '.join(sorted(unknown))}; "
                                      f"expected cost, max_energy, regen")
                table[name] = Body(**spec)
            else:
                raise ConfigError(f"body profile {name!r} must be a dict of cost/max_energy/regen multipliers")
        if not isinstance(mix, dict) or not mix:
            raise ConfigError(f"bodies must be a non-empty dict of profile name to weight, got {mix!r}")
        for name, w in mix.items():
            if name not in table:
                raise ConfigError(f"bodies: unknown profile {name!r}; known: {', '.join(sorted(table))}")
            _non_negative(f"bodies: weight of {name!r}", w)
        total = float(sum(mix.values()))
        if total <= 0:
            raise ConfigError("bodies: the weights must not all be 0")
        for name in mix:
            for field in ("cost", "max_energy", "regen"):
                _non_negative(f"body profile {name!r}: {field} multiplier", getattr(table[name], field))
        self.names = list(mix)
        self.bodies = [table[n] for n in self.names]
        self.weights = np.array([mix[n] for n in self.names], dtype=np.float64) / total

    def values(self, named: dict[str, int]) -> list[dict[str, int]]:
        """Each profile's numbers for a game with these named values (ConfigError if out of range)."""
        out = []
        for i, (name, body) in enumerate(zip(self.names, self.bodies)):
            v = {c: int(round(named[c] * body.cost)) for c in ACTION_COSTS}
            v["max_energy"] = int(round(named["agent_max_energy"] * body.max_energy))
            v["regen"] = int(round(named["agent_energy_regen"] * body.regen))
            v["id"] = i + 1
            for key, val in v.items():
                if not 0 <= val <= 255:
                    raise ConfigError(f"body profile {name!r}: {key} = {val} is outside 0..255 "
                                      f"(observed as uint8)")
            if v["max_energy"] < 1:
                raise ConfigError(f"body profile {name!r}: max_energy rounds to 0")
            out.append(v)
        return out

    def assign(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Each agent's profile index (0-based into ``names``) for one episode."""
        return rng.choice(len(self.names), size=n, p=self.weights)

    def setup_action(self, named: dict[str, int]) -> dict:
        """The GDY action that fits an agent with profile k when it takes input k + 1."""
        inputs = {i + 1: {"Description": f"become {name}", "VectorToDest": [0, 0], "MetaData": vals}
                  for i, (name, vals) in enumerate(zip(self.names, self.values(named)))}
        commands = [{"set": [f"body_{c}", f"meta.{c}"]} for c in ACTION_COSTS]
        commands += [{"set": ["body_regen", "meta.regen"]}, {"set": ["max_energy", "meta.max_energy"]},
                     {"set": ["body", "meta.id"]},
                     {"gt": {"Arguments": ["energy", "max_energy"], "Commands": [{"set": ["energy", "max_energy"]}]}}]
        return {"Name": SETUP_ACTION, "InputMapping": {"Inputs": inputs},
                "Behaviours": [{"Src": {"Object": "agent", "Commands": commands}, "Dst": {"Object": "agent"}}]}


SETUP_ACTION = "fit_body"


def _non_negative(what: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v >= 0 and math.isfinite(v)):
        raise ConfigError(f"{what} must be a number >= 0, got {v!r}")
