"""Procedural levels, and parsing of hand-written ones, as Griddly level strings.

A level is a grid of tokens separated by spaces: an object's map character, ``.``
for an empty cell, and ``<agent char><player id>`` (``A1``, ``A2``, ...) for agents.
Generation is seeded: the same options and seed give the same level string. What the
options mean (objects by count, arenas, layouts) is the options' own module,
metta.griddly_ext.map_config.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from metta.errors import ConfigError
from metta.griddly_ext.map_config import MAX_AGENTS, MAX_AGENTS_WHY, WALL, MapConfig, arena_grid


def _maze(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A perfect maze as a boolean grid (True: corridor): cells at odd coordinates, carved by a randomised
    depth-first search from a random cell, so that exactly one path joins any two corridor cells."""
    cx, cy = (w - 1) // 2, (h - 1) // 2
    open_ = np.zeros((h, w), dtype=bool)
    seen = np.zeros((cy, cx), dtype=bool)
    start = int(rng.integers(cx * cy))
    stack = [(start // cx, start % cx)]
    seen[stack[0]] = True
    open_[2 * stack[0][0] + 1, 2 * stack[0][1] + 1] = True
    draws, used = rng.random(cx * cy), 0
    while stack:
        j, i = stack[-1]
        nexts = [(j + dj, i + di) for dj, di in ((-1, 0), (1, 0), (0, -1), (0, 1))
                 if 0 <= j + dj < cy and 0 <= i + di < cx and not seen[j + dj, i + di]]
        if not nexts:
            stack.pop()
            continue
        nj, ni = nexts[int(draws[used] * len(nexts))]
        used += 1
        seen[nj, ni] = True
        open_[2 * nj + 1, 2 * ni + 1] = open_[j + nj + 1, i + ni + 1] = True
        stack.append((nj, ni))
    return open_


def _rooms(grid: np.ndarray, options: MapConfig, wall: str, rng: np.random.Generator) -> None:
    """Rectangular room outlines with one door per side."""
    h, w = grid.shape
    for _ in range(options.rooms):
        rw = int(rng.integers(3, max(4, options.room_size + 1)))
        rh = int(rng.integers(3, max(4, options.room_size + 1)))
        if rw >= w - 2 or rh >= h - 2:
            continue
        x0 = int(rng.integers(1, w - rw))
        y0 = int(rng.integers(1, h - rh))
        x1, y1 = x0 + rw - 1, y0 + rh - 1
        grid[y0, x0:x1 + 1] = wall
        grid[y1, x0:x1 + 1] = wall
        grid[y0:y1 + 1, x0] = wall
        grid[y0:y1 + 1, x1] = wall
        for (dy, dx) in ((y0, int(rng.integers(x0 + 1, x1))), (y1, int(rng.integers(x0 + 1, x1))),
                         (int(rng.integers(y0 + 1, y1)), x0), (int(rng.integers(y0 + 1, y1)), x1)):
            if 0 < dy < h - 1 and 0 < dx < w - 1:
                grid[dy, dx] = "."


def generate_level(options: MapConfig, chars: Mapping[str, str], rng: np.random.Generator, avatar: str = "agent",
                   defaults: Mapping[str, int] | None = None) -> str:
    """A level string for ``options``; ``chars`` maps object names to map characters, ``avatar`` names the agents'
    object and ``defaults`` are the game's object counts (``default_counts``)."""
    options = options.resolve(chars, avatar, defaults)
    if options.arenas == 1:
        grid = _arena(options, chars, rng, avatar, first_agent=1)
    else:
        rows, cols = arena_grid(options.arenas)
        grid = np.full((options.height, options.width), chars.get(WALL, "."), dtype=object)
        first = 1
        for k, arena in enumerate(options.arena_options()):
            y, x = (k // cols) * arena.height, (k % cols) * arena.width
            grid[y:y + arena.height, x:x + arena.width] = _arena(arena, chars, rng, avatar, first)
            first += arena.num_agents
    return "\n".join(" ".join(f"{t:<3}" for t in row).rstrip() for row in grid) + "\n"


def _arena(options: MapConfig, chars: Mapping[str, str], rng: np.random.Generator, avatar: str,
           first_agent: int) -> np.ndarray:
    """One map of resolved ``options`` as a grid of tokens, its agents numbered from ``first_agent``."""
    counts = options.objects
    assert counts is not None, "resolved options hold every placeable object's count"
    w, h = options.width, options.height
    wall = chars.get(WALL)
    grid = np.full((h, w), ".", dtype=object)
    if options.layout == "maze":
        grid[~_maze(h, w, rng)] = wall
    elif wall is not None:
        grid[0, :] = grid[-1, :] = wall
        grid[:, 0] = grid[:, -1] = wall
        _rooms(grid, options, wall, rng)

    needed = options.num_agents + sum(counts.values())
    free = np.argwhere(grid == ".")
    # random walls, leaving room for every object
    n_walls = 0
    if options.layout == "rooms" and wall is not None:
        n_walls = min(int(round(options.wall_density * len(free))), max(0, len(free) - needed))
    if n_walls:
        picks = free[rng.choice(len(free), size=n_walls, replace=False)]
        grid[picks[:, 0], picks[:, 1]] = wall
        free = np.argwhere(grid == ".")
    if needed > len(free):
        raise ConfigError(
            f"impossible map: {needed} objects do not fit in the {len(free)} free cells left by "
            f"rooms={options.rooms} on a {w}x{h} map: at most {len(free)} fit; use fewer rooms or a larger map")
    tokens = [f"{chars[avatar]}{first_agent + i}" for i in range(options.num_agents)]
    for name, count in counts.items():
        tokens += [chars[name]] * count
    if options.layout == "maze":
        cells = _dead_ends(grid == ".", needed - options.num_agents, rng)
        rest = np.argwhere(grid == ".")
        rest = rest[~(rest[:, None] == cells[None]).all(-1).any(1)] if len(cells) else rest
        picks = np.concatenate([rest[rng.choice(len(rest), size=options.num_agents, replace=False)], cells])
    else:
        picks = free[rng.choice(len(free), size=needed, replace=False)]
    for (y, x), tok in zip(picks, tokens):
        grid[y, x] = tok
    return grid


def _dead_ends(open_: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` cells (row, col) of a perfect maze's corridors ``open_`` for objects: each a dead end (one open
    neighbour, or none) of the corridors left once the cells before it are taken, and none beside a cell taken
    before (whose way in it would close). Taking a leaf from a tree leaves a tree, so the corridors stay one
    connected maze with a way to every cell taken. Among the leaves of each turn, one drawn at random. When no such
    dead end is left (a small maze, many objects), the rest stand in corridor cells drawn at random, where they may
    cut the maze."""
    open_, kept = open_.copy(), np.zeros_like(open_)
    out = []
    for _ in range(n):
        padded = np.pad(open_, 1)
        degree = padded[:-2, 1:-1].astype(int) + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
        leaves = np.argwhere(open_ & ~kept & (degree <= 1))
        if not len(leaves):
            leaves = np.argwhere(open_)
        y, x = leaves[int(rng.integers(len(leaves)))]
        open_[y, x] = False
        kept[max(y - 1, 0):y + 2, x] = kept[y, max(x - 1, 0):x + 2] = True
        out.append((y, x))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def group_agents(level: str, kin: np.ndarray, agent_char: str) -> str:
    """``level`` with its agents renumbered so that kin come in turn: the k-th agent token in number order becomes
    the k-th agent when agents are ordered by their first kin (``kin``: (N, N) bool, each agent its own kin), ties
    in number order. A team's agents thus take consecutive places (the same arena, in a map of arenas); agents
    without kin keep their numbers."""
    first = np.argmax(np.asarray(kin, dtype=bool), axis=1)
    order = np.argsort(first, kind="stable")   # place k (0-based) holds agent order[k]
    if (order == np.arange(len(order))).all():
        return level
    rows = [row.split(" ") for row in level.split("\n")]
    for row in rows:
        for c, tok in enumerate(row):
            if tok.startswith(agent_char) and tok[len(agent_char):].isdigit():
                row[c] = f"{agent_char}{order[int(tok[len(agent_char):]) - 1] + 1}"
    return "\n".join(" ".join(row) for row in rows)


def parse_level(level: str, chars: dict[str, str], agent_char: str) -> tuple[int, int, int]:
    """Check a hand-written level string; return (width, height, number of agents)."""
    if not isinstance(level, str) or not level.strip():
        raise ConfigError("level must be a non-empty string of map characters")
    known = set(chars.values()) | {"."}
    rows = [r.split() for r in level.strip("\n").splitlines() if r.strip()]
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ConfigError(f"level rows have different lengths {sorted(widths)}: "
                          f"every row needs the same number of cells")
    ids = []
    for y, row in enumerate(rows):
        for x, tok in enumerate(row):
            if tok.startswith(agent_char) and len(tok) > 1:
                if not tok[1:].isdigit() or int(tok[1:]) < 1:
                    raise ConfigError(f"level cell ({x},{y}) {tok!r}: "
                                      f"agents are written {agent_char}1, {agent_char}2, ...")
                ids.append(int(tok[1:]))
            elif tok not in known:
                raise ConfigError(f"level cell ({x},{y}) {tok!r} is not a map character of this game "
                                  f"(known: {', '.join(sorted(known))})")
    if not ids:
        raise ConfigError(f"level has no agents: write them as {agent_char}1, {agent_char}2, ...")
    if len(ids) > MAX_AGENTS:
        raise ConfigError(f"level has {len(ids)} agents: at most {MAX_AGENTS} ({MAX_AGENTS_WHY})")
    if sorted(ids) != list(range(1, len(ids) + 1)):
        raise ConfigError(f"level agents must be numbered 1..N once each, got {sorted(ids)}")
    return len(rows[0]), len(rows), len(ids)
