"""Named environments, registered in one place.

A preset is a game file, map options, a kinship structure with its parameters
(metta.society.kinship) and a mix of bodies. ``make_env(name, **kwargs)`` starts from
the preset and lets every field be overridden.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from metta.errors import UsageError
from metta.griddly_ext.gdy import DEFAULT_GAME


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    game: str = DEFAULT_GAME
    map_options: dict = field(default_factory=dict)
    kinship: dict = field(default_factory=dict)
    bodies: dict = field(default_factory=dict)  # energy-profile mix; empty: everyone has the standard body


# The default training map: 24 agents on 40x40; the objects on it are the game's own counts (map_count_<object>).
_DEFAULT_MAP = dict(width=40, height=40, num_agents=24, wall_density=0.05, rooms=0)

PRESETS: dict[str, Preset] = {}


def register(preset: Preset) -> Preset:
    if preset.name in PRESETS:
        raise ValueError(f"preset {preset.name!r} is already registered")
    PRESETS[preset.name] = preset
    return preset


register(Preset("metta-solo", "every agent for itself (selfish kinship)", map_options=dict(_DEFAULT_MAP),
                kinship=dict(structure="selfish")))
register(Preset("metta-teams", "teams of 4 sharing 80% of their reward (the seed's default)",
                map_options=dict(_DEFAULT_MAP), kinship=dict(structure="teams", team_size=4, team_reward=0.8)))
register(Preset("metta-kin", "random pairwise kinship, Beta(1, 1), RUSP-style row-normalised sharing",
                map_options=dict(_DEFAULT_MAP), kinship=dict(structure="random", a=1.0, b=1.0)))
register(Preset("metta-clans", "families of 2 in clans of 2 families in hives of 2 clans; kinship 0.8 / 0.5 / 0.2 / 0",
                map_options=dict(_DEFAULT_MAP),
                kinship=dict(structure="clans", family_size=2, families_per_clan=2, clans_per_hive=2,
                             w_family=0.8, w_clan=0.5, w_hive=0.2, w_stranger=0.0)))


def get_preset(name: str) -> Preset:
    if not isinstance(name, str) or name not in PRESETS:
        close = difflib.get_close_matches(str(name), list(PRESETS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown environment {name!r}: known presets are {', '.join(sorted(PRESETS))}{hint}")
    return PRESETS[name]
