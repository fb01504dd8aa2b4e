"""Validate a GDY document before Griddly sees it.

Griddly's C++ engine trusts its input: fed malformed game files it segfaults, hangs,
or silently accepts nonsense. Everything here runs first, in two passes:

1. the JSON schema Griddly ships (``griddly/resources/gdy-schema.json``), with
   ``jsonschema``;
2. semantic checks the schema cannot express: referenced objects, actions and
   variables exist; no nested conditional commands (Griddly 1.6 rejects them);
   map characters are single and unique; named values are integers in range;
   what the environment relies on is present: an avatar object with a map
   character and a player action that moves it.

Ranges: the named values the environment reads have its own (``ENV_VALUES``:
``max_steps``, ``reward_unit``; ``map_count_<object>``, the default object counts of
procedural maps, which must name a placeable object). Every other name gets Griddly's
limits: an int32, in 0..255 when it reaches an observed object variable (it is set,
added to or subtracted from one, directly or through per-player variables set from it:
Griddly's VECTOR observer sees object variables as uint8), and at least 1 when it is an
``exec`` Delay.

``validate_game`` raises one ConfigError listing every problem found, each naming
the file and the key.
"""
from __future__ import annotations

import functools
import json
import os
import re
from typing import Any, Iterable

import jsonschema

from metta.errors import ConfigError
from metta.griddly_ext.gdy import GameDoc
from metta.griddly_ext.levels import MAP_COUNT, MAX_SIDE, placeable_objects

COMMANDS = {"mov", "rot", "add", "sub", "set", "decr", "incr", "cascade", "reward", "remove", "change_to",
            "set_tile", "spawn", "exec"}
CONDITIONS = {"eq", "neq", "gt", "gte", "lt", "lte"}
SPECIAL_OBJECTS = {"_empty", "_boundary"}
SPECIAL_ARGS = {"_dest", "_dir", "_steps", "_playerId", "_x", "_y", "true", "false"}
BUILTIN_OBJECT_VARS = {"_playerId", "_x", "_y"}  # every object has these in Griddly

UINT8 = (0, 255)
INT32 = (-(2**31), 2**31 - 1)
# (min, max, why) of the named values the environment reads; other names get Griddly's limits (see above)
ENV_VALUES: dict[str, tuple[int, int, str]] = {
    "max_steps": (1, 1_000_000, "the episode length in steps"),
    "reward_unit": (1, 1_000_000, "the env pays reward points / reward_unit"),
}
MAP_COUNT_RANGE = (0, MAX_SIDE * MAX_SIDE)
_AMOUNTS = ("set", "add", "sub")  # commands [variable, amount]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.lru_cache(maxsize=1)
def griddly_schema() -> dict:
    """The GDY JSON schema shipped inside the griddly wheel, with three corrections.

    The schema that ships with griddly 1.6.7 lags its engine in three places, each
    exercised by tests/test_rules.py against the engine itself:
    - conditional commands' ``Arguments`` refer to a single argument; the engine (and
      every Griddly example) takes a pair ``[a, b]``;
    - ``reward`` and ``exec.Delay`` accept only integers; the engine also resolves
      variable names there (Metta's named values).
    """
    import copy
    import importlib.util

    spec = importlib.util.find_spec("griddly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("griddly is not installed: run devops/setup.sh")
    path = os.path.join(list(spec.submodule_search_locations)[0], "resources", "gdy-schema.json")
    with open(path) as fh:
        schema = copy.deepcopy(json.load(fh))
    beh = schema["properties"]["Actions"]["items"]["properties"]["Behaviours"]["definitions"]
    base = "#/properties/Actions/items/properties/Behaviours/definitions/"
    for cond in beh["behaviourDefinitionConditionalCommand"]["properties"].values():
        cond["properties"]["Arguments"] = {"$ref": base + "commandArgumentList"}
    int_or_name = {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.]*$"}]}
    commands = beh["behaviourDefinitionCommand"]["properties"]
    commands["reward"] = dict(int_or_name, description=commands["reward"].get("description", ""))
    commands["exec"]["properties"]["Delay"] = dict(int_or_name)
    return schema


def _fmt_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _json_keys(node: Any) -> Any:
    """``node`` with every mapping key json.dumps cannot write (a YAML date ``2020-01-01:``) as a string."""
    if isinstance(node, dict):
        return {k if isinstance(k, (str, int, float, bool)) or k is None else str(k): _json_keys(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_json_keys(v) for v in node]
    return node


def schema_errors(doc: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(griddly_schema())
    # YAML reads `1:` as an integer key; JSON (and so the schema) only has string keys.
    doc = json.loads(json.dumps(_json_keys(doc), default=str))
    problems = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        # oneOf/anyOf failures: report the most specific sub-error
        best = jsonschema.exceptions.best_match([err]) if err.context else err
        msg = best.message
        if len(msg) > 300:
            msg = msg[:300] + "..."
        where = _fmt_path(best.absolute_path)
        problems.append(f"{where}: {msg}{_hint(where, msg)}")
    return problems


def _hint(where: str, msg: str) -> str:
    """Plain words for the schema messages users meet most."""
    if re.search(r"\.(eq|neq|gt|gte|lt|lte)\.Commands\[\d+\]$", where) and \
            re.search(r"'(eq|neq|gt|gte|lt|lte)' was unexpected", msg):
        return (" (nested conditional commands are not supported by Griddly 1.6: "
                "flatten them or move the condition into Preconditions)")
    return ""


class _Checker:
    def __init__(self, game: GameDoc):
        self.game = game
        self.doc = game.doc
        self.problems: list[str] = []
        self._action: str | None = None  # the action whose behaviours are being checked

    def err(self, key: str, msg: str) -> None:
        self.problems.append(f"{key}: {msg}")

    # ---------------------------------------------------------------- helpers
    def _objects(self) -> dict[str, dict]:
        return {o["Name"]: o for o in self.doc.get("Objects", []) if isinstance(o, dict) and "Name" in o}

    def _object_vars(self, name: str) -> set[str]:
        obj = self._objects().get(name, {})
        return {v.get("Name") for v in obj.get("Variables", []) or [] if isinstance(v, dict)}

    def _globals(self) -> dict[str, Any]:
        return {v["Name"]: v for v in self.doc["Environment"].get("Variables", []) or [] if "Name" in v}

    def _value_flow(self) -> tuple[dict[str, str], set[str]]:
        """({global variable: the observed object variable it reaches, through the chain it takes}, {names used
        as an exec Delay}). A global reaches an object variable when a command sets, adds it to or subtracts it
        from one, or from a global that reaches one."""
        into: dict[str, set[str]] = {}   # amount name -> variables it is written into
        delays: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in _AMOUNTS and isinstance(value, list) and len(value) == 2 \
                            and all(isinstance(v, str) for v in value):
                        into.setdefault(value[1].split(".")[-1], set()).add(value[0].split(".")[-1])
                    if key == "exec" and isinstance(value, dict) and isinstance(value.get("Delay"), str):
                        delays.add(value["Delay"])
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.doc.get("Actions", []))
        globals_ = set(self._globals())
        observed = set().union(*(self._object_vars(o) for o in self._objects())) if self._objects() else set()
        reach: dict[str, str] = {}
        for name in globals_:
            frontier, seen = [name], {name}
            while frontier and name not in reach:
                node = frontier.pop(0)
                for target in sorted(into.get(node, ())):
                    if target in observed:
                        reach[name] = target if node == name else f"{target} (through {node})"
                        break
                    if target in globals_ and target not in seen:
                        seen.add(target)
                        frontier.append(target)
        return reach, delays

    def _value_range(self, name: str, reach: dict[str, str], delays: set[str]) -> tuple[int, int, str]:
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

    # ---------------------------------------------------------------- checks
    def check_environment(self) -> None:
        env = self.doc["Environment"]
        seen = set()
        reach, delays = self._value_flow()
        for i, var in enumerate(env.get("Variables", []) or []):
            key = f"Environment.Variables[{i}]"
            name = var.get("Name")
            if not _NAME.match(str(name)):
                self.err(key, f"variable name {name!r} must be an identifier")
            if name in seen:
                self.err(key, f"duplicate variable name {name!r}")
            seen.add(name)
            value = var.get("InitialValue", 0)
            lo, hi, why = self._value_range(str(name), reach, delays)
            if isinstance(value, bool) or not isinstance(value, int):
                self.err(f"{key} ({name})", f"InitialValue must be an integer, got {value!r}")
            elif not lo <= value <= hi:
                self.err(f"{key} ({name})", f"InitialValue {value} out of range: expected {lo} <= {name} <= {hi} "
                                            f"({why})")
            if str(name).startswith(MAP_COUNT):
                self._check_map_count(f"{key} ({name})", str(name)[len(MAP_COUNT):], bool(var.get("PerPlayer")))

        player = env.get("Player")
        if not isinstance(player, dict):
            self.err("Environment.Player", "missing: expected Count, AvatarObject and Observer")
            return
        avatar = player.get("AvatarObject")
        if avatar is None:
            self.err("Environment.Player.AvatarObject", "missing: expected the name of the agents' object")
        elif avatar not in self._objects():
            self.err("Environment.Player.AvatarObject", f"{avatar!r} is not an object in Objects")
        count = player.get("Count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            self.err("Environment.Player.Count", f"expected a positive integer, got {count!r}")
        obs = player.get("Observer")
        if not isinstance(obs, dict):
            self.err("Environment.Player.Observer", "missing: expected TrackAvatar, RotateWithAvatar, Width, Height")
        else:
            if obs.get("TrackAvatar") is not True:
                self.err("Environment.Player.Observer.TrackAvatar", "must be true (observations are egocentric)")
            for dim in ("Width", "Height"):
                v = obs.get(dim)
                if isinstance(v, bool) or not isinstance(v, int) or v < 1 or v > 63 or v % 2 == 0:
                    self.err(f"Environment.Player.Observer.{dim}", f"expected an odd integer in 1..63, got {v!r}")
            for dim in ("OffsetX", "OffsetY"):
                if obs.get(dim, 0) != 0:
                    self.err(f"Environment.Player.Observer.{dim}", "must be 0: windows are centred on the agent")
        if "Termination" in env:
            for kind, conds in (env["Termination"] or {}).items():
                for j, cond in enumerate(conds or []):
                    if isinstance(cond, dict) and "Conditions" not in cond:
                        for op, args in cond.items():
                            self._check_args(f"Environment.Termination.{kind}[{j}].{op}", args, set(), set(), None)

    def check_objects(self) -> None:
        objects = self.doc.get("Objects", [])
        names, chars = {}, {}
        actions = {a.get("Name") for a in self.doc.get("Actions", []) if isinstance(a, dict)}
        for i, obj in enumerate(objects):
            key = f"Objects[{i}]"
            name = obj.get("Name")
            if name in names:
                self.err(f"{key}.Name", f"duplicate object name {name!r} (also Objects[{names[name]}])")
            names[name] = i
            if not _NAME.match(str(name)) or str(name).startswith("_"):
                self.err(f"{key}.Name", f"object name {name!r} must be an identifier not starting with '_'")
            ch = obj.get("MapCharacter")
            if ch is not None:
                if not isinstance(ch, str) or len(ch) != 1 or ch == "." or ch.isspace() or ch.isdigit():
                    self.err(f"{key}.MapCharacter ({name})",
                             f"expected one character other than '.', a digit or whitespace, got {ch!r}")
                elif ch in chars:
                    self.err(f"{key}.MapCharacter ({name})",
                             f"{ch!r} is already the map character of {chars[ch]!r}: map characters must be unique")
                else:
                    chars[ch] = name
            seen_vars = set()
            for j, var in enumerate(obj.get("Variables", []) or []):
                vname = var.get("Name")
                if vname in seen_vars:
                    self.err(f"{key}.Variables[{j}]", f"duplicate variable {vname!r} in object {name!r}")
                seen_vars.add(vname)
                if not _NAME.match(str(vname)):
                    self.err(f"{key}.Variables[{j}]", f"variable name {vname!r} must be an identifier")
                iv = var.get("InitialValue", 0)
                if isinstance(iv, bool) or not isinstance(iv, int) or not UINT8[0] <= iv <= UINT8[1]:
                    self.err(f"{key}.Variables[{j}] ({name}.{vname})",
                             f"InitialValue must be an integer in 0..255 (observed as uint8), got {iv!r}")
            for j, ia in enumerate(obj.get("InitialActions", []) or []):
                if ia.get("Action") not in actions:
                    self.err(f"{key}.InitialActions[{j}].Action", f"unknown action {ia.get('Action')!r}")
                delay = ia.get("Delay", 0)
                if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
                    self.err(f"{key}.InitialActions[{j}].Delay",
                             f"expected a non-negative integer literal (Griddly does not resolve names here), got {delay!r}")
        avatar = (self.doc["Environment"].get("Player") or {}).get("AvatarObject")
        if avatar in names and "MapCharacter" not in objects[names[avatar]]:
            self.err(f"Objects[{names[avatar]}] ({avatar}).MapCharacter",
                     "missing: the avatar object needs one (levels write agents as <MapCharacter><player id>)")

    def _check_map_count(self, key: str, obj: str, per_player: bool) -> None:
        """``map_count_<obj>``: a global named value counting an object procedural maps can place."""
        player = self.doc["Environment"].get("Player") or {}
        chars = {o["Name"]: o["MapCharacter"] for o in self.doc.get("Objects", [])
                 if isinstance(o, dict) and "Name" in o and "MapCharacter" in o}
        placeable = placeable_objects(chars, player.get("AvatarObject"))
        if per_player:
            self.err(key, "must not be PerPlayer: it is the map's count of an object")
        if obj not in placeable:
            why = ("the avatar is placed by num_agents" if obj == player.get("AvatarObject") else
                   f"object {obj!r} has no MapCharacter" if obj in self._objects() else f"there is no object {obj!r}")
            self.err(key, f"{MAP_COUNT}<object> counts an object procedural maps place, but {why}; expected one of "
                          f"{', '.join(MAP_COUNT + p for p in placeable) or '(no placeable object)'}")

    def _check_args(self, key: str, args: Any, src_vars: set, dst_vars: set, meta: set | None,
                    own_vars: set | None = None) -> None:
        if not isinstance(args, list) or len(args) != 2:
            self.err(key, f"expected two arguments [a, b], got {args!r}")
            return
        for a in args:
            self._check_ref(key, a, src_vars, dst_vars, meta, own_vars)

    def _check_ref(self, key, a, src_vars, dst_vars, meta, own_vars) -> None:
        if isinstance(a, bool) or a is None:
            self.err(key, f"argument {a!r} is neither a number nor a variable name")
            return
        if isinstance(a, (int, float)):
            return
        if not isinstance(a, str):
            self.err(key, f"argument {a!r} is neither a number nor a variable name")
            return
        if a in SPECIAL_ARGS or re.fullmatch(r"-?\d+", a):
            return
        g = set(self._globals())
        if a.startswith(("src.", "dst.")) and a[4:] in BUILTIN_OBJECT_VARS:
            return
        if a.startswith("src."):
            if a[4:] not in src_vars and a[4:] not in g:
                self.err(key, f"{a!r}: no variable {a[4:]!r} on the source object(s)")
        elif a.startswith("dst."):
            if dst_vars is not None and a[4:] not in dst_vars and a[4:] not in g:
                self.err(key, f"{a!r}: no variable {a[4:]!r} on the destination object(s)")
        elif a.startswith("meta."):
            if meta is not None and a[5:] not in meta:
                self.err(key, f"{a!r}: no MetaData {a[5:]!r} in this action's InputMapping")
        elif a not in g and (own_vars is None or a not in own_vars):
            self.err(key, f"{a!r} is not a named value (Environment.Variables) nor a variable of the object")

    def _vars_of(self, objs: list[str]) -> set[str] | None:
        names = [o for o in objs if o not in SPECIAL_OBJECTS]
        if not names:
            return set()
        out: set[str] = set()
        for o in names:
            out |= self._object_vars(o)
        return out

    def _check_commands(self, key: str, commands: Any, own: set, other: set | None, meta: set | None,
                        actions: set, objects: set, role: str, depth: int = 0) -> None:
        if commands is None:
            return
        if not isinstance(commands, list):
            self.err(key, f"expected a list of commands, got {type(commands).__name__}")
            return
        src_vars, dst_vars = (own, other) if role == "src" else (other or set(), own)
        for k, cmd in enumerate(commands):
            ck = f"{key}[{k}]"
            if not isinstance(cmd, dict) or len(cmd) != 1:
                self.err(ck, f"expected one command as {{name: arguments}}, got {cmd!r}")
                continue
            (name, args), = cmd.items()
            if name in CONDITIONS:
                if depth > 0:
                    self.err(f"{ck}.{name}", "nested conditional commands are not supported by Griddly 1.6: "
                                             "flatten them or use Preconditions")
                    continue
                if not isinstance(args, dict) or "Arguments" not in args or not args.get("Commands"):
                    # Griddly 1.6 rejects one without Commands or with none ("Unknown or badly defined command")
                    self.err(f"{ck}.{name}", "a conditional command needs Arguments and at least one of Commands")
                    continue
                self._check_args(f"{ck}.{name}.Arguments", args["Arguments"], src_vars, dst_vars, meta, own)
                self._check_commands(f"{ck}.{name}.Commands", args.get("Commands"), own, other, meta, actions,
                                     objects, role, depth + 1)
            elif name not in COMMANDS:
                self.err(ck, f"unknown command {name!r}; expected one of {', '.join(sorted(COMMANDS | CONDITIONS))}")
            elif name in ("add", "sub", "set"):
                if not isinstance(args, list) or len(args) != 2:
                    self.err(f"{ck}.{name}", f"expected [variable, value], got {args!r}")
                    continue
                target = args[0]
                if not isinstance(target, str) or target.startswith("meta.") or target in SPECIAL_ARGS:
                    self.err(f"{ck}.{name}", f"first argument must be a variable, got {target!r}")
                else:
                    self._check_ref(f"{ck}.{name}", target, src_vars, dst_vars, meta, own)
                self._check_ref(f"{ck}.{name}", args[1], src_vars, dst_vars, meta, own)
            elif name in ("incr", "decr"):
                if not isinstance(args, str):
                    self.err(f"{ck}.{name}", f"expected a variable name, got {args!r}")
                else:
                    self._check_ref(f"{ck}.{name}", args, src_vars, dst_vars, meta, own)
            elif name in ("spawn", "change_to"):
                if args not in objects:
                    self.err(f"{ck}.{name}", f"unknown object {args!r}")
            elif name == "exec":
                if not isinstance(args, dict) or args.get("Action") not in actions:
                    self.err(f"{ck}.exec", f"unknown action {args.get('Action') if isinstance(args, dict) else args!r}")
                    continue
                delay = args.get("Delay", 0)
                if isinstance(delay, str):
                    self._check_ref(f"{ck}.exec.Delay", delay, src_vars, dst_vars, meta, own)
                elif isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
                    self.err(f"{ck}.exec.Delay", f"expected a non-negative integer or a named value, got {delay!r}")
                elif delay < 1 and args.get("Action") == self._action:
                    self.err(f"{ck}.exec.Delay", f"expected at least 1: action {self._action!r} schedules itself "
                                                 f"with delay {delay}, which crashes Griddly 1.6.7")
                if "ActionId" not in args and "Search" not in args:
                    self.err(f"{ck}.exec", "set ActionId (Griddly's default 0 is the no-op and the action never runs)")
            elif name == "reward":
                self._check_ref(f"{ck}.reward", args, src_vars, dst_vars, meta, own)

    def check_actions(self) -> None:
        actions = self.doc.get("Actions", [])
        objects = set(self._objects())
        names: dict[str, int] = {}
        for i, action in enumerate(actions):
            name = action.get("Name")
            if name in names:
                self.err(f"Actions[{i}].Name", f"duplicate action {name!r} (also Actions[{names[name]}])")
            names[name] = i
        action_names = set(names)
        for i, action in enumerate(actions):
            key = f"Actions[{i}] ({action.get('Name')})"
            self._action = action.get("Name")
            mapping = action.get("InputMapping", {}) or {}
            meta: set[str] = set()
            for inp_key, inp in (mapping.get("Inputs", {}) or {}).items():
                try:
                    ok = int(inp_key) >= 1
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    self.err(f"{key}.InputMapping.Inputs", f"input ids must be integers >= 1, got {inp_key!r}")
                if inp is not None and not isinstance(inp, dict):  # the schema leaves an input's type open
                    self.err(f"{key}.InputMapping.Inputs.{inp_key}",
                             f"expected a mapping (VectorToDest, OrientationVector, Description, MetaData), got {inp!r}")
                    continue
                for vec in ("VectorToDest", "OrientationVector"):
                    v = (inp or {}).get(vec)
                    if v is not None and (not isinstance(v, list) or len(v) != 2
                                          or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
                        self.err(f"{key}.InputMapping.Inputs.{inp_key}.{vec}", f"expected [dx, dy] integers, got {v!r}")
                meta |= set(((inp or {}).get("MetaData") or {}).keys())
            seen_pairs: dict[tuple[str, str], int] = {}
            if not action.get("Behaviours"):  # Griddly 1.6 then fails at reset with "unordered_map::at"
                self.err(f"{key}.Behaviours", "an action needs at least one behaviour")
            for j, beh in enumerate(action.get("Behaviours", []) or []):
                bkey = f"{key}.Behaviours[{j}]"
                src, dst = beh.get("Src", {}) or {}, beh.get("Dst", {}) or {}
                srcs = src.get("Object") if isinstance(src.get("Object"), list) else [src.get("Object")]
                dsts = dst.get("Object") if isinstance(dst.get("Object"), list) else [dst.get("Object")]
                for role, objs in (("Src", srcs), ("Dst", dsts)):
                    for o in objs:
                        if o not in objects and o not in SPECIAL_OBJECTS:
                            self.err(f"{bkey}.{role}.Object", f"unknown object {o!r}")
                for s in srcs:
                    for d in dsts:
                        if (s, d) in seen_pairs:
                            self.err(f"{bkey}", f"a second behaviour for {s} -> {d}: Griddly only runs the first "
                                                f"(Behaviours[{seen_pairs[(s, d)]}]); merge them")
                        seen_pairs.setdefault((s, d), j)
                src_vars = self._vars_of(srcs) or set()
                dst_vars = self._vars_of(dsts)
                for k, pre in enumerate(src.get("Preconditions", []) or []):
                    pk = f"{bkey}.Src.Preconditions[{k}]"
                    if not isinstance(pre, dict) or len(pre) != 1 or next(iter(pre)) not in CONDITIONS:
                        self.err(pk, f"expected one of {sorted(CONDITIONS)} with two arguments, got {pre!r}")
                        continue
                    (op, args), = pre.items()
                    self._check_args(f"{pk}.{op}", args, src_vars, dst_vars, meta, src_vars)
                self._check_commands(f"{bkey}.Src.Commands", src.get("Commands"), src_vars, dst_vars, meta,
                                     action_names, objects, "src")
                self._check_commands(f"{bkey}.Dst.Commands", dst.get("Commands"), dst_vars or set(), src_vars, meta,
                                     action_names, objects, "dst")
        if not any(not (a.get("InputMapping", {}) or {}).get("Internal", False) for a in actions):
            self.err("Actions", "no action a player can take (all are Internal)")
        self._check_movement(actions)

    def _check_movement(self, actions: list) -> None:
        """Some player action moves the avatar: a behaviour with the avatar as Src has a ``mov`` command."""
        avatar = (self.doc["Environment"].get("Player") or {}).get("AvatarObject")

        def moves(node: Any) -> bool:
            if isinstance(node, dict):
                return "mov" in node or any(moves(v) for v in node.values())
            return isinstance(node, list) and any(moves(v) for v in node)

        for action in actions:
            if (action.get("InputMapping", {}) or {}).get("Internal", False):
                continue
            for beh in action.get("Behaviours", []) or []:
                src = beh.get("Src", {}) or {}
                objs = src.get("Object") if isinstance(src.get("Object"), list) else [src.get("Object")]
                if avatar in objs and moves(src.get("Commands")):
                    return
        self.err("Actions", f"no action moves the avatar {avatar!r}: expected a player action (not Internal) with a "
                            f"behaviour whose Src.Object is {avatar!r} and whose Src.Commands include mov")


def validation_problems(game: GameDoc) -> list[str]:
    """Every problem found in the document, schema first; empty when valid."""
    problems = schema_errors(game.doc)
    if problems:
        return problems  # semantic checks assume the schema's shape
    checker = _Checker(game)
    checker.check_environment()
    checker.check_objects()
    checker.check_actions()
    return checker.problems


def validate_game(game: GameDoc) -> GameDoc:
    """Raise ConfigError naming the file and every problem; return the document when valid."""
    problems = validation_problems(game)
    if problems:
        shown = problems[:20]
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ConfigError(f"{game.path}: invalid game file ({len(problems)} problem"
                          f"{'s' if len(problems) != 1 else ''}):\n  " + "\n  ".join(shown) + more)
    return game
