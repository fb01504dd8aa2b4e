"""Metta environments under Sample Factory's multi-agent contract.

Every preset (``metta.presets.PRESETS``) is registered with Sample Factory under its own
name. ``MettaSFEnv`` adapts one ``MettaEnv`` to what Sample Factory expects of a
multi-agent env: ``num_agents``, ``is_multiagent = True``, data per agent in agent order
(lists for Sample Factory's default sampler, arrays with ``--batched_sampling``) and an
automatic reset when the episode ends (Sample Factory calls ``reset`` only once).

The observation is a dict, because Sample Factory's models read dicts:

- ``obs``: the env's egocentric window, unchanged (uint8, ``(channels, x, y)``);
- ``self``: what the agent knows of itself without looking around (``SelfFeatures``):
  every channel of the centre cell of its own window (its energy, inventory, shield,
  frozen countdown, body...), the one-hot of its last action and the reward it received
  last step. These live here, not in the env, because they are a learning concern.

Social metrics reach Sample Factory's episode stats, hence TensorBoard, as
``social/<metric>`` per policy: with batched sampling through the dict of per-agent
tensors that Sample Factory reads from ``infos`` on steps where agents finish, otherwise
through each finishing agent's ``infos[i]["episode_extra_stats"]``.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from metta.env import MettaEnv, make_env
from metta.sf_integration.config import env_kwargs_from_cfg

SELF_KEY = "self"
STATS_PREFIX = "social"
# the social metrics that are not already Sample Factory's own episode reward
_SKIP_METRICS = ("reward",)


class SelfFeatures:
    """The ``self`` vector of N agents: centre cell of each window, last action one-hot, last reward."""

    def __init__(self, num_agents: int, obs_shape: tuple[int, int, int], num_actions: int):
        channels, width, height = obs_shape
        self.centre = (width // 2, height // 2)
        self.channels, self.num_actions = channels, num_actions
        self.size = channels + num_actions + 1
        self.last_action = np.zeros(num_agents, dtype=np.int64)
        self.last_reward = np.zeros(num_agents, dtype=np.float32)

    def reset(self) -> None:
        self.last_action[:] = 0
        self.last_reward[:] = 0.0

    def record(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        self.last_action[:] = actions
        self.last_reward[:] = rewards

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        n = len(obs)
        out = np.zeros((n, self.size), dtype=np.float32)
        out[:, :self.channels] = obs[:, :, self.centre[0], self.centre[1]]
        out[np.arange(n), self.channels + self.last_action] = 1.0
        out[:, -1] = self.last_reward
        return out


def observation_space(env: MettaEnv) -> spaces.Dict:
    n_self = SelfFeatures(1, env.obs_shape, env.engine.num_actions).size
    return spaces.Dict({"obs": spaces.Box(0, 255, env.obs_shape, dtype=np.uint8),
                        SELF_KEY: spaces.Box(-np.inf, np.inf, (n_self,), dtype=np.float32)})


class MettaSFEnv(gym.Env):
    """One ``MettaEnv`` as a Sample Factory multi-agent env (see the module docstring)."""

    metadata = {"render_modes": []}

    def __init__(self, env: MettaEnv, batched: bool, seed: int | None = None):
        self.env = env
        self.batched = batched
        self.seed_offset = seed
        self.num_agents = env.num_agents_total
        self.is_multiagent = True
        self.observation_space = observation_space(env)
        self.action_space = env.action_space(env.possible_agents[0])
        self.features = SelfFeatures(self.num_agents, env.obs_shape, self.action_space.n)
        self._agents = env.possible_agents

    def _obs(self, obs: dict):
        grid = np.stack([obs[a] for a in self._agents])
        feats = self.features(grid)
        if self.batched:
            return {"obs": grid, SELF_KEY: feats}
        return [{"obs": g, SELF_KEY: f} for g, f in zip(grid, feats)]

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None and self.seed_offset is not None:  # Sample Factory passes each env's id
            seed = self.seed_offset * 100_003 + seed
        obs, _ = self.env.reset(seed=seed)
        self.features.reset()
        return self._obs(obs), ({} if self.batched else [{} for _ in self._agents])

    def step(self, actions):
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_agents)
        obs, rew, term, trunc, infos = self.env.step(dict(zip(self._agents, actions.tolist())))
        rewards = np.fromiter(rew.values(), dtype=np.float32, count=self.num_agents)
        terminated = np.fromiter(term.values(), dtype=bool, count=self.num_agents)
        truncated = np.fromiter(trunc.values(), dtype=bool, count=self.num_agents)
        self.features.record(actions, rewards)
        episode = [infos[a]["episode"] for a in self._agents] if not self.env.agents else None
        if episode is not None:  # Sample Factory expects the env to start the next episode itself
            obs, _ = self.env.reset()
            self.features.reset()
        return (self._obs(obs), rewards if self.batched else rewards.tolist(),
                terminated if self.batched else terminated.tolist(),
                truncated if self.batched else truncated.tolist(), self._infos(episode))

    def _infos(self, episode: list[dict] | None):
        keys = [k for k in episode[0] if k not in _SKIP_METRICS] if episode else []
        if self.batched:
            if not episode:
                return {}
            return {STATS_PREFIX: {k: torch.tensor([m[k] for m in episode], dtype=torch.float32) for k in keys}}
        if not episode:
            return [{} for _ in self._agents]
        return [{"episode_extra_stats": {f"{STATS_PREFIX}/{k}": float(m[k]) for k in keys}} for m in episode]

    def render(self):
        return None

    def close(self):
        self.env.close()


def make_sf_env(full_env_name: str, cfg=None, env_config=None, render_mode: str | None = None) -> MettaSFEnv:
    """Sample Factory's env factory: the preset ``full_env_name`` with the project's flags from ``cfg``.

    Sample Factory seeds each env's first reset with the env's id; ``--seed`` shifts that
    stream, so two runs with different seeds play different levels.
    """
    kwargs = env_kwargs_from_cfg(cfg) if cfg is not None else {}
    seed = getattr(cfg, "seed", None)
    env = make_env(full_env_name, seed=seed, **kwargs)
    return MettaSFEnv(env, batched=bool(getattr(cfg, "batched_sampling", False)), seed=seed)
