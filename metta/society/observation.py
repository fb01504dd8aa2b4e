"""Kinship in the observation: each visible agent's kinship to the observer, in the egocentric window.

Two channels are appended to every agent's window:
- ``kinship``: at each cell holding an agent, round(255 * k) where k is the
  observer's (possibly noisy) kinship to that agent; the observer's own cell holds
  255. Other cells are 0 (the ``agent`` channel tells an unrelated agent from an
  empty cell).
- ``kinship_noise``: the observer's noise level of this episode, round(255 * sigma),
  over the whole window (RUSP: agents know how uncertain their kinship view is).
- ``team_reward``, only under a structure with arms (``mixed_teams``): the observer's own team's share
  alpha of this episode, round(255 * alpha), over the whole window.

Noisy kinship (RUSP, Baker 2020): each episode every observer i draws
sigma_i ~ U(0, kinship_noise) and sees k~_ij = clip(k_ij + sigma_i * e_ij, 0, 1),
e_ij ~ N(0, 1), fixed for the episode; k~_ii = 1.

Windows are placed and rotated as Griddly's VECTOR observer does with TrackAvatar and
RotateWithAvatar: the observer at the centre, its facing direction up. An agent at
world offset (dx, dy) appears at window offset (dx, dy) when the observer faces up,
(dy, -dx) facing right, (-dx, -dy) facing down, (-dy, dx) facing left.
"""
from __future__ import annotations

import numpy as np

CHANNELS = ("kinship", "kinship_noise")
# with a structure whose teams draw their share per episode (mixed_teams), one more channel after these:
# round(255 * alpha) of the observer's own team, over the whole window (metta.env.core)
TEAM_CHANNEL = "team_reward"


def observed_kinship(kinship: np.ndarray, noise_max: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(per-observer kinship as each agent sees it, each observer's noise level) for one episode."""
    n = len(kinship)
    if noise_max <= 0:
        return kinship.copy(), np.zeros(n)
    sigma = rng.uniform(0.0, noise_max, size=n)
    seen = np.clip(kinship + sigma[:, None] * rng.standard_normal((n, n)), 0.0, 1.0)
    np.fill_diagonal(seen, 1.0)
    return seen, sigma


def quantize(values: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)


def render_kinship(out: np.ndarray, x: np.ndarray, y: np.ndarray, orientation: np.ndarray,
                   kin_q: np.ndarray, noise_q: np.ndarray) -> np.ndarray:
    """Write the two kinship channels into ``out`` (n, 2, W, H) for all observers at once.

    x, y, orientation: (n,) agent poses (orientation 0 up, 1 right, 2 down, 3 left).
    kin_q: (n, n) uint8 quantized kinship as observer i sees agent j; noise_q: (n,) uint8.
    """
    n, _, w, h = out.shape
    out[:, 0] = 0
    out[:, 1] = noise_q[:, None, None]
    dx = x[None, :].astype(np.int64) - x[:, None]
    dy = y[None, :].astype(np.int64) - y[:, None]
    o = orientation[:, None]
    wx = np.select([o == 0, o == 1, o == 2], [dx, dy, -dx], -dy)
    wy = np.select([o == 0, o == 1, o == 2], [dy, -dx, -dy], dx)
    wx += w // 2
    wy += h // 2
    visible = (wx >= 0) & (wx < w) & (wy >= 0) & (wy < h)
    i, j = np.nonzero(visible)
    out[i, 0, wx[i, j], wy[i, j]] = kin_q[i, j]
    return out
