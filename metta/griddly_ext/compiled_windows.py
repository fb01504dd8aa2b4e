"""The windows contract (metta.griddly_ext.windows) and the agents' poses, compiled with Numba.

``NumpyWindows`` spends most of its time in NumPy's per-call overhead, not in moving bytes:
at 24 agents a window render is a dozen array calls over a few tens of kilobytes each. Here
one compiled loop reads the global view in place (off-grid cells are a bounds check instead
of a padded copy) and writes every agent's window in one pass; ``poses`` reads every agent's
cell and facing from the global view in another. Both compile once per machine (Numba's
on-disk cache) and release the GIL.

``CompiledWindows.render`` takes and returns exactly what ``NumpyWindows.render`` does, byte
for byte (tests/test_observation_backends.py holds both to Griddly's own observers).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from metta.griddly_ext.windows import WindowLayout


@njit(cache=True, nogil=True)
def _render(cells, xs, ys, facing, offsets, keep, table, fill, ids, out):  # pragma: no cover (compiled)
    n = xs.shape[0]
    height, width = cells.shape[0], cells.shape[1]
    k_kept = keep.shape[0]
    h, w = offsets.shape[1], offsets.shape[2]
    for i in range(n):
        ids[ys[i], xs[i]] = i + 1
    for i in range(n):
        f, x, y, fi = facing[i], xs[i], ys[i], fill[i]
        for oy in range(h):
            for ox in range(w):
                gx = x + offsets[f, oy, ox, 0]
                gy = y + offsets[f, oy, ox, 1]
                if 0 <= gx < width and 0 <= gy < height:
                    for k in range(k_kept):
                        out[i, oy, ox, k] = cells[gy, gx, keep[k]]
                    out[i, oy, ox, k_kept] = table[i, ids[gy, gx]]
                else:
                    for k in range(k_kept):
                        out[i, oy, ox, k] = 0
                    out[i, oy, ox, k_kept] = table[i, 0]
                out[i, oy, ox, k_kept + 1] = fi
    for i in range(n):
        ids[ys[i], xs[i]] = 0


@njit(cache=True, nogil=True)
def _poses(cells, avatar, ids_start, n, facing_start, xs, ys, facing):  # pragma: no cover (compiled)
    """Fill every player's cell and facing; return how many avatar cells the view shows."""
    height, width = cells.shape[0], cells.shape[1]
    found = 0
    for gy in range(height):
        for gx in range(width):
            if cells[gy, gx, avatar] == 0:
                continue
            found += 1
            owner, best = 0, cells[gy, gx, ids_start]
            for j in range(1, n):  # the first largest, as argmax
                v = cells[gy, gx, ids_start + j]
                if v > best:
                    owner, best = j, v
            f, best = 0, cells[gy, gx, facing_start]
            for j in range(1, 4):
                v = cells[gy, gx, facing_start + j]
                if v > best:
                    f, best = j, v
            xs[owner], ys[owner], facing[owner] = gx, gy, f
    return found


def poses(view: np.ndarray, avatar: int, ids_start: int, num_players: int, facing_start: int):
    """``(x, y, facing)`` int64 arrays in player order from a global VECTOR view ``(C, W, H)`` (Griddly's buffer,
    channels fastest); raises RuntimeError unless the view shows exactly one avatar cell per player."""
    x = np.zeros(num_players, dtype=np.int64)
    y = np.zeros(num_players, dtype=np.int64)
    f = np.zeros(num_players, dtype=np.int64)
    found = _poses(view.transpose(2, 1, 0), avatar, ids_start, num_players, facing_start, x, y, f)
    if found != num_players:  # agents block each other: n cells, one player id each
        raise RuntimeError(f"the global view shows {found} agents for {num_players} players")
    return x, y, f


class CompiledWindows:
    """The compiled CPU backend (see the module docstring)."""

    name = "numba"

    def __init__(self, layout: WindowLayout, num_agents: int):
        self.layout = layout
        self.n = int(num_agents)
        self._offsets = np.ascontiguousarray(layout.offsets())
        self._keep = np.asarray(layout.keep, dtype=np.int64)
        self._ids = np.zeros((layout.grid_height, layout.grid_width), dtype=np.int64)

    def render(self, global_obs: np.ndarray, x: np.ndarray, y: np.ndarray, orientation: np.ndarray,
               agent_table: np.ndarray, observer_fill: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        lay = self.layout
        if out is None:
            out = np.empty((self.n, lay.window_height, lay.window_width, lay.channels), dtype=np.uint8)
        cells = global_obs.transpose(2, 1, 0)
        if self._ids.shape != cells.shape[:2]:  # a level of another size
            self._ids = np.zeros(cells.shape[:2], dtype=np.int64)
        _render(cells, np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64),
                np.asarray(orientation, dtype=np.int64), self._offsets, self._keep, agent_table,
                np.asarray(observer_fill), self._ids, out)
        return out

    def close(self) -> None:
        pass
