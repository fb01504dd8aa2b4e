"""What every kinship structure has (the shared fields, the checks), the registry the
structures fill as they are defined, and the bond-sharing rule (the package's docstring has the formulas)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from metta.config import ConfigModel
from metta.errors import ConfigError


@dataclass(frozen=True)
class Draw:
    """One episode's kinship: the matrix K, the sharing matrix T (r' = T @ r) and, for a structure whose teams draw
    their share per episode (``mixed_teams``), each agent's team's share alpha (None otherwise)."""

    kinship: np.ndarray
    sharing: np.ndarray
    team_rewards: np.ndarray | None = None


class Kinship(ConfigModel):
    """What every structure has; a structure is a subclass with a ``structure: Literal["name"]`` field and only its
    own fields. Subclassing registers it (``STRUCTURES``), and the env's config takes it by its name."""

    # a structure whose teams draw their share alpha per episode: agents observe their team's (the env's
    # ``team_reward`` channel) and an episode can be played with the arms swapped
    has_arms: ClassVar[bool] = False

    structure: str = Field("", description="the kinship structure: selfish, teams, mixed_teams, random or clans")
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

    def check(self) -> None:
        """Check what needs no agent count (the config does this as it is built)."""
        _unit("kin_threshold", self.kin_threshold)
        _unit("kinship_noise", self.kinship_noise)
        _unit("bond_share", self.bond_share)

    def for_agents(self, num_agents: int) -> "Kinship":
        """Check the structure for ``num_agents`` agents; return it. (Not ``validate``: that is pydantic's
        deprecated classmethod on every model, which an instance method of another signature would override.)"""
        self.check()
        return self

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        """A kinship matrix K for one episode."""
        raise NotImplementedError

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        """The matrix T applied to raw rewards, r' = T @ r: K row-normalised unless a structure says otherwise."""
        return kinship / kinship.sum(axis=1, keepdims=True)

    def draw(self, num_agents: int, rng: np.random.Generator, swap_arms: bool = False) -> Draw:
        """One episode's kinship, sharing and (structures with arms) each agent's team's share, from ``rng``: K from
        ``sample``, T from ``sharing``. ``swap_arms`` plays the same draw with the arms swapped; a structure
        without arms refuses it."""
        if swap_arms:
            raise ConfigError(f"kinship structure {self.structure!r} has no arms to swap (only a structure whose "
                              f"teams draw their share per episode has, e.g. mixed_teams)")
        kinship = self.sample(num_agents, rng)
        return Draw(kinship, self.sharing(kinship))


STRUCTURES: dict[str, type[Kinship]] = {}  # filled by the structures as they are defined (the package imports them)
SHARED = {"bond_share", "kinship_noise", "kin_threshold"}  # the fields every structure has


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
        raise ConfigError(f"kinship.{name} must be an integer >= {lo}, got {v!r}")


def _unit(name: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
        raise ConfigError(f"kinship.{name} must be a number in [0, 1], got {v!r}")
