"""Simulator throughput against the real baselines: ``python -m metta.bench [--json]``.

Side by side in one process, on one core, on the same level and the same pre-drawn random
actions (24 agents on 40x40 for ``metta-teams``):

- ``seed stack``: Griddly's own ``GymWrapper`` with one VECTOR observer per player, on the game
  file as written: what the seed ran (metta.griddly_ext.baselines);
- ``griddly floor``: the project's engine doing only ``step_parallel`` and one global VECTOR
  render per step, no env around it: the floor for this design;
- each observation backend through the PettingZoo API (``env.step(dict)``; ``griddly`` renders
  every window with Griddly's own per-player observers);
- ``batch K``: ``metta.env.batch.EnvBatch`` of K envs, the arrays Sample Factory's env steps
  (default backend), for each K of ``--batch``; ``floor K``: K of Griddly's floors stepped in
  turn, K games' worth of engine work, which ``batch K`` is measured against.

Every contender runs ``--steps`` steps in each of ``--repeats`` rounds, one after the other
within a round, after a warm-up. The machine's speed drifts, so each ratio is taken within a
round and the median over rounds is reported: ``vs seed`` (agent-steps/s over the seed stack's)
and ``over floor`` (the floor's agent-steps/s over the contender's: the env's own cost, 1.0
being none). Episodes restart when they end; everything but the actions' drawing is timed.
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

from metta.env.backends import BACKENDS as OBS_BACKENDS

# Griddly's own per-player observers first: the baseline the others are compared with
BACKENDS = tuple(sorted(OBS_BACKENDS, key=lambda b: b != "griddly"))
SEED, FLOOR = "seed stack", "griddly floor"
WARMUP = 50


class _PettingZoo:
    def __init__(self, env):
        self.env, self.agents = env, len(env.possible_agents)
        env.reset(seed=0)

    def step(self, flat):
        env = self.env
        env.step(dict(zip(env.possible_agents, flat.tolist())))
        if not env.agents:
            env.reset()

    def close(self):
        self.env.close()


class _Baseline:
    def __init__(self, baseline, agents: int):
        self.baseline, self.agents = baseline, agents

    def step(self, flat):
        self.baseline.step(flat)

    def close(self):
        self.baseline.close()


class _Batch:
    def __init__(self, batch):
        self.batch, self.agents = batch, batch.num_agents
        batch.reset([0] * len(batch.envs))

    def step(self, flat):
        self.batch.step(flat)

    def close(self):
        self.batch.close()


def contenders(env_name: str, backends, batch_sizes, seed: int, **options) -> dict:
    """Every contender of the bench, on one level of ``env_name``."""
    from metta import make_env
    from metta.env.batch import EnvBatch
    from metta.griddly_ext.baselines import EngineFloor, SeedStack

    ref = make_env(env_name, seed=seed, **options)
    level, players, max_steps = ref.level, ref.num_agents_total, ref.max_steps
    out = {SEED: SeedStack(ref.game, players, level, max_steps),
           FLOOR: EngineFloor(ref.game, players, level, max_steps)}
    out = {name: _Baseline(b, players) for name, b in out.items()}
    ref.close()
    for backend in backends:
        try:
            out[backend] = _PettingZoo(make_env(env_name, seed=seed, obs_backend=backend, level=level, **options))
        except Exception as err:  # e.g. no Vulkan device on this machine: reported, not fatal
            out[backend] = f"{type(err).__name__}: {err}"
    for k in batch_sizes:
        out[f"batch {k}"] = _Batch(EnvBatch([make_env(env_name, seed=seed + i, level=level, **options)
                                             for i in range(k)]))
        if k > 1:  # K engines stepped in turn: the floor a batch of K is measured against
            out[f"floor {k}"] = _Floors([EngineFloor(ref.game, players, level, max_steps) for _ in range(k)])
    return out


class _Floors:
    def __init__(self, floors):
        self.floors, self.n = floors, floors[0].engine.num_players
        self.agents = self.n * len(floors)

    def step(self, flat):
        for i, floor in enumerate(self.floors):
            floor.step(flat[i * self.n:(i + 1) * self.n])

    def close(self):
        for floor in self.floors:
            floor.close()


def run(env_name: str = "metta-teams", backends=BACKENDS, batch_sizes=(1, 4), steps: int = 1000, repeats: int = 3,
        seed: int = 0, progress: bool = False, **options) -> dict:
    from tqdm import tqdm

    runners = contenders(env_name, backends, batch_sizes, seed, **options)
    live = {name: r for name, r in runners.items() if not isinstance(r, str)}
    rng = np.random.default_rng(seed)
    n_actions = live[FLOOR].baseline.engine.num_actions
    plans = {name: rng.integers(0, n_actions, size=(steps + WARMUP, r.agents)) for name, r in live.items()}
    rates: dict[str, list[float]] = {name: [] for name in live}  # agent-steps per second of each repeat
    try:
        for name, r in live.items():
            for flat in plans[name][:WARMUP]:
                r.step(flat)
        with tqdm(total=repeats * len(live), desc="bench", unit="run", disable=not progress) as bar:
            for _ in range(repeats):
                for name, r in live.items():
                    t0 = time.perf_counter()
                    for flat in plans[name][WARMUP:]:
                        r.step(flat)
                    rates[name].append(steps * r.agents / (time.perf_counter() - t0))
                    bar.update()
    finally:
        for r in live.values():
            r.close()
    result: dict[str, dict] = {}
    for name, runner in runners.items():
        if isinstance(runner, str):
            result[name] = {"error": runner}
            continue
        runs = rates[name]
        k = name.split()[-1] if name.startswith(("batch ", "floor ")) else "1"
        floor = rates.get(f"floor {k}", rates[FLOOR])
        result[name] = {"agents": runner.agents, "agent_steps_per_s": statistics.median(runs), "runs": runs,
                        "vs_seed_stack": statistics.median(a / b for a, b in zip(runs, rates[SEED])),
                        "over_floor": statistics.median(f / a for a, f in zip(runs, floor))}
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--steps", type=int, default=1000, help="env steps per timed run")
    ap.add_argument("--repeats", type=int, default=3, help="rounds; ratios are medians over rounds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, from {','.join(BACKENDS)}")
    ap.add_argument("--batch", default="1,2,4,8", help="envs per EnvBatch, comma-separated ('' for none)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        ap.error(f"unknown backend(s) {', '.join(sorted(unknown))}; choose from {', '.join(BACKENDS)}")
    try:
        batch = [int(k) for k in args.batch.split(",") if k]
    except ValueError:
        ap.error(f"--batch takes env counts like 1,4,8, got {args.batch!r}")
    if any(k < 1 for k in batch) or args.steps < 1 or args.repeats < 1:
        ap.error("--batch counts, --steps and --repeats must be >= 1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    result = {"env": args.env, "steps": args.steps, "repeats": args.repeats, "seed": args.seed,
              "python": platform.python_version(), "cores": 1,
              "contenders": run(args.env, backends, batch, args.steps, args.repeats, args.seed, progress=not args.json)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.env}: random actions, one core, {args.repeats} rounds of {args.steps} steps (medians; ratios "
          f"within rounds)")
    print(f"  {'contender':<14} {'agents':>6} {'agent-steps/s':>14} {'vs seed':>8} {'over floor':>11}")
    for name, r in result["contenders"].items():
        if "error" in r:
            print(f"  {name:<14} unavailable: {r['error']}")
        else:
            print(f"  {name:<14} {r['agents']:>6} {r['agent_steps_per_s']:>14,.0f} {r['vs_seed_stack']:>7.2f}x "
                  f"{r['over_floor']:>10.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
