"""Parameterised rules: a game's ``Parameters:`` lists, and the ``each:`` commands written out over them.

Where a game repeats one rule for several things (an attacker takes each resource its target carries, each up to
its own capacity), the rule is written once, as an ``each:`` command over a named list of parameters:

    Parameters:
      loot:                                    # one item per resource an attacker takes
        - {variable: inventory, capacity: agent_max_inventory}
    ...
            Commands:
              - each:
                  Parameters: loot
                  Commands:
                    - add: [$variable, dst.$variable]
                    - set: [dst.$variable, 0]

The loader writes the ``Commands`` out once per item of the list, in the list's order, where the ``each:`` stood;
in them ``$name`` stands for the item's value of ``name`` (a whole ``$name`` for the value itself, a number
included; inside a longer text, such as ``dst.$variable``, for its text). ``Parameters`` is a mapping, so an
overlay that gives a list replaces it whole and with it every rule repeated over it: the resource chain takes ore
and batteries by giving ``loot`` two items; ``null`` drops a list. Griddly sees only the copies: the section and
every ``each:`` are gone from ``GameDoc.doc``.

``each:`` stands where a command does: in a ``Commands`` list of an action's behaviour, a conditional's included
(a ``Preconditions`` list cannot hold one). An ``each:`` anywhere else or inside another, one over a list the game
does not have, a ``$name`` an item lacks, a list that no ``each:`` uses and an item's value that none uses are
errors naming the file and the key, as is a list that is not a list of mappings of names to numbers or names.
Copies that add up to more than ``MAX_WRITTEN`` nodes are refused, as a game file past its limits is.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from metta.errors import ConfigError

PARAMETERS = "Parameters"  # the top-level key of a game's parameter lists
EACH = "each"              # the command written out once per item of one of them
# What the copies may add up to: a game file's own limit on nodes (metta.griddly_ext.gdy.MAX_NODES), so that a
# long list times a long rule cannot turn a small file into a huge document.
MAX_WRITTEN = 50_000
_REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def has_rules(doc: dict) -> bool:
    """Whether ``doc`` holds a ``Parameters`` section or an ``each:`` anywhere: what ``expand`` has to write out."""
    return PARAMETERS in doc or _find_each(doc) is not None


def expand(doc: dict, path: str) -> dict:
    """``doc`` without its ``Parameters``, each ``each:`` written out over its list (the module docstring). ``doc``
    itself is not changed."""
    lists = _lists(doc.get(PARAMETERS), path)
    used: dict[str, set[str]] = {}  # list name -> the item values its each: commands use
    written = [0]  # nodes written out so far, against MAX_WRITTEN
    out = {k: v for k, v in doc.items() if k != PARAMETERS}
    actions = out.get("Actions")
    if isinstance(actions, list):
        out["Actions"] = actions = copy.deepcopy(actions)
        for n, action in enumerate(actions):
            behaviours = action.get("Behaviours") if isinstance(action, dict) else None
            name = action.get("Name", n) if isinstance(action, dict) else n
            for m, behaviour in enumerate(behaviours if isinstance(behaviours, list) else []):
                for side in ("Src", "Dst"):
                    part = behaviour.get(side) if isinstance(behaviour, dict) else None
                    if isinstance(part, dict) and isinstance(part.get("Commands"), list):
                        at = f"Actions[{name}].Behaviours[{m}].{side}.Commands"
                        part["Commands"] = _commands(part["Commands"], lists, used, written, path, at)
    stray = _find_each(out)
    if stray is not None:
        raise ConfigError(f"{path}: {stray}: {EACH}: stands only where a command does, in a Commands list of an "
                          f"action's behaviour (a conditional's included), and not inside another {EACH}")
    if not isinstance(actions, list):
        return out  # nothing to use the lists: the schema check names the missing Actions
    for name, items in lists.items():
        if name not in used:
            raise ConfigError(f"{path}: {PARAMETERS}.{name}: no {EACH}: uses this list (drop it, or set it to null "
                              f"in an overlay)")
        for k, item in enumerate(items):
            unused = sorted(set(item) - used[name])
            if unused:
                uses = ", ".join(sorted(used[name])) or "none"
                raise ConfigError(f"{path}: {PARAMETERS}.{name}[{k}]: {', '.join(unused)}: no {EACH}: over "
                                  f"{name} uses it (they use {uses})")
    return out


def _lists(section: Any, path: str) -> dict[str, list[dict]]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: {PARAMETERS}: expected a mapping of list names to lists of parameters, got "
                          f"{type(section).__name__}")
    out = {}
    for name, items in section.items():
        at = f"{PARAMETERS}.{name}"
        if items is None:  # dropped by an overlay
            continue
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"{path}: {at}: a list's name must be a word (letters, digits, _)")
        if not isinstance(items, list):
            raise ConfigError(f"{path}: {at}: expected a list of mappings such as {{variable: inventory}}, got "
                              f"{type(items).__name__}")
        for k, item in enumerate(items):
            if not isinstance(item, dict) or not item:
                raise ConfigError(f"{path}: {at}[{k}]: expected a mapping of names to values, got {item!r}")
            for key, value in item.items():
                if not isinstance(key, str) or not _NAME.match(key):
                    raise ConfigError(f"{path}: {at}[{k}]: {key!r}: a parameter's name must be a word "
                                      f"(letters, digits, _)")
                if isinstance(value, bool) or not isinstance(value, (str, int)):
                    raise ConfigError(f"{path}: {at}[{k}].{key}: expected a name or an integer, got {value!r}")
        out[name] = items
    return out


def _commands(commands: list, lists: dict, used: dict, written: list, path: str, at: str) -> list:
    out = []
    for n, command in enumerate(commands):
        here = f"{at}[{n}]"
        if isinstance(command, dict) and EACH in command:
            out.extend(_each(command, lists, used, written, path, here))
            continue
        if isinstance(command, dict) and len(command) == 1:
            (op, body), = command.items()
            if isinstance(body, dict) and isinstance(body.get("Commands"), list):  # a conditional
                body = {**body, "Commands": _commands(body["Commands"], lists, used, written, path,
                                                      f"{here}.{op}.Commands")}
                command = {op: body}
        out.append(command)
    return out


def _each(command: dict, lists: dict, used: dict, written: list, path: str, at: str) -> list:
    at = f"{at}.{EACH}"
    spec = command[EACH]
    if len(command) != 1 or not isinstance(spec, dict) or set(spec) != {PARAMETERS, "Commands"}:
        raise ConfigError(f"{path}: {at}: expected a command `{EACH}: {{{PARAMETERS}: LIST, Commands: [...]}}`, "
                          f"alone in its mapping")
    name, body = spec[PARAMETERS], spec["Commands"]
    if not isinstance(name, str) or name not in lists:
        known = ", ".join(sorted(lists)) or "none"
        raise ConfigError(f"{path}: {at}.{PARAMETERS}: {name!r} is not one of the game's {PARAMETERS} lists "
                          f"(it has: {known})")
    if not isinstance(body, list):
        raise ConfigError(f"{path}: {at}.Commands: expected a list of commands, got {type(body).__name__}")
    inner = _find_each(body)
    if inner is not None:
        raise ConfigError(f"{path}: {at}.Commands{inner}: an {EACH}: cannot stand inside another {EACH}:")
    references = set(_references(body))
    used.setdefault(name, set()).update(references)
    written[0] += _size(body) * len(lists[name])
    if written[0] > MAX_WRITTEN:
        raise ConfigError(f"{path}: {at}: refused: the {EACH}: commands write out more than {MAX_WRITTEN:,} YAML "
                          f"nodes (the limit for a game file)")
    out = []
    for k, item in enumerate(lists[name]):
        missing = sorted(references - set(item))
        if missing:
            raise ConfigError(f"{path}: {at}: ${missing[0]}: {PARAMETERS}.{name}[{k}] has no {missing[0]!r} "
                              f"(it has {', '.join(item)})")
        out.extend(_substitute(copy.deepcopy(body), item))
    return out


def _size(node: Any) -> int:
    if isinstance(node, dict):
        return 1 + sum(1 + _size(v) for v in node.values())
    if isinstance(node, list):
        return 1 + sum(_size(v) for v in node)
    return 1


def _references(node: Any):
    if isinstance(node, dict):
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)
    elif isinstance(node, str):
        yield from _REFERENCE.findall(node)


def _substitute(node: Any, item: dict) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, item) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, item) for v in node]
    if isinstance(node, str):
        whole = _REFERENCE.fullmatch(node)
        if whole:
            return item[whole.group(1)]
        return _REFERENCE.sub(lambda m: str(item[m.group(1)]), node)
    return node


def _find_each(node: Any, at: str = "") -> str | None:
    """Where the first mapping with an ``each`` key is under ``node`` (a key path), or None."""
    if isinstance(node, dict):
        if EACH in node:
            return at or EACH
        for key, value in node.items():
            found = _find_each(value, f"{at}.{key}" if at else str(key))
            if found is not None:
                return found
    elif isinstance(node, list):
        for n, value in enumerate(node):
            name = value.get("Name") if isinstance(value, dict) else None
            found = _find_each(value, f"{at}[{name if isinstance(name, str) else n}]")
            if found is not None:
                return found
    return None
