"""The map generator's typed options, ``MapConfig`` (the ``map`` of the env's config, metta.env.config), and what
they mean for one game: every placeable object's count, and whether the map can hold them.

Procedural maps place any object of the game that has a map character (other than the avatar) by name and count.
A game declares its default counts itself, as named values ``map_count_<object>`` in ``Environment.Variables``
(``map_count_generator: 20``); ``objects={"tree": 10}`` changes them. ``generators``, ``chargers`` and ``altars``
are older spellings of ``objects.generator`` and so on (aliases, metta.config). Objects are placed in the order
of the game's ``Objects`` list, after the agents (metta.griddly_ext.levels).

Arenas: ``arenas=A`` splits the map into A arenas walled apart, a near-square grid of them (24 arenas: 4 rows
of 6), each generated as a map of its own (its own border, layout and walls) on its share of the map; agents
and every object are dealt out evenly (the first ``count % A`` arenas get one more), agents in order. The env then
numbers the agents so that kin share an arena (metta.griddly_ext.levels.group_agents, once its reset has drawn the
kinship: a team of 4 fills an arena of 4, or two of 2). Cells left over at the right and bottom are walls.

Layouts: ``rooms`` (border walls, ``rooms`` rectangular rooms with a door per side, then random walls at
``wall_density``) and ``maze`` (a perfect maze: one path between any two corridor cells; agents stand in corridor
cells, and objects in its dead ends while there are dead ends for them, so that every object and corridor cell
stays reachable from every other: an object in a corridor would cut the maze in two). Walls are the game's
``wall`` object; a game without one has no walls: the map's edge is Griddly's boundary, ``wall_density`` places
nothing, and rooms and mazes are refused.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np
from pydantic import Field, field_validator, model_validator

from metta.config import ConfigModel, plain
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
# the older keys that count one object each: spellings of objects.<name>
SPELLINGS = {"generators": "generator", "chargers": "charger", "altars": "altar"}


def default_counts(named_values: Mapping[str, int]) -> dict[str, int]:
    """A game's default object counts: its named values ``map_count_<object>`` as ``{object: count}``."""
    return {k[len(MAP_COUNT):]: v for k, v in named_values.items() if k.startswith(MAP_COUNT)}


def placeable_objects(chars: Mapping[str, str], avatar: str | None) -> list[str]:
    """The objects procedural maps can place by count: every object with a map character but the avatar."""
    return [name for name in chars if name != avatar]


def arena_grid(arenas: int) -> tuple[int, int]:
    """Rows and columns of ``arenas`` arenas: the most square exact grid (6: 2 x 3, 24: 4 x 6, 7: 1 x 7)."""
    rows = int(np.sqrt(arenas))
    while arenas % rows:
        rows -= 1
    return rows, arenas // rows


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{key} must be >= 0 (a whole number), got {value!r}")
    return value


class MapConfig(ConfigModel):
    """How procedural levels are generated (see the module docstring)."""

    aliases = {spelling: f"objects.{name}" for spelling, name in SPELLINGS.items()}

    width: int = Field(40, description=f"map width in cells, border walls included (3..{MAX_SIDE})")
    height: int = Field(40, description=f"map height in cells, border walls included (3..{MAX_SIDE})")
    num_agents: int = Field(24, description=f"agents on procedural maps (1..{MAX_AGENTS}: Griddly reads two-digit "
                                            f"player ids)")
    objects: dict[str, int] | None = Field(None, description="how many of each object procedural maps place, "
                                                             "{name: count}, over the game's map_count_<object> "
                                                             "(objects.generator: 4; generators: 4 spells the same)")
    layout: Literal["rooms", "maze"] = Field("rooms", description="rooms (border, rooms, random walls) or maze (a "
                                                                  "perfect maze; ignores wall_density)")
    wall_density: float = Field(0.05, description="the share of free cells that become walls, in [0, 1)")
    rooms: int = Field(0, description="rectangular rooms with a door per side (layout rooms)")
    room_size: int = Field(8, description="the side of a room, at least 3")
    arenas: int = Field(1, description="arenas the map is split into, walled apart, agents and objects dealt out "
                                       "evenly, each laid out as a map of its own (1: one map)")

    @model_validator(mode="before")
    @classmethod
    def _spellings(cls, data: Any) -> Any:
        """``generators: 4`` (and chargers, altars) as ``objects.generator: 4``; None leaves the game's count."""
        if not isinstance(data, dict):
            return data
        data = plain(dict(data))
        spelled = {name: (spelling, data.pop(spelling)) for spelling, name in SPELLINGS.items() if spelling in data}
        spelled = {name: sv for name, sv in spelled.items() if sv[1] is not None}
        if spelled:
            objects = data.get("objects")
            objects = dict(objects) if isinstance(objects, Mapping) else {}
            for name, (spelling, count) in spelled.items():
                if name in objects and objects[name] != count:
                    raise ConfigError(f"map.{spelling}={count} and map.objects.{name}={objects[name]} disagree: "
                                      f"give the count once")
                objects[name] = count
            data["objects"] = objects
        return data

    @field_validator("objects")
    @classmethod
    def _counts(cls, v: dict[str, int] | None) -> dict[str, int] | None:
        for name, count in (v or {}).items():
            _count(f"map.objects.{name}", count)
        return v

    @model_validator(mode="after")
    def _checked(self):
        if not 0.0 <= self.wall_density < 1.0:
            raise ConfigError(f"map.wall_density must be a number in [0, 1), got {self.wall_density!r}")
        if self.width < 3 or self.height < 3:
            raise ConfigError(f"map.width and map.height must be at least 3 (border walls), "
                              f"got {self.width}x{self.height}")
        if self.width > MAX_SIDE or self.height > MAX_SIDE:
            raise ConfigError(f"map.width and map.height must be at most {MAX_SIDE}, got {self.width}x{self.height}")
        if not 1 <= self.num_agents <= MAX_AGENTS:
            raise ConfigError(f"map.num_agents must be in 1..{MAX_AGENTS} ({MAX_AGENTS_WHY}), "
                              f"got {self.num_agents}")
        if self.rooms < 0:
            raise ConfigError(f"map.rooms must be >= 0, got {self.rooms}")
        if self.rooms and self.room_size < 3:
            raise ConfigError(f"map.room_size must be at least 3, got {self.room_size}")
        if self.arenas < 1 or self.arenas > self.num_agents:
            raise ConfigError(f"map.arenas must be in 1..map.num_agents ({self.num_agents}): every arena holds an "
                              f"agent, got {self.arenas}")
        if self.arenas > 1:
            rows, cols = arena_grid(self.arenas)
            if self.width // cols < 3 or self.height // rows < 3:
                raise ConfigError(f"map.arenas={self.arenas} ({rows} rows of {cols}) on a {self.width}x"
                                  f"{self.height} map leaves arenas of {self.width // cols}x{self.height // rows}: "
                                  f"each needs at least 3x3 (its border walls); use fewer arenas or a larger map")
        if self.layout == "maze" and self.rooms:
            raise ConfigError(f"map.rooms={self.rooms} applies to map.layout 'rooms'; a maze has none (map.rooms=0)")
        return self

    def arena_options(self) -> list["MapConfig"]:
        """Each arena's own options, in the order arenas are laid out (row by row): its size, agents and objects
        (see the module docstring); ``[self]`` for a map of one arena."""
        if self.arenas == 1:
            return [self]
        rows, cols = arena_grid(self.arenas)
        counts = self.objects or {}

        def dealt(total: int, k: int) -> int:
            return total // self.arenas + (k < total % self.arenas)

        return [self.model_copy(update=dict(width=self.width // cols, height=self.height // rows, arenas=1,
                                            num_agents=dealt(self.num_agents, k),
                                            objects={n: dealt(c, k) for n, c in counts.items()}))
                for k in range(self.arenas)]

    def free_cells(self, walls: bool = True) -> int:
        """Cells objects can stand on before random walls and rooms: the inside of the border, or a maze's
        corridors (a perfect maze on c cells has c cells and c - 1 passages)."""
        if self.layout == "maze":
            return 2 * ((self.width - 1) // 2) * ((self.height - 1) // 2) - 1
        if not walls:
            return self.width * self.height
        return (self.width - 2) * (self.height - 2)

    def check_fit(self, counts: Mapping[str, int], walls: bool = True) -> None:
        """ConfigError unless the agents and ``counts`` objects fit, in every arena."""
        if self.arenas > 1:
            for k, arena in enumerate(self.model_copy(update={"objects": dict(counts)}).arena_options()):
                try:
                    arena.check_fit(arena.objects or {}, walls)
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
        """Every placeable object's count, in ``placeable``'s order: the game's ``defaults``, then ``objects``."""
        counts = dict.fromkeys(placeable, 0)
        sources = ([(f"the game's named value {MAP_COUNT}{n}", n, c) for n, c in (defaults or {}).items()]
                   + [(f"map.objects.{n}", n, c) for n, c in (self.objects or {}).items()])
        for key, name, count in sources:
            if name not in counts:
                close = difflib.get_close_matches(str(name), list(counts), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{key}: this game has no placeable object {name!r}{hint} (placeable: "
                                  f"{', '.join(placeable) or 'none'}; an object needs a MapCharacter, and agents are "
                                  f"placed by num_agents)")
            counts[name] = _count(key, count)
        return counts

    def resolve(self, chars: Mapping[str, str], avatar: str, defaults: Mapping[str, int] | None = None) -> "MapConfig":
        """These options for one game (``chars``: object name -> map character): ``objects`` holds every placeable
        object's count, and everything is checked, fit included."""
        if avatar not in chars:
            raise ConfigError(f"the avatar object {avatar!r} has no MapCharacter: procedural maps need one")
        counts = self.object_counts(placeable_objects(chars, avatar), defaults)
        walls = WALL in chars
        if not walls and (self.rooms or self.layout == "maze" or self.arenas > 1):
            what = ("a maze" if self.layout == "maze" else f"rooms={self.rooms}" if self.rooms
                    else f"arenas={self.arenas}")
            raise ConfigError(f"{what} needs walls: this game has no object named {WALL!r} with a MapCharacter")
        self.check_fit(counts, walls)
        return self.model_copy(update={"objects": counts})


LAYOUTS = get_args(MapConfig.model_fields["layout"].annotation)
