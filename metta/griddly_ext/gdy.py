"""GDY documents: load a game file, read and override its named values, serialise it for Griddly.

A game's *named values* are the entries of ``Environment.Variables`` that are not
per-player: every cost, cooldown, reward and capacity of the game lives there, so a
rule changes by editing one number (or by an override, without editing the file).

A game file may also hold a top-level ``SECTION`` (``Metta:``): facts about the game the
platform reads and Griddly never sees. ``GameDoc`` keeps it apart from ``doc``, so nothing
serialised for Griddly (``to_yaml``) or checked against its schema contains it; overlays
inherit and merge it like any other mapping. What it may hold is the platform's business
(metta.env.game_facts), not this module's.

A game file may hold a top-level ``Parameters:`` too: lists that its ``each:`` commands repeat a rule over
(metta.griddly_ext.parameters). ``GameDoc`` writes them out: its ``doc`` holds the copies, never the section.
"""
from __future__ import annotations

import copy
import difflib
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, Event, MappingStartEvent, SequenceStartEvent
from yaml.nodes import ScalarNode, SequenceNode
from yaml.resolver import Resolver

from metta.errors import ConfigError, UsageError
from metta.griddly_ext.game_index import GameIndex, variable_name
from metta.griddly_ext.overlay import EXTENDS, resolve
from metta.griddly_ext.parameters import expand, has_rules

GAMES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "games")
DEFAULT_GAME = os.path.join(GAMES_DIR, "metta.yaml")
SECTION = "Metta"  # the top-level key of the platform's own facts about a game (see the module docstring)


@dataclass
class GameDoc:
    """A parsed GDY document and where it came from."""

    doc: dict
    path: str = "<string>"
    overrides: dict = field(default_factory=dict)
    section: Any = None  # the file's SECTION (None without one); never part of ``doc``
    _index: GameIndex | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if isinstance(self.doc, dict) and SECTION in self.doc:
            if self.section is None:
                self.section = self.doc[SECTION]
            self.doc = {k: v for k, v in self.doc.items() if k != SECTION}
        if isinstance(self.doc, dict) and has_rules(self.doc):
            self.doc = expand(self.doc, self.path)

    @property
    def index(self) -> GameIndex:
        """The one reading of this document's rules (metta.griddly_ext.game_index), built on first use."""
        if self._index is None:
            self._index = GameIndex(self.doc)
        return self._index

    def _like(self, doc: dict, overrides: dict | None = None) -> "GameDoc":
        return GameDoc(doc=doc, path=self.path, overrides=dict(self.overrides if overrides is None else overrides),
                       section=self.section)

    # ------------------------------------------------------------------ named values
    def named_values(self) -> dict[str, Any]:
        """Global, non-per-player ``Environment.Variables`` as ``{name: value}``."""
        out = {}
        for var in (self.doc.get("Environment", {}) or {}).get("Variables", []) or []:
            if isinstance(var, dict) and not var.get("PerPlayer", False) and "Name" in var:
                out[var["Name"]] = var.get("InitialValue", 0)
        return out

    def value(self, name: str) -> int:
        values = self.named_values()
        if name not in values:
            raise ConfigError(f"{self.path}: Environment.Variables has no named value {name!r}")
        return values[name]

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> "GameDoc":
        """A copy with named values replaced. Keys may be spelled ``attack_cost`` or ``attack.cost``."""
        if not overrides:
            return self
        if not isinstance(overrides, Mapping):
            raise ConfigError(f"overrides must be a mapping of named value to integer, got {type(overrides).__name__}")
        doc = copy.deepcopy(self.doc)
        known = {v["Name"]: v for v in doc["Environment"].get("Variables", []) if not v.get("PerPlayer", False)}
        applied = dict(self.overrides)
        for key, value in overrides.items():
            if not isinstance(key, str) or not key:
                raise UsageError(f"{self.path}: override key {key!r} must be a non-empty string")
            name = key.replace(".", "_")
            if name not in known:
                close = difflib.get_close_matches(name, list(known), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else f"; known names: {', '.join(sorted(known))}"
                raise UsageError(f"{self.path}: unknown override {key!r}: no named value {name!r} "
                                 f"in Environment.Variables{hint}")
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise UsageError(
                        f"{self.path}: override {key!r} must be an integer, got {value!r} ({type(value).__name__})")
            known[name]["InitialValue"] = int(value)
            applied[name] = int(value)
        return self._like(doc, applied)

    # ------------------------------------------------------------------ structure
    @property
    def avatar(self) -> str:
        return self.doc["Environment"]["Player"]["AvatarObject"]

    def objects(self) -> dict[str, dict]:
        return {o["Name"]: o for o in self.doc.get("Objects", [])}

    def map_characters(self) -> dict[str, str]:
        """Object name -> map character."""
        return {o["Name"]: o["MapCharacter"] for o in self.doc.get("Objects", []) if "MapCharacter" in o}

    def with_players(self, count: int, level: str | None = None) -> "GameDoc":
        """A copy set up for ``count`` players and (optionally) one level string."""
        doc = copy.deepcopy(self.doc)
        doc["Environment"]["Player"]["Count"] = int(count)
        if level is not None:
            doc["Environment"]["Levels"] = [level]
        return self._like(doc)

    def with_constants_compiled(self) -> "GameDoc":
        """The copy Griddly runs: every named value that no command writes is replaced by its number.

        Griddly copies each global variable into each object at reset, and its VECTOR
        observers walk all of an object's variables on every render, so constants kept as
        variables cost every step (on metta-teams the global view took 63 us with them,
        38 us without). A name that is also an object's, an action's or an object
        variable's stays a variable: there the number could land in the wrong place.
        """
        doc = copy.deepcopy(self.doc)
        index = self.index
        names = set(index.object_variables) | set(index.actions) | index.observed
        constants = {k: v for k, v in self.named_values().items() if k not in index.written and k not in names}
        env = doc["Environment"]
        env["Variables"] = [v for v in env.get("Variables", []) if v.get("Name") not in constants]
        for key in ("Actions", "Objects"):
            doc[key] = _substitute(doc.get(key, []), constants)
        if "Termination" in env:
            env["Termination"] = _substitute(env["Termination"], constants)
        return self._like(doc)

    def to_yaml(self) -> str:
        """The document as Griddly reads it (without the SECTION)."""
        return _dump(self.doc)


_REFERENCES = ("reward", "Delay")                  # keys whose scalar value may name a variable


def _dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=120)


def _substitute(node: Any, constants: dict[str, Any], reference: bool = False) -> Any:
    """``node`` with every variable reference to a name in ``constants`` replaced by its value. References are
    the strings inside lists (command and condition arguments) and the values of ``_REFERENCES`` keys."""
    if isinstance(node, dict):
        return {k: _substitute(v, constants, k in _REFERENCES) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, constants, True) for v in node]
    if reference and isinstance(node, str):
        name = variable_name(node)
        if name is not None and name in constants:
            return constants[name]
    return node


# Limits on what a game file may be, checked while the YAML is read, before anything is built from it.
# games/metta.yaml is 24 KB, 1,955 nodes, 12 levels deep, with no aliases: each limit leaves a real game a wide
# margin (40x, 25x, 5x) and refuses a hostile file (a "billion laughs" of nested aliases, a megabyte of brackets
# or scalars) within a second: composing costs about 14 us a node on a busy 2-core machine.
MAX_BYTES = 1_000_000     # size of the file
MAX_DEPTH = 64            # nesting of mappings and sequences
MAX_NODES = 50_000        # scalars, mappings and sequences, counted as if every alias were expanded
MAX_ALIASES = 500         # uses of an anchor (*name)


class _Refused(yaml.YAMLError):
    """A limit above exceeded while composing; becomes a ConfigError naming the file."""


# The event parser _BoundedLoader derives from: one of two unrelated classes, so typed Any (its methods are
# declared where they are used, in _BoundedComposer)
_Parser: Any
try:  # libyaml's event parser when the wheel has it (4x faster); composing stays in Python, where the limits are
    from yaml._yaml import CParser

    _Parser = CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.reader import Reader
    from yaml.scanner import Scanner
    from yaml.parser import Parser

    class _PyParser(Reader, Scanner, Parser):
        def __init__(self, stream):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

    _Parser = _PyParser


class _BoundedComposer(Composer):
    """PyYAML's composer, counting as it goes: refuses past MAX_DEPTH, MAX_NODES or MAX_ALIASES, a recursive
    alias and a duplicate key. The count treats an alias as a copy of what it names (its expanded size), so
    an alias bomb is refused after a few hundred nodes instead of expanding into gigabytes downstream
    (safe_load itself shares aliased nodes; json, jsonschema and Griddly's serialised text do not)."""

    peek_event: Callable[[], Event | None]  # the event parser's, which a loader combines with its composer

    def __init__(self):
        Composer.__init__(self)
        self._depth = 0
        self._nodes = 0
        self._aliases = 0
        self._sizes: dict[int, int] = {}  # id(node) -> its size with aliases expanded; set once it is complete

    def _count(self, n: int, event) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            bomb = f" ({self._aliases} aliases so far: an alias bomb?)" if self._aliases else ""
            raise _Refused(f"more than {MAX_NODES:,} YAML nodes with aliases expanded (the limit for a game file)"
                           f"{_at(event)}{bomb}")

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases (*name; the limit for a game file){_at(event)}")
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self._sizes:
                raise _Refused(f"alias *{event.anchor}{_at(event)} refers to a node that contains it "
                               f"(a recursive structure)")
            node = Composer.compose_node(self, parent, index)  # undefined aliases: PyYAML's own error
            self._count(self._sizes[id(node)], event)
            return node
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep (the limit for a game file){_at(event)}")
        self._count(1, event)
        node = Composer.compose_node(self, parent, index)
        assert node is not None  # PyYAML's compose_node always returns one (its stubs allow None)
        if isinstance(node, ScalarNode):
            size = 1
        elif isinstance(node, SequenceNode):
            self._depth -= 1
            size = 1 + sum(self._sizes[id(child)] for child in node.value)
        else:
            self._depth -= 1
            size = 1 + sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
        self._sizes[id(node)] = size
        return node

    def compose_mapping_node(self, anchor):
        node = Composer.compose_mapping_node(self, anchor)
        seen: dict[tuple[str, str], Any] = {}
        for key, _ in node.value:
            if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                ident = (key.tag, key.value)
                if ident in seen:
                    raise _Refused(f"duplicate key {key.value!r}{_at(key)} (also{_at(seen[ident])}): "
                                   f"YAML keeps only the last one; remove or rename one")
                seen[ident] = key
        return node


def _at(item, word: str = " at") -> str:
    mark = getattr(item, "start_mark", None)
    return f"{word} line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _BoundedLoader(_BoundedComposer, _Parser, SafeConstructor, Resolver):
    """yaml.SafeLoader's tags and types, composed by _BoundedComposer."""

    def __init__(self, stream):
        _Parser.__init__(self, stream)
        _BoundedComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


def _describe_yaml_error(path: str, err: yaml.YAMLError) -> str:
    if isinstance(err, _Refused):
        return f"{path}: refused: {err}"
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"{path}: not valid YAML{where}: {problem}"


def _too_big(path: str, size: str) -> ConfigError:
    return ConfigError(f"{path}: refused: {size}, more than {MAX_BYTES:,} bytes (the limit for a game file; "
                       f"a real one is a few tens of KB)")


def parse_gdy(text: str, path: str = "<string>") -> GameDoc:
    """Parse GDY text within the limits above. Raises ConfigError for YAML that exceeds them, does not parse
    or is not a mapping."""
    return GameDoc(doc=_parse_mapping(text, path), path=path)


def _parse_mapping(text: str, path: str) -> dict:
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_big(path, f"{len(text.encode('utf-8', 'surrogatepass')):,} bytes")
    loader = _BoundedLoader(text)
    try:
        doc = loader.get_single_data()
    except yaml.YAMLError as err:
        raise ConfigError(_describe_yaml_error(path, err)) from None
    finally:
        loader.dispose()
    if not isinstance(doc, dict):
        got = "an empty file" if doc is None else f"a {type(doc).__name__}"
        raise ConfigError(f"{path}: a GDY file must be a YAML mapping with Version, Environment, Actions and Objects; "
                          f"got {got}")
    return doc


def load_gdy(path: str | os.PathLike) -> GameDoc:
    """Read a GDY file from disk (no validation; see metta.griddly_ext.validation), at most MAX_BYTES of it, with
    the chain of base games it ``extends`` merged in (metta.griddly_ext.overlay)."""
    path = os.fspath(path)
    return GameDoc(doc=_resolved(path, _read_gdy(path)), path=path)


def standalone_text(path: str | os.PathLike) -> str | None:
    """The game at ``path`` as one self-contained GDY text when it ``extends`` a base (what to ship, e.g. with a
    model, where the base may not be), its SECTION included and its ``each:`` commands written out; None when the
    file stands alone already (ship it as written)."""
    path = os.fspath(path)
    doc = _read_gdy(path)
    if EXTENDS not in doc:
        return None
    whole = expand(_resolved(path, doc), path)
    return f"# {os.path.basename(path)} with the games it extends merged in\n" + _dump(whole)


def _resolved(path: str, doc: dict) -> dict:
    return resolve(doc, path, _read_gdy)


def _read_gdy(path: str) -> dict:
    """One file's mapping, as written (its SECTION and ``extends`` included)."""
    if not os.path.exists(path):
        raise ConfigError(f"{path}: game file not found")
    if os.path.isdir(path):
        raise ConfigError(f"{path}: is a directory, expected a GDY YAML file")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # never more: the path may be a huge file or /dev/zero
    except OSError as err:
        raise ConfigError(f"{path}: cannot read game file: {err.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise _too_big(path, "the file is larger")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}): is this a GDY YAML file?") from None
    return _parse_mapping(text, path)
