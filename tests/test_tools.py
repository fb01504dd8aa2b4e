"""The command-line tools run and print what they claim (figures are not asserted: timing varies)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


@pytest.mark.slow
def test_bench_json():
    proc = run("metta.bench", "--json", "--steps", "40", "--repeats", "2", "--backends", "griddly,numba",
               "--batch", "2")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    rows = out["contenders"]
    assert out["env"] == "metta-teams" and list(rows) == ["seed stack", "griddly floor", "griddly", "numba", "batch 2",
                                                          "floor 2"]
    for name, r in rows.items():
        assert r["agents"] == (48 if name.endswith(" 2") else 24) and len(r["runs"]) == 2
        assert sorted(r["runs"])[0] <= r["agent_steps_per_s"] <= sorted(r["runs"])[1]
        # the ratios are medians of within-round ratios against the same rounds' baselines
        assert r["vs_seed_stack"] == pytest.approx(np.median(np.divide(r["runs"], rows["seed stack"]["runs"])))
        floor = rows["floor 2" if name.endswith(" 2") else "griddly floor"]["runs"]
        assert r["over_floor"] == pytest.approx(np.median(np.divide(floor, r["runs"])))
    assert rows["seed stack"]["vs_seed_stack"] == 1.0 and rows["griddly floor"]["over_floor"] == 1.0


def test_bench_unknown_backend_is_a_usage_error():
    proc = run("metta.bench", "--backends", "griddly,opencl")
    assert proc.returncode == 2 and "unknown backend(s) opencl" in proc.stderr


def replay_rollout(env, steps, seed):
    """rollout's figures played again by hand: the same seed and the same uniform draws of the same generator, one
    action per live agent in order; rewards as the env pays them, hearts read from Griddly's own per-player
    variable (its state), not from the env's metrics."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    n = len(env.possible_agents)
    reward, hearts, episodes = [0.0] * n, [0] * n, 0

    def griddly_hearts():
        return env.state()["GlobalVariables"]["hearts"][1:]   # players 1..n (0 is the environment)

    for _ in range(steps):
        _, rew, _, _, _ = env.step({a: int(rng.integers(env.action_space(a).n)) for a in env.agents})
        for i, a in enumerate(env.possible_agents):
            reward[i] += rew[a]
        if not env.agents:
            episodes += 1
            hearts = [h + g for h, g in zip(hearts, griddly_hearts())]
            env.reset()
    if env.agents:
        hearts = [h + g for h, g in zip(hearts, griddly_hearts())]
    return dict(agents=n, steps=steps, episodes_finished=episodes, reward_total=sum(reward),
                reward_per_agent=sum(reward) / n, hearts_per_agent=sum(hearts) / n,
                agents_with_a_heart=sum(h > 0 for h in hearts))


def test_rollout_summary():
    from metta import make_env

    proc = run("metta.bench.rollout", "--env", "metta-kin-dilemma", "--steps", "500", "--seed", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    expected = replay_rollout(make_env("metta-kin-dilemma", seed=2), 500, 2)
    assert expected["reward_total"] > 0 and expected["episodes_finished"] == 2   # 500 steps: 2 episodes of 200
    assert out["env"] == "metta-kin-dilemma"
    assert {k: out[k] for k in expected} == pytest.approx(expected, abs=1e-9)


def test_rollout_figures_replay_with_hearts():
    """On a map crowded with free altars, so that the random policy earns hearts, over two finished episodes and a
    running one: every figure is the hand replay's."""
    from metta import make_env
    from metta.bench.rollout import random_rollout

    kw = dict(width=12, height=12, num_agents=12, generators=2, chargers=2, altars=40, wall_density=0.0, max_steps=50,
              overrides={"altar_cost": 0, "altar_cooldown": 1})
    out = random_rollout(make_env("metta-teams", seed=4, **kw), 120, 4, progress=False)
    expected = replay_rollout(make_env("metta-teams", seed=4, **kw), 120, 4)
    # hearts in every episode's count, some agents with none: every figure can tell a wrong count
    assert expected["episodes_finished"] == 2 and expected["hearts_per_agent"] > 1 and expected["reward_total"] > 0
    assert 0 < expected["agents_with_a_heart"] < 12
    assert {k: out[k] for k in expected} == pytest.approx(expected, abs=1e-9)


def test_rollout_unknown_env_is_a_clear_error():
    proc = run("metta.bench.rollout", "--env", "metta-nope", "--steps", "3")
    assert proc.returncode == 2  # a command line that cannot run (metta.errors)
    assert "unknown environment 'metta-nope'" in proc.stderr and "Traceback" not in proc.stderr


def test_scripted_bench_summary_and_its_arithmetic():
    proc = run("metta.bench.scripted", "--env", "metta-kin-dilemma", "--steps", "40", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["env"], out["agents"], out["steps"]) == ("metta-kin-dilemma", 12, 40)
    choose, step = out["scripted_ms_per_step"] / 1e3, out["env_ms_per_step"] / 1e3
    assert choose > 0 and step > 0
    assert out["scripted_over_env"] == pytest.approx(choose / step)
    assert out["env_agent_steps_per_s"] == pytest.approx(12 / step)
    assert out["with_scripted_agent_steps_per_s"] == pytest.approx(12 / (step + choose))
    proc = run("metta.bench.scripted", "--env", "metta-nope", "--steps", "3")
    assert proc.returncode == 2 and "unknown environment 'metta-nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_json_readers_share_one_clear_error(tmp_path):
    import pytest

    from metta.errors import ConfigError
    from metta.sf_integration.checkpoints import CheckpointError, read_config
    from metta.hub.manifest import read_manifest

    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match=r"config.json: unreadable experiment config .*expected a JSON file"):
        read_config(str(tmp_path))
    (tmp_path / "manifest.json").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match=r"manifest.json: unreadable manifest .*expected a JSON file"):
        read_manifest(str(tmp_path / "manifest.json"), "model")
