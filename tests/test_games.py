"""The shipped exploration games (games/resource_chain.yaml, builders.yaml, postures.yaml), rule by rule.

As tests/test_rules.py does for games/metta.yaml: scripted levels on the real game, every
number from the game's named values or worked out by hand from them. Regeneration is off
(Scene's default) unless a test is about it. Directions for `rotate`: 1 left, 2 up,
3 right, 4 down. Each game is validated and probed in a child process once (the first
test); the scenes skip the probe, which would otherwise run again for every set of
overrides.
"""
import os
from collections import Counter

import pytest

from conftest import ROOT, Scene

RIGHT, DOWN, LEFT, UP = ("rotate", 3), ("rotate", 4), ("rotate", 1), ("rotate", 2)
GAMES = {name: os.path.join(ROOT, "games", f"{name}.yaml") for name in ("resource_chain", "builders", "postures")}
CHAIN, BUILDERS, POSTURES = GAMES["resource_chain"], GAMES["builders"], GAMES["postures"]


@pytest.fixture(autouse=True)
def _probed_once(monkeypatch, request):
    if request.node.originalname != "test_game_validates_and_runs_in_griddly":
        monkeypatch.setattr("metta.env.core.probe_game", lambda doc: None)


@pytest.mark.parametrize("name", sorted(GAMES))
def test_game_validates_and_runs_in_griddly(name):
    from metta import make_env
    from metta.griddly_ext.gdy import load_gdy
    from metta.griddly_ext.validation import validation_problems

    game = load_gdy(GAMES[name])
    assert validation_problems(game) == []
    # probed in a child process first; a small map is enough to see what it places
    env = make_env("metta-teams", game=GAMES[name], seed=0, width=16, height=16, num_agents=4)
    env.reset(seed=0)
    # a procedural map places the game's own default counts (map_count_<object>)
    placed = Counter(o["Name"] for o in env.state()["Objects"])
    counts = {k[len("map_count_"):]: v for k, v in game.named_values().items() if k.startswith("map_count_")}
    assert counts and all(placed[obj] == n for obj, n in counts.items())
    assert placed["agent"] == 4
    env.close()


# ---------------------------------------------------------------- resource chain

STATION = """W W W W W
W . c . W
W r A1 n W
W . a . W
W W W W W
"""


def test_chain_mine_refine_heart_by_the_numbers():
    s = Scene(STATION, game=CHAIN, mine_cooldown=1, refinery_cooldown=1)
    v = s.values
    assert (v["ore_reward"], v["battery_reward"], v["altar_reward"], v["reward_unit"]) == (1, 1, 10, 10)
    assert (v["refinery_ore"], v["altar_batteries"], v["use_cost"]) == (2, 2, 2)
    s.act(RIGHT)                                   # 150 - 1
    for k in range(4):                             # four ore, 2 energy each
        s.act("use")
        assert s.agent(0)["ore"] == k + 1 and s.rewards[0] == pytest.approx(0.1)
    assert s.objects("mine")[0]["ore"] == v["mine_initial_ore"] - 4
    s.act(LEFT)
    s.act("use")                                   # 2 ore -> 1 battery
    assert (s.agent(0)["ore"], s.agent(0)["battery"]) == (2, 1) and s.rewards[0] == pytest.approx(0.1)
    s.act("use")
    assert (s.agent(0)["ore"], s.agent(0)["battery"]) == (0, 2)
    s.act(DOWN)
    s.act("use")                                   # 2 batteries -> a heart
    assert s.agent(0)["battery"] == 0 and s.rewards[0] == pytest.approx(1.0)
    assert s.agent(0)["energy"] == 150 - 1 - 4 * 2 - 1 - 2 * 2 - 1 - 2 == 133
    ep = s.env.metrics.episode(s.env.engine)[0]
    assert (ep["ore_mined"], ep["batteries_made"], ep["hearts"]) == (4, 2, 1)
    assert ep["raw_reward"] == pytest.approx(4 * 0.1 + 2 * 0.1 + 1.0)


def test_mine_cools_down_runs_dry_and_ore_is_capped():
    s = Scene(STATION, game=CHAIN, mine_cooldown=3, mine_initial_ore=10)
    s.act(RIGHT)
    s.act("use")
    for _ in range(2):                             # cooling down: nothing, and free
        e = s.agent(0)["energy"]
        s.act("use")
        assert s.agent(0)["ore"] == 1 and s.agent(0)["energy"] == e and s.rewards[0] == 0
    s.act("use")                                   # mine_cooldown=3 steps after the first
    assert s.agent(0)["ore"] == 2 and s.objects("mine")[0]["ore"] == 8
    dry = Scene(STATION, game=CHAIN, mine_cooldown=1, mine_initial_ore=2)
    dry.act(RIGHT)
    for _ in range(4):
        dry.act("use")
    assert dry.agent(0)["ore"] == 2 and dry.objects("mine")[0]["ore"] == 0
    full = Scene(STATION, game=CHAIN, mine_cooldown=1, agent_max_ore=3)
    full.act(RIGHT)
    for _ in range(5):
        full.act("use")
    assert full.agent(0)["ore"] == 3 and full.objects("mine")[0]["ore"] == full.values["mine_initial_ore"] - 3


def test_refinery_needs_its_ore_and_room_for_a_battery():
    s = Scene(STATION, game=CHAIN, mine_cooldown=1, refinery_cooldown=1, refinery_ore=3, agent_max_battery=1)
    s.act(RIGHT)
    s.act("use")
    s.act("use")
    s.act(LEFT)
    e = s.agent(0)["energy"]
    s.act("use")                                   # 2 ore < refinery_ore 3: nothing, and free
    assert (s.agent(0)["ore"], s.agent(0)["battery"], s.agent(0)["energy"]) == (2, 0, e)
    s.act(RIGHT)
    for _ in range(4):
        s.act("use")
    assert s.agent(0)["ore"] == 5                  # agent_max_ore
    s.act(LEFT)
    s.act("use")
    assert (s.agent(0)["ore"], s.agent(0)["battery"]) == (2, 1)
    e = s.agent(0)["energy"]
    s.act("use")                                   # no room for a second battery (agent_max_battery=1)
    assert (s.agent(0)["ore"], s.agent(0)["battery"], s.agent(0)["energy"]) == (2, 1, e)


def _batteries(s: Scene, n: int) -> None:
    """Agent 1 of STATION mines and refines ``n`` batteries (cooldowns overridden to 1), then faces left."""
    for _ in range(n):
        s.act(RIGHT)
        s.act("use")
        s.act("use")
        s.act(LEFT)
        s.act("use")


def test_a_battery_is_spent_on_a_heart_or_burnt_for_energy():
    s = Scene(STATION, game=CHAIN, mine_cooldown=1, refinery_cooldown=1, agent_initial_energy=100,
              charger_energy=50, agent_max_energy=250)
    _batteries(s, 1)
    assert s.agent(0)["battery"] == 1
    e = s.agent(0)["energy"]
    assert e == 100 - (1 + 2 + 2 + 1 + 2)          # two rotations and three uses
    s.act(DOWN)
    s.act("use")                                   # 1 battery < altar_batteries 2: no heart, free
    assert s.agent(0)["battery"] == 1 and s.rewards[0] == 0 and s.agent(0)["energy"] == e - 1
    s.act(UP)
    s.act("use")                                   # the charger burns it: -use_cost + charger_energy
    assert s.agent(0)["battery"] == 0 and s.agent(0)["energy"] == e - 1 - 1 - 2 + 50
    assert s.rewards[0] == 0                       # charge_reward 0: energy is its own reward
    ep = s.env.metrics.episode(s.env.engine)[0]
    assert (ep["energy_converted"], ep["hearts"], ep["batteries_made"]) == (50, 0, 1)
    capped = Scene(STATION, game=CHAIN, mine_cooldown=1, refinery_cooldown=1, agent_initial_energy=200,
                   agent_max_energy=210, charger_energy=50)
    _batteries(capped, 1)
    capped.act(UP)
    capped.act("use")
    assert capped.agent(0)["energy"] == 210        # capped at max_energy


PAIR = """W W W W W
W r A1 n W
W . A2 . W
W W W W W
"""


def test_attack_takes_ore_and_batteries_and_gift_battery_gives_one():
    s = Scene(PAIR, game=CHAIN, mine_cooldown=1, refinery_cooldown=1, freeze_duration=4)
    _batteries(s, 1)                               # agent 1: 0 ore, 1 battery
    s.act(RIGHT, UP)
    s.act("use", None)                             # agent 1: 1 ore, 1 battery
    e2 = s.agent(1)["energy"]
    s.act(None, ("attack", 2))                     # agent 2 hits agent 1 (front, 1 ahead), unshielded
    a1, a2 = s.agent(0), s.agent(1)
    assert (a1["ore"], a1["battery"], a1["frozen"]) == (0, 0, 4)
    assert (a2["ore"], a2["battery"]) == (1, 1) and a2["energy"] == e2 - s.values["attack_cost"]
    s.act(None, "gift_battery")
    assert s.agent(0)["battery"] == 1 and s.agent(1)["battery"] == 0
    assert s.agent(1)["energy"] == e2 - s.values["attack_cost"] - s.values["gift_cost"]
    e2 = s.agent(1)["energy"]
    s.act(None, "gift_battery")                    # none left to give: nothing, and free
    assert s.agent(0)["battery"] == 1 and s.agent(1)["energy"] == e2
    ep = s.env.metrics.episode(s.env.engine)
    assert ep[1]["attacks_on_strangers"] == 1 and ep[1]["gifts_to_strangers"] == 1


def test_stolen_goods_are_capped_by_the_attackers_capacity():
    s = Scene(PAIR, game=CHAIN, mine_cooldown=1, agent_max_ore=3)
    s.act(RIGHT, UP)
    for _ in range(3):
        s.act("use", None)
    assert s.agent(0)["ore"] == 3
    s.act(None, ("attack", 2))                     # the attacker holds nothing yet: takes all 3
    assert s.agent(1)["ore"] == 3 and s.agent(0)["ore"] == 0
    mixed = Scene(PAIR, game=CHAIN, mine_cooldown=1, agent_max_ore=3, freeze_duration=1)
    mixed.act(RIGHT, UP)
    mixed.act("use", None)
    mixed.act(None, ("attack", 2))                 # 1 ore taken
    mixed.act(None, None)                          # agent 1 thaws
    for _ in range(3):
        mixed.act("use", None)
    mixed.act(None, ("attack", 2))                 # 1 + 3 = 4 > agent_max_ore: 3 kept, 1 lost
    assert mixed.agent(1)["ore"] == 3 and mixed.agent(0)["ore"] == 0


# ---------------------------------------------------------------- builders

YARD = """W W W W W W
W A1 . . . W
W . . . . W
W W W W W W
"""


def test_build_puts_a_wall_in_front_for_its_cost():
    s = Scene(YARD, game=BUILDERS)
    v = s.values
    assert (v["build_cost"], v["destroy_cost"]) == (5, 10)
    walls = len(s.objects("wall"))
    s.act(RIGHT)
    s.act("build")
    assert s.agent(0)["energy"] == 150 - 1 - 5
    assert (2, 1) in [w["location"] for w in s.objects("wall")] and len(s.objects("wall")) == walls + 1
    s.act("build")                                 # the cell in front is a wall now: nothing, and free
    s.act(("move", 1))                             # blocked by the new wall, free
    assert s.agent(0)["energy"] == 144 and s.agent(0)["location"] == (1, 1)
    assert len(s.objects("wall")) == walls + 1
    poor = Scene(YARD, game=BUILDERS, agent_initial_energy=5, build_cost=6)
    poor.act("build")                              # cannot pay: nothing (facing up: the border, not empty either)
    poor.act(DOWN)
    poor.act("build")                              # 4 energy < 6: nothing
    assert poor.agent(0)["energy"] == 4 and len(poor.objects("wall")) == walls
    ep = s.env.metrics.episode(s.env.engine)[0]
    assert (ep["walls_built"], ep["walls_destroyed"]) == (1, 0)


def test_destroy_removes_the_wall_in_front_for_its_cost():
    s = Scene(YARD, game=BUILDERS)
    walls = len(s.objects("wall"))
    s.act(RIGHT)
    s.act("destroy")                               # an empty cell in front: nothing, and free
    assert s.agent(0)["energy"] == 149
    s.act("build")
    s.act("destroy")                               # 149 - 5 - 10
    assert s.agent(0)["energy"] == 134 and len(s.objects("wall")) == walls
    s.act(("move", 1))                             # the way is open again
    assert s.agent(0)["location"] == (2, 1) and s.agent(0)["energy"] == 132
    s.act(UP)
    s.act("destroy")                               # a border wall goes too; Griddly's grid edge stays
    assert len(s.objects("wall")) == walls - 1 and s.agent(0)["energy"] == 132 - 1 - 10
    s.act(("move", 1))
    s.act(("move", 1))                             # into the hole, then the edge: no further
    assert s.agent(0)["location"] == (2, 0) and s.agent(0)["energy"] == 121 - 2
    ep = s.env.metrics.episode(s.env.engine)[0]
    assert (ep["walls_built"], ep["walls_destroyed"]) == (1, 2)


def test_a_frozen_builder_can_neither_build_nor_destroy():
    s = Scene("W W W W W\nW A1 A2 . W\nW . . . W\nW W W W W\n", game=BUILDERS, freeze_duration=5)
    s.act(DOWN, LEFT)
    s.act(None, ("attack", 2))                     # agent 1 frozen
    e = s.agent(0)["energy"]
    s.act("build", None)
    s.act("destroy", None)
    assert s.agent(0)["energy"] == e and s.agent(0)["frozen"] == 3
    assert [w for w in s.objects("wall") if w["location"] == (1, 2)] == []


# ---------------------------------------------------------------- postures

LANE = """W W W W W W
W A1 A2 . . W
W . . . . W
W . . . . W
W W W W W W
"""
STAND, REST, SPRINT = ("posture", 1), ("posture", 2), ("posture", 3)


def test_posture_switches_costs_and_regeneration():
    s = Scene(LANE, game=POSTURES, agent_energy_regen=1)
    v = s.values
    assert (v["posture_cost"], v["rest_move_cost"], v["rest_regen"], v["sprint_move_cost"], v["sprint_regen"]) == \
        (3, 6, 4, 1, 0)
    s.act(REST)                                    # 150 - 3, then rest's regeneration +4
    assert s.agent(0)["posture"] == 1 and s.agent(0)["energy"] == 151
    s.act(REST)                                    # already resting: nothing, and free; +4
    assert s.agent(0)["energy"] == 155
    s.act(DOWN)
    s.act(("move", 1))                             # 155 - 1 + 4, then - 6 + 4
    assert s.agent(0)["location"] == (1, 2) and s.agent(0)["energy"] == 156
    s.act(SPRINT)                                  # - 3, no regeneration
    s.act(("move", 1))                             # - 1
    assert s.agent(0)["location"] == (1, 3) and s.agent(0)["energy"] == 152
    s.act(UP)
    s.act(("attack", 2))                           # sprint_attack_cost into the empty cell ahead
    assert s.agent(0)["energy"] == 152 - 1 - v["sprint_attack_cost"]
    s.act(STAND)                                   # the game's own numbers again: -3 + 1
    s.act(("move", 1))                             # - move_cost + 1
    assert s.agent(0)["posture"] == 0 and s.agent(0)["location"] == (1, 2)
    assert s.agent(0)["energy"] == 152 - 1 - 5 - 3 + 1 - 2 + 1
    assert s.agent(1)["energy"] == 150 + 10 * 1 and s.agent(1)["posture"] == 0   # the other stood by
    ep = s.env.metrics.episode(s.env.engine)
    assert ep[0]["posture_changes"] == 3 and ep[1]["posture_changes"] == 0


def test_a_resting_agent_attacks_dearly_and_cannot_switch_without_the_energy():
    s = Scene(LANE, game=POSTURES, agent_initial_energy=40, rest_regen=0)
    s.act(REST)
    s.act(RIGHT)
    s.act(("attack", 2))                           # rest_attack_cost 30 on agent 2
    assert s.agent(0)["energy"] == 40 - 3 - 1 - 30 and s.agent(1)["frozen"] == s.values["freeze_duration"]
    s.act(("attack", 2))                           # 6 < 30: nothing
    s.act(SPRINT)                                  # 6 >= 3: sprints
    s.act(STAND)                                   # 3 >= 3: stands, 0 left
    s.act(REST)                                    # 0 < 3: nothing
    assert s.agent(0)["energy"] == 0 and s.agent(0)["posture"] == 0


def test_others_see_the_posture():
    s = Scene(LANE, game=POSTURES)
    ch = s.env.channel_names.index("posture")
    obs = s.act(SPRINT, None)
    # agent 2 faces up (Griddly's NONE) at the centre (5, 5) of its 11x11 window; agent 1 stands one cell to
    # its left: window cell (4, 5) in (x, y), the layout of the observation (channels, x, y)
    seen = obs["agent_1"][ch]
    assert seen[4, 5] == 2 and seen.sum() == 2
    assert obs["agent_0"][ch][5, 5] == 2           # and it sees its own at its centre
    obs = s.act(REST, None)
    assert obs["agent_1"][ch][4, 5] == 1
