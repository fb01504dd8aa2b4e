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


def env_bench(argv, prog: str, doc: str, steps: int, measure, describe) -> int:
    """A bench script's command line over one env: ``--env``, ``--steps`` (default ``steps``), ``--seed``, ``--json``.
    ``measure(env, steps, seed, quiet)`` returns the summary, printed as JSON with ``--json``, else as the lines of
    ``describe(summary)``; the env is closed either way."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)

    def body(stops) -> int:
        from metta import make_env

        env = make_env(args.env, seed=args.seed)
        try:
            summary = measure(env, args.steps, args.seed, args.json)
        finally:
            env.close()
        print(json.dumps(summary, indent=2) if args.json else "\n".join(describe(summary)))
        return 0

    return run_command(body)


def describe(summary: dict) -> list[str]:
    return [f"{summary['env']}: {summary['agents']} agents, {summary['steps']} steps of a random policy",
            f"  hearts per agent   {summary['hearts_per_agent']:.3f}  "
            f"({summary['agents_with_a_heart']} agents earned at least one)",
            f"  reward (total)     {summary['reward_total']:.1f}",
            f"  throughput         {summary['agent_steps_per_s']:,.0f} agent-steps/s"]


def main(argv=None) -> int:
    return env_bench(argv, "python -m metta.bench.rollout", __doc__, 300,
                     lambda env, steps, seed, quiet: random_rollout(env, steps, seed, progress=not quiet), describe)


if __name__ == "__main__":
    sys.exit(main())
