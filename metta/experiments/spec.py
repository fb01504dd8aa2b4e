"""An experiment's spec: one YAML file (``experiments/*.yaml``) naming the sweep, its evaluation and its cross-play
pairs, read strictly: an unknown or misspelt key, a value of the wrong type, or a pair naming a grid value the sweep
does not have is a ConfigError naming the dotted key (metta.config). See metta.experiments.run.

    name: kinship_dilemma
    preset: metta-dilemma
    grid: {kinship.team_reward: [0, 0.5, 1]}     # or {}: one grid point (with arms inside every run)
    seeds: 4
    env_steps: 5_000_000
    evaluation: {episodes: 8}
    train_flags: []
    crossplay:
      episodes: 8
      options: {team_reward: 1}
      pairs:
        - {name: sharers_among_selfish, focal: {kinship.team_reward: 1}, background: {kinship.team_reward: 0}}
        - {name: convention, focal: {kinship.team_reward: 1}, background: {kinship.team_reward: 1},
           background_seed_offset: 1}
"""
from __future__ import annotations

import os
import re

from pydantic import Field, model_validator

from metta.config import ConfigModel
from metta.errors import ConfigError, UsageError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")  # a directory name (as the sweep's NAME)
Value = int | float | str


def grid_value(value: Value) -> str:
    """A grid value as the sweep's ``--grid`` spells it (and names runs by): ``0``, ``0.5``, ``1``."""
    if isinstance(value, bool):
        raise ConfigError(f"{value!r}: a grid value is a number or a string")
    return value if isinstance(value, str) else repr(value)


def same_value(a: Value, b: Value) -> bool:
    """``1`` and ``1.0`` name the same grid value; strings match exactly."""
    if isinstance(a, str) or isinstance(b, str):
        return grid_value(a) == grid_value(b)
    return float(a) == float(b)


class Evaluation(ConfigModel):
    episodes: int = Field(5, description="evaluation episodes per run, seeded 0..E-1 (the sweep's --episodes)")
    max_steps: int | None = Field(None, description="evaluation episode length (default: the game's own)")
    paired: bool = Field(False, description="play every evaluation seed twice, the second time with the teams' arms "
                                            "swapped (a kinship structure with arms, mixed_teams)")
    probes: bool = Field(False, description="probe every run's attacks in its evaluation episodes "
                                            "(metta.evals.probes)")
    reference_episodes: int = Field(0, description="episodes of the scripted peaceful population on the preset, "
                                                   "the learning curves' reference (0: none)")

    @model_validator(mode="after")
    def _positive(self):
        if self.episodes < 1 or (self.max_steps is not None and self.max_steps < 1):
            raise ConfigError("evaluation.episodes and evaluation.max_steps must be >= 1")
        return self


class Pair(ConfigModel):
    name: str = Field(description="the pair's name: its report is TRAIN_DIR/NAME/crossplay/PAIR.json")
    focal: dict[str, Value] = Field(description="the grid point whose runs play the focal group")
    background: dict[str, Value] = Field(description="the grid point whose runs play the background")
    background_seed_offset: int = Field(0, description="focal seed k plays among background seed k + offset "
                                                       "(modulo the seeds); 1 with the same point: the convention "
                                                       "control")


class Crossplay(ConfigModel):
    episodes: int = Field(8, description="episodes per pair of runs and condition")
    max_steps: int | None = Field(None, description="episode length (default: the game's own)")
    options: dict[str, Value] = Field(default_factory=dict, description="env options of the cross-play env "
                                                                        "(metta.evals.crossplay --option)")
    pairs: list[Pair] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self):
        if self.episodes < 1 or (self.max_steps is not None and self.max_steps < 1):
            raise ConfigError("crossplay.episodes and crossplay.max_steps must be >= 1")
        names = [p.name for p in self.pairs]
        for i, p in enumerate(self.pairs):
            if not SAFE_NAME.fullmatch(p.name):
                raise ConfigError(f"crossplay.pairs[{i}].name {p.name!r}: letters, digits and . _ + - only")
            if names.count(p.name) > 1:
                raise ConfigError(f"crossplay.pairs[{i}].name {p.name!r}: given {names.count(p.name)} times")
        return self


class Spec(ConfigModel):
    """One experiment: a sweep (``preset`` trained over ``grid`` x ``seeds``, ``env_steps`` agent-steps a run), its
    evaluation and the cross-play pairs between its grid points."""

    name: str = Field(description="the sweep's NAME: everything goes to TRAIN_DIR/NAME")
    preset: str = Field(description="the env preset every run trains on (metta.env.presets)")
    grid: dict[str, list[Value]] = Field(description="training flag (dotted key) -> its values")
    seeds: int = Field(description="runs per grid point")
    env_steps: int = Field(description="agent-steps per run")
    evaluation: Evaluation = Field(default_factory=Evaluation)
    train_flags: list[str] = Field(default_factory=list, description="training flags given to every run")
    crossplay: Crossplay = Field(default_factory=Crossplay)

    @model_validator(mode="after")
    def _check(self):
        if not SAFE_NAME.fullmatch(self.name):
            raise ConfigError(f"name {self.name!r}: letters, digits and . _ + - only (it is a directory)")
        if self.seeds < 1 or self.env_steps < 1:
            raise ConfigError("seeds and env_steps must be >= 1")
        for key, values in self.grid.items():
            if not values:
                raise ConfigError(f"grid.{key}: no values")
            for j, v in enumerate(values):
                if isinstance(v, bool) or (isinstance(v, str) and ("," in v or not v.strip())):
                    raise ConfigError(f"grid.{key}[{j}]: {v!r} is no grid value (a number, or a string without "
                                      f"commas)")
        for i, p in enumerate(self.crossplay.pairs):
            for role in ("focal", "background"):
                self.point(getattr(p, role), f"crossplay.pairs[{i}].{role}")
        return self

    def point(self, given: dict[str, Value], where: str = "point") -> dict[str, str]:
        """The grid point ``given`` names (every grid key, each a value of the grid), as the sweep spells it."""
        unknown = sorted(set(given) - set(self.grid))
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: not a grid key (the grid's: {', '.join(self.grid)})")
        out = {}
        for key, values in self.grid.items():
            if key not in given:
                raise ConfigError(f"{where}.{key}: required (a pair names a grid point: every grid key)")
            match = [v for v in values if same_value(v, given[key])]
            if not match:
                raise ConfigError(f"{where}.{key}: {given[key]!r} is not one of the grid's values "
                                  f"{', '.join(grid_value(v) for v in values)}")
            out[key] = grid_value(match[0])
        return out


def load_spec(path: str) -> Spec:
    """The spec in ``path``; UsageError when there is no such file, ConfigError naming the file and the dotted key
    for bad YAML or a bad key."""
    import yaml

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such spec file")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: unreadable spec ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a spec is a mapping of keys (name, preset, grid, ...), got {type(data).__name__}")
    return Spec.model_validate(data, context={"where": path})
