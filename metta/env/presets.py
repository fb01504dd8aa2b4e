"""Named environments, registered in one place.

A preset is an ``EnvConfig`` (metta.env.config): a game file, map options, a kinship structure with its
parameters (metta.society.kinship) and a mix of bodies. ``make_env(name, **kwargs)`` starts from the preset
and lets every field be overridden; ``make_env(PRESETS[name])`` builds it as it is.
"""
from __future__ import annotations

import difflib
import os

from metta.env.config import EnvConfig, GameConfig, MapConfig
from metta.errors import UsageError
from metta.griddly_ext.gdy import GAMES_DIR
from metta.society.kinship import Clans, MixedTeams, RandomKinship, Selfish, Teams

# The default training map: 24 agents on 40x40; the objects on it are the game's own counts (map_count_<object>).
_DEFAULT_MAP = MapConfig(width=40, height=40, num_agents=24, wall_density=0.05, rooms=0)

PRESETS: dict[str, EnvConfig] = {}
DESCRIPTIONS: dict[str, str] = {}


def register(name: str, description: str, config: EnvConfig) -> EnvConfig:
    if name in PRESETS:
        raise ValueError(f"preset {name!r} is already registered")
    PRESETS[name], DESCRIPTIONS[name] = config, description
    return config


register("metta-solo", "every agent for itself (selfish kinship)", EnvConfig(map=_DEFAULT_MAP, kinship=Selfish()))
register("metta-teams", "teams of 4 sharing 80% of their reward (the seed's default)",
         EnvConfig(map=_DEFAULT_MAP, kinship=Teams(team_size=4, team_reward=0.8)))
register("metta-kin", "random pairwise kinship, Beta(1, 1), RUSP-style row-normalised sharing",
         EnvConfig(map=_DEFAULT_MAP, kinship=RandomKinship(a=1.0, b=1.0)))
register("metta-clans", "families of 2 in clans of 2 families in hives of 2 clans; kinship 0.8 / 0.5 / 0.2 / 0",
         EnvConfig(map=_DEFAULT_MAP, kinship=Clans(family_size=2, families_per_clan=2, clans_per_hive=2,
                                                   w_family=0.8, w_clan=0.5, w_hive=0.2, w_stranger=0.0)))

register("metta-dilemma", "a social dilemma (docs/dilemma.md): scarce diamonds, no regeneration, cheap thefts, gifts "
         "that pool hearts; teams of 4 sharing all reward, no bond sharing, 24 agents on 30x30",
         EnvConfig(game=GameConfig(path=os.path.join(GAMES_DIR, "dilemma.yaml")),
                   map=MapConfig(width=30, height=30, num_agents=24, wall_density=0.05, rooms=0),
                   kinship=Teams(team_size=4, team_reward=1.0, bond_share=0.0)))

register("metta-kin-dilemma", "the kin dilemma (docs/dilemma.md): a diamond is a heart, free thefts that freeze the "
         "victim, a time-limited economy; 12 agents on 17x17 in 4 teams of 3, two sharing all reward and two none in "
         "every episode (mixed_teams)",
         EnvConfig(game=GameConfig(path=os.path.join(GAMES_DIR, "kin_dilemma.yaml")),
                   map=MapConfig(width=17, height=17, num_agents=12, wall_density=0.0, rooms=0),
                   kinship=MixedTeams(num_teams=4, arms=[0.0, 1.0], bond_share=0.0)))


def get_preset(name: str) -> EnvConfig:
    if not isinstance(name, str) or name not in PRESETS:
        close = difflib.get_close_matches(str(name), list(PRESETS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown environment {name!r}: known presets are {', '.join(sorted(PRESETS))}{hint}")
    return PRESETS[name]


def preset_game(path: str) -> bool:
    """Is ``path`` the game of a registered preset (the project's own, never probed), rather than
    a file a user names (probed once per process: metta.griddly_ext.probe)?"""
    try:
        return os.path.realpath(path) in {os.path.realpath(p.game.path) for p in PRESETS.values()}
    except (TypeError, ValueError):
        return False
