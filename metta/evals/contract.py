"""The one contract every player of the project calls, ``Policy``, alone, so that whatever implements it (the
scripted agents, the trained policy) depends on it and not on the policies of metta.evals.policies, which name them.
metta.evals.policies describes it. ``Trained`` is what a trained-policy loader returns: a ``Policy`` that names the
env it trained on."""
from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from metta.env.config import EnvConfig


class Policy(abc.ABC):
    """Acts for every agent of an env, one step at a time (see the module docstring; a policy that can be probed
    also has ``log_probs``)."""

    def reset(self, num_agents: int, max_steps: int | None = None, seed: int | None = None) -> None:
        """Start an episode of ``num_agents`` agents and ``max_steps`` steps (a policy with memory clears it
        here); ``seed``, the episode's, seeds whatever the policy samples (None: not reproducible)."""

    @abc.abstractmethod
    def act(self, obs: dict[str, np.ndarray], rewards: dict[str, float] | None = None,
            deterministic: bool = False) -> dict[str, int]:
        """An action index for every agent in ``obs``. ``rewards``: what the env returned with ``obs``
        (None at an episode's start). ``deterministic``: the most likely action instead of a sample."""


class Trained(Policy):
    """A trained policy, as the trained-policy loader returns it (metta.evals.policies): a ``Policy`` that also
    names the env it trained on, ``env_name``, and holds that env's config, ``env_config`` (where evaluate plays
    it unless told otherwise)."""

    env_name: str
    env_config: EnvConfig
