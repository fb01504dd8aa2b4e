"""Build a validated game in a child process first, so that Griddly cannot crash the caller.

Validation catches every malformed file we know of; the probe is the second line of
defence for what it does not foresee: Griddly loads the game, resets it on a small
generated level (one of each placeable object) and steps random actions in a child process. A segfault, an abort
or a hang there becomes a ConfigError here instead of killing the interpreter.
Results are cached per document, so a game is probed once per process.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile

from metta.errors import ConfigError
from metta.griddly_ext.gdy import GameDoc

_PROBED: set[str] = set()

_CHILD = r"""
import sys, numpy as np
from metta.runtime.lifetime import watch_parent
watch_parent()
from metta.griddly_ext.gdy import load_gdy
from metta.griddly_ext.engine import GriddlyEngine
from metta.griddly_ext.levels import generate_level
from metta.griddly_ext.map_config import WALL, MapConfig, placeable_objects
game = load_gdy(sys.argv[1])
chars = game.map_characters()
one_each = {name: 1 for name in placeable_objects(chars, game.avatar) if name != WALL}
side = max(9, int(np.ceil(np.sqrt(len(one_each) + 2))) + 2)
level = generate_level(MapConfig(width=side, height=side, num_agents=2, objects=one_each, wall_density=0.0),
                       chars, np.random.default_rng(0), avatar=game.avatar)
engine = GriddlyEngine(game, 2, level)
obs = np.empty((2,) + engine.obs_shape, dtype=np.uint8)
rng = np.random.default_rng(0)
for t in range(int(sys.argv[2])):
    engine.step(rng.integers(0, engine.num_actions, 2))
    engine.observe_into(obs)
print("ok")
"""


def probe_game(game: GameDoc, steps: int = 50, timeout: float = 60.0) -> None:
    """Raise ConfigError if Griddly crashes, hangs or errors on ``game`` (run in a child process)."""
    text = game.to_yaml()
    key = hashlib.sha256(text.encode()).hexdigest()
    if key in _PROBED:
        return
    with tempfile.TemporaryDirectory(prefix="metta-probe-") as tmp:
        path = os.path.join(tmp, "game.yaml")
        with open(path, "w") as fh:
            fh.write(text)
        try:
            proc = subprocess.run([sys.executable, "-c", _CHILD, path, str(steps)], capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ConfigError(f"{game.path}: Griddly did not finish loading and stepping this game within "
                              f"{timeout:.0f}s (it hangs on it); check the game's actions for loops") from None
    if proc.returncode != 0:
        if proc.returncode < 0:
            sig = signal.Signals(-proc.returncode).name
            raise ConfigError(f"{game.path}: Griddly crashed ({sig}) loading this game although it passed "
                              f"validation; please report the file")
        last = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise ConfigError(f"{game.path}: Griddly rejected this game: {last[-1] if last else 'unknown error'}")
    _PROBED.add(key)


