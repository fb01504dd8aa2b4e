"""The env's episode rules and observations (PettingZoo's own API and seed tests run on every game, preset
and backend in tests/conformance)."""
import numpy as np
import pytest

from metta import make_env

SMALL = dict(width=16, height=16, num_agents=6, generators=4, chargers=2, altars=2)


def test_episode_truncates_at_max_steps():
    env = make_env("metta-teams", seed=0, max_steps=7, **SMALL)
    env.reset(seed=0)
    for t in range(7):
        obs, rew, term, trunc, info = env.step({a: 0 for a in env.agents})
    assert all(trunc.values()) and not any(term.values())
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})
    env.reset()
    assert len(env.agents) == 6


def test_same_seed_same_level_and_observations():
    a = make_env("metta-teams", seed=3, **SMALL)
    b = make_env("metta-teams", seed=3, **SMALL)
    oa, _ = a.reset(seed=11)
    ob, _ = b.reset(seed=11)
    assert a.level == b.level
    for k in oa:
        np.testing.assert_array_equal(oa[k], ob[k])
    c = make_env("metta-teams", seed=3, **SMALL)
    c.reset(seed=12)
    assert c.level != a.level


def test_each_reset_draws_a_new_level():
    env = make_env("metta-teams", seed=0, **SMALL)
    env.reset(seed=0)
    first = env.level
    env.reset()
    assert env.level != first


def test_observations_are_griddly_player_views():
    """The griddly backend returns exactly what Griddly's per-player VECTOR observers render, in agent order."""
    env = make_env("metta-teams", seed=1, obs_backend="griddly", **SMALL)
    obs, _ = env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(20):
        obs, *_ = env.step({a: int(rng.integers(env.action_space(a).n)) for a in env.agents})
    c = env.engine.obs_shape[0]
    for i, player in enumerate(env.engine._players):
        np.testing.assert_array_equal(obs[f"agent_{i}"][:c], np.array(player.observe()))
    assert obs["agent_0"].shape == (len(env.channel_names), 11, 11)
    assert env.channel_names[c:] == ["kinship", "kinship_noise"]


def test_observation_window_is_egocentric_and_rotated():
    """The agent sits at the window's centre; a wall in front of it stays 'up' whatever it faces."""
    level = "\n".join([
        "W W W W W W W",
        "W . . . . . W",
        "W . . W . . W",
        "W . . A1 . . W",
        "W . . . . . W",
        "W W W W W W W",
    ])
    env = make_env("metta-solo", level=level)
    env.reset(seed=0)
    wall = env.channel_names.index("wall")
    agent = env.channel_names.index("agent")
    c = 5  # centre of an 11x11 window; arrays are (channel, x, y)
    for face in (1, 2, 3, 4):  # left, up, right, down
        obs, *_ = env.step({"agent_0": env.engine.action_index("rotate", face)})
        o = obs["agent_0"]
        assert o[agent, c, c] == 1
        front = {1: (0, -1), 2: (0, -1), 3: (0, -1), 4: (0, -1)}[face]
        wall_in_front = o[wall, c + front[0], c + front[1]]
        # the map's wall is north of the agent: in front only when the agent faces up
        assert wall_in_front == (1 if face == 2 else 0)
