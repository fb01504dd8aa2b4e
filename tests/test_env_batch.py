"""EnvBatch: K envs stepped as one batch give, row for row, what K envs stepped alone with Griddly's own
per-player observers give: every window, reward and episode end, across automatic resets."""
import numpy as np
import pytest

from metta import make_env
from metta.env.batch import EnvBatch

SMALL = dict(width=14, height=12, num_agents=6, generators=3, chargers=2, altars=1, max_steps=25)


def test_every_window_of_every_env_equals_griddlys_own_observer_across_resets():
    k, n = 3, SMALL["num_agents"]
    truth = [make_env("metta-kin", seed=10 + i, obs_backend="griddly", **SMALL) for i in range(k)]
    batch = EnvBatch([make_env("metta-kin", seed=10 + i, **SMALL) for i in range(k)])
    expect = [np.stack(list(env.reset(seed=i)[0].values())) for i, env in enumerate(truth)]
    got = batch.reset(list(range(k)))
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(60):  # two episode ends per env
        np.testing.assert_array_equal(got, np.concatenate(expect), err_msg=f"step {t}")
        actions = rng.integers(0, batch.num_actions, k * n)
        got, rewards, terminated, truncated, episodes = batch.step(actions)
        for i, env in enumerate(truth):
            obs, rew, term, trunc, infos = env.step(dict(zip(env.possible_agents, actions[i * n:(i + 1) * n].tolist())))
            rows = slice(i * n, (i + 1) * n)
            np.testing.assert_allclose(rewards[rows], list(rew.values()), rtol=1e-6)
            assert truncated[rows].tolist() == list(trunc.values()) and terminated[rows].tolist() == list(term.values())
            if not env.agents:
                ended += 1
                assert episodes[i] == [infos[a]["episode"] for a in env.possible_agents]
                obs, _ = env.reset()
            else:
                assert i not in episodes
            expect[i] = np.stack(list(obs.values()))
    assert ended == 2 * k
    batch.close()
    for env in truth:
        env.close()


def test_mismatched_envs_and_bad_actions_are_clear_errors():
    a = make_env("metta-kin", seed=0, **SMALL)
    b = make_env("metta-kin", seed=0, **{**SMALL, "num_agents": 4})
    with pytest.raises(ValueError, match="same agents"):
        EnvBatch([a, b])
    batch = EnvBatch([a])
    batch.reset([0])
    with pytest.raises(ValueError, match=r"outside Discrete\("):
        batch.step(np.full(6, batch.num_actions))
    batch.close()
    b.close()
