"""``mixed_teams``: both arms of an experiment in every episode (docs/dilemma.md, "The kin dilemma").

The sharing matrix is checked against matrices written out by hand; arms are balanced in every draw; a swapped
episode changes the arms and nothing else; the agent's own alpha reaches the policy's input; the other structures
draw exactly what they drew before.
"""
import numpy as np
import pytest

from conftest import config_error

from metta.society.kinship import MixedTeams, Teams

THIRD = 1 / 3


def teams_of(kinship):
    """Team of each agent, as the sets of agents with kinship 1 (read from K, not from the structure)."""
    return [frozenset(np.flatnonzero(row >= 1).tolist()) for row in kinship]


def test_the_sharing_matrix_by_hand():
    # 6 agents in 2 teams of 3, arms [0, 1]: one team pools everything, the other nothing
    draw = MixedTeams(num_teams=2).for_agents(6).draw(6, np.random.default_rng(5))
    a = draw.team_rewards
    sharer, selfish = sorted({t for t in teams_of(draw.kinship)}, key=lambda t: -a[min(t)])
    assert {a[i] for i in sharer} == {1.0} and {a[i] for i in selfish} == {0.0}
    hand = np.zeros((6, 6))
    for i in sharer:
        for j in sharer:
            hand[i, j] = THIRD          # r'_i = (r_a + r_b + r_c) / 3
    for i in selfish:
        hand[i, i] = 1.0                # r'_i = r_i
    np.testing.assert_allclose(draw.sharing, hand)


def test_three_arms_by_hand():
    # 6 agents in 3 teams of 2, arms [0, 0.5, 1]: each team one arm, every episode
    draw = MixedTeams(num_teams=3, arms=[0.0, 0.5, 1.0]).for_agents(6).draw(6, np.random.default_rng(1))
    for team in set(teams_of(draw.kinship)):
        i, j = sorted(team)
        alpha = draw.team_rewards[i]
        assert draw.team_rewards[j] == alpha
        own, other = {0.0: (1.0, 0.0), 0.5: (0.75, 0.25), 1.0: (0.5, 0.5)}[alpha]
        assert (draw.sharing[i, i], draw.sharing[i, j], draw.sharing[j, i]) == pytest.approx((own, other, other))
    assert sorted(set(draw.team_rewards)) == [0.0, 0.5, 1.0]


def test_every_episode_holds_both_arms_balanced_and_each_agent_is_in_either_by_chance():
    spec = MixedTeams(num_teams=4).for_agents(12)
    rng = np.random.default_rng(0)
    in_sharing = np.zeros(12)
    for _ in range(400):
        draw = spec.draw(12, rng)
        teams = set(teams_of(draw.kinship))
        assert len(teams) == 4 and all(len(t) == 3 for t in teams)
        assert sorted(draw.team_rewards[min(t)] for t in teams) == [0.0, 0.0, 1.0, 1.0]
        in_sharing += draw.team_rewards
    # each agent shares in half the episodes: 400 draws, sd 10, so within 200 +- 45 (4.5 sd) for all 12
    assert np.all(np.abs(in_sharing - 200) < 45)


def test_a_swapped_draw_is_the_same_draw_with_the_other_arm():
    spec = MixedTeams(num_teams=4).for_agents(12)
    a = spec.draw(12, np.random.default_rng(9))
    b = spec.draw(12, np.random.default_rng(9), swap_arms=True)
    np.testing.assert_array_equal(a.kinship, b.kinship)
    np.testing.assert_array_equal(b.team_rewards, 1.0 - a.team_rewards)


def test_the_other_structures_draw_what_they_drew_before():
    # a structure without arms: K from sample, T from sharing, both from the same generator state as before
    spec = Teams(team_size=4, team_reward=0.8).for_agents(12)
    draw = spec.draw(12, np.random.default_rng(3))
    k = spec.sample(12, np.random.default_rng(3))
    np.testing.assert_array_equal(draw.kinship, k)
    np.testing.assert_allclose(draw.sharing, spec.sharing(k))
    assert draw.team_rewards is None
    with config_error("no arms to swap", "teams"):
        spec.draw(12, np.random.default_rng(3), swap_arms=True)


def test_arms_are_checked():
    with config_error("arms"):
        MixedTeams(num_teams=4, arms=[])
    with config_error("arms", "[0, 1]"):
        MixedTeams(num_teams=4, arms=[0, 1.5])
    with config_error("2 team(s)", "3 arms"):
        MixedTeams(num_teams=2, arms=[0.0, 0.5, 1.0]).for_agents(6)
    with config_error("use draw()"):
        MixedTeams(num_teams=2).sharing(np.eye(4))


@pytest.fixture(scope="module")
def env():
    from metta import make_env

    e = make_env("metta-kin-dilemma", seed=0)
    yield e
    e.close()


def test_the_env_swaps_arms_and_keeps_everything_else(env):
    env.reset(seed=11)
    level, kinship, alpha, state = env.level, env.kinship.copy(), env.team_rewards.copy(), env.state()
    env.reset(seed=11, options={"swap_arms": True})
    assert env.level == level and env.state()["Objects"] == state["Objects"]
    np.testing.assert_array_equal(env.kinship, kinship)
    np.testing.assert_array_equal(env.team_rewards, 1.0 - alpha)
    env.reset(seed=11, options={"bogus": 1})     # PettingZoo's API test passes options of its own: ignored
    np.testing.assert_array_equal(env.team_rewards, alpha)


def test_alpha_is_observed_and_reaches_the_policys_input(env):
    from metta.sf_integration.env import SELF_KEY, MettaSFEnv

    obs, _ = env.reset(seed=2)
    channel = env.channel_names.index("team_reward")
    assert channel == len(env.channel_names) - 1 and env.obs_shape[0] == len(env.channel_names)
    for i, agent in enumerate(env.possible_agents):
        assert np.all(obs[agent][channel] == (255 if env.team_rewards[i] == 1.0 else 0))
    sf = MettaSFEnv([env], batched=True)
    first, _ = sf.reset(seed=0)
    alpha = env.team_rewards
    assert sorted(alpha) == [0.0] * 6 + [1.0] * 6
    np.testing.assert_array_equal(first[SELF_KEY][:, channel], 255.0 * alpha)   # the self vector: its own cell


def test_a_structure_without_arms_keeps_its_observation():
    from metta import make_env

    env = make_env("metta-teams", width=12, height=12, num_agents=8, seed=0)
    try:
        env.reset(seed=0)
        assert "team_reward" not in env.channel_names and env.team_rewards is None
        assert env.channel_names[-2:] == ["kinship", "kinship_noise"] and env.obs_shape[0] == len(env.channel_names)
    finally:
        env.close()


def test_rewards_are_shared_with_each_teams_own_alpha():
    from metta import make_env

    level = "W W W W W W\nW g g g . W\nW A1 A2 A3 . W\nW A4 A5 A6 . W\nW W W W W W"
    env = make_env("metta-kin-dilemma", level=level, num_teams=2, seed=0)
    try:
        for seed in range(4):
            env.reset(seed=seed)
            use, wait = env.engine.action_index("use", 1), 0
            # agents 1..3 face up (Griddly's NONE) onto a generator each: each harvests one diamond, 0.1 raw
            _, rewards, _, _, infos = env.step({a: (use if i < 3 else wait) for i, a in enumerate(env.possible_agents)})
            raw = np.array([infos[a]["raw_reward"] for a in env.possible_agents])
            np.testing.assert_allclose(raw, [0.1, 0.1, 0.1, 0, 0, 0])
            for i, a in enumerate(env.possible_agents):
                team = np.flatnonzero(env.kinship[i] >= 1)
                alpha = env.team_rewards[i]
                expected = (1 - alpha) * raw[i] + alpha * raw[team].mean()   # the seed's rule, this team's alpha
                assert rewards[a] == pytest.approx(expected)
            assert {env.team_rewards[i] for i in range(6)} == {0.0, 1.0}
    finally:
        env.close()


def test_training_logs_every_metric_per_arm():
    from metta.sf_integration.env import MettaSFEnv

    episodes = {0: [{"hearts": 2, "team_reward": 1.0}, {"hearts": 4, "team_reward": 1.0},
                    {"hearts": 3, "team_reward": 0.0}],
                1: [{"hearts": 0, "team_reward": 0.0}, {"hearts": 1, "team_reward": 1.0},
                    {"hearts": 5, "team_reward": 0.0}]}
    means = MettaSFEnv._arm_means(episodes, ["hearts", "team_reward"])
    assert means == {0: {"alpha_0/hearts": 3.0, "alpha_1/hearts": 3.0},
                     1: {"alpha_0/hearts": 2.5, "alpha_1/hearts": 1.0}}
    assert MettaSFEnv._arm_means({0: [{"hearts": 1}]}, ["hearts"]) == {}
    # with a curriculum, per task too
    tasks = MettaSFEnv._arm_means(episodes, ["hearts"], ["game", "charged"])
    assert tasks == {0: {"game/alpha_0/hearts": 3.0, "game/alpha_1/hearts": 3.0},
                     1: {"charged/alpha_0/hearts": 2.5, "charged/alpha_1/hearts": 1.0}}


def test_the_hub_card_names_the_structure_and_what_a_policy_of_it_observes():
    from metta.env.presets import get_preset
    from metta.sf_integration.config import dump_env_config
    from metta.hub.card import kinship_figures

    cfg = {"env_config": dump_env_config(get_preset("metta-kin-dilemma"))}   # as config.json holds it
    figures = dict(kinship_figures(cfg))
    assert "structure=mixed_teams" in figures["kinship"] and "arms=[0.0, 1.0]" in figures["kinship"]
    assert "team_reward" in figures["observes"]
    teams = dict(kinship_figures({"env_config": dump_env_config(get_preset("metta-teams"))}))
    assert "structure=teams" in teams["kinship"] and "observes" not in teams
    assert kinship_figures({}) == []
