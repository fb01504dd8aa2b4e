"""The learning benchmark: make train's budget is its default, and what it reports comes from the runs it made."""
import json
import os
import re
import subprocess
import sys

import numpy as np

from conftest import ROOT

TINY = ["--width=10", "--height=10", "--num_agents=4", "--team_size=2", "--generators=3", "--chargers=1",
        "--altars=1", "--max_steps=30", "--num_workers=1", "--num_envs_per_worker=2", "--vector_envs=1", "--rollout=8",
        "--batch_size=64", "--experiment_summaries_interval=1", "--decorrelate_envs_on_one_worker=False"]


def test_make_train_trains_for_the_benchmarks_default_budget():
    from metta.sf_integration.learning_bench import MAKE_TRAIN_FLAGS, MAKE_TRAIN_SECONDS

    makefile = open(os.path.join(ROOT, "Makefile")).read()
    assert int(re.search(r"^TRAIN_SECONDS \?= (\d+)$", makefile, re.M).group(1)) == MAKE_TRAIN_SECONDS
    train_line = next(line for line in makefile.splitlines() if "metta.sf_integration.train" in line).split()
    flags = train_line[train_line.index("metta.sf_integration.train") + 1:]
    assert [f for f in flags if not f.startswith(("--env=", "--train_for_seconds="))] == list(MAKE_TRAIN_FLAGS)
    assert MAKE_TRAIN_SECONDS <= 8 * 60  # the bound on make train's training time


def test_two_seeds_are_two_runs_and_their_figures_replay(tmp_path):
    from metta.sf_integration.checkpoints import read_config, scalars
    from metta.sf_integration.policy import load_policy

    cmd = [sys.executable, "-m", "metta.sf_integration.learning_bench", "--seeds", "2", "--first_seed", "3",
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
        passes = run["hearts"] >= out["bar"]["hearts"] and run["diamonds_harvested"] >= out["bar"]["diamonds_harvested"]
        assert passes == (run["passes"]["hearts"] and run["passes"]["diamonds_harvested"])
