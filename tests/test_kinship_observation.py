"""The kinship channel: placed where Griddly's own observer puts agents, valued by the observer's kinship."""
import math

import numpy as np
import pytest

from metta import make_env
from metta.society.observation import quantize

CROWDED = dict(width=14, height=12, num_agents=16, generators=3, chargers=2, altars=2, wall_density=0.1)


def channels(env, obs, name):
    return obs[env.channel_names.index(name)]


def test_kinship_marks_exactly_the_cells_griddly_shows_agents_on():
    # every pair has kinship >= 0.1, so every visible agent gets a non-zero kinship value
    env = make_env("metta-clans", seed=0, w_stranger=0.1, obs_backend="griddly", **CROWDED)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    seen_orientations, compared = set(), 0
    for t in range(200):
        for a, o in obs.items():
            agents = channels(env, o, "agent") == 1
            kin = channels(env, o, "kinship") > 0
            np.testing.assert_array_equal(kin, agents, err_msg=f"step {t} {a}")
            compared += agents.sum()
        seen_orientations |= set(env.engine.poses()[2].tolist())
        obs, *_ = env.step({a: int(rng.integers(21)) for a in env.agents})
        if not env.agents:
            obs, _ = env.reset()
    assert seen_orientations == {0, 1, 2, 3}
    assert compared > 16 * 200  # more than the observers themselves: other agents were in view


def test_kinship_values_in_a_scripted_level():
    level = """W W W W W W W
W . . A2 . . W
W . . A1 . . W
W . . . A3 . W
W W W W W W W
"""
    env = make_env("metta-kin", level=level)
    obs, _ = env.reset(seed=4)
    k = env.kinship
    c = 5
    o = channels(env, obs["agent_0"], "kinship")
    assert o[c, c] == 255                          # itself
    assert o[c, c - 1] == quantize(k[0, 1])          # agent 2, one cell north (in front when facing up)
    assert o[c + 1, c + 1] == quantize(k[0, 2])      # agent 3, south-east
    assert np.count_nonzero(o) == 3
    # agent 1 turns to face east: agent 2 (north) is now on its left, agent 3 (south-east) front-right
    obs, *_ = env.step({"agent_0": env.engine.action_index("rotate", 3)})
    o = channels(env, obs["agent_0"], "kinship")
    assert o[c - 1, c] == quantize(k[0, 1])
    assert o[c + 1, c - 1] == quantize(k[0, 2])
    assert channels(env, obs["agent_0"], "kinship_noise").max() == 0


def clipped_noise_moments(k, sigma):
    """E|clip(k + sigma e, 0, 1) - k| and its variance for e ~ N(0, 1): each side of k is min(sigma |e|, room) with
    room 1 - k above and k below, so with a = room / sigma, E[min(sigma e, room); e > 0] = sigma (phi(0) - phi(a)) +
    room (1 - Phi(a)) and E[min(sigma e, room)^2; e > 0] = sigma^2 (Phi(a) - 1/2 - a phi(a)) + room^2 (1 - Phi(a))."""
    if sigma == 0:
        return 0.0, 0.0

    def phi(x):
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    def cdf(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    first = second = 0.0
    for room in (1.0 - k, k):
        a = room / sigma
        first += sigma * (phi(0) - phi(a)) + room * (1 - cdf(a))
        second += sigma ** 2 * (cdf(a) - 0.5 - a * phi(a)) + room ** 2 * (1 - cdf(a))
    return first, second - first ** 2


def test_the_noise_moments_by_quadrature():
    # the closed form against a plain numerical integral over e, for a few (k, sigma)
    e = np.linspace(-12, 12, 200001)
    weight = np.exp(-e ** 2 / 2) / math.sqrt(2 * math.pi) * (e[1] - e[0])
    for k, sigma in ((0.5, 0.3), (0.05, 0.2), (0.97, 0.25), (0.0, 0.1), (1.0, 0.3), (0.3, 0.01)):
        d = np.abs(np.clip(k + sigma * e, 0, 1) - k)
        m, v = clipped_noise_moments(k, sigma)
        assert m == pytest.approx((d * weight).sum(), abs=1e-7)
        assert v == pytest.approx((d ** 2 * weight).sum() - m ** 2, abs=1e-7)


def test_noisy_kinship_is_observed_with_its_noise_level():
    env = make_env("metta-kin", seed=1, kinship_noise=0.3, **CROWDED)
    obs, _ = env.reset(seed=1)
    sigma = env.kinship_noise_levels
    assert np.all((sigma >= 0) & (sigma <= 0.3)) and sigma.std() > 0
    assert sigma.max() > 0.2     # sigma_i ~ U(0, 0.3): all 16 below 0.2 has probability (2/3)^16 = 0.15%
    for i, a in enumerate(env.possible_agents):
        noise = channels(env, obs[a], "kinship_noise")
        assert np.all(noise == quantize(sigma[i]))
    seen = env.observed_kinship
    assert np.all(np.diag(seen) == 1.0)
    # the noise model, k~ = clip(k + sigma_i e, 0, 1) with e ~ N(0, 1): each entry's expected |k~ - k| and its
    # variance worked out here from the episode's true K and each observer's drawn sigma_i; the observed errors'
    # mean, overall and per observer, lies within a few standard deviations of it
    off = ~np.eye(16, dtype=bool)
    err = np.abs(seen - env.kinship)
    moments = [[clipped_noise_moments(env.kinship[i, j], sigma[i]) for j in range(16)] for i in range(16)]
    mean = np.array([[m for m, _ in row] for row in moments])
    var = np.array([[v for _, v in row] for row in moments])
    expected, sd = mean[off].mean(), np.sqrt(var[off].sum()) / off.sum()
    assert 0.08 < expected < 0.16 and sd < 0.01      # about 0.1 for these draws, known to within 0.01
    assert abs(err[off].mean() - expected) < 4 * sd, (err[off].mean(), expected, sd)
    for i in range(16):
        row_mean, row_sd = err[i, off[i]].mean(), np.sqrt(var[i, off[i]].sum()) / 15
        assert abs(row_mean - mean[i, off[i]].mean()) <= 5 * row_sd + 1e-12, (i, sigma[i])
    # the rewards still follow the true kinship
    np.testing.assert_allclose(env.sharing, env.kinship / env.kinship.sum(1, keepdims=True))
    again = make_env("metta-kin", seed=1, kinship_noise=0.3, **CROWDED)
    again.reset(seed=1)
    np.testing.assert_array_equal(again.observed_kinship, seen)


def test_agent_poses_match_griddly_state():
    """Poses read from the global view agree with Griddly's state, step after step."""
    facing = {"NONE": 0, "UP": 0, "RIGHT": 1, "DOWN": 2, "LEFT": 3}
    env = make_env("metta-teams", seed=2, **CROWDED)
    obs, _ = env.reset(seed=2)
    rng = np.random.default_rng(2)
    for t in range(150):
        obs, *_ = env.step({a: int(rng.integers(21)) for a in env.agents})
        if not env.agents:
            obs, _ = env.reset()
        x, y, r = env.engine.poses()
        for i, v in enumerate(env.agent_variables()):
            assert (x[i], y[i], r[i]) == (*v["location"], facing[v["orientation"]]), (t, i)
