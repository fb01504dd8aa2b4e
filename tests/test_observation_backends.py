"""The batched observation backends against Griddly's own per-player observers, element for element.

Envs with the same seed and the same actions go through the same states; the
``griddly`` backend renders each agent's window with Griddly's per-player VECTOR
observer (the truth), the others cut every window from one global view. Every
observation of every agent in every state must be identical.
"""
import numpy as np
import pytest

from metta import ConfigError, make_env

FAST = ["numba", "numpy", "vulkan"]

# agents on the grid's very edges and corners (no border walls), walls and objects in between
EDGE_LEVEL = "\n".join([
    "A1 .  g  .  .  .  .  A2",
    ".  .  .  W  .  c  .  .",
    "A3 .  a  .  .  .  .  .",
    ".  .  .  .  m  .  W  A4",
    ".  g  .  .  .  .  .  .",
    "A5 .  .  W  .  a  .  A6",
])

CASES = [
    ("metta-teams", dict(seed=1), 90),
    ("metta-solo", dict(seed=2, width=12, height=9, num_agents=4, generators=2, chargers=1, altars=1), 60),
    ("metta-kin", dict(seed=3, kinship_noise=0.4, width=30, height=20, num_agents=12), 60),
    ("metta-clans", dict(seed=4, bodies={"light": 1, "heavy": 1}, width=16, height=16, num_agents=8), 60),
    ("metta-teams", dict(seed=5, level=EDGE_LEVEL, team_size=2), 80),
]


def crowded_actions(env, rng):
    """Random actions weighted towards attacks, shields and turns so frozen, shielded and rotated agents occur."""
    names = [a.name for a in env.engine.actions]
    weights = np.array([4.0 if n in ("attack", "shield", "rotate") else 1.0 for n in names])
    p = weights / weights.sum()
    return {a: int(rng.choice(len(names), p=p)) for a in env.possible_agents}


@pytest.mark.parametrize("backend", FAST)
def test_windows_identical_to_griddly_player_observers(backend):
    seen = dict(states=0, frozen=0, shielded=0, facings=set(), edge_agents=0)
    for name, kwargs, steps in CASES:
        truth = make_env(name, obs_backend="griddly", **kwargs)
        fast = make_env(name, obs_backend=backend, **kwargs)
        frozen = truth.channel_names.index("frozen")
        shield = truth.channel_names.index("shield")
        rng = np.random.default_rng(kwargs["seed"])
        expect, _ = truth.reset(seed=kwargs["seed"])
        got, _ = fast.reset(seed=kwargs["seed"])
        for t in range(steps + 1):
            assert list(got) == list(expect)
            for agent in expect:
                np.testing.assert_array_equal(got[agent], expect[agent],
                                              err_msg=f"{name} {kwargs} step {t} {agent} ({backend})")
            centre = expect["agent_0"].shape[1] // 2
            x, y, facing = truth.engine.poses()
            seen["states"] += 1
            seen["frozen"] += sum(int(o[frozen, centre, centre] > 0) for o in expect.values())
            seen["shielded"] += sum(int(o[shield, centre, centre] == 1) for o in expect.values())
            seen["facings"] |= set(facing.tolist())
            seen["edge_agents"] += int(((x == 0) | (y == 0) | (x == truth.engine.width - 1)
                                        | (y == truth.engine.height - 1)).sum())
            actions = crowded_actions(truth, rng)
            expect, *_ = truth.step(actions)
            got, *_ = fast.step(actions)
            if not truth.agents:
                expect, _ = truth.reset()
                got, _ = fast.reset()
        truth.close()
        fast.close()
    assert seen["states"] > 300
    assert seen["facings"] == {0, 1, 2, 3}
    assert seen["frozen"] > 50 and seen["shielded"] > 50 and seen["edge_agents"] > 50, seen


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="obs_backend must be one of numba, numpy, vulkan, griddly"):
        make_env("metta-solo", obs_backend="cuda")


def test_observations_are_fresh_arrays_each_step():
    """A caller may keep observations: the next step does not overwrite them."""
    env = make_env("metta-teams", seed=0, width=12, height=12, num_agents=4, generators=2, chargers=1, altars=1)
    first, _ = env.reset(seed=0)
    kept = {a: o.copy() for a, o in first.items()}
    rng = np.random.default_rng(0)
    for _ in range(5):
        env.step({a: int(rng.integers(22)) for a in env.agents})
    for a in kept:
        np.testing.assert_array_equal(first[a], kept[a])
