"""Parameterised rules (metta.griddly_ext.parameters): ``each:`` commands written out over a game's ``Parameters``
lists against hand-written results, an overlay changing a list, and the errors."""
import copy

import pytest
import yaml

from metta.errors import ConfigError
from metta.griddly_ext.gdy import GameDoc, load_gdy, parse_gdy, standalone_text
from metta.griddly_ext.parameters import expand

LOOT = {"each": {"Parameters": "loot", "Commands": [{"add": ["$variable", "dst.$variable"]},
                                                    {"set": ["dst.$variable", 0]}]}}
CAP = {"each": {"Parameters": "loot", "Commands": [{"gt": {"Arguments": ["$variable", "$capacity"],
                                                           "Commands": [{"set": ["$variable", "$capacity"]}]}}]}}


def game(commands, loot=({"variable": "inventory", "capacity": "agent_max_inventory"},), **extra):
    return {"Version": "0.1", "Parameters": {"loot": list(loot)},
            "Actions": [{"Name": "attack", "Behaviours": [
                {"Src": {"Object": "agent", "Commands": commands}, "Dst": {"Object": "agent"}}]}], **extra}


def commands(doc):
    return doc["Actions"][0]["Behaviours"][0]["Src"]["Commands"]


def test_each_is_written_out_once_per_item_in_place_and_the_section_is_gone():
    doc = game([{"incr": "attacks"}, {"eq": {"Arguments": ["dst.shield", 0], "Commands": [LOOT]}}, CAP],
               loot=[{"variable": "ore", "capacity": "agent_max_ore"},
                     {"variable": "battery", "capacity": 3}])
    before = copy.deepcopy(doc)
    out = expand(doc, "g.yaml")
    assert "Parameters" not in out and doc == before  # the input is not changed
    assert commands(out) == [
        {"incr": "attacks"},
        {"eq": {"Arguments": ["dst.shield", 0], "Commands": [   # inside a conditional, in the list's order
            {"add": ["ore", "dst.ore"]}, {"set": ["dst.ore", 0]},
            {"add": ["battery", "dst.battery"]}, {"set": ["dst.battery", 0]}]}},
        {"gt": {"Arguments": ["ore", "agent_max_ore"], "Commands": [{"set": ["ore", "agent_max_ore"]}]}},
        {"gt": {"Arguments": ["battery", 3], "Commands": [{"set": ["battery", 3]}]}},  # a whole $name: the value
    ]


def test_an_empty_list_writes_nothing_and_game_doc_expands_what_it_is_given():
    assert commands(expand(game([{"incr": "attacks"}, LOOT, CAP], loot=[]), "g.yaml")) == [{"incr": "attacks"}]
    doc = GameDoc(game([LOOT, CAP]), "g.yaml").doc
    assert "Parameters" not in doc and commands(doc)[0] == {"add": ["inventory", "dst.inventory"]}


def test_an_overlay_changes_a_list_and_with_it_every_rule_repeated_over_it(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(game([LOOT, CAP])))
    over = tmp_path / "over.yaml"
    over.write_text(yaml.safe_dump({"extends": "base.yaml", "Parameters": {"loot": [
        {"variable": "ore", "capacity": "agent_max_ore"}, {"variable": "battery", "capacity": "agent_max_battery"}]}}))
    base_doc, doc = load_gdy(str(tmp_path / "base.yaml")).doc, load_gdy(str(over)).doc
    assert [c for c in commands(base_doc) if "add" in c] == [{"add": ["inventory", "dst.inventory"]}]
    assert [c for c in commands(doc) if "add" in c] == [{"add": ["ore", "dst.ore"]},
                                                        {"add": ["battery", "dst.battery"]}]
    text = standalone_text(str(over))  # what ships with a model: written out, no Parameters, no each
    assert "Parameters" not in yaml.safe_load(text) and "each" not in text and parse_gdy(text).doc == doc


def test_a_list_used_without_its_values_names_the_values_unused():
    doc = game([{"each": {"Parameters": "loot", "Commands": [{"incr": "attacks"}]}}], loot=[{"x": 1}, {"x": 2}])
    with pytest.raises(ConfigError, match=r"Parameters.loot\[0\]: x: no each: over loot uses it \(they use none\)"):
        expand(doc, "g.yaml")
    doc["Parameters"]["loot"] = [{}, {}]  # a list of empty items: a count
    with pytest.raises(ConfigError, match="loot.0.: expected a mapping of names to values"):
        expand(doc, "g.yaml")


def test_null_drops_a_list():
    doc = game([{"incr": "attacks"}])
    doc["Parameters"]["loot"] = None
    assert commands(expand(doc, "g.yaml")) == [{"incr": "attacks"}]


def test_the_metta_game_loots_its_inventory_and_the_chain_ore_and_batteries():
    from conftest import ROOT

    def loot(name):
        attack = next(a for a in load_gdy(f"{ROOT}/games/{name}.yaml").doc["Actions"] if a["Name"] == "attack")
        src = attack["Behaviours"][0]["Src"]["Commands"]
        robbed = next(c["eq"]["Commands"] for c in src if "eq" in c and c["eq"]["Arguments"] == ["dst.shield", 0])
        return [c["add"] for c in robbed if "add" in c], [c["gt"]["Arguments"] for c in src if "gt" in c]

    assert loot("metta") == ([["inventory", "dst.inventory"]], [["inventory", "agent_max_inventory"]])
    assert loot("resource_chain") == ([["ore", "dst.ore"], ["battery", "dst.battery"]],
                                      [["ore", "agent_max_ore"], ["battery", "agent_max_battery"]])


def precondition(each):
    doc = game([LOOT, CAP])
    doc["Actions"][0]["Behaviours"][0]["Src"]["Preconditions"] = [each]
    return doc


@pytest.mark.parametrize("doc, message", [
    (game([{"each": {"Parameters": "lot", "Commands": []}}, LOOT, CAP]),
     "Actions[attack].Behaviours[0].Src.Commands[0].each.Parameters: 'lot' is not one of the game's Parameters "
     "lists (it has: loot)"),
    (game([{"each": {"Parameters": "loot", "Commands": [{"incr": "$amount"}]}}, CAP]),
     "Actions[attack].Behaviours[0].Src.Commands[0].each: $amount: Parameters.loot[0] has no 'amount' "
     "(it has variable, capacity)"),
    (game([{"each": {"Parameters": "loot"}}]), "Commands[0].each: expected a command `each: {Parameters: LIST, "
                                               "Commands: [...]}`, alone in its mapping"),
    (game([{**LOOT, "incr": "x"}]), "alone in its mapping"),
    (game([{"each": {"Parameters": "loot", "Commands": {"incr": "x"}}}]),
     "Commands[0].each.Commands: expected a list of commands, got dict"),
    (game([{"each": {"Parameters": "loot", "Commands": [LOOT]}}, CAP]),
     "Commands[0].each.Commands[0]: an each: cannot stand inside another each:"),
    (precondition(LOOT), "Actions[attack].Behaviours[0].Src.Preconditions[0]: each: stands only where a command does"),
    (game([{"incr": "attacks"}]), "Parameters.loot: no each: uses this list"),
    (game([LOOT]), "Parameters.loot[0]: capacity: no each: over loot uses it (they use variable)"),
    (game([LOOT, CAP], loot=[["inventory"]]), "Parameters.loot[0]: expected a mapping of names to values"),
    (game([LOOT, CAP], loot=[{"variable": "ore", "capacity": [5]}]),
     "Parameters.loot[0].capacity: expected a name or an integer, got [5]"),
    ({**game([LOOT, CAP]), "Parameters": {"loot": {"variable": "ore"}}},
     "Parameters.loot: expected a list of mappings such as {variable: inventory}, got dict"),
    (game([LOOT, CAP], loot=[{"variable": f"v{i}", "capacity": i} for i in range(5000)]),
     "Commands[0].each: refused: the each: commands write out more than 50,000 YAML nodes"),
    ({**game([LOOT, CAP]), "Parameters": [1]},
     "Parameters: expected a mapping of list names to lists of parameters, got list"),
])
def test_a_bad_rule_or_list_names_the_file_the_key_and_what_was_expected(doc, message):
    with pytest.raises(ConfigError, match="^g.yaml: ") as err:
        expand(doc, "g.yaml")
    assert message in str(err.value)
