"""The global-view renderer: Griddly's BLOCK_2D observer with the project's shaders, checked on pixels.

Each test changes one thing in the real game (an action, or the groups handed to the
renderer) and checks that the picture changes there, and only there, in the way the
shaders promise.
"""
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import require
from metta import make_env
from metta.viz.render import SHADER_DIR, BlockRenderer, kinship_groups

T = 32  # pixels per cell
# agent 1 at (2, 2) faces agent 2 at (3, 2); an empty cell at (2, 1) above agent 1
LEVEL = """\
W W W W W W W
W . . . . . W
W . A1 A2 . . W
W . . . . . W
W W W W W W W
"""
SHIELD = np.array([255, 255, 255])


def tile(img, x, y):
    return img[y * T:(y + 1) * T, x * T:(x + 1) * T].astype(int)


def changed_cells(a, b):
    """The cells (x, y) whose pixels differ between two frames."""
    diff = np.abs(a.astype(int) - b.astype(int)).sum(axis=2)
    h, w = diff.shape
    per_cell = diff.reshape(h // T, T, w // T, T).sum(axis=(1, 3))
    return {(int(x), int(y)) for y, x in zip(*np.nonzero(per_cell))}


@pytest.fixture
def world():
    env = make_env("metta-solo", level=LEVEL, overrides={"agent_energy_regen": 0, "shield_upkeep": 0})
    env.reset(seed=0)
    renderer = BlockRenderer(env.game, 2, tile_size=T)
    frame = lambda groups=(1, 2): renderer.render(env.engine.state(), np.array(groups))  # noqa: E731
    yield env, frame
    renderer.close()
    env.close()


def act(env, *actions):
    env.step({f"agent_{i}": env.engine.action_index(*a) if a else 0 for i, a in enumerate(actions)})


def test_frame_size_and_walls(world):
    env, frame = world
    img = frame()
    assert img.shape == (5 * T, 7 * T, 3) and img.dtype == np.uint8
    wall, floor = tile(img, 0, 0), tile(img, 1, 1)
    assert wall.mean() > 60 and floor.max() == 0  # the game's grey wall block; an empty cell is black


def test_group_colour_is_the_teams(world):
    env, frame = world
    apart, together = frame((1, 2)), frame((2, 2))
    assert changed_cells(apart, together) == {(2, 2)}  # only agent 1's cell changes
    body = lambda img, x: tile(img, x, 2)[T // 2, T // 2]  # noqa: E731 - the centre of the body
    assert not np.array_equal(body(apart, 2), body(apart, 3))
    assert np.array_equal(body(together, 2), body(together, 3))  # same group, same colour


def test_shield_on_and_off(world):
    env, frame = world
    before = frame()
    act(env, ("shield", 1))
    assert env.agent_variables()[0]["shield"] == 1
    after = frame()
    assert changed_cells(before, after) == {(2, 2)}
    ring = tile(after, 2, 2)[T // 2, int(T * 0.93)]  # on the ring, right of the body
    assert np.array_equal(ring, SHIELD) and not np.array_equal(tile(before, 2, 2)[T // 2, int(T * 0.93)], SHIELD)
    act(env, ("shield", 1))
    assert env.agent_variables()[0]["shield"] == 0
    assert not np.array_equal(tile(frame(), 2, 2)[T // 2, int(T * 0.93)], SHIELD)


def test_frozen_agent_sits_in_ice(world):
    env, frame = world
    act(env, None, ("rotate", 1))             # agent 2 turns to face agent 1 ...
    before = frame()
    act(env, None, ("attack", 2))             # ... and strikes it: unshielded, it freezes
    assert env.agent_variables()[0]["frozen"] > 0
    after = frame()
    # agent 1's cell turns to ice; agent 2's changes only by the energy the blow cost it
    assert changed_cells(before, after) == {(2, 2), (3, 2)}
    corner_before, corner_after = tile(before, 2, 2)[3, 3], tile(after, 2, 2)[3, 3]
    assert corner_before.sum() == 0 and corner_after[2] > corner_after[0] > 0  # black floor -> bluish ice
    row_before, row_after = tile(before, 2, 2)[int(T * 0.92)], tile(after, 2, 2)[int(T * 0.92)]
    bar = row_before.sum(axis=1) > 0
    assert np.array_equal(row_before[bar], row_after[bar])  # a freeze costs the target no energy


def test_marker_is_drawn(world):
    env, frame = world
    act(env, ("rotate", 2))
    before = frame()
    act(env, ("mark", 1))                     # a marker on the empty cell above agent 1
    after = frame()
    assert {(2, 1)} <= changed_cells(before, after) <= {(2, 1), (2, 2)}  # (2, 2): its energy bar
    assert tile(after, 2, 1)[T // 2, T // 2].sum() > 300  # a light dot where the cell was black


def test_energy_bar_shows_energy_over_max(world):
    env, frame = world
    img = frame()
    v = env.agent_variables()[0]
    row = tile(img, 2, 2)[int(T * 0.92)]      # a pixel row through the bar
    filled = int((np.ptp(row, axis=1) > 20).sum())  # coloured: the filled part
    drawn = int((row.sum(axis=1) > 0).sum())        # filled + empty (grey)
    assert drawn >= T * 0.8
    assert filled / drawn == pytest.approx(v["energy"] / v["max_energy"], abs=2 / drawn)


def test_body_points_where_the_agent_faces(world):
    env, frame = world
    for action_id, (dx, dy) in ((1, (-1, 0)), (2, (0, -1)), (3, (1, 0)), (4, (0, 1))):
        act(env, ("rotate", action_id))
        img = tile(frame(), 2, 2)
        ys, xs = np.nonzero((img == img[T // 2, T // 2]).all(axis=2))  # the body: its group's colour
        # a triangle's mass lies towards its base, away from its tip
        cx, cy = xs.mean() - (T - 1) / 2, ys.mean() - (T - 1) / 2
        assert np.sign(round(cx)) == -dx and np.sign(round(cy)) == -dy, (action_id, cx, cy)


def test_kinship_groups_follow_teams_and_clans():
    env = make_env("metta-teams", seed=3, team_size=4)
    env.reset(seed=3)
    g = kinship_groups(env.kinship, env.society.kin_threshold)
    same = g[:, None] == g[None, :]
    assert np.array_equal(same, env.kinship >= 1.0) and len(set(g)) == 6
    env.close()
    env = make_env("metta-clans", seed=3)
    env.reset(seed=3)
    g = kinship_groups(env.kinship, env.society.kin_threshold)
    assert np.bincount(g)[1:].tolist() == [4] * 6
    assert np.array_equal(g[:, None] == g[None, :], env.kinship >= env.society.w_clan)
    env.close()
    assert kinship_groups(np.eye(3), 0.5).tolist() == [1, 2, 3]


def test_committed_spirv_is_compiled_from_the_glsl(tmp_path):
    require("glslc", shutil.which("glslc") is not None, "compiles the GLSL to compare with the committed SPIR-V "
            "(Debian's glslc)")
    for stage in ("vert", "frag"):
        src = os.path.join(SHADER_DIR, f"triangle-textured.{stage}")
        out = tmp_path / f"{stage}.spv"
        subprocess.run(["glslc", "-O", "--target-env=vulkan1.0", "-o", str(out), src], check=True)
        with open(src + ".spv", "rb") as fh:
            assert fh.read() == out.read_bytes(), \
                f"{src}.spv is stale: recompile it with the command in metta/viz/render.py's docstring"
