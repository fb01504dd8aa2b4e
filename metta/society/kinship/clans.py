"""``clans``: families in clans in hives; K is the weight of the deepest group two agents share."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from metta.errors import ConfigError
from metta.society.kinship.base import Kinship, _int, _unit


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
