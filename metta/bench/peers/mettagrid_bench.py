"""mettagrid's arena under uniformly random actions: ``python metta/bench/peers/mettagrid_bench.py [--json]``.

Runs in the peer venv that ``devops/peer_bench.sh`` makes (mettagrid and numpy 2 only), so it imports nothing
from metta and is run as a file path. It builds mettagrid's own arena (``mettagrid.builder.envs.make_arena``)
for ``--agents`` agents, sizes its map to ``--size`` x ``--size`` cells in all, a one-cell wall border around the
rest as on the project's maps, gives agents ``--obs-window`` square views (11, the project's window, by default;
the arena's own is 13) and ``--max-steps`` long episodes (the project's 1000; the arena's own is 10000), and
times two ways of stepping it, each on one core, median of ``--repeats`` runs of ``--steps`` steps after a
warm-up, with every action drawn before timing:

- ``sim``: ``Simulation.step`` with the actions written into the simulation's own action buffer, the way the
  step's docstring allows low-level callers to: mettagrid's core step, no per-agent Python.
- ``pettingzoo``: mettagrid's own ``MettaGridPettingZooEnv``, dicts in and out, the same API and the same timing
  loop (``bench_parallel_env``) that times the project's env in ``metta.bench.peers.project_bench``: the like-for-like
  figure.

The JSON also says what the arena holds (object counts on the built map), the actions, and the observation
(tokens, not the project's one-hot planes).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import statistics
import sys
import time

VERSION = "0.26.22"  # the release devops/peer_bench.sh installs
APIS = ("sim", "pettingzoo")
WARMUP = 50  # steps before timing, as metta.bench.sim


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="mettagrid_bench.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=positive_int, default=1000, help="env steps per timed run")
    ap.add_argument("--repeats", type=positive_int, default=3, help="timed runs; the median is reported")
    ap.add_argument("--agents", type=positive_int, default=24)
    ap.add_argument("--size", type=positive_int, default=40, help="map side in cells, border included")
    ap.add_argument("--obs-window", type=positive_int, default=11, help="agents' view, cells a side (odd)")
    ap.add_argument("--max-steps", type=positive_int, default=1000, help="episode length")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--apis", default=",".join(APIS), help=f"comma-separated, from {','.join(APIS)}")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    args.apis = [a for a in args.apis.split(",") if a]
    unknown = sorted(set(args.apis) - set(APIS))
    if unknown or not args.apis:
        ap.error(f"--apis: unknown or none ({', '.join(unknown)}); choose from {', '.join(APIS)}")
    if args.size < 3:
        ap.error(f"--size must be at least 3 (a border and one free cell), got {args.size}")
    if args.obs_window % 2 == 0:
        ap.error(f"--obs-window must be odd (the agent at its centre), got {args.obs_window}")
    return args


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def arena_config(agents: int, size: int, obs_window: int, max_steps: int):
    """mettagrid's arena, resized to the project's map: ``size`` x ``size`` cells including a one-cell border."""
    from mettagrid.builder.envs import make_arena

    cfg = make_arena(num_agents=agents)
    game = cfg.game
    builder = game.map_builder
    defaults = {"inner_width": builder.width, "inner_height": builder.height, "border_width": builder.border_width,
                "obs_window": [game.obs.width, game.obs.height], "max_steps": game.max_steps}
    builder.width = builder.height = size - 2  # MapGen's width/height leave its border out
    builder.border_width = 1
    game.obs.width = game.obs.height = obs_window
    game.max_steps = max_steps
    return cfg, defaults


def describe(sim, defaults: dict) -> dict:
    counts = collections.Counter(o["type_name"] for o in sim.grid_objects().values())
    border = 2 * (sim.map_width + sim.map_height) - 4
    obs = sim._c_sim.observations()
    return {
        "map": {"width": sim.map_width, "height": sim.map_height, "border_width": 1,
                "objects": dict(sorted(counts.items())), "inner_walls": counts.get("wall", 0) - border},
        "actions": sim.action_names,
        "observation": {"kind": "tokens", "shape": list(sim.observation_shape), "dtype": str(obs.dtype),
                        "window": [int(sim._c_sim.obs_width), int(sim._c_sim.obs_height)],
                        "note": "each agent sees up to num_tokens (location, feature, value) byte triples of its "
                                "window, padded with 0xff; not one-hot planes"},
        "max_steps": sim.config.game.max_steps,
        "arena_defaults": defaults,
    }


def time_sim(cfg, steps: int, repeats: int, seed: int) -> dict:
    """``Simulation.step`` with actions written into the simulation's action buffer; new episode when done."""
    import numpy as np
    from mettagrid import Simulation

    n = cfg.game.num_agents
    episodes = [0]

    def new_sim():
        episodes[0] += 1
        return Simulation(cfg, seed=seed + episodes[0])

    probe = Simulation(cfg, seed=seed)
    num_actions = len(probe.action_names)
    probe.close()
    rng = np.random.default_rng(seed)
    plans = rng.integers(0, num_actions, size=(steps, n)).astype(np.int32)

    def advance(sim, count):
        actions = sim._c_sim.actions()
        for t in range(count):
            actions[:] = plans[t]
            sim.step()
            if sim.is_done():
                sim.close()
                sim = new_sim()
                actions = sim._c_sim.actions()
        return sim

    sim = advance(new_sim(), min(WARMUP, steps))
    rates = []
    for _ in range(repeats):
        sim.close()
        sim = new_sim()
        t0 = time.perf_counter()
        sim = advance(sim, steps)
        rates.append(steps / (time.perf_counter() - t0))
    sim.close()
    return rates_summary(n, rates)


def time_pettingzoo(cfg, steps: int, repeats: int, seed: int) -> dict:
    """mettagrid's PettingZoo ParallelEnv under ``bench_parallel_env``, the loop that times the project's env."""
    from mettagrid.envs.pettingzoo_env import MettaGridPettingZooEnv
    from mettagrid.simulator import Simulator

    env = MettaGridPettingZooEnv(Simulator(), cfg)
    try:
        return bench_parallel_env(env, steps, repeats, seed)
    finally:
        env.close()


def bench_parallel_env(env, steps: int, repeats: int, seed: int = 0) -> dict:
    """Agent-steps/s of any PettingZoo ParallelEnv under uniformly random actions drawn before timing: a warm-up,
    then ``repeats`` timed runs of ``steps`` steps, resetting whenever an episode ends. It lives here because this
    file cannot import metta; metta.bench.peers.project_bench times the project's env with it."""
    import numpy as np

    n = len(env.possible_agents)
    rng = np.random.default_rng(seed)
    plans = rng.integers(0, env.action_space(env.possible_agents[0]).n, size=(steps, n))
    action_dicts = [dict(zip(env.possible_agents, plan.tolist())) for plan in plans]
    env.reset(seed=seed)
    for t in range(min(WARMUP, steps)):
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
    return rates_summary(n, rates)


def rates_summary(n: int, rates: list) -> dict:
    env_steps = statistics.median(rates)
    return {"agents": n, "env_steps_per_s": env_steps, "agent_steps_per_s": env_steps * n,
            "step_us": 1e6 / env_steps, "runs_env_steps_per_s": rates}


def run(args: argparse.Namespace) -> dict:
    os.environ.setdefault("METTAGRID_LOG_LEVEL", "WARNING")  # its import logs at INFO otherwise
    from importlib.metadata import version

    import numpy as np
    from mettagrid import Simulation

    pin_one_core()
    cfg, defaults = arena_config(args.agents, args.size, args.obs_window, args.max_steps)
    probe = Simulation(cfg, seed=args.seed)
    try:
        info = describe(probe, defaults)
    finally:
        probe.close()
    timers = {"sim": time_sim, "pettingzoo": time_pettingzoo}
    return {"peer": "mettagrid", "version": version("mettagrid"), "expected_version": VERSION,
            "numpy": np.__version__, "python": platform.python_version(), "cores": 1,
            "game": "arena (mettagrid.builder.envs.make_arena)", "agents": args.agents, "size": args.size,
            "steps": args.steps, "repeats": args.repeats, "seed": args.seed, **info,
            "apis": {api: timers[api](cfg, args.steps, args.repeats, args.seed) for api in args.apis}}


def format_result(result: dict) -> str:
    m = result["map"]
    lines = [f"mettagrid {result['version']} arena: {result['agents']} agents on {m['width']}x{m['height']}, "
             f"objects {m['objects']}, observation {result['observation']['kind']} "
             f"{tuple(result['observation']['shape'])}; random actions, one core, "
             f"median of {result['repeats']} runs of {result['steps']} steps",
             f"  {'api':<11} {'agent-steps/s':>14} {'env-steps/s':>12} {'us/step':>9}"]
    for api, r in result["apis"].items():
        lines.append(f"  {api:<11} {r['agent_steps_per_s']:>14,.0f} {r['env_steps_per_s']:>12,.0f} "
                     f"{r['step_us']:>9,.0f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import mettagrid  # noqa: F401
    except ImportError as err:
        print(f"error: mettagrid is not importable by {sys.executable} ({err}); run devops/peer_bench.sh, "
              f"which installs mettagrid=={VERSION} into a venv of its own", file=sys.stderr)
        return 2
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
