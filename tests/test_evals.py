"""The eval suite: scenarios scored from real runs, a report built from those numbers, clear errors."""
import json
import math
import os
import re

import cv2
import pytest

from metta.errors import ConfigError
from metta.evals.__main__ import main
from metta.evals.policies import Policy, RandomPolicy
from metta.evals.scenarios import SCENARIOS, get_scenarios
from metta.evals.stats import fisher_exact, wilson_interval
from metta.evals.suite import run_suite


class Waiting(Policy):
    """Every agent waits: a policy that should succeed nowhere."""

    def act(self, obs, rewards=None, deterministic=False):
        return {a: 0 for a in obs}


def report_table(page):
    """The report's score table: its header cells and each row's cells, as the HTML has them."""
    table = re.search(r"<table><tr>(.*?)</table>", page, re.S).group(1)
    head = re.findall(r"<th>(.*?)</th>", table.split("</tr>")[0])
    rows = [re.findall(r"<td>(.*?)</td>", r) for r in re.findall(r"<tr>(<td>.*?)</tr>", table, re.S)]
    return head, rows


def fisher_by_hand(a, n1, b, n2):
    """Two-sided Fisher exact p of a/n1 against b/n2: the hypergeometric probabilities of every first-row count as
    likely as the observed one or less, summed."""
    k, n = a + b, n1 + n2

    def prob(x):
        return math.comb(k, x) * math.comb(n - k, n1 - x) / math.comb(n, n1)

    observed = prob(a)
    return sum(prob(x) for x in range(max(0, k - n2), min(k, n1) + 1) if prob(x) <= observed * (1 + 1e-7))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_is_solvable_and_can_be_failed(name):
    sc = SCENARIOS[name]
    oracle = run_suite("oracle", [sc], episodes=1, progress=False)["scenarios"][name]
    assert oracle["successes"] == 1, f"the scripted oracle fails {name}"
    from metta.evals.play import play_episode
    from metta.evals.policies import ScriptedAgent

    env = sc.make_env(0)
    outcome = play_episode(env, Waiting(), 0, {i: ScriptedAgent(env, **kw) for i, kw in sc.opponents.items()})
    assert not sc.success(outcome, env.game.named_values()), f"{name} counts doing nothing as success"
    env.close()


def test_report_numbers_come_from_the_runs(tmp_path):
    assert main(["--policy=random", "--episodes=4", "--scenarios=navigation,cooperation", "--baseline=oracle",
                 f"--train_dir={tmp_path}", "--fps=4", "--tile_size=8"]) == 0
    out = tmp_path / "random" / "evals"
    results = json.loads((out / "results.json").read_text())
    # replay the random policy on navigation: the success count is the number of episodes with a heart
    sc = SCENARIOS["navigation"]
    env = sc.make_env(0)
    policy = RandomPolicy(env.engine.num_actions, 0)
    hearts = []
    for k in range(4):
        obs, _ = env.reset(seed=k)
        while env.agents:
            obs, _, _, _, infos = env.step(policy.act(obs))
        hearts.append(infos["agent_0"]["episode"]["hearts"] >= 1)
    nav = results["scenarios"]["navigation"]
    assert nav["per_episode"] == hearts and nav["successes"] == sum(hearts)
    assert nav["ci95"] == pytest.approx(list(wilson_interval(sum(hearts), 4)))
    page = (out / "report.html").read_text()
    lo, hi = nav["ci95"]
    # navigation's own row: the random policy's replayed score, the oracle's (it solves navigation every time:
    # Wilson's lower end for 4/4 is 1 / (1 + z^2 / 4) = 0.51) and Fisher's exact p of the two, worked out here
    head, rows = report_table(page)
    assert head[3:] == ["random: rate [95% CI]", "oracle (baseline): rate [95% CI]", "p (Fisher exact)"]
    assert [r[0] for r in rows] == ["<b>navigation</b>", "<b>cooperation</b>"]
    row = rows[0]
    k = sum(hearts)
    assert row[3] == f"{k / 4:.2f} [{lo:.2f}, {hi:.2f}] ({k}/4)"
    assert row[4] == f"1.00 [{1 / (1 + 1.959964 ** 2 / 4):.2f}, 1.00] (4/4)" == "1.00 [0.51, 1.00] (4/4)"
    p = fisher_by_hand(k, 4, 4, 4)
    assert p == pytest.approx(fisher_exact(k, 4, 4, 4))
    assert row[5] == f"{p:.3g}" + (" *" if p < 0.05 else "")
    assert (out / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cap = cv2.VideoCapture(str(out / "videos" / "navigation.mp4"))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == sc.max_steps + 1 and 'src="videos/navigation.mp4"' in page
    from metta.viz.replay import read_replay  # the filmed episode's replay beside its video: the same episode

    assert nav["replay"] == "navigation.replay.json.gz" and "videos/navigation.replay.json.gz" in page
    replay = read_replay(str(out / "videos" / nav["replay"]))
    assert replay.steps == sc.max_steps and (replay["metrics"][0]["hearts"] >= 1) == hearts[0]


def test_oracle_beats_random_on_navigation_significantly():
    sc = get_scenarios(["navigation"])
    oracle = run_suite("oracle", sc, episodes=6, progress=False)["scenarios"]["navigation"]
    rand = run_suite("random", sc, episodes=6, progress=False)["scenarios"]["navigation"]
    assert oracle["rate"] > rand["rate"]
    assert fisher_exact(oracle["successes"], 6, rand["successes"], 6) < 0.05


def test_statistics_against_known_values():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert fisher_exact(3, 4, 1, 4) == pytest.approx(0.4857, abs=1e-4)   # Fisher's tea-tasting table
    assert fisher_exact(4, 4, 0, 4) == pytest.approx(0.02857, abs=1e-4)


def test_unknown_scenario_and_missing_experiment_are_clear_errors(tmp_path, capsys):
    with pytest.raises(ConfigError, match="navigaton.*did you mean navigation"):
        get_scenarios(["navigaton"])
    assert main(["--policy=random", "--scenarios=flying", f"--train_dir={tmp_path}"]) == 1
    assert "unknown scenario 'flying'" in capsys.readouterr().err
    assert main(["--experiment=ghost", f"--train_dir={tmp_path}"]) == 1
    assert "experiment 'ghost' not found" in capsys.readouterr().err
    os.makedirs(tmp_path / "untrained")
    assert main(["--experiment=untrained", f"--train_dir={tmp_path}"]) == 1
    assert "no checkpoint" in capsys.readouterr().err


def test_the_eval_suite_imports_nothing_of_the_trainer():
    """metta.evals and each of its modules load without any metta.sf_integration module, torch or Sample Factory."""
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import importlib, pkgutil, sys, metta.evals as e\n"
            "for m in pkgutil.iter_modules(e.__path__): importlib.import_module('metta.evals.' + m.name)\n"
            "print(sorted(m for m in sys.modules"
            " if m.startswith(('metta.sf_integration', 'torch', 'sample_factory'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]", out.stdout


def test_every_policy_keeps_the_contract():
    from metta.scripted.oracle import ScriptedOracle

    env = SCENARIOS["navigation"].make_env(0)
    obs, _ = env.reset(seed=0)
    for policy in (RandomPolicy(env.engine.num_actions, 0), ScriptedOracle(env), Waiting()):
        assert isinstance(policy, Policy)
        policy.reset(len(env.possible_agents))
        actions = policy.act(obs, rewards={a: 0.0 for a in obs}, deterministic=True)
        assert set(actions) == set(obs) and all(0 <= a < env.engine.num_actions for a in actions.values())
    env.close()
