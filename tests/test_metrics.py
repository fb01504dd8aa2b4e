"""Scripted levels prove each social metric counts what it claims."""
import numpy as np
import pytest

from metta import make_env

LINE = """W W W W W W W
W . A2 A1 A3 g W
W . . . . . W
W W W W W W W
"""
LEFT, UP, RIGHT, DOWN = 1, 2, 3, 4


def _env_where_one_neighbour_is_kin(max_steps=40, **overrides):
    """Teams of 2 among 3 agents; pick a seed where exactly one of agent 1's neighbours is its teammate."""
    for seed in range(50):
        env = make_env("metta-teams", level=LINE, max_steps=max_steps, team_size=2, seed=seed,
                       overrides=dict(agent_energy_regen=0, generator_cooldown=1, **overrides))
        env.reset(seed=seed)
        if env.kinship[0, 1] != env.kinship[0, 2]:
            return env
    raise AssertionError("no seed gave agent 1 exactly one kin neighbour")


def play(env, script):
    """script: list of {agent index: (action name, input)}; pad with waits to the episode end."""
    a = env.engine.action_index
    info = None
    for t in range(env.max_steps):
        step = script[t] if t < len(script) else {}
        acts = {f"agent_{i}": a(*act) for i, act in step.items()}
        _, _, _, trunc, info = env.step(acts)
        if t < env.max_steps - 1:
            assert all("episode" not in i for i in info.values())
    return [info[f"agent_{i}"]["episode"] for i in range(3)]


def test_attacks_on_kin_and_strangers():
    env = _env_where_one_neighbour_is_kin(freeze_duration=3)
    kin_is_left = env.kinship[0, 1] == 1.0
    script = [{0: ("rotate", LEFT)}, {0: ("attack", 2)}, {0: ("rotate", RIGHT)}, {0: ("attack", 2)},
              {0: ("attack", 2)},                       # the right neighbour again (frozen, still a hit)
              {0: ("attack", 5)}]                       # two ahead on the right: the generator, not an agent
    ep = play(env, script)
    left, right = 1, 2
    assert ep[0]["attacks_on_kin"] == (1 if kin_is_left else 2)
    assert ep[0]["attacks_on_strangers"] == (2 if kin_is_left else 1)
    assert ep[1]["attacks_on_kin"] == ep[1]["attacks_on_strangers"] == 0
    # frozen_steps: the left neighbour was frozen once (3 steps), the right one twice in a row (3 + 3 - 2 overlap)
    assert ep[left]["frozen_steps"] == 3
    assert ep[right]["frozen_steps"] == 4
    assert ep[0]["frozen_steps"] == 0


def test_frozen_attackers_attacks_do_not_count():
    env = _env_where_one_neighbour_is_kin(freeze_duration=10)
    script = [{0: ("rotate", LEFT), 1: ("rotate", RIGHT)}, {1: ("attack", 2)},  # agent 2 freezes agent 1
              {0: ("attack", 2)}, {0: ("attack", 2)}]                             # agent 1 tries, frozen
    ep = play(env, script)
    assert ep[0]["attacks_on_kin"] + ep[0]["attacks_on_strangers"] == 0
    assert ep[1]["attacks_on_kin"] + ep[1]["attacks_on_strangers"] == 1


def test_gifts_to_kin_and_strangers():
    env = _env_where_one_neighbour_is_kin()
    kin_is_left = env.kinship[0, 1] == 1.0
    script = [{0: ("rotate", LEFT)}, {0: ("gift_energy", 1)}, {0: ("gift_energy", 1)},
              {0: ("rotate", RIGHT)}, {0: ("gift_energy", 1)},
              {0: ("gift_diamond", 1)}]                    # no diamond: does not happen, does not count
    ep = play(env, script)
    assert ep[0]["gifts_to_kin"] == (2 if kin_is_left else 1)
    assert ep[0]["gifts_to_strangers"] == (1 if kin_is_left else 2)


def test_hearts_diamonds_energy_and_shield_steps():
    level = """W W W W W W
W g A1 c . W
W . a . . W
W W W W W W
"""
    env = make_env("metta-solo", level=level, max_steps=30,
                   overrides=dict(agent_energy_regen=0, generator_cooldown=1, charger_energy=40, charger_cooldown=1,
                                  altar_cost=50, altar_cooldown=1))
    env.reset(seed=0)
    script = [{0: ("rotate", LEFT)}, {0: ("use", 1)}, {0: ("use", 1)}, {0: ("use", 1)},   # 3 diamonds
              {0: ("rotate", RIGHT)}, {0: ("use", 1)}, {0: ("use", 1)},                  # 2 charges
              {0: ("rotate", DOWN)}, {0: ("use", 1)}, {0: ("use", 1)},                    # 2 hearts
              {0: ("shield", 1)}, {}, {}, {0: ("shield", 1)}]                             # shield up 3 steps
    a = env.engine.action_index
    for t in range(30):
        step = script[t] if t < len(script) else {}
        _, rew, _, _, info = env.step({f"agent_{i}": a(*act) for i, act in step.items()})
    ep = info["agent_0"]["episode"]
    assert ep["diamonds_harvested"] == 3
    assert ep["energy_converted"] == 80
    assert ep["hearts"] == 2 and ep["reward"] == 2.0 and ep["raw_reward"] == 2.0
    assert ep["shield_steps"] == 3
    assert ep["attacks_on_kin"] == ep["gifts_to_strangers"] == 0


def test_episode_metrics_reach_every_agent_and_reset():
    env = make_env("metta-teams", seed=0, width=12, height=12, num_agents=6, generators=2, chargers=1, altars=1,
                   max_steps=20)
    for episode in range(2):
        env.reset()
        rng = np.random.default_rng(episode)
        while env.agents:
            _, _, _, _, info = env.step({a: int(rng.integers(21)) for a in env.agents})
        assert set(info) == set(env.possible_agents)
        for i in info.values():
            ep = i["episode"]
            assert ep["frozen_steps"] <= 20 and ep["shield_steps"] <= 20
            assert ep["attacks_on_kin"] + ep["attacks_on_strangers"] <= 20
