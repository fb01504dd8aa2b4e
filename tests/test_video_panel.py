"""Videos that say what they show: the panel beside each frame (step, hearts per kinship group, legend)."""
import re

import numpy as np

from metta.viz.render import GROUP_COLORS, SHADER_DIR, group_color, object_styles
from metta.griddly_ext.gdy import load_gdy
from metta.viz.video import InfoPanel
from conftest import GAME


def test_group_colours_are_the_shaders():
    """The legend's and the viewer's colours are the ones the frames are drawn in."""
    with open(f"{SHADER_DIR}/triangle-textured.frag") as fh:
        src = fh.read()
    block = src[src.index("GROUP_COLORS[10]"):src.index(";", src.index("GROUP_COLORS[10]"))]
    shader = [tuple(float(v) for v in m) for m in re.findall(r"vec3\(([\d.]+), ([\d.]+), ([\d.]+)\)", block)]
    assert shader == list(GROUP_COLORS) and group_color(11) == GROUP_COLORS[0]


def _panel():
    game = load_gdy(GAME)
    return InfoPanel(object_styles(game), game.avatar), object_styles(game), game.avatar


def _has(img, rgb):
    return bool(np.all(img == np.round(255 * np.minimum(np.array(rgb), 1)).astype(np.uint8), axis=-1).any())


def test_panel_shows_every_groups_colour_and_the_objects():
    panel, styles, avatar = _panel()
    hearts = {g: g % 3 for g in range(1, 7)}
    img = panel.draw(640, 5, 100, hearts)
    assert img.shape == (640, InfoPanel.WIDTH, 3)
    for g in hearts:
        assert _has(img, group_color(g)), g
    for name, st in styles.items():
        if name != avatar:
            assert _has(img, st["color"]), name
    assert not _has(img, group_color(7))  # no swatch for a group that is not there


def test_panel_changes_with_the_step_and_the_hearts_only():
    panel, _, _ = _panel()
    hearts = {1: 0, 2: 3}
    a = panel.draw(300, 5, 100, hearts)
    assert np.array_equal(a, panel.draw(300, 5, 100, dict(hearts)))
    step_rows = slice(0, InfoPanel.ROW)
    b = panel.draw(300, 6, 100, hearts)
    assert not np.array_equal(a[step_rows], b[step_rows]) and np.array_equal(a[InfoPanel.ROW:], b[InfoPanel.ROW:])
    c = panel.draw(300, 5, 100, {1: 1, 2: 3})
    assert np.array_equal(a[step_rows], c[step_rows]) and not np.array_equal(a, c)
    # a short map gets a panel as tall as its rows need
    assert panel.draw(40, 5, 100, hearts).shape[0] >= panel.rows(2) * InfoPanel.ROW
