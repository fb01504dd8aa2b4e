"""Energy profiles: each agent's costs, max energy and regeneration follow its body, and others can see it."""
import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from conftest import config_error
from metta import make_env
from metta.society.bodies import PROFILES

ROW = """W W W W W W W W W W
W . . . . . . . . W
W A1 . A2 . A3 . A4 . W
W . . . . . . . . W
W W W W W W W W W W
"""
MIX = {"standard": 1, "light": 1, "heavy": 1, "sprinter": 1}


def test_each_agent_pays_its_bodys_costs_and_has_its_max_energy():
    seen = set()
    for seed in range(6):
        env = make_env("metta-solo", level=ROW, bodies=MIX, seed=seed)
        env.reset(seed=seed)
        named = env.game.named_values()
        a = env.engine.action_index
        for i, body_id in enumerate(env.body_ids):
            body = PROFILES[list(MIX)[body_id - 1]]
            seen.add(body_id)
            v = env.agent_variables()[i]
            assert v["body"] == body_id
            assert v["max_energy"] == round(named["agent_max_energy"] * body.max_energy)
        regen = np.array([round(named["agent_energy_regen"] * PROFILES[list(MIX)[b - 1]].regen)
                          for b in env.body_ids])
        for action, cost in [(("rotate", 4), "rotate_cost"), (("move", 1), "move_cost"),
                             (("attack", 2), "attack_cost"), (("shield", 1), "shield_cost")]:
            before = np.array([v["energy"] for v in env.agent_variables()])
            env.step({ag: a(*action) for ag in env.agents})
            after = np.array([v["energy"] for v in env.agent_variables()])
            costs = np.array([round(named[cost] * PROFILES[list(MIX)[b - 1]].cost) for b in env.body_ids])
            caps = np.array([v["max_energy"] for v in env.agent_variables()])
            upkeep = named["shield_upkeep"] if cost == "shield_cost" else 0
            np.testing.assert_array_equal(after, np.minimum(before - costs + regen, caps) - upkeep, err_msg=cost)
    assert seen == {1, 2, 3, 4}


def test_bodies_are_visible_in_observations():
    env = make_env("metta-solo", level=ROW, bodies=MIX, seed=3)
    obs, _ = env.reset(seed=3)
    ch = env.channel_names.index("body")
    agent_ch = env.channel_names.index("agent")
    o = obs["agent_1"]  # agent 2 at (3,2) sees agents 1 and 3 two cells left and right
    c = 5
    assert o[ch, c, c] == env.body_ids[1]
    assert o[agent_ch, c - 2, c] == 1 and o[ch, c - 2, c] == env.body_ids[0]
    assert o[agent_ch, c + 2, c] == 1 and o[ch, c + 2, c] == env.body_ids[2]


def test_mix_weights_and_reproducibility():
    env = make_env("metta-teams", seed=0, bodies={"light": 3, "heavy": 1})
    counts = np.zeros(2)
    for _ in range(40):
        env.reset()
        counts += np.bincount(env.body_ids - 1, minlength=2)
    share = counts / counts.sum()
    assert share[0] == pytest.approx(0.75, abs=0.05)  # 960 draws: sd about 0.014
    a = make_env("metta-teams", seed=9, bodies=MIX)
    b = make_env("metta-teams", seed=9, bodies=MIX)
    a.reset(seed=9)
    b.reset(seed=9)
    np.testing.assert_array_equal(a.body_ids, b.body_ids)


def test_custom_profiles_and_standard_default():
    env = make_env("metta-solo", level=ROW, bodies={"tank": 1}, body_profiles={"tank": {"cost": 2, "regen": 0}})
    env.reset(seed=0)
    named = env.game.named_values()
    assert set(env.engine.player_counters(["body_attack_cost"])["body_attack_cost"]) == {2 * named["attack_cost"]}
    plain = make_env("metta-solo", level=ROW)
    plain.reset(seed=0)
    assert all(v["body"] == 0 for v in plain.agent_variables())
    assert set(plain.engine.player_counters(["body_move_cost"])["body_move_cost"]) == {named["move_cost"]}


def test_pettingzoo_api_with_bodies():
    parallel_api_test(make_env("metta-teams", seed=0, bodies=MIX), num_cycles=100)


@pytest.mark.parametrize("kwargs, words", [
    (dict(bodies={"giant": 1}), ["unknown profile 'giant'"]),
    (dict(bodies={"light": -1}), ["bodies.mix.light", ">= 0"]),
    (dict(bodies={"light": 0, "heavy": 0}), ["must not all be 0"]),
    (dict(bodies={"x": 1}, body_profiles={"x": {"cost": -1}}), ["'x'", "cost multiplier"]),
    (dict(bodies={"x": 1}, body_profiles={"x": {"cost": 100}}), ["'x'", "attack_cost", "0..255"]),
    (dict(bodies={"x": 1}, body_profiles={"x": {"speed": 2}}), ["unknown field", "speed"]),
    (dict(bodies=["light"]), ["non-empty dict"]),
])
def test_invalid_bodies(kwargs, words):
    with config_error(*words):
        make_env("metta-teams", **kwargs)
