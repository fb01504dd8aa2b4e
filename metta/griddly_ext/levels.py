"""Procedural levels, and parsing of hand-written ones, as Griddly level strings.

A level is a grid of tokens separated by spaces: an object's map character, ``.``
for an empty cell, and ``<agent char><player id>`` (``A1``, ``A2``, ...) for agents.
Generation is seeded: the same options and seed give the same level string.

Procedural maps place any object of the game that has a map character (other than the
avatar) by name and count. A game declares its default counts itself, as named values
``map_count_<object>`` in ``Environment.Variables`` (``map_count_generator: 20``); the
map options' ``objects={"tree": 10}`` change them, and ``generators``, ``chargers`` and
``altars`` are kept as spellings of ``objects={"generator": ...}`` and so on. Objects are
placed in the order of the game's ``Objects`` list, after the agents.

Arenas: ``arenas=A`` splits the map into A arenas walled apart, a near-square grid of them (24 arenas: 4 rows
of 6), each generated as a map of its own (its own border, layout and walls) on its share of the map; agents
and every object are dealt out evenly (the first ``count % A`` arenas get one more), agents in order, so that
consecutive agents (a kinship team) share an arena. Cells left over at the right and bottom are walls.

Layouts: ``rooms`` (border walls, ``rooms`` rectangular rooms with a door per side, then
random walls at ``wall_density``) and ``maze`` (a perfect maze: one path between any two
corridor cells; agents and objects stand in corridor cells). Walls are the game's ``wall``
object; a game without one has no walls: the map's edge is Griddly's boundary,
``wall_density`` places nothing, and rooms and mazes are refused.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from metta.errors import ConfigError

# Griddly 1.6.7's level reader keeps an agent's player id in a 3-byte buffer with no room for a terminator:
# ids of three digits (A100 and up) overrun it, and about one game in twenty then fails to start or places
# agents at random. Two digits read safely.
MAX_AGENTS = 99
MAX_AGENTS_WHY = "Griddly 1.6.7 reads at most two-digit player ids from a level"
MAX_SIDE = 1000
# a game's default count of an object on procedural maps: the named value map_count_<object>
MAP_COUNT = "map_count_"
WALL = "wall"
LAYOUTS = ("rooms", "maze")
# the map options that count one object each (older spellings of objects={name: count})
SPELLINGS = {"generators": "generator", "chargers": "charger", "altars": "altar"}


def default_counts(named_values: Mapping[str, int]) -> dict[str, int]:
    """A game's default object counts: its named values ``map_count_<object>`` as ``{object: count}``."""
    return {k[len(MAP_COUNT):]: v for k, v in named_values.items() if k.startswith(MAP_COUNT)}


def placeable_objects(chars: Mapping[str, str], avatar: str | None) -> list[str]:
    """The objects procedural maps can place by count: every object with a map character but the avatar."""
    return [name for name in chars if name != avatar]


def _count(key: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{key} must be >= 0 (a whole number), got {value!r}")
    return int(value)


@dataclass(frozen=True)
class MapOptions:
    """How to generate a level. Every field can be passed to ``make_env`` as a keyword.

    ``objects``: ``{object name: count}`` over the game's defaults (``map_count_<object>``);
    ``generators``, ``chargers``, ``altars``: the same for those three objects (None: leave it).
    ``layout``: ``"rooms"`` or ``"maze"`` (see the module docstring; a maze ignores ``wall_density``).
    """

    width: int = 40
    height: int = 40
    num_agents: int = 24
    objects: Mapping[str, int] | None = None
    generators: int | None = None
    chargers: int | None = None
    altars: int | None = None
    layout: str = "rooms"
    wall_density: float = 0.05
    rooms: int = 0
    room_size: int = 8
    arenas: int = 1

    def validate(self, counts: Mapping[str, int] | None = None) -> "MapOptions":
        """Check the options; with ``counts`` (every object's count, see ``resolve``) also that they fit."""
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "wall_density":
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
                    raise ConfigError(f"map option wall_density must be a number in [0, 1), got {v!r}")
            elif f.name == "layout":
                if v not in LAYOUTS:
                    raise ConfigError(f"map option layout must be one of {', '.join(LAYOUTS)}, got {v!r}")
            elif f.name == "objects":
                if v is not None and not isinstance(v, Mapping):
                    raise ConfigError(f"map option objects must be a mapping of object name to count, e.g. "
                                      f"objects={{'altar': 5}}, got {v!r}")
                for name, count in (v or {}).items():
                    if not isinstance(name, str):
                        raise ConfigError(f"map option objects: object names are strings, got {name!r}")
                    _count(f"map option objects[{name!r}]", count)
            elif f.name in SPELLINGS:
                if v is not None:
                    _count(f"map option {f.name}", v)
            elif isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ConfigError(f"map option {f.name} must be an integer, got {v!r}")
        if self.width < 3 or self.height < 3:
            raise ConfigError(f"map option width/height must be at least 3 (border walls), "
                              f"got {self.width}x{self.height}")
        if self.width > MAX_SIDE or self.height > MAX_SIDE:
            raise ConfigError(f"map option width/height must be at most {MAX_SIDE}, got {self.width}x{self.height}")
        if not 1 <= self.num_agents <= MAX_AGENTS:
            raise ConfigError(f"map option num_agents must be in 1..{MAX_AGENTS} ({MAX_AGENTS_WHY}), "
                              f"got {self.num_agents}")
        if self.rooms < 0:
            raise ConfigError(f"map option rooms must be >= 0, got {self.rooms}")
        if self.rooms and self.room_size < 3:
            raise ConfigError(f"map option room_size must be at least 3, got {self.room_size}")
        if self.arenas < 1 or self.arenas > self.num_agents:
            raise ConfigError(f"map option arenas must be in 1..num_agents ({self.num_agents}): every arena holds an "
                              f"agent, got {self.arenas}")
        if self.arenas > 1:
            rows, cols = arena_grid(self.arenas)
            if self.width // cols < 3 or self.height // rows < 3:
                raise ConfigError(f"map option arenas={self.arenas} ({rows} rows of {cols}) on a {self.width}x"
                                  f"{self.height} map leaves arenas of {self.width // cols}x{self.height // rows}: "
                                  f"each needs at least 3x3 (its border walls); use fewer arenas or a larger map")
        if self.layout == "maze" and self.rooms:
            raise ConfigError(f"map option rooms={self.rooms} applies to layout 'rooms'; a maze has none (rooms=0)")
        if counts is not None:
            self._check_fit(counts, walls=True)
        return self

    def arena_options(self) -> list["MapOptions"]:
        """Each arena's own options, in the order arenas are laid out (row by row): its size, agents and objects
        (see the module docstring); ``[self]`` for a map of one arena."""
        if self.arenas == 1:
            return [self]
        rows, cols = arena_grid(self.arenas)
        counts = self.objects or {}

        def dealt(total: int, k: int) -> int:
            return total // self.arenas + (k < total % self.arenas)

        return [replace(self, width=self.width // cols, height=self.height // rows, arenas=1,
                        num_agents=dealt(self.num_agents, k), objects={n: dealt(c, k) for n, c in counts.items()})
                for k in range(self.arenas)]

    def free_cells(self, walls: bool = True) -> int:
        """Cells objects can stand on before random walls and rooms: the inside of the border, or a maze's
        corridors (a perfect maze on c cells has c cells and c - 1 passages)."""
        if self.layout == "maze":
            return 2 * ((self.width - 1) // 2) * ((self.height - 1) // 2) - 1
        if not walls:
            return self.width * self.height
        return (self.width - 2) * (self.height - 2)

    def _check_fit(self, counts: Mapping[str, int], walls: bool) -> None:
        if self.arenas > 1:
            for k, arena in enumerate(replace(self, objects=dict(counts)).arena_options()):
                try:
                    arena._check_fit(arena.objects or {}, walls)
                except ConfigError as err:
                    raise ConfigError(f"arena {k} of {self.arenas}: {err}") from None
            return
        free = self.free_cells(walls)
        needed = self.num_agents + sum(counts.values())
        if needed > free:
            parts = ", ".join([f"num_agents={self.num_agents}"] + [f"{k}={v}" for k, v in counts.items() if v])
            where = ("the corridors of" if self.layout == "maze" else
                     "the" if not walls else "the inside of the border walls of")
            raise ConfigError(
                f"impossible map: {needed} objects ({parts}) do not fit in the {free} free cells of {where} a "
                f"{self.width}x{self.height} map: at most {free} fit; use fewer objects or a larger map")

    def object_counts(self, placeable: Sequence[str], defaults: Mapping[str, int] | None = None) -> dict[str, int]:
        """Every placeable object's count, in ``placeable``'s order: the game's ``defaults``, then ``objects``,
        then the spellings ``generators``, ``chargers``, ``altars``."""
        counts = dict.fromkeys(placeable, 0)
        objects = self.objects or {}
        sources = ([(f"the game's named value {MAP_COUNT}{n}", n, c) for n, c in (defaults or {}).items()]
                   + [(f"map option objects[{n!r}]", n, c) for n, c in objects.items()]
                   + [(f"map option {k}", o, getattr(self, k)) for k, o in SPELLINGS.items()
                      if getattr(self, k) is not None])
        for key, name, count in sources:
            if name not in counts:
                close = difflib.get_close_matches(str(name), list(counts), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{key}: this game has no placeable object {name!r}{hint} (placeable: "
                                  f"{', '.join(placeable) or 'none'}; an object needs a MapCharacter, and agents are "
                                  f"placed by num_agents)")
            count = _count(key, count)
            if key.startswith("map option ") and name in objects and objects[name] != count:
                raise ConfigError(f"{key}={count} and objects[{name!r}]={objects[name]} disagree: give the count once")
            counts[name] = count
        return counts

    def resolve(self, chars: Mapping[str, str], avatar: str, defaults: Mapping[str, int] | None = None) -> "MapOptions":
        """These options for one game (``chars``: object name -> map character): ``objects`` holds every placeable
        object's count, the spellings are folded into it, and everything is checked, fit included."""
        self.validate()
        if avatar not in chars:
            raise ConfigError(f"the avatar object {avatar!r} has no MapCharacter: procedural maps need one")
        counts = self.object_counts(placeable_objects(chars, avatar), defaults)
        walls = WALL in chars
        if not walls and (self.rooms or self.layout == "maze" or self.arenas > 1):
            what = ("a maze" if self.layout == "maze" else f"rooms={self.rooms}" if self.rooms
                    else f"arenas={self.arenas}")
            raise ConfigError(f"{what} needs walls: this game has no object named {WALL!r} with a MapCharacter")
        folded: dict[str, Any] = dict.fromkeys(SPELLINGS)  # each spelling None: its count is in objects now
        out = replace(self, objects=counts, **folded)
        out._check_fit(counts, walls)
        return out


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


def _rooms(grid: np.ndarray, options: MapOptions, wall: str, rng: np.random.Generator) -> None:
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


def arena_grid(arenas: int) -> tuple[int, int]:
    """Rows and columns of ``arenas`` arenas: the most square exact grid (6: 2 x 3, 24: 4 x 6, 7: 1 x 7)."""
    rows = int(np.sqrt(arenas))
    while arenas % rows:
        rows -= 1
    return rows, arenas // rows


def generate_level(options: MapOptions, chars: Mapping[str, str], rng: np.random.Generator, avatar: str = "agent",
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


def _arena(options: MapOptions, chars: Mapping[str, str], rng: np.random.Generator, avatar: str,
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
    picks = free[rng.choice(len(free), size=needed, replace=False)]
    tokens = [f"{chars[avatar]}{first_agent + i}" for i in range(options.num_agents)]
    for name, count in counts.items():
        tokens += [chars[name]] * count
    for (y, x), tok in zip(picks, tokens):
        grid[y, x] = tok
    return grid


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
