"""The learning benchmark: make train's budget is its default, and what it reports comes from the runs it made."""
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

TINY = ["--width=10", "--height=10", "--num_agents=4", "--team_size=2", "--generators=3", "--chargers=1",
        "--altars=1", "--max_steps=30", "--num_workers=1", "--num_envs_per_worker=2", "--vector_envs=1", "--rollout=8",
        "--batch_size=64", "--experiment_summaries_interval=1", "--decorrelate_envs_on_one_worker=False"]


def test_make_train_trains_for_the_benchmarks_default_budget():
    from metta.bench.training.learning_bench import MAKE_TRAIN_FLAGS, MAKE_TRAIN_SECONDS

    makefile = open(os.path.join(ROOT, "Makefile")).read()
    assert int(re.search(r"^TRAIN_SECONDS \?= (\d+)$", makefile, re.M).group(1)) == MAKE_TRAIN_SECONDS
    train_line = next(line for line in makefile.splitlines() if "metta.sf_integration.train" in line).split()
    flags = train_line[train_line.index("metta.sf_integration.train") + 1:]
    assert [f for f in flags if not f.startswith(("--env=", "--train_for_seconds="))] == list(MAKE_TRAIN_FLAGS)
    assert MAKE_TRAIN_SECONDS <= 8 * 60  # the bound on make train's training time


@pytest.mark.slow
def test_two_seeds_are_two_runs_and_their_figures_replay(tmp_path):
    from metta.bench.training.scalars import scalars
    from metta.sf_integration.checkpoints import read_config
    from metta.sf_integration.policy import load_policy

    cmd = [sys.executable, "-m", "metta.bench.training.learning_bench", "--seeds", "2", "--first_seed", "3",
           "--minutes", "0.25", "--episodes", "2", "--eval_max_steps", "30", "--json", "--train_dir", str(tmp_path),
           "--plot", str(tmp_path / "curves.png"), "--", *TINY]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=400,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert [r["seed"] for r in out["runs"]] == [3, 4] and out["train_flags"] == TINY
    assert set(out["baselines"]) == {"random", "untrained_prior"} and out["eval_max_steps"] == 30
    from PIL import Image

    with Image.open(out["plot"]) as img:  # the learning curves, one panel per curve
        assert img.format == "PNG" and img.size[0] > 2 * img.size[1]
    for run in out["runs"]:
        exp_dir = os.path.join(out["train_dir"], run["experiment"])
        assert read_config(exp_dir)["seed"] == run["seed"]
        entropy = [v for _, v in scalars(exp_dir, ("train/entropy",))["train/entropy"]]
        assert run["final_entropy"] == entropy[-1] and run["min_entropy"] == min(entropy)
        assert 0 < run["top_action_share"] <= 1 and run["agent_steps"] > 0
        # the trained figures replay: the same policy on the same seeds gives the same hearts and diamonds
        policy = load_policy(run["experiment"], train_dir=out["train_dir"])
        env = policy.make_env(max_steps=30)
        hearts, diamonds = [], []
        for seed in range(2):
            obs, _ = env.reset(seed=seed)
            policy.reset(len(env.possible_agents), seed=seed)
            rewards = None
            while env.agents:
                obs, rewards, _, _, infos = env.step(policy.act(obs, rewards=rewards))
            hearts += [infos[a]["episode"]["hearts"] for a in env.possible_agents]
            diamonds += [infos[a]["episode"]["diamonds_harvested"] for a in env.possible_agents]
        assert run["hearts"] == float(np.mean(hearts)) and run["diamonds_harvested"] == float(np.mean(diamonds))
    # the bar, judged here: every part of it for every seed, from the figures the report gives
    assert out["bar"] == BAR
    prior = out["baselines"]["untrained_prior"]["hearts"]
    for run in out["runs"]:
        assert run["passes"] == bar_by_hand(run["hearts"], run["diamonds_harvested"], prior)
    assert out["every_seed_passes"] == all(all(r["passes"].values()) for r in out["runs"])
    lowest = min(r["hearts"] for r in out["runs"])
    assert out["summary"]["prior_ratio_min"] == (lowest / prior if prior > 0 else None)


# the bar as the learning bench states it (metta/bench/training/learning_bench.py, docs/training.md): per agent per
# episode at least one heart and one diamond harvested, and at least 5x the hearts of the untrained policy's prior
BAR = {"hearts": 1.0, "diamonds_harvested": 1.0, "prior_ratio": 5.0}


def bar_by_hand(hearts, diamonds, prior_hearts):
    ratio = hearts / prior_hearts if prior_hearts > 0 else math.inf   # a prior with no heart: any ratio clears it
    return {"hearts": hearts >= 1.0, "diamonds_harvested": diamonds >= 1.0, "prior_ratio": ratio >= 5.0}


@pytest.mark.parametrize("hearts, diamonds, prior", [
    (2.0, 3.0, 0.5),     # 4x the prior: every part but the ratio
    (2.5, 3.0, 0.5),     # exactly 5x
    (2.0, 3.0, 0.25),    # 8x
    (2.0, 3.0, 0.0),     # the prior earned none
    (0.5, 3.0, 0.05),    # 10x the prior, yet under a heart
    (1.5, 0.5, 0.1),     # hearts, but under a diamond
    (0.0, 0.0, 0.0),
])
def test_the_verdict_is_the_whole_bar(hearts, diamonds, prior):
    from metta import make_env
    from metta.bench.training.learning_bench import bar, verdict

    env = make_env("metta-teams", width=10, height=10, num_agents=4, team_size=2)
    bars = bar(env)
    env.close()
    assert bars == BAR
    run = {"hearts": hearts, "diamonds_harvested": diamonds}
    assert verdict(run, prior, bars) == bar_by_hand(hearts, diamonds, prior)
