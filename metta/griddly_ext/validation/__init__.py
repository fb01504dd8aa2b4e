"""Validate a GDY document before Griddly sees it.

Griddly's C++ engine trusts its input: fed malformed game files it segfaults, hangs,
or silently accepts nonsense. Everything here runs first, in two passes:

1. the JSON schema Griddly ships (``griddly/resources/gdy-schema.json``), with
   ``jsonschema`` (``schema``);
2. semantic checks the schema cannot express (``semantics``, its commands in ``commands``):
   referenced objects, actions and variables exist; no nested conditional commands
   (Griddly 1.6 rejects them); map characters are single and unique; named values are
   integers in range (``ranges``); what the environment relies on is present: an avatar
   object with a map character and a player action that moves it.

Ranges: the named values the environment reads have its own (``ENV_VALUES``:
``max_steps``, ``reward_unit``; ``map_count_<object>``, the default object counts of
procedural maps, which must name a placeable object). Every other name gets Griddly's
limits: an int32, in 0..255 when it reaches an observed object variable (it is set,
added to or subtracted from one, directly or through per-player variables set from it:
Griddly's VECTOR observer sees object variables as uint8), and at least 1 when it is an
``exec`` Delay. What reaches what is the game index's value-flow graph
(metta.griddly_ext.game_index), the one reading of the rules the env and metrics share.

``validate_game`` raises one ConfigError listing every problem found, each naming
the file and the key.
"""
from __future__ import annotations

from metta.errors import ConfigError
from metta.griddly_ext.gdy import GameDoc
from metta.griddly_ext.validation.commands import (BUILTIN_OBJECT_VARS, COMMANDS, CONDITIONS, SPECIAL_ARGS,
                                                   SPECIAL_OBJECTS)
from metta.griddly_ext.validation.ranges import ENV_VALUES, INT32, MAP_COUNT_RANGE, UINT8
from metta.griddly_ext.validation.schema import griddly_schema, schema_errors
from metta.griddly_ext.validation.semantics import Checker

__all__ = ["validate_game", "validation_problems", "schema_errors", "griddly_schema", "COMMANDS", "CONDITIONS",
           "SPECIAL_OBJECTS", "SPECIAL_ARGS", "BUILTIN_OBJECT_VARS", "ENV_VALUES", "UINT8", "INT32",
           "MAP_COUNT_RANGE"]


def validation_problems(game: GameDoc) -> list[str]:
    """Every problem found in the document, schema first; empty when valid."""
    problems = schema_errors(game.doc)
    if problems:
        return problems  # semantic checks assume the schema's shape
    checker = Checker(game)
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
