"""Energy profiles (bodies): per-agent multipliers on action costs, max energy and regeneration.

A profile scales the game's named values for one agent: every action cost by ``cost``,
the max energy by ``max_energy`` and the regeneration by ``regen``, each rounded to an
integer. Which named values those are, and which of the agent's variables take the
agent's own numbers, the game says (``BodyVariables``, from the ``Metta.bodies`` section of
the game file: in games/metta.yaml ``move_cost`` .. ``bond_offer_cost`` into
``body_move_cost`` .., ``agent_max_energy`` into ``max_energy``, ``agent_energy_regen``
into ``body_regen``); a game without that section takes no bodies.
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



@dataclass(frozen=True)
class BodyVariables:
    """The names a game gives to what bodies scale (its ``Metta.bodies`` section)."""

    costs: dict          # named value of an action cost -> the agent's own copy, which its actions pay
    max_energy: tuple    # (named value, the agent variable holding its max energy)
    regen: tuple         # (named value, the agent's own copy of its regeneration)
    energy: str          # the agent variable capped at its new max energy
    profile: str         # the agent variable that shows its profile's index (observed by others)


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
            raise ConfigError(f"bodies.mix must be a non-empty dict of profile name to weight, got {mix!r}")
        for name, w in mix.items():
            if name not in table:
                raise ConfigError(f"bodies.mix: unknown profile {name!r}; known: {', '.join(sorted(table))}")
            _non_negative(f"bodies.mix.{name}", w)
        total = float(sum(mix.values()))
        if total <= 0:
            raise ConfigError("bodies.mix: the weights must not all be 0")
        for name in mix:
            for field in ("cost", "max_energy", "regen"):
                _non_negative(f"body profile {name!r}: {field} multiplier", getattr(table[name], field))
        self.names = list(mix)
        self.bodies = [table[n] for n in self.names]
        self.weights = np.array([mix[n] for n in self.names], dtype=np.float64) / total

    def values(self, named: dict[str, int], names: BodyVariables) -> list[dict[str, int]]:
        """Each profile's numbers for a game with these named values (ConfigError if out of range)."""
        out = []
        for i, (name, body) in enumerate(zip(self.names, self.bodies)):
            v = {c: int(round(named[c] * body.cost)) for c in names.costs}
            v["max_energy"] = int(round(named[names.max_energy[0]] * body.max_energy))
            v["regen"] = int(round(named[names.regen[0]] * body.regen))
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

    def setup_action(self, named: dict[str, int], names: BodyVariables, avatar: str) -> dict:
        """The GDY action that fits an ``avatar`` with profile k when it takes input k + 1."""
        inputs = {i + 1: {"Description": f"become {name}", "VectorToDest": [0, 0], "MetaData": vals}
                  for i, (name, vals) in enumerate(zip(self.names, self.values(named, names)))}
        energy, max_energy = names.energy, names.max_energy[1]
        commands: list[dict[str, Any]] = [{"set": [own, f"meta.{c}"]} for c, own in names.costs.items()]
        commands += [{"set": [names.regen[1], "meta.regen"]}, {"set": [max_energy, "meta.max_energy"]},
                     {"set": [names.profile, "meta.id"]},
                     {"gt": {"Arguments": [energy, max_energy], "Commands": [{"set": [energy, max_energy]}]}}]
        return {"Name": SETUP_ACTION, "InputMapping": {"Inputs": inputs},
                "Behaviours": [{"Src": {"Object": avatar, "Commands": commands}, "Dst": {"Object": avatar}}]}


SETUP_ACTION = "fit_body"


def _non_negative(what: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v >= 0 and math.isfinite(v)):
        raise ConfigError(f"{what} must be a number >= 0, got {v!r}")
