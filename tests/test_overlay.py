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
    base = {**BASE, "Environment": {**BASE["Environment"], "Levels": ["A .", ". ."]}}
    out = merge(base, {"Environment": {"Name": "Over", "Variables": [{"Name": "b", "InitialValue": 20}],
                                       "Levels": ["W W"]}}, "o.yaml", "")
    assert out["Environment"]["Name"] == "Over"
    assert out["Environment"]["Variables"] == [{"Name": "a", "InitialValue": 1}, {"Name": "b", "InitialValue": 20},
                                               {"Name": "c", "InitialValue": 3}]
    assert out["Environment"]["Levels"] == ["W W"]
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


# ---------------------------------------------------------------- behaviours, merged by (source, destination)

def behaviour(src, dst, *commands, **extra):
    return {"Src": {"Object": src, "Commands": [{"incr": c} for c in commands]}, "Dst": {"Object": dst}, **extra}


USE = {"Name": "use", "Behaviours": [
    behaviour("agent", "generator", "diamond"),
    {**behaviour("agent", "charger", "energy"), "Dst": {"Object": "charger", "Commands": [{"set": ["cooldown", 1]}]}},
    behaviour("agent", "altar", "heart"),
    behaviour("agent", ["_empty", "wall"], "swing"),
]}
GAME_WITH_USE = {**BASE, "Actions": [USE]}


def use_after(*behaviours, base=GAME_WITH_USE):
    return merge(base, {"Actions": [{"Name": "use", "Behaviours": list(behaviours)}]}, "o.yaml", "")["Actions"][0]


def keys(action):
    return [(b["Src"]["Object"], b["Dst"]["Object"]) for b in action["Behaviours"]]


def test_a_behaviour_for_the_same_objects_merges_into_the_base_one_and_the_others_are_kept():
    use = use_after({"Src": {"Object": "agent", "Preconditions": [{"gt": ["src.battery", 0]}],
                             "Commands": [{"decr": "battery"}]},
                     "Dst": {"Object": "charger"}})
    assert keys(use) == keys(USE)  # replaced where it stood, nothing added
    assert use["Behaviours"][1] == {
        "Src": {"Object": "agent", "Commands": [{"decr": "battery"}],           # a list: replaced whole
                "Preconditions": [{"gt": ["src.battery", 0]}]},
        "Dst": {"Object": "charger", "Commands": [{"set": ["cooldown", 1]}]}}  # what it does not say is the base's
    assert [use["Behaviours"][i] for i in (0, 2, 3)] == [USE["Behaviours"][i] for i in (0, 2, 3)]
    assert USE["Behaviours"][1]["Src"]["Commands"] == [{"incr": "energy"}]    # the base is not changed


def test_a_new_behaviour_is_added_and_the_base_ones_kept():
    use = use_after(behaviour("agent", "mine", "ore"), behaviour("mine", "agent", "echo"))
    assert keys(use) == keys(USE) + [("agent", "mine"), ("mine", "agent")]
    assert use["Behaviours"][:4] == USE["Behaviours"]
    assert use["Behaviours"][4] == behaviour("agent", "mine", "ore")


def test_replaces_remove_and_after_place_behaviours():
    use = use_after(behaviour("agent", "mine", "ore", replaces="generator"),  # whole, where generator's stood
                    behaviour("agent", "refinery", "battery", after="mine"),  # new, right after mine's
                    behaviour("agent", "lab", "idea"),                        # the run goes on
                    {"Src": {"Object": "agent"}, "Dst": {"Object": "altar"}, "remove": True})
    assert keys(use) == [("agent", "mine"), ("agent", "refinery"), ("agent", "lab"), ("agent", "charger"),
                         ("agent", ["_empty", "wall"])]
    assert use["Behaviours"][0] == behaviour("agent", "mine", "ore")  # the merge keys never reach Griddly


def test_after_moves_a_base_behaviour_and_merges_into_it():
    use = use_after({"after": "altar", "Src": {"Object": "agent", "Commands": [{"decr": "battery"}]},
                     "Dst": {"Object": "charger"}})
    assert keys(use) == [("agent", "generator"), ("agent", "altar"), ("agent", "charger"),
                         ("agent", ["_empty", "wall"])]
    assert use["Behaviours"][2]["Src"]["Commands"] == [{"decr": "battery"}]
    assert use["Behaviours"][2]["Dst"] == USE["Behaviours"][1]["Dst"]


def test_a_behaviour_for_more_destination_objects_extends_the_base_one():
    use = use_after({"Src": {"Object": "agent"}, "Dst": {"Object": ["_empty", "mine", "wall"]}})
    assert keys(use) == keys(USE)[:3] + [("agent", ["_empty", "mine", "wall"])]
    assert use["Behaviours"][3]["Src"] == USE["Behaviours"][3]["Src"]


def test_a_new_action_and_other_merges_keep_their_behaviours_as_written():
    out = merge(GAME_WITH_USE, {"Actions": [{"Name": "build", "Behaviours": [{"anything": 1}]}]}, "o.yaml", "")
    assert out["Actions"][1] == {"Name": "build", "Behaviours": [{"anything": 1}]}


@pytest.mark.parametrize("item, message", [
    ("incr", "Actions[use].Behaviours[0]: a behaviour must be a mapping with Src and Dst, like the base's; got str"),
    ({"Src": {"Object": "agent"}}, "Actions[use].Behaviours[0]: Dst.Object: expected an object name or a list of "
                                   "them (a behaviour merges by its source and destination objects), got None"),
    ({"Src": {"Commands": []}, "Dst": {"Object": "altar"}}, "Behaviours[0]: Src.Object: expected an object name"),
    ({"Src": {"Object": ["agent", 3]}, "Dst": {"Object": "altar"}}, "Src.Object: expected an object name or a list "
                                                                     "of them (a behaviour merges by its source and "
                                                                     "destination objects), got ['agent', 3]"),
    ({"Src": {"Object": "agent"}, "Dst": {"Object": "wall"}},
     "Behaviours[agent -> wall]: covers only some of the pairs of the base's agent -> [_empty, wall]"),
    ({"Src": {"Object": "agent"}, "Dst": {"Object": ["altar", "wall"]}},
     "Behaviours[agent -> [altar, wall]]: meets several of the base's behaviours (agent -> altar, "
     "agent -> [_empty, wall])"),
    (behaviour("agent", "mine", replaces="lab"), "Behaviours[agent -> mine]: replaces: the base has no behaviour "
                                                 "of agent on 'lab' in Actions[use].Behaviours"),
    (behaviour("agent", "mine", after=["altar"]), "after: expected the name of a destination object"),
    (behaviour("agent", "altar", after="altar"), "after: 'altar' is this behaviour's own destination"),
    (behaviour("agent", "altar", replaces="generator"), "replaces the behaviour on 'generator', but the base "
                                                        "already has agent -> altar"),
    (behaviour("agent", "mine", remove=True), "remove: true stands alone beside Src.Object and Dst.Object"),
    ({"Src": {"Object": "agent"}, "Dst": {"Object": "mine"}, "remove": True}, "remove: the base has no behaviour "
                                                                              "for exactly these objects"),
    (behaviour("agent", "mine", after="altar", replaces="altar"), "give at most one of replaces, remove and after"),
])
def test_a_malformed_behaviour_names_the_file_the_key_and_what_was_expected(item, message):
    with pytest.raises(ConfigError, match="^o.yaml: Actions") as err:
        use_after(item)
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


def test_every_shipped_overlay_says_only_what_changes():
    """An overlay that grows past 150 lines is restating its base: merge by name, by (source, destination), or
    repeat a rule over Parameters instead (docs/games.md)."""
    import glob

    overlays = [p for p in glob.glob(os.path.join(ROOT, "games", "*.yaml")) if "extends" in yaml.safe_load(open(p))]
    assert len(overlays) >= 5
    sizes = {os.path.basename(p): sum(1 for _ in open(p)) for p in overlays}
    assert all(n < 150 for n in sizes.values()), sizes
