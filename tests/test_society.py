"""Kinship structures and reward sharing, checked against independent computations."""
import numpy as np
import pytest

from conftest import config_error
from metta import make_env
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
    with config_error("unknown key kinship.teamsize", "did you mean kinship.team_size?"):
        make_env("metta-teams", kinship={"teamsize": 3})


def test_a_parameter_of_another_structure_is_an_error_and_a_presets_own_do_not_carry_over():
    with config_error("kinship.team_size is a parameter of structure 'teams' or 'mixed_teams'",
                      "not of structure 'selfish'"):
        make_env("metta-solo", team_size=4)
    env = make_env("metta-teams", structure="clans", w_stranger=0.1)  # the preset's team_size stays behind
    assert env.society.structure == "clans" and env.society.w_stranger == 0.1 and env.society.family_size == 2


# ---------------------------------------------------------------- sharing matrices built by hand
# What every preset's description states (metta.env.presets): its structure and parameters, written here again, so
# that the matrices below are built from these and from the groups read off the episode's kinship K, with none of
# metta.society.kinship's code. (mixed_teams has more hand-written matrices in tests/test_mixed_teams.py.)
BY_HAND = {
    "metta-solo": ("selfish", {}),
    "metta-teams": ("teams", dict(team_size=4, team_reward=0.8)),
    "metta-kin": ("random", {}),
    "metta-clans": ("clans", dict(family_size=2, families_per_clan=2, clans_per_hive=2,
                                  w_family=0.8, w_clan=0.5, w_hive=0.2, w_stranger=0.0)),
    "metta-dilemma": ("teams", dict(team_size=4, team_reward=1.0)),
    "metta-kin-dilemma": ("mixed_teams", dict(num_teams=4, arms=[0.0, 1.0])),
}
# each structure again with other parameters: (preset, kinship parameters, the structure)
VARIANTS = {
    "teams-5-balanced": ("metta-teams", dict(num_teams=5, team_reward=0.3), "teams"),
    "random-beta-2-5": ("metta-kin", dict(a=2.0, b=5.0), "random"),
    "clans-strangers-share": ("metta-clans", dict(family_size=2, families_per_clan=2, clans_per_hive=2, w_family=0.9,
                                                  w_clan=0.6, w_hive=0.3, w_stranger=0.05), "clans"),
    "mixed-three-arms": ("metta-kin-dilemma", dict(num_teams=3, arms=[0.0, 0.5, 1.0]), "mixed_teams"),
    "teams-on-the-solo-map": ("metta-solo", dict(structure="teams", team_size=3, team_reward=0.6), "teams"),
}


def chunks(n, size):
    """The sizes of n agents dealt into groups of ``size`` in turn (the last one may be smaller)."""
    return sorted([size] * (n // size) + ([n % size] if n % size else []))


def groups_at(k, level):
    """Per agent, the agents whose kinship to it is at least ``level`` (itself included), as a frozenset; checked to
    be a partition."""
    n = len(k)
    group = [frozenset(j for j in range(n) if k[i][j] >= level) for i in range(n)]
    for i in range(n):
        assert i in group[i] and all(group[j] == group[i] for j in group[i]), f"kinship >= {level} is no partition"
    return group


def team_rows(k, alpha):
    """T of the seed's rule, r'_i = (1 - a_i) r_i + a_i / |team(i)| sum_{j in team(i)} r_j, entry by entry."""
    n = len(k)
    team = groups_at(k, 1.0)
    t = [[0.0] * n for _ in range(n)]
    for i in range(n):
        t[i][i] += 1.0 - alpha[i]
        for j in team[i]:
            t[i][j] += alpha[i] / len(team[i])
    return t, team


def row_normalised(k):
    """RUSP's rule: T[i][j] = K[i][j] / sum_m K[i][m], entry by entry."""
    return [[k[i][j] / sum(k[i]) for j in range(len(k))] for i in range(len(k))]


def sharing_by_hand(env, structure, p):
    """The episode's T from the structure ``structure`` with parameters ``p`` and the groups read off env.kinship
    (and, for mixed_teams, each team's share from env.team_rewards, whose arms are checked to be balanced)."""
    k = env.kinship.tolist()
    n = len(k)
    assert all(k[i][i] == 1.0 and k[i][j] == k[j][i] for i in range(n) for j in range(n))
    if structure == "selfish":
        assert k == np.eye(n).tolist()
        return np.eye(n)
    if structure == "teams":
        t, team = team_rows(k, [p["team_reward"]] * n)
        sizes = sorted(len(g) for g in set(team))
        if p.get("num_teams"):
            q, r = divmod(n, p["num_teams"])
            assert sizes == sorted([q + 1] * r + [q] * (p["num_teams"] - r))
        else:
            assert sizes == chunks(n, p["team_size"])
        assert all(v in (0.0, 1.0) for row in k for v in row)
        return np.array(t)
    if structure == "mixed_teams":
        alpha = env.team_rewards.tolist()
        t, team = team_rows(k, alpha)
        teams = set(team)
        assert sorted(len(g) for g in teams) == sorted([n // p["num_teams"]] * p["num_teams"])
        assert all(len({alpha[i] for i in g}) == 1 for g in teams)      # one share per team
        per_arm = [sum(alpha[min(g)] == a for g in teams) for a in p["arms"]]
        assert max(per_arm) - min(per_arm) <= 1 and sum(per_arm) == len(teams)  # the arms, balanced over the teams
        return np.array(t)
    if structure == "random":
        assert all(0.0 < k[i][j] < 1.0 for i in range(n) for j in range(n) if i != j)  # Beta draws
        return np.array(row_normalised(k))
    if structure == "clans":
        fam, clan, hive = (groups_at(k, p[w]) for w in ("w_family", "w_clan", "w_hive"))
        fs = p["family_size"]
        cs = fs * p["families_per_clan"]
        hs = cs * p["clans_per_hive"]
        for groups, size in ((fam, fs), (clan, cs), (hive, hs)):
            assert sorted(len(g) for g in set(groups)) == chunks(n, size)
        assert all(fam[i] <= clan[i] <= hive[i] for i in range(n))    # families inside clans inside hives
        expected_k = [[1.0 if i == j else p["w_family"] if j in fam[i] else p["w_clan"] if j in clan[i]
                       else p["w_hive"] if j in hive[i] else p["w_stranger"] for j in range(n)] for i in range(n)]
        assert k == expected_k
        return np.array(row_normalised(expected_k))
    raise AssertionError(f"no hand rule for {structure}")


def _hand_cases():
    cases = [pytest.param(name, {}, *BY_HAND[name], id=name) for name in BY_HAND]
    for case, (preset, params, structure) in VARIANTS.items():
        hand = {k: v for k, v in params.items() if k != "structure"}
        cases.append(pytest.param(preset, params, structure, hand, id=case))
    return cases


def test_every_preset_has_a_hand_rule():
    assert set(BY_HAND) == set(PRESETS)
    assert {PRESETS[name].kinship.structure for name in PRESETS} | {v[2] for v in VARIANTS.values()} == \
        {"selfish", "teams", "mixed_teams", "random", "clans"}


@pytest.mark.parametrize("preset, params, structure, hand", _hand_cases())
def test_sharing_and_paid_rewards_match_the_matrix_built_by_hand(preset, params, structure, hand):
    # bond_share 0: bonds that form in random play leave T as the structure made it (tests/test_bonds.py has bonds)
    env = make_env(preset, seed=1, overrides=FREE_ALTARS, kinship=dict(params, bond_share=0.0), **REWARDING)
    rng = np.random.default_rng(0)
    use, n_actions = env.engine.action_index("use"), env.engine.num_actions
    rewarded = 0
    for episode in range(3):
        env.reset(seed=episode)
        t = sharing_by_hand(env, structure, hand)
        np.testing.assert_allclose(t.sum(axis=1), 1.0)
        np.testing.assert_allclose(env.sharing, t, rtol=0, atol=1e-12)
        for _ in range(100):
            acts = {a: (use if rng.random() < 0.5 else int(rng.integers(n_actions))) for a in env.agents}
            _, rew, _, _, info = env.step(acts)
            raw = [info[a]["raw_reward"] for a in env.possible_agents]
            paid = [rew[a] for a in env.possible_agents]
            expected = [sum(t[i][j] * raw[j] for j in range(len(raw))) for i in range(len(raw))]
            assert paid == pytest.approx(expected, abs=1e-12)
            rewarded += any(raw)
            if not env.agents:
                break
    env.close()
    assert rewarded > 30  # the check ran on real rewards, not zeros


def test_the_presets_rows_at_their_own_size():
    """Every row of each preset's T at its own size, as numbers: what an agent keeps of its own reward and gets of
    each other agent's, sorted (metta-kin's rows are random: the test above builds them from K)."""
    third = 1 / 3
    rows = {
        "metta-solo": [[1.0] + [0.0] * 23],
        "metta-teams": [[0.2 + 0.8 / 4] + [0.8 / 4] * 3 + [0.0] * 20],                 # keeps 0.4, gives 0.2
        # 1 + 0.8 + 2 x 0.5 + 4 x 0.2 = 3.6 over the agent's family, clan and hive; nothing from the 16 strangers
        "metta-clans": [[1 / 3.6] + [0.8 / 3.6] + [0.5 / 3.6] * 2 + [0.2 / 3.6] * 4 + [0.0] * 16],
        "metta-dilemma": [[0.25] * 4 + [0.0] * 20],
        "metta-kin-dilemma": [[third] * 3 + [0.0] * 9] * 6 + [[1.0] + [0.0] * 11] * 6,   # two teams share, two not
    }
    for name, expected in rows.items():
        env = make_env(name, seed=2)
        env.reset(seed=2)
        t = env.sharing
        got = sorted(sorted(row, reverse=True) for row in t.tolist())
        want = sorted(sorted(row, reverse=True) for row in (expected * (len(t) // len(expected))))
        assert np.allclose(got, want, rtol=0, atol=1e-12), name
        own = np.diag(t)
        assert np.allclose(own, [max(row) for row in t.tolist()]), name   # nobody gets more of another than of itself
        env.close()
