"""Procedural levels, and parsing of hand-written ones, as Griddly level strings.

A level is a grid of tokens separated by spaces: an object's map character, ``.``
for an empty cell, and ``<agent char><player id>`` (``A1``, ``A2``, ...) for agents.
Generation is seeded: the same options and seed give the same level string.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from metta.errors import ConfigError

# Griddly 1.6.7's level reader keeps an agent's player id in a 3-byte buffer with no room for a terminator:
# ids of three digits (A100 and up) overrun it, and about one game in twenty then fails to start or places
# agents at random. Two digits read safely.
MAX_AGENTS = 99
MAX_AGENTS_WHY = "Griddly 1.6.7 reads at most two-digit player ids from a level"


@dataclass(frozen=True)
class MapOptions:
    """How to generate a level. Every field can be passed to ``make_env`` as a keyword."""

    width: int = 40
    height: int = 40
    num_agents: int = 24
    generators: int = 20
    chargers: int = 10
    altars: int = 5
    wall_density: float = 0.05
    rooms: int = 0
    room_size: int = 8

    def validate(self) -> "MapOptions":
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "wall_density":
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
                    raise ConfigError(f"map option wall_density must be a number in [0, 1), got {v!r}")
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ConfigError(f"map option {f.name} must be an integer, got {v!r}")
        if self.width < 3 or self.height < 3:
            raise ConfigError(f"map option width/height must be at least 3 (border walls), got {self.width}x{self.height}")
        if self.width > 1000 or self.height > 1000:
            raise ConfigError(f"map option width/height must be at most 1000, got {self.width}x{self.height}")
        if not 1 <= self.num_agents <= MAX_AGENTS:
            raise ConfigError(f"map option num_agents must be in 1..{MAX_AGENTS} ({MAX_AGENTS_WHY}), "
                              f"got {self.num_agents}")
        for name in ("generators", "chargers", "altars", "rooms"):
            if getattr(self, name) < 0:
                raise ConfigError(f"map option {name} must be >= 0, got {getattr(self, name)}")
        if self.rooms and self.room_size < 3:
            raise ConfigError(f"map option room_size must be at least 3, got {self.room_size}")
        inner = (self.width - 2) * (self.height - 2)
        needed = self.num_agents + self.generators + self.chargers + self.altars
        if needed > inner:
            raise ConfigError(
                f"impossible map: {needed} objects (num_agents={self.num_agents}, generators={self.generators}, "
                f"chargers={self.chargers}, altars={self.altars}) do not fit in the {inner} free cells of a "
                f"{self.width}x{self.height} map with border walls")
        return self


def generate_level(options: MapOptions, chars: dict[str, str], rng: np.random.Generator) -> str:
    """A level string for ``options``; ``chars`` maps object names to map characters."""
    options.validate()
    w, h = options.width, options.height
    wall = chars["wall"]
    grid = np.full((h, w), ".", dtype=object)
    grid[0, :] = grid[-1, :] = wall
    grid[:, 0] = grid[:, -1] = wall

    # rooms: rectangular outlines with one door per side
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

    needed = options.num_agents + options.generators + options.chargers + options.altars
    free = np.argwhere(grid == ".")
    # random walls, leaving room for every object
    n_walls = min(int(round(options.wall_density * len(free))), max(0, len(free) - needed))
    if n_walls:
        picks = free[rng.choice(len(free), size=n_walls, replace=False)]
        grid[picks[:, 0], picks[:, 1]] = wall
        free = np.argwhere(grid == ".")
    if needed > len(free):
        raise ConfigError(
            f"impossible map: {needed} objects do not fit in the {len(free)} free cells left by "
            f"rooms={options.rooms} on a {w}x{h} map; use fewer rooms or a larger map")
    picks = free[rng.choice(len(free), size=needed, replace=False)]
    tokens = [f"{chars['agent']}{i + 1}" for i in range(options.num_agents)]
    tokens += [chars["generator"]] * options.generators
    tokens += [chars["charger"]] * options.chargers
    tokens += [chars["altar"]] * options.altars
    for (y, x), tok in zip(picks, tokens):
        grid[y, x] = tok
    return "\n".join(" ".join(f"{t:<3}" for t in row).rstrip() for row in grid) + "\n"


def parse_level(level: str, chars: dict[str, str], agent_char: str) -> tuple[int, int, int]:
    """Check a hand-written level string; return (width, height, number of agents)."""
    if not isinstance(level, str) or not level.strip():
        raise ConfigError("level must be a non-empty string of map characters")
    known = set(chars.values()) | {"."}
    rows = [r.split() for r in level.strip("\n").splitlines() if r.strip()]
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ConfigError(f"level rows have different lengths {sorted(widths)}: every row needs the same number of cells")
    ids = []
    for y, row in enumerate(rows):
        for x, tok in enumerate(row):
            if tok.startswith(agent_char) and len(tok) > 1:
                if not tok[1:].isdigit() or int(tok[1:]) < 1:
                    raise ConfigError(f"level cell ({x},{y}) {tok!r}: agents are written {agent_char}1, {agent_char}2, ...")
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
