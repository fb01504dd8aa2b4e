"""Actionable chances (metta.society.metrics; the game's Metta.actionable, metta.env.game_facts), on a scripted level
of the real game with hand-computed truths, on both the compiled and the reference observation backend."""
import os

import numpy as np
import pytest

from metta import ConfigError, make_env
from metta.env.game_facts import Condition, GameFacts
from metta.griddly_ext.gdy import DEFAULT_GAME, GAMES_DIR, load_gdy
from metta.society.metrics import actionable_names, derived_metric_names

# Agent 1 stands at (3, 5) facing up (it never turns: NONE acts as up): its attacks reach the 3x3 block ahead,
# rows 2..4 and columns 2..4, where agents 2, 3 and 4 stand side by side one row ahead (input 1 front-left: agent
# 2, input 2 front: agent 3, input 3 front-right: agent 4); its gifts reach the cell in front: agent 3. Agents 2
# and 4 each have a generator beside them; agent 3 never carries anything. Nobody else has an agent in reach
# except agent 4 while it faces down: its input 3 (front-right, 1 ahead, turned to face down) aims at agent 1.
LEVEL = """W W W W W W W
W . . . . . W
W . . . . . W
W . . . . . W
W g A2 A3 A4 g W
W . . A1 . . W
W W W W W W W
"""
# attack_cost 60 of 150 energy: two swings leave 30, too little for a third; a gift needs 40; no regeneration
OVERRIDES = dict(agent_energy_regen=0, agent_initial_energy=150, attack_cost=60, gift_amount=40, freeze_duration=2)
LEFT, UP, RIGHT, DOWN = 1, 2, 3, 4
# per step, {agent: (action, input)}; agent 1 is index 0
SCRIPT = [
    {1: ("rotate", LEFT), 3: ("rotate", DOWN)},   # 1: agent 2 faces its generator, agent 4 faces down
    {1: ("use", 1), 3: ("attack", 3)},            # 2: agent 2 harvests; agent 4 freezes agent 1 (steps 3, 4)
    {0: ("attack", 1), 3: ("rotate", RIGHT)},     # 3: agent 1 is frozen: its swing does nothing
    {0: ("attack", 1), 3: ("use", 1)},            # 4: still frozen; agent 4 harvests
    {0: ("attack", 2), 3: ("shield", 1)},         # 5: agent 1 hits agent 3, who carries nothing; agent 4 shields
    {0: ("attack", 1)},                           # 6: agent 1 robs agent 2 (carrying, unshielded): 150 - 2*60 = 30
    {0: ("attack", 3)},                           # 7: 30 < attack_cost: nothing happens
    {},                                           # 8
]
# the truth, by hand, per (attacker, target), from the agents' variables as each step starts:
# agent 1 has agents 2, 3, 4 in attack reach at all 8 steps; it can act (not frozen, energy >= 60) at steps 1, 2,
# 5, 6; a target is actionable when unshielded and carrying: agent 2 from step 3 on (it harvested at step 2; robbed
# at step 6), agent 4 at step 5 only (harvested at step 4, shield up from step 6), agent 3 never. So agent 1's
# actionable chances: agent 2 at steps 5, 6; agent 4 at step 5. Agent 4 had agent 1 in reach at steps 2 and 3
# (facing down), never actionable (agent 1 carried nothing then).
ATTACK_CHANCES = {(0, 1): 8, (0, 2): 8, (0, 3): 8, (3, 0): 2}
ATTACK_ACTIONABLE = {(0, 1): 2, (0, 3): 1}
ATTACK_HITS = {(0, 2): 1, (0, 1): 1, (3, 0): 1}   # agent 1 on agents 3 and 2; agent 4 on agent 1
ATTACK_HITS_ACTIONABLE = {(0, 1): 1}             # the blow on empty-handed agent 3 is not one; nor agent 4's
# gifts: agent 1 has agent 3 in front at all 8 steps; it could give (not frozen, energy >= 40) at steps 1, 2, 5, 6
# (frozen at 3, 4; 30 energy at 7, 8); any agent may take a gift
GIFT_CHANCES = {(0, 2): 8}
GIFT_ACTIONABLE = {(0, 2): 4}


def _env(kin_row, obs_backend):
    """The scene with teams of 2 drawn so that agent 1's row of the kinship matrix is ``kin_row``."""
    for seed in range(50):
        env = make_env("metta-teams", level=LEVEL, team_size=2, seed=seed, max_steps=len(SCRIPT),
                       overrides=OVERRIDES, obs_backend=obs_backend)
        env.reset(seed=seed)
        if env.kinship[0].tolist() == kin_row:
            return env
    raise AssertionError(f"no seed drew agent 1's kinship {kin_row}")


def _play(env):
    a = env.engine.action_index
    for t, step in enumerate(SCRIPT):
        *_, info = env.step({f"agent_{i}": a(*act) for i, act in step.items()})
    return [info[agent]["episode"] for agent in env.possible_agents]


def _split(table, kin, i):
    """(kin, strangers) sums of agent i's row of a {(i, j): count} table."""
    k = sum(v for (a, b), v in table.items() if a == i and kin[a, b])
    s = sum(v for (a, b), v in table.items() if a == i and not kin[a, b])
    return k, s


@pytest.mark.parametrize("obs_backend", ["numba", "griddly"])
@pytest.mark.parametrize("kin_row", [[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]], ids=["agent2-kin", "agent4-kin"])
def test_actionable_chances_and_hits_equal_the_hand_computed_truth(obs_backend, kin_row):
    env = _env(kin_row, obs_backend)
    ep = _play(env)
    s = env.agent_variables()
    assert s[0]["energy"] == 30 and s[0]["inventory"] == 1 and s[3]["shield"] == 1  # the script did what it says
    assert ep[0]["frozen_steps"] == 2 and ep[2]["frozen_steps"] == 2
    kin = env.kinship >= env.society.kin_threshold
    for i in range(4):
        m = ep[i]
        for table, key in ((ATTACK_CHANCES, "attack_chances_{}"), (ATTACK_ACTIONABLE, "attack_actionable_{}"),
                           (ATTACK_HITS, "attacks_on_{}"), (ATTACK_HITS_ACTIONABLE, "attacks_on_{}_actionable"),
                           (GIFT_CHANCES, "gift_chances_{}"), (GIFT_ACTIONABLE, "gift_actionable_{}")):
            assert (m[key.format("kin")], m[key.format("strangers")]) == _split(table, kin, i), (i, key)
        assert m["gifts_to_kin_actionable"] == m["gifts_to_strangers_actionable"] == 0
    # agent 1's counts for the draw where agent 2 is its kin, written out
    if kin_row == [1.0, 1.0, 0.0, 0.0]:
        m = ep[0]
        assert (m["attack_chances_kin"], m["attack_chances_strangers"]) == (8, 16)
        assert (m["attack_actionable_kin"], m["attack_actionable_strangers"]) == (2, 1)
        assert (m["attacks_on_kin_actionable"], m["attacks_on_strangers_actionable"]) == (1, 0)
        assert (m["attacks_on_kin"], m["attacks_on_strangers"]) == (1, 1)
        # the episode's rates pool its agents: today's per chance, kin 1 hit of 8 chances, strangers 2 (agent 1's on
        # agent 3, agent 4's on agent 1) of 16 + 2; per actionable chance, kin 1 of 2, strangers 0 of 1 (no ratio)
        assert m["attack_rate_kin"] == pytest.approx(1 / 8) and m["attack_rate_strangers"] == pytest.approx(2 / 18)
        assert m["attack_actionable_rate_kin"] == pytest.approx(1 / 2)
        assert m["attack_actionable_rate_strangers"] == 0.0 and m["attack_actionable_kin_stranger_ratio"] is None
        assert m["gift_actionable_rate_strangers"] == 0.0 and m["gift_actionable_rate_kin"] is None
    else:  # agent 4 is agent 1's kin: its blow on agent 1 is on kin, agent 1's actionable chance on it too
        m = ep[0]
        assert (m["attack_actionable_kin"], m["attack_actionable_strangers"]) == (1, 2)
        assert (m["attacks_on_kin_actionable"], m["attacks_on_strangers_actionable"]) == (0, 1)
        assert (ep[3]["attack_chances_kin"], ep[3]["attacks_on_kin"], ep[3]["attacks_on_kin_actionable"]) == (2, 1, 0)
        # pooled over the episode's agents: kin 1 hit of 10 chances (0 of 1 actionable), strangers 2 of 16 (1 of 2)
        assert m["attack_rate_kin"] == pytest.approx(1 / 10) and m["attack_rate_strangers"] == pytest.approx(2 / 16)
        assert m["attack_actionable_rate_kin"] == 0.0 and m["attack_actionable_rate_strangers"] == pytest.approx(0.5)
        assert m["attack_actionable_kin_stranger_ratio"] == 0.0


def _truth(env, facts):
    """Who meets each counter's actor and target conditions, from Griddly's full state (the slow, sure way)."""
    ops = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
           ">=": np.greater_equal}
    agents = env.agent_variables()
    rows = []
    for counter in env.metrics.actionable:
        for role in ("actor", "target"):
            rows.append([all(ops[c.op](a[c.variable], c.value) for c in facts[counter][role]) for a in agents])
    return np.array(rows, dtype=bool)


@pytest.mark.parametrize("obs_backend", ["numba", "griddly"])
def test_the_conditions_read_from_the_global_view_agree_with_griddlys_state_in_random_play(obs_backend):
    """metta-teams' 24 agents acting at random among 300 generators (free swings): at every step the agents meeting each
    condition group, read from the global view at their cells, are those Griddly's state says."""
    env = make_env("metta-teams", seed=0, max_steps=120, obs_backend=obs_backend,
                   overrides=dict(attack_cost=0, freeze_duration=4, gift_amount=140, map_count_generator=300,
                                   generator_cooldown=1))
    env.reset_arrays(seed=3)
    rng = np.random.default_rng(0)
    assert env.metrics.actionable == ("attacks", "gifts")
    fails, passes = np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.int64)
    for _ in range(120):
        truth = _truth(env, env.facts.actionable)
        assert np.array_equal(env._ok, truth)
        fails += (~truth).sum(axis=1)
        passes += truth.sum(axis=1)
        *_, ep = env.step_arrays(rng.integers(0, env.engine.num_actions, env.num_agents_total))
    print("agent-steps failing / meeting each group:", fails, passes)
    assert (fails[:3] > 0).all() and (passes > 0).all()  # every group with conditions was put to the test
    assert fails[3] == 0  # gifts: any target
    total = {k: sum(m[k] for m in ep) for k in ep[0] if "actionable" in k and "rate" not in k and "ratio" not in k}
    for counter in ("attacks", "gifts"):
        n = actionable_names(counter)
        assert 0 < total[n["chances_kin"]] + total[n["chances_strangers"]]
    assert total["attack_actionable_strangers"] < sum(m["attack_chances_strangers"] for m in ep)
    assert total["attacks_on_strangers_actionable"] <= sum(m["attacks_on_strangers"] for m in ep)


def test_overlays_inherit_the_conditions_and_a_game_without_them_has_no_actionable_metrics(tmp_path):
    base = GameFacts.of(load_gdy(DEFAULT_GAME)).actionable
    assert base["attacks"] == {"actor": (Condition("frozen", "==", 0, "frozen == 0"),
                                         Condition("energy", ">=", 10, "energy >= attack_cost")),
                               "target": (Condition("shield", "==", 0, "shield == 0"),
                                          Condition("inventory", ">=", 1, "inventory >= 1"))}
    assert [c.text for c in base["gifts"]["actor"]] == ["frozen == 0", "energy >= gift_cost", "energy >= gift_amount"]
    assert base["gifts"]["target"] == ()
    kin = GameFacts.of(load_gdy(os.path.join(GAMES_DIR, "kin_dilemma.yaml"))).actionable
    assert kin["attacks"]["actor"][1].value == 0 and kin["gifts"]["actor"][2].value == 100  # its own named values
    assert GameFacts.of(load_gdy(os.path.join(GAMES_DIR, "dilemma.yaml"))).actionable["gifts"]["actor"][2].value == 50
    # a named value resolves with the run's overrides
    assert GameFacts.of(load_gdy(DEFAULT_GAME).with_overrides({"attack_cost": 7})).actionable[
        "attacks"]["actor"][1].value == 7
    # the resource chain drops the attacks' conditions (a target worth robbing carries ore or batteries)
    chain = make_env("metta-teams", game=os.path.join(GAMES_DIR, "resource_chain.yaml"), level=LEVEL, team_size=2,
                     max_steps=2)
    chain.reset(seed=0)
    assert chain.metrics.actionable == ("gifts",)
    ep = [chain.step({})[4] for _ in range(2)][-1]["agent_0"]["episode"]
    assert "gift_actionable_kin" in ep and "attack_chances_kin" in ep
    assert not any(k.startswith("attack_actionable") or k.startswith("attacks_on_kin_act") for k in ep)
    # without the section: none of the keys, never guessed
    path = tmp_path / "game.yaml"
    path.write_text(f"extends: {DEFAULT_GAME}\nMetta:\n  actionable: null\n")
    env = make_env("metta-teams", game=str(path), level=LEVEL, team_size=2, max_steps=2)
    env.reset(seed=0)
    assert env.facts.actionable is None and env.metrics.actionable == () and env._ok is None
    env.step({})
    ep = env.step({})[4]["agent_0"]["episode"]
    assert not [k for k in ep if "actionable" in k] and "attack_chances_kin" in ep


def test_every_actionable_name_is_a_derived_metric():
    names = {n for c in ("attacks", "gifts") for n in actionable_names(c).values()}
    assert names == {"attack_actionable_kin", "attack_actionable_strangers", "attacks_on_kin_actionable",
                     "attacks_on_strangers_actionable", "attack_actionable_rate_kin",
                     "attack_actionable_rate_strangers", "attack_actionable_kin_stranger_ratio",
                     "gift_actionable_kin", "gift_actionable_strangers", "gifts_to_kin_actionable",
                     "gifts_to_strangers_actionable", "gift_actionable_rate_kin", "gift_actionable_rate_strangers",
                     "gift_actionable_kin_stranger_ratio"}
    assert names <= derived_metric_names()


@pytest.mark.parametrize("text, where", [
    ("actionable: 3", "Metta.actionable: expected a mapping of attacks, gifts to their conditions, got 3"),
    ("actionable:\n    thefts: {}", "Metta.actionable.thefts: unknown key; expected one of attacks, gifts"),
    ("actionable:\n    attacks: {thief: []}",
     "Metta.actionable.attacks.thief: unknown key; expected one of actor, target"),
    ("actionable:\n    attacks: {actor: 'energy >= 1'}",
     "Metta.actionable.attacks.actor: expected a list of conditions 'VARIABLE OP VALUE' (e.g. 'energy >= "
     "attack_cost'), got 'energy >= 1'"),
    ("actionable:\n    attacks: {actor: [frozen == 0, power >= 1]}",
     "Metta.actionable.attacks.actor.1: 'power' is not a variable of 'agent' of the game"),
    ("actionable:\n    attacks: {target: [energy >= attack_price]}",
     "Metta.actionable.attacks.target.0: 'attack_price' is not a named value (Environment.Variables, not PerPlayer) "
     "of the game"),
    ("actionable:\n    attacks: {actor: [energy >= body_attack_cost]}",  # a per-player variable: not a constant
     "Metta.actionable.attacks.actor.0: 'body_attack_cost' is not a named value (Environment.Variables, not "
     "PerPlayer) of the game"),
    ("actionable:\n    attacks: {actor: [energy => 1]}",
     "Metta.actionable.attacks.actor.0: 'energy => 1' is not a condition 'VARIABLE OP VALUE' with OP one of ==, "
     "!=, <, <=, >, >= and VALUE an integer or a named value"),
    ("actionable:\n    gifts: {actor: [\"__import__('os').getcwd() == 0\"]}",  # data, never evaluated
     "Metta.actionable.gifts.actor.0: \"__import__('os').getcwd() == 0\" is not a condition 'VARIABLE OP VALUE' "
     "with OP one of ==, !=, <, <=, >, >= and VALUE an integer or a named value"),
    ("actionable:\n    gifts: {actor: [energy >= 1 and frozen == 0]}",
     "Metta.actionable.gifts.actor.0: 'energy >= 1 and frozen == 0' is not a condition 'VARIABLE OP VALUE' with OP "
     "one of ==, !=, <, <=, >, >= and VALUE an integer or a named value"),
])
def test_a_bad_actionable_section_is_a_clear_error_naming_the_file_and_key(tmp_path, text, where):
    path = tmp_path / "game.yaml"
    path.write_text(f"extends: {DEFAULT_GAME}\nMetta:\n  {text}\n")
    with pytest.raises(ConfigError) as err:
        make_env("metta-solo", game=str(path), level="W W W W W\nW A1 . A2 W\nW W W W W\n")
    assert str(err.value) == f"{path}: {where}"


def test_a_named_value_the_rules_write_is_no_constant(tmp_path):
    """An overlay whose tick writes the named value freeze_duration: a condition naming it is refused."""
    path = tmp_path / "game.yaml"
    path.write_text(f"""extends: {DEFAULT_GAME}
Metta:
  actionable:
    attacks: {{target: [frozen < freeze_duration]}}
Actions:
  - Name: shield
    Behaviours:
      - Src:
          Object: agent
          Commands:
            - incr: freeze_duration
        Dst:
          Object: agent
""")
    with pytest.raises(ConfigError) as err:
        GameFacts.of(load_gdy(str(path)))
    assert str(err.value) == (f"{path}: Metta.actionable.attacks.target.0: the named value 'freeze_duration' is "
                              f"written by the rules: it is no constant")
