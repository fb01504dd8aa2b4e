"""Procedural levels: seeded, reproducible, with the requested objects, and inside their walls."""
import numpy as np
import pytest

from metta import ConfigError
from metta.griddly_ext.gdy import load_gdy
from metta.griddly_ext.levels import MapOptions, generate_level, parse_level

from conftest import GAME

CHARS = load_gdy(GAME).map_characters()


def grid(level):
    return [row.split() for row in level.strip("\n").splitlines()]


@pytest.mark.parametrize("opts", [
    MapOptions(),
    MapOptions(width=25, height=25, num_agents=5, generators=5, chargers=3, altars=2, wall_density=0.1),
    MapOptions(width=100, height=100, num_agents=99, generators=60, chargers=30, altars=15, rooms=10),
    MapOptions(width=7, height=5, num_agents=2, generators=1, chargers=1, altars=1, wall_density=0.9),
])
def test_generated_level_has_what_was_asked(opts):
    g = grid(generate_level(opts, CHARS, np.random.default_rng(0)))
    assert len(g) == opts.height and all(len(r) == opts.width for r in g)
    flat = [t for r in g for t in r]
    assert sorted(t for t in flat if t.startswith("A")) == sorted(f"A{i}" for i in range(1, opts.num_agents + 1))
    assert flat.count(CHARS["generator"]) == opts.generators
    assert flat.count(CHARS["charger"]) == opts.chargers
    assert flat.count(CHARS["altar"]) == opts.altars
    border = g[0] + g[-1] + [r[0] for r in g] + [r[-1] for r in g]
    assert set(border) == {CHARS["wall"]}
    assert parse_level("\n".join(" ".join(r) for r in g), CHARS, "A") == (opts.width, opts.height, opts.num_agents)


def test_wall_density_is_respected():
    opts = MapOptions(width=50, height=50, num_agents=4, generators=0, chargers=0, altars=0, wall_density=0.2)
    g = grid(generate_level(opts, CHARS, np.random.default_rng(1)))
    inner = [t for r in g[1:-1] for t in r[1:-1]]
    assert inner.count("W") == round(0.2 * 48 * 48)


def test_same_seed_same_level_different_seed_different_level():
    opts = MapOptions()
    a = generate_level(opts, CHARS, np.random.default_rng(42))
    b = generate_level(opts, CHARS, np.random.default_rng(42))
    c = generate_level(opts, CHARS, np.random.default_rng(43))
    assert a == b and a != c


def test_objects_that_cannot_fit_are_a_clear_error():
    with pytest.raises(ConfigError, match="impossible map"):
        generate_level(MapOptions(width=4, height=4, num_agents=5, generators=0, chargers=0, altars=0),
                       CHARS, np.random.default_rng(0))
    # rooms can eat the space the objects need
    with pytest.raises(ConfigError, match="rooms"):
        for seed in range(20):
            generate_level(MapOptions(width=8, height=8, num_agents=30, generators=0, chargers=0, altars=0,
                                      rooms=6, room_size=6), CHARS, np.random.default_rng(seed))


def test_the_most_agents_griddly_reads_start_where_the_level_puts_them():
    """99 agents (two-digit ids, the most Griddly 1.6.7's level reader holds): every start places each agent
    on its own cell of the level."""
    from metta import make_env

    opts = dict(width=40, height=40, num_agents=99, generators=10, chargers=5, altars=5)
    for seed in range(8):
        env = make_env("metta-solo", seed=seed, **opts)
        env.reset(seed=seed)
        g = grid(env.level)
        where = {int(t[1:]): (x, y) for y, row in enumerate(g) for x, t in enumerate(row) if t.startswith("A")}
        x, y, _ = env.engine.poses()
        assert [(int(a), int(b)) for a, b in zip(x, y)] == [where[i] for i in range(1, 100)]
        env.close()
