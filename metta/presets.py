"""Named environments, registered in one place.

A preset is a game file plus map options (and, from the society layer on, social
parameters). ``make_env(name, **kwargs)`` starts from the preset and lets every
field be overridden.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from metta.errors import ConfigError
from metta.griddly_ext.gdy import DEFAULT_GAME


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    game: str = DEFAULT_GAME
    map_options: dict = field(default_factory=dict)
    kinship: dict = field(default_factory=dict)


# The default training map: 24 agents on 40x40.
_DEFAULT_MAP = dict(width=40, height=40, num_agents=24, generators=20, chargers=10, altars=5,
                    wall_density=0.05, rooms=0)

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


def get_preset(name: str) -> Preset:
    if not isinstance(name, str) or name not in PRESETS:
        close = difflib.get_close_matches(str(name), list(PRESETS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown environment {name!r}: known presets are {', '.join(sorted(PRESETS))}{hint}")
    return PRESETS[name]
