"""The model learns: a bounded CPU run beats a random policy clearly on a task that needs a learned sequence.

Eight agents, each walled into one cell with an altar on one side (a different side
across agents). An agent starts facing no direction: to earn hearts it must rotate to
the side where it sees the altar, then use it, and keep using it as the altar cools
down; wasted actions (attacks, shield, marks) cost the energy the altar needs. The
scripted optimum earns 15 hearts per 30-step episode, a uniformly random policy about
0.3, an untrained policy (its action prior alone) under 2. All are scored with the env's
own episode metrics over the same seeds.
"""
import os
import subprocess
import sys

import numpy as np

from conftest import ROOT

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


def hearts_per_agent(env, choose) -> float:
    hearts = []
    for seed in SEEDS:
        obs, _ = env.reset(seed=seed)
        rewards, start = None, True
        while env.agents:
            obs, rewards, _, _, infos = env.step(choose(obs, rewards, start))
            start = False
        hearts += [infos[a]["episode"]["hearts"] for a in env.possible_agents]
    return float(np.mean(hearts))


def test_trained_policy_beats_random_on_the_altar_task(tmp_path):
    from metta.sf_integration.config import DEFAULT_ACTION_PRIOR
    from metta.sf_integration.model import prior_logits
    from metta.sf_integration.policy import load_policy

    (tmp_path / "pockets.txt").write_text(pocket_level())
    cmd = [sys.executable, "-m", "metta.sf_integration.train", *GAME, f"--level={tmp_path / 'pockets.txt'}",
           f"--train_dir={tmp_path}", "--experiment=pockets", "--num_workers=1", "--num_envs_per_worker=2",
           "--rollout=16", "--batch_size=256", "--learning_rate=1e-3", "--train_for_env_steps=60000", "--seed=0"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=400,
                         env={**os.environ, "PYTHONPATH": ROOT})
    assert res.returncode == 0, res.stderr[-3000:]

    policy = load_policy("pockets", train_dir=str(tmp_path))
    env = policy.make_env()
    rng = np.random.default_rng(0)
    n = env.action_space(env.possible_agents[0]).n
    random = hearts_per_agent(env, lambda obs, r, start: {a: int(rng.integers(n)) for a in obs})

    def trained(obs, rewards, start):
        if start:
            policy.reset(len(obs))
        return policy.act(obs, rewards=rewards)

    # the untrained policy's own prior (metta.sf_integration.model): sampling from it, without learning
    logits = np.array(prior_logits([a.name for a in env.engine.actions], DEFAULT_ACTION_PRIOR))
    p = np.exp(logits) / np.exp(logits).sum()
    prior = hearts_per_agent(env, lambda obs, r, start: dict(zip(obs, rng.choice(n, size=len(obs), p=p).tolist())))

    torch_seed(0)
    learned = hearts_per_agent(env, trained)
    print(f"hearts per agent per episode: trained {learned:.2f}, random {random:.2f}, prior alone {prior:.2f}")
    assert random < 1.0 and prior < 2.0, (random, prior)
    assert learned > max(5.0, 3 * prior, 5 * random), (learned, prior, random)


def torch_seed(seed):
    import torch

    torch.manual_seed(seed)
