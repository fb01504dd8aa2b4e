"""``teams``: agents shuffled into teams; T = (1 - alpha) I + alpha M (the package's docstring)."""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from metta.errors import ConfigError
from metta.society.kinship.base import Kinship, _int, _unit


class Teams(Kinship):
    structure: Literal["teams"] = Field("teams", description="agents shuffled into teams sharing team_reward")
    team_size: int | None = Field(None, description="agents per team (or give num_teams)")
    num_teams: int | None = Field(None, description="how many teams, of sizes differing by at most one "
                                                    "(replaces a preset's team_size)")
    team_reward: float = Field(0.8, description="alpha: the share of its reward an agent pools with its team, in "
                                                "[0, 1]")

    @classmethod
    def merge(cls, preset: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        merged = super().merge(preset, params)
        if merged.get("num_teams") is not None and "team_size" not in params:
            merged.pop("team_size", None)  # a preset's team_size yields to a requested number of teams
        return merged

    def check(self) -> None:
        super().check()
        if self.team_size is not None and self.num_teams is not None:
            raise ConfigError("teams: give team_size or num_teams, not both")
        if self.team_size is not None:
            _int("team_size", self.team_size, 1)
        if self.num_teams is not None:
            _int("num_teams", self.num_teams, 1)
        _unit("team_reward", self.team_reward)

    def validate(self, num_agents: int) -> "Teams":
        self.check()
        if self.team_size is None and self.num_teams is None:
            raise ConfigError("teams: team_size (or num_teams) is required")
        if self.team_size is not None and self.team_size > num_agents:
            raise ConfigError(f"teams: team_size {self.team_size} exceeds the {num_agents} agents")
        if self.num_teams is not None and self.num_teams > num_agents:
            raise ConfigError(f"teams: num_teams {self.num_teams} is more teams than the {num_agents} agents")
        return self

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        groups = self.team_ids(num_agents, rng)
        return (groups[:, None] == groups[None, :]).astype(np.float64)

    def team_ids(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.num_teams is not None:
            slots = np.arange(n) % self.num_teams  # balanced: sizes differ by at most one
        else:
            slots = np.arange(n) // self.team_size
        return slots[rng.permutation(n)]

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        n = len(kinship)
        same = (kinship >= 1.0).astype(np.float64)
        m = same / same.sum(axis=1, keepdims=True)
        return (1.0 - self.team_reward) * np.eye(n) + self.team_reward * m
