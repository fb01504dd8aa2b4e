"""Simulator throughput: ``python -m metta.bench [--json]``.

Runs the observation backends side by side in one process on the same map, seed and
actions (``griddly``: Griddly's own per-player observers, the baseline; ``numpy`` and
``vulkan``: one global view cut into every agent's window in one batched call) and
prints agent-steps/s and env-steps/s for each (median of ``--repeats`` timed runs after
a warm-up, on one core). Then a sweep over the number of agents (4, 24, 96 by default,
map area growing with the agents) shows how a step's cost scales. Actions are drawn
before timing, so the figures are the environment's own: Griddly's rules, the
observations, kinship sharing and the social metrics.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

from metta.env import OBS_BACKENDS

# Griddly's own per-player observers first: the baseline the others are compared with
BACKENDS = tuple(sorted(OBS_BACKENDS, key=lambda b: b != "griddly"))


def bench_env(env, steps: int, repeats: int, seed: int = 0) -> dict:
    n = len(env.possible_agents)
    rng = np.random.default_rng(seed)
    plans = rng.integers(0, env.action_space(env.possible_agents[0]).n, size=(steps, n))
    action_dicts = [dict(zip(env.possible_agents, plan.tolist())) for plan in plans]
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
            "step_us": 1e6 / env_steps, "runs_env_steps_per_s": rates}


def sweep_map(num_agents: int) -> dict:
    """A map with the default map's density of agents and objects (24 agents on 40x40)."""
    scale = num_agents / 24
    side = max(10, 2 * round(20 * math.sqrt(scale)))
    return dict(num_agents=num_agents, width=side, height=side, generators=max(1, round(20 * scale)),
                chargers=max(1, round(10 * scale)), altars=max(1, round(5 * scale)))


def run_backends(env_name: str, backends, steps: int, repeats: int, seed: int, **options) -> dict:
    from metta import make_env

    out = {}
    for backend in backends:
        try:
            env = make_env(env_name, seed=seed, obs_backend=backend, **options)
        except Exception as err:  # e.g. no Vulkan device on this machine: reported, not fatal
            out[backend] = {"error": f"{type(err).__name__}: {err}"}
            continue
        try:
            out[backend] = bench_env(env, steps, repeats, seed)
        finally:
            env.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--steps", type=int, default=1000, help="env steps per timed run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, from {','.join(BACKENDS)}")
    ap.add_argument("--sweep", default="4,24,96", help="agent counts for the scaling sweep ('' to skip)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        ap.error(f"unknown backend(s) {', '.join(sorted(unknown))}; choose from {', '.join(BACKENDS)}")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    result = {"env": args.env, "steps": args.steps, "repeats": args.repeats, "seed": args.seed,
              "python": platform.python_version(), "cores": 1,
              "backends": run_backends(args.env, backends, args.steps, args.repeats, args.seed)}
    base = result["backends"].get("griddly", {}).get("agent_steps_per_s")
    for r in result["backends"].values():
        if base and "agent_steps_per_s" in r:
            r["speedup_vs_griddly"] = r["agent_steps_per_s"] / base
    sweep = [int(s) for s in args.sweep.split(",") if s]
    result["sweep"] = [{"map": sweep_map(n), "backends": run_backends(
        args.env, backends, max(100, args.steps // 4), args.repeats, args.seed, **sweep_map(n))} for n in sweep]
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.env}: random actions, one core, median of {args.repeats} runs of {args.steps} steps")
    print(f"  {'backend':<8} {'agent-steps/s':>14} {'env-steps/s':>12} {'us/step':>9} {'vs griddly':>10}")
    for b, r in result["backends"].items():
        if "error" in r:
            print(f"  {b:<8} unavailable: {r['error']}")
        else:
            print(f"  {b:<8} {r['agent_steps_per_s']:>14,.0f} {r['env_steps_per_s']:>12,.0f} {r['step_us']:>9,.0f} "
                  f"{r.get('speedup_vs_griddly', float('nan')):>9.1f}x")
    if result["sweep"]:
        print("scaling (agent-steps/s; microseconds per env step in brackets):")
        print(f"  {'agents':>6} {'map':>7}  " + "  ".join(f"{b:>20}" for b in backends))
        for point in result["sweep"]:
            m = point["map"]
            cells = []
            for b in backends:
                r = point["backends"][b]
                cells.append(f"{'unavailable':>20}" if "error" in r else
                             f"{r['agent_steps_per_s']:>11,.0f} [{r['step_us']:>6,.0f}]")
            print(f"  {m['num_agents']:>6} {m['width']:>3}x{m['height']:<3}  " + "  ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
