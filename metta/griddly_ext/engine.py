"""The engine loop over Griddly's C++ core (``griddly.gd``).

One ``GriddlyEngine`` holds one Griddly game for a fixed number of players: it steps
all agents at once with ``step_parallel``, copies every player's VECTOR observation
into one preallocated batch, and resets onto a new level string. The GDY handed to
it must already be validated (metta.griddly_ext.validation): Griddly trusts its input.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from numba import njit

from metta.griddly_ext.compiled_windows import poses as compiled_poses
from metta.griddly_ext.gdy import GameDoc
from metta.runtime.quiet import quiet_import


def griddly_module():
    """Import griddly once, without gym's deprecation banner; return ``(gd, GriddlyLoader)``."""
    if "griddly" not in sys.modules:
        import yaml

        # griddly parses its ~80 bundled games at import with PyYAML's pure-Python FullLoader: 0.8 s of every
        # process's start (each Sample Factory worker's too); libyaml's loader reads the same files in 0.26 s
        # (setattr: the module's class is swapped for the import, which its type does not allow)
        python_loader = yaml.FullLoader
        setattr(yaml, "FullLoader", getattr(yaml, "CFullLoader", python_loader))
        try:
            quiet_import("griddly")  # it imports the old gym package, which prints a banner
        finally:
            setattr(yaml, "FullLoader", python_loader)
    griddly = sys.modules["griddly"]
    return griddly.gd, griddly.GriddlyLoader


@njit(cache=True, nogil=True)
def _aims_at(aim_cells, actions, facing, cells, watched, held, before, after):  # pragma: no cover (compiled)
    for c in before:
        held[c] = True
    for c in after:
        held[c] = True
    hit = False
    for k in range(len(actions)):
        if watched[actions[k]] and held[cells[k] + aim_cells[actions[k], facing[k]]]:
            hit = True
            break
    for c in before:
        held[c] = False
    for c in after:
        held[c] = False
    return hit


@njit(cache=True, nogil=True)
def _aimed_agents(aim_cells, actions, facing, cells, occupant, out):  # pragma: no cover (compiled)
    n = len(cells)
    for i in range(n):
        occupant[cells[i]] = i
    for i in range(n):
        for r in range(len(actions)):
            out[i, r] = occupant[cells[i] + aim_cells[actions[r], facing[i]]]
    for i in range(n):
        occupant[cells[i]] = -1


@dataclass(frozen=True)
class ActionEntry:
    """One entry of the flat discrete action space."""

    name: str          # e.g. "move"
    type_index: int    # index into Griddly's action names
    action_id: int     # Griddly input id (0 = no-op)
    description: str
    vector: tuple[int, int] = (0, 0)  # VectorToDest: the cell it acts on, relative to the agent
    relative: bool = True              # the vector turns with the agent


class GriddlyEngine:
    """A Griddly game with ``num_players`` agents.

    The engine always renders a global VECTOR view with player ids, orientations and
    variables (``global_view``); ``poses`` reads every agent's cell and facing from it.
    With ``player_observers`` each player also gets Griddly's own per-player VECTOR
    observer (the game's ``Vector`` observer with the ``Player.Observer`` window),
    rendered by ``observe_into``: the reference that ``metta.griddly_ext.windows``
    reproduces from the global view. Without them players are registered with Griddly's
    ``None`` observer and a step costs Griddly only its rules.
    """

    OBSERVER = "Vector"
    GLOBAL_OBSERVER = "MettaGlobal"

    def __init__(self, game: GameDoc, num_players: int, level: str, hidden_actions: tuple[str, ...] = (),
                 player_observers: bool = True):
        """``hidden_actions``: player actions the caller steps itself (``step_hidden``) that stay out of the
        agents' action space."""
        gd, Loader = griddly_module()
        self.num_players = int(num_players)
        self.hidden_actions = frozenset(hidden_actions)
        doc = game.with_players(self.num_players, level).with_constants_compiled()
        observers = doc.doc["Environment"].setdefault("Observers", {})
        self.player_view = dict(observers.get(self.OBSERVER) or {})
        observers[self.GLOBAL_OBSERVER] = {
            "Type": "VECTOR", "IncludePlayerId": True, "IncludeRotation": True, "IncludeVariables": True}
        self._gdy = Loader().load_string(doc.to_yaml())
        self._game = self._gdy.create_game(self.GLOBAL_OBSERVER)
        self._game.load_level(0)
        self._players = [self._game.register_player(f"Player {i + 1}", self.OBSERVER if player_observers else "None")
                         for i in range(self.num_players)]
        self._game.init(False)
        self._game.reset()
        self.width, self.height = self._game.get_width(), self._game.get_height()
        self.action_names: list[str] = list(self._gdy.get_action_names())
        self.actions = self._build_action_table()
        self._action_table = np.array([[a.type_index, a.action_id] for a in self.actions], dtype=np.int32)
        # (action, facing) -> (dx, dy): VectorToDest turned from facing up to right (-dy, dx), down, left (dy, -dx)
        self._aim = np.array([[(dx, dy), (-dy, dx), (-dx, -dy), (dy, -dx)] if a.relative else [(dx, dy)] * 4
                              for a in self.actions for dx, dy in [a.vector]], dtype=np.int64)
        self._size_aim_grid()
        self.object_names: list[str] = list(self._game.get_object_names())
        self.variable_names: list[str] = list(self._game.get_object_variable_names())
        window = doc.doc["Environment"]["Player"]["Observer"]
        self.window = (int(window["Width"]), int(window["Height"]), bool(window.get("RotateWithAvatar", False)))
        n_obj = len(self.object_names)
        self._ids = slice(n_obj + 1, n_obj + 1 + self.num_players)       # player ids 1..n (0: no player)
        self._facing = slice(self._ids.stop, self._ids.stop + 4)         # up, right, down, left
        self._variables = slice(self._facing.stop, self._facing.stop + len(self.variable_names))
        self.obs_shape = (self.player_channels(), self.window[0], self.window[1])  # (channels, width, height)
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
                entry = m["InputMappings"][aid]
                desc = entry.get("Description") or f"{name} {aid}"
                table.append(ActionEntry(name, t, int(aid), desc, tuple(entry.get("VectorToDest", (0, 0))),
                                         bool(m["Relative"])))
        return table

    def padded_cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cells ``(x, y)`` as indices into a grid padded by the longest aim, so aimed cells never leave it."""
        return (y + self._aim_pad) * self._padded_width + (x + self._aim_pad)

    def aims_at(self, flat_actions: np.ndarray, facing: np.ndarray, cells: np.ndarray, before: np.ndarray,
                after: np.ndarray, watched: np.ndarray) -> bool:
        """Is any agent's action among the ``watched`` ones (bool per flat action), taken from its padded cell in
        ``cells`` with ``facing``, aimed at a padded cell of ``before`` or ``after``?"""
        return _aims_at(self._aim_cells, flat_actions, facing, cells, watched, self._held, before, after)

    def reach(self, names) -> np.ndarray:
        """Indices of the actions named ``names`` with distinct aims: together, every cell those actions can reach."""
        seen, out = set(), []
        for i, a in enumerate(self.actions):
            key = tuple(map(tuple, self._aim[i]))
            if a.name in names and key not in seen and any(key[0]):
                seen.add(key)
                out.append(i)
        return np.array(out, dtype=np.int64)

    def aimed_agents(self, actions: np.ndarray, facing: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """(agent, action) -> the index of the agent holding the cell that action, taken by that agent from its
        padded cell in ``cells`` with ``facing``, aims at; -1 where no agent does. ``cells``: every agent's cell."""
        out = np.empty((len(cells), len(actions)), dtype=np.int64)
        _aimed_agents(self._aim_cells, actions, facing, cells, self._occupant, out)
        return out

    def _size_aim_grid(self) -> None:
        self._aim_pad = pad = int(np.abs(self._aim).max())
        self._padded_width = self.width + 2 * pad
        self._aim_cells = self._aim[..., 1] * self._padded_width + self._aim[..., 0]   # (action, facing)
        self._held = np.zeros((self.height + 2 * pad) * self._padded_width, dtype=bool)
        self._occupant = np.full(len(self._held), -1, dtype=np.int64)

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
        if (self.width, self.height) != (self._game.get_width(), self._game.get_height()):
            self.width, self.height = self._game.get_width(), self._game.get_height()
            self._size_aim_grid()

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

    def player_channels(self) -> int:
        """Channels of a player's window: objects, then orientations and variables if the observer includes them."""
        v = self.player_view
        return (len(self.object_names) + (self.num_players + 1 if v.get("IncludePlayerId") else 0)
                + (4 if v.get("IncludeRotation") else 0)
                + (len(self.variable_names) if v.get("IncludeVariables") else 0))

    def window_channels(self) -> tuple[int, ...]:
        """The global view's channels that make up a player's window, in the window's order."""
        v = self.player_view
        if v.get("IncludePlayerId"):
            raise ValueError("player windows with IncludePlayerId show ids relative to the observer: "
                             "only Griddly's own per-player observers render them")
        keep = list(range(len(self.object_names)))
        if v.get("IncludeRotation"):
            keep += range(self._facing.start, self._facing.stop)
        if v.get("IncludeVariables"):
            keep += range(self._variables.start, self._variables.stop)
        return tuple(keep)

    def observe_into(self, out: np.ndarray) -> np.ndarray:
        """Render every player's VECTOR observation into ``out`` (num_players, C, W, H) uint8.

        Griddly renders a player's observation when ``observe()`` is called, into a
        buffer it reuses: each call is needed, and its result is copied out at once.
        """
        for i, player in enumerate(self._players):
            out[i] = np.array(player.observe(), copy=False)
        return out

    def global_view(self) -> np.ndarray:
        """The global VECTOR view (channels, width, height): objects, player ids 0..n, orientations
        (up, right, down, left), variables. A view of Griddly's buffer, valid until the next step."""
        return np.array(self._game.observe(), copy=False)

    def variable_channel(self, name: str) -> int:
        """The channel of the global view (``global_view``) holding object variable ``name``."""
        return self._variables.start + self.variable_names.index(name)

    def poses(self, view: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every player's cell and facing ``(x, y, orientation)`` in player order, from the global view.

        Orientation: 0 up, 1 right, 2 down, 3 left (Griddly shows an agent that has not
        turned yet, orientation NONE, as facing up).
        """
        g = self.global_view() if view is None else view
        return compiled_poses(g, self._avatar_channel, self._ids.start, self.num_players, self._facing.start)

    def state(self) -> dict:
        """Griddly's full state (objects with locations, orientations and variables)."""
        return self._game.get_state()

    def player_counters(self, names: list[str]) -> dict[str, np.ndarray]:
        """Per-player global variables as ``{name: int array (num_players,)}`` in player order."""
        raw = self._game.get_global_variable(list(names))
        out = {}
        for name in names:
            by_player = raw[name]  # {player id: value}, player 0 being the variable's global copy
            ids = np.fromiter(by_player.keys(), dtype=np.int64, count=len(by_player))
            values = np.zeros(self.num_players + 1, dtype=np.int64)
            values[ids] = np.fromiter(by_player.values(), dtype=np.int64, count=len(by_player))
            out[name] = values[1:]
        return out

    def close(self) -> None:
        if getattr(self, "_game", None) is not None:
            self._game.release()
            self._game = None
