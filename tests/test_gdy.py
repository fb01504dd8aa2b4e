"""The game Griddly runs: named values that no rule writes are compiled in as numbers.

The compiled game must play exactly like the file as written: checked here against
Griddly running the uncompiled file, step by step on the same level, seed and actions.
"""
import numpy as np

from conftest import GAME


def _walk_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _walk_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk_strings(v)


def test_constants_leave_the_variables_and_their_references():
    from metta.griddly_ext.gdy import load_gdy

    game = load_gdy(GAME)
    compiled = game.with_constants_compiled()
    kept = {v["Name"] for v in compiled.doc["Environment"]["Variables"]}
    per_player = {v["Name"] for v in game.doc["Environment"]["Variables"] if v.get("PerPlayer")}
    assert kept == per_player  # the shipped game writes none of its named values
    constants = set(game.named_values())
    left = {s for s in _walk_strings(compiled.doc["Actions"]) if s.split(".")[-1] in constants}
    assert not left
    assert game.doc["Environment"]["Variables"] != compiled.doc["Environment"]["Variables"]  # the original is intact
    assert compiled.named_values() == {}


def test_written_and_shadowed_names_stay_variables():
    from metta.griddly_ext.gdy import GameDoc, load_gdy

    game = load_gdy(GAME)
    doc = game.with_players(2).doc
    doc["Environment"]["Variables"] += [{"Name": "bank", "InitialValue": 5}, {"Name": "cooldown", "InitialValue": 3}]
    use = next(a for a in doc["Actions"] if a["Name"] == "use")
    use["Behaviours"][0]["Src"]["Commands"].append({"incr": "bank"})
    compiled = GameDoc(doc=doc).with_constants_compiled()
    kept = {v["Name"] for v in compiled.doc["Environment"]["Variables"]}
    assert {"bank", "cooldown"} <= kept  # written by a rule / also an object variable's name
    assert "attack_cost" not in kept


def test_compiled_game_plays_like_the_file_as_written():
    from metta import make_env
    from metta.griddly_ext.engine import griddly_module

    env = make_env("metta-teams", seed=3, width=16, height=16, num_agents=8, generators=6, chargers=3, altars=2,
                   overrides={"altar_cost": 20})
    _, Loader = griddly_module()
    doc = env.game.with_players(8, env.level)
    doc.doc["Environment"]["Observers"]["Truth"] = {
        "Type": "VECTOR", "IncludePlayerId": True, "IncludeRotation": True, "IncludeVariables": True}
    truth = Loader().load_string(doc.to_yaml()).create_game("Truth")
    truth.load_level(0)
    for i in range(8):
        truth.register_player(f"Player {i + 1}", "None")
    truth.init(False)
    env.engine.reset(env.level, 11)
    truth.seed(11)
    truth.reset()
    assert env.game.named_values()["attack_cost"] > 0
    rng = np.random.default_rng(0)
    for t in range(300):
        flat = rng.integers(0, env.engine.num_actions, size=8)
        raw, done = env.engine.step(flat)
        expect, expect_done, _ = truth.step_parallel(env.engine._action_table[flat])
        assert raw.tolist() == list(expect) and done == expect_done, t
        np.testing.assert_array_equal(env.engine.global_view(), np.array(truth.observe(), copy=False), err_msg=f"{t}")
    state, expect_state = env.engine.state(), truth.get_state()
    key = lambda o: (o["Location"][0], o["Location"][1], o["Name"])  # noqa: E731
    for got, want in zip(sorted(state["Objects"], key=key), sorted(expect_state["Objects"], key=key)):
        assert got["Variables"] == {k: v for k, v in want["Variables"].items() if k in got["Variables"]}
    counters = env.engine.player_counters(["attacks", "shield_steps", "frozen_steps"])
    assert all(c.sum() > 0 for c in counters.values()), counters  # the rules under comparison did something
