"""How a curriculum picks its next task: by fixed weights, or where the agents' score is moving.

``LearningProgress`` follows Metta's own curriculum (after Kanitscheider et al. 2021, "Multi-task curriculum
learning in a complex, visual, hard-exploration domain: Minecraft"). Each task keeps two exponential moving averages
of its episodes' scores, a fast one and a slow one, both starting at the task's first score:

    fast <- fast + a_fast * (score - fast)          slow <- slow + a_slow * (score - slow)
    progress = |fast - slow|

A task whose score is rising or falling has fast and slow apart; a task mastered, or out of reach, has them
together. The probability of task i is

    p_i = explore * w_i + (1 - explore) * progress_i / sum_j progress_j

with ``w`` the tasks' own weights, normalised: a floor of ``explore`` is spent by weight, so that no task is ever
dropped. A task not yet scored counts as the largest progress of any task (1 while none has any), so every task
is tried early; while no task shows progress, ``p = w``.
"""
from __future__ import annotations

import numpy as np

RECENT = 0.1  # the step of the average of scores reported to TensorBoard


class WeightedSampler:
    """Tasks drawn by their weights, whatever their scores."""

    def __init__(self, weights):
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or not len(w) or (w <= 0).any() or not np.isfinite(w).all():
            raise ValueError(f"task weights must be positive numbers, got {weights!r}")
        self.weights = w / w.sum()
        self.recent = np.full(len(w), np.nan)  # each task's score, averaged with step RECENT, for the record
        self.counts = np.zeros(len(w), dtype=np.int64)

    def update(self, task: int, score: float) -> None:
        old = self.recent[task]
        self.recent[task] = float(score) if np.isnan(old) else old + RECENT * (score - old)
        self.counts[task] += 1

    def probabilities(self) -> np.ndarray:
        return self.weights

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.choice(len(self.weights), p=self.probabilities()))


class LearningProgressSampler(WeightedSampler):
    """Tasks drawn where the fast and slow averages of their scores differ most (see the module docstring)."""

    def __init__(self, weights, fast: float = 0.1, slow: float = 0.01, explore: float = 0.2):
        super().__init__(weights)
        if not 0 < slow < fast <= 1:
            raise ValueError(f"learning progress needs 0 < slow < fast <= 1, got fast={fast}, slow={slow}")
        if not 0 <= explore <= 1:
            raise ValueError(f"explore must be in [0, 1], got {explore}")
        self.a_fast, self.a_slow, self.explore = float(fast), float(slow), float(explore)
        self.fast = np.full(len(self.weights), np.nan)
        self.slow = np.full(len(self.weights), np.nan)

    def update(self, task: int, score: float) -> None:
        super().update(task, score)
        if np.isnan(self.fast[task]):
            self.fast[task] = self.slow[task] = float(score)
            return
        self.fast[task] += self.a_fast * (score - self.fast[task])
        self.slow[task] += self.a_slow * (score - self.slow[task])

    def progress(self) -> np.ndarray:
        """Each task's |fast - slow|; a task not yet scored: the largest of the others (1 when none has any)."""
        lp = np.abs(self.fast - self.slow)
        scored = ~np.isnan(lp)
        top = lp[scored].max() if scored.any() else 0.0
        lp[~scored] = top if top > 0 else 1.0
        return lp

    def probabilities(self) -> np.ndarray:
        lp = self.progress()
        if lp.sum() <= 0:
            return self.weights
        return self.explore * self.weights + (1 - self.explore) * lp / lp.sum()
