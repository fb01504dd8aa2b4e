"""End to end: `python -m metta.sf_integration.train` on a tiny map, resumed, and with broken checkpoints."""
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

TINY = ["--env=metta-teams", "--width=10", "--height=10", "--num_agents=4", "--team_size=2", "--generators=4",
        "--chargers=2", "--altars=2", "--max_steps=40", "--override", "attack.cost=5",
        "--num_workers=1", "--num_envs_per_worker=2", "--vector_envs=1", "--rollout=8", "--batch_size=64",
        "--stats_avg=4", "--action_prior=0.5",
        "--experiment_summaries_interval=1", "--seed=0", "--decorrelate_envs_on_one_worker=False"]
SOCIAL = ("hearts", "diamonds_harvested", "energy_converted", "attacks_on_kin", "attacks_on_strangers",
          "gifts_to_kin", "gifts_to_strangers", "frozen_steps", "shield_steps",
          "efficiency", "peace", "attack_chances_kin", "attack_chances_strangers", "gift_chances_kin")


def train(tmp, steps, *extra, experiment="tiny"):
    cmd = [sys.executable, "-m", "metta.sf_integration.train", *TINY, f"--train_dir={tmp}/train_dir",
           f"--experiment={experiment}", f"--train_for_env_steps={steps}", *extra]
    return subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": ROOT})


def checkpoints(exp_dir):
    """(env_steps, path) of each checkpoint, oldest first, parsed from Sample Factory's file names."""
    out = []
    for p in glob.glob(os.path.join(exp_dir, "checkpoint_p0", "checkpoint_*.pth")):
        out.append((int(re.match(r"checkpoint_\d+_(\d+)\.pth", os.path.basename(p)).group(1)), p))
    return sorted(out)


def scalars(exp_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(os.path.join(exp_dir, ".summary", "0"), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One tiny experiment trained twice: 3000 agent-steps, then resumed to 6000."""
    tmp = str(tmp_path_factory.mktemp("sf"))
    first = train(tmp, 3000)
    assert first.returncode == 0, first.stderr[-3000:]
    exp_dir = os.path.join(tmp, "train_dir", "tiny")
    after_first = checkpoints(exp_dir)
    first_scalars = scalars(exp_dir)
    # the resumed run may rotate the first run's checkpoints away (Sample Factory keeps the last two)
    first_latest = shutil.copy(after_first[-1][1], os.path.join(tmp, "first_latest.pth"))
    second = train(tmp, 6000)
    assert second.returncode == 0, second.stderr[-3000:]
    return dict(tmp=tmp, exp_dir=exp_dir, after_first=after_first, first_scalars=first_scalars,
                first_latest=first_latest, second=second)


@pytest.mark.slow
def test_leaves_checkpoint_config_and_tensorboard_social_metrics(run):
    import json

    from metta.sf_integration.checkpoints import load_checkpoint

    steps, _ = run["after_first"][-1]
    assert steps >= 3000
    ckpt = load_checkpoint(run["first_latest"])  # weights_only
    assert ckpt["env_steps"] == steps and any(k.startswith("encoder.grid") for k in ckpt["model"])
    with open(os.path.join(run["exp_dir"], "config.json")) as f:
        cfg = json.load(f)
    assert cfg["env"] == "metta-teams" and cfg["map.width"] == 10 and cfg["game.overrides"] == ["attack.cost=5"]
    assert cfg["env_config"]["map"]["width"] == 10 and cfg["env_config"]["game"]["overrides"] == {"attack.cost": 5}
    tags = run["first_scalars"]
    for m in SOCIAL:
        assert f"social/{m}" in tags, sorted(tags)
    assert "reward/reward" in tags
    # Each summary is the mean over Sample Factory's window of --stats_avg=4 finished agents, here the 4 agents of the
    # last episode (they all finish together, after the 40 steps Sample Factory counted itself). So, per summary:
    # a count is a whole number of steps or events over 4 agents, at most 40 steps each; peace is 1 - frozen steps
    # / 40; efficiency, the episode's raw reward per step, is the agents' mean raw reward x 4 / 40; and Sample
    # Factory's own reward/reward, the mean of the rewards it was paid, is the mean raw reward too (two teams of
    # two: sharing moves reward within a team and keeps its sum)
    def at(tag):
        return dict(tags[tag])

    steps = sorted(at("social/shield_steps"))
    assert steps and all(sorted(at(f"social/{m}")) == steps for m in SOCIAL + ("raw_reward",))
    assert set(at("len/len").values()) == {40.0}
    for m in ("hearts", "diamonds_harvested", "attacks_on_kin", "attacks_on_strangers", "frozen_steps",
              "shield_steps", "attack_chances_kin"):
        for v in at(f"social/{m}").values():
            assert v * 4 == pytest.approx(round(v * 4), abs=1e-4) and v >= 0, (m, v)
    for m in ("frozen_steps", "shield_steps"):
        assert all(v <= 40 for v in at(f"social/{m}").values())
    # and the shield counter is read: --action_prior=0.5 gives the 14 actions that are not noop, move, rotate or use
    # half of the untrained policy's probability, so shield 1/28 a step; that no agent of any summary's episode
    # raises its shield in 40 steps then has probability (27/28)^(40 x 4 x summaries) < 1e-5
    from metta import make_env

    env = make_env("metta-teams")
    others = sum(a.name not in ("noop", "move", "rotate", "use") for a in env.engine.actions)
    env.close()
    assert others == 14 and (1 - 0.5 / others) ** (40 * 4 * len(steps)) < 1e-5
    assert any(v > 0 for v in at("social/shield_steps").values())
    frozen, peace, bonds = at("social/frozen_steps"), at("social/peace"), at("social/bonds_formed")
    raw, efficiency, paid = at("social/raw_reward"), at("social/efficiency"), at("reward/reward")
    for step in steps:
        assert peace[step] == pytest.approx(1 - frozen[step] / 40, abs=1e-6), step
        assert efficiency[step] == pytest.approx(raw[step] * 4 / 40, abs=1e-6), step
        if bonds[step] == 0:   # (a bond shares across teams, unevenly when one agent holds two)
            assert paid[step] == pytest.approx(raw[step], abs=1e-5), step


@pytest.mark.slow
def test_second_run_resumes_from_the_checkpoint(run):
    first_steps = run["after_first"][-1][0]
    after = checkpoints(run["exp_dir"])
    assert after[-1][0] >= 6000
    out = run["second"].stdout + run["second"].stderr
    assert f"env_steps={first_steps}" in out  # Sample Factory's "Loaded experiment state at ... env_steps=N"
    assert "starting from scratch" not in out.lower()
    steps = [s for s, _ in scalars(run["exp_dir"])["social/hearts"]]
    assert max(steps) > first_steps


@pytest.mark.slow
def test_corrupted_latest_checkpoint_falls_back_loudly(run):
    exp = os.path.join(run["tmp"], "train_dir", "broken")
    shutil.copytree(run["exp_dir"], exp)
    (good_steps, good), (_, latest) = checkpoints(exp)[-2:]
    with open(latest, "r+b") as f:  # truncated mid-write
        f.truncate(os.path.getsize(latest) // 2)
    # bounded by wall time this once: Sample Factory 2.1.1 alone would never stop on --train_for_seconds
    res = train(run["tmp"], 10**9, "--train_for_seconds=5", experiment="broken")
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout + res.stderr
    assert os.path.basename(latest) in out and "previous good checkpoint" in out
    assert os.path.isfile(os.path.join(exp, "checkpoint_p0", "corrupted", os.path.basename(latest)))  # kept
    assert f"env_steps={good_steps}" in out and "starting from scratch" not in out.lower()
    assert checkpoints(exp)[-1][0] > good_steps


@pytest.mark.slow
def test_no_readable_checkpoint_is_a_clear_error_and_touches_nothing(run):
    exp = os.path.join(run["tmp"], "train_dir", "ruined")
    shutil.copytree(run["exp_dir"], exp)
    paths = [p for _, p in checkpoints(exp)]
    for p in paths:
        with open(p, "wb") as f:
            f.write(b"not a checkpoint")
    res = train(run["tmp"], 9000, experiment="ruined")
    assert res.returncode == 1  # bad data (metta.errors)
    assert "error:" in res.stderr and "no readable checkpoint" in res.stderr and "Traceback" not in res.stderr
    assert all(open(p, "rb").read() == b"not a checkpoint" for p in paths)


@pytest.mark.slow
def test_load_policy_acts_in_the_experiments_env(run):
    from metta.sf_integration.policy import load_policy

    policy = load_policy("tiny", train_dir=os.path.join(run["tmp"], "train_dir"))
    assert policy.env_name == "metta-teams"
    assert policy.env_config.map.width == 10 and policy.env_config.game.overrides == {"attack.cost": 5}
    env = policy.make_env(seed=3)
    obs, _ = env.reset(seed=3)
    policy.reset(len(env.possible_agents))
    rewards = None
    for _ in range(5):
        actions = policy.act(obs, rewards=rewards)
        assert set(actions) == set(env.agents) and all(0 <= a < env.action_space(k).n for k, a in actions.items())
        obs, rewards, *_ = env.step(actions)
    policy.reset(len(env.possible_agents))
    first = policy.act(obs, deterministic=True)
    policy.reset(len(env.possible_agents))
    assert policy.act(obs, deterministic=True) == first  # reset clears the recurrent state and last actions


@pytest.mark.slow
def test_a_trained_policy_samples_the_same_actions_for_the_same_episode_seed(run):
    import torch

    from metta.sf_integration.policy import load_policy

    policy = load_policy("tiny", train_dir=os.path.join(run["tmp"], "train_dir"))
    env = policy.make_env(seed=0)

    def play(policy_seed):
        obs, _ = env.reset(seed=7)
        policy.reset(len(env.possible_agents), seed=policy_seed)
        rewards, played = None, []
        for _ in range(20):
            actions = policy.act(obs, rewards=rewards)
            played.append(actions)
            obs, rewards, *_ = env.step(actions)
        return played

    first = play(7)
    torch.manual_seed(123)  # torch's global generator, moved elsewhere, does not reach the policy's sampler
    torch.rand(1000)
    assert play(7) == first
    assert play(8) != first  # another seed, other draws (the tiny policy is far from deterministic)
    env.close()


@pytest.mark.slow
def test_load_policy_errors_name_the_path(run, tmp_path):
    from conftest import config_error
    from metta.sf_integration.policy import load_policy

    with config_error(str(tmp_path / "nothing")):
        load_policy("nothing", train_dir=str(tmp_path))
    exp = tmp_path / "exp"
    shutil.copytree(run["exp_dir"], exp)
    latest = checkpoints(str(exp))[-1][1]
    with open(latest, "r+b") as f:
        f.truncate(100)
    with config_error(latest, "not a readable checkpoint"):
        load_policy("exp", train_dir=str(tmp_path))
    for _, p in checkpoints(str(exp)):
        os.remove(p)
    with config_error("checkpoint_p0", "no checkpoint"):
        load_policy("exp", train_dir=str(tmp_path))
    (exp / "config.json").write_text("{ truncated")
    with config_error(str(exp / "config.json")):
        load_policy("exp", train_dir=str(tmp_path))


@pytest.mark.slow
def test_the_eval_suite_plays_a_trained_policy_as_training_would(run, monkeypatch):
    """Through the eval suite, a trained policy gets each step's observations and the rewards that came with them:
    its actions equal those of calling act directly with the env's own obs and rewards, on the same seeded episode."""
    import numpy as np
    import torch

    from metta.evals import policies
    from metta.evals.scenarios import SCENARIOS
    from metta.evals.suite import run_suite
    from metta.sf_integration.policy import load_policy

    class Recorder(policies.Policy):
        def __init__(self, inner):
            self.inner, self.calls = inner, []

        def reset(self, num_agents, max_steps=None, seed=None):
            self.inner.reset(num_agents, max_steps, seed)

        def act(self, obs, rewards=None, deterministic=False):
            actions = self.inner.act(obs, rewards=rewards, deterministic=deterministic)
            self.calls.append(({a: o.copy() for a, o in obs.items()}, rewards, actions))
            return actions

    recorders = []
    monkeypatch.setattr(policies, "_trained_loader",
                        lambda exp, train_dir: recorders.append(Recorder(load_policy(exp, train_dir=train_dir)))
                        or recorders[-1])
    sc = SCENARIOS["navigation"]
    train_dir = os.path.join(run["tmp"], "train_dir")
    run_suite("tiny", [sc], episodes=1, seed=4, train_dir=train_dir, progress=False)
    (recorder,) = recorders
    direct = load_policy("tiny", train_dir=train_dir)
    env = sc.make_env(4)
    obs, _ = env.reset(seed=4)
    direct.reset(len(env.possible_agents), seed=4)  # the episode's seed: the suite hands it to the policy
    torch.rand(100)  # whatever else draws from torch's global generator does not change the policy's samples
    rewards, t = None, 0
    while env.agents:
        seen_obs, seen_rewards, played = recorder.calls[t]
        assert seen_obs.keys() == obs.keys() and all(np.array_equal(seen_obs[a], obs[a]) for a in obs)
        assert seen_rewards == rewards
        assert played == direct.act(obs, rewards=rewards), f"step {t}"
        obs, rewards, _, _, _ = env.step(played)
        t += 1
    assert t == len(recorder.calls) and t > 1
    env.close()


@pytest.mark.slow
def test_load_policy_loads_the_checkpoint_it_is_given_and_only_the_experiments(run):
    import torch

    from metta.sf_integration.checkpoints import CheckpointError, load_checkpoint
    from metta.sf_integration.policy import load_policy

    train_dir = os.path.join(run["tmp"], "train_dir")
    (_, older), (_, latest) = checkpoints(run["exp_dir"])[-2:]
    policy = load_policy("tiny", train_dir=train_dir, checkpoint=older)
    assert policy.checkpoint == older
    saved = load_checkpoint(older)["model"]
    assert all(torch.equal(v, saved[k]) for k, v in policy.model.state_dict().items())
    assert not all(torch.equal(v, load_checkpoint(latest)["model"][k]) for k, v in saved.items())  # it trained
    with pytest.raises(CheckpointError, match="not a checkpoint file of"):
        load_policy("tiny", train_dir=train_dir, checkpoint=run["first_latest"])  # a copy outside the experiment


def test_evenly_spaced_checkpoints_by_hand():
    from metta.evals.curve import evenly_spaced

    assert evenly_spaced(10, 4) == [0, 3, 6, 9]
    assert evenly_spaced(7, 3) == [0, 3, 6]
    assert evenly_spaced(5, 1) == [4]
    assert evenly_spaced(3, 5) == [0, 1, 2]
    assert evenly_spaced(0, 3) == []


@pytest.mark.slow
def test_the_eval_suites_learning_curve_scores_each_kept_checkpoint(run, monkeypatch):
    import json

    from metta.evals import __main__ as cli
    from metta.evals import policies
    from metta.evals.curve import kept_checkpoints
    from metta.sf_integration.checkpoints import load_checkpoint
    from metta.sf_integration.policy import load_policy

    train_dir = os.path.join(run["tmp"], "train_dir")
    kept = kept_checkpoints(run["exp_dir"])
    assert [p for _, p in kept] == [p for _, p in checkpoints(run["exp_dir"])]
    assert [s for s, _ in kept] == [load_checkpoint(p)["env_steps"] for _, p in kept]  # the file's own count
    loaded = []
    monkeypatch.setattr(policies, "_trained_loader",
                        lambda exp, train_dir, checkpoint=None: loaded.append(checkpoint)
                        or load_policy(exp, train_dir=train_dir, checkpoint=checkpoint))
    assert cli.main(["--experiment=tiny", f"--train_dir={train_dir}", "--scenarios=navigation", "--episodes=2",
                     "--no_videos", f"--curve={len(kept)}"]) == 0
    assert loaded == [None] + [p for _, p in kept[:-1]]  # the latest once, as the suite's own score
    out = os.path.join(run["exp_dir"], "evals")
    with open(os.path.join(out, "curve.json")) as f:
        curve = json.load(f)
    with open(os.path.join(out, "results.json")) as f:
        latest = json.load(f)["scenarios"]["navigation"]
    assert [(p["agent_steps"], p["checkpoint"]) for p in curve["points"]] == \
        [(s, os.path.basename(p)) for s, p in kept]
    assert curve["points"][-1]["scenarios"]["navigation"]["successes"] == latest["successes"]
    assert all(p["scenarios"]["navigation"]["episodes"] == 2 for p in curve["points"])
    with open(os.path.join(out, "curve.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(os.path.join(out, "report.html")) as f:
        page = f.read()
    assert "Learning curve" in page and 'src="curve.png"' in page and f"{kept[0][0]:,d}" in page


def test_a_curve_without_an_experiment_is_a_clear_error(capsys):
    from metta.evals.__main__ import main

    assert main(["--policy=random", "--curve=2"]) == 1
    assert "--curve needs --experiment" in capsys.readouterr().err
