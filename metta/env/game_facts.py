"""Per-game facts in the game file: its top-level ``Metta:`` section, read and checked strictly.

The section says what the platform's code needs to know of a game's vocabulary (docs/games.md has the
reference). Every part is optional; a game without one gets the behaviour below, never a guess:

- ``bodies``: the named values energy profiles scale and the agent variables that take each agent's own numbers
  (metta.society.bodies). Without it, the game takes no bodies (asking for some is an error).
- ``metrics``: ``headline``, the per-player counter reported first (the learning bench's bar, the video's
  per-group tally), and ``economy``, the counter of the economy's first step (the bench's second bar). Without
  them the video shows no tally and the learning bench refuses the game.
- ``oracle``: the objects, variables, actions and named values the scripted agents (metta.scripted: the oracle
  and the dilemma check's populations) plan with. Without it they do not apply to the game (asking for them is an
  error).
- ``render``: the variables frames draw as the energy bar, shield ring, ice and dimming (metta.viz.render).
  Without it frames draw every object by its shape and colour only.
- ``actionable``: per directed counter (``attacks``, ``gifts``: metta.society.metrics), what makes a chance (an
  agent in reach) one the actor could take: ``actor`` and ``target``, each a list of conditions on that agent's
  own variables at the step's start, all of which must hold (an absent or empty list: any agent). A condition is
  data, never code: the text ``VARIABLE OP VALUE``, with VARIABLE a variable of the avatar, OP one of ``==``,
  ``!=``, ``<``, ``<=``, ``>``, ``>=`` and VALUE an integer or a named value that no rule writes, e.g.
  ``energy >= attack_cost``. Without it (or for a counter it leaves out, or sets to ``null``) no actionable
  chances are counted.

Griddly never sees the section (metta.griddly_ext.gdy keeps it apart); overlays inherit it through ``extends``
and may change any part, or drop one with ``null``. An unknown key, or a name the game does not have, is a
ConfigError naming the file and the key.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NoReturn

from metta.errors import ConfigError
from metta.griddly_ext.gdy import SECTION, GameDoc
from metta.society.bodies import BodyVariables
from metta.society.metrics import DIRECTED, OPS

# what each key of the oracle's groups must name in the game
ORACLE = {
    "objects": ("altar", "charger", "generator"),
    # stock: the generator's; cooldown: the stations' (generator, charger, altar; one of them at least)
    "variables": ("energy", "frozen", "shield", "inventory", "stock", "cooldown"),
    "actions": ("move", "rotate", "use", "attack", "shield", "gift"),
    "values": ("altar_cost", "max_inventory", "gift_amount", "gift_cost", "charger_energy", "attack_cost",
               "move_cost", "rotate_cost", "use_cost"),
}
RENDER = ("energy", "max_energy", "shield", "frozen", "cooldown")
METRICS = ("headline", "economy")
KEYS = ("bodies", "metrics", "oracle", "render", "actionable")
ROLES = ("actor", "target")
# one condition: a variable, a comparison, an integer or a named value (data, never evaluated as code)
CONDITION = re.compile(r"^\s*([A-Za-z_]\w*)\s*(==|!=|<=|>=|<|>)\s*(-?\d+|[A-Za-z_]\w*)\s*$")


@dataclass(frozen=True)
class Condition:
    """``variable op value`` on one agent's own variable; ``value`` resolved to an integer (``text``: as written)."""

    variable: str
    op: str       # one of metta.society.metrics.OPS
    value: int
    text: str


@dataclass(frozen=True)
class GameFacts:
    bodies: BodyVariables | None = None
    headline: str | None = None
    economy: str | None = None
    oracle: dict | None = None    # group -> {role: the game's name}
    render: dict | None = None    # role -> variable
    actionable: dict | None = None  # directed counter -> {"actor": (Condition, ...), "target": (Condition, ...)}

    @classmethod
    def of(cls, game: GameDoc) -> "GameFacts":
        """The facts of ``game``'s section (all None without one); ConfigError for a bad section."""
        return _Reader(game).facts()


class _Reader:
    def __init__(self, game: GameDoc):
        self.game = game
        self.index = game.index
        self.named = game.named_values()

    def fail(self, key: str, msg: str) -> NoReturn:
        raise ConfigError(f"{self.game.path}: {SECTION}.{key}: {msg}")

    def mapping(self, key: str, value: Any, known: tuple, required: bool = False) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping of {', '.join(known)}, got {value!r}")
        for k in value:
            if k not in known:
                self.fail(f"{key}.{k}", f"unknown key; expected one of {', '.join(known)}")
        missing = [k for k in known if k not in value]
        if required and missing:
            self.fail(key, f"missing {', '.join(missing)}")
        return value

    def name(self, key: str, value: Any, kind: str, names) -> str:
        if not isinstance(value, str) or value not in names:
            self.fail(key, f"{value!r} is not {kind} of the game")
        return value

    def value(self, key: str, v: Any) -> str:
        return self.name(key, v, "a named value (Environment.Variables, not PerPlayer)", self.named)

    def agent_var(self, key: str, v: Any) -> str:
        names = set(self.index.object_variables.get(self.game.avatar, ())) | set(self.index.variables)
        return self.name(key, v, f"a variable of {self.game.avatar!r} or a global variable", names)

    def facts(self) -> GameFacts:
        section = self.game.section
        if section is None:
            return GameFacts()
        if not isinstance(section, dict):
            raise ConfigError(f"{self.game.path}: {SECTION}: expected a mapping of {', '.join(KEYS)}, got {section!r}")
        for k in section:
            if k not in KEYS:
                self.fail(str(k), f"unknown key; expected one of {', '.join(KEYS)}")
        out: dict[str, Any] = {}
        if section.get("bodies") is not None:
            out["bodies"] = self.bodies(section["bodies"])
        if section.get("metrics") is not None:
            metrics = self.mapping("metrics", section["metrics"], METRICS)
            for k, v in metrics.items():
                out[k] = self.name(f"metrics.{k}", v, "a per-player variable (a counter)", self.index.per_player)
        if section.get("oracle") is not None:
            out["oracle"] = self.oracle(section["oracle"])
        if section.get("render") is not None:
            render = self.mapping("render", section["render"], RENDER, required=True)
            out["render"] = {k: self.name(f"render.{k}", v, "an object variable", self.index.observed)
                             for k, v in render.items()}
        if section.get("actionable") is not None:
            out["actionable"] = self.actionable(section["actionable"])
        return GameFacts(**out)

    def bodies(self, spec: Any) -> BodyVariables:
        spec = self.mapping("bodies", spec, ("costs", "max_energy", "regen", "energy", "profile"), required=True)
        costs = spec["costs"]
        if not isinstance(costs, dict) or not costs:
            self.fail("bodies.costs", f"expected a mapping of named value to the agent's own copy, got {costs!r}")
        costs = {self.value(f"bodies.costs.{k}", k): self.agent_var(f"bodies.costs.{k}", v) for k, v in costs.items()}
        pairs = {}
        for k in ("max_energy", "regen"):
            pair = self.mapping(f"bodies.{k}", spec[k], ("value", "variable"), required=True)
            pairs[k] = (self.value(f"bodies.{k}.value", pair["value"]),
                        self.agent_var(f"bodies.{k}.variable", pair["variable"]))
        return BodyVariables(costs=costs, max_energy=pairs["max_energy"], regen=pairs["regen"],
                             energy=self.agent_var("bodies.energy", spec["energy"]),
                             profile=self.agent_var("bodies.profile", spec["profile"]))

    def oracle(self, spec: Any) -> dict:
        spec = self.mapping("oracle", spec, tuple(ORACLE), required=True)
        groups = {g: self.mapping(f"oracle.{g}", spec[g], roles, required=True) for g, roles in ORACLE.items()}
        objects = {k: self.name(f"oracle.objects.{k}", v, "an object", self.index.object_variables)
                   for k, v in groups["objects"].items()}
        variables = {}
        for k, v in groups["variables"].items():
            owners = ((objects["generator"],) if k == "stock" else tuple(objects.values()) if k == "cooldown"
                      else (self.game.avatar,))
            variables[k] = self.name(f"oracle.variables.{k}", v, f"a variable of {' or '.join(map(repr, owners))}",
                                     set().union(*(self.index.object_variables.get(o, ()) for o in owners)))
        actions = {k: self.name(f"oracle.actions.{k}", v, "an action", self.index.actions)
                   for k, v in groups["actions"].items()}
        values = {k: self.value(f"oracle.values.{k}", v) for k, v in groups["values"].items()}
        return {"objects": objects, "variables": variables, "actions": actions, "values": values}

    def actionable(self, spec: Any) -> dict | None:
        if not isinstance(spec, dict) or not spec:
            self.fail("actionable", f"expected a mapping of {', '.join(DIRECTED)} to their conditions, got {spec!r}")
        out = {}
        for counter, roles in spec.items():
            key = f"actionable.{counter}"
            if counter not in DIRECTED:
                self.fail(key, f"unknown key; expected one of {', '.join(DIRECTED)}")
            self.name(key, counter, "a per-player variable (a counter)", self.index.per_player)
            if roles is None:  # an overlay drops the base's conditions for this counter
                continue
            roles = self.mapping(key, roles, ROLES)
            out[counter] = {role: self.conditions(f"{key}.{role}", roles.get(role)) for role in ROLES}
        return out or None

    def conditions(self, key: str, spec: Any) -> tuple[Condition, ...]:
        if spec is None:
            return ()
        if not isinstance(spec, list) or not all(isinstance(c, str) for c in spec):
            self.fail(key, f"expected a list of conditions 'VARIABLE OP VALUE' (e.g. 'energy >= attack_cost'), "
                           f"got {spec!r}")
        variables = self.index.object_variables.get(self.game.avatar, frozenset())
        out = []
        for k, text in enumerate(spec):
            where = f"{key}.{k}"
            match = CONDITION.match(text)
            if match is None:
                self.fail(where, f"{text!r} is not a condition 'VARIABLE OP VALUE' with OP one of {', '.join(OPS)} "
                                 f"and VALUE an integer or a named value")
            variable, op, value = match.groups()
            self.name(where, variable, f"a variable of {self.game.avatar!r}", variables)
            if re.fullmatch(r"-?\d+", value):
                number = int(value)
            else:
                self.value(where, value)
                if value in self.index.written:
                    self.fail(where, f"the named value {value!r} is written by the rules: it is no constant")
                number = self.named[value]
                if isinstance(number, bool) or not isinstance(number, int):
                    self.fail(where, f"the named value {value!r} is {number!r}, not an integer")
            out.append(Condition(variable, op, number, text.strip()))
        return tuple(out)
