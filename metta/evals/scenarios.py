"""The named scenarios of the eval suite: a fixed level, the game's values it changes, and a success measure.

Every level is a file in ``levels/`` (the level syntax of ``make_env(level=...)``); agent 1
is the one under test unless a scenario says otherwise, and a scenario's opponents are
scripted (metta.evals.policies.ScriptedAgent). Success is one yes/no per episode, so a
score is a success rate with a binomial confidence interval (metta.evals.stats).
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Callable

from metta.errors import ConfigError
from metta.evals.play import Outcome

LEVELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "levels")


@dataclass(frozen=True)
class Scenario:
    name: str
    measures: str                               # the ability it probes
    success_text: str                           # what counts as success, in words
    success: Callable[[Outcome, dict], bool]    # (outcome, the game's named values) -> success
    max_steps: int
    preset: str = "metta-solo"
    overrides: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)          # other make_env keywords (kinship parameters)
    opponents: dict = field(default_factory=dict)        # agent index -> ScriptedAgent keywords

    @property
    def level_path(self) -> str:
        return os.path.join(LEVELS_DIR, f"{self.name}.txt")

    def level(self) -> str:
        with open(self.level_path) as fh:
            return fh.read()

    def make_env(self, seed: int | None = None):
        from metta import make_env

        return make_env(self.preset, seed=seed, level=self.level(), max_steps=self.max_steps,
                        overrides=self.overrides, **self.options)


def _hearts(o: Outcome, values: dict) -> bool:
    return o.metrics[0]["hearts"] >= 1


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("navigation", "moving to a goal it can see in an open room",
             "agent 1 powers the altar (earns a heart)", _hearts, max_steps=60),
    Scenario("maze", "finding a path through corridors and dead ends",
             "agent 1 reaches the altar at the far end of the maze and earns a heart", _hearts, max_steps=120),
    Scenario("resource_chain", "a chain of subgoals: diamond -> charger -> altar",
             "agent 1, starting with too little energy for the altar, harvests, charges and earns a heart",
             _hearts, max_steps=150,
             overrides={"agent_initial_energy": 30, "agent_energy_regen": 0, "generator_cooldown": 2}),
    Scenario("in_context_switching", "noticing that the generator that paid has run dry, and switching",
             "agent 1 harvests more diamonds than the first generator holds (it found the second one)",
             lambda o, v: o.metrics[0]["diamonds_harvested"] > v["generator_initial_diamonds"], max_steps=100,
             overrides={"generator_initial_diamonds": 3, "generator_cooldown": 2}),
    Scenario("cooperation", "helping kin: the only reward needs a gift to a teammate",
             "a heart is earned; agent 1 can reach the altar but lacks the energy, only its teammate "
             "(agent 2) has energy to give", lambda o, v: sum(m["hearts"] for m in o.metrics) >= 1, max_steps=60,
             preset="metta-teams", options={"team_size": 2},
             overrides={"agent_initial_energy": 60, "agent_energy_regen": 0, "gift_amount": 50}),
    Scenario("competition_defend", "defending against an attacker with the shield",
             "agent 1, cornered by a stranger that strikes every 3 steps, is never frozen",
             lambda o, v: o.metrics[0]["frozen_steps"] == 0, max_steps=30,
             opponents={1: dict(facing=(0, -1), action=("attack", 2), period=3, start=3)}),
    Scenario("competition_steal", "taking from a stranger: the only diamonds are the ones it carries",
             "agent 1 ends holding a diamond, which it can only get by freezing the harvesting stranger",
             lambda o, v: o.agents[0]["inventory"] >= 1, max_steps=60, overrides={"generator_cooldown": 3},
             opponents={1: dict(facing=(-1, 0), action=("use", 1), period=1, start=1)}),
)}


def get_scenarios(names: list[str] | None) -> list[Scenario]:
    """The scenarios called ``names`` (all when None); ConfigError naming the unknown ones."""
    if names is None:
        return list(SCENARIOS.values())
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        hints = [f"{n!r} (did you mean {', '.join(difflib.get_close_matches(n, list(SCENARIOS), n=2))}?)"
                 if difflib.get_close_matches(n, list(SCENARIOS), n=1) else repr(n) for n in unknown]
        raise ConfigError(f"unknown scenario {', '.join(hints)}: known scenarios are {', '.join(SCENARIOS)}")
    return [SCENARIOS[n] for n in names]
