"""Simulator throughput: ``python -m metta.bench [--json]``.

Steps the default ``metta-teams`` map with uniformly random actions on one core and
prints agent-steps/s and env-steps/s (median of ``--repeats`` timed runs after a
warm-up). Actions are drawn before timing, so the figure is the environment's own.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np


def bench_env(env, steps: int, repeats: int, seed: int = 0) -> dict:
    n = len(env.possible_agents)
    rng = np.random.default_rng(seed)
    plans = rng.integers(0, env.action_space(env.possible_agents[0]).n, size=(steps, n))
    action_dicts = [{a: int(plan[i]) for i, a in enumerate(env.possible_agents)} for plan in plans]
    env.reset(seed=seed)
    for t in range(min(50, steps)):  # warm-up
        env.step(action_dicts[t])
        if not env.agents:
            env.reset()
    rates = []
    for _ in range(repeats):
        env.reset(seed=seed)
        t0 = time.perf_counter()
        for t in range(steps):
            env.step(action_dicts[t])
            if not env.agents:
                env.reset()
        rates.append(steps / (time.perf_counter() - t0))
    env_steps = statistics.median(rates)
    return {"agents": n, "env_steps_per_s": env_steps, "agent_steps_per_s": env_steps * n,
            "runs_env_steps_per_s": rates}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--steps", type=int, default=1000, help="env steps per timed run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    from metta import make_env

    env = make_env(args.env, seed=args.seed)
    result = {"env": args.env, "steps": args.steps, "repeats": args.repeats, "observations": "griddly",
              "python": platform.python_version(), **bench_env(env, args.steps, args.repeats, args.seed)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.env}: {result['agents']} agents, random actions, one core, median of {args.repeats} runs "
              f"of {args.steps} steps")
        print(f"  {result['agent_steps_per_s']:>12,.0f} agent-steps/s")
        print(f"  {result['env_steps_per_s']:>12,.0f} env-steps/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
