"""Games as overlays (metta.griddly_ext.overlay): the merge rules against hand-written results, the errors, and the
shipped overlays resolved into whole games that stand alone."""
import os

import pytest
import yaml

from conftest import ROOT
from metta.errors import ConfigError
from metta.griddly_ext.gdy import load_gdy, parse_gdy, standalone_text
from metta.griddly_ext.overlay import MAX_CHAIN, merge

BASE = {
    "Version": "0.1",
    "Environment": {"Name": "Base", "Variables": [{"Name": "a", "InitialValue": 1}, {"Name": "b", "InitialValue": 2},
                                                  {"Name": "c", "InitialValue": 3}]},
    "Actions": [{"Name": "move", "Behaviours": [{"Src": {"Object": "agent"}}]}, {"Name": "use"}],
    "Objects": [{"Name": "agent", "Variables": [{"Name": "energy"}, {"Name": "inventory"}]}, {"Name": "wall"}],
}


def names(items):
    return [i["Name"] for i in items]


def test_a_named_item_merges_in_place_and_other_lists_are_replaced_whole():
    out = merge(BASE, {"Environment": {"Name": "Over", "Variables": [{"Name": "b", "InitialValue": 20}]},
                       "Actions": [{"Name": "move", "Behaviours": [{"Src": {"Object": "wall"}}]}]}, "o.yaml", "")
    assert out["Environment"]["Name"] == "Over"
    assert out["Environment"]["Variables"] == [{"Name": "a", "InitialValue": 1}, {"Name": "b", "InitialValue": 20},
                                               {"Name": "c", "InitialValue": 3}]
    assert out["Actions"][0] == {"Name": "move", "Behaviours": [{"Src": {"Object": "wall"}}]}
    assert BASE["Environment"]["Variables"][1]["InitialValue"] == 2  # the base is not changed


def test_replaces_remove_after_and_a_run_of_new_items():
    over = {"Environment": {"Variables": [
        {"Name": "x", "after": "a", "InitialValue": 9}, {"Name": "y", "InitialValue": 8},  # x, y right after a
        {"Name": "z", "InitialValue": 7},                                                 # still the run
        {"Name": "c", "remove": True}]},
        "Objects": [{"Name": "agent", "Variables": [{"Name": "ore", "replaces": "inventory"}, {"Name": "battery"}]},
                    {"Name": "mine", "replaces": "wall", "MapCharacter": "n"}, {"Name": "altar"}]}
    out = merge(BASE, over, "o.yaml", "")
    assert names(out["Environment"]["Variables"]) == ["a", "x", "y", "z", "b"]
    assert names(out["Objects"]) == ["agent", "mine", "altar"]  # replaced where wall stood; altar appended
    assert out["Objects"][1] == {"Name": "mine", "MapCharacter": "n"}  # the merge keys never reach Griddly
    assert names(out["Objects"][0]["Variables"]) == ["energy", "ore", "battery"]


@pytest.mark.parametrize("item, message", [
    ({"Name": "q", "replaces": "nope"}, "replaces: the base has no 'nope'"),
    ({"Name": "nope", "remove": True}, "remove: the base has no 'nope'"),
    ({"Name": "q", "after": "nope"}, "after: the base has no 'nope'"),
    ({"Name": "a", "after": "b"}, "'a' is already in the base"),
    ({"Name": "b", "replaces": "a"}, "the base already has a 'b'"),
    ({"Name": "a", "remove": True, "InitialValue": 1}, "remove: true stands alone"),
    ({"Name": "q", "remove": True, "after": "a"}, "at most one of replaces, remove and after"),
    ({"InitialValue": 1}, "must be a mapping with a Name"),
])
def test_an_item_that_cannot_apply_names_the_file_and_the_item(item, message):
    with pytest.raises(ConfigError, match="o.yaml: Environment.Variables") as err:
        merge(BASE, {"Environment": {"Variables": [item]}}, "o.yaml", "")
    assert message in str(err.value)


def write(path, doc):
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_a_chain_resolves_relative_to_each_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "base.yaml", BASE)
    write(tmp_path / "sub" / "mid.yaml", {"extends": "../base.yaml", "Environment": {"Name": "Mid"}})
    top = write(tmp_path / "sub" / "top.yaml", {"extends": "mid.yaml", "Actions": [{"Name": "use", "remove": True}]})
    doc = load_gdy(top).doc
    assert doc["Environment"]["Name"] == "Mid" and names(doc["Actions"]) == ["move"] and "extends" not in doc
    standalone = standalone_text(top)
    assert "extends" not in yaml.safe_load(standalone)
    assert parse_gdy(standalone).doc == doc
    assert standalone_text(str(tmp_path / "base.yaml")) is None  # a file that stands alone ships as written


def test_a_missing_base_a_cycle_and_a_long_chain_are_clear_errors(tmp_path):
    missing = write(tmp_path / "m.yaml", {"extends": "nowhere.yaml"})
    with pytest.raises(ConfigError, match=r"m.yaml: extends: base game .*nowhere.yaml not found"):
        load_gdy(missing)
    write(tmp_path / "a.yaml", {"extends": "b.yaml"})
    b = write(tmp_path / "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(ConfigError, match=r"leads back to a file already in the chain \(b.yaml -> a.yaml -> b.yaml\)"):
        load_gdy(b)
    with pytest.raises(ConfigError, match="extends must be the path of the base game file"):
        load_gdy(write(tmp_path / "n.yaml", {"extends": 3}))
    write(tmp_path / "g0.yaml", BASE)
    for i in range(1, MAX_CHAIN + 1):
        write(tmp_path / f"g{i}.yaml", {"extends": f"g{i - 1}.yaml"})
    load_gdy(str(tmp_path / f"g{MAX_CHAIN - 1}.yaml"))
    with pytest.raises(ConfigError, match=f"a chain of more than {MAX_CHAIN} game files"):
        load_gdy(str(tmp_path / f"g{MAX_CHAIN}.yaml"))


@pytest.mark.parametrize("game", ["builders", "postures", "resource_chain"])
def test_the_shipped_exploration_games_are_overlays_of_the_metta_game(game):
    path = os.path.join(ROOT, "games", f"{game}.yaml")
    assert yaml.safe_load(open(path))["extends"] == "metta.yaml"
    base, doc = load_gdy(os.path.join(ROOT, "games", "metta.yaml")).doc, load_gdy(path).doc
    assert set(doc) == set(base) and "extends" not in doc
    assert names(doc["Objects"])[:2] == ["agent", "wall"]
    # the player actions keep the base's order, new ones after them: a policy's action ids stay where they were
    players = [a["Name"] for a in doc["Actions"] if not a.get("InputMapping", {}).get("Internal")]
    assert players[:5] == ["move", "rotate", "use", "attack", "shield"]
