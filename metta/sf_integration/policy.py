"""A trained policy, loaded from Sample Factory's ``train_dir`` to act in a ``MettaEnv``.

``load_policy(experiment)`` reads ``train_dir/<experiment>/config.json`` (the env's config, the
model's sizes) and the latest checkpoint of policy 0 (read with
``torch.load(weights_only=True)``: checkpoints are untrusted files), and rebuilds the
same actor-critic. ``TrainedPolicy.act`` steps all agents at once from the env's own
observation dict, building the same ``self`` features as training
(metta.sf_integration.env.SelfFeatures; with the time left when it trained with ``--observe_time``, counted from
``reset(num_agents, max_steps, seed)``) and carrying the recurrent state between calls. It samples its actions
from a generator of its own, seeded by ``reset``'s seed: one episode seed, one play, whatever ran before.
``TrainedPolicy.log_probs`` gives the action log-probabilities of any observations for the agents' current memory
without advancing it or sampling (counterfactual probes, metta.evals.probes). It
implements metta.evals' ``Policy`` contract, and importing this module registers
``load_policy`` as the eval suite's loader of trained experiments (the package's
``metta.policy_loaders`` entry point points here, so ``python -m metta.evals`` finds it).

    policy = load_policy("metta-teams")
    env = policy.make_env(seed=0)
    obs, _ = env.reset(seed=0)
    policy.reset(len(env.possible_agents), env.max_steps, seed=0)
    rewards = None
    while env.agents:
        obs, rewards, *_ = env.step(policy.act(obs, rewards=rewards))
"""
from __future__ import annotations

import os

import numpy as np
import torch

from metta.errors import ConfigError
from metta.evals.contract import Trained
from metta.evals.policies import register_trained_loader
from metta.sf_integration.checkpoints import CheckpointError, latest_checkpoint, load_checkpoint, read_config
from metta.env.config import EnvConfig
from metta.sf_integration.config import env_config_from_cfg
from metta.sf_integration.env import GRID_KEY, SELF_KEY, SelfFeatures, observation_space, observes_time, to_layout


class TrainedPolicy(Trained):
    """An actor-critic with its recurrent state for N agents (see the module docstring)."""

    def __init__(self, model, cfg: dict, env_name: str, env_config: EnvConfig, obs_shape: tuple, num_actions: int,
                 device: torch.device, checkpoint: str, layout: str = "cwh", time: bool = False):
        """``env_config``: the env it trained on; ``obs_shape``: the env's ``(channels, width, height)``;
        ``layout``: how the model reads the grid; ``time``: it sees the time left (``--observe_time``)."""
        self.model, self.cfg, self.device = model, cfg, device
        self.layout = layout
        self.env_name = env_name
        self.env_config = env_config
        self.checkpoint = checkpoint
        self.obs_shape, self.num_actions = obs_shape, num_actions
        self.time = time
        self._rnn: torch.Tensor | None = None
        self._features: SelfFeatures | None = None
        self._max_steps: int | None = None
        self._steps = 0
        self._sampler = torch.Generator(device=device)

    def make_env(self, seed: int | None = None, **changes):
        """The env the experiment trained on (``changes``: make_env's keywords over its config, e.g. ``max_steps``)."""
        from metta import make_env

        return make_env(self.env_config, seed=seed, name=self.env_name, **changes)

    def reset(self, num_agents: int, max_steps: int | None = None, seed: int | None = None) -> None:
        """Start an episode of ``max_steps`` (a policy that sees the time left needs it): zero every agent's
        recurrent state, last action and last reward, and seed the action sampler with ``seed`` (None: from the
        operating system, not reproducible)."""
        from sample_factory.model.model_utils import get_rnn_size

        self._rnn = torch.zeros(num_agents, get_rnn_size(self.cfg), device=self.device)
        self._features = SelfFeatures(num_agents, self.obs_shape, self.num_actions, self.time)
        self._max_steps, self._steps = max_steps, 0
        if seed is None:
            self._sampler.seed()
        else:
            self._sampler.manual_seed(int(seed))

    def act(self, obs: dict[str, np.ndarray], rewards: dict[str, float] | None = None,
            deterministic: bool = False) -> dict[str, int]:
        """One step for every agent in ``obs`` (agent order as in the env).

        ``rewards``: the rewards the env returned with ``obs``; training saw each agent's
        last reward, so pass them for the policy to see the same (None counts as 0).
        ``deterministic`` takes each agent's most likely action instead of sampling.
        """
        from sample_factory.algo.utils.action_distributions import argmax_actions

        agents = list(obs)
        if self._rnn is None or len(self._rnn) != len(agents):
            self.reset(len(agents), self._max_steps)
        features, rnn = self._features, self._rnn
        assert features is not None and rnn is not None  # reset made both
        self._check_time()
        grid = self._check_grid(np.stack([obs[a] for a in agents]))
        if rewards is not None:
            features.last_reward[:] = [rewards.get(a, 0.0) for a in agents]
        with torch.inference_mode():
            dist, self._rnn = self._forward(grid, features, rnn)
            actions = (argmax_actions(dist) if deterministic
                       else torch.multinomial(dist.probs, 1, generator=self._sampler))
        actions = actions.reshape(len(agents)).cpu().numpy().astype(np.int64)
        features.last_action[:] = actions
        self._steps += 1
        return dict(zip(agents, actions.tolist()))

    def log_probs(self, grids: np.ndarray, agents, rewards=None) -> np.ndarray:
        """The log-probabilities ``(rows, actions)`` of every action for observation ``grids[k]`` (the env's
        ``(C, W, H)``) as agent ``agents[k]`` (its position among the observations ``act`` is given; rows may repeat
        one) would act on it now: from its current recurrent state, last action and time left, and last reward
        ``rewards[k]`` (what ``act`` will be given with it this step; None: the last one it saw). Advances no memory
        and samples nothing: the probe protocol of metta.evals.probes."""
        features, rnn = self._features, self._rnn
        if rnn is None or features is None:  # reset makes both
            raise ValueError(f"{self.env_name}: call reset(num_agents, max_steps) before log_probs")
        self._check_time()
        grid = self._check_grid(np.asarray(grids))
        rows = np.asarray(agents, dtype=np.int64).reshape(-1)
        if len(rows) != len(grid):
            raise ValueError(f"log_probs: {len(grid)} observations for {len(rows)} agents")
        feats = SelfFeatures(len(rows), self.obs_shape, self.num_actions, self.time)
        feats.last_action[:] = features.last_action[rows]
        feats.last_reward[:] = (features.last_reward[rows] if rewards is None
                                else np.asarray(rewards, dtype=np.float32).reshape(-1))
        with torch.inference_mode():
            dist, _ = self._forward(grid, feats, rnn[torch.from_numpy(rows).to(rnn.device)])
            return dist.log_probs.cpu().numpy().astype(np.float64)

    def _check_time(self) -> None:
        if self.time and self._max_steps is None:
            raise ValueError(f"{self.env_name}: this policy sees the time left in its episode: call "
                             f"reset(num_agents, max_steps) first")

    def _check_grid(self, grid: np.ndarray) -> np.ndarray:
        if grid.shape[1:] != tuple(self.obs_shape):
            raise ValueError(f"observations of shape {grid.shape[1:]} do not match the policy's "
                             f"{tuple(self.obs_shape)}")
        return grid

    def _forward(self, grid: np.ndarray, features: SelfFeatures, rnn: torch.Tensor):
        """The action distribution of ``grid`` (N, C, W, H) with ``features``' last actions and rewards and
        recurrent states ``rnn``, and the new recurrent states (call under torch.inference_mode)."""
        from sample_factory.algo.utils.rl_utils import prepare_and_normalize_obs

        n = len(grid)
        left = None if self._max_steps is None else np.full(n, self._max_steps - self._steps)
        feats = features(grid, left, np.full(n, self._max_steps)) if self.time else features(grid)
        inputs = {GRID_KEY: torch.from_numpy(np.ascontiguousarray(to_layout(grid, self.layout))),
                  SELF_KEY: torch.from_numpy(feats)}
        # Sample Factory's forward, without its sampling (which draws from torch's global generator): the
        # policy samples once, from its own generator
        x = self.model.forward_head(prepare_and_normalize_obs(self.model, inputs))
        x, rnn = self.model.forward_core(x, rnn)
        self.model.forward_tail(x, values_only=False, sample_actions=False)
        return self.model.last_action_distribution, rnn


def load_policy(experiment: str, train_dir: str = "train_dir", device: str = "cpu",
                checkpoint: str | None = None) -> TrainedPolicy:
    """Latest checkpoint of train_dir/experiment (Sample Factory layout), loaded with torch.load(weights_only=True);
    with ``checkpoint``, that file of the experiment's policy instead (an earlier one, for a learning curve).

    Raises metta.ConfigError naming the path when the experiment dir, its config.json or any
    checkpoint is missing, or the checkpoint is corrupted.
    """
    from metta import make_env
    from metta.sf_integration.model import architecture, architecture_of_weights
    from metta.sf_integration.train import register_components
    from sample_factory.model.actor_critic import create_actor_critic
    from sample_factory.utils.attr_dict import AttrDict

    exp_dir = os.path.join(train_dir, experiment)
    if not os.path.isdir(exp_dir):
        raise ConfigError(f"{exp_dir}: no such experiment directory (train with "
                          f"python -m metta.sf_integration.train --experiment={experiment})")
    cfg = AttrDict(read_config(exp_dir))
    policy_id = int(cfg.get("policy_index", 0) or 0)
    folder = os.path.join(exp_dir, f"checkpoint_p{policy_id}")
    path = latest_checkpoint(exp_dir, policy_id) if checkpoint is None else checkpoint
    if path is None:
        raise CheckpointError(f"{folder}: no checkpoint")
    if checkpoint is not None and (os.path.dirname(os.path.abspath(path)) != os.path.abspath(folder)
                                   or not os.path.isfile(path)):
        raise CheckpointError(f"{checkpoint}: not a checkpoint file of {folder}")
    torch_device = torch.device(device)
    ckpt = load_checkpoint(path, torch_device)
    arch = architecture(cfg)
    cfg.architecture = arch.name  # a config.json from before the option: conv
    weights = architecture_of_weights(ckpt["model"])
    if weights is not None and weights != arch.name:
        raise CheckpointError(f"{path}: holds {weights} weights, but {exp_dir}/config.json says architecture "
                              f"{arch.name!r}: the checkpoint and the config are of different runs")
    env_config = env_config_from_cfg(cfg, where=os.path.join(exp_dir, "config.json"))
    env = make_env(env_config, name=cfg.env)
    try:
        obs_space = observation_space(env, arch.layout, observes_time(cfg))
        action_space = env.action_space(env.possible_agents[0])
        obs_shape = env.obs_shape
    finally:
        env.close()
    register_components()
    model = create_actor_critic(cfg, obs_space, action_space)
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as err:
        raise CheckpointError(f"{path}: does not fit the {arch.name} model {exp_dir}/config.json describes "
                              f"({str(err).splitlines()[0]})") from None
    model.model_to_device(torch_device)
    model.eval()
    return TrainedPolicy(model, cfg, cfg.env, env_config, obs_shape, int(action_space.n), torch_device, path,
                         layout=arch.layout, time=observes_time(cfg))


register_trained_loader(load_policy)

