"""The one reading of a game (metta.griddly_ext.game_index), against facts counted by hand in a small document."""
import copy

import yaml

from metta.env.counters import actions_raising, counter_actions, game_counters
from metta.griddly_ext.game_index import GameIndex, variable_name
from metta.griddly_ext.gdy import DEFAULT_GAME, GameDoc, load_gdy
from metta.griddly_ext.validation import validation_problems

SMALL = yaml.safe_load("""
Version: "0.1"
Environment:
  Name: small
  Variables:
    - {Name: gain, InitialValue: 3}
    - {Name: relay, InitialValue: 0}
    - {Name: delay, InitialValue: 2}
    - {Name: score, InitialValue: 0, PerPlayer: true}
    - {Name: spent, InitialValue: 0, PerPlayer: true}
    - {Name: x, InitialValue: 0, PerPlayer: true}
  Player:
    Count: 1
    AvatarObject: agent
    Observer: {TrackAvatar: true, RotateWithAvatar: true, Width: 3, Height: 3}
Actions:
  - Name: move
    InputMapping:
      Inputs:
        1: {VectorToDest: [0, -1], MetaData: {x: 4}}
    Behaviours:
      - Src:
          Object: agent
          Commands:
            - mov: _dest
            - add: [score, gain]
            - set: [relay, gain]
            - set: [x, meta.x]
            - add: [spent, 1]
            - sub: [spent, 1]
        Dst:
          Object: _empty
  - Name: poke
    InputMapping:
      Internal: true
      Inputs:
        1: {VectorToDest: [0, 0]}
    Behaviours:
      - Src:
          Object: agent
          Commands:
            - eq:
                Arguments: [src.energy, 0]
                Commands:
                  - incr: src.energy
            - add: [dst.energy, relay]
            - exec: {Action: poke, Delay: delay, ActionId: 1}
        Dst:
          Object: [agent, wall]
Objects:
  - Name: agent
    MapCharacter: A
    Variables:
      - {Name: energy, InitialValue: 0}
  - Name: wall
    MapCharacter: W
""")


def test_names_resolve_one_way():
    assert variable_name("src.energy") == variable_name("dst.energy") == variable_name("energy") == "energy"
    assert variable_name("meta.x") is None  # an input's MetaData, not the variable x
    assert variable_name(3) is None


def test_the_index_holds_the_hand_counted_facts():
    index = GameIndex(SMALL)
    assert index.object_variables == {"agent": {"energy"}, "wall": frozenset()}
    assert index.per_player == ("score", "spent", "x")
    assert index.writes == {"score": {"add"}, "relay": {"set"}, "x": {"set"}, "spent": {"add", "sub"},
                            "energy": {"incr", "add"}}
    # meta.x names no variable: x is written, but nothing flows from it (gdy and the metrics once disagreed here)
    assert index.feeds == {"gain": {"score", "relay"}, "relay": {"energy"}}
    assert index.delays == {"delay"}
    assert index.raised_only() == ("score",)
    assert index.actions_mentioning({"relay"}) == {"move", "poke"}
    assert index.actions_mentioning({"score"}) == {"move"}
    assert index.reach(index.variables, index.observed, index.variables) == {"gain": ("energy", "relay"),
                                                                            "relay": ("energy", None)}
    (poke,) = [b for b in index.behaviours if b.action == "poke"]
    assert poke.internal and poke.src == ("agent",) and poke.dst == ("agent", "wall")
    assert "mov" not in poke.src_commands and {"eq", "incr", "exec"} <= poke.src_commands


def test_the_index_is_built_once_per_document():
    game = GameDoc(copy.deepcopy(SMALL))
    assert game.index is game.index


def test_metrics_and_validation_read_the_same_index():
    """The metrics' counters and the validator's value flow come from one reading: change one write and both see
    it."""
    game = load_gdy(DEFAULT_GAME)
    index = game.index
    assert set(game_counters(game)) <= set(index.raised_only())
    assert actions_raising(game, "hearts") == index.actions_mentioning({"hearts"})
    assert counter_actions(game) == {"attack", "gift_energy", "gift_diamond", "bond"}
    doc = copy.deepcopy(SMALL)
    doc["Environment"]["Variables"][0]["InitialValue"] = 300  # gain reaches the observed energy through relay
    problems = validation_problems(GameDoc(doc))
    assert problems == ["Environment.Variables[0] (gain): InitialValue 300 out of range: expected 0 <= gain <= 255 "
                        "(it reaches the observed object variable energy (through relay), which Griddly's VECTOR "
                        "observer sees as uint8)"]
    assert "gain" in GameIndex(doc).feeds and game_counters(GameDoc(doc)) == ("score",)


def test_constants_are_the_named_values_nothing_writes():
    compiled = GameDoc(copy.deepcopy(SMALL)).with_constants_compiled()
    assert [v["Name"] for v in compiled.doc["Environment"]["Variables"]] == ["relay", "score", "spent", "x"]
    move = compiled.doc["Actions"][0]["Behaviours"][0]["Src"]["Commands"]
    assert {"add": ["score", 3]} in move and {"set": ["x", "meta.x"]} in move
