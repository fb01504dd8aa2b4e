"""The engine loop over Griddly's C++ core (``griddly.gd``).

One ``GriddlyEngine`` holds one Griddly game for a fixed number of players: it steps
all agents at once with ``step_parallel``, copies every player's VECTOR observation
into one preallocated batch, and resets onto a new level string. The GDY handed to
it must already be validated (metta.griddly_ext.validation): Griddly trusts its input.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from metta.griddly_ext.gdy import GameDoc


@contextlib.contextmanager
def _quiet_stderr():
    """Hide the old gym package's import banner (griddly imports gym at import time)."""
    saved = sys.stderr
    sys.stderr = io.StringIO()
    try:
        yield
    finally:
        sys.stderr = saved


def griddly_module():
    """Import griddly once, without gym's deprecation banner; return ``(gd, GriddlyLoader)``."""
    if "griddly" not in sys.modules:
        with warnings.catch_warnings(), _quiet_stderr():
            warnings.simplefilter("ignore")
            import griddly  # noqa: F401
    griddly = sys.modules["griddly"]
    return griddly.gd, griddly.GriddlyLoader


@dataclass(frozen=True)
class ActionEntry:
    """One entry of the flat discrete action space."""

    name: str          # e.g. "move"
    type_index: int    # index into Griddly's action names
    action_id: int     # Griddly input id (0 = no-op)
    description: str


class GriddlyEngine:
    """A Griddly game with ``num_players`` agents.

    Players are observed through per-player VECTOR observers (the game's ``Vector``
    observer). The global observer is a VECTOR observer with player ids and
    orientations and without variables, from which ``agent_positions`` reads every
    agent's cell in one call; ``orientations`` reads facings from the players' windows.
    """

    OBSERVER = "Vector"
    GLOBAL_OBSERVER = "MettaPoses"

    def __init__(self, game: GameDoc, num_players: int, level: str, hidden_actions: tuple[str, ...] = ()):
        """``hidden_actions``: player actions the caller steps itself (``step_hidden``) that stay out of the
        agents' action space."""
        gd, Loader = griddly_module()
        self.num_players = int(num_players)
        self.hidden_actions = frozenset(hidden_actions)
        doc = game.with_players(self.num_players, level)
        doc.doc["Environment"].setdefault("Observers", {})[self.GLOBAL_OBSERVER] = {
            "Type": "VECTOR", "IncludePlayerId": True, "IncludeRotation": True, "IncludeVariables": False}
        self._gdy = Loader().load_string(doc.to_yaml())
        self._game = self._gdy.create_game(self.GLOBAL_OBSERVER)
        self._game.load_level(0)
        self._players = [self._game.register_player(f"Player {i + 1}", self.OBSERVER)
                         for i in range(self.num_players)]
        self._game.init(False)
        self._game.reset()
        self.action_names: list[str] = list(self._gdy.get_action_names())
        self.actions = self._build_action_table()
        self._action_table = np.array([[a.type_index, a.action_id] for a in self.actions], dtype=np.int32)
        shape = self._players[0].get_observation_description()["Shape"]
        self.obs_shape = tuple(int(s) for s in shape)  # (channels, width, height)
        self.object_names: list[str] = list(self._game.get_object_names())
        self.variable_names: list[str] = list(self._game.get_object_variable_names())
        self._history = False
        self._avatar_channel = self.object_names.index(self._gdy.get_avatar_object())

    # ------------------------------------------------------------------ actions
    def _build_action_table(self) -> list[ActionEntry]:
        mappings = self._gdy.get_action_input_mappings()
        table = [ActionEntry("noop", 0, 0, "wait (free)")]
        for t, name in enumerate(self.action_names):
            m = mappings[name]
            if m["Internal"] or name in self.hidden_actions:
                continue
            for aid in sorted(m["InputMappings"], key=int):
                desc = m["InputMappings"][aid].get("Description") or f"{name} {aid}"
                table.append(ActionEntry(name, t, int(aid), desc))
        return table

    @property
    def num_actions(self) -> int:
        return len(self.actions)

    def action_index(self, name: str, action_id: int = 1) -> int:
        """Index in the flat action space of Griddly action ``name`` input ``action_id``."""
        for i, a in enumerate(self.actions):
            if a.name == name and a.action_id == action_id:
                return i
        raise KeyError(f"no action {name!r} with input {action_id}")

    # ------------------------------------------------------------------ loop
    def reset(self, level: str, seed: int) -> None:
        self._game.load_level_string(level)
        self._game.seed(int(seed))
        self._game.reset()

    def step(self, flat_actions: np.ndarray) -> tuple[np.ndarray, bool]:
        """Step every agent at once. ``flat_actions``: int array (num_players,) of flat action indices."""
        griddly_actions = self._action_table[flat_actions]
        rewards, done, _info = self._game.step_parallel(griddly_actions)
        return np.asarray(rewards, dtype=np.float32), bool(done)

    def step_hidden(self, name: str, action_ids: np.ndarray) -> None:
        """Step every player through hidden action ``name`` with its own input id."""
        t = self.action_names.index(name)
        acts = np.stack([np.full(self.num_players, t), np.asarray(action_ids)], axis=1).astype(np.int32)
        self._game.step_parallel(acts)

    def observe_into(self, out: np.ndarray) -> np.ndarray:
        """Render every player's VECTOR observation into ``out`` (num_players, C, W, H) uint8.

        Griddly renders a player's observation when ``observe()`` is called, into a
        buffer it reuses: each call is needed, and its result is copied out at once.
        """
        for i, player in enumerate(self._players):
            out[i] = np.array(player.observe(), copy=False)
        return out

    def global_observation(self) -> np.ndarray:
        """The global VECTOR view: object channels, player ids 0..N, orientations (up, right, down, left)."""
        return np.array(self._game.observe(), copy=True)

    def agent_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Every player's cell (x, y), in player order, from the global observer's player ids.

        Griddly 1.6.7's global VECTOR observer leaves a player's id (and orientation) on
        the cell it moved away from and does not redraw a cell when its agent only
        turns: ids are masked by the avatar object's channel, and orientations are not
        read from this view (see ``orientations``).
        """
        g = np.array(self._game.observe(), copy=False)
        n_obj = len(self.object_names)
        n = self.num_players
        avatar = g[self._avatar_channel].reshape(1, -1)
        players = g[n_obj + 1:n_obj + 1 + n].reshape(n, -1) * avatar
        flat = players.argmax(axis=1)
        height = g.shape[2]
        return flat // height, flat % height

    def orientations(self, player_obs: np.ndarray) -> np.ndarray:
        """Every player's facing (0 up, 1 right, 2 down, 3 left) from the centre of its own window.

        ``player_obs``: (n, C, W, H) as filled by ``observe_into``. Griddly treats an agent
        that has not turned yet (orientation NONE) as facing up, and so does this.
        """
        n_obj = len(self.object_names)
        _, w, h = self.obs_shape
        return player_obs[:, n_obj:n_obj + 4, w // 2, h // 2].argmax(axis=1)

    def state(self) -> dict:
        """Griddly's full state (objects with locations, orientations and variables)."""
        return self._game.get_state()

    def global_variable(self, name: str):
        return self._game.get_global_variable([name])[name]

    def player_counters(self, names: list[str]) -> dict[str, np.ndarray]:
        """Per-player global variables as ``{name: int array (num_players,)}`` in player order."""
        raw = self._game.get_global_variable(list(names))
        return {n: np.array([raw[n].get(p, 0) for p in range(1, self.num_players + 1)], dtype=np.int64)
                for n in names}

    def enable_history(self) -> None:
        self._game.enable_history(True)
        self._history = True

    def history(self) -> list[dict]:
        """Actions executed since the last call (Griddly's history; empty unless enabled)."""
        return self._game.get_history() if self._history else []

    @property
    def width(self) -> int:
        return self._game.get_width()

    @property
    def height(self) -> int:
        return self._game.get_height()

    def close(self) -> None:
        if getattr(self, "_game", None) is not None:
            self._game.release()
            self._game = None
