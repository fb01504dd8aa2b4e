"""The project's side of the peer benchmark: ``python -m metta.bench.peers.project_bench [--json]``.

Times ``metta.make_env(--env)`` (the default, numba, observation backend) with
``metta.bench.peers.mettagrid_bench.bench_parallel_env``, the loop that times mettagrid's PettingZoo env: uniformly
random actions drawn before timing, one core, median of ``--repeats`` runs of ``--steps`` steps after a warm-up; and
says what the env holds (object counts on its first level, the observation), so that ``devops/peer_bench.sh``
can set it beside mettagrid's arena. ``project_round`` is the function to call from elsewhere.
"""
from __future__ import annotations

import argparse
import collections
import json
import platform
import re
import sys

# stdlib-only at import; bench_parallel_env times both sides the same way
from metta.bench.peers.mettagrid_bench import bench_parallel_env, pin_one_core, positive_int


def level_counts(level: str, chars: dict) -> dict:
    """Objects on a level string (``env.level``: cells separated by spaces, agents numbered, ``.`` empty)."""
    names = {c: name for name, c in chars.items()}
    counts: collections.Counter[str] = collections.Counter()
    for cell in level.split():
        symbol = re.sub(r"\d+$", "", cell)
        if symbol != ".":
            counts[names.get(symbol, symbol)] += 1
    return dict(sorted(counts.items()))


def describe(env) -> dict:
    counts = level_counts(env.level, env._chars)
    opts = env.map_options
    border = 2 * (opts.width + opts.height) - 4
    shape = list(env.observation_space(env.possible_agents[0]).shape)
    return {
        "map": {"width": opts.width, "height": opts.height, "border_width": 1, "objects": counts,
                "inner_walls": counts.get("wall", 0) - border},
        "actions": list(env.action_names),
        "observation": {"kind": "planes", "shape": shape, "dtype": "uint8", "window": shape[1:],
                        "note": "one-hot planes: one channel per object type, 4 orientations, then variables"},
        "max_steps": env.max_steps,
    }


def project_round(steps: int = 1000, repeats: int = 3, seed: int = 0, env_name: str = "metta-teams",
                  agents: int = 24, size: int = 40, obs_backend: str = "numba") -> dict:
    """One timed round of the project's env, with what it holds; the caller pins the core."""
    from metta import make_env

    env = make_env(env_name, seed=seed, obs_backend=obs_backend, num_agents=agents, width=size, height=size)
    try:
        env.reset(seed=seed)
        info = describe(env)
        timing = bench_parallel_env(env, steps, repeats, seed)
    finally:
        env.close()
    return {"env": env_name, "obs_backend": obs_backend, "python": platform.python_version(), "cores": 1,
            "agents": agents, "size": size, "steps": steps, "repeats": repeats, "seed": seed, **info,
            "timing": timing}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench.peers.project_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--steps", type=positive_int, default=1000, help="env steps per timed run")
    ap.add_argument("--repeats", type=positive_int, default=3)
    ap.add_argument("--agents", type=positive_int, default=24)
    ap.add_argument("--size", type=positive_int, default=40, help="map side in cells, border included")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    pin_one_core()
    r = project_round(args.steps, args.repeats, args.seed, args.env, args.agents, args.size)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        t = r["timing"]
        print(f"{r['env']} ({r['obs_backend']}): {r['agents']} agents on {r['size']}x{r['size']}, objects "
              f"{r['map']['objects']}, observation {tuple(r['observation']['shape'])}: "
              f"{t['agent_steps_per_s']:,.0f} agent-steps/s ({t['step_us']:,.0f} us/step)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
