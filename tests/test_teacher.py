"""Kickstarting from a scripted teacher (metta.scripted.teacher): λ's schedule by hand, the teacher's keys kept
out of the student's model, the loss against a hand-computed cross-entropy, and a tiny kickstarted run whose
checkpoint loads, evaluates and resumes with no teacher configured."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT

SMALL = dict(width=12, height=12, num_agents=4, team_size=2, generators=2, chargers=1, altars=1, max_steps=30)
TINY = ["--env=metta-teams", "--width=10", "--height=10", "--num_agents=4", "--team_size=2", "--generators=4",
        "--chargers=2", "--altars=2", "--max_steps=40", "--num_workers=1", "--num_envs_per_worker=2",
        "--vector_envs=1", "--rollout=8", "--batch_size=64", "--stats_avg=4", "--action_prior=0.5",
        "--experiment_summaries_interval=1", "--seed=0", "--decorrelate_envs_on_one_worker=False"]


# ---------------------------------------------------------------------------------------------------- the schedule
def test_lambda_decays_linearly_to_zero_by_the_share_of_the_budget():
    from metta.scripted.teacher import Schedule, schedule

    plan = Schedule(2.0, 1000)
    assert [plan(t) for t in (0, 250, 500, 1000, 1500)] == [2.0, 1.5, 1.0, 0.0, 0.0]
    cfg = {"teacher": "oracle", "teacher_coef": 0.5, "teacher_until": 0.25, "train_for_env_steps": 8000}
    assert schedule(cfg) == Schedule(0.5, 2000)
    assert schedule(cfg)(1000) == 0.25 and schedule(cfg)(2000) == 0.0 and schedule(cfg)(10_000) == 0.0
    assert schedule({**cfg, "teacher": None}) is None and schedule({**cfg, "teacher": "none"}) is None


def test_teacher_flags_are_checked_with_the_flag_and_the_known_names():
    from metta.errors import UsageError
    from metta.scripted.teacher import check_teacher

    ok = {"teacher": "oracle", "teacher_coef": 1.0, "teacher_until": 0.5, "train_for_env_steps": 1000}
    check_teacher(ok)
    check_teacher({**ok, "teacher": "none", "train_for_env_steps": int(1e10)})
    with pytest.raises(UsageError, match=r"--teacher=sage: .*known: oracle, peaceful"):
        check_teacher({**ok, "teacher": "sage"})
    with pytest.raises(UsageError, match="--train_for_env_steps"):
        check_teacher({**ok, "train_for_env_steps": int(1e10)})
    with pytest.raises(UsageError, match="--teacher_until"):
        check_teacher({**ok, "teacher_until": 1.5})
    with pytest.raises(UsageError, match="--teacher_coef"):
        check_teacher({**ok, "teacher_coef": -1.0})


def test_the_teacher_flags_are_in_the_parsed_config():
    from metta.sf_integration.train import parse_args

    cfg = parse_args(["--env=metta-teams", "--teacher=oracle", "--teacher_coef=0.3", "--teacher_until=0.2"])
    assert (cfg.teacher, cfg.teacher_coef, cfg.teacher_until) == ("oracle", 0.3, 0.2)
    plain = parse_args(["--env=metta-teams"])
    assert plain.teacher is None and plain.teacher_coef == 1.0 and plain.teacher_until == 0.5


# ----------------------------------------------------------------------------------------- the teacher in the env
def teacher_env(until_steps, share=1, batched=True):
    from metta import make_env
    from metta.sf_integration.env import MettaSFEnv
    from metta.scripted.teacher import EnvTeacher, Schedule

    envs = [make_env("metta-teams", seed=0, **SMALL)]
    return MettaSFEnv(envs, batched=batched, teacher=EnvTeacher(envs, "oracle", Schedule(1.0, until_steps),
                                                                share=share, seed=0))


def test_the_teacher_acts_as_the_scripted_agents_and_stops_once_lambda_is_zero():
    from metta.scripted.agents import ORACLE, ScriptedAgents

    # 4 agents, one of 2 envs: the run's estimate grows by 8 agent-steps a step; lambda reaches 0 at 40
    env = teacher_env(40, share=2)
    obs, _ = env.reset(seed=3)
    truth = ScriptedAgents(env.envs[0], ORACLE, seed=0).act()  # the same state, read independently
    assert obs["teacher_action"].reshape(-1).tolist() == truth.tolist()
    assert obs["has_teacher"].reshape(-1).tolist() == [1.0] * 4
    asked = []
    for _ in range(8):
        obs, *_ = env.step(np.zeros(4, dtype=np.int64))
        asked.append(bool(obs["has_teacher"].all()))
        assert obs["has_teacher"].all() or not obs["has_teacher"].any()
    assert asked == [True] * 4 + [False] * 4  # 8, 16, 24, 32 < 40 <= 40, 48...
    assert not obs["teacher_action"].any()
    lists = teacher_env(40, batched=False)
    per_agent, _ = lists.reset(seed=3)
    assert [float(o["teacher_action"][0]) for o in per_agent] == truth.tolist()


def test_the_teacher_starts_every_episode_afresh():
    """The scripted agents keep state within an episode (on the way to an altar or a gift, queued steps, their
    tie-break generator): when an env's episode ends, the next one's labels are a fresh teacher's on its state."""
    from metta.scripted.agents import ORACLE, ScriptedAgents

    env = teacher_env(10**6)
    env.reset(seed=3)
    agents = env.teacher._scripted(env.envs[0])
    for _ in range(SMALL["max_steps"]):
        agents.bound[:], agents.gift_to[:], agents.waited[:] = True, 0, 5   # stale, as after a long episode
        obs, _, terminated, truncated, _ = env.step(np.zeros(4, dtype=np.int64))
    assert (terminated | truncated).all()                                      # the episode ended, the env reset
    truth = ScriptedAgents(env.envs[0], ORACLE, seed=0).act()
    assert obs["teacher_action"].reshape(-1).tolist() == truth.tolist()


# ------------------------------------------------------------------------ the student never sees the teacher's keys
def model_for(arch, teacher):
    from metta.sf_integration.model import ARCHITECTURES, make_metta_actor_critic
    from metta.sf_integration.train import parse_args, register_components

    register_components()
    env = teacher_env(1000) if teacher else None
    cfg = parse_args(["--env=metta-teams", f"--architecture={arch}", "--width=12", "--height=12",
                      "--num_agents=4", "--generators=2", "--chargers=1", "--altars=1"])
    if env is None:
        from metta import make_env
        from metta.sf_integration.env import observation_space

        plain = make_env("metta-teams", **SMALL)
        space = observation_space(plain, ARCHITECTURES[arch].layout)
        action_space = plain.action_space(plain.possible_agents[0])
    else:
        from metta.sf_integration.env import observation_space

        space = observation_space(env.envs[0], ARCHITECTURES[arch].layout, teacher=True)
        action_space = env.action_space
    torch.manual_seed(0)
    return make_metta_actor_critic(cfg, space, action_space), space


@pytest.mark.parametrize("arch", ["flat", "conv"])
def test_the_teacher_keys_never_reach_the_students_model(arch):
    from sample_factory.algo.utils.rl_utils import prepare_and_normalize_obs
    from sample_factory.model.model_utils import get_rnn_size

    taught, space = model_for(arch, teacher=True)
    plain, plain_space = model_for(arch, teacher=False)
    assert "teacher_action" in space.spaces and "teacher_action" not in plain_space.spaces
    # the same parameters and buffers, of the same shapes: a checkpoint of either loads into the other
    assert {k: v.shape for k, v in taught.state_dict().items()} == {k: v.shape for k, v in plain.state_dict().items()}
    assert taught.encoder.get_out_size() == plain.encoder.get_out_size()
    assert not any("teacher" in k for k in taught.state_dict())
    taught.eval()
    rng = np.random.default_rng(0)
    base = {k: torch.from_numpy(rng.integers(0, 3, size=(5,) + s.shape).astype(s.dtype)) for k, s in
            plain_space.items()}
    outputs = []
    for action, has in ((0.0, 0.0), (7.0, 1.0), (21.0, 1.0)):
        obs = {**{k: v.clone() for k, v in base.items()}, "teacher_action": torch.full((5, 1), action),
               "has_teacher": torch.full((5, 1), has)}
        with torch.no_grad():
            out = taught(prepare_and_normalize_obs(taught, obs), torch.zeros(5, get_rnn_size(taught.cfg)))
        outputs.append((out["action_logits"], out["values"]))
    for logits, values in outputs[1:]:
        assert torch.equal(logits, outputs[0][0]) and torch.equal(values, outputs[0][1])


# ------------------------------------------------------------------------------------------------------ the loss
def test_the_kickstarting_term_is_the_hand_computed_cross_entropy_and_zero_without_a_teacher():
    from metta.scripted.teacher import Kickstart, Schedule, teacher_term

    logits = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [3.0, -1.0, 0.5], [0.2, 0.1, 4.0]], requires_grad=True)
    action = torch.tensor([[1.0], [2.0], [2.0], [0.0]])
    has = torch.tensor([[1.0], [1.0], [0.0], [1.0]])
    valids = torch.tensor([True, True, True, False])

    def ce(row, a):  # -log softmax, by hand
        z = [float(x) for x in logits.detach()[row]]
        return -(z[a] - math.log(sum(math.exp(x) for x in z)))

    term, stats = teacher_term(logits, {"teacher_action": action, "has_teacher": has}, valids)
    # rows 0 and 1 are taught; row 2 has no teacher, row 3 is invalid; divided by the 3 valid rows
    assert float(term.detach()) == pytest.approx((ce(0, 1) + ce(1, 2)) / 3, rel=1e-6)
    assert stats["taught"] == pytest.approx(2 / 3)
    assert stats["cross_entropy"] == pytest.approx((ce(0, 1) + ce(1, 2)) / 2, rel=1e-6)
    assert stats["agreement"] == 0.5  # row 0's argmax is 1, the teacher's; row 1's (a tie: 0) is not 2
    term.backward()
    assert logits.grad[2:].abs().sum() == 0  # untaught and invalid rows pull nothing

    none = {"teacher_action": action, "has_teacher": torch.zeros(4, 1)}
    zero, stats = teacher_term(logits, none, valids)
    assert float(zero.detach()) == 0.0 and stats == {"taught": 0.0}

    kick = Kickstart(Schedule(2.0, 100))
    loss, stats = kick(25, {"teacher_action": action, "has_teacher": has}, logits, valids)
    assert float(loss.detach()) == pytest.approx(1.5 * (ce(0, 1) + ce(1, 2)) / 3, rel=1e-6)
    assert stats["teacher/lambda"] == 1.5 and stats["teacher/loss"] == pytest.approx(float(loss.detach()))
    assert kick(100, {"teacher_action": action, "has_teacher": has}, logits, valids)[0] == 0.0


def test_the_balanced_term_weighs_each_chosen_action_alike_and_agreement_is_reported_per_type():
    from metta.scripted.teacher import Kickstart, teacher_term

    logits = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.5, 0.0], [0.0, 3.0, 1.0], [0.0, 1.0, 0.5]])
    obs = {"teacher_action": torch.tensor([[1.0], [1.0], [1.0], [2.0]]), "has_teacher": torch.ones(4, 1)}
    valids = torch.ones(4, dtype=torch.bool)

    def ce(row, a):
        z = [float(x) for x in logits[row]]
        return -(z[a] - math.log(sum(math.exp(x) for x in z)))

    # n = 4 taught steps of k = 2 chosen actions: action 1 (3 steps) weighs 4 / (2 x 3) each, action 2 (1 step) 4 / 2
    by_hand = (2 / 3 * (ce(0, 1) + ce(1, 1) + ce(2, 1)) + 2 * ce(3, 2)) / 4
    types = ["noop", "move", "use"]
    term, stats = teacher_term(logits, obs, valids, balanced=True, action_types=types)
    assert float(term) == pytest.approx(by_hand, rel=1e-6)
    uniform, _ = teacher_term(logits, obs, valids)
    assert float(uniform) == pytest.approx((ce(0, 1) + ce(1, 1) + ce(2, 1) + ce(3, 2)) / 4, rel=1e-6)
    # the student's most likely actions: 1, 0, 1, 1: it agrees on 2 of the 3 moves and on none of the uses
    assert stats["agreement"] == 0.5
    assert (stats["agreement/move"], stats["agreement/use"]) == (pytest.approx(2 / 3), 0.0)
    assert "agreement/noop" not in stats  # the teacher chose no noop

    cfg = {"teacher": "oracle", "teacher_coef": 1.0, "teacher_until": 1.0, "train_for_env_steps": 100,
           "teacher_weighting": "balanced", "action_types": types}
    kick = Kickstart.of(cfg)
    assert kick is not None and kick.balanced and kick.action_types == types
    loss, out = kick(0, obs, logits, valids)
    assert float(loss) == pytest.approx(by_hand, rel=1e-6) and out["teacher/agreement/use"] == 0.0
    assert not Kickstart.of({**cfg, "teacher_weighting": "uniform"}).balanced
    assert not Kickstart.of({k: v for k, v in cfg.items() if k != "teacher_weighting"}).balanced  # older runs


# -------------------------------------------------------------------------------------------- a kickstarted run
def reset_obs(policy):
    env = policy.make_env(seed=0)
    obs, _ = env.reset(seed=0)
    policy.reset(len(env.possible_agents), env.max_steps, seed=0)
    return (obs,)


def train(tmp, steps, *extra):
    cmd = [sys.executable, "-m", "metta.sf_integration.train", *TINY, f"--train_dir={tmp}/td", "--experiment=kick",
           f"--train_for_env_steps={steps}", *extra]
    return subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": ROOT})


@pytest.mark.slow
def test_a_kickstarted_run_logs_lambda_and_its_checkpoint_loads_evaluates_and_resumes_without_a_teacher(tmp_path):
    from metta.bench.training.scalars import scalars
    from metta.sf_integration.checkpoints import load_checkpoint, trained_steps
    from metta.evals.evaluate import evaluate
    from metta.sf_integration.policy import load_policy

    tmp = str(tmp_path)
    first = train(tmp, 1000, "--teacher=oracle", "--teacher_coef=0.5", "--teacher_weighting=balanced")
    assert first.returncode == 0, first.stderr[-3000:]
    exp_dir = os.path.join(tmp, "td", "kick")
    tags = scalars(exp_dir, ("teacher/",))
    assert tags["teacher/lambda"][0][1] == 0.5  # the learner's first summary is at its step 0: lambda_0
    assert all(v <= 0.5 for _, v in tags["teacher/lambda"])
    assert "teacher/agreement" in tags and "teacher/loss" in tags and "train/teacher/lambda" not in scalars(exp_dir)
    assert any(tag.startswith("teacher/agreement/") for tag in tags)  # per action type
    with open(os.path.join(exp_dir, "config.json")) as f:
        saved = json.load(f)
    assert (saved["teacher"], saved["teacher_coef"], saved["teacher_until"], saved["teacher_weighting"]) == \
        ("oracle", 0.5, 0.5, "balanced")

    # no teacher configured: the checkpoint loads and plays
    policy = load_policy("kick", train_dir=os.path.join(tmp, "td"))
    assert not any("teacher" in k for k in load_checkpoint(policy.checkpoint)["model"])
    stats = evaluate(None, "kick", train_dir=os.path.join(tmp, "td"), max_steps=10, film=0, replays=0,
                     progress=False)
    assert stats["policy"] == "trained" and len(stats["episodes"]) == 1
    # shared as a model (a local directory in place of a Hub repository) and installed, it plays without a teacher
    from metta import hub

    shared = os.path.join(tmp, "shared", "kick-model")
    hub.save("kick", shared, os.path.join(tmp, "td"), out=lambda *_: None)
    with open(os.path.join(shared, "README.md")) as f:
        assert "| teacher | `oracle`" in f.read()
    installed = hub.load(shared, os.path.join(tmp, "installed"), out=lambda *_: None)
    again = load_policy(os.path.basename(installed), train_dir=os.path.dirname(installed))
    assert again.act(*reset_obs(again))

    # resumed with the teacher over the whole budget: lambda continues from the run's agent-steps
    done = trained_steps(exp_dir)
    second = train(tmp, 2000, "--teacher=oracle", "--teacher_until=1")
    assert second.returncode == 0, second.stderr[-3000:]
    with open(os.path.join(exp_dir, "config.json")) as f:
        assert json.load(f)["teacher_start_steps"] == done
    resumed = [v for _, v in scalars(exp_dir, ("teacher/lambda",))["teacher/lambda"]][len(tags["teacher/lambda"]):]
    assert resumed and resumed[0] == pytest.approx(0.5 * (1 - done / 2000), rel=1e-5)

    # and once more with no teacher at all
    third = train(tmp, 2200, "--teacher=none")
    assert third.returncode == 0, third.stderr[-3000:]
