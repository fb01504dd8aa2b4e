"""Kinship structures and the reward-sharing rule.

Each episode draws an N x N kinship matrix K (symmetric, K[i, i] = 1, entries in
[0, 1]) from the env's seeded generator, and derives the sharing matrix T that is
applied to the agents' own rewards r of every step:

    r' = T @ r

Structures and how T follows from K:

- ``selfish``: K = I, T = I.
- ``teams`` (``team_size`` or ``num_teams``, ``team_reward`` = alpha): agents are
  shuffled into teams; K[i, j] = 1 within a team, 0 across. The seed's rule,
      r'_i = (1 - alpha) r_i + (alpha / |T(i)|) sum_{j in T(i)} r_j,
  is T = (1 - alpha) I + alpha * M, with M[i, j] = 1/|T(i)| for j in i's team.
- ``random`` (Beta(``a``, ``b``)): K[i, j] = K[j, i] ~ Beta(a, b) for i != j, as in
  RUSP (Baker 2020). T is K row-normalised: T[i, j] = K[i, j] / sum_k K[i, k].
- ``clans`` (``family_size``, ``families_per_clan``, ``clans_per_hive``, and weights
  ``w_family`` >= ``w_clan`` >= ``w_hive`` >= ``w_stranger``): agents are shuffled into
  families, families into clans, clans into hives; K[i, j] is the weight of the
  deepest group i and j share (1 for i = j). T is K row-normalised.

Every T has rows summing to 1: what an agent receives is a weighted average of its
kin's own rewards. Total reward is conserved only where columns also sum to 1
(``selfish``, and ``teams`` of equal sizes, where T is symmetric); under row-normalised
sharing an agent with many close kin passes on more than it receives.
Bonds (formed in the game by mutual offers) add to this for the rest of the
episode: with B the bond graph and beta = ``bond_share``, each bonded agent pools
beta of what it receives with its partners,

    S = (1 - beta) I + beta M,  M[i, j] = 1 / (|B(i)| + 1) for j in {i} + B(i),
    T_episode = S @ T   (agents without bonds keep S[i, i] = 1),

so ``env.sharing`` changes when a bond forms.

"Kin" in the social metrics means K[i, j] >= ``kin_threshold`` (default 0.5).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from metta.errors import ConfigError

STRUCTURES = ("selfish", "teams", "random", "clans")


@dataclass(frozen=True)
class KinshipSpec:
    structure: str = "selfish"
    # teams
    team_size: int | None = None
    num_teams: int | None = None
    team_reward: float = 0.8
    # random
    a: float = 1.0
    b: float = 1.0
    # clans
    family_size: int = 2
    families_per_clan: int = 2
    clans_per_hive: int = 2
    w_family: float = 0.8
    w_clan: float = 0.5
    w_hive: float = 0.2
    w_stranger: float = 0.0
    # bonds: the share of each other's reward two bonded agents pool
    bond_share: float = 0.5
    # observation: RUSP-style noise on the kinship an agent sees (max sigma, per-episode draw)
    kinship_noise: float = 0.0
    # metrics
    kin_threshold: float = 0.5

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> "KinshipSpec":
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ConfigError(f"unknown kinship parameter(s) {', '.join(sorted(unknown))}; known: "
                              f"{', '.join(sorted(known))}")
        return cls(**params)

    # ------------------------------------------------------------------ checks
    def validate(self, num_agents: int) -> "KinshipSpec":
        if self.structure not in STRUCTURES:
            raise ConfigError(f"kinship structure must be one of {', '.join(STRUCTURES)}, got {self.structure!r}")
        _unit("kin_threshold", self.kin_threshold)
        _unit("kinship_noise", self.kinship_noise)
        _unit("bond_share", self.bond_share)
        if self.structure == "teams":
            if self.team_size is not None and self.num_teams is not None:
                raise ConfigError("teams: give team_size or num_teams, not both")
            if self.team_size is None and self.num_teams is None:
                raise ConfigError("teams: team_size (or num_teams) is required")
            if self.team_size is not None:
                _int("team_size", self.team_size, 1)
                if self.team_size > num_agents:
                    raise ConfigError(f"teams: team_size {self.team_size} exceeds the {num_agents} agents")
            if self.num_teams is not None:
                _int("num_teams", self.num_teams, 1)
                if self.num_teams > num_agents:
                    raise ConfigError(f"teams: num_teams {self.num_teams} is more teams than the {num_agents} agents")
            _unit("team_reward", self.team_reward)
        elif self.structure == "random":
            for name in ("a", "b"):
                v = getattr(self, name)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or not math.isfinite(v):
                    raise ConfigError(f"random kinship: Beta parameter {name} must be > 0, got {v!r}")
        elif self.structure == "clans":
            for name in ("family_size", "families_per_clan", "clans_per_hive"):
                _int(name, getattr(self, name), 1)
            ws = [("w_family", self.w_family), ("w_clan", self.w_clan), ("w_hive", self.w_hive),
                  ("w_stranger", self.w_stranger)]
            for name, w in ws:
                _unit(name, w)
            for (n1, w1), (n2, w2) in zip(ws, ws[1:]):
                if w1 < w2:
                    raise ConfigError(f"clans: kinship must fall with the level at which groups split: "
                                      f"{n1}={w1} < {n2}={w2}")
        return self

    # ------------------------------------------------------------------ sampling
    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        """A kinship matrix K for one episode."""
        n = num_agents
        if self.structure == "selfish":
            return np.eye(n)
        if self.structure == "teams":
            groups = self.team_ids(n, rng)
            return (groups[:, None] == groups[None, :]).astype(np.float64)
        if self.structure == "random":
            k = np.eye(n)
            iu = np.triu_indices(n, 1)
            k[iu] = rng.beta(self.a, self.b, size=len(iu[0]))
            k[(iu[1], iu[0])] = k[iu]
            return k
        family, clan, hive = self.group_ids(n, rng)
        k = np.full((n, n), self.w_stranger)
        k[hive[:, None] == hive[None, :]] = self.w_hive
        k[clan[:, None] == clan[None, :]] = self.w_clan
        k[family[:, None] == family[None, :]] = self.w_family
        np.fill_diagonal(k, 1.0)
        return k

    def team_ids(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.num_teams is not None:
            slots = np.arange(n) % self.num_teams  # balanced: sizes differ by at most one
        else:
            slots = np.arange(n) // self.team_size
        return slots[rng.permutation(n)]

    def group_ids(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = rng.permutation(n)
        family = np.empty(n, dtype=np.int64)
        family[order] = np.arange(n) // self.family_size
        clan = family // self.families_per_clan
        hive = clan // self.clans_per_hive
        return family, clan, hive

    # ------------------------------------------------------------------ sharing
    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        """The matrix T applied to raw rewards: r' = T @ r (module docstring)."""
        n = len(kinship)
        if self.structure == "selfish":
            return np.eye(n)
        if self.structure == "teams":
            same = (kinship >= 1.0).astype(np.float64)
            m = same / same.sum(axis=1, keepdims=True)
            return (1.0 - self.team_reward) * np.eye(n) + self.team_reward * m
        return kinship / kinship.sum(axis=1, keepdims=True)


def bond_sharing(bonds: np.ndarray, share: float) -> np.ndarray:
    """S for a symmetric 0/1 bond matrix (zero diagonal): see the module docstring."""
    n = len(bonds)
    group = bonds + np.eye(n)
    m = group / group.sum(axis=1, keepdims=True)
    s = (1.0 - share) * np.eye(n) + share * m
    alone = bonds.sum(axis=1) == 0
    s[alone] = np.eye(n)[alone]
    return s


def _int(name: str, v: Any, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ConfigError(f"kinship parameter {name} must be an integer >= {lo}, got {v!r}")


def _unit(name: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
        raise ConfigError(f"kinship parameter {name} must be a number in [0, 1], got {v!r}")
