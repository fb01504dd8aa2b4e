"""Play episodes with a random policy and print what happened.

``python -m metta.bench.rollout --env metta-teams --steps 300`` prints hearts (the env's own
counters), rewards and throughput: a first look at a game.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from tqdm import tqdm

from metta.runtime.lifetime import run_command


def random_rollout(env, steps: int, seed: int, progress: bool = True) -> dict:
    """Run ``steps`` env steps with uniformly random actions (resetting as episodes end)."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    n = len(env.possible_agents)
    totals, hearts = np.zeros(n), np.zeros(n)
    episodes, t0 = 0, time.perf_counter()
    for _ in tqdm(range(steps), desc=f"{env.name} random policy", unit="step", disable=not progress,
                  mininterval=0.5, leave=False):
        actions = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
        obs, rew, term, trunc, infos = env.step(actions)
        for a, r in rew.items():
            totals[int(a.split("_")[1])] += r
        if not env.agents:
            episodes += 1
            hearts += [infos[a]["episode"]["hearts"] for a in env.possible_agents]
            obs, _ = env.reset()
    elapsed = time.perf_counter() - t0
    if env.agents:  # the episode still running
        hearts += [m["hearts"] for m in env.metrics.episode(env.engine)]
    return {
        "env": env.name, "agents": n, "steps": steps, "episodes_finished": episodes,
        "reward_total": float(totals.sum()), "reward_per_agent": float(totals.mean()),
        "hearts_per_agent": float(hearts.mean()),
        "agents_with_a_heart": int((hearts > 0).sum()),
        "agent_steps_per_s": steps * n / elapsed, "seconds": elapsed,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench.rollout", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    return run_command(lambda stops: _run(args))


def _run(args) -> int:
    from metta import make_env

    env = make_env(args.env, seed=args.seed)
    summary = random_rollout(env, args.steps, args.seed, progress=not args.json)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['env']}: {summary['agents']} agents, {summary['steps']} steps of a random policy")
        print(f"  hearts per agent   {summary['hearts_per_agent']:.3f}  "
              f"({summary['agents_with_a_heart']} agents earned at least one)")
        print(f"  reward (total)     {summary['reward_total']:.1f}")
        print(f"  throughput         {summary['agent_steps_per_s']:,.0f} agent-steps/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
