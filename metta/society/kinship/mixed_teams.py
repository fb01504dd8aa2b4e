"""``mixed_teams``: teams whose share alpha is drawn per episode from ``arms``, balanced, so that every episode holds
both arms of an experiment (docs/dilemma.md, "The kin dilemma").

Agents are shuffled into teams as in ``teams`` (K = 1 within a team, 0 across). Then the teams, in a random order,
take the arms in turn: team number t of that order shares ``arms[t mod len(arms)]``, so the arms' team counts differ
by at most one (4 teams and arms [0, 1]: two teams share all their reward, two share none). Sharing is the seed's
rule with each team's own alpha: T[i] = (1 - alpha_i) e_i + alpha_i M[i] (metta.society.kinship.teams.team_sharing).

Agents observe their own team's alpha (the env's ``team_reward`` channel, metta.env.core). An episode can be
replayed with the arms swapped (``env.reset(seed, options={"swap_arms": True})``): the same draws, every team
taking the arm at the mirrored place of ``arms`` instead (of two arms, the other one); nothing else changes.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from metta.errors import ConfigError
from metta.society.kinship.base import Draw, _unit
from metta.society.kinship.teams import TeamGrouping, same_team, team_sharing


class MixedTeams(TeamGrouping):
    structure: Literal["mixed_teams"] = Field("mixed_teams", description="teams that draw their share alpha per "
                                              "episode from arms, balanced: both arms in every episode")
    arms: list[float] = Field(default_factory=lambda: [0.0, 1.0],
                              description="the shares alpha the teams draw each episode, balanced over the teams "
                                          "(comma-separated on the command line: 0,1)")
    has_arms: ClassVar[bool] = True

    def check(self) -> None:
        super().check()
        if not self.arms:
            raise ConfigError("mixed_teams: arms must list at least one share alpha")
        for a in self.arms:
            _unit("arms", a)

    def for_agents(self, num_agents: int) -> "MixedTeams":
        super().for_agents(num_agents)
        teams = self.teams_of(num_agents)
        if teams < len(self.arms):
            raise ConfigError(f"mixed_teams: {teams} team(s) of {num_agents} agents cannot hold the {len(self.arms)} "
                              f"arms {self.arms}: every arm needs a team in every episode")
        return self

    def draw(self, num_agents: int, rng: np.random.Generator, swap_arms: bool = False) -> Draw:
        teams = self.team_ids(num_agents, rng)
        kinship = same_team(teams)
        order = rng.permutation(int(teams.max()) + 1)
        arm = order % len(self.arms)
        if swap_arms:
            arm = len(self.arms) - 1 - arm
        alpha = np.asarray(self.arms, dtype=np.float64)[arm][teams]
        return Draw(kinship, team_sharing(kinship, alpha), alpha)

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        raise ConfigError("mixed_teams: sharing depends on each team's drawn share; use draw(), or "
                          "teams.team_sharing(kinship, alpha) with the episode's alphas")
