"""Bonds: mutual offers form a bond that costs both and shares reward from then on."""
import numpy as np
import pytest

from metta import ConfigError, make_env
from metta.society.kinship import bond_sharing

# agents 1 and 2 face each other; an altar is in front of agent 3, below agent 1
LEVEL = """W W W W W W
W A1 A2 . . W
W A3 . . . W
W a . . . W
W W W W W W
"""
LEFT, UP, RIGHT, DOWN = 1, 2, 3, 4


def setup(**kw):
    env = make_env("metta-solo", level=LEVEL, max_steps=30, bond_share=0.5,
                   overrides=dict(agent_energy_regen=0, bond_cost=20, bond_offer_cost=1, altar_cost=10,
                                  altar_cooldown=1), **kw)
    env.reset(seed=0)
    a = env.engine.action_index
    env.step({"agent_0": a("rotate", RIGHT), "agent_1": a("rotate", LEFT), "agent_2": a("rotate", DOWN)})
    return env, a


def test_mutual_offers_form_a_bond_and_both_pay():
    env, a = setup()
    e0, e1 = env.agent_variables()[0]["energy"], env.agent_variables()[1]["energy"]
    env.step({"agent_0": a("bond")})
    v = env.agent_variables()
    assert v[0]["offer"] == 2 and v[0]["energy"] == e0 - 1       # offer recorded (player id), offer cost paid
    np.testing.assert_array_equal(env.sharing, np.eye(3))          # no bond yet
    env.step({"agent_1": a("bond")})
    v = env.agent_variables()
    assert v[0]["energy"] == e0 - 1 - 20 and v[1]["energy"] == e1 - 1 - 20
    assert v[0]["offer"] == 0 and v[1]["offer"] == 0
    # by hand: agents 1 and 2 keep 1 - 0.5 + 0.5/2 = 0.75 of their own and 0.25 of the other's; agent 3, unbonded,
    # keeps all of its own and nobody shares with it
    np.testing.assert_allclose(env.sharing, [[0.75, 0.25, 0.0],
                                             [0.25, 0.75, 0.0],
                                             [0.0, 0.0, 1.0]], rtol=0, atol=1e-12)


def test_bonded_partners_share_later_rewards_and_the_metric_counts_both():
    env, a = setup()
    env.step({"agent_0": a("bond")})
    env.step({"agent_1": a("bond")})
    # agent 1 now walks down... it cannot reach the altar; agent 3 (unbonded) uses it: no sharing with 1 or 2
    _, rew, _, _, info = env.step({"agent_2": a("use")})
    assert info["agent_2"]["raw_reward"] == 1.0 and rew["agent_2"] == 1.0 and rew["agent_0"] == 0.0
    # agent 1 goes to the altar: rotate down, and agent 3 steps aside first
    env.step({"agent_2": a("rotate", RIGHT)})
    env.step({"agent_2": a("move", 1)})
    env.step({"agent_0": a("rotate", DOWN)})
    env.step({"agent_0": a("move", 1)})
    _, rew, _, _, info = env.step({"agent_0": a("use")})
    assert info["agent_0"]["raw_reward"] == 1.0
    assert rew["agent_0"] == pytest.approx(0.75) and rew["agent_1"] == pytest.approx(0.25) and rew["agent_2"] == 0
    while env.agents:
        _, _, _, _, info = env.step({})
    assert [info[f"agent_{i}"]["episode"]["bonds_formed"] for i in range(3)] == [1, 1, 0]


def test_an_unanswered_offer_forms_nothing():
    env, a = setup()
    env.step({"agent_0": a("bond")})
    env.step({"agent_2": a("bond")})  # agent 3 faces the altar's row: nobody in front, nothing happens
    while env.agents:
        _, _, _, _, info = env.step({})
    np.testing.assert_array_equal(env.sharing, np.eye(3))
    assert all(info[f"agent_{i}"]["episode"]["bonds_formed"] == 0 for i in range(3))


def test_bond_share_is_validated():
    with pytest.raises(ConfigError, match="bond_share"):
        make_env("metta-teams", bond_share=1.5)


def test_bond_sharing_by_hand():
    """S = (1 - beta) I + beta M, M[i, j] = 1 / (|B(i)| + 1) over i and its partners, every entry written out: a chain
    0 - 1 - 2 (agent 1 has two partners), agent 3 alone, beta = 0.5."""
    bonds = np.zeros((4, 4))
    bonds[0, 1] = bonds[1, 0] = bonds[1, 2] = bonds[2, 1] = 1
    s = bond_sharing(bonds, 0.5)
    np.testing.assert_allclose(s, [[0.5 + 0.5 / 2, 0.5 / 2, 0.0, 0.0],
                                   [0.5 / 3, 0.5 + 0.5 / 3, 0.5 / 3, 0.0],
                                   [0.0, 0.5 / 2, 0.5 + 0.5 / 2, 0.0],
                                   [0.0, 0.0, 0.0, 1.0]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(bond_sharing(bonds, 0.0), np.eye(4), rtol=0, atol=1e-12)   # beta 0: nothing shared
    np.testing.assert_allclose(bond_sharing(np.zeros((3, 3)), 0.5), np.eye(3), rtol=0, atol=1e-12)
