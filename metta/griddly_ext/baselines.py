"""What the project's env is measured against (metta.bench.sim): the seed's stack and Griddly's floor.

Both step a game's players all at once with flat action indices (the order of
``GriddlyEngine.actions``) and restart their level when an episode ends, like the env:

- ``SeedStack``: Griddly's own ``GymWrapper`` with one VECTOR observer per player, on the game
  file as written (named values stay Griddly variables). What a user of the seed ran: every
  step renders each player's window separately and copies it out.
- ``EngineFloor``: the project's engine (compiled constants, players on Griddly's ``None``
  observer) doing only ``step_parallel`` and one global VECTOR render per step. No env design
  that cuts windows from one global view can step faster than this, in this process.
"""
from __future__ import annotations

import numpy as np

from metta.griddly_ext.engine import GriddlyEngine, griddly_module
from metta.griddly_ext.gdy import GameDoc


class SeedStack:
    name = "seed stack"

    def __init__(self, game: GameDoc, num_players: int, level: str, max_steps: int):
        griddly_module()
        from griddly import gd
        from griddly.GymWrapper import GymWrapper

        self.level, self.max_steps = level, int(max_steps)
        table = GriddlyEngine(game, num_players, level, player_observers=False)
        self.griddly_actions = table._action_table.copy()   # flat index -> (action type, input id)
        table.close()
        self.env = GymWrapper(yaml_string=game.with_players(num_players, level).to_yaml(),
                              global_observer_type=gd.ObserverType.NONE, player_observer_type=gd.ObserverType.VECTOR,
                              max_steps=self.max_steps, level=0)
        self.reset()

    def reset(self) -> None:
        self.env.reset(level_string=self.level)
        self._t = 0

    def step(self, flat: np.ndarray) -> None:
        _obs, _rewards, done, _info = self.env.step(self.griddly_actions[flat])
        self._t += 1
        if done or self._t >= self.max_steps:
            self.reset()

    def close(self) -> None:
        self.env.close()


class EngineFloor:
    name = "griddly floor"

    def __init__(self, game: GameDoc, num_players: int, level: str, max_steps: int):
        self.level, self.max_steps = level, int(max_steps)
        self.engine = GriddlyEngine(game, num_players, level, player_observers=False)
        self._seed = 0
        self.reset()

    def reset(self) -> None:
        self._seed += 1
        self.engine.reset(self.level, self._seed)
        self.engine.global_view()
        self._t = 0

    def step(self, flat: np.ndarray) -> None:
        _rewards, done = self.engine.step(flat)
        self.engine.global_view()
        self._t += 1
        if done or self._t >= self.max_steps:
            self.reset()

    def close(self) -> None:
        self.engine.close()
