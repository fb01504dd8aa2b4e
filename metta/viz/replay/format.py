"""The replay file: one episode, every step, in a versioned, validated format (docs/replay.md).

A replay is gzip-compressed JSON (``*.replay.json.gz``). The world is stored as the first
state and, for every step, what changed in it: objects are rows
``[id, type, x, y, orientation, player, render_tile, *values]`` (``type`` and ``orientation``
index ``object_types`` and ``ORIENTATIONS``; ``values`` follow ``object_variables[type]``),
an id naming one object for as long as it lives. A step's delta holds the rows that are new
or changed (``set``), the ids that are gone (``remove``), the per-player game variables that
changed (``globals``: ``{name: [[index, value], ...]}``) and the engine's tick. Beside the
world: every step's actions, shared and raw rewards (``T x N``), the episode's kinship matrix
and groups, attacks and gifts with their target and whether it was kin (``events``), bonds
(``bonds``), and the env's social metrics of the episode (``metrics``).

``read_replay`` checks the file against ``SCHEMA`` and the arrays against each other, and
raises ConfigError naming the file and what was expected; ``Replay.state(t)`` rebuilds the
state after step ``t`` in the shape of ``MettaEnv.state()`` (Griddly's ``get_state``) without
``Hash`` and ``DelayedActions`` (the engine's queue of scheduled internal actions, by object index).
"""
from __future__ import annotations

import gzip
import json
import zlib

import jsonschema

from metta.errors import ConfigError
from metta.runtime.files import atomic_path

FORMAT = "metta-replay"
VERSION = 1
ORIENTATIONS = ("NONE", "UP", "RIGHT", "DOWN", "LEFT")
ROW_FIELDS = 7  # id, type, x, y, orientation, player, render_tile; then the type's variables

_int = {"type": "integer"}
_ints = {"type": "array", "items": _int}
_num = {"type": "number"}
_matrix = {"type": "array", "items": {"type": "array", "items": _num}}
_rows = {"type": "array", "items": {"type": "array", "minItems": ROW_FIELDS, "items": _int}}
_globals = {"type": "object", "additionalProperties": {"type": "array", "items": _int}}
_changes = {"type": "object", "additionalProperties": {"type": "array", "items": {
    "type": "array", "minItems": 2, "maxItems": 2, "items": _int}}}

SCHEMA = {
    "type": "object",
    "required": ["format", "version", "env", "game", "seed", "num_agents", "agents", "width", "height", "steps",
                 "max_steps", "avatar", "object_types", "object_variables", "styles", "action_names", "window",
                 "kinship", "kin_threshold", "groups", "group_colors", "bodies", "initial", "deltas", "actions",
                 "rewards", "raw_rewards", "events", "bonds", "metrics"],
    "properties": {
        "format": {"const": FORMAT}, "version": _int,
        "env": {"type": "string"}, "game": {"type": "string"}, "policy": {"type": ["string", "null"]},
        "seed": {"type": ["integer", "null"]},
        "num_agents": {"type": "integer", "minimum": 1}, "agents": {"type": "array", "items": {"type": "string"}},
        "width": {"type": "integer", "minimum": 1}, "height": {"type": "integer", "minimum": 1},
        "steps": {"type": "integer", "minimum": 0}, "max_steps": {"type": "integer", "minimum": 1},
        "avatar": {"type": "string"},
        "object_types": {"type": "array", "items": {"type": "string"}},
        "object_variables": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "styles": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["shape", "color"],
            "properties": {"shape": {"type": "string"}, "color": {"type": "array", "items": _num}}}},
        "action_names": {"type": "array", "items": {"type": "string"}},
        "window": {"type": "array", "minItems": 3, "maxItems": 3},
        "kinship": _matrix, "kin_threshold": _num, "groups": _ints, "group_colors": _matrix,
        "bodies": {"type": "object", "required": ["ids", "names"],
                   "properties": {"ids": _ints, "names": {"type": "array", "items": {"type": "string"}}}},
        "initial": {"type": "object", "required": ["objects", "globals", "ticks"],
                    "properties": {"objects": _rows, "globals": _globals, "ticks": _int}},
        "deltas": {"type": "array", "items": {
            "type": "object", "required": ["set", "remove", "globals", "ticks"],
            "properties": {"set": _rows, "remove": _ints, "globals": _changes, "ticks": _int}}},
        "actions": {"type": "array", "items": _ints},
        "rewards": _matrix, "raw_rewards": _matrix,
        "events": {"type": "array", "items": {"type": "array", "minItems": 5, "maxItems": 5}},
        "bonds": {"type": "array", "items": {"type": "array", "minItems": 3, "maxItems": 3, "items": _int}},
        "metrics": {"type": ["array", "null"], "items": {"type": "object"}},
    },
}


def write_replay(path: str, replay: dict) -> None:
    """Write ``replay`` (checked against the format first) to ``path``, gzip'd JSON, atomically."""
    check(replay, path)
    data = json.dumps(replay, separators=(",", ":"), allow_nan=False).encode("utf-8")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=9, mtime=0) as gz:
            gz.write(data)


def read_replay(path: str) -> "Replay":
    """The replay in ``path``; ConfigError naming the file when it is missing, corrupt or of another version."""
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such replay file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a replay file") from None
    except (OSError, EOFError, zlib.error) as err:
        raise ConfigError(f"{path}: not a replay file: expected gzip-compressed JSON ({FORMAT} version {VERSION}), "
                          f"the file is not complete gzip data ({err})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ConfigError(f"{path}: not a replay file: the gzip data is not JSON ({err})") from None
    check(data, path)
    return Replay(data)


def check(data, path: str) -> None:
    """ConfigError naming ``path`` unless ``data`` is a replay of this version whose arrays agree."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a replay file: expected a JSON object with \"format\": \"{FORMAT}\"")
    if data.get("version") != VERSION:
        raise ConfigError(f"{path}: replay format version {data.get('version')!r}; this metta reads version "
                          f"{VERSION} (re-record the episode with this version's evaluate)")
    try:
        jsonschema.validate(data, SCHEMA)
    except jsonschema.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ConfigError(f"{path}: corrupt replay at {where}: {err.message}") from None
    n, t = data["num_agents"], data["steps"]
    lengths = {"agents": (data["agents"], n), "groups": (data["groups"], n), "kinship": (data["kinship"], n),
               "bodies/ids": (data["bodies"]["ids"], n), "deltas": (data["deltas"], t),
               "actions": (data["actions"], t), "rewards": (data["rewards"], t),
               "raw_rewards": (data["raw_rewards"], t)}
    for key, (value, want) in lengths.items():
        if len(value) != want:
            raise ConfigError(f"{path}: corrupt replay: {key} has {len(value)} entries, expected {want}")
    for key in ("kinship", "actions", "rewards", "raw_rewards"):
        bad = next((k for k, row in enumerate(data[key]) if len(row) != n), None)
        if bad is not None:
            raise ConfigError(f"{path}: corrupt replay: {key}[{bad}] has {len(data[key][bad])} entries, expected {n}")
    types = data["object_types"]
    for where, rows in [("initial", data["initial"]["objects"])] + [
            (f"deltas/{k}", d["set"]) for k, d in enumerate(data["deltas"])]:
        for row in rows:
            if not 0 <= row[1] < len(types) or not 0 <= row[4] < len(ORIENTATIONS):
                raise ConfigError(f"{path}: corrupt replay: {where}: object row {row[:ROW_FIELDS]} names no known "
                                  f"type or orientation")
            names = data["object_variables"].get(types[row[1]])
            if names is None or len(row) != ROW_FIELDS + len(names):
                raise ConfigError(f"{path}: corrupt replay: {where}: object row {row[:ROW_FIELDS]} does not hold "
                                  f"the variables of {types[row[1]]!r}")


class Replay:
    """A read replay: the file's fields as ``data``, and the world at any step."""

    def __init__(self, data: dict):
        self.data = data
        self.steps = data["steps"]
        # (step, objects by id, globals), (-1, None, None) before the first: states are rebuilt forward from it
        self._cursor: tuple[int, dict[int, list] | None, dict[str, list] | None] = (-1, None, None)

    def __getitem__(self, key: str):
        return self.data[key]

    def rows(self, t: int) -> tuple[dict[int, list], dict[str, list]]:
        """Object rows by id and the per-player variables after step ``t`` (0: the reset state)."""
        if not 0 <= t <= self.steps:
            raise IndexError(f"step {t} is outside 0..{self.steps}")
        step, objects, globals_ = self._cursor
        if step < 0 or t < step or objects is None or globals_ is None:
            init = self.data["initial"]
            step, objects = 0, {row[0]: row for row in init["objects"]}
            globals_ = {k: list(v) for k, v in init["globals"].items()}
        else:
            objects, globals_ = dict(objects), {k: list(v) for k, v in globals_.items()}
        for delta in self.data["deltas"][step:t]:
            for i in delta["remove"]:
                del objects[i]
            for row in delta["set"]:
                objects[row[0]] = row
            for name, changes in delta["globals"].items():
                for index, value in changes:
                    globals_[name][index] = value
        self._cursor = (t, objects, globals_)
        return objects, globals_

    def ticks(self, t: int) -> int:
        return self.data["initial"]["ticks"] if t == 0 else self.data["deltas"][t - 1]["ticks"]

    def state(self, t: int) -> dict:
        """The state after step ``t`` as ``MettaEnv.state()`` gives it, less ``Hash`` and ``DelayedActions``.
        Objects come in id order (Griddly's own order is its own)."""
        objects, globals_ = self.rows(t)
        types, variables = self.data["object_types"], self.data["object_variables"]
        out = []
        for i in sorted(objects):
            row = objects[i]
            name = types[row[1]]
            out.append({"Name": name, "Location": [row[2], row[3]], "Orientation": ORIENTATIONS[row[4]],
                        "PlayerId": row[5], "RenderTileId": row[6],
                        "Variables": dict(zip(variables[name], row[ROW_FIELDS:]))})
        return {"GameTicks": self.ticks(t), "PlayerCount": self.data["num_agents"],
                "Grid": {"Width": self.data["width"], "Height": self.data["height"]},
                "Objects": out, "GlobalVariables": {k: list(v) for k, v in globals_.items()}}
