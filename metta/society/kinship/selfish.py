"""``selfish``: every agent for itself, K = I, T = I."""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from metta.society.kinship.base import Kinship


class Selfish(Kinship):
    structure: Literal["selfish"] = Field("selfish", description="every agent for itself: K = I, T = I")

    def sample(self, num_agents: int, rng: np.random.Generator) -> np.ndarray:
        return np.eye(num_agents)

    def sharing(self, kinship: np.ndarray) -> np.ndarray:
        return np.eye(len(kinship))
