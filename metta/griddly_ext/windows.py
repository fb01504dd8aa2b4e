"""Every agent's egocentric window, cut from one global observation in one batched call.

Griddly's per-player VECTOR observers render each agent's window separately, in C++,
one Python call per agent: most of a step's time. Here the engine renders only its
global VECTOR view (objects, player ids, orientations, variables) and a backend cuts
all agents' windows out of it at once:

- ``NumpyWindows``: one fancy-index gather on the CPU (this module);
- ``VulkanWindows``: the same computation as a compute shader (``metta.griddly_ext.vulkan_windows``).

Both produce exactly what Griddly's per-player observer would (``TrackAvatar`` and
``RotateWithAvatar``), plus two observer-relative channels the caller fills from tables
(the society layer uses them for kinship).

The computation (the contract every backend implements)
------------------------------------------------------
Inputs: ``global_obs`` (Cg, W, H) uint8 as Griddly's VECTOR observer returns it: element
``[c, gx, gy]`` at byte ``(gy * W + gx) * Cg + c`` (channels fastest). Per agent ``i``:
its cell ``(x[i], y[i])``, its facing ``orientation[i]`` (0 up, 1 right, 2 down, 3 left;
Griddly's NONE counts as up), a table row ``agent_table[i]`` (n + 1,) and a value
``observer_fill[i]``.

For window cell ``(ox, oy)`` (``0 <= ox < w``, ``0 <= oy < h``), with ``u = ox - w // 2``
and ``v = oy - h // 2``, the world cell ``(gx, gy)`` is (as Griddly's VectorObserver
walks it):

    facing up:    (x + u, y + v)        facing right: (x - v, y + u)
    facing down:  (x - u, y - v)        facing left:  (x + v, y - u)

(always "up" when the window does not rotate). The output ``out[i, oy, ox, k]`` is

- ``k < K``: ``global_obs[keep[k], gx, gy]``, or 0 when ``(gx, gy)`` is off the grid;
- ``k == K``: ``agent_table[i, p]`` where ``p`` is the player id (1..n) of the agent at
  ``(gx, gy)``, 0 when there is none or the cell is off the grid (``agent_table[:, 0]``
  is what an empty cell shows);
- ``k == K + 1``: ``observer_fill[i]``.

``out`` is (n, h, w, K + 2) uint8, C-contiguous; ``out[i].transpose(2, 1, 0)`` is agent
``i``'s observation in Griddly's (channel, x, y) layout.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (dx, dy) as a function of (u, v), per facing: see the module docstring.
_ROTATIONS = (
    lambda u, v: (u, v),     # up
    lambda u, v: (-v, u),    # right
    lambda u, v: (-u, -v),   # down
    lambda u, v: (v, -u),    # left
)


@dataclass(frozen=True)
class WindowLayout:
    """What the backends need to know about the global view and the windows cut from it."""

    grid_width: int
    grid_height: int
    global_channels: int          # Cg
    keep: tuple[int, ...]         # global channels copied into the window, in window order
    window_width: int
    window_height: int
    rotate: bool = True           # RotateWithAvatar

    @property
    def channels(self) -> int:
        """Channels of the output: the kept ones plus the agent-table and observer-fill channels."""
        return len(self.keep) + 2

    def offsets(self) -> np.ndarray:
        """(4, h, w, 2) int: the world offset (dx, dy) of each window cell, per facing."""
        w, h = self.window_width, self.window_height
        v, u = np.meshgrid(np.arange(h) - h // 2, np.arange(w) - w // 2, indexing="ij")
        facings = _ROTATIONS if self.rotate else _ROTATIONS[:1] * 4
        return np.stack([np.stack(f(u, v), axis=-1) for f in facings]).astype(np.int64)


class NumpyWindows:
    """The CPU backend: pad the global view once, then gather all windows with one index array.

    Per step: the kept channels of the global view are copied into a zero-padded grid
    (pad = half the window, so off-grid cells read zeros) with one extra channel holding
    each cell's agent id; every window cell of every agent is then one row index into that
    grid, computed as the agent's own row plus a per-facing offset table. The copy moves
    each run of consecutive kept channels as one fixed-size field per cell (a structured
    view), several times faster than a strided byte copy.
    """

    name = "numpy"

    def __init__(self, layout: WindowLayout, num_agents: int):
        self.layout = layout
        self.n = int(num_agents)
        w, h = layout.window_width, layout.window_height
        self.pad = max(w, h) // 2
        self.row = layout.grid_width + 2 * self.pad
        k = len(layout.keep)
        self._grid = np.zeros((layout.grid_height + 2 * self.pad, self.row, k + 2), dtype=np.uint8)
        self._inner = self._grid[self.pad:self.pad + layout.grid_height, self.pad:self.pad + layout.grid_width]
        self._rows = self._grid.reshape(-1, k + 2)
        off = layout.offsets()
        self._offsets = off[..., 1] * self.row + off[..., 0]  # (4, h, w) row offsets
        # observer i's row of the flattened agent table starts at i * (n + 1)
        self._table_rows = (np.arange(self.n) * (self.n + 1))[:, None, None]
        # the kept channels as a few contiguous runs, each copied as one fixed-size field per cell
        keep = np.asarray(layout.keep)
        breaks = np.flatnonzero(np.diff(keep) != 1) + 1
        runs = [(int(r[0]), len(r), int(j)) for r, j in zip(np.split(keep, breaks), np.concatenate([[0], breaks]))]
        names = [f"run{i}" for i in range(len(runs))]
        self._cell = np.dtype({"names": names, "formats": [f"V{n}" for _, n, _ in runs],
                               "offsets": [start for start, _, _ in runs], "itemsize": layout.global_channels})
        padded = np.dtype({"names": names, "formats": [f"V{n}" for _, n, _ in runs],
                           "offsets": [at for _, _, at in runs], "itemsize": k + 2})
        inner = self._inner.view(padded)
        self._fields = [(name, inner[name]) for name in names]
        self._ids = self._rows[:, k]                    # each cell's player id (0: none), as a flat view
        self._players = np.arange(1, self.n + 1, dtype=np.uint8)
        self._last = np.zeros(self.n, dtype=np.int64)  # the cells whose ids the last render set

    def render(self, global_obs: np.ndarray, x: np.ndarray, y: np.ndarray, orientation: np.ndarray,
               agent_table: np.ndarray, observer_fill: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        k = len(self.layout.keep)
        cells = global_obs.transpose(2, 1, 0).view(self._cell)  # (H, W, 1) fields: no copy
        for name, field in self._fields:
            field[...] = cells[name]
        base = (y + self.pad) * self.row + (x + self.pad)
        ids = self._ids
        ids[self._last] = 0
        ids[base] = self._players
        self._last = base
        if out is None:
            out = np.empty((self.n, self.layout.window_height, self.layout.window_width, k + 2), dtype=np.uint8)
        np.take(self._rows, self._offsets[orientation] + base[:, None, None], axis=0, out=out)
        out[..., k] = self._table_flat(agent_table).take(out[..., k] + self._table_rows)
        out[..., k + 1] = observer_fill[:, None, None]
        return out

    @staticmethod
    def _table_flat(table: np.ndarray) -> np.ndarray:
        return table.reshape(-1)

    def close(self) -> None:
        pass
