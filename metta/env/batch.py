"""K Metta envs stepped as one batch, their agents side by side as array rows.

``EnvBatch`` is what a trainer's worker holds: one call steps every env (each its own Griddly
game, one ``step_parallel`` each) and returns every agent's observation, reward and episode
end in preallocated arrays. Each env's window renderer writes straight into its rows of one
``(K * N, H, W, C)`` buffer, so a step builds no per-agent Python object. An env whose
episode ends starts its next one at once (the rows then hold the new episode's first
observation) and its agents' episode metrics are returned with that step.

The arrays returned are the batch's own and are overwritten by the next step: copy what you
keep (Sample Factory copies each step into its trajectory buffers).
"""
from __future__ import annotations

import numpy as np

from metta.env import MettaEnv


class EnvBatch:
    def __init__(self, envs: list[MettaEnv]):
        if not envs:
            raise ValueError("an EnvBatch needs at least one env")
        first = envs[0]
        for env in envs[1:]:
            if (env.num_agents_total, env.obs_shape, env.engine.num_actions) != \
                    (first.num_agents_total, first.obs_shape, first.engine.num_actions):
                raise ValueError("every env of a batch needs the same agents, observation shape and actions")
        self.envs = list(envs)
        self.agents_per_env = n = first.num_agents_total
        self.num_agents = n * len(self.envs)
        self.num_actions = first.engine.num_actions
        self.slices = [slice(i * n, (i + 1) * n) for i in range(len(self.envs))]
        c, w, h = first.obs_shape
        self.grid = np.zeros((self.num_agents, h, w, c), dtype=np.uint8)  # every window, channels last
        self.obs = self.grid.transpose(0, 3, 2, 1)            # (K * N, C, W, H): the env's layout, a view
        self.rewards = np.zeros(self.num_agents, dtype=np.float32)
        self.raw_rewards = np.zeros(self.num_agents, dtype=np.float32)
        self.terminated = np.zeros(self.num_agents, dtype=bool)
        self.truncated = np.zeros(self.num_agents, dtype=bool)  # true only where the episode was not terminated

    def reset(self, seeds: list[int | None] | None = None) -> np.ndarray:
        for env, rows, seed in zip(self.envs, self.slices, seeds or [None] * len(self.envs)):
            env.reset_arrays(seed, out=self.grid[rows])
        return self.obs

    def step(self, actions: np.ndarray):
        """``actions`` int ``(K * N,)`` -> ``(obs, rewards, terminated, truncated, episodes)``; ``episodes`` maps
        the index of each env whose episode ended at this step to its agents' metrics."""
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_agents)
        if actions.min() < 0 or actions.max() >= self.num_actions:
            bad = np.flatnonzero((actions < 0) | (actions >= self.num_actions))[0]
            raise ValueError(f"action {actions[bad]} for agent row {bad} is outside Discrete({self.num_actions})")
        episodes = {}
        for i, (env, rows) in enumerate(zip(self.envs, self.slices)):
            _, shared, raw, done, truncated, episode = env.step_arrays(actions[rows], out=self.grid[rows])
            self.rewards[rows], self.raw_rewards[rows] = shared, raw
            self.terminated[rows], self.truncated[rows] = done, truncated
            if episode is not None:
                episodes[i] = episode
                env.reset_arrays(out=self.grid[rows])
        return self.obs, self.rewards, self.terminated, self.truncated, episodes

    def close(self) -> None:
        for env in self.envs:
            env.close()
