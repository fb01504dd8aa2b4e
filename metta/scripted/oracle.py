"""The eval suite's ``oracle`` policy (metta.evals.policies.policy_for): every agent a scripted agent
(metta.scripted.agents) under ``ORACLE``'s conduct, through the Policy contract."""
from __future__ import annotations

from metta.evals.contract import Policy
from metta.scripted.agents import ORACLE, Conduct, ScriptedAgents


class ScriptedOracle(Policy):
    """The ``oracle`` policy: every agent a ``ScriptedAgents`` agent under ``ORACLE``'s conduct (shields, gifts
    to kin, robs a stranger when no generator can be reached): what an agent that understood the game would do.
    It shows that a scenario is solvable and how well: the ceiling."""

    def __init__(self, env, conduct: Conduct = ORACLE):
        self.env = env
        self.agents = ScriptedAgents(env, conduct)

    def reset(self, num_agents: int, max_steps: int | None = None, seed: int | None = None) -> None:
        self.agents.reset(0 if seed is None else seed)

    def act(self, obs, rewards=None, deterministic: bool = True) -> dict[str, int]:
        index = {a: i for i, a in enumerate(self.env.possible_agents)}
        actions = self.agents.act([index[a] for a in obs])
        return {a: int(actions[index[a]]) for a in obs}
