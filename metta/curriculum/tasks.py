"""Tasks as data: a curriculum's spec, one YAML file beside the games (``games/curricula/*.yaml``).

    score: hearts                       # an episode metric, averaged over agents: what a task's progress follows
    sampler: {kind: learning_progress, fast: 0.1, slow: 0.01, explore: 0.2}    # or {kind: weighted}
    tasks:
      maze_arenas:
        weight: 1                       # the weighted sampler's weight, the learning-progress floor's share
        map.arenas: 6                   # any setting of the env's config by its dotted key (metta.env.config)
        map.layout: maze
        map.objects.altar: [6, 12]
        game.overrides.agent_initial_energy: [60, 100]
        max_steps: {low: 100, high: 300}

A task changes what an env can change between episodes: the game's named values (``game.overrides.NAME``), the
map (``map.*``, but ``map.num_agents``) and ``max_steps``. The older sections spell the same keys: ``map: {arenas:
6}`` for ``map.arenas: 6``, ``objects: {altar: 6}`` for ``map.objects.altar``, ``overrides: {NAME: V}`` for
``game.overrides.NAME`` (metta.env.config's aliases). A value is a constant, a list (a bucket: one of them,
uniformly) or ``{low, high}`` (uniformly between, whole numbers when both ends are). Each task draws its values
afresh at every episode.

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
from metta.env.config import EnvConfig
from metta.errors import ConfigError, UsageError

CURRICULA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "games", "curricula")
Scalar = int | float | str
TASK_KEYS = ("game.overrides.", "map.", "max_steps")  # what an env changes between episodes (metta.curriculum.env)


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
    draws: dict[str, Any] = Field(default_factory=dict, description="values of the run's env config by dotted key "
                                                                    "(game.overrides.NAME, map.*, max_steps), drawn")

    @model_validator(mode="before")
    @classmethod
    def _dotted(cls, data: Any) -> Any:
        """Every key but ``weight`` is a setting of the env's config, by dotted key or an older spelling (the
        sections ``map``, ``objects``, ``overrides``: metta.env.config)."""
        if not isinstance(data, dict):
            return data
        if "level" in data:
            raise ConfigError("level: tasks generate their maps; a fixed level is the eval suite's (held out)")
        rest = {k: v for k, v in data.items() if k not in ("weight", "draws")}
        draws = {**(data.get("draws") or {}), **EnvConfig.dotted(rest)}
        return {**({"weight": data["weight"]} if "weight" in data else {}), "draws": draws}

    @field_validator("draws")
    @classmethod
    def _draws(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            if key == "map.num_agents":
                raise ConfigError("map.num_agents: the agent count is the run's, the same in every task (Sample "
                                  "Factory needs it); split it among arenas instead (map.arenas)")
            if not key.startswith(TASK_KEYS):
                raise ConfigError(f"{key}: a task changes what an env can change between episodes: "
                                  f"{', '.join(k.rstrip('.') for k in TASK_KEYS)}")
        return {k: as_draw(x, k) for k, x in v.items()}

    @model_validator(mode="after")
    def _check(self):
        if isinstance(self.weight, bool) or not self.weight > 0:
            raise ConfigError(f"weight must be a positive number, got {self.weight!r}")
        return self

    def changes(self, rng: np.random.Generator) -> dict[str, Any]:
        """One episode's draw: ``{dotted key: value}`` (metta.config's ``override``)."""
        return {k: draw(v, rng) for k, v in self.draws.items()}

    def corner_changes(self) -> list[dict[str, Any]]:
        """The draws checking tries: every value at its first extreme, then each value at each extreme in turn."""
        keyed = {k: extremes(v) for k, v in self.draws.items()}
        first = {k: vals[0] for k, vals in keyed.items()}
        return [first] + [{**first, k: v} for k, vals in keyed.items() for v in vals[1:]]


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
    """``base`` (the run's env) with one draw of a task's ``changes``: a task's object count or named value
    replaces the run's, the others stay."""
    return base.override(changes)


def check_tasks(spec: CurriculumSpec, base: EnvConfig, where: str) -> None:
    """Every task's extreme draws change ``base`` into an env config whose game values exist and whose maps fit;
    ConfigError naming ``where`` and the task otherwise."""
    from metta.griddly_ext.gdy import load_gdy
    from metta.griddly_ext.map_config import default_counts

    for name, task in spec.tasks.items():
        for changes in task.corner_changes():
            try:
                cfg = task_config(base, changes)
                doc = load_gdy(cfg.game.path).with_overrides(cfg.game.overrides)
                cfg.map.resolve(doc.map_characters(), doc.avatar, default_counts(doc.named_values()))
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


