"""Metta environments under Sample Factory's multi-agent contract.

Every preset (``metta.env.presets.PRESETS``) is registered with Sample Factory under its own
name. ``MettaSFEnv`` adapts ``MettaEnv``s to what Sample Factory expects of a
multi-agent env: ``num_agents``, ``is_multiagent = True``, data per agent in agent order
(lists for Sample Factory's default sampler, arrays with ``--batched_sampling``) and an
automatic reset when an episode ends (Sample Factory calls ``reset`` only once).

One ``MettaSFEnv`` steps ``--vector_envs`` Metta envs together as one ``metta.env.batch.EnvBatch``,
their agents side by side: bigger inference batches, and, with batched sampling, the way to run several envs per
slot: Sample Factory 2.1.1 stacks several envs of one slot itself only by dropping their
episode infos, hence the social metrics (``train`` refuses that configuration).

The observation is a dict, because Sample Factory's models read dicts:

- ``obs``: the env's egocentric window, uint8, laid out as the policy's architecture reads it
  (metta.sf_integration.model): ``"cwh"``, the env's own ``(channels, x, y)``, or ``"hwc"``,
  ``(y, x, channels)``, which is the batch's own buffer (``EnvBatch.grid``): no copy;
- ``self``: what the agent knows of itself without looking around (``SelfFeatures``):
  every channel of the centre cell of its own window (its energy, inventory, shield,
  frozen countdown, body...), the one-hot of its last action and the reward it received
  last step, and with ``--observe_time`` (on with a curriculum) the time its episode has left: the share of
  ``max_steps`` left and the steps left / 1000. These live here, not in the env, because they are a learning
  concern.
- with ``--teacher`` (kickstarting, metta.scripted.teacher): ``teacher_action``, the scripted teacher's action
  for this observation, and ``has_teacher``, 1 where the teacher chose it (0 once λ has decayed to 0). They travel
  beside the observation to the learner's loss; the student's model is built without them and never reads them.

With ``--curriculum`` (metta.curriculum) every env of a slot is a ``CurriculumEnv`` drawing its tasks from the
slot's one ``Curriculum``; each episode's end reports every task's sampling probability and recent score as
``curriculum/<task>/weight`` and ``curriculum/<task>/score``.

Social metrics reach Sample Factory's episode stats, hence TensorBoard, as
``social/<metric>`` per policy: with batched sampling through the dict of per-agent
tensors that Sample Factory reads from ``infos`` on steps where agents finish, otherwise
through each finishing agent's ``infos[i]["episode_extra_stats"]``. Beside them,
``actions/<type>`` is the share of an agent's steps in the episode spent on each action
type (``noop``, ``move``, ``use``, ``attack``...): what the policy does, seen while it
trains (a policy collapsing onto one action shows there before its entropy says why). Under a kinship structure with
arms (``mixed_teams``) every metric is also split by the agent's arm: ``social/alpha_<a>/<metric>`` is the mean over
the agents of the episode whose team shared ``a`` (logged for every agent of that episode, so that Sample Factory's
mean over agents is the mean over episodes); with a curriculum, per task as well: ``social/<task>/alpha_<a>/<metric>``
(its tasks may change what a metric means: a task that starts agents with energy makes hearts cheaper).
"""
from __future__ import annotations

from typing import cast

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from metta.env import MettaEnv, make_env
from metta.env.batch import EnvBatch
from metta.scripted.teacher import HAS_TEACHER_KEY, TEACHER_ACTION_KEY, EnvTeacher, teacher_spaces
from metta.society.metrics import ARM, arm_label
from metta.sf_integration.architectures import architecture
from metta.sf_integration.config import cfg_value, env_config_from_cfg
from metta.sf_integration.supervisor import start_process

GRID_KEY = "obs"
SELF_KEY = "self"
LAYOUTS = ("cwh", "hwc")
STATS_PREFIX = "social"
ACTIONS_PREFIX = "actions"
CURRICULUM_PREFIX = "curriculum"
TIME_SCALE = 1000  # the second time feature: steps left / TIME_SCALE
# the social metrics that are not already Sample Factory's own episode reward
_SKIP_METRICS = ("reward",)


class SelfFeatures:
    """The ``self`` vector of N agents: centre cell of each window, last action one-hot, last reward, and with
    ``time`` the share of the episode left and the steps left / TIME_SCALE."""

    def __init__(self, num_agents: int, obs_shape: tuple[int, int, int], num_actions: int, time: bool = False):
        channels, width, height = obs_shape
        self.centre = (width // 2, height // 2)
        self.channels, self.num_actions = channels, num_actions
        self.time = time
        self.size = channels + num_actions + 1 + 2 * time
        self.last_action = np.zeros(num_agents, dtype=np.int64)
        self.last_reward = np.zeros(num_agents, dtype=np.float32)

    def reset(self, agents: slice = slice(None)) -> None:
        self.last_action[agents] = 0
        self.last_reward[agents] = 0.0

    def record(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        self.last_action[:] = actions
        self.last_reward[:] = rewards

    def __call__(self, obs: np.ndarray, steps_left: np.ndarray | None = None,
                 max_steps: np.ndarray | None = None) -> np.ndarray:
        """``steps_left``, ``max_steps``: each agent's episode's, needed with ``time``."""
        n = len(obs)
        out = np.zeros((n, self.size), dtype=np.float32)
        out[:, :self.channels] = obs[:, :, self.centre[0], self.centre[1]]
        out[np.arange(n), self.channels + self.last_action] = 1.0
        reward = self.channels + self.num_actions
        out[:, reward] = self.last_reward
        if self.time:
            if steps_left is None or max_steps is None:
                raise ValueError("time features need each agent's steps left and episode length")
            out[:, reward + 1] = np.asarray(steps_left, dtype=np.float64) / np.asarray(max_steps, dtype=np.float64)
            out[:, reward + 2] = np.asarray(steps_left, dtype=np.float64) / TIME_SCALE
        return out


def grid_shape(obs_shape: tuple[int, int, int], layout: str) -> tuple[int, int, int]:
    """The grid's shape in ``layout`` from the env's ``(channels, width, height)``."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown observation layout {layout!r}; known: {', '.join(LAYOUTS)}")
    c, w, h = obs_shape
    return (c, w, h) if layout == "cwh" else (h, w, c)


def to_layout(grid: np.ndarray, layout: str) -> np.ndarray:
    """Env-layout grids ``(N, C, W, H)`` in ``layout`` (a view, not a copy)."""
    return grid if layout == "cwh" else grid.transpose(0, 3, 2, 1)


def observation_space(env: MettaEnv, layout: str = "cwh", time: bool = False, teacher: bool = False) -> spaces.Dict:
    """The policy's observation; with ``teacher``, the teacher's keys beside it (metta.scripted.teacher: the
    student's model is built without them)."""
    n_self = SelfFeatures(1, env.obs_shape, env.engine.num_actions, time).size
    keys: dict[str, spaces.Space] = {
        GRID_KEY: spaces.Box(0, 255, grid_shape(env.obs_shape, layout), dtype=np.uint8),
        SELF_KEY: spaces.Box(-np.inf, np.inf, (n_self,), dtype=np.float32)}
    if teacher:
        keys.update(teacher_spaces(env.engine.num_actions))
    return spaces.Dict(keys)


class MettaSFEnv(gym.Env):
    """Metta envs of the same shape as one Sample Factory multi-agent env (see the module docstring)."""

    metadata = {"render_modes": []}

    def __init__(self, envs: list[MettaEnv], batched: bool, seed: int | None = None, layout: str = "cwh",
                 time: bool = False, teacher=None):
        """``teacher``: a ``metta.scripted.teacher.EnvTeacher`` of ``envs`` whose actions travel beside the
        observations, or None."""
        self.batch = EnvBatch(envs)
        self.teacher = teacher
        self.layout = layout
        self.envs = self.batch.envs
        self.batched = batched
        self.seed_offset = seed
        first = self.envs[0]
        self.num_agents = self.batch.num_agents
        self.is_multiagent = True
        self.observation_space = observation_space(first, layout, time, teacher is not None)
        self.action_space = action_space = first.action_space(first.possible_agents[0])
        self.features = SelfFeatures(self.num_agents, first.obs_shape, int(action_space.n), time)
        self.curriculum = getattr(first, "curriculum", None)  # the slot's one (metta.curriculum.env)
        self._slices = self.batch.slices
        self.action_types = list(dict.fromkeys(a.name for a in first.engine.actions))
        self._type_of = np.array([self.action_types.index(a.name) for a in first.engine.actions])
        self._action_counts = np.zeros((self.num_agents, len(self.action_types)), dtype=np.int64)
        self._agent_index = np.arange(self.num_agents)

    def _obs(self, grid: np.ndarray):
        if self.features.time:
            n = self.batch.agents_per_env
            feats = self.features(grid, np.repeat([e.steps_left for e in self.envs], n),
                                  np.repeat([e.max_steps for e in self.envs], n))
        else:
            feats = self.features(grid)
        grid = self.batch.grid if self.layout == "hwc" else grid
        if self.teacher is not None:
            action, has = self.teacher.observe()
            if self.batched:
                return {GRID_KEY: grid, SELF_KEY: feats, TEACHER_ACTION_KEY: action, HAS_TEACHER_KEY: has}
            return [{GRID_KEY: g, SELF_KEY: f, TEACHER_ACTION_KEY: a, HAS_TEACHER_KEY: h}
                    for g, f, a, h in zip(grid, feats, action, has)]
        if self.batched:
            return {GRID_KEY: grid, SELF_KEY: feats}
        return [{GRID_KEY: g, SELF_KEY: f} for g, f in zip(grid, feats)]

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:  # Sample Factory passes each env's id
            seed = (seed if self.seed_offset is None else self.seed_offset * 100_003 + seed) * len(self.envs)
        obs = self.batch.reset(None if seed is None else [seed + i for i in range(len(self.envs))])
        self.features.reset()
        self._action_counts[:] = 0
        if self.teacher is not None:
            for i in range(len(self.envs)):
                self.teacher.reset(i)
        return self._obs(obs), ({} if self.batched else [{} for _ in range(self.num_agents)])

    def step(self, actions):
        self._tasks = [getattr(e, "task_name", None) for e in self.envs]  # the episode's task, before a reset draws
        obs, rewards, terminated, truncated, episodes = self.batch.step(actions)
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_agents)
        if self.teacher is not None:
            self.teacher.count()
        self._action_counts[self._agent_index, self._type_of[actions]] += 1
        self.features.record(actions, rewards)
        shares = {}
        for i in episodes:
            self.features.reset(self._slices[i])
            if self.teacher is not None:
                self.teacher.reset(i)
            counts = self._action_counts[self._slices[i]]
            shares[i] = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
            counts[:] = 0
        if self.batched:
            return (self._obs(obs), rewards.copy(), terminated.copy(), truncated.copy(),
                    self._batched_infos(episodes, shares))
        return self._obs(obs), rewards.tolist(), terminated.tolist(), truncated.tolist(), \
            self._agent_infos(episodes, shares)

    def _metric_names(self, episodes: dict) -> list[str]:
        """The metrics to log: all but the reward, and those an episode left undefined (None, e.g. equality when
        nobody earned anything), which TensorBoard's means must not see."""
        rows = [m for metrics in episodes.values() for m in metrics]
        return [k for k in rows[0] if k not in _SKIP_METRICS and all(m[k] is not None for m in rows)]

    @staticmethod
    def _arm_means(episodes: dict[int, list[dict]], names: list[str],
                   tasks: list[str | None] | None = None) -> dict[int, dict[str, float]]:
        """Per finished env, ``alpha_<a>/<metric>`` (``<task>/alpha_<a>/<metric>`` when ``tasks`` names each env's
        curriculum task): each metric's mean over the agents of arm ``a`` (structures with arms; empty otherwise).
        Only the metrics every finished episode defines; the arms and tasks each episode has."""
        out = {}
        for i, metrics in episodes.items():
            if ARM not in metrics[0]:
                return {}
            arms = sorted({m[ARM] for m in metrics})
            task = f"{tasks[i]}/" if tasks and tasks[i] else ""
            out[i] = {(k, f"{task}{arm_label(a)}/{k}"): float(np.mean([m[k] for m in metrics if m[ARM] == a]))
                      for a in arms for k in names if k != ARM}
        common = set.intersection(*({k for k, _ in v} for v in out.values())) if out else set()
        return {i: {key: v for (k, key), v in values.items() if k in common} for i, values in out.items()}

    def _batched_infos(self, episodes: dict[int, list[dict]], shares: dict[int, np.ndarray]) -> dict:
        """Per-agent tensors; Sample Factory keeps the entries of the agents whose episode ended."""
        if not episodes:
            return {}
        out: dict = {CURRICULUM_PREFIX: self.curriculum.stats()} if self.curriculum is not None else {}
        stats = {}
        names = self._metric_names(episodes)
        for k in names:
            values = torch.zeros(self.num_agents)
            for i, metrics in episodes.items():
                values[self._slices[i]] = torch.tensor([m[k] for m in metrics], dtype=torch.float32)
            stats[k] = values
        arms = self._arm_means(episodes, names, getattr(self, "_tasks", None))
        for k in sorted({key for means in arms.values() for key in means}):
            # an env whose episode was of another task shows the mean of those that have the key: Sample Factory
            # keeps every finished agent's entry, and this keeps the step's mean of the key what its episodes say
            present = [means[k] for means in arms.values() if k in means]
            values = torch.full((self.num_agents,), float(np.mean(present)))
            for i, means in arms.items():
                if k in means:
                    values[self._slices[i]] = means[k]
            stats[k] = values
        taken = {}
        for t, name in enumerate(self.action_types):
            values = torch.zeros(self.num_agents)
            for i, share in shares.items():
                values[self._slices[i]] = torch.from_numpy(share[:, t].astype(np.float32))
            taken[name] = values
        return {**out, STATS_PREFIX: stats, ACTIONS_PREFIX: taken}

    def _agent_infos(self, episodes: dict[int, list[dict]], shares: dict[int, np.ndarray]) -> list[dict]:
        infos: list[dict] = [{} for _ in range(self.num_agents)]
        names = self._metric_names(episodes) if episodes else []
        arms = self._arm_means(episodes, names, getattr(self, "_tasks", None)) if episodes else {}
        tasks = {f"{CURRICULUM_PREFIX}/{k}": v for k, v in self.curriculum.stats().items()} \
            if self.curriculum is not None and episodes else {}
        for i, metrics in episodes.items():
            for j, m, share in zip(range(self._slices[i].start, self._slices[i].stop), metrics, shares[i]):
                infos[j]["episode_extra_stats"] = {
                    **{f"{STATS_PREFIX}/{k}": float(m[k]) for k in names},
                    **{f"{STATS_PREFIX}/{k}": v for k, v in arms.get(i, {}).items()},
                    **{f"{ACTIONS_PREFIX}/{t}": float(v) for t, v in zip(self.action_types, share)}, **tasks}
        return infos

    def render(self):
        return None

    def close(self):
        for env in self.envs:
            env.close()


def make_sf_env(full_env_name: str, cfg=None, env_config=None, render_mode: str | None = None) -> MettaSFEnv:
    """Sample Factory's env factory: the run's env config (``cfg.env_config``, or the preset ``full_env_name``
    changed by the project's flags from ``cfg``; metta.sf_integration.config).

    Sample Factory seeds each env's first reset with the env's id; ``--seed`` shifts that
    stream, so two runs with different seeds play different levels. With ``--curriculum`` the slot's curriculum
    draws its tasks from a generator seeded by ``--seed`` and the slot's env id (``env_config.env_id``).
    """
    start_process()  # the patches, and joining the run, in a rollout worker (metta.sf_integration.supervisor)
    config = env_config_from_cfg(cfg) if cfg is not None else full_env_name
    seed = getattr(cfg, "seed", None)
    count = int(getattr(cfg, "vector_envs", None) or 1)
    path = getattr(cfg, "curriculum", None)
    if path:
        from metta.curriculum.env import Curriculum, CurriculumEnv
        from metta.curriculum.tasks import load_curriculum

        assert not isinstance(config, str)  # a curriculum comes from cfg, and so does config
        slot = getattr(env_config, "env_id", None) if env_config is not None else None
        draws = None if seed is None or slot is None else [seed, slot]
        curriculum = Curriculum(load_curriculum(path, config), config, seed=draws, where=path)
        # a CurriculumEnv is a MettaEnv to its callers: it passes every call to its current task's env
        envs = cast(list[MettaEnv], [CurriculumEnv(curriculum, seed=None if seed is None else seed + i,
                                                   name=full_env_name) for i in range(count)])
    else:
        envs = [make_env(config, seed=None if seed is None else seed + i, name=full_env_name) for i in range(count)]
    return MettaSFEnv(envs, batched=bool(getattr(cfg, "batched_sampling", False)), seed=seed,
                      layout=architecture(cfg).layout if cfg is not None else "cwh", time=observes_time(cfg),
                      teacher=EnvTeacher.of(cfg, envs))


def observes_time(cfg) -> bool:
    """Does the policy of ``cfg`` see the time left (``--observe_time``; a config.json from before it: no)?"""
    return cfg is not None and bool(cfg_value(cfg, "observe_time"))
