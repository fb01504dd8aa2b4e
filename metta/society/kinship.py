"""Kinship structures and the reward-sharing rule.

Each episode draws an N x N kinship matrix K (symmetric, K[i, i] = 1, entries in
[0, 1]) from the env's seeded generator, and derives the sharing matrix T that is
applied to the agents' own rewards r of every step:

    r' = T @ r

Each structure is a small class here holding only its own parameters and the shared
ones (``bond_share``, ``kinship_noise``, ``kin_threshold``): ``Selfish``, ``Teams``,
``RandomKinship``, ``Clans``. ``Kinship.from_dict`` picks one by its ``structure`` name;
a new structure is one more subclass (and a preset, if it deserves one).

Structures and how T follows from K:

- ``selfish``: K = I, T = I.
- ``teams`` (``team_size`` or ``num_teams``, which replaces a preset's ``team_size``;
  ``team_reward`` = alpha): agents are shuffled into teams; K[i, j] = 1 within a team,
  0 across. The seed's rule,
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
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from metta.errors import ConfigError


@dataclass(frozen=True)
class Kinship:
    """What every structure has; a structure is a subclass named in its class statement,
    ``class Teams(Kinship, structure="teams")``, with only its own fields."""

    structure: ClassVar[str] = ""
    # bonds: the share of each other's reward two bonded agents pool
    bond_share: float = 0.5
    # observation: RUSP-style noise on the kinship an agent sees (max sigma, per-episode draw)
    kinship_noise: float = 0.0
    # metrics
    kin_threshold: float = 0.5

    def __init_subclass__(cls, structure: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.structure = structure
        STRUCTURES[structure] = cls

    @classmethod
    def from_dict(cls, params: dict[str, Any], preset: dict[str, Any] | None = None) -> "Kinship":
        """The structure ``params`` ask for (``structure``, default selfish, and its fields), over a
        preset's parameters ``preset``: all of them if the structure is the preset's, else only the
        parameters every structure has."""
        preset = preset or {}
        name = params.get("structure", preset.get("structure", "selfish"))
        chosen = STRUCTURES.get(name) if isinstance(name, str) else None
        if chosen is None:
            raise ConfigError(f"kinship structure must be one of {', '.join(STRUCTURES)}, got {name!r}")
        if preset.get("structure", "selfish") != name:
            preset = {k: v for k, v in preset.items() if k in _SHARED}
        merged = chosen.merge(preset, params)
        merged.pop("structure", None)
        known = {f.name for f in fields(chosen)}
        unknown = set(merged) - known
        if unknown:
            raise ConfigError(f"unknown kinship parameter(s) {', '.join(sorted(unknown))} for structure {name!r}; "
                              f"known: {', '.join(sorted(known | {'structure'}))}")
        return chosen(**merged)

    @classmethod
    def merge(cls, preset: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """A preset's parameters changed by the requested ones."""
        return {**preset, **params}

    def validate(self, num_agents: int) -> "Kinship":
        _unit("kin_threshold", self.kin_threshold)
        _unit("kinship_noise", self.kinship_noise)
        _unit("bond_share", self.bond_share)
        return self

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        """A kinship matrix K for one episode."""
        raise NotImplementedError

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        """The matrix T applied to raw rewards, r' = T @ r: K row-normalised unless a structure says otherwise."""
        return kinship / kinship.sum(axis=1, keepdims=True)


STRUCTURES: dict[str, type[Kinship]] = {}  # filled by the subclasses below, in this order
_SHARED = {f.name for f in fields(Kinship)}


@dataclass(frozen=True)
class Selfish(Kinship, structure="selfish"):
    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        return np.eye(num_agents)

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        return np.eye(len(kinship))


@dataclass(frozen=True)
class Teams(Kinship, structure="teams"):
    team_size: int | None = None
    num_teams: int | None = None
    team_reward: float = 0.8

    @classmethod
    def merge(cls, preset: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        merged = super().merge(preset, params)
        if "num_teams" in merged and "team_size" not in params:
            merged.pop("team_size", None)  # a preset's team_size yields to a requested number of teams
        return merged

    def validate(self, num_agents: int) -> "Teams":
        super().validate(num_agents)
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


@dataclass(frozen=True)
class RandomKinship(Kinship, structure="random"):
    a: float = 1.0
    b: float = 1.0

    def validate(self, num_agents: int) -> "RandomKinship":
        super().validate(num_agents)
        for name in ("a", "b"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or not math.isfinite(v):
                raise ConfigError(f"random kinship: Beta parameter {name} must be > 0, got {v!r}")
        return self

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        n = num_agents
        k = np.eye(n)
        iu = np.triu_indices(n, 1)
        k[iu] = rng.beta(self.a, self.b, size=len(iu[0]))
        k[(iu[1], iu[0])] = k[iu]
        return k


@dataclass(frozen=True)
class Clans(Kinship, structure="clans"):
    family_size: int = 2
    families_per_clan: int = 2
    clans_per_hive: int = 2
    w_family: float = 0.8
    w_clan: float = 0.5
    w_hive: float = 0.2
    w_stranger: float = 0.0

    def validate(self, num_agents: int) -> "Clans":
        super().validate(num_agents)
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

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        n = num_agents
        family, clan, hive = self.group_ids(n, rng)
        k = np.full((n, n), self.w_stranger)
        k[hive[:, None] == hive[None, :]] = self.w_hive
        k[clan[:, None] == clan[None, :]] = self.w_clan
        k[family[:, None] == family[None, :]] = self.w_family
        np.fill_diagonal(k, 1.0)
        return k

    def group_ids(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = rng.permutation(n)
        family = np.empty(n, dtype=np.int64)
        family[order] = np.arange(n) // self.family_size
        clan = family // self.families_per_clan
        hive = clan // self.clans_per_hive
        return family, clan, hive


def parameters() -> dict[str, Any]:
    """Every structure's parameters and their defaults: ``structure``, each structure's own, then the shared ones."""
    own = {f.name: f.default for cls in STRUCTURES.values() for f in fields(cls) if f.name not in _SHARED}
    return {"structure": "selfish", **own, **{f.name: f.default for f in fields(Kinship)}}


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
