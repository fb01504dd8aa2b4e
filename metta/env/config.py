"""The env's one typed config: ``EnvConfig`` says everything an env is built from (``MettaEnv(config)``).

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

Every setting is changed by its dotted key, ``config.override("map.width", 30)`` (metta.config): training flags,
sweep grids, cross-play options, curriculum tasks and ``make_env``'s keywords all come down to it. The older,
undotted spellings are ``EnvConfig.aliases``: ``width`` for ``map.width``, ``team_reward`` for
``kinship.team_reward`` (every map option and kinship parameter), ``generators`` for ``map.objects.generator``,
``game`` for ``game.path``, ``bodies`` for ``bodies.mix``, ``overrides`` and ``objects`` for the entries of
``game.overrides`` and ``map.objects``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, field_validator, model_validator

from metta.config import ConfigModel, plain
from metta.env.backends import check_backend
from metta.errors import ConfigError
from metta.griddly_ext.gdy import DEFAULT_GAME
from metta.griddly_ext.map_config import MapConfig
from metta.society.bodies import BodyMix
from metta.society.kinship import SHARED, STRUCTURES, Kinship, Selfish

__all__ = ["BodiesConfig", "EnvConfig", "GameConfig", "MapConfig", "kinship_keys"]


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
        return {k: int(x) if isinstance(x, float) and x.is_integer() else x for k, x in plain(dict(v)).items()}


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
        return plain(dict(v))

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
        return plain(data) if isinstance(data, dict) else data

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


def kinship_keys() -> tuple[str, ...]:
    """Every structure's parameters, ``structure`` first and the shared ones last (for flags and messages)."""
    own = [k for cls in STRUCTURES.values() for k in cls.model_fields if k not in SHARED and k != "structure"]
    return ("structure", *dict.fromkeys(own), *sorted(SHARED))


def _aliases() -> dict[str, str]:
    """The older spellings of dotted keys: make_env's keywords, the undotted training flags, old config.json's."""
    out = {"game": "game.path", "overrides": "game.overrides.*", "override": "game.overrides.*",
           "bodies": "bodies.mix", "body_profiles": "bodies.profiles", "objects": "map.objects.*",
           "beta_a": "kinship.a", "beta_b": "kinship.b"}
    out.update({k: f"map.{k}" for k in MapConfig.model_fields if k != "objects"})
    for spelling, key in MapConfig.aliases.items():
        out[spelling] = out[f"map.{spelling}"] = f"map.{key}"
    out.update({k: f"kinship.{k}" for k in kinship_keys()})
    return out


EnvConfig.aliases = _aliases()
