"""The Vulkan window backend: byte for byte what NumpyWindows renders, clear errors without Vulkan,
and committed SPIR-V that matches its GLSL source.

Griddly's own observers as the truth for both backends is the end-to-end test of the env;
here the reference is ``NumpyWindows`` and, on small layouts, the contract of
``metta.griddly_ext.windows`` written out cell by cell.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, require
from metta.griddly_ext.vulkan_windows import SHADER, VulkanUnavailable, VulkanWindows
from metta.griddly_ext.windows import NumpyWindows, WindowLayout

GLSLC = ["glslc", "-O", "--target-env=vulkan1.0"]  # the command documented in shaders/README.md
OBJECTS, ORIENTATIONS, VARIABLES = 6, 4, 9


def game_like(width: int, height: int, agents: int) -> WindowLayout:
    """The layout of the default game's global view: objects, player ids 0..n, orientations, variables."""
    cg = OBJECTS + agents + 1 + ORIENTATIONS + VARIABLES
    keep = tuple(range(OBJECTS)) + tuple(range(OBJECTS + agents + 1, cg))
    return WindowLayout(width, height, cg, keep, 11, 11)


LAYOUTS = {
    "metta-teams 24 agents 40x40": (game_like(40, 40, 24), 24),
    "4 agents 12x9, window wider than the grid": (game_like(12, 9, 4), 4),
    "100 agents 100x100": (game_like(100, 100, 100), 100),
    "5x7 window, shuffled channels": (WindowLayout(17, 13, 13, (12, 0, 5, 6, 3), 5, 7), 10),
    "5x7 window, no rotation": (WindowLayout(17, 13, 13, (12, 0, 5, 6, 3), 5, 7, rotate=False), 10),
    "4x6 window (even sizes), 1 channel of 3": (WindowLayout(9, 20, 3, (1,), 4, 6), 6),
}


def random_state(rng: np.random.Generator, layout: WindowLayout, n: int):
    """A random global view (Griddly's memory order) and tables; agents on distinct cells, many on the border."""
    W, H = layout.grid_width, layout.grid_height
    gx, gy = np.arange(W * H) % W, np.arange(W * H) // W
    corners = np.array([0, W - 1, (H - 1) * W, H * W - 1])
    edge = np.flatnonzero((gx == 0) | (gy == 0) | (gx == W - 1) | (gy == H - 1))
    border = np.concatenate([rng.permutation(corners), rng.permutation(np.setdiff1d(edge, corners))])
    ranked = border[:rng.integers(0, n + 1)]
    rest = rng.permutation(np.setdiff1d(np.arange(W * H), ranked))
    cells = rng.permutation(np.concatenate([ranked, rest])[:n])
    glob = rng.integers(0, 256, (H, W, layout.global_channels), dtype=np.uint8).transpose(2, 1, 0)  # Griddly's order
    table = rng.integers(0, 256, (n, n + 1), dtype=np.uint8)
    fill = rng.integers(0, 256, n, dtype=np.uint8)
    return glob, cells % W, cells // W, rng.integers(0, 4, n), table, fill


@pytest.fixture(scope="module", params=list(LAYOUTS), ids=list(LAYOUTS))
def backends(request):
    layout, n = LAYOUTS[request.param]
    vulkan = VulkanWindows(layout, n)
    yield layout, n, NumpyWindows(layout, n), vulkan
    vulkan.close()


def test_matches_numpy_on_random_states(backends):
    """Successive renders on one instance: stale agent ids from the previous step would show."""
    layout, n, numpy_windows, vulkan = backends
    rng = np.random.default_rng(n * 1000 + layout.window_width)
    out = np.empty((n, layout.window_height, layout.window_width, layout.channels), dtype=np.uint8)
    seen = set()
    for step in range(100):
        state = random_state(rng, layout, n)
        want = numpy_windows.render(*state)
        got = vulkan.render(*state, out=out) if step % 2 else vulkan.render(*state)
        assert got.shape == want.shape and got.dtype == np.uint8
        mismatch = np.argwhere(got != want)
        assert not len(mismatch), f"step {step}: {len(mismatch)} bytes differ, first (agent, oy, ox, k) {mismatch[0]}"
        seen.update(state[3].tolist())
    assert seen == {0, 1, 2, 3}


def contract(layout: WindowLayout, glob, x, y, orientation, table, fill) -> np.ndarray:
    """The windows module's docstring, cell by cell."""
    n, w, h, K = len(x), layout.window_width, layout.window_height, len(layout.keep)
    W, H = layout.grid_width, layout.grid_height
    at = {(int(x[i]), int(y[i])): i + 1 for i in range(n)}
    out = np.zeros((n, h, w, K + 2), dtype=np.uint8)
    for i in range(n):
        for oy in range(h):
            for ox in range(w):
                u, v = ox - w // 2, oy - h // 2
                facing = orientation[i] if layout.rotate else 0
                dx, dy = [(u, v), (-v, u), (-u, -v), (v, -u)][facing]
                cx, cy = x[i] + dx, y[i] + dy
                inside = 0 <= cx < W and 0 <= cy < H
                for k, c in enumerate(layout.keep):
                    out[i, oy, ox, k] = glob[c, cx, cy] if inside else 0
                out[i, oy, ox, K] = table[i, at.get((cx, cy), 0) if inside else 0]
                out[i, oy, ox, K + 1] = fill[i]
    return out


@pytest.mark.parametrize("name", ["4 agents 12x9, window wider than the grid", "5x7 window, shuffled channels",
                                  "5x7 window, no rotation"])
def test_matches_the_contract(name):
    layout, n = LAYOUTS[name]
    rng = np.random.default_rng(7)
    vulkan = VulkanWindows(layout, n)
    try:
        for _ in range(3):
            state = random_state(rng, layout, n)
            np.testing.assert_array_equal(vulkan.render(*state), contract(layout, *state))
    finally:
        vulkan.close()


def test_close_releases_and_is_idempotent():
    layout, n = LAYOUTS["5x7 window, shuffled channels"]
    vulkan = VulkanWindows(layout, n)
    state = random_state(np.random.default_rng(0), layout, n)
    vulkan.render(*state)
    vulkan.close()
    vulkan.close()
    with pytest.raises(RuntimeError, match="after close"):
        vulkan.render(*state)
    VulkanWindows(layout, n)  # dropped unclosed: __del__ releases it
    with pytest.raises(ValueError, match="device_index 99"):
        VulkanWindows(layout, n, device_index=99)


def without_vulkan(env: dict) -> str:
    """Try to build VulkanWindows in a fresh process with ``env`` added; what it printed."""
    code = ("from metta.griddly_ext.vulkan_windows import VulkanUnavailable, VulkanWindows\n"
            "from metta.griddly_ext.windows import WindowLayout\n"
            "try:\n"
            "    VulkanWindows(WindowLayout(12, 9, 8, (0, 1), 5, 5), 4)\n"
            "except VulkanUnavailable as err:\n"
            "    print('VulkanUnavailable:', err)\n"
            "else:\n"
            "    print('created')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={**os.environ, **env})
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_no_driver_names_what_to_install():
    said = without_vulkan({"VK_ICD_FILENAMES": "/nonexistent.json", "VK_DRIVER_FILES": "/nonexistent.json"})
    assert said.startswith("VulkanUnavailable:"), said
    for words in ("no driver", "VK_ICD_FILENAMES=/nonexistent.json", "mesa-vulkan-drivers", "libvulkan1"):
        assert words in said, said
    assert issubclass(VulkanUnavailable, RuntimeError)


def test_unloadable_loader_names_what_to_install(tmp_path):
    (tmp_path / "libvulkan.so.1").write_bytes(b"")  # found first on the library path, not a library
    said = without_vulkan({"LD_LIBRARY_PATH": str(tmp_path)})
    assert said.startswith("VulkanUnavailable:"), said
    for words in ("libvulkan.so.1", "libvulkan1", "mesa-vulkan-drivers"):
        assert words in said, said


def test_committed_spirv_is_current(tmp_path):
    require("glslc", shutil.which("glslc") is not None, "compiles the shader to compare with the committed SPIR-V "
            "(Debian's glslc)")
    source = os.path.join(ROOT, "shaders", "egocentric_windows.comp")
    fresh = tmp_path / "egocentric_windows.spv"
    subprocess.run(GLSLC + ["-o", str(fresh), source], check=True, capture_output=True, timeout=60)
    version = subprocess.run(["glslc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    with open(SHADER, "rb") as f:
        assert fresh.read_bytes() == f.read(), (
            f"shaders/egocentric_windows.spv is not {source} compiled by {version}: run "
            f"`{' '.join(GLSLC)} -o shaders/egocentric_windows.spv shaders/egocentric_windows.comp`")
