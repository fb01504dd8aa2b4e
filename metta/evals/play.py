"""Play one episode of a policy in an env, optionally filming it: the loop every evaluation shares."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Outcome:
    """What an episode left behind: the env's own social metrics per agent, and the agents' final variables."""

    seed: int
    steps: int
    metrics: list[dict]   # infos[agent]["episode"], in agent order
    agents: list[dict]    # env.agent_variables() at the end (location, orientation, energy, inventory, ...)
    actions: np.ndarray   # how often each action index was taken, over all agents and steps


def play_episode(env, policy, seed: int, scripted: dict | None = None, film=None, progress=None,
                 record=None, watch=None, options: dict | None = None) -> Outcome:
    """Reset ``env`` with ``seed`` and play until the episode ends.

    ``policy`` (a metta.evals.policies.Policy) acts for every agent, given each step's
    observations and the rewards that came with them; ``scripted`` ({agent index: ScriptedAgent}) overrides some of
    them. ``film()`` is called after the reset and after every step (to add a frame to a video).
    ``progress`` (a tqdm bar) advances one per step. ``record`` (a metta.viz.replay.Recorder) is handed the env after
    the reset (``begin(env, seed)``) and every step's actions, rewards and infos (``step``). ``watch(env, obs,
    rewards)`` is called before every ``policy.act`` with what it is given (counterfactual probes,
    metta.evals.probes). ``options``: the env's reset options (e.g. ``{"swap_arms": True}``).
    """
    obs, _ = env.reset(seed=seed) if options is None else env.reset(seed=seed, options=options)
    policy.reset(len(env.possible_agents), env.max_steps, seed)  # a sampling policy: the same seed, the same draws
    for s in (scripted or {}).values():
        s.reset()
    if record is not None:
        record.begin(env, seed)
    if film is not None:
        film()
    steps, infos, rewards = 0, {}, None
    counts = np.zeros(env.action_space(env.possible_agents[0]).n, dtype=np.int64)
    while env.agents:
        if watch is not None:
            watch(env, obs, rewards)
        actions = policy.act(obs, rewards=rewards)
        for i, s in (scripted or {}).items():
            actions[env.possible_agents[i]] = s.act()
        counts += np.bincount(list(actions.values()), minlength=len(counts))
        obs, rewards, _, _, infos = env.step(actions)
        steps += 1
        if record is not None:
            record.step(actions, rewards, infos)
        if film is not None:
            film()
        if progress is not None:
            progress.update(1)
    agents = env.agent_variables()
    return Outcome(seed=seed, steps=steps, metrics=[infos[a]["episode"] for a in env.possible_agents], agents=agents,
                   actions=counts)


def summarize(metrics: list[list[dict]]) -> dict:
    """Mean per agent and episode of every metric, over episodes' per-agent metrics; undefined values (None) are
    left out, and a metric no episode defined is None."""
    rows = [m for episode in metrics for m in episode]
    out = {}
    for k in rows[0] if rows else ():
        values = [m[k] for m in rows if m.get(k) is not None]
        out[k] = float(np.mean(values)) if values else None
    return out
