"""What the env does, as digests: ``python -m metta.bench.fingerprint [--steps 200] [--json]``.

For every preset and every shipped game, on a fixed seed and fixed random actions, the sha256 of: the levels
drawn, the kinship and sharing matrices, every observation of every agent, the rewards (shared and raw) and
the episode metrics. Two checkouts that print the same digests behave the same on these inputs: run it in
each (``PYTHONPATH=<checkout> python -m metta.bench.fingerprint --json``) and compare, e.g. before and after
a refactor. Only the env's public API is used, so it runs on older checkouts too (as a file path).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

SMALL = dict(width=16, height=16, num_agents=8)


class Digest:
    def __init__(self):
        self.parts = {k: hashlib.sha256() for k in ("levels", "kinship", "sharing", "obs", "rewards", "metrics")}

    def add(self, part: str, value) -> None:
        if isinstance(value, str):
            data = value.encode()
        elif isinstance(value, np.ndarray):
            data = np.ascontiguousarray(value).tobytes() + str(value.dtype).encode() + str(value.shape).encode()
        else:
            data = json.dumps(value, sort_keys=True, default=float).encode()
        self.parts[part].update(data)

    def hex(self) -> dict[str, str]:
        return {k: h.hexdigest()[:16] for k, h in self.parts.items()}


def fingerprint(preset: str, game: str | None, steps: int, seed: int = 0, backend: str = "numba",
                **options) -> dict[str, str]:
    from metta import make_env

    env = make_env(preset, seed=seed, game=game, obs_backend=backend, max_steps=60, **SMALL, **options)
    d = Digest()
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    for t in range(steps):
        if t == 0 or not env.agents:
            if t:
                obs, _ = env.reset()
            d.add("levels", env.level)
            d.add("kinship", env.kinship)
        for a in sorted(obs):
            d.add("obs", obs[a])
        actions = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
        obs, rew, term, trunc, info = env.step(actions)
        d.add("sharing", env.sharing)
        d.add("rewards", [[rew[a], info[a]["raw_reward"]] for a in sorted(rew)])
        for a in sorted(info):
            if "episode" in info[a]:
                d.add("metrics", {k: v for k, v in info[a]["episode"].items()})
    env.close()
    return d.hex()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench.fingerprint", description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200, help="env steps per case (episodes are 60 steps)")
    ap.add_argument("--backend", default="numba", help="observation backend")
    ap.add_argument("--json", action="store_true", help="print the digests as JSON")
    args = ap.parse_args(argv)
    import metta
    from metta import PRESETS

    games = Path(metta.__file__).resolve().parents[1] / "games"  # the checkout's own games
    cases: list[tuple[str, str | None, dict]] = [(p, None, {}) for p in sorted(PRESETS)]  # preset, game, options
    cases += [("metta-teams", str(g), {}) for g in sorted(games.glob("*.yaml"))]
    cases += [("metta-clans", None, {"bodies": {"light": 1, "heavy": 1}}), ("metta-kin", None, {"kinship_noise": 0.3}),
              ("metta-teams", None, {"num_teams": 3, "team_reward": 0.5, "bond_share": 0.0})]
    out = {f"{p}:{Path(g).name if g else 'preset game'}" + (f":{json.dumps(o, sort_keys=True)}" if o else ""):
           fingerprint(p, g, args.steps, backend=args.backend, **o) for p, g, o in cases}
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
    else:
        for case, parts in out.items():
            print(f"{case:40s} " + " ".join(f"{k}={v[:8]}" for k, v in parts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
