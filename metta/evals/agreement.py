"""``python -m metta.evals.agreement EXPERIMENT [--scenarios maze,resource_chain] [--episodes 10] [--deterministic]
[--json]``: does a trained policy do what the scripted agents would, where the eval suite scores it?

The policy plays each scenario as the eval suite plays it (the same levels, seeds and opponents); at every step the
scripted oracle (metta.scripted) is asked what it would do in the same state, and only asked: the policy's action
is the one played. Per scenario: the share of agent 1's steps where the two agree, the successes, and how often
each of them chose each action. A student kickstarted from the scripted agents that agrees with them on its
training tasks but not here has not carried the teacher's plan to the eval level; one that agrees here and still
fails has lost it in the steps where they differ. ``--deterministic``: the policy's most likely action instead of a
sample (the eval suite samples).
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from metta.errors import USAGE_EXIT, ConfigError, UsageError
from metta.runtime.lifetime import run_command
from metta.evals.contract import Policy


class Compared(Policy):
    """``policy``'s actions, with the oracle's for ``focal`` counted beside them."""

    def __init__(self, policy: Policy, oracle: Policy, focal: str, num_actions: int, deterministic: bool):
        self.policy, self.oracle, self.focal, self.deterministic = policy, oracle, focal, deterministic
        self.agreed = self.steps = 0
        self.chosen = np.zeros(num_actions, dtype=np.int64)
        self.taught = np.zeros(num_actions, dtype=np.int64)

    def reset(self, num_agents: int, max_steps: int | None = None, seed: int | None = None) -> None:
        self.policy.reset(num_agents, max_steps, seed)
        self.oracle.reset(num_agents, max_steps, seed)

    def act(self, obs, rewards=None, deterministic: bool = False) -> dict[str, int]:
        would = self.oracle.act(obs)   # reads the state before anything moves
        actions = self.policy.act(obs, rewards=rewards, deterministic=self.deterministic)
        if self.focal in obs:
            self.steps += 1
            self.agreed += int(actions[self.focal] == would[self.focal])
            self.chosen[actions[self.focal]] += 1
            self.taught[would[self.focal]] += 1
        return actions


def agreement(experiment: str, scenarios: list[str] | None = None, episodes: int = 10, seed: int = 0,
              deterministic: bool = False, train_dir: str = "train_dir") -> dict[str, dict]:
    """Per scenario: ``{"agreement", "steps", "successes", "episodes", "actions": {name: [policy's, oracle's]}}``."""
    from metta.evals.play import play_episode
    from metta.evals.policies import ScriptedAgent, load_experiment
    from metta.evals.scenarios import get_scenarios
    from metta.scripted.oracle import ScriptedOracle

    if episodes < 1:
        raise UsageError(f"--episodes must be at least 1, got {episodes}")
    trained = load_experiment(experiment, train_dir)
    out = {}
    for sc in get_scenarios(scenarios):
        env = sc.make_env(seed)
        try:
            names = [f"{a.name}:{a.action_id}" for a in env.engine.actions]
            compared = Compared(trained, ScriptedOracle(env), env.possible_agents[0], len(names), deterministic)
            scripted = {i: ScriptedAgent(env, **kw) for i, kw in sc.opponents.items()}
            values = env.game.named_values()
            wins = [bool(sc.success(play_episode(env, compared, seed + k, scripted), values)) for k in range(episodes)]
        finally:
            env.close()
        out[sc.name] = {"agreement": compared.agreed / max(compared.steps, 1), "steps": compared.steps,
                        "successes": sum(wins), "episodes": episodes,
                        "actions": {n: [int(a), int(b)] for n, a, b in zip(names, compared.chosen, compared.taught)
                                    if a or b}}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metta.evals.agreement", description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", metavar="EXPERIMENT", help="a trained experiment in --train_dir")
    parser.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="episode k is seeded seed + k, as in the eval suite")
    parser.add_argument("--deterministic", action="store_true", help="the policy's most likely action")
    parser.add_argument("--train_dir", default="train_dir")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return run_command(lambda stops: report(args), errors={ConfigError: USAGE_EXIT})  # no such experiment: status 2


def report(args) -> None:
    rows = agreement(args.experiment, args.scenarios.split(",") if args.scenarios else None, args.episodes,
                     args.seed, args.deterministic, args.train_dir)
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return
    for name, r in rows.items():
        print(f"{name:22s} agreement {r['agreement']:.2f} over {r['steps']} steps, success {r['successes']}/"
              f"{r['episodes']}")
        print("    " + "  ".join(f"{a} {p}/{o}" for a, (p, o) in r["actions"].items()) + "   (policy/oracle)")


if __name__ == "__main__":
    sys.exit(main())
