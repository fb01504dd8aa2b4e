"""Kinship structures and the reward-sharing rule.

Each episode draws an N x N kinship matrix K (symmetric, K[i, i] = 1, entries in
[0, 1]) from the env's seeded generator, and derives the sharing matrix T that is
applied to the agents' own rewards r of every step:

    r' = T @ r

Each structure is a small class here holding only its own parameters and the shared
ones (``bond_share``, ``kinship_noise``, ``kin_threshold``): ``Selfish``, ``Teams``,
``RandomKinship``, ``Clans``: typed configs (pydantic, metta.config.ConfigModel) told apart by their
``structure`` field. ``Kinship.from_dict`` picks one by that name; a new structure is one more
subclass (and a preset, if it deserves one): the env's config (metta.env.config) takes every subclass.

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
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from metta.config import ConfigModel
from metta.errors import ConfigError


class Kinship(ConfigModel):
    """What every structure has; a structure is a subclass with a ``structure: Literal["name"]`` field and only its
    own fields. Subclassing registers it (``STRUCTURES``), and the env's config takes it by its name."""

    structure: str = Field("", description="the kinship structure: selfish, teams, random or clans")
    bond_share: float = Field(0.5, description="the share of each other's reward two bonded agents pool")
    kinship_noise: float = Field(0.0, description="RUSP-style noise on the kinship an agent sees: the most sigma, "
                                                  "drawn per episode (0: agents see kinship exactly)")
    kin_threshold: float = Field(0.5, description="kinship at or above which the social metrics count a pair as kin")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        name = cls.model_fields["structure"].default
        if name:
            STRUCTURES[name] = cls

    @model_validator(mode="after")
    def _checked(self):
        self.check()
        return self

    @classmethod
    def from_dict(cls, params: dict[str, Any], preset: "Kinship | dict[str, Any] | None" = None) -> "Kinship":
        """The structure ``params`` ask for (``structure``, default the preset's or selfish, and its fields), over a
        preset's parameters ``preset``: all of them if the structure is the preset's, else only the
        parameters every structure has."""
        if isinstance(preset, Kinship):
            preset = preset.model_dump()
        preset = preset or {}
        name = params.get("structure", preset.get("structure", "selfish"))
        chosen = STRUCTURES.get(name) if isinstance(name, str) else None
        if chosen is None:
            raise ConfigError(f"kinship structure must be one of {', '.join(STRUCTURES)}, got {name!r}")
        if preset.get("structure", "selfish") != name:
            preset = {k: v for k, v in preset.items() if k in SHARED}
        merged = chosen.merge(preset, params)
        merged.pop("structure", None)
        known = set(chosen.model_fields) - {"structure"}
        unknown = set(merged) - known
        if unknown:
            raise ConfigError(f"unknown kinship parameter(s) {', '.join(sorted(unknown))} for structure {name!r}; "
                              f"known: {', '.join(sorted(known | {'structure'}))}")
        return chosen(**merged)

    @classmethod
    def merge(cls, preset: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """A preset's parameters changed by the requested ones."""
        return {**preset, **params}

    def check(self) -> None:
        """Check what needs no agent count (the config does this as it is built)."""
        _unit("kin_threshold", self.kin_threshold)
        _unit("kinship_noise", self.kinship_noise)
        _unit("bond_share", self.bond_share)

    def validate(self, num_agents: int) -> "Kinship":
        """Check the structure for ``num_agents`` agents; return it."""
        self.check()
        return self

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        """A kinship matrix K for one episode."""
        raise NotImplementedError

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        """The matrix T applied to raw rewards, r' = T @ r: K row-normalised unless a structure says otherwise."""
        return kinship / kinship.sum(axis=1, keepdims=True)


STRUCTURES: dict[str, type[Kinship]] = {}  # filled by the subclasses below, in this order
SHARED = {"bond_share", "kinship_noise", "kin_threshold"}  # the fields every structure has


class Selfish(Kinship):
    structure: Literal["selfish"] = Field("selfish", description="every agent for itself: K = I, T = I")

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        return np.eye(num_agents)

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        return np.eye(len(kinship))


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


class RandomKinship(Kinship):
    structure: Literal["random"] = Field("random", description="pairwise kinship K[i, j] ~ Beta(a, b), "
                                         "RUSP-style row-normalised sharing")
    a: float = Field(1.0, description="Beta(a, b): its first parameter, > 0")
    b: float = Field(1.0, description="Beta(a, b): its second parameter, > 0")

    def check(self) -> None:
        super().check()
        for name in ("a", "b"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or not math.isfinite(v):
                raise ConfigError(f"random kinship: Beta parameter {name} must be > 0, got {v!r}")

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        n = num_agents
        k = np.eye(n)
        iu = np.triu_indices(n, 1)
        k[iu] = rng.beta(self.a, self.b, size=len(iu[0]))
        k[(iu[1], iu[0])] = k[iu]
        return k


class Clans(Kinship):
    structure: Literal["clans"] = Field("clans", description="nested groups, hive > clan > family: kinship falls "
                                                             "with the level at which two agents' groups split")
    family_size: int = Field(2, description="agents per family")
    families_per_clan: int = Field(2, description="families per clan")
    clans_per_hive: int = Field(2, description="clans per hive")
    w_family: float = Field(0.8, description="kinship within a family")
    w_clan: float = Field(0.5, description="kinship within a clan, across families (<= w_family)")
    w_hive: float = Field(0.2, description="kinship within a hive, across clans (<= w_clan)")
    w_stranger: float = Field(0.0, description="kinship across hives (<= w_hive)")

    def check(self) -> None:
        super().check()
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
