"""Distance fields on the grid, compiled with Numba: the one shortest-path search of the scripted agents.

``distance_field(blocked, targets, out)``: for every cell, the number of steps of a shortest walk over unblocked
cells to a free cell beside (4-neighbour) one of ``targets``, all of them at once (a multi-source breadth-first
search from the free cells beside the targets); -1 where none can be reached. An agent steps downhill on it
(``downhill``): one field per kind of target and step serves every agent, instead of a search per agent.

Grids are indexed ``[x, y]`` like Griddly's global view (channels, width, height). Directions are ``(dx, dy)``
with y growing downwards.
"""
from __future__ import annotations

import numpy as np
from numba import njit

UNREACHED = -1
# (dx, dy) of each of Griddly's orientations, and the rotate action's input that faces each direction
FACING = {"UP": (0, -1), "RIGHT": (1, 0), "DOWN": (0, 1), "LEFT": (-1, 0)}
ROTATE_TO = {(-1, 0): 1, (0, -1): 2, (1, 0): 3, (0, 1): 4}  # face left, up, right, down
# the global view's orientations in order (metta.griddly_ext.engine.poses: 0 up, 1 right, 2 down, 3 left)
ORIENTATIONS = ((0, -1), (1, 0), (0, 1), (-1, 0))
DIRECTIONS = tuple(ROTATE_TO)  # the order in which neighbours are looked at
_DX = np.array([d[0] for d in DIRECTIONS], dtype=np.int64)
_DY = np.array([d[1] for d in DIRECTIONS], dtype=np.int64)


@njit(cache=True, nogil=True)
def _field(blocked, tx, ty, dx, dy, out, queue):  # pragma: no cover (compiled)
    w, h = blocked.shape
    out[:, :] = -1
    head, tail = 0, 0
    for k in range(tx.shape[0]):
        for d in range(4):
            x, y = tx[k] + dx[d], ty[k] + dy[d]
            if 0 <= x < w and 0 <= y < h and not blocked[x, y] and out[x, y] < 0:
                out[x, y] = 0
                queue[tail] = x * h + y
                tail += 1
    while head < tail:
        c = queue[head]
        head += 1
        x, y = c // h, c % h
        nd = out[x, y] + 1
        for d in range(4):
            nx, ny = x + dx[d], y + dy[d]
            if 0 <= nx < w and 0 <= ny < h and not blocked[nx, ny] and out[nx, ny] < 0:
                out[nx, ny] = nd
                queue[tail] = nx * h + ny
                tail += 1
    return out


def distance_field(blocked: np.ndarray, targets, out: np.ndarray | None = None) -> np.ndarray:
    """Steps from each cell of ``blocked`` (bool ``[x, y]``) to the nearest unblocked cell beside one of
    ``targets`` ((x, y) pairs), walking over unblocked cells; ``UNREACHED`` (-1) where no such walk exists and on
    blocked cells. ``out``: an int32 array of ``blocked``'s shape to fill (a new one when None)."""
    blocked = np.ascontiguousarray(blocked, dtype=np.bool_)
    t = np.asarray(targets, dtype=np.int64).reshape(-1, 2)
    if out is None:
        out = np.empty(blocked.shape, dtype=np.int32)
    queue = np.empty(blocked.size, dtype=np.int64)
    return _field(blocked, np.ascontiguousarray(t[:, 0]), np.ascontiguousarray(t[:, 1]), _DX, _DY, out, queue)


def distance_at(field: np.ndarray, cell, goal: bool) -> int:
    """The field's value for an agent standing at ``cell`` (a cell the field holds as blocked, since the agent is
    on it): 0 when ``goal`` (the cell is beside a target), else one more than its nearest reached neighbour;
    ``UNREACHED`` when no neighbour is reached."""
    if goal:
        return 0
    best = UNREACHED
    w, h = field.shape
    for dx, dy in DIRECTIONS:
        x, y = cell[0] + dx, cell[1] + dy
        if 0 <= x < w and 0 <= y < h and field[x, y] >= 0 and (best < 0 or field[x, y] + 1 < best):
            best = int(field[x, y]) + 1
    return best


def downhill(field: np.ndarray, cell, rng: np.random.Generator | None = None) -> list[tuple[int, int]]:
    """The directions from ``cell`` to its reached neighbours nearest to a target (ties: all of them, shuffled by
    ``rng`` when given, else in ``DIRECTIONS`` order); [] when no neighbour is reached."""
    w, h = field.shape
    best, out = None, []
    for d in DIRECTIONS:
        x, y = cell[0] + d[0], cell[1] + d[1]
        if 0 <= x < w and 0 <= y < h and field[x, y] >= 0:
            v = int(field[x, y])
            if best is None or v < best:
                best, out = v, [d]
            elif v == best:
                out.append(d)
    if rng is not None and len(out) > 1:
        out = [out[k] for k in rng.permutation(len(out))]
    return out
