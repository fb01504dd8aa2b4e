"""``teams``: agents shuffled into teams; T = (1 - alpha) I + alpha M (the package's docstring).

``TeamGrouping`` is what every team structure has (``team_size`` or ``num_teams``, the shuffle); ``teams`` adds one
share alpha for every team, ``mixed_teams`` (metta.society.kinship.mixed_teams) one drawn per team and episode."""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from metta.errors import ConfigError
from metta.society.kinship.base import Kinship, _int, _unit


class TeamGrouping(Kinship):
    """Agents shuffled into teams: K[i, j] = 1 within a team, 0 across (not a structure of its own)."""

    team_size: int | None = Field(None, description="agents per team (or give num_teams)")
    num_teams: int | None = Field(None, description="how many teams, of sizes differing by at most one "
                                                    "(replaces a preset's team_size)")

    @classmethod
    def merge(cls, data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        merged = super().merge(data, changes)
        if merged.get("num_teams") is not None and "team_size" not in changes:
            merged.pop("team_size", None)  # a preset's team_size yields to a requested number of teams
        return merged

    def check(self) -> None:
        super().check()
        if self.team_size is not None and self.num_teams is not None:
            raise ConfigError(f"{self.structure}: give team_size or num_teams, not both")
        if self.team_size is not None:
            _int("team_size", self.team_size, 1)
        if self.num_teams is not None:
            _int("num_teams", self.num_teams, 1)

    def for_agents(self, num_agents: int) -> "TeamGrouping":
        self.check()
        if self.team_size is None and self.num_teams is None:
            raise ConfigError(f"{self.structure}: team_size (or num_teams) is required")
        if self.team_size is not None and self.team_size > num_agents:
            raise ConfigError(f"{self.structure}: team_size {self.team_size} exceeds the {num_agents} agents")
        if self.num_teams is not None and self.num_teams > num_agents:
            raise ConfigError(f"{self.structure}: num_teams {self.num_teams} is more teams than the {num_agents} "
                              f"agents")
        return self

    def teams_of(self, num_agents: int) -> int:
        """How many teams ``num_agents`` agents make."""
        if self.num_teams is not None:
            return self.num_teams
        assert self.team_size is not None  # for_agents: one of the two is given
        return -(-num_agents // self.team_size)

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        return same_team(self.team_ids(num_agents, rng))

    def team_ids(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.num_teams is not None:
            slots = np.arange(n) % self.num_teams  # balanced: sizes differ by at most one
        else:
            assert self.team_size is not None  # for_agents: one of the two is given
            slots = np.arange(n) // self.team_size
        return slots[rng.permutation(n)]


class Teams(TeamGrouping):
    structure: Literal["teams"] = Field("teams", description="agents shuffled into teams sharing team_reward")
    team_reward: float = Field(0.8, description="alpha: the share of its reward an agent pools with its team, in "
                                                "[0, 1]")

    def check(self) -> None:
        super().check()
        _unit("team_reward", self.team_reward)

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        return team_sharing(kinship, np.full(len(kinship), self.team_reward))


def same_team(teams: np.ndarray) -> np.ndarray:
    """K for team ids: 1 within a team, 0 across."""
    return (teams[:, None] == teams[None, :]).astype(np.float64)


def team_sharing(kinship: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """T[i] = (1 - alpha_i) e_i + alpha_i M[i], M[i, j] = 1/|T(i)| for j in i's team (K[i, j] = 1): each agent pools
    its own team's share alpha_i."""
    same = (kinship >= 1.0).astype(np.float64)
    m = same / same.sum(axis=1, keepdims=True)
    alpha = np.asarray(alpha, dtype=np.float64)[:, None]
    return (1.0 - alpha) * np.eye(len(kinship)) + alpha * m
