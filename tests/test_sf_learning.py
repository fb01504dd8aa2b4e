"""The model learns: bounded CPU runs beat random and the untrained prior clearly on tasks that need a learned
sequence, and do not collapse onto one action where more than one is needed.

Altar pockets: eight agents, each walled into one cell with an altar on one side (a
different side across agents). An agent starts facing no direction: to earn hearts it
must rotate to the side where it sees the altar, then use it, and keep using it as the
altar cools down; wasted actions (attacks, shield, marks) cost the energy the altar
needs. The scripted optimum earns 15 hearts per 30-step episode, a uniformly random
policy about 0.3, an untrained policy (its action prior alone) under 2.

Economy pockets: each agent's cell has a generator on its left, a charger on its right
and the altar above, and it starts with too little energy for a heart: it must harvest,
turn, charge, turn and power the altar, again and again. No single action earns a heart
here, so a policy that collapsed onto one (as a run once did, onto ``bond``) fails: it earns
nothing, and it never makes the three turns every heart needs. The share of the most frequent
action alone is no test of collapse here: the best plan (face left, harvest 5, face right,
charge 5, face up, power the altar 7, twice: 12 hearts) spends 34 of its 40 steps on ``use``.

All are scored with the env's own episode metrics over the same seeds.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # every test trains

SIDES = [(0, -1), (1, 0), (0, 1), (-1, 0)]
SEEDS = range(10)
GAME = ["--env=metta-solo", "--max_steps=30", "--override", "altar_cost=10"]


def pocket_level(cols=4, rows=2) -> str:
    grid = np.full((3 * rows, 3 * cols), "W", dtype=object)
    for k in range(cols * rows):
        y, x = 3 * (k // cols) + 1, 3 * (k % cols) + 1
        grid[y, x] = f"A{k + 1}"
        dx, dy = SIDES[k % 4]
        grid[y + dy, x + dx] = "a"
    return "\n".join(" ".join(row) for row in grid)


def economy_level(count=8) -> str:
    block = [["W", "a", "W", "W"], ["g", "A", "c", "W"], ["W", "W", "W", "W"]]
    rows = [[] for _ in block]
    for k in range(count):
        for r, row in enumerate(block):
            rows[r] += [f"A{k + 1}" if cell == "A" else cell for cell in row]
    return "\n".join(" ".join(row) for row in rows)


def play(env, policy) -> tuple[float, np.ndarray]:
    """Hearts per agent per episode over SEEDS, and how often each action was taken, through the players' loop."""
    from metta.evals.play import play_episode

    hearts, actions = [], 0
    for seed in SEEDS:
        outcome = play_episode(env, policy, seed)
        hearts += [m["hearts"] for m in outcome.metrics]
        actions = actions + outcome.actions
    return float(np.mean(hearts)), actions


def train_on(tmp_path, level: str, game: list[str], steps: int, experiment: str):
    from metta.sf_integration.policy import load_policy

    (tmp_path / f"{experiment}.txt").write_text(level)
    cmd = [sys.executable, "-m", "metta.sf_integration.train", *game, f"--level={tmp_path / f'{experiment}.txt'}",
           f"--train_dir={tmp_path}", f"--experiment={experiment}", "--num_workers=1", "--num_envs_per_worker=2",
           "--vector_envs=1", "--rollout=16", "--batch_size=256", "--learning_rate=1e-3",
           f"--train_for_env_steps={steps}", "--seed=0"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=400,
                         env={**os.environ, "PYTHONPATH": ROOT})
    assert res.returncode == 0, res.stderr[-3000:]
    return load_policy(experiment, train_dir=str(tmp_path))


def baselines(env):
    """Hearts per agent of a uniformly random policy and of the untrained policy's prior alone."""
    from metta.evals.policies import RandomPolicy
    from metta.sf_integration.config import DEFAULT_ACTION_PRIOR
    from metta.sf_integration.model import prior_logits

    n = env.action_space(env.possible_agents[0]).n
    logits = np.array(prior_logits([a.name for a in env.engine.actions], DEFAULT_ACTION_PRIOR))
    random, _ = play(env, RandomPolicy(n, 0))
    prior, _ = play(env, RandomPolicy(n, 1, np.exp(logits) / np.exp(logits).sum()))
    return random, prior


def test_trained_policy_beats_random_on_the_altar_task(tmp_path):
    policy = train_on(tmp_path, pocket_level(), GAME, 60000, "pockets")
    env = policy.make_env()
    random, prior = baselines(env)
    learned, _ = play(env, policy)
    print(f"hearts per agent per episode: trained {learned:.2f}, random {random:.2f}, prior alone {prior:.2f}")
    assert random < 1.0 and prior < 2.0, (random, prior)
    assert learned > max(5.0, 3 * prior, 5 * random), (learned, prior, random)


# 20 energy, no regeneration: a heart (30 energy) needs a diamond harvested and charged first
ECONOMY = ["--env=metta-solo", "--max_steps=40", "--override", "agent_initial_energy=20", "--override",
           "agent_energy_regen=0", "--override", "altar_cost=30", "--override", "charger_energy=40",
           "--override", "generator_cooldown=1", "--override", "charger_cooldown=1", "--override", "altar_cooldown=1"]


def test_trained_policy_plays_the_economy_without_collapsing_onto_one_action(tmp_path):
    policy = train_on(tmp_path, economy_level(), ECONOMY, 200000, "economy")
    env = policy.make_env()
    random, prior = baselines(env)
    learned, taken = play(env, policy)
    top = int(np.argmax(taken))
    share = taken[top] / taken.sum()
    print(f"hearts per agent per episode: trained {learned:.2f}, random {random:.2f}, prior alone {prior:.2f}; "
          f"most frequent action {env.action_names[top]!r} at {share:.0%}")
    assert random < 0.5 and prior < 1.0, (random, prior)
    assert learned > max(3.0, 3 * prior, 5 * random), (learned, prior, random)
    # every heart needs a turn to the generator, to the charger and to the altar: per agent and episode, the policy
    # makes each of them (a policy that collapsed onto one action makes none)
    per_episode = taken / (len(SEEDS) * len(env.possible_agents))
    for turn in ("rotate: face left", "rotate: face right", "rotate: face up"):
        assert per_episode[env.action_names.index(turn)] >= 0.5, (turn, dict(zip(env.action_names, per_episode)))
