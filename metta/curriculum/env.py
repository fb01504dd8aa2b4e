"""A curriculum's env: each episode a task drawn afresh, the game it needs built once and kept.

``Curriculum`` holds a spec's tasks (metta.curriculum.tasks), its sampler (metta.curriculum.samplers) and a random
generator: it draws the next task and takes each finished episode's score (the spec's ``score`` metric averaged
over the episode's agents). Training keeps one per Sample Factory env slot, shared by the slot's envs, so a slot's
statistics are its own (metta.sf_integration.env).

``CurriculumEnv`` is a ``MettaEnv`` to its callers (``EnvBatch``, Sample Factory's adapter): it passes every call
to the env of its current task. Tasks that differ in game values or map size need their own Griddly game: one
``MettaEnv`` per such variant, the ``keep`` most recently used kept; map options and episode length change with
``MettaEnv.retask``, on the same game. Every variant has the run's agents, observation shape and actions, or the
curriculum is refused.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from metta.curriculum.samplers import LearningProgressSampler, WeightedSampler
from metta.curriculum.tasks import CurriculumSpec, LearningProgress, task_config
from metta.env.config import EnvConfig
from metta.env.core import MettaEnv, make_env
from metta.errors import ConfigError


class Curriculum:
    def __init__(self, spec: CurriculumSpec, base: EnvConfig, seed: int | Sequence[int] | None = None,
                 where: str = "curriculum"):
        self.spec, self.base, self.where = spec, base, where
        self.names = list(spec.tasks)
        self.tasks = [spec.tasks[n] for n in self.names]
        weights = [t.weight for t in self.tasks]
        s = spec.sampler
        self.sampler = (LearningProgressSampler(weights, s.fast, s.slow, s.explore) if isinstance(s, LearningProgress)
                        else WeightedSampler(weights))
        self.rng = np.random.default_rng(seed)

    def draw(self) -> tuple[int, EnvConfig]:
        """The next task's index and its env config, values drawn."""
        i = self.sampler.sample(self.rng)
        return i, task_config(self.base, self.tasks[i].changes(self.rng))

    def record(self, task: int, episode: list[dict]) -> float:
        """Score task ``task`` with a finished episode's metrics (one dict per agent); the score."""
        key = self.spec.score
        if key not in episode[0]:
            raise ConfigError(f"{self.where}: score {key!r} is no episode metric of this env (its metrics: "
                              f"{', '.join(sorted(episode[0]))})")
        values = [m[key] for m in episode if m[key] is not None]
        score = float(np.mean(values)) if values else 0.0
        self.sampler.update(task, score)
        return score

    def stats(self) -> dict[str, float]:
        """For TensorBoard: every task's sampling probability and recent score (tasks scored so far)."""
        p = self.sampler.probabilities()
        out = {f"{n}/weight": float(w) for n, w in zip(self.names, p)}
        out.update({f"{n}/score": float(v) for n, v in zip(self.names, self.sampler.recent) if not np.isnan(v)})
        return out


def variant_key(config: EnvConfig) -> str:
    """What needs a Griddly game of its own: the game and its values, the map's size."""
    return json.dumps([config.game.model_dump(mode="json"), config.map.width, config.map.height], sort_keys=True)


class CurriculumEnv:
    """See the module docstring."""

    def __init__(self, curriculum: Curriculum, seed: int | None = None, name: str = "metta", keep: int = 12):
        self.curriculum, self.name, self.keep = curriculum, name, keep
        self._seed = seed
        self._variants: OrderedDict[str, MettaEnv] = OrderedDict()
        self.task, config = curriculum.draw()
        self.current = self._env_for(config)
        self._fresh = True  # the first reset plays the task drawn here
        self.episodes = 0

    def _env_for(self, config: EnvConfig) -> MettaEnv:
        key = variant_key(config)
        env = self._variants.get(key)
        if env is None:
            seed = None if self._seed is None else self._seed * 1_000 + len(self._variants)
            env = make_env(config, seed=seed, name=self.name)
            if self._variants:
                first = next(iter(self._variants.values()))
                if (env.num_agents_total, env.obs_shape, env.engine.num_actions) != \
                        (first.num_agents_total, first.obs_shape, first.engine.num_actions):
                    env.close()
                    raise ConfigError(f"{self.curriculum.where}: every task needs the run's agents, observation "
                                      f"shape and actions; {key} has {env.num_agents_total} agents, "
                                      f"{env.obs_shape}, {env.engine.num_actions} actions")
            self._variants[key] = env
            while len(self._variants) > self.keep:
                _, old = self._variants.popitem(last=False)
                old.close()
        else:
            self._variants.move_to_end(key)
        if config.level is None:
            env.retask(config)
        return env

    def _next(self) -> None:
        if self._fresh:
            self._fresh = False
            return
        self.task, config = self.curriculum.draw()
        self.current = self._env_for(config)

    def reset(self, seed: int | None = None, options: dict | None = None):
        self._next()
        return self.current.reset(seed, options)

    def reset_arrays(self, seed: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
        self._next()
        return self.current.reset_arrays(seed, out)

    def step(self, actions: dict[str, Any]):
        out = self.current.step(actions)
        episode = [out[4][a]["episode"] for a in self.current.possible_agents if "episode" in out[4][a]]
        if episode:
            self._finished(episode)
        return out

    def step_arrays(self, flat: np.ndarray, out: np.ndarray | None = None):
        result = self.current.step_arrays(flat, out)
        if result[5] is not None:
            self._finished(result[5])
        return result

    def _finished(self, episode: list[dict]) -> None:
        self.curriculum.record(self.task, episode)
        self.episodes += 1

    @property
    def task_name(self) -> str:
        return self.curriculum.names[self.task]

    def close(self) -> None:
        for env in self._variants.values():
            env.close()
        self._variants.clear()

    def __getattr__(self, name: str):  # everything else is the current task's env's
        if name.startswith("__") or name in ("current", "_variants"):
            raise AttributeError(name)
        return getattr(self.current, name)
