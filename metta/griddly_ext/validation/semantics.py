"""The second pass: what the schema cannot express. Referenced objects, actions and variables exist; no nested
conditional commands (Griddly 1.6 rejects them); map characters are single and unique; what the environment
relies on is present: an avatar object with a map character and a player action that moves it. Named values and
their ranges: metta.griddly_ext.validation.ranges; commands: metta.griddly_ext.validation.commands."""
from __future__ import annotations

from typing import Any

from metta.griddly_ext.gdy import GameDoc
from metta.griddly_ext.validation.commands import CONDITIONS, SPECIAL_OBJECTS, check_args, check_commands
from metta.griddly_ext.validation.ranges import NAME as _NAME, UINT8, check_variables


class Checker:
    """Collects the problems of one document (``problems``), each ``key: message``."""

    def __init__(self, game: GameDoc):
        self.game = game
        self.doc = game.doc
        self.index = game.index
        self.problems: list[str] = []
        self.action: str | None = None  # the action whose behaviours are being checked

    def err(self, key: str, msg: str) -> None:
        self.problems.append(f"{key}: {msg}")

    def _vars_of(self, objs: list[str]) -> set[str] | None:
        names = [o for o in objs if o not in SPECIAL_OBJECTS]
        if not names:
            return set()
        return set(self.index.vars_of(names))

    def check_environment(self) -> None:
        env = self.doc["Environment"]
        check_variables(self)

        player = env.get("Player")
        if not isinstance(player, dict):
            self.err("Environment.Player", "missing: expected Count, AvatarObject and Observer")
            return
        avatar = player.get("AvatarObject")
        if avatar is None:
            self.err("Environment.Player.AvatarObject", "missing: expected the name of the agents' object")
        elif avatar not in self.index.object_variables:
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
                            check_args(self, f"Environment.Termination.{kind}[{j}].{op}", args, set(), set(), None)

    def check_objects(self) -> None:
        objects = self.doc.get("Objects", [])
        names: dict[str, int] = {}  # object name -> its index in Objects
        chars: dict[str, str] = {}  # map character -> its object's name
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
                             f"expected a non-negative integer literal (Griddly does not resolve names here), "
                             f"got {delay!r}")
        avatar = (self.doc["Environment"].get("Player") or {}).get("AvatarObject")
        if avatar in names and "MapCharacter" not in objects[names[avatar]]:
            self.err(f"Objects[{names[avatar]}] ({avatar}).MapCharacter",
                     "missing: the avatar object needs one (levels write agents as <MapCharacter><player id>)")

    def check_actions(self) -> None:
        actions = self.doc.get("Actions", [])
        objects = set(self.index.object_variables)
        names: dict[str, int] = {}
        for i, action in enumerate(actions):
            name = action.get("Name")
            if name in names:
                self.err(f"Actions[{i}].Name", f"duplicate action {name!r} (also Actions[{names[name]}])")
            names[name] = i
        action_names = set(names)
        for i, action in enumerate(actions):
            key = f"Actions[{i}] ({action.get('Name')})"
            self.action = action.get("Name")
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
                             f"expected a mapping (VectorToDest, OrientationVector, Description, MetaData), "
                             f"got {inp!r}")
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
                src_obj, dst_obj = src.get("Object"), dst.get("Object")
                srcs: list[Any] = src_obj if isinstance(src_obj, list) else [src_obj]  # names, as the YAML has them
                dsts: list[Any] = dst_obj if isinstance(dst_obj, list) else [dst_obj]
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
                    check_args(self, f"{pk}.{op}", args, src_vars, dst_vars, meta, src_vars)
                check_commands(self, f"{bkey}.Src.Commands", src.get("Commands"), src_vars, dst_vars, meta,
                                     action_names, objects, "src")
                check_commands(self, f"{bkey}.Dst.Commands", dst.get("Commands"), dst_vars or set(), src_vars, meta,
                                     action_names, objects, "dst")
        if not any(not (a.get("InputMapping", {}) or {}).get("Internal", False) for a in actions):
            self.err("Actions", "no action a player can take (all are Internal)")
        self._check_movement()

    def _check_movement(self) -> None:
        """Some player action moves the avatar: a behaviour with the avatar as Src has a ``mov`` command."""
        avatar = (self.doc["Environment"].get("Player") or {}).get("AvatarObject")
        for b in self.index.behaviours:
            if not b.internal and avatar in b.src and "mov" in b.src_commands:
                return
        self.err("Actions", f"no action moves the avatar {avatar!r}: expected a player action (not Internal) with a "
                            f"behaviour whose Src.Object is {avatar!r} and whose Src.Commands include mov")
