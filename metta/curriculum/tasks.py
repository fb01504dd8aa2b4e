"""Tasks as data: a curriculum's spec, one YAML file beside the games (``games/curricula/*.yaml``).

    score: hearts                       # an episode metric, averaged over agents: what a task's progress follows
    sampler: {kind: learning_progress, fast: 0.1, slow: 0.01, explore: 0.2}    # or {kind: weighted}
    tasks:
      maze_arenas:
        weight: 1                       # the weighted sampler's weight, the learning-progress floor's share
        map: {arenas: 6, layout: maze}  # map options (metta.env.config.MapConfig)
        overrides: {agent_energy_regen: 0, agent_initial_energy: [60, 100]}   # named values of the game
        max_steps: {low: 100, high: 300}

A value is a constant, a list (a bucket: one of them, uniformly) or ``{low, high}`` (uniformly between, whole
numbers when both ends are). Each task draws its values afresh at every episode.

Every task changes the run's own env (``--env`` and its flags: ``python -m metta.sf_integration.train
--env=metta-teams --curriculum=suite``). Read strictly (metta.config): an unknown key, a value of the wrong type,
an unknown named value or map option, a map the game's objects do not fit, is a ConfigError naming the file and
the dotted key. The agent count is the run's, fixed (Sample Factory needs it): tasks split it among arenas
instead. Tasks never take a fixed level: the eval suite's levels stay out of training (tests/test_curriculum.py
generates every task to check).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import Field, field_validator, model_validator

from metta.config import ConfigModel
from metta.env.config import MAP_KEYS, EnvConfig, configure
from metta.errors import ConfigError, UsageError

CURRICULA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "games", "curricula")
Scalar = int | float | str


class Range(ConfigModel):
    low: int | float = Field(description="the smallest value drawn")
    high: int | float = Field(description="the largest value drawn")

    @model_validator(mode="after")
    def _ordered(self):
        if isinstance(self.low, bool) or isinstance(self.high, bool) or self.low > self.high:
            raise ConfigError(f"a range needs numbers low <= high, got low={self.low!r}, high={self.high!r}")
        return self

    def draw(self, rng: np.random.Generator) -> int | float:
        if isinstance(self.low, int) and isinstance(self.high, int):
            return int(rng.integers(self.low, self.high + 1))
        return float(rng.uniform(self.low, self.high))

    def ends(self) -> list[int | float]:
        return [self.low, self.high]


Draw = Union[Scalar, list[Scalar], Range]


def as_draw(value: Any, key: str) -> Draw:
    """A spec's value as a constant, a bucket or a Range; ConfigError naming ``key`` for anything else."""
    if isinstance(value, Mapping):
        if set(value) != {"low", "high"}:
            raise ConfigError(f"{key}: a range is {{low, high}}, got keys {', '.join(map(str, value))}")
        try:
            return Range(**value)
        except ConfigError as err:
            raise ConfigError(f"{key}: {err}") from None
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ConfigError(f"{key}: an empty bucket")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ConfigError(f"{key}: a value is a number or a string, a list of them (a bucket) or {{low, high}} "
                              f"(a range), got {value!r}")
    return value


def draw(value: Draw, rng: np.random.Generator) -> Scalar:
    if isinstance(value, Range):
        return value.draw(rng)
    if isinstance(value, list):
        return value[int(rng.integers(len(value)))]
    return value


def extremes(value: Draw) -> list[Scalar]:
    """The values checking a spec tries: a bucket's every value, a range's two ends, a constant."""
    if isinstance(value, Range):
        return list(value.ends())  # a copy typed as Scalars (a list of numbers is not a list[Scalar])
    return list(value) if isinstance(value, list) else [value]


class Task(ConfigModel):
    weight: float = Field(1.0, description="the weighted sampler's weight; the learning-progress floor's share")
    overrides: dict[str, Any] = Field(default_factory=dict, description="named values of the game, drawn")
    map: dict[str, Any] = Field(default_factory=dict, description="map options (metta.env.config.MapConfig) but "
                                                                  "objects, drawn")
    objects: dict[str, Any] = Field(default_factory=dict, description="object counts of procedural maps, drawn")
    max_steps: Any = Field(None, description="episode length, drawn (default: the run's)")

    @model_validator(mode="before")
    @classmethod
    def _no_level(cls, data: Any) -> Any:
        if isinstance(data, dict) and "level" in data:
            raise ConfigError("level: tasks generate their maps; a fixed level is the eval suite's (held out)")
        return data

    @field_validator("overrides", "map", "objects", mode="before")
    @classmethod
    def _draws(cls, v: Any, info) -> Any:
        if not isinstance(v, Mapping):
            raise ConfigError(f"{info.field_name} must be a mapping of name to value, got {v!r}")
        return {k: as_draw(x, f"{info.field_name}.{k}") for k, x in v.items()}

    @field_validator("max_steps", mode="before")
    @classmethod
    def _draw(cls, v: Any) -> Any:
        return None if v is None else as_draw(v, "max_steps")

    @model_validator(mode="after")
    def _check(self):
        if isinstance(self.weight, bool) or not self.weight > 0:
            raise ConfigError(f"weight must be a positive number, got {self.weight!r}")
        if "objects" in self.map:
            raise ConfigError("map.objects: object counts are the task's own key objects: {name: count}")
        unknown = sorted(set(self.map) - set(MAP_KEYS))
        if unknown:
            raise ConfigError(f"map.{unknown[0]}: not a map option (known: {', '.join(MAP_KEYS)})")
        if "num_agents" in self.map:
            raise ConfigError("map.num_agents: the agent count is the run's, the same in every task (Sample "
                              "Factory needs it); split it among arenas instead (map.arenas)")
        return self

    def changes(self, rng: np.random.Generator) -> dict[str, Any]:
        """One episode's draw: make_env's keywords (``overrides``, ``max_steps``, map options)."""
        out: dict[str, Any] = {k: draw(v, rng) for k, v in self.map.items()}
        if self.objects:
            out["objects"] = {k: draw(v, rng) for k, v in self.objects.items()}
        if self.overrides:
            out["overrides"] = {k: draw(v, rng) for k, v in self.overrides.items()}
        if self.max_steps is not None:
            out["max_steps"] = draw(self.max_steps, rng)
        return out

    def corner_changes(self) -> list[dict[str, Any]]:
        """The draws checking tries: every value at its first extreme, then each value at each extreme in turn."""
        keyed = [("map", k, extremes(v)) for k, v in self.map.items()]
        keyed += [("overrides", k, extremes(v)) for k, v in self.overrides.items()]
        keyed += [("objects", k, extremes(v)) for k, v in self.objects.items()]
        if self.max_steps is not None:
            keyed.append(("max_steps", "", extremes(self.max_steps)))
        first = {(part, k): vals[0] for part, k, vals in keyed}
        picks = [first] + [{**first, (part, k): v} for part, k, vals in keyed for v in vals[1:]]
        out = []
        for pick in picks:
            changes: dict[str, Any] = {k: v for (part, k), v in pick.items() if part == "map"}
            for section in ("overrides", "objects"):
                if any(part == section for part, _ in pick):
                    changes[section] = {k: v for (part, k), v in pick.items() if part == section}
            if ("max_steps", "") in pick:
                changes["max_steps"] = pick[("max_steps", "")]
            out.append(changes)
        return out


class Weighted(ConfigModel):
    kind: Literal["weighted"] = "weighted"


class LearningProgress(ConfigModel):
    kind: Literal["learning_progress"] = "learning_progress"
    fast: float = Field(0.1, description="the fast moving average's step")
    slow: float = Field(0.01, description="the slow moving average's step")
    explore: float = Field(0.2, description="the share of draws made by weight alone, whatever the progress")

    @model_validator(mode="after")
    def _check(self):
        if not 0 < self.slow < self.fast <= 1 or not 0 <= self.explore <= 1:
            raise ConfigError(f"learning progress needs 0 < slow < fast <= 1 and explore in [0, 1], got "
                              f"fast={self.fast}, slow={self.slow}, explore={self.explore}")
        return self


class CurriculumSpec(ConfigModel):
    score: str = Field("hearts", description="the episode metric, averaged over agents, a task's progress follows")
    sampler: Annotated[Union[Weighted, LearningProgress], Field(discriminator="kind")] = Field(
        default_factory=LearningProgress, description="how the next task is drawn")
    tasks: dict[str, Task] = Field(description="the tasks, by name")

    @field_validator("tasks", mode="before")
    @classmethod
    def _each(cls, v: Any) -> Any:
        if not isinstance(v, Mapping):
            raise ConfigError(f"tasks must be a mapping of task name to task, got {v!r}")
        out = {}
        for name, task in v.items():
            try:
                out[name] = task if isinstance(task, Task) else Task.model_validate(task if task is not None else {})
            except ConfigError as err:
                raise ConfigError(f"tasks.{name}: {err}") from None
        return out

    @model_validator(mode="after")
    def _some(self):
        if not self.tasks:
            raise ConfigError("tasks: a curriculum needs at least one task")
        return self



def task_config(base: EnvConfig, changes: dict[str, Any]) -> EnvConfig:
    """``base`` (the run's env) with one draw of a task's ``changes``; a task's object counts replace the run's,
    however the run spelled them (``--generators=4`` or ``--objects generator=4``)."""
    if "objects" in changes:
        from metta.griddly_ext.levels import SPELLINGS

        changes = {**changes, "objects": {**(base.map.objects or {}), **changes["objects"]}}
        for spelling, name in SPELLINGS.items():
            if name in changes["objects"] and getattr(base.map, spelling) is not None and spelling not in changes:
                changes[spelling] = None
    return configure(base, **changes)


def check_tasks(spec: CurriculumSpec, base: EnvConfig, where: str) -> None:
    """Every task's extreme draws change ``base`` into an env config whose game values exist and whose maps fit;
    ConfigError naming ``where`` and the task otherwise."""
    from metta.griddly_ext.gdy import load_gdy
    from metta.griddly_ext.levels import default_counts

    for name, task in spec.tasks.items():
        for changes in task.corner_changes():
            try:
                cfg = task_config(base, changes)
                doc = load_gdy(cfg.game.path).with_overrides(cfg.game.overrides)
                cfg.map.options().resolve(doc.map_characters(), doc.avatar, default_counts(doc.named_values()))
            except (ConfigError, UsageError) as err:
                raise ConfigError(f"{where}: tasks.{name}: {err}") from None


def curriculum_path(path: str) -> str:
    """``path``, or for a bare name (no slash, no .yaml) the project's ``games/curricula/NAME.yaml``."""
    if os.sep not in path and not path.endswith((".yaml", ".yml")):
        return os.path.join(CURRICULA_DIR, f"{path}.yaml")
    return path


def load_curriculum(path: str, base: EnvConfig) -> CurriculumSpec:
    """The curriculum in ``path`` (see ``curriculum_path``) for the run's env ``base``, checked (see the module
    docstring); UsageError when there is no such file."""
    import yaml

    path = curriculum_path(path)
    if not os.path.isfile(path):
        known = sorted(f[:-5] for f in os.listdir(CURRICULA_DIR) if f.endswith(".yaml")) \
            if os.path.isdir(CURRICULA_DIR) else []
        raise UsageError(f"{path}: no such curriculum file (the project's: {', '.join(known) or 'none'})")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: unreadable curriculum ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a curriculum is a mapping (score, sampler, tasks), got {type(data).__name__}")
    spec = CurriculumSpec.model_validate(data, context={"where": path})
    check_tasks(spec, base, path)
    return spec


