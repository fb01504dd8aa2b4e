"""Counterfactual probes (metta.evals.probes): the attack's window cells against the engine's own aim, a scripted
policy that spares kin read as sparing and a kin-blind one as blind, the actionable chances on a scripted level, and
the trained policy's log_probs: the distribution act samples from, leaving its memory alone."""
import json
import math
import os

import numpy as np
import pytest

from metta.evals.policies import Policy
from metta.evals.probes import Prober, attack_cells, probe_episode, summarize_probes

PRESET = "metta-kin-dilemma"
STEPS = 40
# games/metta.yaml's attack: input -> VectorToDest, relative to the attacker's facing
VECTORS = {1: (-1, -1), 2: (0, -1), 3: (1, -1), 4: (-1, -2), 5: (0, -2), 6: (1, -2), 7: (-1, -3), 8: (0, -3),
           9: (1, -3)}


def kin_env(**kw):
    from metta import make_env

    return make_env(PRESET, max_steps=STEPS, **kw)


def test_each_attack_aims_at_the_window_cell_the_engine_aims_at_for_every_facing():
    from metta.society.observation import render_kinship

    env = kin_env(seed=0, obs_backend="griddly")  # Griddly's own per-player windows
    actions, cells = attack_cells(env)
    e = env.engine
    assert [(e.actions[a].name, e.actions[a].action_id) for a in actions] == [("attack", k) for k in VECTORS]
    w, h, _ = e.window
    for r, k in enumerate(VECTORS):
        dx, dy = VECTORS[k]
        assert (cells[r] == (w // 2 + dx, h // 2 + dy)).all()  # the window turns with the agent: one cell per input
    n = env.num_agents_total
    ids = np.tile(np.arange(1, n + 1, dtype=np.uint8), (n, 1))  # "kinship" j + 1: which agent stands in a cell
    agent = env.channel_names.index("agent")
    rng = np.random.default_rng(0)
    seen = np.zeros((len(actions), 4), dtype=np.int64)
    empty = 0
    for seed in range(6):
        obs, _ = env.reset(seed=seed)
        while env.agents:
            x, y, facing = e.poses()
            aimed = e.aimed_agents(actions, facing, e.padded_cells(x, y))
            who = render_kinship(np.empty((n, 2, w, h), dtype=np.uint8), x, y, facing, ids, np.zeros(n, np.uint8))
            for i in range(n):
                grid = obs[env.possible_agents[i]]
                for r in range(len(actions)):
                    cx, cy = cells[r, facing[i]]
                    j = aimed[i, r]
                    assert grid[agent, cx, cy] == (j >= 0), (i, r, int(facing[i]))
                    assert who[i, 0, cx, cy] == j + 1, (i, r, int(facing[i]))
                    seen[r, facing[i]] += j >= 0
                    empty += j < 0
            obs, *_ = env.step({a: int(rng.integers(e.num_actions)) for a in env.agents})
    env.close()
    assert (seen > 0).all(), seen  # every attack input, from every facing, had an agent in its cell
    assert empty > 0


class ReadsKinship(Policy):
    """Attacks an agent in reach with probability ``stranger`` when the window shows it with kinship below 128,
    ``kin`` at 128 or above, from the observation alone (its own reading of the attack's cells, games/metta.yaml);
    the rest of the mass is spread evenly over every other action."""

    def __init__(self, env, stranger: float, kin: float):
        self.attack = {env.engine.action_index("attack", k): (5 + dx, 5 + dy) for k, (dx, dy) in VECTORS.items()}
        self.others = np.array([a for a in range(env.engine.num_actions) if a not in self.attack])
        self.n = env.engine.num_actions
        self.agent, self.kinship = env.channel_names.index("agent"), env.channel_names.index("kinship")
        self.stranger, self.kin = stranger, kin
        self.rng = np.random.default_rng(0)

    def reset(self, num_agents, max_steps=None, seed=None):
        self.rng = np.random.default_rng(seed)

    def probs(self, grid):
        p = np.zeros(self.n)
        for a, (x, y) in self.attack.items():
            if grid[self.agent, x, y]:
                p[a] = self.stranger if grid[self.kinship, x, y] < 128 else self.kin
        p[self.others] = (1.0 - p.sum()) / len(self.others)
        return p

    def act(self, obs, rewards=None, deterministic=False):
        return {a: int(self.rng.choice(self.n, p=self.probs(g))) for a, g in obs.items()}

    def log_probs(self, grids, agents, rewards=None):
        with np.errstate(divide="ignore"):
            return np.log(np.stack([self.probs(g) for g in grids]))


def probe_runs(stranger, kin, seeds=range(3)):
    env = kin_env(seed=0)
    policy = ReadsKinship(env, stranger, kin)
    records = []
    for seed in seeds:
        for swap in (False, True):
            records += probe_episode(env, policy, seed, options={"swap_arms": swap})[1]
    env.close()
    return records


def test_a_policy_that_spares_kin_shows_the_log_ratio_and_a_kin_blind_one_zero():
    sparing = probe_runs(0.1, 0.01)
    assert {r["kin"] for r in sparing} == {True, False} and {r["arm"] for r in sparing} == {0.0, 1.0}
    assert {r["shown"] for r in sparing} == {0, 255}
    assert all(r["shown"] == (255 if r["kin"] else 0) for r in sparing)  # no kinship noise in the preset
    d = np.array([r["d"] for r in sparing])
    assert np.allclose(d, math.log(10), atol=1e-9), d  # every probed state, kin and stranger targets alike
    s = summarize_probes(sparing)
    cell = s["overall"]["in_reach"]["all"]
    assert cell["n"] == len(sparing) and cell["mean"] > 0 and cell["lo"] > 0
    for arm in ("0", "1"):
        for target in ("kin", "stranger"):
            assert s["arms"][arm]["in_reach"][target]["mean"] == pytest.approx(math.log(10))
    assert s["overall"]["actionable"]["all"]["n"] == sum(bool(r["actionable"]) for r in sparing)

    blind = probe_runs(0.05, 0.05)
    assert {r["kin"] for r in blind} == {True, False}
    assert all(r["d"] == 0.0 for r in blind)
    cell = summarize_probes(blind)["overall"]["in_reach"]["all"]
    assert cell["mean"] == 0.0 and cell["lo"] <= 0.0 <= cell["hi"]


def test_summary_counts_and_contrast_by_arm():
    def rec(arm, kin, actionable, d):
        return {"arm": arm, "kin": kin, "actionable": actionable, "d": d}

    records = [rec(1.0, True, True, 2.0), rec(1.0, False, True, 4.0), rec(1.0, False, False, 9.0),
               rec(0.0, True, True, 1.0), rec(0.0, False, False, 5.0)]
    s = summarize_probes(records)
    assert s["arms"]["1"]["actionable"]["all"]["mean"] == 3.0 and s["arms"]["1"]["actionable"]["all"]["n"] == 2
    assert s["arms"]["1"]["in_reach"]["all"]["mean"] == 5.0 and s["arms"]["1"]["in_reach"]["stranger"]["n"] == 2
    assert s["arms"]["0"]["actionable"]["kin"]["mean"] == 1.0 and s["arms"]["0"]["actionable"]["stranger"]["n"] == 0
    assert s["overall"]["in_reach"]["kin"]["mean"] == 1.5 and s["overall"]["actionable"]["all"]["n"] == 3
    assert s["contrast"] == 2.0  # sharers' actionable mean d minus the selfish arm's
    assert summarize_probes(records[:3])["contrast"] is None
    json.dumps(s)


LEVEL = """W  W  W  W  W  W
W  g  .  .  .  W
W  A2 .  .  A3 W
W  .  .  .  .  W
W  A1 .  .  A4 W
W  W  W  W  W  W
"""


def scripted_level(**overrides):
    from metta import make_env

    env = make_env(PRESET, level=LEVEL, kinship={"num_teams": 2}, seed=0, overrides=overrides or None)
    obs, _ = env.reset(seed=0)
    return env, obs


def step(env, **actions):
    """One step: ``agent_k=(action, input)``, the others wait."""
    flat = {a: 0 for a in env.possible_agents}
    flat.update({a: env.engine.action_index(*act) for a, act in actions.items()})
    return env.step(flat)[0]


def chances(prober, obs):
    return {(r["actor"], r["target"]): r["actionable"] for r in prober.step(obs)}


def test_a_chance_is_actionable_when_the_attacker_can_act_and_the_target_carries():
    env, obs = scripted_level()
    prober = Prober(env, ReadsKinship(env, 0.1, 0.01))
    assert chances(prober, obs) == {(0, 1): False, (3, 2): False}  # in reach, but nobody carries
    obs = step(env, agent_1=("use", 1))                             # A2 takes a diamond from the generator
    obs = step(env, agent_1=("rotate", 4))                          # and turns to face A1
    assert chances(prober, obs) == {(0, 1): True, (1, 0): False, (3, 2): False}
    obs = step(env, agent_0=("attack", 5))                          # A1 robs A2, who freezes
    assert env.agent_variables()[1]["frozen"] > 0 and env.agent_variables()[0]["inventory"] == 1
    assert chances(prober, obs) == {(0, 1): False, (1, 0): False, (3, 2): False}  # A2 is empty, and frozen
    env.close()

    env, obs = scripted_level(attack_cost=1)  # agents start without energy: nobody can pay for an attack
    prober = Prober(env, ReadsKinship(env, 0.1, 0.01))
    obs = step(env, agent_1=("use", 1))
    assert env.agent_variables()[1]["inventory"] == 1
    assert chances(prober, obs) == {(0, 1): False, (3, 2): False}
    env.close()


def test_a_policy_without_log_probs_cannot_be_probed():
    from metta.scripted.oracle import ScriptedOracle

    env = kin_env(seed=0)
    with pytest.raises(TypeError, match="log_probs"):
        Prober(env, ScriptedOracle(env))
    env.close()


# ---------------------------------------------------------------------------------------- the trained policy
def trained_policy(train_dir: str):
    """The project's actor-critic, freshly initialised, saved as an experiment on the preset (seeing the time
    left, so every self feature is in play) and loaded by load_policy."""
    import torch
    from sample_factory.cfg.arguments import cfg_dict
    from sample_factory.model.actor_critic import create_actor_critic

    from metta import make_env
    from metta.sf_integration.config import env_config_from_cfg
    from metta.sf_integration.env import observation_space
    from metta.sf_integration.model import architecture
    from metta.sf_integration.policy import load_policy
    from metta.sf_integration.train import parse_args, register_components

    cfg = parse_args([f"--env={PRESET}", "--experiment=exp", f"--train_dir={train_dir}", "--observe_time=True",
                      f"--max_steps={STEPS}"])
    register_components()
    env = make_env(env_config_from_cfg(cfg))
    torch.manual_seed(0)
    model = create_actor_critic(cfg, observation_space(env, architecture(cfg).layout, True),
                                env.action_space(env.possible_agents[0]))
    env.close()
    exp = os.path.join(train_dir, "exp")
    os.makedirs(os.path.join(exp, "checkpoint_p0"))
    with open(os.path.join(exp, "config.json"), "w") as f:
        json.dump(cfg_dict(cfg), f)
    torch.save({"train_step": 1, "env_steps": 10, "model": model.state_dict()},
               os.path.join(exp, "checkpoint_p0", "checkpoint_000000001_10.pth"))
    return load_policy("exp", train_dir=train_dir)


def test_trained_log_probs_are_what_act_samples_from_and_leave_its_memory_alone(tmp_path):
    import torch

    policy = trained_policy(str(tmp_path))
    assert policy.time and policy.cfg.use_rnn
    env = policy.make_env(seed=0)
    obs, _ = env.reset(seed=0)
    n = len(env.possible_agents)
    policy.reset(n, env.max_steps, seed=0)
    rewards = None
    for t in range(6):
        grids = np.stack([obs[a] for a in env.possible_agents])
        last = None if rewards is None else np.array([rewards[a] for a in env.possible_agents])
        memory = (policy._rnn.clone(), policy._features.last_action.copy(), policy._features.last_reward.copy(),
                  policy._sampler.get_state().clone(), policy._steps)
        lp = policy.log_probs(grids, np.arange(n), last)
        rows = np.array([3, 3, 0, 7])  # rows may repeat an agent, in any order
        again = policy.log_probs(grids[rows], rows, None if last is None else last[rows])
        assert torch.equal(policy._rnn, memory[0]) and policy._steps == memory[4]
        assert (policy._features.last_action == memory[1]).all() and (policy._features.last_reward == memory[2]).all()
        assert torch.equal(policy._sampler.get_state(), memory[3])
        np.testing.assert_allclose(again, lp[rows], atol=1e-5)
        actions = policy.act(obs, rewards=rewards)
        sampled = torch.log(policy.model.last_action_distribution.probs).numpy()
        np.testing.assert_allclose(lp, sampled, atol=1e-5)
        if t:
            assert not torch.equal(policy._rnn, memory[0])  # act does advance it: the memory is in play
        obs, rewards, *_ = env.step(actions)
    with pytest.raises(ValueError, match="agents"):
        policy.log_probs(grids, np.arange(n - 1))
    env.close()


def test_probing_a_trained_policy_leaves_its_episode_as_it_was(tmp_path):
    from metta.evals.play import play_episode

    policy = trained_policy(str(tmp_path))
    env = policy.make_env(seed=0)
    plain = play_episode(env, policy, 5)
    probed, records = probe_episode(env, policy, 5)
    assert (plain.actions == probed.actions).all() and plain.metrics == probed.metrics
    assert records
    assert all(r["logp_kin"] <= 0 and r["logp_stranger"] <= 0 and math.isfinite(r["d"]) for r in records)
    assert all(math.isclose(r["d"], r["logp_stranger"] - r["logp_kin"]) for r in records)
    env.close()
