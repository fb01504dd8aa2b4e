"""The range of every named value (``Environment.Variables``), and the object counts of procedural maps.

The named values the environment reads have its own ranges (``ENV_VALUES``; ``map_count_<object>`` must name a
placeable object). Every other name gets Griddly's limits: an int32, in 0..255 when its value reaches an observed
object variable (the index's value-flow graph: it is set, added to or subtracted from one, directly or through
global variables set from it), and at least 1 when it is an ``exec`` Delay.
"""
from __future__ import annotations

import re

from metta.griddly_ext.map_config import MAP_COUNT, MAX_SIDE, placeable_objects

UINT8 = (0, 255)
INT32 = (-(2**31), 2**31 - 1)
# (min, max, why) of the named values the environment reads; other names get Griddly's limits (see above)
ENV_VALUES: dict[str, tuple[int, int, str]] = {
    "max_steps": (1, 1_000_000, "the episode length in steps"),
    "reward_unit": (1, 1_000_000, "the env pays reward points / reward_unit"),
}
MAP_COUNT_RANGE = (0, MAX_SIDE * MAX_SIDE)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def observed_reach(index) -> dict[str, str]:
    """{global variable: the observed object variable it reaches, with the chain it takes}."""
    reach = index.reach(index.variables, index.observed, index.variables)
    return {name: target if via is None else f"{target} (through {via})" for name, (target, via) in reach.items()}


def value_range(name: str, reach: dict[str, str], delays) -> tuple[int, int, str]:
    """(min, max, why) for the named value ``name``."""
    if name in ENV_VALUES:
        return ENV_VALUES[name]
    if name.startswith(MAP_COUNT):
        return (*MAP_COUNT_RANGE, "an object count of procedural maps")
    lo, hi, why = INT32[0], INT32[1], ["Griddly's variables are int32"]
    if name in reach:
        lo, hi = max(lo, UINT8[0]), min(hi, UINT8[1])
        why = [f"it reaches the observed object variable {reach[name]}, which Griddly's VECTOR observer "
               f"sees as uint8"]
    if name in delays:
        lo = max(lo, 1)
        why = why[1:] if name not in reach else why
        why.append("it is an exec Delay: Griddly 1.6.7 crashes on an action that schedules itself with delay 0")
    return lo, hi, "; ".join(why)


def check_variables(c) -> None:
    """``Environment.Variables``: identifiers, each once, integer values in range; map counts name a placeable
    object."""
    seen = set()
    reach, delays = observed_reach(c.index), c.index.delays
    for i, var in enumerate(c.doc["Environment"].get("Variables", []) or []):
        key = f"Environment.Variables[{i}]"
        name = var.get("Name")
        if not NAME.match(str(name)):
            c.err(key, f"variable name {name!r} must be an identifier")
        if name in seen:
            c.err(key, f"duplicate variable name {name!r}")
        seen.add(name)
        value = var.get("InitialValue", 0)
        lo, hi, why = value_range(str(name), reach, delays)
        if isinstance(value, bool) or not isinstance(value, int):
            c.err(f"{key} ({name})", f"InitialValue must be an integer, got {value!r}")
        elif not lo <= value <= hi:
            c.err(f"{key} ({name})", f"InitialValue {value} out of range: expected {lo} <= {name} <= {hi} ({why})")
        if str(name).startswith(MAP_COUNT):
            check_map_count(c, f"{key} ({name})", str(name)[len(MAP_COUNT):], bool(var.get("PerPlayer")))


def check_map_count(c, key: str, obj: str, per_player: bool) -> None:
    """``map_count_<obj>``: a global named value counting an object procedural maps can place."""
    player = c.doc["Environment"].get("Player") or {}
    chars = {o["Name"]: o["MapCharacter"] for o in c.doc.get("Objects", [])
             if isinstance(o, dict) and "Name" in o and "MapCharacter" in o}
    placeable = placeable_objects(chars, player.get("AvatarObject"))
    if per_player:
        c.err(key, "must not be PerPlayer: it is the map's count of an object")
    if obj not in placeable:
        why = ("the avatar is placed by num_agents" if obj == player.get("AvatarObject") else
               f"object {obj!r} has no MapCharacter" if obj in c.index.object_variables
               else f"there is no object {obj!r}")
        c.err(key, f"{MAP_COUNT}<object> counts an object procedural maps place, but {why}; expected one of "
                   f"{', '.join(MAP_COUNT + p for p in placeable) or '(no placeable object)'}")
