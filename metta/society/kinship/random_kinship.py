"""``random``: pairwise kinship K[i, j] ~ Beta(a, b), as in RUSP (Baker 2020); T is K row-normalised."""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from metta.errors import ConfigError
from metta.society.kinship.base import Kinship


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
