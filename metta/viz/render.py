"""The global view as pictures: Griddly's BLOCK_2D observer with the project's own shaders.

Why a game process of its own: the engine's game renders a VECTOR global view (the
observations are cut from it), and a Griddly game has one global observer. The renderer
therefore loads the same game with a ``BLOCK_2D`` global observer and, for every frame,
loads the engine's full state (``GameProcess.load_state``) into it and renders that. It
never steps: the picture is exactly the state it is handed.

The shaders (``shaders/render_block2d/``, GLSL and the SPIR-V Griddly loads) draw each
agent in its kinship group's colour with an energy bar, a ring for a raised shield and a
block of ice while it is frozen; other objects keep their ``Block2D`` shape and colour
from the game file, dimmed while they cool down. Group membership is not a game variable:
the renderer adds ``render_group`` to the avatar object of its own copy of the game and
fills it in from the groups it is given. Rendering needs a Vulkan device; Mesa's
lavapipe (CPU) is enough, headless.

Two things Griddly 1.6.7 needs that are not obvious. Every cell gets a black
``render_floor`` object under what it holds: the global observer copies to its output only
the cells the grid marks as updated, a freshly loaded grid marks only the cells that hold
objects, and a loaded game may not clear its render target. And
the game the states are loaded from holds at least as many objects as any state loaded:
a loaded game's shader buffer of object variables keeps the size it had there, and the
shaders would read stale memory for the objects beyond it.

The committed SPIR-V is compiled with fixed flags (a test checks it is current)::

    glslc -O --target-env=vulkan1.0 -o shaders/render_block2d/triangle-textured.vert.spv \\
        shaders/render_block2d/triangle-textured.vert      (and the same for .frag)
"""
from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np

from metta.env.game_facts import GameFacts
from metta.griddly_ext.engine import griddly_module
from metta.griddly_ext.gdy import GameDoc

SHADER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "shaders", "render_block2d")
# What the shaders read of each object, in their order (index 0..5): the renderer's own render_group, then the
# game's variables for these roles (its Metta.render section, metta.env.game_facts). A game that names none gets
# NO_VARIABLE, a zero the renderer adds to the avatar: frames then show shapes and colours only.
SHADER_ROLES = ("energy", "max_energy", "shield", "frozen", "cooldown")
NO_VARIABLE = "render_none"
OBSERVER = "MettaRender"
FLOOR = "render_floor"
_FALLBACK_STYLE = {"Shape": "square", "Color": [0.6, 0.6, 0.6], "Scale": 0.8}
# The shaders' colour of kinship group g (1, 2, ...) is GROUP_COLORS[(g - 1) % 10] (RGB in 0..1), as in
# triangle-textured.frag's GROUP_COLORS (a test checks they agree): for legends and the replay viewer.
GROUP_COLORS = ((0.95, 0.35, 0.20), (0.25, 0.55, 1.00), (0.30, 0.85, 0.30), (0.95, 0.80, 0.15), (0.75, 0.40, 0.95),
                (1.00, 0.55, 0.75), (0.60, 0.40, 0.20), (0.10, 0.75, 0.65), (1.00, 0.60, 0.10), (0.55, 0.65, 0.25))
ICE_COLOR = (0.65, 0.85, 1.0)
SHIELD_COLOR = (1.0, 1.0, 1.0)


def group_color(group: int) -> tuple[float, float, float]:
    """The colour agents of kinship group ``group`` (1, 2, ...) are drawn in."""
    return GROUP_COLORS[(int(group) - 1) % len(GROUP_COLORS)]


def object_styles(game: GameDoc) -> dict[str, dict]:
    """Each object's shape, colour (RGB in 0..1) and scale in the game's ``Block2D`` observer: what frames draw."""
    out = {}
    for obj in game.doc["Objects"]:
        style = ((obj.get("Observers") or {}).get("Block2D") or [_FALLBACK_STYLE])[0]
        out[obj["Name"]] = {"shape": str(style.get("Shape", _FALLBACK_STYLE["Shape"])),
                            "color": [float(c) for c in style.get("Color", _FALLBACK_STYLE["Color"])],
                            "scale": float(style.get("Scale", _FALLBACK_STYLE["Scale"]))}
    return out


def kinship_groups(kinship: np.ndarray, threshold: float) -> np.ndarray:
    """Group number (1, 2, ...) of every agent: the connected parts of the graph ``kinship >= threshold``.

    Teams come out as teams, clans as clans (their kinship reaches the threshold, a hive's
    does not), every agent alone under selfish kinship. Numbered in order of first member.
    """
    linked = np.asarray(kinship) >= threshold
    n = len(linked)
    group = np.zeros(n, dtype=np.int64)
    count = 0
    for start in range(n):
        if group[start]:
            continue
        count += 1
        group[start] = count
        frontier = [start]
        while frontier:
            members = np.flatnonzero(linked[frontier].any(axis=0) & (group == 0))
            group[members] = count
            frontier = list(members)
    return group


class BlockRenderer:
    """Renders states of one game (``GameDoc``) for ``num_players`` players as RGB frames.

    ``tile_size`` pixels per cell: a W x H grid gives frames of ``(H * tile, W * tile, 3)``
    uint8. Call ``render(state, groups)`` with ``engine.state()`` and each agent's group
    (``kinship_groups``); ``close()`` releases the Griddly games.
    """

    # Under CPU contention Griddly 1.6.7 sometimes renders a freshly loaded game from uninitialised
    # buffers (a coloured background, other objects' variables). Such a frame shows colour on the
    # floor, which must be black: it is rendered again from a new load.
    ATTEMPTS = 20

    def __init__(self, game: GameDoc, num_players: int, tile_size: int = 16):
        if isinstance(tile_size, bool) or not isinstance(tile_size, int) or not 4 <= tile_size <= 128:
            raise ValueError(f"tile_size must be an integer in 4..128, got {tile_size!r}")
        self.game = game
        self.num_players = int(num_players)
        self.tile_size = tile_size
        self.avatar = game.avatar
        names = GameFacts.of(game).render
        self.variables = ("render_group",) + tuple(names[r] if names else NO_VARIABLE for r in SHADER_ROLES)
        self._template: Any = None  # the Griddly game states are loaded into (griddly has no types), once needed
        self._capacity = 0

    def _render_doc(self, capacity: int) -> GameDoc:
        """The game with the renderer's observer, per-object styles and the avatar's ``render_group``.

        Its level (the players, then floor) holds ``capacity`` objects; a loaded state replaces it all.
        Its variables are those of the engine's game (constants compiled in), as a loaded state holds.
        """
        doc = self.game.with_constants_compiled().doc
        chars = self.game.map_characters()
        floor = next(c for c in "_~+*#%&=" if c not in chars.values())
        width = max(16, self.num_players)
        cells = [f"{chars[self.avatar]}{i + 1}" for i in range(self.num_players)]
        cells += [floor] * (-(-max(capacity, len(cells)) // width) * width - len(cells))
        doc["Environment"]["Player"]["Count"] = self.num_players
        doc["Environment"]["Levels"] = ["\n".join(" ".join(cells[i:i + width]) for i in range(0, len(cells), width))]
        doc["Environment"].setdefault("Observers", {})[OBSERVER] = {
            "Type": "BLOCK_2D", "TileSize": self.tile_size, "BackgroundColor": [0.0, 0.0, 0.0],
            "ResourceConfig": {"ShaderPath": SHADER_DIR},
            "Shader": {"ObjectVariables": list(self.variables)},
        }
        doc["Objects"].append({"Name": FLOOR, "MapCharacter": floor, "Z": 0, "Observers": {
            OBSERVER: [{"Shape": "square", "Color": [0.0, 0.0, 0.0], "Scale": 1.0}]}})
        for obj in doc["Objects"]:
            observers = obj.get("Observers") or {}
            obj["Observers"] = observers
            if OBSERVER not in observers:
                observers[OBSERVER] = copy.deepcopy(observers.get("Block2D") or [_FALLBACK_STYLE])
            if obj["Name"] == self.avatar:
                obj.setdefault("Variables", []).append({"Name": "render_group", "InitialValue": 0})
                if NO_VARIABLE in self.variables:
                    obj["Variables"].append({"Name": NO_VARIABLE, "InitialValue": 0})
                for style in observers[OBSERVER]:
                    style["Scale"] = 1.0  # the shader sizes the body itself, leaving room for the bar and ring
        return GameDoc(doc=doc, path=self.game.path)

    def _loader_game(self, objects: int):
        """The game states are loaded from, rebuilt when a state holds more objects than it does."""
        if self._template is None or self._capacity < objects:
            self.close()
            _, Loader = griddly_module()
            self._capacity = max(objects, 2 * self._capacity)
            self._template = Loader().load_string(self._render_doc(self._capacity).to_yaml()).create_game(OBSERVER)
            self._template.load_level(0)
            self._register(self._template)
            self._template.init(False)
            self._template.reset()
        return self._template

    def _register(self, game) -> None:
        for i in range(self.num_players):
            game.register_player(f"Player {i + 1}", "None")

    def render(self, state: dict, groups: np.ndarray) -> np.ndarray:
        """One RGB frame ``(height px, width px, 3)`` of Griddly state ``state``; ``groups[i]`` colours player i+1."""
        groups = np.asarray(groups, dtype=np.int64)
        if groups.shape != (self.num_players,):
            raise ValueError(f"groups must have one entry per player ({self.num_players}), got shape {groups.shape}")
        height, width = state["Grid"]["Height"], state["Grid"]["Width"]
        objects = [{"Name": FLOOR, "Location": [x, y], "Orientation": "NONE", "PlayerId": 0, "RenderTileId": 0,
                    "Variables": {}} for y in range(height) for x in range(width)]
        empty = np.ones((height, width), dtype=bool)
        for obj in state["Objects"]:
            if obj["Name"] == self.avatar and obj.get("PlayerId", 0) >= 1:
                extra = {"render_group": int(groups[obj["PlayerId"] - 1])}
                if NO_VARIABLE in self.variables:
                    extra[NO_VARIABLE] = 0
                obj = {**obj, "Variables": {**obj["Variables"], **extra}}
            objects.append(obj)
            empty[obj["Location"][1], obj["Location"][0]] = False
        # a picture needs no pending actions: the loaded game is never stepped
        frame_state = {**state, "Objects": objects, "DelayedActions": []}
        t = self.tile_size
        for _ in range(self.ATTEMPTS):
            game = self._loader_game(len(objects)).load_state(frame_state)
            try:
                self._register(game)
                game.init(True)
                image = np.array(game.observe(), copy=False).transpose(2, 1, 0)  # (height px, width px, 3)
                cells = image.reshape(empty.shape[0], t, empty.shape[1], t, 3).max(axis=(1, 3, 4))
                if not cells[empty].any():  # every floor cell black: the frame is whole
                    return np.ascontiguousarray(image)
            finally:
                game.release()
        raise RuntimeError(f"Griddly rendered {self.ATTEMPTS} corrupt frames in a row for one state")

    def close(self) -> None:
        if self._template is not None:
            self._template.release()
            self._template = None
