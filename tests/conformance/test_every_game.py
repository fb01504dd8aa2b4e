"""Every shipped game under every preset and every observation backend, by the same tests.

A game file dropped into ``games/`` is picked up here with no test edited: PettingZoo's own API and seed
tests run on it under each preset, and each batched observation backend is checked element for element
against Griddly's own per-player observers on it.
"""
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from metta import make_env
from metta.env import PRESETS
from metta.env.backends import BACKENDS

GAMES = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "games").glob("*.yaml"))
BATCHED = [b for b in BACKENDS if b != "griddly"]  # every registered backend against the reference
SMALL = dict(width=14, height=14, num_agents=6, wall_density=0.05)


def test_the_shipped_games_are_found():
    assert "metta.yaml" in {Path(g).name for g in GAMES} and len(GAMES) >= 4


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("game", GAMES, ids=lambda g: Path(g).stem)
def test_pettingzoo_parallel_api(game, preset):
    env = make_env(preset, seed=0, game=game, **SMALL)
    parallel_api_test(env, num_cycles=120)
    env.close()


@pytest.mark.parametrize("game", GAMES, ids=lambda g: Path(g).stem)
def test_pettingzoo_parallel_seed(game):
    parallel_seed_test(lambda: make_env("metta-teams", game=game, **SMALL), num_cycles=120)


@pytest.mark.parametrize("backend", BATCHED)
@pytest.mark.parametrize("game", GAMES, ids=lambda g: Path(g).stem)
def test_batched_windows_equal_griddly_player_observers(game, backend):
    truth = make_env("metta-teams", seed=7, game=game, obs_backend="griddly", **SMALL)
    fast = make_env("metta-teams", seed=7, game=game, obs_backend=backend, **SMALL)
    rng = np.random.default_rng(7)
    expect, _ = truth.reset(seed=7)
    got, _ = fast.reset(seed=7)
    assert truth.level == fast.level
    for t in range(61):
        for agent in expect:
            np.testing.assert_array_equal(got[agent], expect[agent], err_msg=f"{game} step {t} {agent} ({backend})")
        if not truth.agents:
            expect, _ = truth.reset()
            got, _ = fast.reset()
            continue
        actions = {a: int(rng.integers(truth.action_space(a).n)) for a in truth.agents}
        expect, *_ = truth.step(actions)
        got, *_ = fast.step(actions)
    truth.close()
    fast.close()
