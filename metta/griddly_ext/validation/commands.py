"""Semantic checks of command lists and their arguments: every command is one the engine knows, with the arguments
it takes, and every name it refers to exists (on the source or destination object, in the acting input's
MetaData, or as a named value). One handler per command in ``HANDLERS``; conditions nest at most once."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

CONDITIONS = {"eq", "neq", "gt", "gte", "lt", "lte"}
SPECIAL_OBJECTS = {"_empty", "_boundary"}
SPECIAL_ARGS = {"_dest", "_dir", "_steps", "_playerId", "_x", "_y", "true", "false"}
BUILTIN_OBJECT_VARS = {"_playerId", "_x", "_y"}  # every object has these in Griddly


@dataclass
class Scope:
    """What the names in one behaviour's commands may refer to."""

    src_vars: set
    dst_vars: set | None
    meta: set | None
    own: set | None
    actions: set
    objects: set


def check_args(c, key: str, args: Any, src_vars: set, dst_vars: set | None, meta: set | None,
               own_vars: set | None = None) -> None:
    """``args`` of a condition: two references."""
    if not isinstance(args, list) or len(args) != 2:
        c.err(key, f"expected two arguments [a, b], got {args!r}")
        return
    for a in args:
        check_ref(c, key, a, src_vars, dst_vars, meta, own_vars)


def check_ref(c, key, a, src_vars, dst_vars, meta, own_vars) -> None:
    """One argument: a number, a special name, or a variable that exists where its prefix says."""
    if isinstance(a, bool) or a is None:
        c.err(key, f"argument {a!r} is neither a number nor a variable name")
        return
    if isinstance(a, (int, float)):
        return
    if not isinstance(a, str):
        c.err(key, f"argument {a!r} is neither a number nor a variable name")
        return
    if a in SPECIAL_ARGS or re.fullmatch(r"-?\d+", a):
        return
    g = c.index.variables
    if a.startswith(("src.", "dst.")) and a[4:] in BUILTIN_OBJECT_VARS:
        return
    if a.startswith("src."):
        if a[4:] not in src_vars and a[4:] not in g:
            c.err(key, f"{a!r}: no variable {a[4:]!r} on the source object(s)")
    elif a.startswith("dst."):
        if dst_vars is not None and a[4:] not in dst_vars and a[4:] not in g:
            c.err(key, f"{a!r}: no variable {a[4:]!r} on the destination object(s)")
    elif a.startswith("meta."):
        if meta is not None and a[5:] not in meta:
            c.err(key, f"{a!r}: no MetaData {a[5:]!r} in this action's InputMapping")
    elif a not in g and (own_vars is None or a not in own_vars):
        c.err(key, f"{a!r} is not a named value (Environment.Variables) nor a variable of the object")


def _ref(c, key: str, a: Any, s: Scope) -> None:
    check_ref(c, key, a, s.src_vars, s.dst_vars, s.meta, s.own)


def _amount(c, ck: str, name: str, args: Any, s: Scope) -> None:  # add, sub, set: [variable, value]
    if not isinstance(args, list) or len(args) != 2:
        c.err(f"{ck}.{name}", f"expected [variable, value], got {args!r}")
        return
    target = args[0]
    if not isinstance(target, str) or target.startswith("meta.") or target in SPECIAL_ARGS:
        c.err(f"{ck}.{name}", f"first argument must be a variable, got {target!r}")
    else:
        _ref(c, f"{ck}.{name}", target, s)
    _ref(c, f"{ck}.{name}", args[1], s)


def _step(c, ck: str, name: str, args: Any, s: Scope) -> None:  # incr, decr: a variable
    if not isinstance(args, str):
        c.err(f"{ck}.{name}", f"expected a variable name, got {args!r}")
    else:
        _ref(c, f"{ck}.{name}", args, s)


def _object(c, ck: str, name: str, args: Any, s: Scope) -> None:  # spawn, change_to: an object
    if args not in s.objects:
        c.err(f"{ck}.{name}", f"unknown object {args!r}")


def _exec(c, ck: str, name: str, args: Any, s: Scope) -> None:
    if not isinstance(args, dict) or args.get("Action") not in s.actions:
        c.err(f"{ck}.exec", f"unknown action {args.get('Action') if isinstance(args, dict) else args!r}")
        return
    delay = args.get("Delay", 0)
    if isinstance(delay, str):
        _ref(c, f"{ck}.exec.Delay", delay, s)
    elif isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        c.err(f"{ck}.exec.Delay", f"expected a non-negative integer or a named value, got {delay!r}")
    elif delay < 1 and args.get("Action") == c.action:
        c.err(f"{ck}.exec.Delay", f"expected at least 1: action {c.action!r} schedules itself "
                                  f"with delay {delay}, which crashes Griddly 1.6.7")
    if "ActionId" not in args and "Search" not in args:
        c.err(f"{ck}.exec", "set ActionId (Griddly's default 0 is the no-op and the action never runs)")


def _reward(c, ck: str, name: str, args: Any, s: Scope) -> None:
    _ref(c, f"{ck}.reward", args, s)


def _unchecked(c, ck: str, name: str, args: Any, s: Scope) -> None:
    pass


# every command the engine knows, and the check of its arguments
HANDLERS: dict[str, Callable[..., None]] = {
    "mov": _unchecked, "rot": _unchecked, "cascade": _unchecked, "remove": _unchecked, "set_tile": _unchecked,
    "add": _amount, "sub": _amount, "set": _amount, "decr": _step, "incr": _step,
    "reward": _reward, "change_to": _object, "spawn": _object, "exec": _exec,
}
COMMANDS = set(HANDLERS)


def check_commands(c, key: str, commands: Any, own: set, other: set | None, meta: set | None,
                   actions: set, objects: set, role: str, depth: int = 0) -> None:
    """A behaviour's ``Src.Commands`` (``role`` "src") or ``Dst.Commands`` ("dst"); ``own`` the variables of the
    objects they run on, ``other`` those of the other side."""
    if commands is None:
        return
    if not isinstance(commands, list):
        c.err(key, f"expected a list of commands, got {type(commands).__name__}")
        return
    src_vars, dst_vars = (own, other) if role == "src" else (other or set(), own)
    scope = Scope(src_vars, dst_vars, meta, own, actions, objects)
    for k, cmd in enumerate(commands):
        ck = f"{key}[{k}]"
        if not isinstance(cmd, dict) or len(cmd) != 1:
            c.err(ck, f"expected one command as {{name: arguments}}, got {cmd!r}")
            continue
        (name, args), = cmd.items()
        if name in CONDITIONS:
            if depth > 0:
                c.err(f"{ck}.{name}", "nested conditional commands are not supported by Griddly 1.6: "
                                      "flatten them or use Preconditions")
                continue
            if not isinstance(args, dict) or "Arguments" not in args or not args.get("Commands"):
                # Griddly 1.6 rejects one without Commands or with none ("Unknown or badly defined command")
                c.err(f"{ck}.{name}", "a conditional command needs Arguments and at least one of Commands")
                continue
            check_args(c, f"{ck}.{name}.Arguments", args["Arguments"], src_vars, dst_vars, meta, own)
            check_commands(c, f"{ck}.{name}.Commands", args.get("Commands"), own, other, meta, actions,
                           objects, role, depth + 1)
        elif name not in HANDLERS:
            c.err(ck, f"unknown command {name!r}; expected one of {', '.join(sorted(COMMANDS | CONDITIONS))}")
        else:
            HANDLERS[name](c, ck, name, args, scope)
