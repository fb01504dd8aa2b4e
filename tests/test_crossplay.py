"""Cross-play: the composite policy's agent-to-policy routing, the focal group as one kinship team, the placebo
permuting only the focal agents' observed kinship, and the report's numbers recomputed from its episodes."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

SMALL = dict(num_agents=8, width=12, height=12)  # metta-teams: two teams of 4
STEPS = 40


from metta.evals.policies import Policy  # noqa: E402


class Recorder(Policy):
    """A test double of the Policy contract: records the agent count and episode length it is reset with and the
    agents it is asked about; its action for an agent is the agent's index plus ``base``, so the composite's output
    shows who answered."""

    def __init__(self, base):
        self.base, self.resets, self.asked, self.rewards = base, [], [], []

    def reset(self, num_agents, max_steps=None, seed=None):
        self.resets.append((num_agents, max_steps))

    def act(self, obs, rewards=None, deterministic=False):
        self.asked.append(list(obs))
        self.rewards.append(rewards)
        return {a: self.base + int(o[0]) for a, o in obs.items()}


def test_composite_policy_routes_each_agent_to_its_roles_policy():
    from metta.evals.policies import CompositePolicy

    agents = [f"agent_{i}" for i in range(6)]
    episode = {"roles": ["focal", "bg", "focal", "bg", "bg", "focal"]}
    a, b = Recorder(100), Recorder(200)
    policy = CompositePolicy({"focal": a, "bg": b}, lambda: episode["roles"], agents)
    policy.reset(6, 300)
    obs = {name: np.array([i]) for i, name in enumerate(agents)}
    actions = policy.act(obs, rewards={name: float(i) for i, name in enumerate(agents)})
    assert list(actions) == agents  # env order
    assert actions == {"agent_0": 100, "agent_1": 201, "agent_2": 102, "agent_3": 203, "agent_4": 204, "agent_5": 105}
    assert a.asked == [["agent_0", "agent_2", "agent_5"]] and b.asked == [["agent_1", "agent_3", "agent_4"]]
    assert a.rewards == [{"agent_0": 0.0, "agent_2": 2.0, "agent_5": 5.0}]
    assert a.resets == [(3, 300)] and b.resets == [(3, 300)]
    episode["roles"] = ["bg"] * 5 + ["focal"]  # the roles are asked again at every reset
    policy.reset(6)
    policy.act(obs)
    assert a.resets[-1] == (1, None) and a.asked[-1] == ["agent_5"]
    assert b.asked[-1] == agents[:5] and b.rewards[-1] is None
    with pytest.raises(ValueError):
        CompositePolicy({"focal": a, "bg": a}, episode["roles"], agents)  # one instance for two roles


def make_small(**kw):
    from metta.env import make_env

    return make_env("metta-teams", max_steps=STEPS, **SMALL, **kw)


def test_focal_group_is_one_kinship_team():
    from metta.evals.crossplay import CrossplayEnv

    env = CrossplayEnv(make_small())
    try:
        seen = set()
        for seed in range(4):
            env.reset(seed=seed)
            focal = env.focal
            kin = env.kinship >= env.society.kin_threshold
            others = np.setdiff1d(np.arange(8), focal)
            assert len(focal) == 4 and kin[np.ix_(focal, focal)].all() and not kin[np.ix_(focal, others)].any()
            assert [r == "focal" for r in env.roles] == [i in focal for i in range(8)]
            seen.add(tuple(focal))
        assert len(seen) > 1  # drawn anew each episode
    finally:
        env.close()


def test_placebo_permutes_only_the_focal_agents_observed_kinship():
    from metta.evals.crossplay import CrossplayEnv

    plain, placebo = CrossplayEnv(make_small()), CrossplayEnv(make_small(), placebo=True)
    k = plain.channel_names.index("kinship")
    rng = np.random.default_rng(3)
    try:
        obs_a, _ = plain.reset(seed=5)
        obs_b, _ = placebo.reset(seed=5)
        focal = placebo.focal
        assert (plain.focal == focal).all()
        for i in range(8):  # each focal row a permutation of the other agents; everyone else untouched
            row = placebo.perm[i]
            assert row[i] == i and sorted(row) == list(range(8))
            assert (row == np.arange(8)).all() == (i not in focal)
        differed = 0
        for _ in range(STEPS):
            own = plain.kinship_channel(plain.observed_kinship)  # the renderer reproduces the env's channel...
            shuffled = placebo.kinship_channel(np.take_along_axis(placebo.observed_kinship, placebo.perm, axis=1))
            for i, name in enumerate(plain.possible_agents):
                a, b = obs_a[name], obs_b[name]
                rest = [c for c in range(a.shape[0]) if c != k]
                assert (a[rest] == b[rest]).all()  # every other channel identical
                assert (own[i] == a[k]).all()
                if i not in focal:
                    assert (a[k] == b[k]).all()
                else:  # ...and a focal agent sees, at agent j's cell, its observed kinship to perm[i][j]
                    assert (b[k] == shuffled[i]).all()
                    differed += int((a[k] != b[k]).any())
            actions = {a: int(x) for a, x in zip(plain.possible_agents, rng.integers(plain.action_space("agent_0").n,
                                                                                        size=8))}
            obs_a, *_ = plain.step(actions)
            obs_b, *_ = placebo.step(actions)
            if not plain.agents:
                break
        assert differed > 0
    finally:
        plain.close()
        placebo.close()


def test_crossplay_report_is_its_episodes_numbers(tmp_path):
    from metta.evals.stats import mean_interval

    out = tmp_path / "cp.json"
    cmd = [sys.executable, "-m", "metta.evals.crossplay", "--focal", "random", "random", "--background", "oracle",
           "--episodes", "2", "--max_steps", str(STEPS), "--out", str(out), "--json",
           *[f"--option={k}={v}" for k, v in SMALL.items()]]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert json.loads(out.read_text()) == report and report["n_pairs"] == 2
    for pair in report["pairs"]:
        assert (pair["focal"], pair["background"]) == ("random", "oracle")
        resident = {e["seed"]: e for e in pair["episodes"]["resident"]}
        for cond, records in pair["episodes"].items():
            s = pair["summary"][cond]
            returns, on_focal, strata = [], [], []
            for e in records:
                focal, agents = e["focal"], e["agents"]
                bg = [i for i in range(8) if i not in focal]
                kin = np.array(e["kinship"]) >= e["kin_threshold"]
                attacks, chances = np.array(e["attacks"]), np.array(e["chances"])
                assert focal == resident[e["seed"]]["focal"]  # the same focal indices in every condition
                for i, m in enumerate(agents):  # the per-step tally agrees with the env's own kin/stranger counts
                    assert attacks[i][kin[i]].sum() == m["attacks_on_kin"]
                    assert attacks[i][~kin[i]].sum() == m["attacks_on_strangers"]
                    assert chances[i][kin[i]].sum() == m["attack_chances_kin"]
                    assert chances[i][~kin[i]].sum() == m["attack_chances_strangers"]
                returns.append(np.mean([agents[i]["raw_reward"] for i in focal]))
                on_focal.append(attacks[np.ix_(bg, focal)].sum() / 4)
                strata.append([sum(agents[i][key] for i in focal) for key in
                               ("attacks_on_kin", "attack_chances_kin", "attacks_on_strangers",
                                "attack_chances_strangers")])
            assert s["focal_return"]["mean"] == pytest.approx(np.mean(returns))
            assert s["focal_return"]["n"] == 2 and s["background_attacks_on_focal"]["mean"] == pytest.approx(
                np.mean(on_focal))
            hk, ck, hs, cs = np.sum(strata, axis=0)
            assert s["focal_kin_stranger_ratio"]["rate_kin"] == (pytest.approx(hk / ck) if ck else None)
            if cond != "resident":
                diff = [r - np.mean([resident[e["seed"]]["agents"][i]["raw_reward"] for i in e["focal"]])
                        for r, e in zip(returns, records)]
                assert s["return_vs_resident"]["mean"] == pytest.approx(np.mean(diff))
    across = report["across_pairs"]["crossplay"]["focal_return"]
    assert across["n"] == 2 and across["mean"] == pytest.approx(
        mean_interval([p["summary"]["crossplay"]["focal_return"]["mean"] for p in report["pairs"]])["mean"])
    bad = subprocess.run([sys.executable, "-m", "metta.evals.crossplay", "--focal", "a", "b", "--background", "c",
                          "d", "e"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**os.environ, "PYTHONPATH": ROOT})
    assert bad.returncode == 2 and "error: --focal gives 2" in bad.stderr and "Traceback" not in bad.stderr
