"""Kinship structures and reward sharing, checked against independent computations."""
import numpy as np
import pytest

from conftest import config_error
from metta import ConfigError, make_env
from metta.env.presets import PRESETS
from metta.society.kinship import Clans, RandomKinship

# a small map crowded with free altars, so random agents that mostly "use" earn rewards often
REWARDING = dict(width=12, height=12, num_agents=12, generators=0, chargers=0, altars=60, wall_density=0.0)
FREE_ALTARS = {"altar_cost": 0, "altar_cooldown": 1}


def run_random(env, steps, seed=0):
    """Yield (raw, shared) reward vectors for `steps` steps of a use-heavy random policy."""
    rng = np.random.default_rng(seed)
    use = env.engine.action_index("use")
    n = env.engine.num_actions
    env.reset(seed=seed)
    for _ in range(steps):
        acts = {a: (use if rng.random() < 0.5 else int(rng.integers(n))) for a in env.agents}
        _, rew, _, _, info = env.step(acts)
        agents = env.possible_agents
        yield (env, np.array([info[a]["raw_reward"] for a in agents]), np.array([rew[a] for a in agents]))
        if not env.agents:
            env.reset()


@pytest.mark.parametrize("name", list(PRESETS))
def test_rewards_are_sharing_times_raw(name):
    env = make_env(name, seed=1, overrides=FREE_ALTARS, **REWARDING)
    rewarded_steps = 0
    for env, raw, shared in run_random(env, 300):
        np.testing.assert_array_equal(shared, env.sharing @ raw)
        rewarded_steps += raw.any()
    assert rewarded_steps > 30  # the check ran on real rewards, not zeros


def test_teams_follow_the_seeds_formula():
    alpha = 0.8
    env = make_env("metta-teams", seed=2, overrides=FREE_ALTARS, team_size=4, team_reward=alpha, **REWARDING)
    checked = 0
    for env, raw, shared in run_random(env, 300):
        teams = [set(np.flatnonzero(env.kinship[i] == 1.0)) for i in range(len(raw))]
        for i, team in enumerate(teams):
            expected = (1 - alpha) * raw[i] + alpha / len(team) * sum(raw[j] for j in team)
            assert shared[i] == pytest.approx(expected, abs=1e-12)
        checked += raw.any()
    assert checked > 30
    assert sorted(len(t) for t in teams) == [4] * 12


def test_team_membership_is_a_partition_of_the_requested_size():
    env = make_env("metta-teams", seed=0, num_teams=5, **dict(REWARDING, num_agents=12))
    env.reset(seed=0)
    k = env.kinship
    groups = {tuple(np.flatnonzero(row)) for row in k}
    assert sorted(len(g) for g in groups) == [2, 2, 2, 3, 3]  # 12 agents in 5 balanced teams


@pytest.mark.parametrize("name", list(PRESETS))
def test_kinship_is_symmetric_resampled_and_reproducible(name):
    env = make_env(name, seed=5)
    env.reset(seed=5)
    k1 = env.kinship.copy()
    assert np.array_equal(k1, k1.T)
    assert np.all(np.diag(k1) == 1.0) and k1.min() >= 0.0 and k1.max() <= 1.0
    np.testing.assert_allclose(env.sharing.sum(axis=1), 1.0)
    env.reset()
    k2 = env.kinship.copy()
    if env.society.structure != "selfish":
        assert not np.array_equal(k1, k2), "kinship must be resampled every episode"
    again = make_env(name, seed=5)
    again.reset(seed=5)
    np.testing.assert_array_equal(again.kinship, k1)
    again.reset()
    np.testing.assert_array_equal(again.kinship, k2)


def test_random_kinship_follows_its_beta():
    spec = RandomKinship(a=2.0, b=5.0)
    k = spec.sample(200, np.random.default_rng(0))
    off = k[np.triu_indices(200, 1)]
    assert off.mean() == pytest.approx(2 / 7, abs=0.01)  # Beta(2, 5) mean
    t = spec.sharing(k)
    np.testing.assert_allclose(t, k / k.sum(axis=1, keepdims=True))


def test_clans_kinship_is_monotone_in_group_depth():
    spec = Clans(family_size=3, families_per_clan=2, clans_per_hive=2,
                 w_family=0.9, w_clan=0.6, w_hive=0.3, w_stranger=0.05)
    n = 36
    k = spec.sample(n, np.random.default_rng(3))
    # each level's relation "kinship >= w_level" is an equivalence relation of the expected block size,
    # and each level's blocks nest inside the next one's
    sizes = {0.9: 3, 0.6: 6, 0.3: 12, 0.05: 36}
    previous = None
    for w, size in sizes.items():
        rel = k >= w
        assert np.array_equal(rel, rel.T)
        assert np.array_equal((rel.astype(int) @ rel.astype(int) > 0), rel)  # transitive
        assert set(rel.sum(axis=1)) == {size}
        if previous is not None:
            assert np.all(rel[previous])  # finer groups sit inside coarser ones
        previous = rel
    assert set(np.unique(k)) == {0.05, 0.3, 0.6, 0.9, 1.0}


def test_selfish_shares_nothing():
    env = make_env("metta-solo", seed=0)
    env.reset(seed=0)
    np.testing.assert_array_equal(env.sharing, np.eye(24))


@pytest.mark.parametrize("kwargs, words", [
    (dict(team_size=0), ["team_size", ">= 1"]),
    (dict(team_reward=1.5), ["team_reward", "[0, 1]"]),
    (dict(team_reward=-0.1), ["team_reward"]),
    (dict(num_teams=30, team_size=None), ["num_teams", "more teams than the 24 agents"]),
    (dict(team_size=25), ["team_size", "exceeds"]),
    (dict(structure="random", a=0.0), ["Beta parameter a", "> 0"]),
    (dict(structure="random", b=-1.0), ["Beta parameter b"]),
    (dict(structure="clans", w_family=0.2, w_clan=0.5), ["w_family=0.2 < w_clan=0.5"]),
    (dict(structure="clans", family_size=0), ["family_size"]),
    (dict(structure="tribes"), ["structure", "tribes"]),
    (dict(kin_threshold=2), ["kin_threshold"]),
])
def test_invalid_social_parameters_name_the_parameter(kwargs, words):
    with config_error(*words):
        make_env("metta-teams", kinship=kwargs)


def test_unknown_kinship_parameter():
    with pytest.raises(ConfigError, match="unknown kinship parameter"):
        make_env("metta-teams", kinship={"teamsize": 3})


def test_a_parameter_of_another_structure_is_an_error_and_a_presets_own_do_not_carry_over():
    with config_error("unknown kinship parameter", "team_size", "'selfish'"):
        make_env("metta-solo", team_size=4)
    env = make_env("metta-teams", structure="clans", w_stranger=0.1)  # the preset's team_size stays behind
    assert env.society.structure == "clans" and env.society.w_stranger == 0.1 and env.society.family_size == 2
