"""``python -m metta.curriculum.solvable [CURRICULUM] [--policy oracle] [--env metta-teams] [--episodes 2] [--json]``:
how well a policy plays each task of a curriculum: by default the scripted agents (metta.scripted, the ``oracle``
conduct, every agent), or ``random``, or a trained experiment in ``train_dir`` (its student, say).

A teacher can only teach what it does, and a task nobody can solve teaches nothing: for every task, at each of its
corner draws (every value at its first extreme, then each value at each extreme in turn, as the curriculum's own
check draws them), the scripted agents play ``--episodes`` episodes (seeds 0, 1, ...) and the table gives the share
of agents whose game headline metric (``Metta.metrics.headline``: hearts in Metta) reached 1, and its mean per
agent. Read a low share beside what the task asks for: in a task of pairs where only one of two can earn it (a gift
to kin), 0.5 is the most there is.
"""
from __future__ import annotations

import argparse
import json
import sys
import numpy as np

from metta.errors import USAGE_EXIT, ConfigError, UsageError
from metta.runtime.lifetime import run_command


def task_rows(curriculum: str, env: str = "metta-teams", episodes: int = 2, progress: bool = False,
              policy: str = "oracle", train_dir: str = "train_dir") -> list[dict]:
    """One row per task and corner draw: ``{"task", "changes", "share", "mean"}`` (share of agents whose headline
    metric reached 1, its mean per agent; over ``episodes`` episodes), played by ``policy``
    (metta.evals.policies.policy_for)."""
    from tqdm import tqdm

    from metta.curriculum.tasks import load_curriculum, task_config
    from metta.env import make_env
    from metta.env.presets import get_preset
    from metta.evals.play import play_episode
    from metta.evals.policies import policy_for

    if episodes < 1:
        raise UsageError(f"--episodes must be at least 1, got {episodes}")
    base = get_preset(env)
    spec = load_curriculum(curriculum, base)
    draws = [(name, changes) for name, task in spec.tasks.items() for changes in task.corner_changes()]
    rows = []
    bar = tqdm(total=len(draws) * episodes, desc=f"{policy} on {curriculum}", unit="episode",
               disable=not progress)
    for name, changes in draws:
        game = make_env(task_config(base, changes), seed=0)
        headline = game.facts.headline
        if headline is None:
            raise ConfigError(f"{game.game.path}: Metta.metrics has no headline metric to score the tasks by")
        player = policy_for(policy, game, train_dir=train_dir, seed=0)
        reached, total = [], []
        for seed in range(episodes):
            values = [m[headline] for m in play_episode(game, player, seed).metrics]
            reached += [v >= 1 for v in values]
            total += values
            bar.update(1)
        game.close()
        rows.append({"task": name, "changes": changes, "share": float(np.mean(reached)),
                     "mean": float(np.mean(total))})
    bar.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metta.curriculum.solvable", description=__doc__.split("\n\n")[0])
    parser.add_argument("curriculum", nargs="?", default="suite",
                        help="a curriculum file, or the name of one in games/curricula (default: suite)")
    parser.add_argument("--policy", default="oracle",
                        help="oracle (the default), random, or an experiment in --train_dir")
    parser.add_argument("--train_dir", default="train_dir")
    parser.add_argument("--env", default="metta-teams", help="the run's env preset (default: metta-teams)")
    parser.add_argument("--episodes", type=int, default=2, help="episodes per corner draw (default: 2)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    return run_command(lambda stops: report(args), errors={ConfigError: USAGE_EXIT})  # a bad curriculum: status 2


def report(args) -> None:
    rows = task_rows(args.curriculum, args.env, args.episodes, progress=not args.json, policy=args.policy,
                     train_dir=args.train_dir)
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return
    print(f"{'task':14s} {'share >= 1':>10s} {'mean':>6s}  draw")
    for r in rows:
        print(f"{r['task']:14s} {r['share']:10.2f} {r['mean']:6.2f}  {json.dumps(r['changes'], sort_keys=True)}")


if __name__ == "__main__":
    sys.exit(main())
