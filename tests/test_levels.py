"""Procedural levels: seeded, reproducible, with the requested objects, and inside their walls."""
import hashlib

import numpy as np
import pytest

from metta import ConfigError
from metta.griddly_ext.gdy import load_gdy
from metta.griddly_ext.levels import generate_level, parse_level
from metta.griddly_ext.map_config import MapConfig, default_counts

from conftest import GAME, config_error
from tree_game import TREE_COUNT, write_tree_game

CHARS = load_gdy(GAME).map_characters()
DEFAULTS = default_counts(load_gdy(GAME).named_values())

# sha256 of levels generated before object counts moved into the game file (map_count_<object>):
# (map options, seed, sha256 of generate_level's string); then make_env('metta-teams', seed=5)'s first
# level, after reset(seed=9), and after a further reset()
LEVELS_BEFORE = [
    ({}, 0, '018e7b509133b140442cf5a673f363e89bbb51eff0eb4a82e4e2e6c68b4844ce'),
    ({}, 1, '0570a81d15525072596164a3d6d7356b5f839163d227fbf4ac9776f8a3d188ef'),
    ({}, 42, '3767920cbf82f322922fc097e0c07f06044a0a49c3af74404fa82a0780c81c49'),
    ({'width': 25, 'height': 25, 'num_agents': 5, 'generators': 5, 'chargers': 3, 'altars': 2, 'wall_density': 0.1}, 0,
     'e6490e2526cd8e73ec1c9ba81d6e2d652aa9d1ac40f401a900240d7dc965dd17'),
    ({'width': 25, 'height': 25, 'num_agents': 5, 'generators': 5, 'chargers': 3, 'altars': 2, 'wall_density': 0.1}, 1,
     'f0b6969c97a8e71d482f02ab4e6bf458661869979787d0571e20e9da9fd8c5af'),
    ({'width': 25, 'height': 25, 'num_agents': 5, 'generators': 5, 'chargers': 3, 'altars': 2, 'wall_density': 0.1}, 42,
     '72d001363bd39eaa77b2af8d603fcecacb83b97e8814f90f0fe7a93383f47699'),
    ({'width': 60, 'height': 30, 'num_agents': 40, 'rooms': 6, 'room_size': 9}, 0,
     'a1d64ead6476f4c15c09d1b27ed1821aef28eef53aa4d513cc07069fc066da1c'),
    ({'width': 60, 'height': 30, 'num_agents': 40, 'rooms': 6, 'room_size': 9}, 1,
     '52b8a1f20ae3dcc3fba130d65f2040e0d47530ec6e40bb0bb8b6928904d69b27'),
    ({'width': 60, 'height': 30, 'num_agents': 40, 'rooms': 6, 'room_size': 9}, 42,
     '801f01fb9e36c150666dac7b598b1980f3d5f03765119c964dba94c06e08ad5a'),
    ({'width': 12, 'height': 12, 'num_agents': 3, 'generators': 2, 'chargers': 1, 'altars': 1}, 0,
     '3450c2f3cc3adfd67dc92434157b449ad2b1ee72b3990cab717348527eb6b506'),
    ({'width': 12, 'height': 12, 'num_agents': 3, 'generators': 2, 'chargers': 1, 'altars': 1}, 1,
     '0607fe1edeb34e7adbb6b86558c2dbb78ee7db61b25d6081a6c3e8a2bd00b27c'),
    ({'width': 12, 'height': 12, 'num_agents': 3, 'generators': 2, 'chargers': 1, 'altars': 1}, 42,
     'a87b4ea7ff9c764026dcca7a5c9f19d2023dcb24d9b5a318b26b229f8d0173d9'),
]
MAKE_ENV_LEVELS_BEFORE = [
    'da864eda50c0f4079bfac1fb245e876fb91e0e61be14b7999f4ebcdb1176553b',
    '4e9a7b7e3f6fd5aee10cc964fc8792d823828e4b3a7e5de1d02df962c1dbe17c',
    '283f71a4e536eb36f72649cc4e16a342bc3023e2b22c7c0e5ab6b091160e5c77',
]
SMALL_BEFORE = """\
W   W   W   W   W   W   W   W   W   W   W   W
W   .   .   g   .   .   .   .   .   .   .   W
W   .   g   .   .   .   A3  A1  .   .   .   W
W   .   .   .   .   .   .   .   .   .   .   W
W   .   .   .   .   .   .   W   .   .   .   W
W   c   W   .   .   .   A2  .   .   .   .   W
W   .   a   .   .   W   .   .   .   .   .   W
W   W   W   W   W   W   W   W   W   W   W   W
"""


def grid(level):
    return [row.split() for row in level.strip("\n").splitlines()]


@pytest.mark.parametrize("opts", [
    MapConfig(),
    MapConfig(width=25, height=25, num_agents=5, generators=5, chargers=3, altars=2, wall_density=0.1),
    MapConfig(width=100, height=100, num_agents=99, generators=60, chargers=30, altars=15, rooms=10),
    MapConfig(width=7, height=5, num_agents=2, generators=1, chargers=1, altars=1, wall_density=0.9),
])
def test_generated_level_has_what_was_asked(opts):
    g = grid(generate_level(opts, CHARS, np.random.default_rng(0), defaults=DEFAULTS))
    assert len(g) == opts.height and all(len(r) == opts.width for r in g)
    flat = [t for r in g for t in r]
    assert sorted(t for t in flat if t.startswith("A")) == sorted(f"A{i}" for i in range(1, opts.num_agents + 1))
    for name in ("generator", "charger", "altar"):  # generators=5 spells objects={"generator": 5}
        assert flat.count(CHARS[name]) == (opts.objects or {}).get(name, DEFAULTS[name])
    border = g[0] + g[-1] + [r[0] for r in g] + [r[-1] for r in g]
    assert set(border) == {CHARS["wall"]}
    assert parse_level("\n".join(" ".join(r) for r in g), CHARS, "A") == (opts.width, opts.height, opts.num_agents)


def test_wall_density_is_respected():
    opts = MapConfig(width=50, height=50, num_agents=4, generators=0, chargers=0, altars=0, wall_density=0.2)
    g = grid(generate_level(opts, CHARS, np.random.default_rng(1)))
    inner = [t for r in g[1:-1] for t in r[1:-1]]
    assert inner.count("W") == round(0.2 * 48 * 48)


@pytest.mark.parametrize("layout", ["rooms", "maze"])
def test_same_seed_same_level_different_seed_different_level(layout):
    opts = MapConfig(layout=layout)
    a = generate_level(opts, CHARS, np.random.default_rng(42), defaults=DEFAULTS)
    b = generate_level(opts, CHARS, np.random.default_rng(42), defaults=DEFAULTS)
    c = generate_level(opts, CHARS, np.random.default_rng(43), defaults=DEFAULTS)
    assert a == b and a != c


def test_the_game_file_counts_give_the_levels_of_before():
    """games/metta.yaml declares the counts the map options used to hold (map_count_generator 20, charger 10, altar 5):
    the same options and seed give the very levels generated before, directly and through make_env."""
    from metta import make_env

    assert DEFAULTS == {"generator": 20, "charger": 10, "altar": 5}
    for options, seed, digest in LEVELS_BEFORE:
        level = generate_level(MapConfig(**options), CHARS, np.random.default_rng(seed), defaults=DEFAULTS)
        assert hashlib.sha256(level.encode()).hexdigest() == digest, (options, seed)
    small = MapConfig(width=12, height=8, num_agents=3, generators=2, chargers=1, altars=1)
    assert generate_level(small, CHARS, np.random.default_rng(7)) == SMALL_BEFORE
    env = make_env("metta-teams", seed=5)
    levels = [env.level, env.reset(seed=9) and env.level, env.reset() and env.level]
    assert [hashlib.sha256(lv.encode()).hexdigest() for lv in levels] == MAKE_ENV_LEVELS_BEFORE
    env.close()


def count(level, char):
    return [t for r in grid(level) for t in r].count(char)


def test_a_new_object_is_placed_by_its_yaml_default_and_by_objects(tmp_path):
    """A copy of the game with a tree (its own map character) and map_count_tree: procedural maps place it, from
    the file's default and from objects=, without code that knows it."""
    from metta import make_env

    path = write_tree_game(tmp_path)
    small = dict(width=14, height=14, num_agents=4)
    env = make_env("metta-solo", game=path, seed=0, **small)
    assert count(env.level, "t") == TREE_COUNT and count(env.level, "a") == 5
    env.reset(seed=1)
    assert count(env.level, "t") == TREE_COUNT
    env.close()
    env = make_env("metta-solo", game=path, seed=0, objects={"tree": 10, "altar": 1}, generators=2, **small)
    assert [count(env.level, c) for c in "tagc"] == [10, 1, 2, 10]
    env.close()
    chars = load_gdy(path).map_characters()
    level = generate_level(MapConfig(num_agents=2, objects={"tree": 3}), chars, np.random.default_rng(0))
    assert count(level, "t") == 3 and count(level, "a") == 0  # no game defaults given: only what was asked


def test_unknown_objects_and_maps_that_cannot_fit_are_clear_errors():
    rng = np.random.default_rng(0)
    with config_error("map.objects.altr", "no placeable object 'altr'", "did you mean 'altar'?",
                      "placeable: wall, generator, charger, altar, marker"):
        generate_level(MapConfig(objects={"altr": 3}), CHARS, rng, defaults=DEFAULTS)
    with config_error("map.objects.agent", "num_agents"):
        generate_level(MapConfig(objects={"agent": 3}), CHARS, rng)
    with config_error("map.altars=3 and map.objects.altar=4 disagree"):
        generate_level(MapConfig(altars=3, objects={"altar": 4}), CHARS, rng)
    with config_error("impossible map", "num_agents=4, altar=70", "at most 64 fit"):
        generate_level(MapConfig(width=10, height=10, num_agents=4, objects={"altar": 70}), CHARS, rng)
    with config_error("impossible map", "corridors", "at most 49 fit"):  # 25 maze cells and 24 passages
        generate_level(MapConfig(width=11, height=11, num_agents=20, layout="maze"), CHARS, rng, defaults=DEFAULTS)
    with config_error("layout", "'rooms' or 'maze'", "'caves'"):
        generate_level(MapConfig(layout="caves"), CHARS, rng)
    with config_error("a maze needs walls", "'wall'"):
        generate_level(MapConfig(layout="maze"), {k: v for k, v in CHARS.items() if k != "wall"}, rng)


def reached(start, cells: set) -> set:
    """The cells of ``cells`` a walk from ``start`` reaches, one step left, right, up or down at a time."""
    seen, todo = set(), [start]
    while todo:
        x, y = todo.pop()
        if (x, y) in seen:
            continue
        seen.add((x, y))
        todo += [c for c in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)) if c in cells]
    return seen


@pytest.mark.parametrize("width, height, seed", [(15, 11, 0), (40, 40, 1), (24, 17, 2)])
def test_a_maze_is_perfect_and_everything_stands_in_its_corridors(width, height, seed):
    """One path between any two corridor cells: the corridors are connected and have one cell fewer passages
    than cells (a tree); agents and objects stand in corridor cells, and the maze is enclosed by walls."""
    opts = MapConfig(width=width, height=height, num_agents=6, layout="maze")
    g = grid(generate_level(opts, CHARS, np.random.default_rng(seed), defaults={"altar": 3, "generator": 4}))
    open_ = {(x, y) for y, r in enumerate(g) for x, t in enumerate(r) if t != "W"}
    assert len(open_) == 2 * ((width - 1) // 2) * ((height - 1) // 2) - 1
    assert all(0 < x < width - 1 and 0 < y < height - 1 for x, y in open_)
    edges = sum((x + 1, y) in open_ for x, y in open_) + sum((x, y + 1) in open_ for x, y in open_)
    assert edges == len(open_) - 1
    assert reached(next(iter(open_)), open_) == open_
    tokens = [t for r in g for t in r]
    assert tokens.count("a") == 3 and tokens.count("g") == 4 and sum(t.startswith("A") for t in tokens) == 6


@pytest.mark.parametrize("width, height, arenas, seed", [(25, 21, 1, 0), (40, 40, 1, 1), (66, 44, 24, 2),
                                                     (42, 44, 24, 3)])
def test_every_object_in_a_maze_can_be_reached_by_every_agent(width, height, arenas, seed):
    """Objects block a walk, and one in a corridor would cut a perfect maze in two: a search over the free cells
    (neither wall nor object) from each agent reaches a cell beside every object of its arena."""
    opts = MapConfig(width=width, height=height, num_agents=24 if arenas > 1 else 6, layout="maze", arenas=arenas)
    g = grid(generate_level(opts, CHARS, np.random.default_rng(seed), defaults={"altar": 24, "generator": 24}
                            if arenas > 1 else {"altar": 3, "generator": 4}))
    walkable = {(x, y) for y, r in enumerate(g) for x, t in enumerate(r) if t == "." or t.startswith("A")}
    objects = [(x, y) for y, r in enumerate(g) for x, t in enumerate(r) if t in ("a", "g")]
    agents = [(x, y) for y, r in enumerate(g) for x, t in enumerate(r) if t.startswith("A")]
    for start in agents:
        seen = reached(start, walkable)
        near = [o for o in objects if any(abs(o[0] - x) + abs(o[1] - y) <= 1 for x, y in seen)]
        same_arena = [o for o in objects if (o[0] * 6 // width, o[1] * 4 // height) ==
                      (start[0] * 6 // width, start[1] * 4 // height)] if arenas == 24 else objects
        assert set(same_arena) <= set(near), (start, sorted(set(same_arena) - set(near)))
    assert len(objects) == (48 if arenas > 1 else 7)


def test_kin_share_an_arena():
    """Teams are drawn at every reset, and the level is numbered after the draw so that a team fills arenas in
    turn: in a map of 12 arenas of 2 agents with teams of 4, the two agents of every arena are kin."""
    from metta import make_env

    env = make_env("metta-teams", arenas=12, seed=0)
    for seed in range(3):
        env.reset(seed=seed)
        where = [a["location"] for a in env.agent_variables()]
        arena = [(x // (env.engine.width // 4), y // (env.engine.height // 3)) for x, y in where]
        pairs = [(i, j) for i in range(24) for j in range(i + 1, 24) if arena[i] == arena[j]]
        assert len(pairs) == 12
        assert all(env.kinship[i, j] >= env.society.kin_threshold for i, j in pairs)
    env.close()


def test_a_maze_trains_like_any_map():
    from metta import make_env

    env = make_env("metta-solo", seed=3, width=15, height=15, num_agents=3, layout="maze", objects={"generator": 3})
    env.reset(seed=3)
    assert env.map_options.objects == {"wall": 0, "generator": 3, "charger": 10, "altar": 5, "marker": 0}
    g = grid(env.level)
    walls = {(x, y) for y, row in enumerate(g) for x, t in enumerate(row) if t == "W"}
    objects = {(x, y): t for y, row in enumerate(g) for x, t in enumerate(row) if t in ("g", "c", "a")}

    def where():
        return [v["location"] for v in env.agent_variables()]

    def griddly_walls():
        return {tuple(o["Location"]) for o in env.state()["Objects"] if o["Name"] == "wall"}

    # Griddly plays the level the maze generator wrote: its walls, objects and agents where the level has them
    assert griddly_walls() == walls
    chars = {"generator": "g", "charger": "c", "altar": "a"}
    assert {tuple(o["Location"]): chars[o["Name"]] for o in env.state()["Objects"] if o["Name"] in chars} == objects
    assert where() == [next((x, y) for y, row in enumerate(g) for x, t in enumerate(row) if t == f"A{i}")
                       for i in (1, 2, 3)]
    # an agent walks its corridor: each agent turns towards a free neighbouring cell and steps into it, and a step
    # towards a wall leaves it where it stands
    step = {1: (-1, 0), 2: (0, -1), 3: (1, 0), 4: (0, 1)}    # rotate's inputs: left, up, right, down
    rotate, forward = env.engine.action_index, env.engine.action_index("move", 1)
    start = where()
    free = [next(d for d, (dx, dy) in step.items() if g[y + dy][x + dx] == ".") for x, y in start]
    env.step({a: rotate("rotate", d) for a, d in zip(env.possible_agents, free)})
    env.step({a: forward for a in env.possible_agents})
    assert where() == [(x + step[d][0], y + step[d][1]) for (x, y), d in zip(start, free)]
    here = where()
    blocked = [next(d for d, (dx, dy) in step.items() if (x + dx, y + dy) in walls) for x, y in here]
    env.step({a: rotate("rotate", d) for a, d in zip(env.possible_agents, blocked)})
    env.step({a: forward for a in env.possible_agents})
    assert where() == here
    # random play: every agent stays in the corridors, moving at most one cell a step, and the walls stay
    rng = np.random.default_rng(0)
    moved = 0
    for _ in range(20):
        before = where()
        env.step({a: int(rng.integers(env.engine.num_actions)) for a in env.agents})
        after = where()
        assert all(p not in walls for p in after)
        assert all(abs(x1 - x0) + abs(y1 - y0) <= 1 for (x0, y0), (x1, y1) in zip(before, after))
        moved += sum(p != q for p, q in zip(before, after))
    assert moved > 0 and griddly_walls() == walls
    env.close()


def test_objects_that_cannot_fit_are_a_clear_error():
    with pytest.raises(ConfigError, match="impossible map"):
        generate_level(MapConfig(width=4, height=4, num_agents=5, generators=0, chargers=0, altars=0),
                       CHARS, np.random.default_rng(0))
    # rooms can eat the space the objects need
    with pytest.raises(ConfigError, match="rooms"):
        for seed in range(20):
            generate_level(MapConfig(width=8, height=8, num_agents=30, generators=0, chargers=0, altars=0,
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
