"""One reading of a game's GDY tree: what every part of the project asks of a game's rules.

``GameIndex(doc)`` walks the document once and holds:

- the variables per object, the global ``Environment.Variables`` (and which are per-player);
- the writes per variable: which commands change it (``WRITES``; ``RAISES`` only ever raise it);
- the variables each behaviour of each action mentions (so: the actions that mention a variable);
- the value-flow graph: which variable's value is written into which (``set``/``add``/``sub`` [target,
  amount]), and the names used as an ``exec`` Delay.

Names resolve one way everywhere (``variable_name``): ``src.x`` and ``dst.x`` are the variable ``x`` of the
source or destination object (or the global ``x``); ``meta.x`` is the acting input's MetaData ``x``, no
variable at all; anything else is itself. Build it once per document: ``GameDoc.index`` caches it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

WRITES = ("set", "add", "sub", "incr", "decr")  # commands whose first argument is the variable they change
RAISES = ("incr", "add")                         # writes that only ever raise their variable
AMOUNTS = ("set", "add", "sub")                  # commands [variable, amount]: the amount's value flows in
OBJECT_PREFIXES = ("src.", "dst.")
META_PREFIX = "meta."


def variable_name(ref: Any) -> str | None:
    """The variable a reference names (see the module docstring); None for a MetaData entry or a non-string."""
    if not isinstance(ref, str) or ref.startswith(META_PREFIX):
        return None
    return ref[4:] if ref.startswith(OBJECT_PREFIXES) else ref


def as_objects(value: Any) -> tuple:
    """A behaviour's ``Src.Object`` or ``Dst.Object`` (one name or a list) as a tuple."""
    return tuple(value) if isinstance(value, list) else (value,)


@dataclass(frozen=True)
class Behaviour:
    """One behaviour of one action, as the index read it."""

    action: str
    internal: bool                 # the action's InputMapping is Internal (no player takes it)
    src: tuple                     # Src.Object names
    dst: tuple                     # Dst.Object names
    mentions: frozenset[str]       # every name any string of the behaviour resolves to
    src_commands: frozenset[str]   # every command (nested ones too) in Src.Commands


class GameIndex:
    """The facts of one GDY document (see the module docstring). Read-only once built."""

    def __init__(self, doc: dict):
        env = doc.get("Environment") or {}
        self.variables: dict[str, dict] = {}   # global variable name -> its declaration, in the file's order
        for var in (env.get("Variables") or []) if isinstance(env, dict) else []:
            if isinstance(var, dict) and "Name" in var:
                self.variables.setdefault(var["Name"], var)
        self.per_player = tuple(n for n, v in self.variables.items() if v.get("PerPlayer"))
        self.object_variables: dict[str, frozenset] = {}
        for obj in doc.get("Objects") or []:
            if isinstance(obj, dict) and "Name" in obj:
                self.object_variables[obj["Name"]] = frozenset(
                    v.get("Name") for v in obj.get("Variables") or [] if isinstance(v, dict))
        actions = [a for a in doc.get("Actions") or [] if isinstance(a, dict)]
        self.actions = tuple(a.get("Name") for a in actions)
        writes: dict[str, set[str]] = {}
        feeds: dict[str, set[str]] = {}
        delays: set[str] = set()
        _walk_commands(actions, writes, feeds, delays)
        self.writes = {k: frozenset(v) for k, v in writes.items()}
        self.feeds = {k: frozenset(v) for k, v in feeds.items()}
        self.delays = frozenset(delays)
        self.behaviours = tuple(_behaviours(actions))

    # ------------------------------------------------------------------ variables
    @property
    def observed(self) -> frozenset:
        """Every object variable of every object (what Griddly's VECTOR observer sees)."""
        return frozenset().union(*self.object_variables.values())

    @property
    def written(self) -> frozenset:
        """Every variable some command writes."""
        return frozenset(self.writes)

    def vars_of(self, objects: Iterable[str]) -> frozenset:
        """The variables of the named objects together (an unknown name adds none)."""
        return frozenset().union(*(self.object_variables.get(o, frozenset()) for o in objects))

    def raised_only(self) -> tuple[str, ...]:
        """The per-player variables, in the file's order, that commands write and only ever raise."""
        return tuple(v for v in self.per_player if self.writes.get(v) and self.writes[v] <= set(RAISES))

    # ------------------------------------------------------------------ actions
    def behaviours_mentioning(self, names: Iterable[str]) -> list[Behaviour]:
        names = set(names)
        return [b for b in self.behaviours if b.mentions & names]

    def actions_mentioning(self, names: Iterable[str]) -> frozenset[str]:
        """The actions with a behaviour that mentions one of ``names``."""
        return frozenset(b.action for b in self.behaviours_mentioning(names))

    # ------------------------------------------------------------------ value flow
    def reach(self, sources: Iterable[str], targets: Iterable[str],
              through: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """For each source whose value flows into one of ``targets``, directly or through variables in
        ``through``: (the first target found, breadth first, the names sorted; the variable it went through last,
        None when direct)."""
        targets, through = set(targets), set(through)
        out: dict[str, tuple[str, str | None]] = {}
        for name in sources:
            frontier, seen = [name], {name}
            while frontier and name not in out:
                node = frontier.pop(0)
                for target in sorted(self.feeds.get(node, ())):
                    if target in targets:
                        out[name] = (target, None if node == name else node)
                        break
                    if target in through and target not in seen:
                        seen.add(target)
                        frontier.append(target)
        return out


def _walk_commands(node: Any, writes: dict, feeds: dict, delays: set) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in WRITES:
                target = variable_name(value[0] if isinstance(value, list) and value else value)
                if target is not None:
                    writes.setdefault(target, set()).add(key)
            if (key in AMOUNTS and isinstance(value, list) and len(value) == 2
                    and all(isinstance(v, str) for v in value)):
                target, amount = variable_name(value[0]), variable_name(value[1])
                if target is not None and amount is not None:
                    feeds.setdefault(amount, set()).add(target)
            if key == "exec" and isinstance(value, dict) and variable_name(value.get("Delay")) is not None:
                delays.add(variable_name(value["Delay"]))
            _walk_commands(value, writes, feeds, delays)
    elif isinstance(node, list):
        for value in node:
            _walk_commands(value, writes, feeds, delays)


def _strings(node: Any, out: set) -> None:
    if isinstance(node, str):
        name = variable_name(node)
        if name is not None:
            out.add(name)
    elif isinstance(node, dict):
        for key, value in node.items():
            _strings(key, out)
            _strings(value, out)
    elif isinstance(node, list):
        for value in node:
            _strings(value, out)


def _keys(node: Any, out: set) -> None:
    if isinstance(node, dict):
        out.update(k for k in node if isinstance(k, str))
        for value in node.values():
            _keys(value, out)
    elif isinstance(node, list):
        for value in node:
            _keys(value, out)


def _behaviours(actions: list[dict]):
    for action in actions:
        name = action.get("Name")
        if not isinstance(name, str):  # ignored like a malformed action (the schema requires a string Name)
            continue
        internal = bool((action.get("InputMapping") or {}).get("Internal", False)) \
            if isinstance(action.get("InputMapping") or {}, dict) else False
        for beh in action.get("Behaviours") or []:
            if not isinstance(beh, dict):
                continue
            src = beh.get("Src") or {}
            dst = beh.get("Dst") or {}
            src = src if isinstance(src, dict) else {}
            dst = dst if isinstance(dst, dict) else {}
            mentions: set[str] = set()
            _strings(beh, mentions)
            commands: set[str] = set()
            _keys(src.get("Commands"), commands)
            yield Behaviour(action=name, internal=internal, src=as_objects(src.get("Object")),
                            dst=as_objects(dst.get("Object")), mentions=frozenset(mentions),
                            src_commands=frozenset(commands))
