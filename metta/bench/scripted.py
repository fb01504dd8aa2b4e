"""The scripted agents' cost per step beside the env's own step: ``python -m metta.bench.scripted [--json]``.

Plays ``--steps`` steps of the scripted oracle (metta.scripted.agents, every agent) on ``--env`` after a warm-up
(the Numba compile), timing separately the agents' choice of every action (``ScriptedAgents.act``) and the env's
step (``step_arrays``, observations included); episodes restart when they end. Prints milliseconds per step of
each, their ratio, agent-steps/s of the env alone and of the env with the agents choosing, and the hearts per
agent of the finished episodes.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from metta.bench.rollout import env_bench

WARMUP = 20


def measure(env, steps: int, seed: int = 0, warmup: int = WARMUP) -> dict:
    from metta.scripted.agents import ORACLE, ScriptedAgents

    env.reset(seed=seed)
    agents = ScriptedAgents(env, ORACLE, seed=seed)
    n = env.num_agents_total
    choose = step = 0.0
    hearts, episode = [], 0
    for t in range(warmup + steps):
        t0 = time.perf_counter()
        actions = agents.act()
        t1 = time.perf_counter()
        *_, metrics = env.step_arrays(actions)
        t2 = time.perf_counter()
        if t >= warmup:
            choose, step = choose + t1 - t0, step + t2 - t1
        if metrics is not None:
            hearts += [m.get(env.facts.headline or "hearts", 0) for m in metrics]
            episode += 1
            env.reset(seed=seed + episode)
            agents.reset(seed + episode)
    return {"env": env.name, "agents": n, "steps": steps,
            "scripted_ms_per_step": 1e3 * choose / steps, "env_ms_per_step": 1e3 * step / steps,
            "scripted_over_env": choose / step if step else None,
            "env_agent_steps_per_s": n * steps / step if step else None,
            "with_scripted_agent_steps_per_s": n * steps / (step + choose) if step + choose else None,
            "episodes_finished": episode,
            "hearts_per_agent": float(np.mean(hearts)) if hearts else None}


def describe(s: dict) -> list[str]:
    lines = [f"{s['env']}: {s['agents']} agents, {s['steps']} steps of the scripted oracle",
             f"  scripted agents   {s['scripted_ms_per_step']:.3f} ms per step (every agent's action)",
             f"  env step          {s['env_ms_per_step']:.3f} ms per step",
             f"  ratio             {s['scripted_over_env']:.2f} x the env's step",
             f"  agent-steps/s     {s['env_agent_steps_per_s']:,.0f} env alone, "
             f"{s['with_scripted_agent_steps_per_s']:,.0f} with the agents choosing"]
    if s["hearts_per_agent"] is not None:
        lines.append(f"  hearts per agent  {s['hearts_per_agent']:.3f} ({s['episodes_finished']} episodes)")
    return lines


def main(argv=None) -> int:
    return env_bench(argv, "python -m metta.bench.scripted", __doc__, 1000,
                     lambda env, steps, seed, quiet: measure(env, steps, seed), describe)


if __name__ == "__main__":
    sys.exit(main())
