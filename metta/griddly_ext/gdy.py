"""GDY documents: load a game file, read and override its named values, serialise it for Griddly.

A game's *named values* are the entries of ``Environment.Variables`` that are not
per-player: every cost, cooldown, reward and capacity of the game lives there, so a
rule changes by editing one number (or by an override, without editing the file).
"""
from __future__ import annotations

import copy
import difflib
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

from metta.errors import ConfigError
from metta.name_values import parse_name_values

GAMES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "games")
DEFAULT_GAME = os.path.join(GAMES_DIR, "metta.yaml")


def parse_overrides(items, flag: str = "--override") -> dict[str, int]:
    """``["attack.cost=20", ...]`` (command-line overrides of named values) as ``{"attack.cost": 20, ...}``."""
    return parse_name_values(items, int, flag, "NAME=INTEGER", "attack.cost=20")


@dataclass
class GameDoc:
    """A parsed GDY document and where it came from."""

    doc: dict
    path: str = "<string>"
    overrides: dict = field(default_factory=dict)

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
                raise ConfigError(f"{self.path}: override key {key!r} must be a non-empty string")
            name = key.replace(".", "_")
            if name not in known:
                close = difflib.get_close_matches(name, list(known), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else f"; known names: {', '.join(sorted(known))}"
                raise ConfigError(f"{self.path}: unknown override {key!r}: no named value {name!r} in Environment.Variables{hint}")
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ConfigError(
                        f"{self.path}: override {key!r} must be an integer, got {value!r} ({type(value).__name__})")
            known[name]["InitialValue"] = int(value)
            applied[name] = int(value)
        return GameDoc(doc=doc, path=self.path, overrides=applied)

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
        return GameDoc(doc=doc, path=self.path, overrides=dict(self.overrides))

    def with_constants_compiled(self) -> "GameDoc":
        """The copy Griddly runs: every named value that no command writes is replaced by its number.

        Griddly copies each global variable into each object at reset, and its VECTOR
        observers walk all of an object's variables on every render, so constants kept as
        variables cost every step (on metta-teams the global view took 63 us with them,
        38 us without). A name that is also an object's, an action's or an object
        variable's stays a variable: there the number could land in the wrong place.
        """
        doc = copy.deepcopy(self.doc)
        written: set[str] = set()
        _collect_written(doc.get("Actions", []), written)
        _collect_written(doc.get("Objects", []), written)
        names = {o.get("Name") for o in doc.get("Objects", [])} | {a.get("Name") for a in doc.get("Actions", [])}
        for obj in doc.get("Objects", []):
            names |= {v.get("Name") for v in obj.get("Variables", []) or []}
        constants = {k: v for k, v in self.named_values().items() if k not in written and k not in names}
        env = doc["Environment"]
        env["Variables"] = [v for v in env.get("Variables", []) if v.get("Name") not in constants]
        for key in ("Actions", "Objects"):
            doc[key] = _substitute(doc.get(key, []), constants)
        if "Termination" in env:
            env["Termination"] = _substitute(env["Termination"], constants)
        return GameDoc(doc=doc, path=self.path, overrides=dict(self.overrides))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.doc, sort_keys=False, default_flow_style=None, width=120)


_WRITES = ("set", "add", "sub", "incr", "decr")   # commands whose first argument is the variable they change
_REFERENCES = ("reward", "Delay")                  # keys whose scalar value may name a variable


def _bare(ref: str) -> str:
    return ref[4:] if ref.startswith(("src.", "dst.")) else ref


def _collect_written(node: Any, out: set[str]) -> None:
    """Add to ``out`` every variable a command in ``node`` writes."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _WRITES:
                target = value[0] if isinstance(value, list) and value else value
                if isinstance(target, str):
                    out.add(_bare(target))
            _collect_written(value, out)
    elif isinstance(node, list):
        for value in node:
            _collect_written(value, out)


def _substitute(node: Any, constants: dict[str, Any], reference: bool = False) -> Any:
    """``node`` with every variable reference to a name in ``constants`` replaced by its value. References are
    the strings inside lists (command and condition arguments) and the values of ``_REFERENCES`` keys."""
    if isinstance(node, dict):
        return {k: _substitute(v, constants, k in _REFERENCES) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, constants, True) for v in node]
    if reference and isinstance(node, str) and _bare(node) in constants:
        return constants[_bare(node)]
    return node


def _describe_yaml_error(path: str, err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"{path}: not valid YAML{where}: {problem}"


def parse_gdy(text: str, path: str = "<string>") -> GameDoc:
    """Parse GDY text. Raises ConfigError for YAML that does not parse or is not a mapping."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(_describe_yaml_error(path, err)) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a GDY file must be a YAML mapping with Version, Environment, Actions and Objects; "
                          f"got {type(doc).__name__}")
    return GameDoc(doc=doc, path=path)


def load_gdy(path: str | os.PathLike) -> GameDoc:
    """Read a GDY file from disk (no validation; see metta.griddly_ext.validation)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError(f"{path}: game file not found")
    if os.path.isdir(path):
        raise ConfigError(f"{path}: is a directory, expected a GDY YAML file")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read game file: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}): is this a GDY YAML file?") from None
    return parse_gdy(text, path)
