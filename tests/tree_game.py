"""A new user's game: games/metta.yaml copied, with one object and one counter added in the YAML alone.

A ``tree`` (map character ``t``) feeds ``tree_energy`` energy to the agent that uses it; a
game default places ``map_count_tree`` trees on procedural maps; ``trees_used`` counts,
per player, the uses that fed an agent. No code knows about any of them.
"""
import copy

import yaml

from conftest import GAME

TREE_COUNT = 7


def tree_game_doc() -> dict:
    doc = copy.deepcopy(yaml.safe_load(open(GAME)))
    doc["Environment"]["Variables"] += [
        {"Name": "tree_energy", "InitialValue": 5},
        {"Name": "map_count_tree", "InitialValue": TREE_COUNT},
        {"Name": "trees_used", "InitialValue": 0, "PerPlayer": True},
    ]
    use = next(a for a in doc["Actions"] if a["Name"] == "use")
    use["Behaviours"].append({
        "Src": {"Object": "agent",
                "Preconditions": [{"eq": ["src.frozen", 0]}, {"gte": ["src.energy", "body_use_cost"]}],
                "Commands": [{"sub": ["energy", "body_use_cost"]}, {"add": ["energy", "tree_energy"]},
                             {"incr": "trees_used"},
                             {"gt": {"Arguments": ["energy", "max_energy"],
                                     "Commands": [{"set": ["energy", "max_energy"]}]}}]},
        "Dst": {"Object": "tree"}})
    doc["Objects"].append({"Name": "tree", "MapCharacter": "t", "Z": 1,
                           "Observers": {"Block2D": [{"Shape": "triangle", "Color": [0.1, 0.7, 0.2], "Scale": 0.8}]}})
    return doc


def write_tree_game(tmp_path) -> str:
    path = tmp_path / "tree_game.yaml"
    path.write_text(yaml.safe_dump(tree_game_doc(), sort_keys=False))
    return str(path)
