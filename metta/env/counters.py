"""What the social metrics need to know of a game, asked of its index (metta.griddly_ext.game_index) and handed
to metta.society.metrics as plain names.

- ``game_counters``: the per-player variables the rules only ever raise (``incr``, ``add``), the target
  variables of attributed counters excluded, in the file's order;
- ``counter_actions``: the player actions that can raise an attributed counter, when each can only do so
  aimed at an agent (then a step with none of them aimed at an agent needs no read of the counters); None
  when an internal action, or a behaviour aimed at anything but the avatar, touches one: read every step;
- ``actions_raising``: the actions whose behaviours mention a counter (those that can raise it).
"""
from __future__ import annotations

from metta.griddly_ext.gdy import GameDoc
from metta.society.metrics import TARGETS


def game_counters(game: GameDoc) -> tuple[str, ...]:
    targets = set(TARGETS.values())
    return tuple(v for v in game.index.raised_only() if v not in targets)


def per_player_variables(game: GameDoc) -> tuple[str, ...]:
    return game.index.per_player


def counter_actions(game: GameDoc) -> frozenset[str] | None:
    watched = set(TARGETS) | set(TARGETS.values())
    names = set()
    for behaviour in game.index.behaviours_mentioning(watched):
        if behaviour.internal or behaviour.dst != (game.avatar,):
            return None
        names.add(behaviour.action)
    return frozenset(names)


def actions_raising(game: GameDoc, counter: str) -> frozenset[str]:
    return game.index.actions_mentioning({counter})
