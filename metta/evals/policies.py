"""The one contract every player of the project calls, and the policies that implement it.

``Policy`` (metta.evals.contract): ``reset(num_agents, max_steps, seed)`` at each episode's start (max_steps: the
episode's length, for a policy that observes the time left; seed: the episode's seed, so that a policy that samples
its actions draws the same samples whenever it plays the same episode), then ``act(obs, rewards)`` once per
step with the env's observation dict and the rewards the env returned with it (None at an
episode's start); it returns an action per agent in ``obs``. A trained policy saw each
agent's last reward in training and needs it to act the same, so every player passes it:
``metta.evals.play.play_episode`` is the loop evaluate, the eval suite and learning_bench share.

A policy that can be probed (counterfactual probes, metta.evals.probes) also has ``log_probs(grids, agents,
rewards=None)``: the log-probabilities ``(rows, actions)`` of every action for observations ``grids`` (R, C, W, H)
as agents ``agents`` (R,) (each row's position among the observations ``act`` is given; rows may repeat an agent)
would act on them now, from their current memory, with ``rewards`` (R,) the rewards ``act`` will be given with them
(None: as act given None); it advances no memory and samples nothing. ``RandomPolicy`` and the trained policy
(metta.sf_integration.policy) have it.

- ``RandomPolicy``: seeded random actions (uniform, or from given probabilities): the floor
  every learner must beat.
- ``ScriptedOracle`` (metta.scripted.oracle): reads the true game state (not the observations) and plans on
  shortest-path distance fields; what an agent that understood the game would do. It shows that a
  scenario is solvable and how well: the ceiling.
- ``ScriptedAgent``: one agent's fixed routine (face a direction, then repeat an action every
  k steps), for the opponents of the competition scenarios; not a ``Policy``.
- ``CompositePolicy``: several policies in one env, each acting for the agents a role map gives it
  (a focal group among background agents: metta.evals.crossplay).
- ``policy_for(spec, ...)``: ``"random"``, ``"oracle"``, or the name of an experiment in
  ``train_dir``, loaded by the trained-policy loader. That loader is registered from outside
  (``register_trained_loader``; Sample Factory's is declared under the ``metta.policy_loaders``
  entry point and registered by ``metta.sf_integration.policy``), so nothing here needs torch
  or Sample Factory.
"""
from __future__ import annotations

import glob
import os
from collections.abc import Callable
from importlib.metadata import entry_points

import numpy as np

from metta.errors import ConfigError
from metta.evals.contract import Policy, Trained
from metta.scripted.fields import ROTATE_TO

BUILTIN = ("random", "oracle")


LOADER_ENTRY_POINTS = "metta.policy_loaders"


class RandomPolicy(Policy):
    """Random actions from ``num_actions`` (uniform, or with probabilities ``p``), from a seeded generator."""

    def __init__(self, num_actions: int, seed: int | None = None, p: np.ndarray | None = None):
        self.num_actions = int(num_actions)
        self.p = None if p is None else np.asarray(p, dtype=np.float64)
        self.rng = np.random.default_rng(seed)

    def act(self, obs, rewards=None, deterministic: bool = False) -> dict[str, int]:
        if self.p is None:
            draws = self.rng.integers(self.num_actions, size=len(obs))
        else:
            draws = self.rng.choice(self.num_actions, size=len(obs), p=self.p)
        return {a: int(x) for a, x in zip(obs, draws)}

    def log_probs(self, grids, agents, rewards=None) -> np.ndarray:
        """The probe protocol (module docstring): the same probabilities whatever the observation."""
        p = np.full(self.num_actions, 1.0 / self.num_actions) if self.p is None else self.p
        with np.errstate(divide="ignore"):
            return np.tile(np.log(p), (len(grids), 1))


class CompositePolicy(Policy):
    """Each agent played by the policy of its role: ``policies`` {role: Policy}, ``roles`` a role per agent index of
    ``agents`` (the env's ``possible_agents``), or a callable returning them, asked at every ``reset`` (the roles of
    an episode can depend on what the env's reset drew). Every policy sees only its own agents' observations and
    rewards, in env order, and is reset with their number; each role needs its own Policy instance (a trained
    policy keeps per-agent memory by position)."""

    def __init__(self, policies: dict[str, Policy], roles, agents: list[str]):
        if len({id(p) for p in policies.values()}) != len(policies):
            raise ValueError("CompositePolicy: give every role its own Policy instance")
        self.policies, self._roles, self.agents = dict(policies), roles, list(agents)
        self.assignment: dict[str, list[str]] = {}

    def reset(self, num_agents: int, max_steps: int | None = None, seed: int | None = None) -> None:
        roles = list(self._roles() if callable(self._roles) else self._roles)
        if len(roles) != num_agents or len(self.agents) != num_agents:
            raise ValueError(f"CompositePolicy: {len(roles)} roles and {len(self.agents)} agents for {num_agents}")
        unknown = sorted(set(roles) - set(self.policies))
        if unknown:
            raise ValueError(f"CompositePolicy: no policy for role(s) {', '.join(map(str, unknown))}")
        self.role_of = dict(zip(self.agents, roles))
        self.assignment = {r: [a for a, x in self.role_of.items() if x == r] for r in self.policies}
        for role, policy in self.policies.items():
            policy.reset(len(self.assignment[role]), max_steps, seed)

    def act(self, obs, rewards=None, deterministic: bool = False) -> dict[str, int]:
        out = {}
        for role, policy in self.policies.items():
            mine = [a for a in self.assignment[role] if a in obs]
            if mine:
                out.update(policy.act({a: obs[a] for a in mine},
                                      None if rewards is None else {a: rewards[a] for a in mine if a in rewards},
                                      deterministic=deterministic))
        return {a: out[a] for a in obs}


class ScriptedAgent:
    """Turn to face ``facing`` (dx, dy) once, then do ``action`` (name, input) every ``period`` steps from ``start``."""

    def __init__(self, env, facing: tuple[int, int], action: tuple[str, int], period: int = 1, start: int = 1):
        dx, dy = facing
        self.turn = env.engine.action_index("rotate", ROTATE_TO[(dx, dy)])
        self.action = env.engine.action_index(*action)
        self.period, self.start = int(period), int(start)
        self.t = 0

    def reset(self) -> None:
        self.t = 0

    def act(self) -> int:
        t, self.t = self.t, self.t + 1
        if t == 0:
            return self.turn
        return self.action if t >= self.start and (t - self.start) % self.period == 0 else 0


_trained_loader: Callable[..., Trained] | None = None


def register_trained_loader(load: Callable[..., Trained]) -> None:
    """Make ``load(experiment, train_dir=..., [checkpoint=...])`` the way experiments in ``train_dir`` become
    policies, ``Trained`` ones (``checkpoint``: one file of the experiment instead of its latest)."""
    global _trained_loader
    _trained_loader = load


def trained_loader() -> Callable[..., Trained]:
    """The registered loader; else the one the installed packages declare (entry point group
    ``metta.policy_loaders``), registered on first use."""
    if _trained_loader is None:
        for ep in entry_points(group=LOADER_ENTRY_POINTS):
            try:
                register_trained_loader(ep.load())
            except ImportError as err:
                raise ConfigError(f"cannot load trained policies: {ep.value} (entry point {ep.name!r} of "
                                  f"{LOADER_ENTRY_POINTS}) does not import ({err})") from None
            break
    if _trained_loader is None:
        raise ConfigError(f"cannot load trained policies: no loader is registered (none under the "
                          f"{LOADER_ENTRY_POINTS} entry points; is metta installed, e.g. by devops/setup.sh?)")
    return _trained_loader


def policy_for(spec: str, env, train_dir: str = "train_dir", seed: int | None = None) -> Policy:
    """The policy named ``spec``: ``random``, ``oracle`` (needs ``env``) or an experiment in ``train_dir``."""
    if spec == "random":
        return RandomPolicy(env.action_space(env.possible_agents[0]).n, seed)
    if spec == "oracle":
        from metta.scripted.oracle import ScriptedOracle  # lazily: it compiles its distance fields with Numba

        return ScriptedOracle(env)
    return load_experiment(spec, train_dir)


def load_experiment(experiment: str, train_dir: str = "train_dir", checkpoint: str | None = None) -> Trained:
    """A trained experiment's latest checkpoint (or the file ``checkpoint`` of it) as a policy; ConfigError when it
    or its checkpoint is missing."""
    path = os.path.join(train_dir, experiment)
    if not experiment or not os.path.isdir(path):
        known = sorted(d for d in os.listdir(train_dir) if os.path.isdir(os.path.join(train_dir, d))) \
            if os.path.isdir(train_dir) else []
        raise ConfigError(f"experiment {experiment!r} not found: no directory {path}"
                          + (f" (experiments in {train_dir}: {', '.join(known)})" if known else
                             f" ({train_dir} holds no experiments)")
                          + f"; or use a built-in policy: {', '.join(BUILTIN)}")
    if not glob.glob(os.path.join(path, "checkpoint_p*", "*.pth")):
        raise ConfigError(f"experiment {experiment!r} has no checkpoint: nothing matches "
                          f"{os.path.join(path, 'checkpoint_p*', '*.pth')}; train it first")
    if checkpoint is None:
        return trained_loader()(experiment, train_dir=train_dir)
    return trained_loader()(experiment, train_dir=train_dir, checkpoint=checkpoint)
