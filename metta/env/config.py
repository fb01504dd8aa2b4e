"""The env's one typed config: ``EnvConfig`` says everything ``make_env`` builds an env from.

    EnvConfig(game=GameConfig(path=..., overrides={"attack.cost": 20}),
              map=MapConfig(width=40, height=40, num_agents=24, ...),
              kinship=Teams(team_size=4, team_reward=0.8),      # any structure of metta.society.kinship
              bodies=BodiesConfig(mix={"light": 1, "heavy": 1}),
              obs_backend="numba", max_steps=None, level=None)

Every field has a description (Sample Factory's flags take their help from them, metta.sf_integration.config).
Unknown keys are refused, values are not coerced, and a bad value raises ConfigError naming the dotted key
(``map.width``, ``kinship.team_reward``) and what was expected. ``kinship`` is told apart by its ``structure``;
a dict without one is ``selfish``. A config dumps to JSON and loads back equal (``model_dump`` /
``EnvConfig.model_validate``): that is what a training run keeps in its ``config.json``.

The named presets are EnvConfig instances (metta.env.presets); ``configure(base, **keywords)`` is the
keyword convenience of ``make_env`` (``team_reward=0.5``, ``width=20``, ``kinship={"structure": "random"}``...)
applied to a config.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

import numpy as np
from pydantic import Field, field_validator, model_validator

from metta.env.backends import check_backend
from metta.config import ConfigModel
from metta.errors import ConfigError
from metta.griddly_ext.gdy import DEFAULT_GAME
from metta.griddly_ext.levels import LAYOUTS, MapOptions
from metta.society.bodies import BodyMix
from metta.society.kinship import SHARED, STRUCTURES, Kinship, Selfish


def _plain(value: Any) -> Any:
    """NumPy scalars (a sweep's or a curriculum's draws) as Python numbers, inside dicts and lists too."""
    if isinstance(value, np.generic) and not isinstance(value, np.bool_):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class GameConfig(ConfigModel):
    path: str = Field(DEFAULT_GAME, description="the GDY game file (default: the preset's, games/metta.yaml); it "
                                                "needs an avatar object and an action that moves it")
    overrides: dict[str, int] = Field(default_factory=dict,
                                      description="changes to the game's named values, {name: integer}; a name may "
                                                  "be spelled attack_cost or attack.cost")

    @field_validator("overrides", mode="before")
    @classmethod
    def _whole(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, Mapping):
            raise ConfigError(f"overrides must be a mapping of named value to integer, got {type(v).__name__}")
        return {k: int(x) if isinstance(x, float) and x.is_integer() else x for k, x in _plain(dict(v)).items()}


class MapConfig(ConfigModel):
    """The fields of metta.griddly_ext.levels.MapOptions (the level generator's own), described."""

    width: int = Field(40, description="map width in cells, border walls included (3..1000)")
    height: int = Field(40, description="map height in cells, border walls included (3..1000)")
    num_agents: int = Field(24, description="agents on procedural maps (1..99: Griddly reads two-digit player ids)")
    objects: dict[str, int] | None = Field(None, description="how many of each object procedural maps place, "
                                                             "{name: count}, over the game's map_count_<object>")
    generators: int | None = Field(None, description="generators on the map: objects={'generator': N} spelled "
                                                     "otherwise (default: the game's count)")
    chargers: int | None = Field(None, description="chargers on the map: objects={'charger': N} spelled otherwise")
    altars: int | None = Field(None, description="altars on the map: objects={'altar': N} spelled otherwise")
    layout: Literal["rooms", "maze"] = Field("rooms", description="rooms (border, rooms, random walls) or maze (a "
                                                                  "perfect maze; ignores wall_density)")
    wall_density: float = Field(0.05, description="the share of free cells that become walls, in [0, 1)")
    rooms: int = Field(0, description="rectangular rooms with a door per side (layout rooms)")
    room_size: int = Field(8, description="the side of a room, at least 3")
    arenas: int = Field(1, description="arenas the map is split into, walled apart, agents and objects dealt out "
                                       "evenly, each laid out as a map of its own (1: one map)")

    @model_validator(mode="after")
    def _checked(self):
        self.options().validate()
        return self

    def options(self) -> MapOptions:
        """The level generator's options."""
        return MapOptions(**{k: getattr(self, k) for k in MapConfig.model_fields})


class BodiesConfig(ConfigModel):
    mix: dict[str, float] = Field(default_factory=dict, description="a mix of energy profiles, {profile: weight}, "
                                                                    "e.g. {'light': 1, 'heavy': 1}; empty: every agent "
                                                                    "has the standard body (metta.society.bodies)")
    profiles: dict[str, dict[str, float]] | None = Field(
        None, description="extra or changed profiles, {name: {cost, max_energy, regen multipliers}}")

    @field_validator("mix", mode="before")
    @classmethod
    def _mapping(cls, v: Any) -> Any:
        if not isinstance(v, Mapping):
            raise ConfigError(f"bodies must be a non-empty dict of profile name to weight, got {v!r}")
        return _plain(dict(v))

    @model_validator(mode="after")
    def _checked(self):
        self.body_mix()
        return self

    def body_mix(self) -> BodyMix | None:
        return BodyMix(dict(self.mix), self.profiles) if self.mix else None


if TYPE_CHECKING:
    KinshipConfig = Kinship
else:  # every registered structure, told apart by its ``structure``
    KinshipConfig = Annotated[Union[tuple(STRUCTURES.values())], Field(discriminator="structure")]


assert get_args(MapConfig.model_fields["layout"].annotation) == LAYOUTS  # the generator's layouts, spelled out


class EnvConfig(ConfigModel):
    game: GameConfig = Field(default_factory=GameConfig, description="the game file and changes to its named values")
    map: MapConfig = Field(default_factory=MapConfig, description="how procedural levels are generated")
    kinship: KinshipConfig = Field(default_factory=Selfish, description="the social structure: who shares reward "
                                                                        "with whom (metta.society.kinship)")
    bodies: BodiesConfig = Field(default_factory=BodiesConfig, description="energy profiles and their mix")
    obs_backend: str = Field("numba", description="how observations are rendered: a backend of "
                                                  "metta.env.backends (numba, numpy, vulkan; griddly, the reference)")
    max_steps: int | None = Field(None, description="episode length (default: the game's max_steps)")
    level: str | None = Field(None, description="a fixed level, as Griddly level text, instead of procedural maps")

    @model_validator(mode="before")
    @classmethod
    def _selfish_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("kinship"), dict) and "structure" not in data["kinship"]:
            data = {**data, "kinship": {**data["kinship"], "structure": "selfish"}}
        return _plain(data) if isinstance(data, dict) else data

    @field_validator("obs_backend", mode="before")
    @classmethod
    def _registered(cls, v: Any) -> str:
        return check_backend(v)

    @field_validator("max_steps", mode="before")
    @classmethod
    def _positive(cls, v: Any) -> Any:
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"max_steps must be a positive integer, got {v!r}")
        return v

    @field_validator("level", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, str):
            raise ConfigError(f"level must be a level's text (a string), got {type(v).__name__}")
        return v


MAP_KEYS = tuple(MapConfig.model_fields)


def kinship_keys() -> tuple[str, ...]:
    """Every structure's parameters, ``structure`` first and the shared ones last (for flags and messages)."""
    own = [k for cls in STRUCTURES.values() for k in cls.model_fields if k not in SHARED and k != "structure"]
    return ("structure", *dict.fromkeys(own), *sorted(SHARED))


def configure(base: EnvConfig, game: str | None = None, overrides: Mapping | None = None, level: str | None = None,
              max_steps: int | None = None, kinship: dict | Kinship | None = None, bodies: dict | None = None,
              body_profiles: dict | None = None, obs_backend: str | None = None, **options) -> EnvConfig:
    """``base`` changed by ``make_env``'s keywords (see its docstring): ``game`` replaces the game file,
    ``overrides`` add to the config's, ``kinship`` (parameters, or another ``structure`` with its own: the base's
    structure-specific ones do not carry over to another, the shared ones do) and any kinship parameter or
    ``MapOptions`` field in ``options``. Raises ConfigError naming the key for a bad or unknown one."""
    kin_keys = set(kinship_keys())
    unknown = set(options) - set(MAP_KEYS) - kin_keys
    if unknown:
        raise ConfigError(f"unknown make_env option(s) {', '.join(sorted(unknown))}; map options are "
                          f"{', '.join(sorted(MAP_KEYS))}; kinship parameters are {', '.join(sorted(kin_keys))}; "
                          f"objects are placed by count with objects={{name: count}}{_placeable(game or base)}")
    if kinship is not None and not isinstance(kinship, (dict, Kinship)):
        raise ConfigError(f"kinship must be a dict of kinship parameters, got {type(kinship).__name__}")
    kin_options = {k: v for k, v in options.items() if k in kin_keys}
    if isinstance(kinship, Kinship) and not kin_options:
        spec = kinship
    else:
        params = kinship.model_dump() if isinstance(kinship, Kinship) else dict(kinship or {})
        spec = Kinship.from_dict({**params, **kin_options}, preset=base.kinship)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ConfigError(f"overrides must be a mapping of named value to integer, got {type(overrides).__name__}")
    fields: dict[str, Any] = {
        "game": {"path": base.game.path if game is None else game,
                 "overrides": {**base.game.overrides, **(overrides or {})}},
        "map": {**base.map.model_dump(), **{k: v for k, v in options.items() if k in MAP_KEYS}},
        "kinship": spec,
        "bodies": {"mix": base.bodies.mix if bodies is None else bodies,
                   "profiles": base.bodies.profiles if body_profiles is None else body_profiles},
        "obs_backend": base.obs_backend if obs_backend is None else obs_backend,
        "max_steps": base.max_steps if max_steps is None else max_steps,
        "level": base.level if level is None else level,
    }
    return EnvConfig.model_validate(fields)


def _placeable(game: str | EnvConfig) -> str:
    """`` (this game's: ...)``, the objects of the game that procedural maps place by count."""
    from metta.griddly_ext.gdy import load_gdy
    from metta.griddly_ext.levels import placeable_objects

    try:
        doc = load_gdy(game.game.path if isinstance(game, EnvConfig) else game)
        return f" (this game's: {', '.join(placeable_objects(doc.map_characters(), doc.avatar))})"
    except (ConfigError, OSError, KeyError, TypeError):
        return ""
