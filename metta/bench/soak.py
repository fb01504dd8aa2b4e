"""Memory over a long run of the env: ``python -m metta.bench.soak [--steps 1000000] [--every 50000] [--json]``.

Steps one env (``--env``, default ``metta-teams``: 24 agents on 40x40) with uniformly random actions for
``--steps`` env steps, resetting it whenever an episode ends, and reads this process's resident set size
(``VmRSS`` in ``/proc/self/status``) every ``--every`` steps. The first reading is the baseline: by then the
first episodes have filled the caches and arenas a long run keeps. Growth is the last reading over the baseline,
and the slope of the second half of the readings (MB per 100k steps, ``tail_slope_mb``) tells a leak, which keeps
rising with the steps, from an allocator settling, which flattens. Exit status 1 when
growth exceeds ``--max_growth`` percent (default 5). A training run's processes: metta.bench.training.soak.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
from tqdm import tqdm


def rss_bytes(pid: int | str = "self") -> int:
    """The resident set size of a process (this one by default), from ``/proc/<pid>/status``; for this process
    without ``/proc``, its peak instead."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        if pid != "self":
            raise
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def growth(xs: list[float], samples: list[float]) -> dict:
    """Baseline (the first reading), final, max and growth in percent of RSS readings in MB taken at ``xs``, and the
    slope of their second half per unit of ``xs`` (least squares): a leak keeps a slope, settling does not."""
    base, last = samples[0], samples[-1]
    half = len(samples) // 2
    tail_x, tail_y = np.asarray(xs[half:], dtype=float), np.asarray(samples[half:], dtype=float)
    slope = float(np.polyfit(tail_x, tail_y, 1)[0]) if len(tail_x) >= 2 and np.ptp(tail_x) > 0 else None
    return {"baseline_mb": base, "final_mb": last, "max_mb": max(samples),
            "growth_percent": 100.0 * (last - base) / base if base else None, "tail_slope_mb": slope}


def soak(env_name: str = "metta-teams", steps: int = 1_000_000, every: int = 50_000, seed: int = 0,
         progress: bool = True, **env_kwargs) -> dict:
    from metta import make_env

    env = make_env(env_name, seed=seed, **env_kwargs)
    rng = np.random.default_rng(seed)
    n_actions = env.action_space(env.possible_agents[0]).n
    agents = env.possible_agents
    env.reset(seed=seed)
    samples, episodes, t0 = [], 0, time.perf_counter()
    chunk = max(1, min(every, 1000))
    with tqdm(total=steps, unit="step", desc=f"soak {env_name}", disable=not progress, mininterval=1.0) as bar:
        for t in range(1, steps + 1):
            env.step(dict(zip(agents, rng.integers(0, n_actions, len(agents)).tolist())))
            if not env.agents:
                episodes += 1
                env.reset()
            if t % every == 0 or t == steps:
                samples.append({"steps": t, "episodes": episodes, "seconds": time.perf_counter() - t0,
                                "rss_mb": rss_bytes() / 2**20})
                bar.set_postfix(rss=f"{samples[-1]['rss_mb']:.1f}MB")
            if t % chunk == 0 or t == steps:
                bar.update(t - bar.n)
    env.close()
    wall = time.perf_counter() - t0
    return {"env": env_name, "agents": len(agents), "steps": steps, "every": every, "seed": seed,
            "episodes": episodes, "env_steps_per_s": steps / wall, "wall_seconds": wall,
            **growth([s["steps"] / 100_000 for s in samples], [s["rss_mb"] for s in samples]), "samples": samples}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench.soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--steps", type=int, default=1_000_000, help="env steps (each steps every agent)")
    ap.add_argument("--every", type=int, default=50_000, help="env steps between RSS readings")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max_growth", type=float, default=5.0, help="percent; more is a failure (exit status 1)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    if args.steps < 1 or not 1 <= args.every <= args.steps:
        ap.error("--steps must be >= 1 and --every between 1 and --steps")
    result = soak(args.env, args.steps, args.every, args.seed, progress=not args.json)
    result["max_growth_percent"] = args.max_growth
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{'env steps':>10} {'episodes':>9} {'seconds':>8} {'RSS MB':>8}")
        for s in result["samples"]:
            print(f"{s['steps']:>10,} {s['episodes']:>9} {s['seconds']:>8.0f} {s['rss_mb']:>8.1f}")
        print(f"{result['env']} ({result['agents']} agents), {result['steps']:,} env steps at "
              f"{result['env_steps_per_s']:,.0f}/s: RSS {result['baseline_mb']:.1f} MB at {result['every']:,} steps, "
              f"{result['final_mb']:.1f} MB at the end (max {result['max_mb']:.1f}): "
              f"{result['growth_percent']:+.2f}%"
              + (f"; second half {result['tail_slope_mb']:+.2f} MB per 100k steps"
                 if result["tail_slope_mb"] is not None else ""))
    return 0 if result["growth_percent"] is None or result["growth_percent"] <= args.max_growth else 1


if __name__ == "__main__":
    sys.exit(main())
